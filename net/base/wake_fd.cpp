#include "net/base/wake_fd.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

namespace huddle::base {

WakeFd::WakeFd() : m_fd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)), m_openError(m_fd < 0 ? errno : 0) {}

WakeFd::~WakeFd() {
  if (m_fd >= 0) ::close(m_fd);
}

void WakeFd::ring() const {
  const std::uint64_t one = 1;
  // Only a counter at its limit refuses, and that is a ring already waiting.
  if (m_fd >= 0) (void)!::write(m_fd, &one, sizeof one);
}

bool WakeFd::take() const {
  std::uint64_t count = 0;
  return m_fd >= 0 && ::read(m_fd, &count, sizeof count) == static_cast<ssize_t>(sizeof count) && count > 0;
}

}  // namespace huddle::base
