#pragma once
/// What the termination signals do while alignsim writes outputs.
///
/// From the first OutputPath (or StopSignals) on, SIGINT, SIGTERM and SIGHUP remove every
/// temporary output file and end the program as the signal would; SIGQUIT, SIGPIPE, SIGXFSZ and
/// the crash signals (SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL) do the same and then reach the
/// handler that was there before (a sanitizer's, say). A signal the program was started with
/// ignored (`nohup`) stays ignored.
///
/// While a StopSignals lives, SIGINT, SIGTERM and SIGHUP instead set its flag, every time: the
/// command stops at its next whole piece of work and finishes its outputs (an ensemble writes the
/// runs done, status "partial"). Create it before the outputs, keep it until they are committed.

#include <atomic>

namespace alignsim {

class StopSignals {
 public:
  explicit StopSignals(std::atomic<bool>& stop);
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  /// The last signal that set the flag (0: none).
  static int received();
};

namespace detail {
/// Installs the handlers described above, once per process.
void install_signal_handlers();
/// Adds a temporary file to remove on a signal; returns its slot (-1 if the registry is full).
int register_temporary(const char* path);
/// Forgets a temporary file (committed, or removed).
void unregister_temporary(int slot);
}  // namespace detail

}  // namespace alignsim
