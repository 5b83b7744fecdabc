#pragma once
/// The ensemble engine: simulates runs 0..R-1 of a model (or a range of them, or one part of its
/// blocks) in blocks on TBB worker threads and hands the blocks, in run order, to one serial sink
/// (the HDF5 writer), with a bounded number of blocks in flight so that memory does not grow with R.
/// Summaries are merged exactly at the end.

#include <atomic>
#include <cstdint>
#include <functional>
#include <vector>

#include "Summary.hpp"
#include "model/Batch.hpp"
#include "model/Model.hpp"

namespace alignsim {

struct EnsembleOptions {
  std::uint64_t runs = 1000;       ///< the ensemble's runs, 0 .. runs - 1; 1 .. 2^32 - 16
  /// Simulate only runs first_run .. end_run - 1 (end_run 0: runs). Blocks are laid out from run 0,
  /// so first_run must be a multiple of the effective block size (resuming: the runs a partial file holds).
  std::uint64_t first_run = 0;
  std::uint64_t end_run = 0;
  /// Simulate only the blocks whose index (first run / block size) is `part` modulo `parts`: one
  /// process's share of an ensemble split among several (docs/cluster.md).
  int part = 0;
  int parts = 1;
  std::uint64_t seed = 0;          ///< the scenario's random seed
  int threads = 0;                 ///< worker threads; 0: all cores
  std::uint64_t store_runs = 100;  ///< W of runs 0 .. store_runs - 1 is kept (clamped to runs)
  int block_runs = 256;            ///< runs per block, rounded up to a multiple of kLanes, at most 16384
  int bins = 1000;                 ///< histogram bins over [-1, 1] for quantiles
  bool progress = false;           ///< a progress line on stderr
  const ParameterPlan* plan = nullptr;  ///< each run's parameter vector (e.g. a posterior draw); none: the model's
};

/// The runs per block the engine uses for a requested size: a multiple of kLanes in [16, 16384]
/// (at most 2^14 runs keep the summaries' per-block 64-bit sums of squares exact).
int effective_block_runs(int requested);

/// Runs first .. first + count - 1, as handed to the sink.
struct RunBlock {
  std::uint64_t first = 0;
  int count = 0;
  std::vector<std::int16_t> event_month;  ///< [run][event], scenario event order, -1: did not happen
  int stored = 0;                         ///< runs of this block whose W is kept (the first ones)
  std::vector<float> alignment;           ///< [stored][time][agent][other], NaN on the diagonal
  std::vector<float> era_alignment;       ///< [run][era][agent][other]: each run's mean M over the era
  std::vector<unsigned char> packed;      ///< what BlockSink::prepare made of the block (e.g. compressed chunks)
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
  /// Runs simulated and written by this call (the summaries hold those): one process from
  /// first_run, runs first_run .. next_run - 1.
  std::uint64_t runs_done = 0;
  /// Every block of the range (and part) that starts below next_run was simulated and written, and
  /// none from it on: end_run when the range was finished.
  std::uint64_t next_run = 0;
  bool interrupted = false;  ///< stopped before the end of the range
  SummaryAccumulator summary;
  std::vector<std::uint64_t> event_count;  ///< runs in which each event happened (scenario order)
  double seconds = 0;
};

/// Runs the ensemble. When `stop` becomes true, no new block is started; blocks already started
/// are finished and written, so the result covers a prefix of whole runs (of the range's blocks of
/// this part). An empty range gives an empty result. Throws std::invalid_argument for bad options.
EnsembleResult run_ensemble(const Model& model, const EnsembleOptions& options, BlockSink& sink,
                            const std::atomic<bool>* stop = nullptr);

}  // namespace alignsim
