// The network-namespace tests' common step: this test process moves into a network namespace
// of its own (as root: unshare(CLONE_NEWNET)) with only lo, brought up, so nothing it sends
// reaches the machine's own network.
#pragma once
#include <gtest/gtest.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace huddle::test {

// Brings lo up in this namespace; false with the reason.
inline bool loopbackUp(std::string& why) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return why = std::strerror(errno), false;
  ifreq req{};
  std::strncpy(req.ifr_name, "lo", IFNAMSIZ - 1);
  bool ok = ::ioctl(fd, SIOCGIFFLAGS, &req) == 0;
  req.ifr_flags = static_cast<short>(req.ifr_flags | IFF_UP);
  ok = ok && ::ioctl(fd, SIOCSIFFLAGS, &req) == 0;
  if (!ok) why = std::strerror(errno);
  ::close(fd);
  return ok;
}

// True when every interface this process sees is a loopback one: the namespace is ours.
inline bool onlyLoopback() {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return false;
  bool only = true;
  for (ifaddrs* i = list; i; i = i->ifa_next) only = only && (i->ifa_flags & IFF_LOOPBACK);
  ::freeifaddrs(list);
  return only;
}

}  // namespace huddle::test

// This process in its own network namespace with only lo, up; GTEST_SKIP()s where it cannot.
#define ENTER_OWN_NETWORK_NAMESPACE()                                                                        \
  do {                                                                                                       \
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to make its own network namespace (unshare CLONE_NEWNET)"; \
    if (::unshare(CLONE_NEWNET) != 0) GTEST_SKIP() << "cannot make a network namespace here: " << std::strerror(errno); \
    std::string upError;                                                                                     \
    ASSERT_TRUE(huddle::test::loopbackUp(upError)) << upError;                                                             \
    ASSERT_TRUE(huddle::test::onlyLoopback()) << "the new namespace shows other interfaces";                               \
  } while (0)

