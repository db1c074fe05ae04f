#include "net/read_loop.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "net/base/log.h"

namespace huddle::net {

namespace {
constexpr const char* kTag = "net/readloop";
constexpr int kMaxEvents = 64;  // per wake; more ready descriptors are served on the next
}  // namespace

bool ReadLoop::start(const std::string& name, std::string& error) {
  if (m_alive.load()) return true;
  stop();  // what a failed run left: its thread, its descriptors
  // An eventfd the kernel refused before (out of descriptors) is asked for again.
  if (!m_wake || m_wake->fd() < 0) m_wake = std::make_unique<base::WakeFd>();
  if (m_wake->fd() < 0) {
    error = std::string("cannot set up the read loop's wake: ") + std::strerror(m_wake->openError());
    return false;
  }
  m_epoll = epoll_create1(EPOLL_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = 0;
  if (m_epoll < 0 || epoll_ctl(m_epoll, EPOLL_CTL_ADD, m_wake->fd(), &ev) != 0) {
    error = std::string("cannot set up the read loop: ") + std::strerror(errno);
    stop();
    return false;
  }
  {
    std::lock_guard lock(m_mutex);
    m_alive = true;
  }
  try {
    m_thread = base::Worker(name + "-read", [this] { run(); });
  } catch (const std::system_error& e) {
    error = std::string("cannot start the read loop's thread: ") + e.what();
    stop();
    return false;
  }
  return true;
}

void ReadLoop::stop() {
  {
    std::lock_guard lock(m_mutex);
    m_alive = false;
  }
  if (m_wake) m_wake->ring();
  m_thread.join();
  if (m_wake) m_wake->take();  // a start() after this one begins with no ring waiting
  dropAll("the read loop stopped");
  if (m_epoll >= 0) ::close(m_epoll);
  m_epoll = -1;
}

void ReadLoop::setCalling(Reader* reader) {
  m_calling = reader;
  m_callingThread = reader ? std::this_thread::get_id() : std::thread::id();
}

void ReadLoop::dropAll(const std::string& why) {
  while (true) {
    Reader* reader = nullptr;
    {
      std::lock_guard lock(m_mutex);
      if (m_entries.empty()) return;
      auto it = m_entries.begin();
      reader = it->second.reader;
      if (m_epoll >= 0) epoll_ctl(m_epoll, EPOLL_CTL_DEL, it->second.fd, nullptr);
      m_entries.erase(it);
      setCalling(reader);  // a remove() of it waits until it has been told
    }
    try {
      reader->onDropped(why);
    } catch (...) {
      HLOG_ERROR(kTag, "a reader threw when dropped");
    }
    {
      std::lock_guard lock(m_mutex);
      setCalling(nullptr);
    }
    m_callDone.notify_all();
  }
}

bool ReadLoop::add(int fd, Reader* reader) {
  std::lock_guard lock(m_mutex);
  if (!m_alive.load() || fd < 0) return false;
  const std::uint64_t token = m_nextToken++;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP;
  ev.data.u64 = token;
  if (epoll_ctl(m_epoll, EPOLL_CTL_ADD, fd, &ev) != 0) {
    HLOG_WARN(kTag, "cannot watch descriptor %d: %s", fd, std::strerror(errno));
    return false;
  }
  m_entries.emplace(token, Entry{reader, fd});
  return true;
}

void ReadLoop::remove(Reader* reader) {
  std::unique_lock lock(m_mutex);
  for (auto it = m_entries.begin(); it != m_entries.end(); ++it) {
    if (it->second.reader != reader) continue;
    epoll_ctl(m_epoll, EPOLL_CTL_DEL, it->second.fd, nullptr);
    m_entries.erase(it);  // a wake already fetched for it finds nothing to call
    break;
  }
  // A call under way (the loop's, or a drop's) ends before this returns, unless this is it.
  if (m_callingThread != std::this_thread::get_id()) m_callDone.wait(lock, [&] { return m_calling != reader; });
}

void ReadLoop::run() {
  std::vector<epoll_event> events(kMaxEvents);
  while (true) {
    const int n = epoll_wait(m_epoll, events.data(), kMaxEvents, -1);
    if (n < 0 && errno != EINTR) {
      // Never seen; if it were, no reader would hear from its socket again: let them all go.
      const std::string why = std::string("the read loop failed: ") + std::strerror(errno);
      HLOG_ERROR(kTag, "%s", why.c_str());
      {
        std::lock_guard lock(m_mutex);
        m_alive = false;  // add() refuses from now on (connections keep a reader thread)
      }
      dropAll(why);
      return;
    }
    for (int i = 0; i < n; ++i) {
      const std::uint64_t token = events[static_cast<std::size_t>(i)].data.u64;
      Reader* reader = nullptr;
      {
        std::lock_guard lock(m_mutex);
        if (!m_alive.load()) return;
        auto it = m_entries.find(token);
        if (token == 0 || it == m_entries.end()) continue;
        reader = it->second.reader;
        setCalling(reader);
      }
      bool keep = false;
      std::string threw;
      try {
        keep = reader->onReadable();
      } catch (const std::exception& e) {
        threw = e.what();
      } catch (...) {
        threw = "an exception that is not a std::exception";
      }
      if (!threw.empty()) {
        HLOG_ERROR(kTag, "a reader threw: %s", threw.c_str());
        try {
          reader->onDropped("reader: " + threw);
        } catch (...) {
        }
      }
      {
        std::lock_guard lock(m_mutex);
        if (!keep) {
          auto it = m_entries.find(token);
          if (it != m_entries.end()) {
            epoll_ctl(m_epoll, EPOLL_CTL_DEL, it->second.fd, nullptr);
            m_entries.erase(it);
          }
        }
        setCalling(nullptr);
      }
      m_callDone.notify_all();
    }
    std::lock_guard lock(m_mutex);
    if (!m_alive.load()) return;
  }
}

}  // namespace huddle::net
