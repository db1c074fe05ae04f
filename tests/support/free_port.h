// Free TCP ports for tests and the benchmark. freeLoopbackPort(): any port nobody holds now,
// to start a server on. portOutsideEphemeralRange(): for a test that stops a host and starts
// it again on the same port. A port the host took with bind(0) comes from the kernel's
// ephemeral range, where, between the two hosts, another test's outgoing connection or
// bind(0) running beside it may take it; this one is below that range (which only explicit
// binds use) and free when picked.
#pragma once
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>

namespace huddle::test {

// Binds a TCP socket to `port` (0: one the kernel picks) on `address`, then lets it go: the
// port bound, or 0 if it could not be.
inline std::uint16_t bindAndRelease(std::uint32_t address, std::uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(address);
  a.sin_port = htons(port);
  socklen_t len = sizeof a;
  std::uint16_t bound = 0;
  if (bind(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    bound = ntohs(a.sin_port);
  close(fd);
  return bound;
}

// A loopback port nobody holds now (0 if none could be had).
inline std::uint16_t freeLoopbackPort() { return bindAndRelease(INADDR_LOOPBACK, 0); }

// 0 if no free port was found (the caller's host then fails to start, and says why).
inline std::uint16_t portOutsideEphemeralRange() {
  int low = 32768, high = 60999;
  if (std::FILE* f = std::fopen("/proc/sys/net/ipv4/ip_local_port_range", "r")) {
    if (std::fscanf(f, "%d %d", &low, &high) != 2) low = 32768;
    std::fclose(f);
  }
  const int first = 10000, span = low - first;
  if (span < 100) return 0;
  // Spread by process and time, so tests started together try different ports.
  const auto seed = static_cast<std::uint64_t>(getpid()) * 7919u +
                    static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  for (int i = 0; i < 200; ++i) {
    const auto port = static_cast<std::uint16_t>(first + static_cast<int>((seed + std::uint64_t(i) * 104729u) % std::uint64_t(span)));
    if (bindAndRelease(INADDR_ANY, port) == port) return port;  // the host listens on every address
  }
  return 0;
}

}  // namespace huddle::test
