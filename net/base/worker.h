// The one way the program starts a thread: a named worker that runs a body, catches
// anything it throws and hands it to its owner, and is joined when the owner lets go of it
// (TigerVNC's setThreadException / throwThreadException idea). The body must watch its own
// stop condition: join() waits for it to return.
// Thread: construct, join and destroy from the owner's thread; the body runs on its own.
#pragma once
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace huddle::base {

class Worker {
 public:
  // Called on the worker's own thread with what the body threw, as text. A worker without
  // a handler logs it as an error; either way the thread ends and the process goes on (a
  // handler that throws too is logged).
  using FailureHandler = std::function<void(const std::string& what)>;

  Worker() = default;
  // Starts `body` on a new thread named `name` (at most 15 characters are shown by ps/top).
  Worker(std::string name, std::function<void()> body, FailureHandler onFailure = {});
  ~Worker() { join(); }
  Worker(Worker&& other) noexcept = default;
  Worker& operator=(Worker&& other) noexcept;
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Waits for the body to return; a no-op for an empty or already joined worker, or when
  // called from the worker's own thread (an owner torn down by its own worker).
  void join();
  bool running() const { return m_thread.joinable(); }
  const std::string& name() const { return m_name; }
  // What the body threw, if it did ("" otherwise). Read after join().
  std::string failure() const;

 private:
  struct Shared {
    std::mutex mutex;
    std::string failure;
  };
  std::string m_name;
  std::shared_ptr<Shared> m_shared;
  std::thread m_thread;
};

// For threads with a deadline every few milliseconds (voice): asks the kernel to run the
// calling thread before ordinary work (SCHED_FIFO at a low real-time priority, as audio
// servers do), else at a better nice level. Either needs the privilege (root, CAP_SYS_NICE or
// an RLIMIT_RTPRIO); without it nothing changes. True if the thread got real-time priority.
bool raiseThreadToAudioPriority();
// For a thread that should run promptly but reads input anyone can send (the host's voice
// relay): a better nice level only, never real-time, so a flood of datagrams can at worst use
// its share of a core and never starve the rest of the host. True if the kernel allowed it.
bool raiseThreadNiceness();

}  // namespace huddle::base
