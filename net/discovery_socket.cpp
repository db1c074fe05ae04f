#include "net/discovery_socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <random>

#include "net/base/clock.h"
#include "net/base/log.h"

namespace huddle::net {

namespace {

constexpr const char* kTag = "net/discovery";

std::uint32_t groupAddress() {
  in_addr a{};
  ::inet_pton(AF_INET, kDiscoveryGroup, &a);
  return ntohl(a.s_addr);
}

sockaddr_in endpoint(std::uint32_t address, std::uint16_t port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(address);
  sa.sin_port = htons(port);
  return sa;
}

std::uint64_t wallMs() { return static_cast<std::uint64_t>(base::wallUs() / 1000); }

std::string machineName() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "";
  std::string name(buf);
  // Cut to the limit on a character boundary; a name that still fails the checks is left out.
  if (name.size() > wire::kMaxAnnounceHostNameBytes) {
    name.resize(wire::kMaxAnnounceHostNameBytes);
    while (!name.empty() && (static_cast<unsigned char>(name.back()) & 0xC0) == 0x80) name.pop_back();
    if (!name.empty() && static_cast<unsigned char>(name.back()) >= 0xC0) name.pop_back();
  }
  return name;
}

}  // namespace

bool announcingAllowedByEnvironment() {
  const char* v = std::getenv("HUDDLE_NO_ANNOUNCE");
  return !v || !*v || std::strcmp(v, "0") == 0;
}

std::string ipv4Text(std::uint32_t address) {
  in_addr a{};
  a.s_addr = htonl(address);
  char buf[INET_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET, &a, buf, sizeof buf);
  return buf;
}

std::vector<DiscoveryInterface> discoveryInterfaces() {
  std::vector<DiscoveryInterface> lan, loop;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return {};
  for (ifaddrs* i = list; i; i = i->ifa_next) {
    if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || !(i->ifa_flags & IFF_UP)) continue;
    DiscoveryInterface d;
    d.address = ntohl(reinterpret_cast<const sockaddr_in*>(i->ifa_addr)->sin_addr.s_addr);
    d.loopback = (i->ifa_flags & IFF_LOOPBACK) != 0;
    if (!d.loopback && !(i->ifa_flags & IFF_MULTICAST) && !(i->ifa_flags & IFF_BROADCAST)) continue;
    if ((i->ifa_flags & IFF_BROADCAST) && i->ifa_broadaddr && i->ifa_broadaddr->sa_family == AF_INET)
      d.broadcast = ntohl(reinterpret_cast<const sockaddr_in*>(i->ifa_broadaddr)->sin_addr.s_addr);
    auto& into = d.loopback ? loop : lan;
    if (std::none_of(into.begin(), into.end(), [&](const DiscoveryInterface& o) { return o.address == d.address; }))
      into.push_back(d);
  }
  ::freeifaddrs(list);
  lan.insert(lan.end(), loop.begin(), loop.end());
  if (lan.size() > wire::kMaxAnnouncedAddresses) lan.resize(wire::kMaxAnnouncedAddresses);
  return lan;
}

// [SECTION] DiscoveryAnnouncer

bool DiscoveryAnnouncer::start(const AnnouncerConfig& config, std::string& error) {
  stop();
  if (!announcingAllowedByEnvironment()) return error = "HUDDLE_NO_ANNOUNCE is set", false;
  if (!config.identity) return error = "no host key", false;
  m_config = config;
  if (m_config.hostName.empty()) m_config.hostName = machineName();
  // Check the limits once here, so the worker never meets a config it cannot send.
  Announcement probe;
  probe.sessionName = m_config.sessionName;
  probe.hostName = m_config.hostName;
  probe.chatPort = m_config.chatPort;
  probe.screenPort = m_config.screenPort;
  probe.addresses = {0x7F000001};
  if (encodeAnnouncement(probe, *m_config.identity, error).empty()) {
    // A machine name the checks refuse is left out rather than stopping the announcement.
    probe.hostName.clear();
    if (encodeAnnouncement(probe, *m_config.identity, error).empty()) return false;
    m_config.hostName.clear();
  }
  m_fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (m_fd < 0) return error = std::string("cannot make a UDP socket: ") + std::strerror(errno), false;
  const int on = 1;
  const unsigned char loop = 1, ttl = 1;  // heard on this machine too; never routed off the link
  ::setsockopt(m_fd, SOL_SOCKET, SO_BROADCAST, &on, sizeof on);
  ::setsockopt(m_fd, IPPROTO_IP, IP_MULTICAST_LOOP, &loop, sizeof loop);
  ::setsockopt(m_fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof ttl);
  std::random_device rd;
  m_runId = (std::uint64_t(rd()) << 32) | rd();
  m_sequence = 0;
  m_passwordNeeded = config.passwordNeeded;
  m_stop = false;
  m_worker = base::Worker("announce", [this] { run(); });
  return true;
}

void DiscoveryAnnouncer::stop() {
  if (!m_worker.running()) {
    if (m_fd >= 0) ::close(m_fd);
    m_fd = -1;
    return;
  }
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_stop = true;
  }
  m_cv.notify_all();
  m_worker.join();
  if (m_fd >= 0) ::close(m_fd);
  m_fd = -1;
}

void DiscoveryAnnouncer::run() {
  const auto interval = std::chrono::microseconds(m_config.intervalUs);
  std::unique_lock<std::mutex> lock(m_mutex);
  while (!m_stop) {
    lock.unlock();
    sendOnce(false);
    lock.lock();
    m_cv.wait_for(lock, interval, [this] { return m_stop; });
  }
  lock.unlock();
  sendOnce(true);  // the goodbye: listeners take the session off their list at once
}

void DiscoveryAnnouncer::sendOnce(bool leaving) {
  const std::vector<DiscoveryInterface> interfaces = discoveryInterfaces();
  if (interfaces.empty()) return;
  Announcement a;
  a.sessionName = m_config.sessionName;
  a.hostName = m_config.hostName;
  a.chatPort = m_config.chatPort;
  a.screenPort = m_config.screenPort;
  a.passwordNeeded = m_passwordNeeded;
  a.leaving = leaving;
  for (const auto& i : interfaces) a.addresses.push_back(i.address);
  a.sentAtMs = wallMs();
  a.runId = m_runId;
  a.sequence = ++m_sequence;
  std::string error;
  const std::vector<std::uint8_t> datagram = encodeAnnouncement(a, *m_config.identity, error);
  if (datagram.empty()) {
    HLOG_WARN(kTag, "cannot announce: %s", error.c_str());
    return;
  }
  const sockaddr_in group = endpoint(groupAddress(), m_config.port);
  for (const auto& i : interfaces) {
    // Out of this interface, so the source address is one the announcement names.
    in_addr via{};
    via.s_addr = htonl(i.address);
    if (::setsockopt(m_fd, IPPROTO_IP, IP_MULTICAST_IF, &via, sizeof via) == 0 &&
        ::sendto(m_fd, datagram.data(), datagram.size(), 0, reinterpret_cast<const sockaddr*>(&group), sizeof group) > 0)
      ++m_sent;
    else
      HLOG_DEBUG(kTag, "multicast via %s: %s", ipv4Text(i.address).c_str(), std::strerror(errno));
    if (i.broadcast != 0) {
      const sockaddr_in bcast = endpoint(i.broadcast, m_config.port);
      if (::sendto(m_fd, datagram.data(), datagram.size(), 0, reinterpret_cast<const sockaddr*>(&bcast), sizeof bcast) > 0)
        ++m_sent;
    }
  }
}

// [SECTION] DiscoveryListener

bool DiscoveryListener::start(std::string& error, std::uint16_t port) {
  stop();
  m_fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (m_fd < 0) return error = std::string("cannot make a UDP socket: ") + std::strerror(errno), false;
  const int on = 1;
  ::setsockopt(m_fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  ::setsockopt(m_fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on);
  const sockaddr_in any = endpoint(INADDR_ANY, port);
  if (::bind(m_fd, reinterpret_cast<const sockaddr*>(&any), sizeof any) != 0) {
    error = "cannot listen on UDP port " + std::to_string(port) + ": " + std::strerror(errno);
    ::close(m_fd);
    m_fd = -1;
    return false;
  }
  joinGroups();
  m_stop = false;
  m_worker = base::Worker("discover", [this] { run(); });
  return true;
}

void DiscoveryListener::stop() {
  m_stop = true;
  m_worker.join();
  if (m_fd >= 0) ::close(m_fd);
  m_fd = -1;
}

void DiscoveryListener::joinGroups() {
  // Once per interface; joining again (EADDRINUSE) is harmless, so new interfaces are
  // picked up by calling this now and then.
  for (const auto& i : discoveryInterfaces()) {
    ip_mreq m{};
    m.imr_multiaddr.s_addr = htonl(groupAddress());
    m.imr_interface.s_addr = htonl(i.address);
    ::setsockopt(m_fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof m);
  }
}

void DiscoveryListener::run() {
  std::vector<std::uint8_t> buf(wire::kMaxAnnouncementBytes + 1);
  std::int64_t lastJoinUs = base::monoUs();
  while (!m_stop) {
    pollfd p{m_fd, POLLIN, 0};
    const int n = ::poll(&p, 1, 100);
    const std::int64_t now = base::monoUs();
    if (now - lastJoinUs > 5'000'000) {
      joinGroups();
      lastJoinUs = now;
    }
    {
      std::lock_guard<std::mutex> lock(m_mutex);
      m_table.expire(now);
    }
    if (n <= 0) continue;
    // Drain what is queued, a bounded number at a time so stop() is seen.
    for (int k = 0; k < 64 && !m_stop; ++k) {
      sockaddr_in from{};
      socklen_t fromLen = sizeof from;
      const ssize_t got =
          ::recvfrom(m_fd, buf.data(), buf.size(), MSG_TRUNC, reinterpret_cast<sockaddr*>(&from), &fromLen);
      if (got < 0) break;
      const std::uint32_t source = ntohl(from.sin_addr.s_addr);
      std::lock_guard<std::mutex> lock(m_mutex);
      if (static_cast<std::size_t>(got) > wire::kMaxAnnouncementBytes || !m_gate.admit(source, now, m_table.lists(source))) {
        ++m_refused;
        continue;
      }
      std::string why;
      const auto verdict = m_table.offer(std::span<const std::uint8_t>(buf.data(), static_cast<std::size_t>(got)),
                                         source, now, wallMs(), why);
      if (verdict == AnnouncementTable::Verdict::Refused) {
        ++m_refused;
        HLOG_DEBUG(kTag, "refused an announcement from %s: %s", ipv4Text(source).c_str(), why.c_str());
      }
    }
  }
}

std::vector<NearbySession> DiscoveryListener::sessions() {
  std::lock_guard<std::mutex> lock(m_mutex);
  m_table.expire(base::monoUs());
  return m_table.sessions();
}

}  // namespace huddle::net
