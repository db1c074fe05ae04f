// Unbounded-by-type FIFO of events with a hard item cap chosen by the owner: push() fails
// (returns false) when full so the producer decides what overflow means. take() waits
// with a timeout; stop() wakes everyone. Thread: any.
#pragma once
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <vector>

namespace huddle::base {

template <typename T>
class EventQueue {
 public:
  explicit EventQueue(std::size_t capacity) : m_capacity(capacity) {}

  // Appends `item`; false if the queue is full or stopped.
  bool push(T item) {
    {
      std::lock_guard lock(m_mutex);
      if (m_stopped || m_items.size() >= m_capacity) return false;
      m_items.push_back(std::move(item));
    }
    m_cv.notify_one();
    return true;
  }

  // Appends even past the cap: for the one last item (a "disconnected") that must arrive.
  bool pushPastCap(T item) {
    {
      std::lock_guard lock(m_mutex);
      if (m_stopped) return false;
      m_items.push_back(std::move(item));
    }
    m_cv.notify_one();
    return true;
  }

  // Waits up to `timeout` for one item; empty on timeout or when stopped and drained.
  template <typename Rep, typename Period>
  std::optional<T> take(std::chrono::duration<Rep, Period> timeout) {
    std::unique_lock lock(m_mutex);
    m_cv.wait_for(lock, timeout, [&] { return m_stopped || !m_items.empty(); });
    if (m_items.empty()) return std::nullopt;
    T item = std::move(m_items.front());
    m_items.pop_front();
    return item;
  }

  // Takes everything queued without blocking.
  std::vector<T> drain() {
    std::lock_guard lock(m_mutex);
    std::vector<T> out(std::make_move_iterator(m_items.begin()), std::make_move_iterator(m_items.end()));
    m_items.clear();
    return out;
  }

  void stop() {
    {
      std::lock_guard lock(m_mutex);
      m_stopped = true;
    }
    m_cv.notify_all();
  }
  bool stopped() const {
    std::lock_guard lock(m_mutex);
    return m_stopped;
  }

 private:
  mutable std::mutex m_mutex;
  std::condition_variable m_cv;
  std::deque<T> m_items;
  std::size_t m_capacity;
  bool m_stopped = false;
};

}  // namespace huddle::base
