#pragma once
/// The ensemble engine: simulates runs 0..R-1 of a model in blocks on TBB worker threads and hands
/// the blocks, in run order, to one serial sink (the HDF5 writer), with a bounded number of blocks
/// in flight so that memory does not grow with R. Summaries are merged exactly at the end.

#include <atomic>
#include <cstdint>
#include <functional>
#include <vector>

#include "Summary.hpp"
#include "model/Model.hpp"

namespace alignsim {

struct EnsembleOptions {
  std::uint64_t runs = 1000;       ///< runs to simulate, 1 .. 2^32 - 16
  std::uint64_t first_run = 0;     ///< runs first_run .. runs - 1 are simulated (resuming: a multiple of the block size)
  std::uint64_t seed = 0;          ///< the scenario's random seed
  int threads = 0;                 ///< worker threads; 0: all cores
  std::uint64_t store_runs = 100;  ///< W of runs 0 .. store_runs - 1 is kept (clamped to runs)
  int block_runs = 256;            ///< runs per block, rounded up to a multiple of kLanes, at most 16384
  int bins = 1000;                 ///< histogram bins over [-1, 1] for quantiles
  bool progress = false;           ///< a progress line on stderr
};

/// The runs per block the engine uses for a requested size: a multiple of kLanes in [16, 16384]
/// (at most 2^14 runs keep the summaries' per-block 64-bit sums of squares exact).
int effective_block_runs(int requested);

/// A piece of a block already encoded by the sink in the parallel stage (e.g. a compressed chunk).
struct EncodedChunk {
  int dataset = 0;                   ///< the sink's own numbering
  std::vector<std::uint64_t> offset;  ///< where the chunk starts in the dataset
  std::vector<unsigned char> bytes;
};

/// Runs first .. first + count - 1, as handed to the sink.
struct RunBlock {
  std::uint64_t first = 0;
  int count = 0;
  std::vector<std::int16_t> event_month;  ///< [run][event], scenario event order, -1: did not happen
  int stored = 0;                         ///< runs of this block whose W is kept (the first ones)
  std::vector<float> alignment;           ///< [stored][time][agent][other], NaN on the diagonal
  std::vector<float> era_alignment;       ///< [run][era][agent][other]: each run's mean M over the era
  std::vector<EncodedChunk> encoded;      ///< filled by BlockSink::prepare
};

/// Receives blocks: prepare() on worker threads, for any block at any time (it must only touch the
/// block), then write_block() in run order, on one thread at a time.
class BlockSink {
 public:
  virtual ~BlockSink() = default;
  /// Work that can run in parallel before the block is written, such as compression.
  virtual void prepare(RunBlock& /*block*/) {}
  virtual void write_block(const RunBlock& block) = 0;
};

/// A sink that keeps nothing: for callers that need only the summaries and event counts.
class DiscardSink final : public BlockSink {
 public:
  void write_block(const RunBlock& /*block*/) override {}
};

struct EnsembleResult {
  std::uint64_t runs_done = 0;  ///< runs first_run .. runs_done - 1 were simulated and written (the summaries hold those)
  bool interrupted = false;
  SummaryAccumulator summary;
  std::vector<std::uint64_t> event_count;  ///< runs in which each event happened (scenario order)
  double seconds = 0;
};

/// Runs the ensemble. When `stop` becomes true, no new block is started; blocks already started
/// are finished and written, so the result covers a prefix of whole runs.
EnsembleResult run_ensemble(const Model& model, const EnsembleOptions& options, BlockSink& sink,
                            const std::atomic<bool>* stop = nullptr);

}  // namespace alignsim
