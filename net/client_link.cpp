#include "net/client_link.h"

#include <algorithm>
#include <chrono>
#include <limits>
#include <thread>

#include "net/base/clock.h"
#include "net/base/log.h"

namespace huddle::net {

namespace {
constexpr const char* kTag = "net/client";
// Pings come fast at first, so the clock offset is good within a second of joining.
constexpr int kQuickPings = 8;
constexpr std::int64_t kQuickPingIntervalUs = 150'000;
// How often run() looks at its deadlines, pings and heartbeats (150 ms apart or more) while
// anything is under way: the handshake, the first quick pings, a send, a close. Otherwise it
// sleeps to its next ping or heartbeat deadline, at most kIdleTickUs. The stop and the
// connection's end wake it early. Each wake is a context switch, all day long.
constexpr std::int64_t kTickUs = 50'000;
constexpr std::int64_t kIdleTickUs = 1'000'000;
constexpr std::uint64_t kBulkAckBytes = 64 * 1024;  // acknowledged in a heartbeat time: the host reads us
}  // namespace

ClientLink::ClientLink(wire::PayloadLimitFn limit, wire::PortKind port)
    : m_threadName(port == wire::PortKind::Chat ? "chat-link" : "screen-link"), m_protocol(limit, port, *this) {}

ClientLink::~ClientLink() { stopLink(); }

void ClientLink::stopLink() {
  m_stop = true;
  nudge();
  m_thread.join();
}

void ClientLink::nudge() { m_wake.wakeBy(std::numeric_limits<std::int64_t>::min()); }

void ClientLink::startLink(ClientLinkSettings settings, std::string name, std::uint64_t token,
                           std::optional<SeatKey> seatKey) {
  m_settings = std::move(settings);
  ClientIdentity id;
  id.name = std::move(name);
  id.token = token;
  id.seatKey = seatKey;
  id.password = m_settings.password;
  id.where = where();
  m_protocol.setIdentity(std::move(id));
  m_thread = base::Worker(m_threadName, [this] { run(); }, [this](const std::string& what) { runFailed(what); });
}

void ClientLink::runFailed(const std::string& what) {
  HLOG_ERROR(kTag, "%s: %s thread stopped: %s", where().c_str(), m_threadName, what.c_str());
  if (m_connStarted) {
    // The reader reports the end (Reason::Internal) as for any other close.
    m_conn->close(wire::Reason::Internal, "link: " + what);
    m_conn->join();
  } else {
    LinkEnd end;
    end.text = "Failed to connect to " + where() + ": internal error (" + what + ").";
    end.neverJoined = true;
    end.reason = wire::Reason::Internal;
    endOnce(end);
  }
  m_finished = true;
}

void ClientLink::endOnce(const LinkEnd& end) {
  if (m_endReported.exchange(true)) return;
  onEnded(end);
  wake();
}

void ClientLink::wake() const {
  if (m_settings.wake) m_settings.wake();
}

bool ClientLink::sendFrame(base::Bytes frame) {
  // m_conn is safe to touch once joined: it was set before the handshake could finish.
  return m_protocol.joined() && m_conn->send(std::move(frame));
}

bool ClientLink::sendUrgentFrame(base::Bytes frame, std::uint64_t replaceKey) {
  return m_protocol.joined() && m_conn->sendUrgent(std::move(frame), replaceKey);
}

bool ClientLink::sendFrameAfterUrgent(base::Bytes first, std::uint64_t replaceKey, base::Bytes frame) {
  return m_protocol.joined() && m_conn->sendAfterUrgent(std::move(first), replaceKey, std::move(frame), false);
}

void ClientLink::fail(wire::Reason reason, const std::string& text) { m_protocol.fail(reason, text); }

void ClientLink::run() {
  ConnectResult cr = connectTcp(m_settings.host, m_settings.port, m_settings.connectTimeoutMs, &m_stop);
  if (!cr.socket || m_stop.load()) {
    LinkEnd end;
    end.text = cr.socket ? "Cancelled." : cr.error;
    end.neverJoined = true;
    end.reason = wire::Reason::IoError;
    endOnce(end);
    m_finished = true;
    return;
  }
  Connection::Options options;
  options.sendStallUs = m_settings.heartbeatTimeoutUs;
  options.maxQueuedBytes = wire::kMaxClientQueuedBytes;  // a publisher's frames; bounded by its acks
  options.readLimitBytesPerSec = m_settings.readLimitBytesPerSec;
  options.inlineSends = m_settings.inlineSendMaxBytes > 0;
  options.inlineMaxBytes = m_settings.inlineSendMaxBytes;
  m_conn = std::make_unique<Connection>(std::move(cr.socket), options);
  if (m_settings.tls) {
    std::string error;
    auto tls = TlsEngine::client(*m_settings.tls, error);
    if (!tls) {
      LinkEnd end;
      end.text = "Failed to connect to " + where() + ": " + error;
      end.neverJoined = true;
      end.reason = wire::Reason::Tls;
      endOnce(end);
      m_finished = true;
      return;
    }
    m_conn->setTls(std::move(tls));
  }
  m_connStarted = m_conn->start(this);
  if (!m_connStarted) {
    LinkEnd end;
    end.text = "Failed to connect to " + where() + ": cannot start threads";
    end.neverJoined = true;
    end.reason = wire::Reason::Resource;
    endOnce(end);
    m_finished = true;
    return;
  }
  // Over TLS, Hello goes once the handshake is done (onSecured): a screen login's proof is
  // bound to this session's exporter, which exists only from then on.
  if (!m_settings.tls) m_conn->send(m_protocol.hello());

  const std::int64_t startUs = base::monoUs();
  m_lastRecvUs = startUs;
  std::int64_t lastPingUs = startUs;
  // The host taking our bytes in bulk is life too: behind a large frame of ours (a big
  // screen's first image on a slow link) our ping waits, and the host can answer it only once
  // it has read that frame. Pings alone never add up to kBulkAckBytes in a heartbeat time, so a
  // host that hangs still times out.
  std::uint64_t ackedMark = 0;  // counted from here, for at most a heartbeat time
  std::int64_t ackedMarkUs = startUs, lastBulkAckUs = startUs;
  std::int64_t waitUs = kTickUs;
  while (!m_conn->finished()) {
    m_wake.sleepUntil(base::monoUs() + waitUs);
    waitUs = kTickUs;  // unless found idle below: a stop, or a close's linger, ticks as before
    std::int64_t now = base::monoUs();
    m_conn->checkDeadlines(now);
    const std::uint64_t acked = m_conn->bytesAcknowledged();
    if (acked >= ackedMark + kBulkAckBytes) lastBulkAckUs = now;
    if (acked >= ackedMark + kBulkAckBytes || now - ackedMarkUs > m_settings.heartbeatTimeoutUs) {
      ackedMark = std::max(ackedMark, acked);
      ackedMarkUs = now;
    }
    if (m_stop.load()) {
      // leave() may have started a polite close; otherwise close now. Then wait.
      if (!m_conn->closing()) m_conn->close(wire::Reason::Shutdown, "left");
      continue;
    }
    if (!m_protocol.joined() && now - startUs > m_settings.handshakeTimeoutUs) {
      fail(wire::Reason::HandshakeTimeout, "Failed to join " + where() + ": the host did not answer the handshake.");
    } else if (now - std::max(m_lastRecvUs.load(), lastBulkAckUs) > m_settings.heartbeatTimeoutUs) {
      const std::int64_t ms = m_settings.heartbeatTimeoutUs / 1000;
      fail(wire::Reason::HeartbeatTimeout, "Lost connection to the host: no response for " +
                                               (ms % 1000 ? std::to_string(ms) + " ms." : std::to_string(ms / 1000) + " s."));
    } else if (m_protocol.joined()) {
      std::int64_t interval = m_pingsSent < kQuickPings ? kQuickPingIntervalUs : m_settings.heartbeatIntervalUs;
      if (now - lastPingUs > interval) {
        lastPingUs = now;
        sendPing();
      }
    }
    // Idle (joined, pings at their pace, nothing of ours on its way): to the next thing due.
    const bool idle = m_protocol.joined() && m_pingsSent >= kQuickPings && !m_stop.load() && !m_conn->closing() &&
                      m_conn->queuedBytes() == 0 && acked >= m_conn->bytesOut();
    if (idle) {
      const std::int64_t due = std::min(lastPingUs + m_settings.heartbeatIntervalUs,
                                        std::max(m_lastRecvUs.load(), lastBulkAckUs) + m_settings.heartbeatTimeoutUs);
      waitUs = std::clamp(due - now + 1000, kTickUs, kIdleTickUs);
    }
  }
  m_conn->join();
  m_finished = true;
}

bool ClientLink::hostKey(Fingerprint& out) const {
  std::lock_guard lock(m_mutex);
  if (!m_haveHostKey) return false;
  out = m_hostKey;
  return true;
}

void ClientLink::onSecured() {
  Fingerprint fp{};
  if (m_conn->peerKey(fp)) {
    std::lock_guard lock(m_mutex);
    m_hostKey = fp;
    m_haveHostKey = true;
  }
  m_conn->send(m_protocol.hello());
}

void ClientLink::sendPing() {
  ++m_pingsSent;
  m_conn->send(wire::pingNow(static_cast<std::uint64_t>(m_pingsSent)));
}

void ClientLink::leave() {
  m_protocol.explainEnd("You left the session.");
  if (m_protocol.joined() && !m_stop.load()) {
    m_conn->send(wire::encodeFrame(wire::Bye{}));
    m_conn->closeAfterFlush(wire::Reason::IoEof, "left");
  }
  stopLink();
}

void ClientLink::onReceive(std::span<const std::uint8_t> bytes) {
  const std::int64_t now = base::monoUs();
  m_lastRecvUs = now;
  // The first frame out may have begun in an earlier push; any after it began in this one.
  const bool hadPartial = m_protocol.hasPartial();
  m_frameStartedUs = hadPartial ? m_partialStartedUs : now;
  m_protocol.push(bytes);
  bool any = false;
  while (m_protocol.processNext(base::wallUs())) {
    if (m_conn->closing()) return;
    m_frameStartedUs = now;
    any = true;
  }
  if (any || !hadPartial) m_partialStartedUs = now;  // else the same frame goes on
}

void ClientLink::sendToHost(base::Bytes frame) { m_conn->send(std::move(frame)); }

bool ClientLink::exportKeyingMaterial(const std::string& label, std::span<std::uint8_t> out) {
  return m_conn->exportKeyingMaterial(label, out);
}

void ClientLink::closeLink(wire::Reason reason, const std::string& detail, bool flush) {
  if (!m_conn) return;  // fail() before run() made the connection: nothing to close yet
  if (flush)
    m_conn->closeAfterFlush(reason, detail);
  else
    m_conn->close(reason, detail);
}

void ClientLink::onJoined(const wire::Welcome& welcome) {
  onWelcome(welcome);
  wake();
}

void ClientLink::onPortFrame(const wire::Frame& frame) { onFrame(frame); }

void ClientLink::onClosed(wire::Reason reason, const std::string& detail) {
  LinkEnd end = m_protocol.ended(reason, detail);
  {
    std::lock_guard lock(m_mutex);
    end.hostBusy = end.neverJoined && m_settings.tls && !m_haveHostKey && !end.hostKeyMismatch &&
                   (reason == wire::Reason::IoEof || reason == wire::Reason::IoError);
  }
  HLOG_INFO(kTag, "disconnected: %s (%s)", end.text.c_str(), wire::reasonName(reason));
  endOnce(end);
  nudge();  // run() looks again (the connection may need its next tick to count as finished)
}

}  // namespace huddle::net
