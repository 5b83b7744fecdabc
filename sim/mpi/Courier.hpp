#pragma once
/// The thread of each rank that talks MPI while its engine runs (detail of MpiEnsemble): the
/// engine's threads hand it blocks, so that MPI is called from one thread at a time.
///
/// At rank 0 it receives the other ranks' blocks in run order (block j from rank j mod P) and
/// writes them; rank 0's own blocks are written by its engine as they come, at most `window`
/// blocks ahead of the first block not yet written. At the other ranks it sends the blocks, at most
/// `queue` waiting, each send complete only once rank 0 takes it. So no rank runs far ahead of the
/// file, and a stop leaves little to finish. After a stop, blocks are written in any order.

#include <mpi.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "MpiEnsemble.hpp"

namespace alignsim::detail {

/// Throws MpiError naming the call if an MPI call failed.
void check(int rc, const char* call);

/// Waits for a request without spinning: Open MPI's blocking calls poll at full speed, taking a
/// core from the threads that work (the other ranks of a node, and anything else on a shared
/// machine) while one rank waits for another. Tests the request, sleeping between tries (from
/// 20 us, doubling to 1 ms, or to 50 us for a large `transfer`, which moves only when tested).
/// `call` names the call that started it, for the error.
void settle(MPI_Request& request, const char* call, bool transfer = false);
/// Waits, the same way, for a message from `source` with `tag`, and gives its status.
MPI_Status arrival(MPI_Comm comm, int source, int tag);

class Courier {
 public:
  enum Tag : int { kBlockTag = 1, kControlTag = 2, kStopTag = 3, kSummaryTag = 4 };

  struct Setup {
    MPI_Comm comm = MPI_COMM_NULL;
    int rank = 0, size = 1;
    std::uint64_t block_runs = 1;
    bool may_stop = true;  ///< signals and stop requests count (the first phase); else any order from the start
    const std::atomic<bool>* signalled = nullptr;
    const MpiEnsemble::Destination* to = nullptr;
    std::uint64_t window = 4;  ///< rank 0: how far ahead of the file its own blocks may be written
    std::size_t queue = 2;     ///< other ranks: blocks waiting to be sent before the engine waits
  };

  explicit Courier(Setup s);
  ~Courier();
  Courier(const Courier&) = delete;
  Courier& operator=(const Courier&) = delete;

  /// The engine's stop flag: set by a signal, or by a stop from another rank.
  const std::atomic<bool>* stop() const { return &stop_; }

  /// Rank 0's engine: writes one of its own blocks, once it is within the window.
  void write_local(const RunBlock& block);
  /// The other ranks' engines: queues a packed block for rank 0.
  void send(std::vector<unsigned char> bytes);

  /// After the engine: tells rank 0 where this rank stopped (EnsembleResult::next_run) and how many
  /// blocks it sent; waits for the courier to end and throws what it failed with.
  void finish(std::uint64_t next_run);
  /// After the engine failed: ends the courier; throws its own failure if it had one first.
  void abandon();

  bool stop_sent() const { return stop_sent_; }
  bool got_stop() const { return got_stop_; }
  const std::vector<std::uint64_t>& frontier() const { return frontier_; }  ///< rank 0: every rank's next_run

 private:
  void quit();
  bool probe(int source, int tag, MPI_Status& status);
  void loop();
  void root_loop();
  void other_loop();
  void written(std::uint64_t block);  ///< rank 0, under mutex_: the block is in the file

  Setup s_;
  std::vector<std::uint64_t> frontier_;
  std::vector<std::uint64_t> received_;  ///< rank 0: blocks written, per rank they came from
  std::atomic<bool> stop_{false}, quit_{false};
  bool stop_sent_ = false, got_stop_ = false;

  std::mutex mutex_;  ///< guards what follows
  std::condition_variable changed_;
  bool in_order_;
  std::uint64_t next_ = 0;           ///< rank 0, in order: the first block not yet written
  std::set<std::uint64_t> ahead_;    ///< rank 0: its own blocks written beyond next_
  std::deque<std::vector<unsigned char>> queue_;  ///< other ranks: blocks to send, the first being sent
  bool engine_done_ = false, failed_ = false;
  std::exception_ptr error_;

  std::mutex write_mutex_;  ///< rank 0: one write to the file at a time
  std::thread thread_;
};

}  // namespace alignsim::detail
