#pragma once
/// The order oneTBB gives the ensemble's pipeline, told to ThreadSanitizer (docs/reliability.md).
/// oneTBB orders a block's stages, the calls of a serial stage and the pipeline's end inside its
/// compiled library, which Debian builds without ThreadSanitizer: unmarked, every hand-off would be
/// reported as a race. The marks state only what oneTBB guarantees, so a real race in a stage's own
/// work (two parallel calls writing one place) is still reported. Without ThreadSanitizer they
/// compile to nothing.

#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
#endif

namespace alignsim::detail {

/// Everything written before release(mark) happens before what follows acquire(mark) in any thread.
inline void release(const void* mark) {
#if defined(__SANITIZE_THREAD__)
  __tsan_release(const_cast<void*>(mark));
#else
  (void)mark;
#endif
}
inline void acquire(const void* mark) {
#if defined(__SANITIZE_THREAD__)
  __tsan_acquire(const_cast<void*>(mark));
#else
  (void)mark;
#endif
}

/// One call of a pipeline stage, declared first in its body (before it reads what it captured): it
/// comes after the pipeline's start, and before the pipeline's end.
class StageOrder {
 public:
  StageOrder() { acquire(&start_); }
  ~StageOrder() {
    if (own_) release(own_);
    release(&end_);
  }
  StageOrder(const StageOrder&) = delete;
  StageOrder& operator=(const StageOrder&) = delete;

  /// The call also comes after whatever released `own` (the previous call of the same serial stage,
  /// or the stage before on the same block), and before whatever acquires it next.
  void after(const void* own) {
    own_ = own;
    acquire(own);
  }

  /// In the thread that runs the pipeline: once its stages are built, and once it has returned.
  static void start() { release(&start_); }
  static void end() { acquire(&end_); }

 private:
  // One mark for every pipeline: ensembles in one process run one after another.
  static inline const char start_ = 0;
  static inline const char end_ = 0;
  const void* own_ = nullptr;
};

}  // namespace alignsim::detail
