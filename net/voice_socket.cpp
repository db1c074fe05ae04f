#include "net/voice_socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "net/wire/limits.h"

namespace huddle::net {

std::string VoiceEndpoint::text() const {
  if (stream) return "the chat connection of participant " + std::to_string(stream);
  return std::to_string(ipv4 >> 24) + "." + std::to_string((ipv4 >> 16) & 255) + "." + std::to_string((ipv4 >> 8) & 255) +
         "." + std::to_string(ipv4 & 255) + ":" + std::to_string(port);
}

VoiceSocket::~VoiceSocket() { close(); }

bool VoiceSocket::open(std::uint16_t port, std::string& error, bool loopbackOnly) {
  close();
  m_fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (m_fd < 0) return error = std::string("socket: ") + std::strerror(errno), false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(loopbackOnly ? INADDR_LOOPBACK : INADDR_ANY);
  if (::bind(m_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    error = "UDP port " + std::to_string(port) + ": " + std::strerror(errno);
    close();
    return false;
  }
  socklen_t len = sizeof addr;
  ::getsockname(m_fd, reinterpret_cast<sockaddr*>(&addr), &len);
  m_port = ntohs(addr.sin_port);
  return true;
}

void VoiceSocket::close() {
  if (m_fd >= 0) ::close(m_fd);
  m_fd = -1;
  m_port = 0;
}

void VoiceSocket::interrupt() {
  // Linux wakes pollers of an unconnected UDP socket too (the call reports ENOTCONN).
  if (m_fd >= 0) ::shutdown(m_fd, SHUT_RD);
}

bool VoiceSocket::wait(int timeoutMs) const {
  if (m_fd < 0) return false;
  pollfd p{m_fd, POLLIN, 0};
  return ::poll(&p, 1, timeoutMs) > 0 && (p.revents & POLLIN);
}

std::size_t VoiceSocket::receive(base::ByteVec& buffer, VoiceEndpoint& from, bool& oversize) {
  oversize = false;
  if (m_fd < 0) return 0;
  // One byte more than a datagram may be, to tell "exactly the cap" from "over it".
  buffer.resize(wire::kMaxVoiceDatagramBytes + 1);
  sockaddr_in addr{};
  socklen_t len = sizeof addr;
  const ssize_t got =
      ::recvfrom(m_fd, buffer.data(), buffer.size(), MSG_TRUNC, reinterpret_cast<sockaddr*>(&addr), &len);
  if (got <= 0) {
    buffer.clear();
    return 0;  // nothing to read (EAGAIN), an ICMP error from an earlier send, or empty
  }
  from.ipv4 = ntohl(addr.sin_addr.s_addr);
  from.port = ntohs(addr.sin_port);
  if (static_cast<std::size_t>(got) > wire::kMaxVoiceDatagramBytes) {
    oversize = true;
    buffer.resize(wire::kMaxVoiceDatagramBytes);
    return static_cast<std::size_t>(got);
  }
  buffer.resize(static_cast<std::size_t>(got));
  return buffer.size();
}

bool VoiceSocket::send(std::span<const std::uint8_t> datagram, const VoiceEndpoint& to) {
  if (m_fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(to.port);
  addr.sin_addr.s_addr = htonl(to.ipv4);
  return ::sendto(m_fd, datagram.data(), datagram.size(), MSG_DONTWAIT | MSG_NOSIGNAL,
                  reinterpret_cast<sockaddr*>(&addr), sizeof addr) == static_cast<ssize_t>(datagram.size());
}

bool resolveVoiceHost(const std::string& host, std::uint16_t port, VoiceEndpoint& out, std::string& error) {
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* res = nullptr;
  if (int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &res); rc != 0 || !res)
    return error = "cannot resolve " + host + ": " + ::gai_strerror(rc), false;
  const auto* sin = reinterpret_cast<const sockaddr_in*>(res->ai_addr);
  out.ipv4 = ntohl(sin->sin_addr.s_addr);
  out.port = port;
  ::freeaddrinfo(res);
  return true;
}

}  // namespace huddle::net
