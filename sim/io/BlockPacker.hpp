#pragma once
/// A block of runs as the output file stores it: the chunks of its per-run datasets, compressed as
/// HDF5's shuffle and deflate filters would compress them, packed into one byte buffer. The writer
/// packs its blocks on the worker threads; a process that simulates blocks for another to write
/// (an MPI rank, docs/cluster.md) packs them the same way and sends the bytes. Whatever a block
/// records per run travels in its chunks.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/Ensemble.hpp"
#include "model/Model.hpp"

namespace alignsim {

/// The per-run datasets of the output file that blocks are written to, chunk by chunk.
enum class ChunkedDataset : std::uint64_t { EventMonth = 0, EraAlignment = 1, Alignment = 2 };

/// One chunk of a packed block; `data` points into the packed bytes.
struct PackedChunk {
  ChunkedDataset dataset = ChunkedDataset::EventMonth;
  std::vector<std::uint64_t> offset;  ///< where the chunk starts in the dataset
  const unsigned char* data = nullptr;
  std::size_t size = 0;
};

/// A packed block read back: runs first .. first + count - 1, of which the first `stored` keep W.
struct PackedBlock {
  std::uint64_t first = 0;
  int count = 0;
  int stored = 0;
  std::vector<PackedChunk> chunks;
};

class BlockPacker {
 public:
  /// For the output of `runs` runs of the model in blocks of `block_runs` (as the engine rounds
  /// it): chunks of the per-run datasets hold one block; `deflate` is the level for `alignment`.
  BlockPacker(const Model& model, std::uint64_t runs, int block_runs, int deflate);

  /// Runs per chunk of `event_month` and `era_alignment`: one block.
  std::uint64_t chunk_runs() const { return chunk_runs_; }

  /// The block's chunks, compressed (any thread). W of its stored runs is included when it is
  /// compressed (deflate > 0), or else when `raw_alignment` is set, uncompressed.
  std::vector<unsigned char> pack(const RunBlock& block, bool raw_alignment) const;

  /// Reads packed bytes; throws std::runtime_error if they are not a packed block.
  static PackedBlock unpack(const unsigned char* data, std::size_t size);

 private:
  int agents_, months_, events_, eras_, deflate_;
  std::uint64_t chunk_runs_;
};

}  // namespace alignsim
