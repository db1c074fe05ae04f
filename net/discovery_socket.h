// Sessions on this network, on the wire: a host's DiscoveryAnnouncer sends its signed
// announcement (net/discovery.h) every wire::kAnnounceIntervalUs to the IPv4 multicast group
// kDiscoveryGroup and to each interface's broadcast address, on UDP wire::kDiscoveryPort, and
// a goodbye when it stops; a DiscoveryListener joins the group on every interface and feeds
// what it hears to an AnnouncementTable. Several listeners and hosts share the port on one
// machine (SO_REUSEADDR and SO_REUSEPORT; multicast and broadcast reach every one of them).
// Over loopback (a machine or network namespace with no other interface) the group is
// joined and sent to on lo. See docs/ARCHITECTURE.md for why multicast and not DNS-SD.
//
// Nothing is sent while HUDDLE_NO_ANNOUNCE is set (to anything but "" or "0"): the tests
// set it for every host they start, except the one that makes its own network namespace.
// Thread: each object is used from its owner's thread; each runs one owned worker.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "net/base/worker.h"
#include "net/discovery.h"
#include "net/tls_engine.h"
#include "net/wire/limits.h"

namespace huddle::net {

// 239.255.0.0/16 is the organisation-local scope: routers do not forward it off the site.
inline constexpr const char* kDiscoveryGroup = "239.255.72.68";

// False when HUDDLE_NO_ANNOUNCE is set (and not "" or "0").
bool announcingAllowedByEnvironment();

// Up IPv4 interfaces that can carry an announcement (multicast-capable or loopback).
struct DiscoveryInterface {
  std::uint32_t address = 0;    // host byte order
  std::uint32_t broadcast = 0;  // 0: none
  bool loopback = false;
};
std::vector<DiscoveryInterface> discoveryInterfaces();
std::string ipv4Text(std::uint32_t address);

struct AnnouncerConfig {
  std::string sessionName;
  std::string hostName;  // empty: this machine's name
  std::uint16_t chatPort = 0, screenPort = 0;
  bool passwordNeeded = false;
  std::shared_ptr<const HostIdentity> identity;
  std::uint16_t port = wire::kDiscoveryPort;
  std::int64_t intervalUs = wire::kAnnounceIntervalUs;
};

class DiscoveryAnnouncer {
 public:
  DiscoveryAnnouncer() = default;
  ~DiscoveryAnnouncer() { stop(); }
  DiscoveryAnnouncer(const DiscoveryAnnouncer&) = delete;
  DiscoveryAnnouncer& operator=(const DiscoveryAnnouncer&) = delete;

  // Opens the socket and starts the "announce" worker (the first announcement goes at once).
  // False with `error` if the config breaks a limit, the socket cannot be made, or
  // HUDDLE_NO_ANNOUNCE forbids it.
  bool start(const AnnouncerConfig& config, std::string& error);
  // Said from the next announcement on.
  void setPasswordNeeded(bool needed) { m_passwordNeeded = needed; }
  // Sends the goodbye and joins the worker; idempotent.
  void stop();
  bool running() const { return m_worker.running(); }
  std::uint64_t sent() const { return m_sent; }

 private:
  void run();
  void sendOnce(bool leaving);

  AnnouncerConfig m_config;
  int m_fd = -1;
  std::uint64_t m_runId = 0, m_sequence = 0;  // (worker)
  std::atomic<bool> m_passwordNeeded{false};
  std::atomic<std::uint64_t> m_sent{0};
  std::mutex m_mutex;
  std::condition_variable m_cv;
  bool m_stop = false;
  base::Worker m_worker;
};

class DiscoveryListener {
 public:
  DiscoveryListener() = default;
  ~DiscoveryListener() { stop(); }
  DiscoveryListener(const DiscoveryListener&) = delete;
  DiscoveryListener& operator=(const DiscoveryListener&) = delete;

  // Binds the port, joins the group and starts the "discover" worker. Receiving sends nothing,
  // so a listener needs no permission; false with `error` if the port cannot be bound.
  bool start(std::string& error, std::uint16_t port = wire::kDiscoveryPort);
  void stop();
  bool running() const { return m_worker.running(); }
  // The sessions heard, newest first (expired ones dropped).
  std::vector<NearbySession> sessions();
  // Datagrams refused so far (forged, replayed, malformed, too many from one place).
  std::uint64_t refused() const { return m_refused; }

 private:
  void run();
  void joinGroups();

  int m_fd = -1;
  std::atomic<bool> m_stop{false};
  std::mutex m_mutex;
  AnnouncementTable m_table;  // under m_mutex
  DatagramGate m_gate;        // (worker)
  std::atomic<std::uint64_t> m_refused{0};
  base::Worker m_worker;
};

}  // namespace huddle::net
