#include "MpiEnsemble.hpp"

#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "Courier.hpp"

namespace alignsim::detail {

struct MpiEnsemble::Comm {
  MPI_Comm comm = MPI_COMM_NULL;  ///< a duplicate of MPI_COMM_WORLD, its errors returned, not fatal
};

namespace {

using Clock = std::chrono::steady_clock;

/// Rank 0's own blocks: prepared on its worker threads, written by its engine in their turn.
class RootSink final : public BlockSink {
 public:
  RootSink(Courier& courier, BlockSink& sink) : courier_(courier), sink_(sink) {}
  void prepare(RunBlock& block) override { sink_.prepare(block); }
  void write_block(const RunBlock& block) override { courier_.write_local(block); }

 private:
  Courier& courier_;
  BlockSink& sink_;
};

/// Another rank's blocks: packed on its worker threads (the raw values freed at once) and kept
/// until the engine hands them over in run order, to be sent.
class ForwardSink final : public BlockSink {
 public:
  ForwardSink(Courier& courier, const MpiEnsemble::Destination& to) : courier_(courier), to_(to) {}
  void prepare(RunBlock& block) override {
    auto bytes = to_.pack(block);
    std::vector<std::int16_t>().swap(block.event_month);
    std::vector<float>().swap(block.alignment);
    std::vector<float>().swap(block.era_alignment);
    std::lock_guard<std::mutex> lock(mutex_);
    packed_[block.first] = std::move(bytes);
  }
  void write_block(const RunBlock& block) override {
    std::vector<unsigned char> bytes;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto at = packed_.find(block.first);
      bytes = std::move(at->second);
      packed_.erase(at);
    }
    if (bytes.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
      throw MpiError("a block of " + std::to_string(block.count) + " runs packs to " + std::to_string(bytes.size()) +
                     " bytes, more than one MPI message holds; use a smaller --block-runs");
    }
    courier_.send(std::move(bytes));
  }

 private:
  Courier& courier_;
  const MpiEnsemble::Destination& to_;
  std::mutex mutex_;
  std::map<std::uint64_t, std::vector<unsigned char>> packed_;  ///< by first run
};

}  // namespace

bool MpiEnsemble::launched() {
  // Open MPI's mpirun, and Slurm's srun with PMIx or PMI-2.
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK"}) {
    if (std::getenv(name)) return true;
  }
  return false;
}

MpiEnsemble::MpiEnsemble(int& argc, char**& argv) : comm_(std::make_unique<Comm>()) {
  // Open MPI copies large messages within a node straight from the sender's memory (CMA): a rank
  // that dies while rank 0 reads a block from it then kills rank 0 too, before it can remove its
  // unfinished file, and containers often forbid CMA altogether. Blocks are small next to the time
  // they take to simulate, so they go through shared memory instead, unless the user says otherwise.
  setenv("OMPI_MCA_btl_vader_single_copy_mechanism", "none", 0);
  int provided = 0;
  check(MPI_Init_thread(&argc, &argv, MPI_THREAD_SERIALIZED, &provided), "MPI_Init_thread");
  if (provided < MPI_THREAD_SERIALIZED) {
    MPI_Finalize();
    throw MpiError("this MPI library does not allow calls from more than one thread (MPI_THREAD_SERIALIZED)");
  }
  check(MPI_Comm_dup(MPI_COMM_WORLD, &comm_->comm), "MPI_Comm_dup");
  check(MPI_Comm_set_errhandler(comm_->comm, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
  check(MPI_Comm_rank(comm_->comm, &rank_), "MPI_Comm_rank");
  check(MPI_Comm_size(comm_->comm, &size_), "MPI_Comm_size");
}

MpiEnsemble::~MpiEnsemble() {
  if (comm_->comm != MPI_COMM_NULL) MPI_Comm_free(&comm_->comm);
  MPI_Finalize();
}

bool MpiEnsemble::any(bool flag) {
  return agree(flag ? 1 : 0) != 0;
}

int MpiEnsemble::agree(int value) {
  int out = 0;
  MPI_Request r;
  check(MPI_Iallreduce(&value, &out, 1, MPI_INT, MPI_MAX, comm_->comm, &r), "MPI_Iallreduce");
  settle(r, "MPI_Iallreduce");
  return out;
}

void MpiEnsemble::abort(int code) {
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);
}

namespace {

/// Adds up the ranks' accumulators at rank 0 (the total, in `result.summary`, there; elsewhere it
/// is spent) along a binomial tree, each sent as words; and their runs done, event counts and
/// `counts` on every rank, in `result` and `counts`.
void add_up(MPI_Comm comm, int rank, int size, EnsembleResult& result, std::vector<std::uint64_t>& counts) {
  std::vector<std::uint64_t> words;
  for (int step = 1; step < size; step *= 2) {
    if (rank % (2 * step) != 0) {
      words = result.summary.to_words();
      MPI_Request r;
      check(MPI_Isend(words.data(), static_cast<int>(words.size()), MPI_UINT64_T, rank - step, Courier::kSummaryTag,
                      comm, &r),
            "MPI_Isend");
      settle(r, "MPI_Isend", true);
      break;
    }
    if (rank + step >= size) continue;
    MPI_Status st = arrival(comm, rank + step, Courier::kSummaryTag);
    int count = 0;
    check(MPI_Get_count(&st, MPI_UINT64_T, &count), "MPI_Get_count");
    words.resize(static_cast<std::size_t>(count));
    check(MPI_Recv(words.data(), count, MPI_UINT64_T, rank + step, Courier::kSummaryTag, comm, MPI_STATUS_IGNORE), "MPI_Recv");
    result.summary.merge_words(words.data(), words.size());
  }

  std::vector<std::uint64_t> sums{result.runs_done};
  sums.insert(sums.end(), result.event_count.begin(), result.event_count.end());
  sums.insert(sums.end(), counts.begin(), counts.end());
  MPI_Request r;
  check(MPI_Iallreduce(MPI_IN_PLACE, sums.data(), static_cast<int>(sums.size()), MPI_UINT64_T, MPI_SUM, comm, &r),
        "MPI_Iallreduce");
  settle(r, "MPI_Iallreduce");
  result.runs_done = sums[0];
  const auto events = static_cast<std::ptrdiff_t>(result.event_count.size());
  std::copy(sums.begin() + 1, sums.begin() + 1 + events, result.event_count.begin());
  std::copy(sums.begin() + 1 + events, sums.end(), counts.begin());
}

}  // namespace

Summary MpiEnsemble::combine(EnsembleResult& result, std::vector<std::uint64_t>& counts,
                             const std::vector<double>& quantiles) {
  // The accumulators are large (histograms), the finished summary is small: rank 0 finishes the
  // total and sends it to the others.
  add_up(comm_->comm, rank_, size_, result, counts);
  Summary s;
  if (rank_ == 0) {
    s = result.summary.finish(quantiles);
  } else {
    s.months = result.summary.months();
    s.agents = result.summary.agents();
    s.runs = result.runs_done;
    s.bins = result.summary.bins();
    s.quantiles = quantiles;
    const auto cells = static_cast<std::size_t>(s.months) * static_cast<std::size_t>(s.agents * s.agents);
    s.mean.resize(cells);
    s.std.resize(cells);
    s.quantile.resize(cells * quantiles.size());
  }
  for (auto* values : {&s.mean, &s.std, &s.quantile}) {
    MPI_Request r;
    check(MPI_Ibcast(values->data(), static_cast<int>(values->size()), MPI_FLOAT, 0, comm_->comm, &r), "MPI_Ibcast");
    settle(r, "MPI_Ibcast");
  }
  return s;
}

EnsembleResult MpiEnsemble::run(const Model& model, EnsembleOptions options, const Destination& to,
                                const std::atomic<bool>* signalled) {
  const auto started = Clock::now();
  options.part = rank_;
  options.parts = size_;
  options.progress = false;
  const auto block_runs = static_cast<std::uint64_t>(effective_block_runs(options.block_runs));

  // One phase: this rank's blocks of [first_run, end_run), every block handed to rank 0's writer.
  struct Phase {
    EnsembleResult result;
    std::vector<std::uint64_t> frontier;  ///< rank 0: every rank's next_run
    bool stop_sent, got_stop;
  };
  const auto phase = [&](const EnsembleOptions& o, bool may_stop) {
    Courier::Setup setup;
    setup.comm = comm_->comm;
    setup.rank = rank_;
    setup.size = size_;
    setup.block_runs = block_runs;
    setup.may_stop = may_stop;
    setup.signalled = signalled;
    setup.to = &to;
    setup.window = 2 * static_cast<std::uint64_t>(size_);  // rank 0 at most two rounds ahead of the file
    Courier courier(setup);
    const std::atomic<bool>* stop = may_stop ? courier.stop() : nullptr;
    std::optional<EnsembleResult> result;
    try {
      if (rank_ == 0) {
        RootSink sink(courier, *to.sink);
        result.emplace(run_ensemble(model, o, sink, stop));
      } else {
        ForwardSink sink(courier, to);
        result.emplace(run_ensemble(model, o, sink, stop));
      }
    } catch (...) {
      courier.abandon();
      throw;
    }
    courier.finish(result->next_run);
    return Phase{std::move(*result), courier.frontier(), courier.stop_sent(), courier.got_stop()};
  };

  // 1. Every rank runs its share until the end or a stop.
  Phase first = phase(options, true);
  EnsembleResult& result = first.result;

  // 2. After a stop, every block below the furthest any rank reached is finished, so that the
  //    runs done are exactly a prefix 0 .. end - 1 of whole blocks.
  std::uint64_t plan[3] = {0, 0, 0};  // end, whether rank 0 sent a stop, whether some rank has blocks left below end
  if (rank_ == 0) {
    plan[0] = *std::max_element(first.frontier.begin(), first.frontier.end());
    plan[1] = first.stop_sent ? 1 : 0;
    plan[2] = *std::min_element(first.frontier.begin(), first.frontier.end()) < plan[0] ? 1 : 0;
  }
  MPI_Request told;
  check(MPI_Ibcast(plan, 3, MPI_UINT64_T, 0, comm_->comm, &told), "MPI_Ibcast");
  settle(told, "MPI_Ibcast");
  if (rank_ != 0 && plan[1] && !first.got_stop) {
    std::uint64_t word = 0;
    MPI_Request stop;
    check(MPI_Irecv(&word, 1, MPI_UINT64_T, 0, Courier::kStopTag, comm_->comm, &stop), "MPI_Irecv");
    settle(stop, "MPI_Irecv");
  }
  const std::uint64_t end = plan[0];
  if (plan[2]) {
    EnsembleOptions rest = options;
    rest.first_run = result.next_run;
    rest.end_run = end;
    const Phase more = phase(rest, false);
    result.summary.merge(more.result.summary);
    for (std::size_t e = 0; e < result.event_count.size(); ++e) result.event_count[e] += more.result.event_count[e];
    result.runs_done += more.result.runs_done;
  }

  // 3. The summaries, added up at rank 0.
  std::vector<std::uint64_t> none;
  add_up(comm_->comm, rank_, size_, result, none);
  if (rank_ == 0 && result.runs_done != end) {
    throw MpiError("the ranks simulated " + std::to_string(result.runs_done) + " runs, not the " + std::to_string(end) +
                   " runs 0 .. " + std::to_string(end) + " - 1");
  }
  result.next_run = end;
  result.interrupted = end < options.runs;
  result.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  return result;
}

}  // namespace alignsim::detail
