// An eventfd that other threads ring to end a wait in poll() or epoll at once. Rings before
// the waiter looks add up to one wake; the waiter takes it with take().
// Thread: ring() from any thread; take() from the waiter; fd() for its poll set.
#pragma once

namespace huddle::base {

class WakeFd {
 public:
  WakeFd();  // fd() is -1 if the kernel gave none (openError() says why): waits then run to their timeout
  ~WakeFd();
  WakeFd(const WakeFd&) = delete;
  WakeFd& operator=(const WakeFd&) = delete;

  int fd() const { return m_fd; }
  int openError() const { return m_openError; }  // errno of the eventfd() that failed, else 0
  void ring() const;
  // Clears the rings so far; true if there were any.
  bool take() const;

 private:
  const int m_fd;
  const int m_openError;
};

}  // namespace huddle::base
