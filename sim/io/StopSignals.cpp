// The signal handlers and the registry of temporary output files they remove. Everything a handler
// touches is a lock-free atomic or a fixed buffer, and it calls only async-signal-safe functions
// (unlink, sigaction, raise).
#include "StopSignals.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>

namespace alignsim {

namespace {

constexpr int kSlots = 64;
constexpr std::size_t kPathBytes = 4096;

enum SlotState : int { kFree = 0, kFilling = 1, kLive = 2 };

struct Slot {
  std::atomic<int> state{kFree};
  char path[kPathBytes + 1] = {};
};

Slot g_slots[kSlots];
std::atomic<std::atomic<bool>*> g_stop{nullptr};
std::atomic<int> g_received{0};

/// Stopping signals: with a StopSignals alive they set its flag.
constexpr int kStopping[] = {SIGINT, SIGTERM, SIGHUP};
/// Signals that end the program whatever happens: the temporary files go first.
constexpr int kEnding[] = {SIGQUIT, SIGPIPE, SIGXFSZ, SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL};

struct sigaction g_previous[NSIG];

bool is_stopping(int sig) {
  for (const int s : kStopping) {
    if (s == sig) return true;
  }
  return false;
}

void remove_temporaries() {
  for (auto& slot : g_slots) {
    if (slot.state.load(std::memory_order_acquire) == kLive) ::unlink(slot.path);
  }
}

extern "C" void alignsim_output_signal(int sig) {
  const int saved_errno = errno;
  if (is_stopping(sig)) {
    if (std::atomic<bool>* stop = g_stop.load()) {
      g_received.store(sig);
      stop->store(true);
      errno = saved_errno;
      return;
    }
  }
  remove_temporaries();
  // End as the signal would have: the handler that was there before (the default, or a
  // sanitizer's), delivered once this handler returns (a fault re-executes and faults again).
  ::sigaction(sig, &g_previous[sig], nullptr);
  ::raise(sig);
  errno = saved_errno;
}

void install(int sig) {
  struct sigaction previous {};
  ::sigaction(sig, nullptr, &previous);
  if (previous.sa_flags & SA_SIGINFO) {
    if (previous.sa_sigaction == nullptr) return;
  } else if (previous.sa_handler == SIG_IGN || previous.sa_handler == alignsim_output_signal) {
    return;  // ignored from the start (nohup) stays ignored; ours already
  }
  g_previous[sig] = previous;
  struct sigaction action {};
  action.sa_handler = alignsim_output_signal;
  sigemptyset(&action.sa_mask);
  for (const int s : kStopping) sigaddset(&action.sa_mask, s);
  action.sa_flags = SA_RESTART;
  ::sigaction(sig, &action, nullptr);
}

}  // namespace

namespace detail {

void install_signal_handlers() {
  // Checked every time: a handler installed since (by a library, a test framework) is chained to.
  static std::mutex mutex;
  std::lock_guard lock(mutex);
  for (const int s : kStopping) install(s);
  for (const int s : kEnding) install(s);
}

int register_temporary(const char* path) {
  const std::size_t length = std::strlen(path);
  if (length > kPathBytes) return -1;
  for (int k = 0; k < kSlots; ++k) {
    int expected = kFree;
    if (g_slots[k].state.compare_exchange_strong(expected, kFilling)) {
      std::memcpy(g_slots[k].path, path, length + 1);
      g_slots[k].state.store(kLive, std::memory_order_release);
      return k;
    }
  }
  return -1;
}

void unregister_temporary(int slot) {
  if (slot >= 0 && slot < kSlots) g_slots[slot].state.store(kFree, std::memory_order_release);
}

}  // namespace detail

StopSignals::StopSignals(std::atomic<bool>& stop) {
  g_received.store(0);
  g_stop.store(&stop);
  detail::install_signal_handlers();
}

StopSignals::~StopSignals() { g_stop.store(nullptr); }

int StopSignals::received() { return g_received.load(); }

}  // namespace alignsim
