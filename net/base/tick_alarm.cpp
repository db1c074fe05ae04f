#include "net/base/tick_alarm.h"

#include <algorithm>
#include <chrono>

#include "net/base/clock.h"

namespace huddle::base {

void TickAlarm::wakeBy(std::int64_t dueUs) {
  if (dueUs >= m_sleepingUntilUs.load()) return;  // asleep, and waking by then anyway
  {
    std::lock_guard lock(m_mutex);
    if (dueUs >= m_askedUs) return;
    m_askedUs = dueUs;
  }
  m_cv.notify_one();
}

void TickAlarm::sleepUntil(std::int64_t plannedUs) {
  std::unique_lock lock(m_mutex);
  for (;;) {
    const std::int64_t target = std::min(plannedUs, m_askedUs);
    const std::int64_t now = monoUs();
    if (now >= target) break;
    m_sleepingUntilUs = target;
    m_cv.wait_for(lock, std::chrono::microseconds(target - now));
  }
  m_sleepingUntilUs = kNever;
  m_askedUs = kNever;
}

}  // namespace huddle::base
