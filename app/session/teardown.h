// Ends sessions off the owner's thread: a host's goodbyes linger up to a couple of seconds
// and a client's polite leave waits for its connection to close, so the window hands the
// old session's objects here and keeps drawing. One worker ("teardown") runs the jobs in
// order; drain() waits for them (before hosting again on the same ports, and at exit).
// Thread: retire()/drain() from the owner; jobs run on the worker.
#pragma once
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>

#include "net/base/worker.h"

namespace huddle::session {

class Teardown {
 public:
  Teardown();
  ~Teardown();  // runs what is left, then joins
  Teardown(const Teardown&) = delete;
  Teardown& operator=(const Teardown&) = delete;

  // Runs `job` on the worker, after the jobs retired before it.
  void retire(std::function<void()> job);
  // Waits until every job retired so far has run.
  void drain();
  // Jobs not yet finished (for tests and the window's "closing..." hint).
  std::size_t pending() const;

 private:
  void run();

  mutable std::mutex m_mutex;
  std::condition_variable m_cv;
  std::deque<std::function<void()>> m_jobs;
  std::size_t m_running = 0;
  bool m_stop = false;
  base::Worker m_worker;  // last: starts once the members above exist
};

}  // namespace huddle::session
