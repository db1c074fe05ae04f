#include "net/base/worker.h"

#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <exception>

#include "net/base/log.h"

namespace huddle::base {

Worker::Worker(std::string name, std::function<void()> body, FailureHandler onFailure)
    : m_name(std::move(name)), m_shared(std::make_shared<Shared>()) {
  m_thread = std::thread([name = m_name, shared = m_shared, body = std::move(body), onFailure = std::move(onFailure)] {
    // Linux shows 15 characters of a thread's name.
    pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
    std::string what;
    try {
      body();
      return;
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
      what = "an exception that is not a std::exception";
    }
    {
      std::lock_guard lock(shared->mutex);
      shared->failure = what;
    }
    if (!onFailure) {
      HLOG_ERROR("base/worker", "thread %s stopped: %s", name.c_str(), what.c_str());
      return;
    }
    // The handler is the owner's code on this thread: if it throws as well, the process
    // still goes on (std::thread would end it).
    try {
      onFailure(what);
    } catch (const std::exception& e) {
      HLOG_ERROR("base/worker", "thread %s stopped: %s; its owner's handler threw: %s", name.c_str(), what.c_str(), e.what());
    } catch (...) {
      HLOG_ERROR("base/worker", "thread %s stopped: %s; its owner's handler threw", name.c_str(), what.c_str());
    }
  });
}

Worker& Worker::operator=(Worker&& other) noexcept {
  if (this != &other) {
    join();
    m_name = std::move(other.m_name);
    m_shared = std::move(other.m_shared);
    m_thread = std::move(other.m_thread);
  }
  return *this;
}

void Worker::join() {
  if (!m_thread.joinable()) return;
  if (m_thread.get_id() == std::this_thread::get_id()) {
    m_thread.detach();  // the body is tearing down its own owner; it ends by returning
    return;
  }
  m_thread.join();
}

std::string Worker::failure() const {
  if (!m_shared) return {};
  std::lock_guard lock(m_shared->mutex);
  return m_shared->failure;
}

bool raiseThreadToAudioPriority() {
  sched_param param{};
  param.sched_priority = 10;  // low among real-time threads: below the kernel's and audio servers'
  if (pthread_setschedparam(pthread_self(), SCHED_FIFO, &param) == 0) return true;
  raiseThreadNiceness();
  return false;
}

bool raiseThreadNiceness() {
  return setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), -10) == 0;
}

}  // namespace huddle::base
