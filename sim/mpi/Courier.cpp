#include "Courier.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace alignsim::detail {

namespace {

using Clock = std::chrono::steady_clock;

/// Control messages to rank 0: three words, the kind and its values.
enum Control : std::uint64_t { kStopping = 1, kDone = 2 };

/// How long rank 0 waits, after asking every rank to stop, for each to answer before it takes the
/// silent one for dead: half the time mpirun gives the ranks between its SIGTERM and its SIGKILL
/// (Open MPI's odls_base_sigkill_timeout, 1 s unless set), so that rank 0 can still remove its
/// unfinished file.
double answer_deadline() {
  double grace = 1.0;
  if (const char* s = std::getenv("OMPI_MCA_odls_base_sigkill_timeout")) grace = std::max(0.5, std::atof(s));
  return grace / 2;
}

/// How long to wait between two looks at MPI: 20 us after some work, doubling while nothing happens,
/// up to 1 ms when waiting for another rank (a block takes several ms to simulate), but at most
/// 50 us while a message is on its way. Open MPI moves a large message within a node in 32 KB
/// pieces, each when both ranks call MPI: a 1 ms pause would hold a transfer to 32 MB/s.
class Backoff {
 public:
  std::chrono::microseconds next(bool busy, bool in_flight) {
    wait_ = busy ? std::chrono::microseconds(20) : std::min(2 * wait_, in_flight ? kInFlight : kIdle);
    return wait_;
  }

 private:
  static constexpr std::chrono::microseconds kInFlight{50}, kIdle{1000};
  std::chrono::microseconds wait_{20};
};

/// The courier's pause: none after some work; else the backoff's, cut short by a block the engine
/// hands over (a message from another rank waits for the next look).
class Idle {
 public:
  void wait(std::mutex& mutex, std::condition_variable& changed, bool busy, bool in_flight) {
    const auto pause = backoff_.next(busy, in_flight);
    if (busy) return;
    std::unique_lock<std::mutex> lock(mutex);
    changed.wait_for(lock, pause);
  }

 private:
  Backoff backoff_;
};

}  // namespace

void check(int rc, const char* call) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(rc, text, &length);
  throw MpiError(std::string(call) + " failed: " + std::string(text, static_cast<std::size_t>(length)));
}

void settle(MPI_Request& request, const char* call, bool transfer) {
  Backoff backoff;
  for (;;) {
    int done = 0;
    check(MPI_Test(&request, &done, MPI_STATUS_IGNORE), call);
    if (done) return;
    std::this_thread::sleep_for(backoff.next(false, transfer));
  }
}

MPI_Status arrival(MPI_Comm comm, int source, int tag) {
  Backoff backoff;
  for (;;) {
    int flag = 0;
    MPI_Status status;
    check(MPI_Iprobe(source, tag, comm, &flag, &status), "MPI_Iprobe");
    if (flag) return status;
    std::this_thread::sleep_for(backoff.next(false, false));
  }
}

Courier::Courier(Setup s)
    : s_(s), frontier_(static_cast<std::size_t>(s.size), 0), received_(static_cast<std::size_t>(s.size), 0),
      in_order_(s.may_stop) {
  thread_ = std::thread([this] { loop(); });
}

Courier::~Courier() { quit(); }

void Courier::quit() {
  quit_ = true;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    changed_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

void Courier::write_local(const RunBlock& block) {
  const std::uint64_t j = block.first / s_.block_runs;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [&] { return failed_ || !in_order_ || j < next_ + s_.window; });
    if (failed_) throw MpiError("the distributed run failed");
  }
  {
    std::lock_guard<std::mutex> write(write_mutex_);
    s_.to->sink->write_block(block);
  }
  std::lock_guard<std::mutex> lock(mutex_);
  ++received_[0];
  written(j);
}

void Courier::send(std::vector<unsigned char> bytes) {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [&] { return failed_ || queue_.size() < s_.queue; });
  if (failed_) throw MpiError("the distributed run failed");
  queue_.push_back(std::move(bytes));  // a deque: the block being sent, at the front, stays where it is
  changed_.notify_all();
}

void Courier::written(std::uint64_t block) {
  if (block == next_) {
    ++next_;
    while (!ahead_.empty() && *ahead_.begin() == next_) {
      ahead_.erase(ahead_.begin());
      ++next_;
    }
  } else if (block > next_) {
    ahead_.insert(block);
  }
  changed_.notify_all();
}

void Courier::finish(std::uint64_t next_run) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    engine_done_ = true;
    frontier_[static_cast<std::size_t>(s_.rank)] = next_run;
  }
  thread_.join();
  if (error_) std::rethrow_exception(error_);
}

void Courier::abandon() {
  quit();
  if (error_) std::rethrow_exception(error_);
}

bool Courier::probe(int source, int tag, MPI_Status& status) {
  int flag = 0;
  check(MPI_Iprobe(source, tag, s_.comm, &flag, &status), "MPI_Iprobe");
  return flag != 0;
}

void Courier::loop() {
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
    changed_.notify_all();
  }
}

void Courier::root_loop() {
  std::vector<bool> done(static_cast<std::size_t>(s_.size), false), answered(done.size(), false);
  done[0] = answered[0] = true;
  std::vector<MPI_Request> stops;
  std::vector<unsigned char> buffer;
  MPI_Request receiving = MPI_REQUEST_NULL;
  int sender = 0;
  Clock::time_point stop_time;
  const double deadline = answer_deadline();
  Idle idle;
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
      // Every rank stops; blocks already started are written in any order.
      const std::uint64_t word = 1;
      stops.resize(static_cast<std::size_t>(s_.size - 1));
      for (int k = 1; k < s_.size; ++k) {
        check(MPI_Isend(&word, 1, MPI_UINT64_T, k, kStopTag, s_.comm, &stops[static_cast<std::size_t>(k - 1)]),
              "MPI_Isend");
      }
      stop_sent_ = true;
      stop_time = Clock::now();
      std::lock_guard<std::mutex> lock(mutex_);
      in_order_ = false;
      changed_.notify_all();
    }
    // Blocks from the other ranks, received without blocking, so that a rank that dies while
    // sending cannot hold this loop (and the stop and its deadline) up.
    if (receiving != MPI_REQUEST_NULL) {
      int flag = 0;
      check(MPI_Test(&receiving, &flag, MPI_STATUS_IGNORE), "MPI_Test");
      if (flag) {
        {
          std::lock_guard<std::mutex> write(write_mutex_);
          s_.to->write_packed(buffer.data(), buffer.size());
        }
        std::lock_guard<std::mutex> lock(mutex_);
        ++received_[static_cast<std::size_t>(sender)];
        if (in_order_) written(next_);
        busy = true;
      }
    } else {
      int source = MPI_ANY_SOURCE;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (in_order_) source = static_cast<int>(next_ % static_cast<std::uint64_t>(s_.size));
      }
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
      if (engine_done_ && receiving == MPI_REQUEST_NULL && std::all_of(done.begin(), done.end(), [](bool d) { return d; })) break;
    }
    if (stop_sent_ && std::chrono::duration<double>(Clock::now() - stop_time).count() > deadline) {
      for (std::size_t k = 1; k < answered.size(); ++k) {
        if (answered[k]) continue;
        char seconds[32];
        std::snprintf(seconds, sizeof seconds, "%.1f", deadline);
        throw MpiError("rank " + std::to_string(k) + " did not answer the stop within " + seconds +
                       " s: it has failed or been killed");
      }
    }
    idle.wait(mutex_, changed_, busy, receiving != MPI_REQUEST_NULL);
  }
  if (!stops.empty()) check(MPI_Waitall(static_cast<int>(stops.size()), stops.data(), MPI_STATUSES_IGNORE), "MPI_Waitall");
}

void Courier::other_loop() {
  MPI_Request sending = MPI_REQUEST_NULL, stopping = MPI_REQUEST_NULL;
  std::uint64_t stopping_message[3] = {kStopping, 0, 0};
  std::uint64_t sent = 0;
  Idle idle;
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
      // Told rank 0 at once, which also shows that this rank is alive.
      check(MPI_Isend(stopping_message, 3, MPI_UINT64_T, 0, kControlTag, s_.comm, &stopping), "MPI_Isend");
    }
    bool finished = false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (sending != MPI_REQUEST_NULL) {
        int flag = 0;
        check(MPI_Test(&sending, &flag, MPI_STATUS_IGNORE), "MPI_Test");
        if (flag) {
          ++sent;
          queue_.pop_front();
          changed_.notify_all();
          busy = true;
        }
      }
      if (sending == MPI_REQUEST_NULL && !queue_.empty()) {
        // Synchronous: complete only once rank 0 takes it, so that no rank runs ahead of the file.
        const auto& bytes = queue_.front();
        check(MPI_Issend(bytes.data(), static_cast<int>(bytes.size()), MPI_BYTE, 0, kBlockTag, s_.comm, &sending),
              "MPI_Issend");
        busy = true;
      }
      finished = engine_done_ && sending == MPI_REQUEST_NULL && queue_.empty();
    }
    if (finished) {
      if (stopping != MPI_REQUEST_NULL) check(MPI_Wait(&stopping, MPI_STATUS_IGNORE), "MPI_Wait");
      const std::uint64_t message[3] = {kDone, frontier_[static_cast<std::size_t>(s_.rank)], sent};
      check(MPI_Send(message, 3, MPI_UINT64_T, 0, kControlTag, s_.comm), "MPI_Send");
      return;
    }
    idle.wait(mutex_, changed_, busy, sending != MPI_REQUEST_NULL);
  }
}

}  // namespace alignsim::detail
