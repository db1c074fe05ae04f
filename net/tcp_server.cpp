#include "net/tcp_server.h"

#include <algorithm>
#include <chrono>
#include <limits>
#include <thread>

#include "net/base/clock.h"
#include "net/base/log.h"
#include "net/base/log_throttle.h"

namespace huddle::net {

namespace {
constexpr const char* kTag = "net/server";
// The accept thread's wait for a newcomer: stop() ends it at once (TcpListener::interrupt),
// so it need not wake to look at its flag, except where the descriptor is unknown.
constexpr int kAcceptWaitMs = 60'000;
constexpr int kAcceptWaitUninterruptibleMs = 100;
constexpr std::int64_t kMinTickGapUs = 10'000;
}

// One accepted connection: the Connection plus the glue that makes it a PeerLink for the
// hub and routes its bytes to the hub.
struct TcpServer::Peer : PeerLink, Connection::Handler {
  Peer(ServerHub& hub, std::unique_ptr<TcpSocket> socket, const Connection::Options& options)
      : m_hub(hub), m_conn(std::move(socket), options) {}

  bool send(base::Bytes frame) override { return m_conn.send(std::move(frame)); }
  bool sendTracked(base::Bytes frame) override { return m_conn.send(std::move(frame), true); }
  bool sendUrgent(base::Bytes frame, std::uint64_t replaceKey) override {
    return m_conn.sendUrgent(std::move(frame), replaceKey);
  }
  bool sendTrackedAfter(base::Bytes first, std::uint64_t replaceKey, base::Bytes frame) override {
    return m_conn.sendAfterUrgent(std::move(first), replaceKey, std::move(frame), true);
  }
  void close(wire::Reason reason, const std::string& detail) override { m_conn.close(reason, detail); }
  void closeAfterFlush(wire::Reason reason, const std::string& detail) override {
    m_conn.closeAfterFlush(reason, detail);
  }
  void sendFinal(base::Bytes frame, wire::Reason reason, const std::string& detail) override {
    m_conn.sendFinal(std::move(frame), reason, detail);
  }
  std::string address() const override { return m_conn.peerAddress(); }
  std::uint32_t ipv4() const override { return m_conn.peerIpv4(); }
  bool exporter(const std::string& label, std::span<std::uint8_t> out) const override {
    return m_conn.exportKeyingMaterial(label, out);
  }

  void onReceive(std::span<const std::uint8_t> bytes) override { m_hub.receive(m_id, bytes, base::monoUs()); }
  void onClosed(wire::Reason reason, const std::string& detail) override {
    m_hub.detach(m_id, reason, detail);
    m_hub.tickAlarm().wakeBy(base::monoUs() + kServerTickUs);  // to be reaped once finished
  }
  void onDrained(std::size_t tracked) override {
    if (tracked > 0) m_hub.drained(m_id, tracked);
  }

  ServerHub& m_hub;
  Connection m_conn;
  PeerId m_id = 0;
};

TcpServer::TcpServer(ServerHub& hub, Options options) : m_hub(hub), m_options(std::move(options)) {}

TcpServer::~TcpServer() { stop(0); }

bool TcpServer::start(std::uint16_t port, std::string& error) {
  if (!m_listener.open(port, m_options.backlog, error)) return false;
  if (m_options.sharedReads) {
    if (!m_readLoop.start(m_options.name, error)) {
      m_listener.close();
      return false;
    }
    m_options.connection.readLoop = &m_readLoop;
  }
  try {
    m_accept = base::Worker(m_options.name + "-accept", [this] { acceptLoop(); }, [this](const std::string& what) {
      m_listener.close();  // newcomers are refused at once instead of waiting in the backlog
      failed("accept: " + what);
    });
    m_watchdog = base::Worker(m_options.name + "-watch", [this] { watchdogLoop(); }, [this](const std::string& what) {
      // Without the watchdog no deadline holds: take no one new (those in are closed by stop()).
      m_stopAccept = true;
      m_listener.interrupt();
      failed("watchdog: " + what);
    });
  } catch (const std::system_error& e) {
    error = std::string("cannot start the server's threads: ") + e.what();
    m_stopAccept = true;
    m_listener.interrupt();
    m_accept.join();
    m_listener.close();
    m_readLoop.stop();
    return false;
  }
  HLOG_INFO(kTag, "%s: listening on port %u", m_options.name.c_str(), m_listener.port());
  return true;
}

// On the failing thread, after its loop has unwound.
void TcpServer::failed(const std::string& what) {
  HLOG_ERROR(kTag, "%s: takes no new connections after a throw (%s)", m_options.name.c_str(), what.c_str());
  {
    std::lock_guard lock(m_mutex);
    if (m_failure.empty()) m_failure = what;
  }
  if (m_options.onFailure) m_options.onFailure(what);
}

std::string TcpServer::failure() const {
  std::lock_guard lock(m_mutex);
  return m_failure;
}

void TcpServer::acceptLoop() {
  while (!m_stopAccept.load()) {
    std::unique_ptr<TcpSocket> socket =
        m_listener.accept(m_listener.interruptible() ? kAcceptWaitMs : kAcceptWaitUninterruptibleMs);
    if (!socket) continue;
    if (connectionCount() >= m_options.maxConnections) {
      std::string note;
      if (m_logThrottle.allow(base::LogThrottle::key(socket->peerIpv4(), base::LogThrottle::Drop, unsigned(wire::Reason::Busy)),
                              note))
        HLOG_WARN(kTag, "%s: drop peer=%s reason=%s detail=\"%zu connections\"%s", m_options.name.c_str(),
                  socket->peerAddress().c_str(), wire::reasonName(wire::Reason::Busy), connectionCount(), note.c_str());
      continue;  // the socket closes as it goes out of scope
    }
    auto peer = std::make_shared<Peer>(m_hub, std::move(socket), m_options.connection);
    if (m_options.identity) {
      std::string error;
      auto tls = TlsEngine::server(*m_options.identity, error);
      if (!tls) {
        HLOG_WARN(kTag, "%s: drop peer=%s reason=E_TLS detail=\"%s\"", m_options.name.c_str(),
                  peer->address().c_str(), error.c_str());
        continue;
      }
      peer->m_conn.setTls(std::move(tls));
    }
    peer->m_id = m_hub.attach(peer, base::monoUs());
    if (!peer->m_conn.start(peer.get())) {
      HLOG_WARN(kTag, "%s: cannot start connection threads", m_options.name.c_str());
      m_hub.detach(peer->m_id, wire::Reason::Resource, "cannot start connection threads");
    }
    // Listed for the watchdog only once started: a connection that ends at once (its reader
    // thread done before start() returned) would otherwise be joined while start() still
    // assigns its threads.
    {
      std::lock_guard lock(m_mutex);
      m_peers.push_back(peer);
    }
    m_hub.tickAlarm().wakeBy(base::monoUs() + kServerTickUs);  // its handshake is timed
  }
  m_listener.close();  // stopped (by stop() or a failed watchdog): refuse, do not queue
}

// Ticks every kServerTickUs while anything is under way; while all is quiet, sleeps to the
// hub's next ping or deadline (at most kServerIdleTickUs): a host with viewers of a still
// screen woke 10 times a second per port for nothing. A new connection, a connection's end,
// and the hub's own work on other threads (wakeBy) wake it sooner.
void TcpServer::watchdogLoop() {
  std::int64_t due = base::monoUs() + kServerTickUs;
  while (!m_stopWatchdog.load()) {
    m_hub.tickAlarm().sleepUntil(due);
    if (m_stopWatchdog.load()) break;
    const std::int64_t now = base::monoUs();
    due = m_hub.tick(now);
    std::vector<std::shared_ptr<Peer>> peers;
    {
      std::lock_guard lock(m_mutex);
      peers = m_peers;
    }
    for (auto& p : peers)
      if (p->m_conn.checkDeadlines(now)) due = std::min(due, now + kServerTickUs);
    reap(false);
    // A due just past must not spin; a quiet hub is looked at within the idle pace all the same.
    due = std::clamp(due, now + kMinTickGapUs, now + kServerIdleTickUs);
  }
}

// Joins and forgets finished connections (outside the lock: joining may take a moment).
void TcpServer::reap(bool all) {
  std::vector<std::shared_ptr<Peer>> done;
  {
    std::lock_guard lock(m_mutex);
    for (auto it = m_peers.begin(); it != m_peers.end();) {
      if (all || (*it)->m_conn.finished()) {
        done.push_back(std::move(*it));
        it = m_peers.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& p : done) p->m_conn.join();
}

std::size_t TcpServer::connectionCount() const {
  std::lock_guard lock(m_mutex);
  return m_peers.size();
}

void TcpServer::stop(int graceMs) {
  m_stopAccept = true;
  m_listener.interrupt();
  m_accept.join();
  m_listener.close();
  // Let connections flush their goodbyes while the watchdog keeps enforcing deadlines.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(graceMs);
  while (connectionCount() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  m_stopWatchdog = true;
  m_hub.tickAlarm().wakeBy(std::numeric_limits<std::int64_t>::min());
  m_watchdog.join();
  {
    std::lock_guard lock(m_mutex);
    for (auto& p : m_peers) p->m_conn.close(wire::Reason::Shutdown, "server stopped");
  }
  reap(true);
  m_readLoop.stop();  // after the last connection: each needs it until its end is read
}

}  // namespace huddle::net
