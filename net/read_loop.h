// One thread that reads many sockets: an epoll set of their descriptors; when one has bytes
// (or its end), its Reader is called on this thread. For many connections that each send a
// little, often (a screen's viewers return a credit a frame): one wake serves every socket
// ready at that moment, where a thread per connection took a wake and a select() per message
// (with 16 viewers, about a quarter of the host's CPU went to those wakes).
// Thread: start()/stop() from the owner; add()/remove() from any thread; a Reader is only
// ever called on the loop's thread, one at a time.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "net/base/wake_fd.h"
#include "net/base/worker.h"

namespace huddle::net {

class ReadLoop {
 public:
  struct Reader {
    virtual ~Reader() = default;
    // The descriptor is readable (bytes, their end, or an error). Returns whether to go on
    // watching it; false removes it (the loop calls it no more). Must not block: the loop's
    // other readers wait meanwhile. A throw is logged and removes it too, after
    // onDropped(what).
    virtual bool onReadable() = 0;
    // The loop will call this reader no more although it did not return false: stop() with it
    // still in, or its onReadable() threw (`why` says which).
    virtual void onDropped(const std::string& why) = 0;
  };

  ReadLoop() = default;
  ~ReadLoop() { stop(); }
  ReadLoop(const ReadLoop&) = delete;
  ReadLoop& operator=(const ReadLoop&) = delete;

  // Starts the thread ("<name>-read"); true at once if it runs.
  bool start(const std::string& name, std::string& error);
  // Ends the thread; readers still in get onDropped() (from the calling thread), one at a
  // time, each as a call remove() waits for.
  void stop();
  // Whether add() may take readers: false before start(), after stop(), and after the loop
  // failed (then start() again sets it up afresh).
  bool running() const { return m_alive.load(); }

  // Watches `fd` (level-triggered) for `reader`; false if the loop is not running or the
  // kernel refused (then nothing is watched).
  bool add(int fd, Reader* reader);
  // Stops watching `reader`'s descriptor: once this returns, the reader is not being called
  // and will not be. From within its own onReadable() or onDropped() it returns at once. A
  // reader the loop already let go (returned false, dropped) is no error.
  void remove(Reader* reader);

 private:
  void run();
  // Lets every reader still in go, one at a time, telling each why.
  void dropAll(const std::string& why);
  // Marks `reader` as being called on this thread, or (null) the call as over. m_mutex held.
  void setCalling(Reader* reader);

  struct Entry {
    Reader* reader;
    int fd;
  };
  int m_epoll = -1;
  std::unique_ptr<base::WakeFd> m_wake;  // stop() ends the wait with it; made by start()
  base::Worker m_thread;
  // Started, and neither stopped nor failed: add() takes readers, the thread goes on. Written
  // under m_mutex; atomic for running().
  std::atomic<bool> m_alive{false};
  mutable std::mutex m_mutex;  // guards the entries and the call under way
  std::condition_variable m_callDone;
  std::map<std::uint64_t, Entry> m_entries;  // by token: epoll's data, never reused
  std::uint64_t m_nextToken = 1;             // 0 is the wake descriptor
  Reader* m_calling = nullptr;               // the reader being called now (onReadable, onDropped)
  std::thread::id m_callingThread;           // and the thread calling it
};

}  // namespace huddle::net
