#include "Ensemble.hpp"

#include "StageOrder.hpp"

#include <tbb/enumerable_thread_specific.h>
#include <tbb/info.h>
#include <tbb/parallel_pipeline.h>
#include <tbb/task_arena.h>
#include <unistd.h>

#include <cassert>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <deque>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>

namespace alignsim {

namespace {

using Clock = std::chrono::steady_clock;

/// Records M of a batch into the block's buffer and copies W of its stored runs into the block.
class BlockObserver final : public BatchObserver {
 public:
  BlockObserver(const Model& m, DyadBuffer& buffer, RunBlock& block, int first_lane_in_block, int stored_lanes)
      : m_(m), buffer_(buffer), block_(block), offset_(first_lane_in_block), stored_(stored_lanes) {}

  void on_month(int t, const BatchState& s) override {
    buffer_.record(t, s, offset_);
    if (stored_ <= 0) return;
    const int n = m_.agents();
    const std::size_t per_run = static_cast<std::size_t>(m_.months()) * n * n;
    for (int l = 0; l < stored_; ++l) {
      float* out = &block_.alignment[static_cast<std::size_t>(offset_ + l) * per_run + static_cast<std::size_t>(t) * n * n];
      for (int c = 0; c < n * n; ++c) out[c] = (c / n == c % n) ? std::numeric_limits<float>::quiet_NaN() : s.W[c][l];
    }
  }

 private:
  const Model& m_;
  DyadBuffer& buffer_;
  RunBlock& block_;
  int offset_, stored_;
};

class Progress {
 public:
  Progress(bool enabled, std::uint64_t first, std::uint64_t total)
      : enabled_(enabled && isatty(STDERR_FILENO)), first_(first), total_(total) {}
  ~Progress() {
    if (shown_) std::fputc('\n', stderr);
  }
  void update(std::uint64_t done) {
    if (!enabled_) return;
    const auto now = Clock::now();
    if (done < total_ && now - last_ < std::chrono::milliseconds(200)) return;
    last_ = now;
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    const double rate = elapsed > 0 ? static_cast<double>(done - first_) / elapsed : 0.0;
    const double left = rate > 0 ? static_cast<double>(total_ - done) / rate : 0.0;
    const int width = 30;
    const int filled = static_cast<int>(width * static_cast<double>(done) / static_cast<double>(total_));
    std::fprintf(stderr, "\r[%.*s%*s] %llu/%llu runs  %.0f runs/s  %.0f s left   ", filled,
                 "##############################", width - filled, "", static_cast<unsigned long long>(done),
                 static_cast<unsigned long long>(total_), rate, left);
    std::fflush(stderr);
    shown_ = true;
  }

 private:
  bool enabled_;
  std::uint64_t first_, total_;
  bool shown_ = false;
  Clock::time_point start_ = Clock::now();
  Clock::time_point last_{};
};

}  // namespace

int effective_block_runs(int requested) {
  return std::clamp((requested + kLanes - 1) / kLanes * kLanes, kLanes, 16384);
}

namespace {

/// The first block at or after `b` that belongs to `part` of `parts`.
std::uint64_t own_block(std::uint64_t b, int part, int parts) {
  const auto n = static_cast<std::uint64_t>(parts);
  return b + (static_cast<std::uint64_t>(part) + n - b % n) % n;
}

/// Runs of [first, end) in the blocks (of `block` runs, laid out from run 0) that belong to `part`.
std::uint64_t runs_of_part(std::uint64_t first, std::uint64_t end, std::uint64_t block, int part, int parts) {
  if (first >= end) return 0;
  const std::uint64_t last = (end - 1) / block;
  const std::uint64_t own = own_block(first / block, part, parts);
  if (own > last) return 0;
  std::uint64_t runs = ((last - own) / static_cast<std::uint64_t>(parts) + 1) * block;
  if ((last - own) % static_cast<std::uint64_t>(parts) == 0) runs -= (last + 1) * block - end;  // a short last block
  return runs;
}

}  // namespace

EnsembleResult run_ensemble(const Model& model, const EnsembleOptions& options, BlockSink& sink,
                            const std::atomic<bool>* stop) {
  if (options.runs == 0 || options.runs > (std::uint64_t{1} << 32) - kLanes) {
    throw std::invalid_argument("the number of runs must be between 1 and 2^32 - 16");
  }
  const int threads = options.threads > 0 ? options.threads : tbb::info::default_concurrency();
  const int block_runs = effective_block_runs(options.block_runs);
  const auto block_size = static_cast<std::uint64_t>(block_runs);
  const std::uint64_t end = options.end_run ? options.end_run : options.runs;
  if (end > options.runs) throw std::invalid_argument("the range of runs ends after the last run");
  if (options.first_run > end) throw std::invalid_argument("the first run is past the end of the range of runs");
  if (options.first_run < end && options.first_run % block_size != 0) {
    throw std::invalid_argument("the range of runs must start at a block boundary");
  }
  if (options.parts < 1 || options.part < 0 || options.part >= options.parts) {
    throw std::invalid_argument("the part must be in [0, parts)");
  }
  const std::uint64_t stored_total = std::min(options.store_runs, options.runs);
  const int n = model.agents();
  const int events = model.events();
  const std::size_t per_run = static_cast<std::size_t>(model.months()) * n * n;

  tbb::enumerable_thread_specific<SummaryAccumulator> summaries(
      [&] { return SummaryAccumulator(n, model.months(), options.bins); });
  tbb::enumerable_thread_specific<std::unique_ptr<BatchState>> states;
  tbb::enumerable_thread_specific<std::unique_ptr<DyadBuffer>> buffers;
  // Counted on the worker threads, not in the serial writing stage; integer sums merge in any order.
  tbb::enumerable_thread_specific<std::vector<std::uint64_t>> event_counts(static_cast<std::size_t>(events), 0);

  EnsembleResult result{0, end, false, SummaryAccumulator(n, model.months(), options.bins),
                        std::vector<std::uint64_t>(static_cast<std::size_t>(events), 0), 0.0};
  const std::uint64_t part_runs = runs_of_part(options.first_run, end, block_size, options.part, options.parts);
  Progress progress(options.progress, options.first_run, options.first_run + part_runs);
  const auto started = Clock::now();
  std::uint64_t next_block = own_block(options.first_run / block_size, options.part, options.parts);

  // The blocks in flight, oldest first, owned here: if a stage throws (a full disk), oneTBB drops
  // the pointers it carries, and these are freed on the way out. Produced and written in run order.
  std::deque<std::unique_ptr<RunBlock>> in_flight;
  std::mutex in_flight_mutex;

  const auto produce = [&](tbb::flow_control& fc) -> RunBlock* {
    detail::StageOrder order;  // for ThreadSanitizer (StageOrder.hpp)
    order.after(&next_block);
    const std::uint64_t first = next_block * block_size;
    if (first >= end || (stop && stop->load())) {
      result.next_run = std::min(first, end);
      result.interrupted = first < end;
      fc.stop();
      return nullptr;
    }
    RunBlock* block = nullptr;
    {
      const std::lock_guard lock(in_flight_mutex);
      block = in_flight.emplace_back(std::make_unique<RunBlock>()).get();
    }
    block->first = first;
    block->count = static_cast<int>(std::min(block_size, end - first));
    next_block = own_block(next_block + 1, options.part, options.parts);
    detail::release(block);
    return block;
  };

  const auto simulate = [&](RunBlock* block) -> RunBlock* {
    detail::StageOrder order;
    order.after(block);
    auto& state = states.local();
    if (!state) state = std::make_unique<BatchState>(model);
    auto& summary = summaries.local();
    auto& buffer = buffers.local();
    if (!buffer) buffer = std::make_unique<DyadBuffer>(n, model.months(), block_runs, model.eras());
    block->event_month.assign(static_cast<std::size_t>(block->count) * events, -1);
    block->stored = static_cast<int>(
        std::min<std::uint64_t>(block->count, stored_total > block->first ? stored_total - block->first : 0));
    block->alignment.assign(static_cast<std::size_t>(block->stored) * per_run, 0.0f);
    block->era_alignment.assign(static_cast<std::size_t>(block->count) * model.eras().size() * n * n, 0.0f);
    for (int offset = 0; offset < block->count; offset += kLanes) {
      const int valid = std::min(kLanes, block->count - offset);
      const int stored = std::clamp(block->stored - offset, 0, valid);
      BlockObserver observer(model, *buffer, *block, offset, stored);
      simulate_batch(model, options.seed, block->first + static_cast<std::uint64_t>(offset), valid, *state, observer,
                     options.plan);
      auto& counts = event_counts.local();
      for (int e = 0; e < events; ++e) {
        const auto& fired = state->fired[model.position_of_event()[e]];
        for (int l = 0; l < valid; ++l) {
          block->event_month[static_cast<std::size_t>(offset + l) * events + e] = fired[l];
          counts[e] += fired[l] >= 0;
        }
      }
    }
    summary.add(*buffer, block->count);
    buffer->era_means(block->count, block->era_alignment.data());
    sink.prepare(*block);
    return block;
  };

  const auto write = [&](RunBlock* raw) {
    detail::StageOrder order;
    order.after(&sink);
    detail::acquire(raw);
    std::unique_ptr<RunBlock> block;
    {
      const std::lock_guard lock(in_flight_mutex);
      assert(in_flight.front().get() == raw);
      block = std::move(in_flight.front());
      in_flight.pop_front();
    }
    sink.write_block(*block);
    result.runs_done += static_cast<std::uint64_t>(block->count);
    progress.update(options.first_run + result.runs_done);
  };

  if (part_runs == 0) return result;
  tbb::task_arena arena(threads);
  arena.execute([&] {
    const auto stages = tbb::make_filter<void, RunBlock*>(tbb::filter_mode::serial_in_order, produce) &
                        tbb::make_filter<RunBlock*, RunBlock*>(tbb::filter_mode::parallel, simulate) &
                        tbb::make_filter<RunBlock*, void>(tbb::filter_mode::serial_in_order, write);
    detail::StageOrder::start();
    try {
      tbb::parallel_pipeline(static_cast<std::size_t>(2 * threads), stages);
    } catch (...) {
      // oneTBB rethrows a stage's error once every call has finished: their work comes before the
      // blocks in flight are freed here.
      detail::StageOrder::end();
      throw;
    }
    detail::StageOrder::end();
  });

  for (const auto& s : summaries) result.summary.merge(s);
  for (const auto& counts : event_counts) {
    for (int e = 0; e < events; ++e) result.event_count[e] += counts[e];
  }
  result.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  return result;
}

}  // namespace alignsim
