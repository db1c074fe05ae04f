// Latest-value mailbox: put() overwrites whatever is waiting, take() waits for a value or stop().
// Used wherever only the newest value matters (frames, settings); never builds a backlog.
// Thread: any; one or many producers and consumers.
#pragma once
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>

namespace huddle::base {

template <typename T>
class Mailbox {
 public:
  // Stores `value`, replacing an unread one, and wakes a waiting take().
  void put(T value) {
    {
      std::lock_guard lock(m_mutex);
      m_value = std::move(value);
    }
    m_cv.notify_one();
  }

  // Waits up to `timeout` for a value; empty on timeout or after stop().
  template <typename Rep, typename Period>
  std::optional<T> take(std::chrono::duration<Rep, Period> timeout) {
    std::unique_lock lock(m_mutex);
    m_cv.wait_for(lock, timeout, [&] { return m_stopped || m_value.has_value(); });
    if (m_stopped) return std::nullopt;
    return std::exchange(m_value, std::nullopt);
  }

  // Takes a waiting value without blocking.
  std::optional<T> poll() {
    std::lock_guard lock(m_mutex);
    return std::exchange(m_value, std::nullopt);
  }

  // Wakes every waiter; later take() calls return empty at once.
  void stop() {
    {
      std::lock_guard lock(m_mutex);
      m_stopped = true;
    }
    m_cv.notify_all();
  }

 private:
  std::mutex m_mutex;
  std::condition_variable m_cv;
  std::optional<T> m_value;
  bool m_stopped = false;
};

}  // namespace huddle::base
