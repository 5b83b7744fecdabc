#include "MpiEnsemble.hpp"

#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <limits>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace alignsim::detail {

struct MpiEnsemble::Comm {
  MPI_Comm comm = MPI_COMM_NULL;  ///< a duplicate of MPI_COMM_WORLD, its errors returned, not fatal
};

namespace {

using Clock = std::chrono::steady_clock;

enum Tag : int { kBlockTag = 1, kControlTag = 2, kStopTag = 3 };
/// Control messages to rank 0: three words, the kind and its values.
enum Control : std::uint64_t { kStopping = 1, kDone = 2 };

void check(int rc, const char* call) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(rc, text, &length);
  throw MpiError(std::string(call) + " failed: " + std::string(text, static_cast<std::size_t>(length)));
}

/// How long rank 0 waits, after asking every rank to stop, for each to answer before it takes the
/// silent one for dead: half the time mpirun gives the ranks between its SIGTERM and its SIGKILL
/// (Open MPI's odls_base_sigkill_timeout, 1 s unless set), so that rank 0 can still remove its
/// unfinished file.
double answer_deadline() {
  double grace = 1.0;
  if (const char* s = std::getenv("OMPI_MCA_odls_base_sigkill_timeout")) grace = std::max(0.5, std::atof(s));
  return grace / 2;
}

/// MPI_Op adding summary accumulators held as words (SummaryAccumulator::to_words), each element
/// of the datatype one whole accumulator.
extern "C" void add_summaries(void* in, void* inout, int* len, MPI_Datatype* type) {
  MPI_Count bytes = 0;
  MPI_Type_size_x(*type, &bytes);
  const auto words = static_cast<std::size_t>(bytes) / sizeof(std::uint64_t);
  try {
    for (int k = 0; k < *len; ++k) {
      SummaryAccumulator::add_words(static_cast<const std::uint64_t*>(in) + k * words,
                                    static_cast<std::uint64_t*>(inout) + k * words, words);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "alignsim: %s\n", e.what());
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
}

/// The one thread of a rank that talks MPI while the engine runs (the engine's threads only hand
/// it blocks), so that MPI is called from one thread at a time. At rank 0 it writes every block:
/// in run order (block j comes from rank j mod P), or in any order once stopping, and watches for
/// stop requests; at the other ranks it sends the blocks and passes stops on.
class Courier {
 public:
  struct Setup {
    MPI_Comm comm = MPI_COMM_NULL;
    int rank = 0, size = 1;
    std::uint64_t block_runs = 1;
    bool may_stop = true;  ///< signals and stop requests count (the first phase)
    const std::atomic<bool>* signalled = nullptr;
    const MpiEnsemble::Destination* to = nullptr;
  };

  explicit Courier(Setup s) : s_(s), in_order_(s.may_stop), frontier_(static_cast<std::size_t>(s.size), 0),
                              received_(static_cast<std::size_t>(s.size), 0) {
    thread_ = std::thread([this] { loop(); });
  }
  ~Courier() { quit(); }
  Courier(const Courier&) = delete;
  Courier& operator=(const Courier&) = delete;

  /// The engine's stop flag.
  const std::atomic<bool>* stop() const { return &stop_; }

  /// Rank 0's engine: returns once the courier has written the block (in its turn).
  void hand_local(const RunBlock& block) { hand(&block, nullptr); }
  /// The other ranks' engines: returns once rank 0 has received the bytes.
  void send(const std::vector<unsigned char>& bytes) { hand(nullptr, &bytes); }

  /// After the engine: tells rank 0 where this rank stopped (`next_run`, EnsembleResult) and how
  /// many blocks it sent; waits for the courier to end and throws what it failed with.
  void finish(std::uint64_t next_run) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      engine_done_ = true;
      frontier_[static_cast<std::size_t>(s_.rank)] = next_run;
    }
    thread_.join();
    if (error_) std::rethrow_exception(error_);
  }
  /// After the engine failed: ends the courier; throws its own failure if it had one first.
  void abandon() {
    quit();
    if (error_) std::rethrow_exception(error_);
  }

  bool stop_sent() const { return stop_sent_; }
  bool got_stop() const { return got_stop_; }
  const std::vector<std::uint64_t>& frontier() const { return frontier_; }  ///< rank 0: every rank's next_run

 private:
  void hand(const RunBlock* block, const std::vector<unsigned char>* bytes) {
    std::unique_lock<std::mutex> lock(mutex_);
    local_ = block;
    outgoing_ = bytes;
    done_.wait(lock, [&] { return failed_ || (!local_ && !outgoing_); });
    if (failed_) throw MpiError("the distributed run failed");
  }

  void quit() {
    quit_ = true;
    if (thread_.joinable()) thread_.join();
  }

  bool probe(int source, int tag, MPI_Status& status) {
    int flag = 0;
    check(MPI_Iprobe(source, tag, s_.comm, &flag, &status), "MPI_Iprobe");
    return flag != 0;
  }

  void loop() {
    try {
      if (s_.rank == 0) {
        root_loop();
      } else {
        other_loop();
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      error_ = std::current_exception();
      failed_ = true;
      stop_ = true;
      done_.notify_all();
    }
  }

  void root_loop() {
    std::vector<bool> done(static_cast<std::size_t>(s_.size), false), answered(done.size(), false);
    done[0] = answered[0] = true;
    std::vector<MPI_Request> stops;
    std::vector<unsigned char> buffer;
    MPI_Request receiving = MPI_REQUEST_NULL;
    int sender = 0;
    std::uint64_t next = 0;  // in order: the next block to write
    Clock::time_point stop_time;
    const double deadline = answer_deadline();
    while (!quit_) {
      bool busy = false;
      MPI_Status st;
      while (probe(MPI_ANY_SOURCE, kControlTag, st)) {
        std::uint64_t m[3];
        check(MPI_Recv(m, 3, MPI_UINT64_T, st.MPI_SOURCE, kControlTag, s_.comm, MPI_STATUS_IGNORE), "MPI_Recv");
        const auto k = static_cast<std::size_t>(st.MPI_SOURCE);
        answered[k] = true;
        if (m[0] == kStopping && s_.may_stop) stop_ = true;
        if (m[0] == kDone) {
          done[k] = true;
          frontier_[k] = m[1];
          if (m[2] != received_[k]) {
            throw MpiError("rank " + std::to_string(k) + " sent " + std::to_string(m[2]) + " blocks, rank 0 received " +
                           std::to_string(received_[k]));
          }
        }
        busy = true;
      }
      if (s_.may_stop && s_.signalled && s_.signalled->load()) stop_ = true;
      if (s_.may_stop && stop_ && !stop_sent_) {
        // Every rank stops; blocks already started arrive in any order.
        const std::uint64_t word = 1;
        stops.resize(static_cast<std::size_t>(s_.size - 1));
        for (int k = 1; k < s_.size; ++k) {
          check(MPI_Isend(&word, 1, MPI_UINT64_T, k, kStopTag, s_.comm, &stops[static_cast<std::size_t>(k - 1)]), "MPI_Isend");
        }
        stop_sent_ = true;
        stop_time = Clock::now();
        in_order_ = false;
      }
      const RunBlock* local = nullptr;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (local_ && (!in_order_ || local_->first / s_.block_runs == next)) local = local_;
      }
      if (local) {
        s_.to->sink->write_block(*local);
        ++received_[0];
        if (in_order_) ++next;
        std::lock_guard<std::mutex> lock(mutex_);
        local_ = nullptr;
        done_.notify_all();
        busy = true;
      }
      // Blocks from the other ranks: received without blocking, so that a rank that dies while
      // sending cannot hold this loop (and the stop and its deadline) up.
      if (receiving != MPI_REQUEST_NULL) {
        int flag = 0;
        check(MPI_Test(&receiving, &flag, MPI_STATUS_IGNORE), "MPI_Test");
        if (flag) {
          s_.to->write_packed(buffer.data(), buffer.size());
          ++received_[static_cast<std::size_t>(sender)];
          if (in_order_) ++next;
          busy = true;
        }
      } else {
        const int source = in_order_ ? static_cast<int>(next % static_cast<std::uint64_t>(s_.size)) : MPI_ANY_SOURCE;
        int flag = 0;
        MPI_Message message = MPI_MESSAGE_NULL;
        if (source != 0) check(MPI_Improbe(source, kBlockTag, s_.comm, &flag, &message, &st), "MPI_Improbe");
        if (flag) {
          int size = 0;
          check(MPI_Get_count(&st, MPI_BYTE, &size), "MPI_Get_count");
          buffer.resize(static_cast<std::size_t>(size));
          sender = st.MPI_SOURCE;
          check(MPI_Imrecv(buffer.data(), size, MPI_BYTE, &message, &receiving), "MPI_Imrecv");
          busy = true;
        }
      }
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (engine_done_ && std::all_of(done.begin(), done.end(), [](bool d) { return d; })) break;
      }
      if (stop_sent_ && std::chrono::duration<double>(Clock::now() - stop_time).count() > deadline) {
        for (std::size_t k = 1; k < answered.size(); ++k) {
          if (!answered[k]) {
            char seconds[32];
            std::snprintf(seconds, sizeof seconds, "%.1f", deadline);
            throw MpiError("rank " + std::to_string(k) + " did not answer the stop within " + seconds +
                           " s: it has failed or been killed");
          }
        }
      }
      if (!busy) std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    if (!stops.empty()) check(MPI_Waitall(static_cast<int>(stops.size()), stops.data(), MPI_STATUSES_IGNORE), "MPI_Waitall");
  }

  void other_loop() {
    MPI_Request sending = MPI_REQUEST_NULL, stopping = MPI_REQUEST_NULL;
    std::uint64_t stopping_message[3] = {kStopping, 0, 0};
    std::uint64_t sent = 0;
    while (!quit_) {
      bool busy = false;
      MPI_Status st;
      if (s_.may_stop && !got_stop_ && probe(0, kStopTag, st)) {
        std::uint64_t word = 0;
        check(MPI_Recv(&word, 1, MPI_UINT64_T, 0, kStopTag, s_.comm, MPI_STATUS_IGNORE), "MPI_Recv");
        got_stop_ = true;
        stop_ = true;
        busy = true;
      }
      if (s_.may_stop && s_.signalled && s_.signalled->load()) stop_ = true;
      if (s_.may_stop && stop_ && stopping == MPI_REQUEST_NULL) {
        check(MPI_Isend(stopping_message, 3, MPI_UINT64_T, 0, kControlTag, s_.comm, &stopping), "MPI_Isend");
      }
      if (sending != MPI_REQUEST_NULL) {
        int flag = 0;
        check(MPI_Test(&sending, &flag, MPI_STATUS_IGNORE), "MPI_Test");
        if (flag) {
          ++sent;
          std::lock_guard<std::mutex> lock(mutex_);
          outgoing_ = nullptr;
          done_.notify_all();
          busy = true;
        }
      } else {
        std::lock_guard<std::mutex> lock(mutex_);
        if (outgoing_) {
          // Synchronous: complete only once rank 0 takes it, so no rank runs ahead of the file.
          check(MPI_Issend(outgoing_->data(), static_cast<int>(outgoing_->size()), MPI_BYTE, 0, kBlockTag, s_.comm, &sending),
                "MPI_Issend");
          busy = true;
        }
      }
      bool finished = false;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        finished = engine_done_ && sending == MPI_REQUEST_NULL && !outgoing_;
      }
      if (finished) {
        if (stopping != MPI_REQUEST_NULL) check(MPI_Wait(&stopping, MPI_STATUS_IGNORE), "MPI_Wait");
        const std::uint64_t message[3] = {kDone, frontier_[static_cast<std::size_t>(s_.rank)], sent};
        check(MPI_Send(message, 3, MPI_UINT64_T, 0, kControlTag, s_.comm), "MPI_Send");
        return;
      }
      if (!busy) std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  }

  Setup s_;
  bool in_order_;
  std::vector<std::uint64_t> frontier_;
  std::vector<std::uint64_t> received_;  ///< rank 0: blocks written, per rank they came from
  std::atomic<bool> stop_{false}, quit_{false};
  bool stop_sent_ = false, got_stop_ = false;
  std::mutex mutex_;
  std::condition_variable done_;
  const RunBlock* local_ = nullptr;
  const std::vector<unsigned char>* outgoing_ = nullptr;
  bool engine_done_ = false, failed_ = false;
  std::exception_ptr error_;
  std::thread thread_;
};

/// Rank 0's own blocks: prepared on its worker threads, written by the courier in their turn.
class RootSink final : public BlockSink {
 public:
  RootSink(Courier& courier, BlockSink& sink) : courier_(courier), sink_(sink) {}
  void prepare(RunBlock& block) override { sink_.prepare(block); }
  void write_block(const RunBlock& block) override { courier_.hand_local(block); }

 private:
  Courier& courier_;
  BlockSink& sink_;
};

/// Another rank's blocks: packed on its worker threads (the raw values freed at once), sent in order.
class ForwardSink final : public BlockSink {
 public:
  ForwardSink(Courier& courier, const MpiEnsemble::Destination& to) : courier_(courier), to_(to) {}
  void prepare(RunBlock& block) override {
    block.packed = to_.pack(block);
    std::vector<std::int16_t>().swap(block.event_month);
    std::vector<float>().swap(block.alignment);
    std::vector<float>().swap(block.era_alignment);
  }
  void write_block(const RunBlock& block) override {
    if (block.packed.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
      throw MpiError("a block of " + std::to_string(block.count) + " runs packs to " + std::to_string(block.packed.size()) +
                     " bytes, more than one MPI message holds; use a smaller --block-runs");
    }
    courier_.send(block.packed);
  }

 private:
  Courier& courier_;
  const MpiEnsemble::Destination& to_;
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
  int in = flag ? 1 : 0, out = 0;
  check(MPI_Allreduce(&in, &out, 1, MPI_INT, MPI_MAX, comm_->comm), "MPI_Allreduce");
  return out != 0;
}

int MpiEnsemble::agree(int value) {
  int out = 0;
  check(MPI_Allreduce(&value, &out, 1, MPI_INT, MPI_MAX, comm_->comm), "MPI_Allreduce");
  return out;
}

int MpiEnsemble::broadcast(int value) {
  check(MPI_Bcast(&value, 1, MPI_INT, 0, comm_->comm), "MPI_Bcast");
  return value;
}

void MpiEnsemble::abort(int code) {
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);
}

namespace {

/// Adds up the ranks' accumulators at rank 0 (the total there, nothing elsewhere), and their runs
/// done, event counts and `counts` on every rank, in `result` and `counts`.
std::optional<SummaryAccumulator> add_up(MPI_Comm comm, int rank, EnsembleResult& result,
                                         std::vector<std::uint64_t>& counts) {
  std::vector<std::uint64_t> words = result.summary.to_words();
  MPI_Datatype accumulator = MPI_DATATYPE_NULL;
  MPI_Op add = MPI_OP_NULL;
  check(MPI_Type_contiguous(static_cast<int>(words.size()), MPI_UINT64_T, &accumulator), "MPI_Type_contiguous");
  check(MPI_Type_commit(&accumulator), "MPI_Type_commit");
  check(MPI_Op_create(&add_summaries, 1, &add), "MPI_Op_create");
  std::vector<std::uint64_t> totals(rank == 0 ? words.size() : 0);
  // Reduced to one rank: an all-reduce of accumulators this large costs several times more.
  const int rc = MPI_Reduce(words.data(), totals.data(), 1, accumulator, add, 0, comm);
  MPI_Op_free(&add);
  MPI_Type_free(&accumulator);
  check(rc, "MPI_Reduce");

  std::vector<std::uint64_t> sums{result.runs_done};
  sums.insert(sums.end(), result.event_count.begin(), result.event_count.end());
  sums.insert(sums.end(), counts.begin(), counts.end());
  check(MPI_Allreduce(MPI_IN_PLACE, sums.data(), static_cast<int>(sums.size()), MPI_UINT64_T, MPI_SUM, comm),
        "MPI_Allreduce");
  result.runs_done = sums[0];
  const auto events = static_cast<std::ptrdiff_t>(result.event_count.size());
  std::copy(sums.begin() + 1, sums.begin() + 1 + events, result.event_count.begin());
  std::copy(sums.begin() + 1 + events, sums.end(), counts.begin());
  if (rank != 0) return std::nullopt;
  return SummaryAccumulator::from_words(totals.data(), totals.size());
}

}  // namespace

Summary MpiEnsemble::combine(EnsembleResult& result, std::vector<std::uint64_t>& counts,
                             const std::vector<double>& quantiles) {
  // The accumulators are large (histograms), the finished summary is small: rank 0 finishes the
  // total and sends it to the others.
  const auto total = add_up(comm_->comm, rank_, result, counts);
  Summary s;
  if (total) {
    s = total->finish(quantiles);
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
    check(MPI_Bcast(values->data(), static_cast<int>(values->size()), MPI_FLOAT, 0, comm_->comm), "MPI_Bcast");
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
    Courier courier({comm_->comm, rank_, size_, block_runs, may_stop, signalled, &to});
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
  check(MPI_Bcast(plan, 3, MPI_UINT64_T, 0, comm_->comm), "MPI_Bcast");
  if (rank_ != 0 && plan[1] && !first.got_stop) {
    std::uint64_t word = 0;
    check(MPI_Recv(&word, 1, MPI_UINT64_T, 0, kStopTag, comm_->comm, MPI_STATUS_IGNORE), "MPI_Recv");
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
  if (auto total = add_up(comm_->comm, rank_, result, none)) result.summary = std::move(*total);
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
