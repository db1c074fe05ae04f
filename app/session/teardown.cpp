#include "app/session/teardown.h"

#include <exception>

#include "net/base/log.h"

namespace huddle::session {

Teardown::Teardown() : m_worker("teardown", [this] { run(); }) {}

Teardown::~Teardown() {
  {
    std::lock_guard lock(m_mutex);
    m_stop = true;
  }
  m_cv.notify_all();
  m_worker.join();
}

void Teardown::retire(std::function<void()> job) {
  {
    std::lock_guard lock(m_mutex);
    m_jobs.push_back(std::move(job));
  }
  m_cv.notify_all();
}

void Teardown::drain() {
  std::unique_lock lock(m_mutex);
  m_cv.wait(lock, [&] { return m_jobs.empty() && m_running == 0; });
}

std::size_t Teardown::pending() const {
  std::lock_guard lock(m_mutex);
  return m_jobs.size() + m_running;
}

void Teardown::run() {
  std::unique_lock lock(m_mutex);
  while (true) {
    m_cv.wait(lock, [&] { return m_stop || !m_jobs.empty(); });
    if (m_jobs.empty()) return;  // stopping, and everything has run
    std::function<void()> job = std::move(m_jobs.front());
    m_jobs.pop_front();
    ++m_running;
    lock.unlock();
    try {
      job();
    } catch (const std::exception& e) {
      HLOG_WARN("session/teardown", "ending a session failed: %s", e.what());
    } catch (...) {
      HLOG_WARN("session/teardown", "ending a session failed");
    }
    job = nullptr;  // whatever it owned goes here, off the owner's thread
    lock.lock();
    --m_running;
    m_cv.notify_all();
  }
}

}  // namespace huddle::session
