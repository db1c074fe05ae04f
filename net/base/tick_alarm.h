// A thread that sleeps to the next thing it has due, and that other threads wake sooner
// when they start something timed before that (a server's watchdog: net/tcp_server.h).
// An ask made while the sleeper is awake is kept for its next sleep, so none is lost between
// the sleeper's look at what is due and its sleep. While it sleeps, an ask for later than it
// already wakes costs one atomic load (while it is awake, every ask takes the lock).
// Thread: wakeBy() from any thread; sleepUntil() from one sleeper.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <limits>
#include <mutex>

namespace huddle::base {

class TickAlarm {
 public:
  static constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();

  // The sleeper wakes by `dueUs` (monoUs), at once if that has passed.
  void wakeBy(std::int64_t dueUs);
  // Sleeps until `plannedUs` or the earliest wakeBy() since the last return, whichever is first.
  void sleepUntil(std::int64_t plannedUs);

 private:
  std::mutex m_mutex;
  std::condition_variable m_cv;
  std::int64_t m_askedUs = kNever;                       // (m_mutex) earliest ask since the last wake
  std::atomic<std::int64_t> m_sleepingUntilUs{kNever};  // kNever while awake: every ask is kept
};

}  // namespace huddle::base
