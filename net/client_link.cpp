#include "net/client_link.h"

#include "net/room_auth.h"

#include <chrono>

#include "net/base/clock.h"
#include "net/base/log.h"

namespace huddle::net {

namespace {
constexpr const char* kTag = "net/client";
// Pings come fast at first, so the clock offset is good within a second of joining.
constexpr int kQuickPings = 8;
constexpr std::int64_t kQuickPingIntervalUs = 150'000;
}  // namespace

ClientLink::ClientLink(wire::PayloadLimitFn limit, wire::PortKind port) : m_port(port), m_decoder(limit) {}

ClientLink::~ClientLink() { stopLink(); }

void ClientLink::stopLink() {
  m_stop = true;
  if (m_thread.joinable()) m_thread.join();
}

void ClientLink::startLink(ClientLinkSettings settings, std::string name, std::uint64_t token) {
  m_settings = std::move(settings);
  m_helloName = std::move(name);
  m_helloToken = token;
  m_thread = std::thread([this] { run(); });
}

void ClientLink::wake() const {
  if (m_settings.wake) m_settings.wake();
}

bool ClientLink::sendFrame(base::Bytes frame) {
  // m_conn is safe to touch once joined: it was set before the handshake could finish.
  return m_joined.load() && m_conn->send(std::move(frame));
}

void ClientLink::fail(wire::Reason reason, const std::string& text) {
  {
    std::lock_guard lock(m_mutex);
    if (m_endText.empty()) m_endText = text;
  }
  if (m_conn) m_conn->close(reason, text);
}

void ClientLink::run() {
  ConnectResult cr = connectTcp(m_settings.host, m_settings.port, m_settings.connectTimeoutMs, &m_stop);
  if (!cr.socket || m_stop.load()) {
    LinkEnd end;
    end.text = cr.socket ? "Cancelled." : cr.error;
    end.neverJoined = true;
    end.reason = wire::Reason::IoError;
    onEnded(end);
    wake();
    m_finished = true;
    return;
  }
  Connection::Options options;
  options.sendStallUs = m_settings.heartbeatTimeoutUs;
  options.maxQueuedBytes = 64 * 1024 * 1024;  // a publisher's frames; bounded by its acks
  options.readLimitBytesPerSec = m_settings.readLimitBytesPerSec;
  m_conn = std::make_unique<Connection>(std::move(cr.socket), options);
  if (m_settings.tls) {
    std::string error;
    auto tls = TlsEngine::client(*m_settings.tls, error);
    if (!tls) {
      LinkEnd end;
      end.text = "Failed to connect to " + where() + ": " + error;
      end.neverJoined = true;
      end.reason = wire::Reason::Tls;
      onEnded(end);
      wake();
      m_finished = true;
      return;
    }
    m_conn->setTls(std::move(tls));
  }
  if (!m_conn->start(this)) {
    LinkEnd end;
    end.text = "Failed to connect to " + where() + ": cannot start threads";
    end.neverJoined = true;
    end.reason = wire::Reason::Resource;
    onEnded(end);
    wake();
    m_finished = true;
    return;
  }
  wire::Hello hello;
  hello.port = m_port;
  hello.name = m_helloName;
  hello.token = m_helloToken;
  m_conn->send(wire::encodeFrame(hello));

  const std::int64_t startUs = base::monoUs();
  m_lastRecvUs = startUs;
  std::int64_t lastPingUs = startUs;
  while (!m_conn->finished()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    std::int64_t now = base::monoUs();
    m_conn->checkDeadlines(now);
    if (m_stop.load()) {
      // leave() may have started a polite close; otherwise close now. Then wait.
      if (!m_conn->closing()) m_conn->close(wire::Reason::Shutdown, "left");
      continue;
    }
    if (!m_joined.load() && now - startUs > m_settings.handshakeTimeoutUs) {
      fail(wire::Reason::HandshakeTimeout, "Failed to join " + where() + ": the host did not answer the handshake.");
    } else if (now - m_lastRecvUs.load() > m_settings.heartbeatTimeoutUs) {
      fail(wire::Reason::HeartbeatTimeout, "Lost connection to the host: no response for " +
                                               std::to_string(m_settings.heartbeatTimeoutUs / 1'000'000) + " s.");
    } else if (m_joined.load()) {
      std::int64_t interval = m_pingsSent < kQuickPings ? kQuickPingIntervalUs : m_settings.heartbeatIntervalUs;
      if (now - lastPingUs > interval) {
        lastPingUs = now;
        sendPing();
      }
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
  if (!m_conn->peerKey(fp)) return;
  std::lock_guard lock(m_mutex);
  m_hostKey = fp;
  m_haveHostKey = true;
}

// The room has a password: derive K from the host's salt (with parameters we accept) and
// prove we know it, bound to this TLS session. Without a password, send a proof that fails,
// so the host's reply is the same as for a wrong one.
void ClientLink::answerChallenge(const wire::Frame& frame) {
  wire::AuthChallenge c;
  if (m_joined.load() || !wire::decodePayload(frame.payload, c)) {
    return fail(wire::Reason::ProtoMalformed, "The host sent a malformed password challenge.");
  }
  KdfParams params;
  params.ops = c.ops;
  params.memBytes = c.memBytes;
  params.salt = c.salt;
  std::string why;
  if (!kdfParamsAcceptable(params, why)) return fail(wire::Reason::Rejected, "Cannot join " + where() + ": " + why + ".");
  RoomKey key{};
  if (!m_settings.password.empty() && !deriveRoomKey(m_settings.password, params, key, why))
    return fail(wire::Reason::Resource, "Cannot join " + where() + ": " + why + ".");
  std::array<std::uint8_t, 32> exporter{};
  m_conn->exportKeyingMaterial(kAuthExporterLabel, exporter);
  wire::AuthProofMsg reply;
  reply.proof = authProof(key, exporter, m_helloName);
  m_conn->send(wire::encodeFrame(reply));
}

void ClientLink::sendPing() {
  ++m_pingsSent;
  m_conn->send(wire::pingNow(static_cast<std::uint64_t>(m_pingsSent)));
}

void ClientLink::leave() {
  {
    std::lock_guard lock(m_mutex);
    if (m_endText.empty()) m_endText = "You left the session.";
  }
  if (m_joined.load() && !m_stop.load()) {
    m_conn->send(wire::encodeFrame(wire::Bye{}));
    m_conn->closeAfterFlush(wire::Reason::IoEof, "left");
  }
  stopLink();
}

void ClientLink::onReceive(std::span<const std::uint8_t> bytes) {
  m_lastRecvUs = base::monoUs();
  m_decoder.push(bytes);
  while (true) {
    wire::Frame frame;
    auto status = m_decoder.next(frame);
    if (status == wire::FrameDecoder::Status::NeedMore) return;
    if (status == wire::FrameDecoder::Status::Error) {
      HLOG_WARN(kTag, "host sent a bad frame: %s %s", wire::reasonName(m_decoder.reason()), m_decoder.detail().c_str());
      fail(m_decoder.reason(), "The host sent something this build cannot read (" + m_decoder.detail() + ").");
      return;
    }
    handleFrame(frame);
    if (m_conn->closing()) return;
  }
}

void ClientLink::handleFrame(const wire::Frame& frame) {
  auto bad = [&](const char* what) {
    fail(wire::Reason::ProtoMalformed, std::string("The host sent a malformed ") + what + ".");
  };
  switch (static_cast<wire::MsgType>(frame.type)) {
    case wire::MsgType::Welcome: {
      wire::Welcome w;
      if (m_joined.load()) return fail(wire::Reason::ProtoState, "The host repeated its welcome.");
      if (!wire::decodePayload(frame.payload, w) || !wire::validateName(w.name).empty()) return bad("welcome");
      m_participantId = w.participantId;
      m_token = w.token;
      m_clockOffsetUs = w.serverTimeUs - base::wallUs();
      m_decoder.setHandshakeDone(true);
      m_joined = true;
      onWelcome(w);
      wake();
      return;
    }
    case wire::MsgType::AuthChallenge:
      return answerChallenge(frame);
    case wire::MsgType::Reject: {
      wire::Reject r;
      if (!wire::decodePayload(frame.payload, r)) return bad("reject");
      if (r.code == wire::RejectCode::AuthFailed || r.code == wire::RejectCode::LockedOut) {
        {
          std::lock_guard lock(m_mutex);
          m_needsPassword = r.code == wire::RejectCode::AuthFailed;
        }
        return fail(wire::Reason::Rejected,
                    r.code == wire::RejectCode::AuthFailed
                        ? "Cannot join " + where() + ": " + (m_settings.password.empty() ? "this session needs a password." : "wrong password.")
                        : "Cannot join " + where() + ": " + r.text);
      }
      if (r.code == wire::RejectCode::VersionMismatch)
        return fail(wire::Reason::Rejected, "Cannot join " + where() + ": host speaks protocol " +
                                                std::to_string(r.hostVersion) + ", this build speaks " +
                                                std::to_string(wire::kProtocolVersion) + ".");
      return fail(wire::Reason::Rejected, "The host at " + where() + " refused to let you join: " + r.text);
    }
    default:
      break;
  }
  if (!m_joined.load()) return fail(wire::Reason::ProtoState, "The host broke the handshake.");
  switch (static_cast<wire::MsgType>(frame.type)) {
    case wire::MsgType::Ping: {
      wire::Ping ping;
      if (!wire::decodePayload(frame.payload, ping)) return bad("ping");
      m_conn->send(wire::pongFor(ping));
      return;
    }
    case wire::MsgType::Pong: {
      wire::Pong pong;
      if (!wire::decodePayload(frame.payload, pong)) return bad("pong");
      std::int64_t rtt = base::wallUs() - pong.echoSentUs;
      if (rtt < 0 || rtt > 60'000'000) return;
      m_rttUs = rtt;
      // The host answered halfway through the round trip (NTP's symmetric-path estimate);
      // the fastest round trip seen gives the tightest bound, so keep that one.
      if (m_bestRttUs == 0 || rtt <= m_bestRttUs) {
        m_bestRttUs = rtt;
        m_clockOffsetUs = pong.replyUs - (pong.echoSentUs + rtt / 2);
      }
      return;
    }
    case wire::MsgType::SessionEnd: {
      wire::SessionEnd end;
      if (!wire::decodePayload(frame.payload, end)) return bad("goodbye");
      {
        std::lock_guard lock(m_mutex);
        m_sessionEnded = true;
        if (m_endText.empty()) m_endText = end.reason.empty() ? "The host ended the session." : end.reason;
      }
      m_conn->closeAfterFlush(wire::Reason::Shutdown, "session ended");
      return;
    }
    default:
      return onFrame(frame);
  }
}

void ClientLink::onClosed(wire::Reason reason, const std::string& detail) {
  bool wasJoined = m_joined.exchange(false);
  LinkEnd end;
  end.reason = reason;
  {
    std::lock_guard lock(m_mutex);
    end.sessionEnded = m_sessionEnded;
    end.needsPassword = m_needsPassword;
    end.text = m_endText;
  }
  end.neverJoined = !wasJoined && !end.sessionEnded;
  if (end.text.empty() && reason == wire::Reason::Tls && detail.find("does not match") != std::string::npos) {
    // Worded like ssh's warning: this is a hard stop, never something to click through.
    end.hostKeyMismatch = true;
    end.text = "WARNING: the host at " + where() + " is not the host you expected: its key does not match the "
               "fingerprint you pinned. Someone may be impersonating it. Not connecting.";
  } else if (end.text.empty() && reason == wire::Reason::Tls) {
    end.text = "Failed to join " + where() + ": the secure connection failed (" + detail + ").";
  }
  if (end.text.empty()) {
    end.text = wasJoined ? "Lost connection to the host (" + detail + ")."
                         : "Failed to join " + where() + ": the connection closed during the handshake (" + detail + ").";
  }
  HLOG_INFO(kTag, "disconnected: %s (%s)", end.text.c_str(), wire::reasonName(reason));
  onEnded(end);
  wake();
}

}  // namespace huddle::net
