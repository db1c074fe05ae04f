#include "net/client_protocol.h"

#include <algorithm>
#include <array>

#include "net/base/log.h"

namespace huddle::net {

namespace {
constexpr const char* kTag = "net/client";

// The host's clock stamps come off the wire. An offset of more than a century is nonsense
// (or hostile); clamped to that, it cannot overflow when the app adds it to a wall-clock time.
constexpr std::int64_t kMaxClockOffsetUs = 100ll * 365 * 24 * 3600 * 1'000'000;

// The host's stamp minus ours, within +-kMaxClockOffsetUs (clamped first: no overflow).
std::int64_t hostMinusOursUs(std::int64_t hostUs, std::int64_t ourUs) {
  return std::clamp(hostUs, ourUs - kMaxClockOffsetUs, ourUs + kMaxClockOffsetUs) - ourUs;
}
}  // namespace

ClientProtocol::ClientProtocol(wire::PayloadLimitFn limit, wire::PortKind port, Peer& peer)
    : m_port(port), m_peer(peer), m_decoder(limit) {}

base::Bytes ClientProtocol::hello() {
  wire::Hello hello;
  hello.port = m_port;
  hello.name = m_id.name;
  hello.token = m_id.token;
  std::array<std::uint8_t, 32> exporter{};
  if (m_port == wire::PortKind::Screen && m_id.seatKey && m_peer.exportKeyingMaterial(kAuthExporterLabel, exporter))
    hello.seatProof = screenLoginProof(*m_id.seatKey, exporter, m_id.token);
  return wire::encodeFrame(hello);
}

bool ClientProtocol::processNext(std::int64_t nowWallUs) {
  wire::Frame frame;
  auto status = m_decoder.next(frame);
  if (status == wire::FrameDecoder::Status::NeedMore) return false;
  if (status == wire::FrameDecoder::Status::Error) {
    HLOG_WARN(kTag, "host sent a bad frame: %s %s", wire::reasonName(m_decoder.reason()), m_decoder.detail().c_str());
    fail(m_decoder.reason(), "The host sent something this build cannot read (" + m_decoder.detail() + ").");
    return false;
  }
  handleFrame(frame, nowWallUs);
  return true;
}

void ClientProtocol::explainEnd(const std::string& text) {
  std::lock_guard lock(m_mutex);
  if (m_endText.empty()) m_endText = text;
}

void ClientProtocol::fail(wire::Reason reason, const std::string& text) {
  explainEnd(text);
  m_peer.closeLink(reason, text, false);
}

// The room has a password: derive K from the host's salt (with parameters we accept) and
// prove we know it, bound to this TLS session. Without a password, send a proof that fails,
// so the host's reply is the same as for a wrong one.
void ClientProtocol::answerChallenge(const wire::Frame& frame) {
  wire::AuthChallenge c;
  if (m_joined.load() || !wire::decodePayload(frame.payload, c)) {
    return fail(wire::Reason::ProtoMalformed, "The host sent a malformed password challenge.");
  }
  // One challenge per connection: each one costs us an Argon2id run, and an honest host
  // answers a proof with Welcome or Reject, never with another challenge.
  if (m_challengeAnswered) return fail(wire::Reason::ProtoState, "The host asked for the password twice.");
  m_challengeAnswered = true;
  KdfParams params;
  params.ops = c.ops;
  params.memBytes = c.memBytes;
  params.salt = c.salt;
  std::string why;
  if (!kdfParamsAcceptable(params, why)) return fail(wire::Reason::Rejected, "Cannot join " + m_id.where + ": " + why + ".");
  // The proof is bound to this TLS session; without one it could be replayed, so none is sent.
  std::array<std::uint8_t, 32> exporter{};
  if (!m_peer.exportKeyingMaterial(kAuthExporterLabel, exporter))
    return fail(wire::Reason::Tls, "Cannot join " + m_id.where + ": a password is only proven over an encrypted connection.");
  RoomKey key{};
  if (!m_id.password.empty() && !m_id.deriveKey(m_id.password, params, key, why))
    return fail(wire::Reason::Resource, "Cannot join " + m_id.where + ": " + why + ".");
  wire::AuthProofMsg reply;
  reply.proof = authProof(key, exporter, m_id.name);
  m_peer.sendToHost(wire::encodeFrame(reply));
}

void ClientProtocol::handleFrame(const wire::Frame& frame, std::int64_t nowWallUs) {
  auto bad = [&](const char* what) {
    fail(wire::Reason::ProtoMalformed, std::string("The host sent a malformed ") + what + ".");
  };
  switch (static_cast<wire::MsgType>(frame.type)) {
    case wire::MsgType::Welcome: {
      wire::Welcome w;
      if (m_joined.load()) return fail(wire::Reason::ProtoState, "The host repeated its welcome.");
      // Both names reach the terminal and the host's name the known_hosts label: held to the
      // rules the host holds our name to (no control characters, no spaces, no newlines).
      if (!wire::decodePayload(frame.payload, w) || !wire::validateName(w.name).empty() ||
          !wire::validateName(w.hostName).empty())
        return bad("welcome");
      m_participantId = w.participantId;
      m_token = w.token;
      if (SeatKey seat{}; m_port == wire::PortKind::Chat && m_peer.exportKeyingMaterial(kSeatExporterLabel, seat)) {
        std::lock_guard lock(m_mutex);
        m_seatKey = seat;
      }
      if (std::array<std::uint8_t, 64> voice{};
          m_port == wire::PortKind::Chat && m_peer.exportKeyingMaterial(kVoiceExporterLabel, voice)) {
        std::lock_guard lock(m_mutex);
        m_voiceKeys = voiceKeysFromExporter(voice);
      }
      m_clockOffsetUs = hostMinusOursUs(w.serverTimeUs, nowWallUs);
      m_decoder.setHandshakeDone(true);
      m_joined = true;
      m_peer.onJoined(w);
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
                        ? "Cannot join " + m_id.where + ": " +
                              (m_id.password.empty() ? "this session needs a password." : "wrong password.")
                        : "Cannot join " + m_id.where + ": " + r.text);
      }
      if (r.code == wire::RejectCode::VersionMismatch)
        return fail(wire::Reason::Rejected, "Cannot join " + m_id.where + ": host speaks protocol " +
                                                std::to_string(r.hostVersion) + ", this build speaks " +
                                                std::to_string(wire::kProtocolVersion) + ".");
      return fail(wire::Reason::Rejected, "The host at " + m_id.where + " refused to let you join: " + r.text);
    }
    default:
      break;
  }
  if (!m_joined.load()) return fail(wire::Reason::ProtoState, "The host broke the handshake.");
  switch (static_cast<wire::MsgType>(frame.type)) {
    case wire::MsgType::Ping: {
      wire::Ping ping;
      if (!wire::decodePayload(frame.payload, ping)) return bad("ping");
      m_peer.sendToHost(wire::pongFor(ping));
      return;
    }
    case wire::MsgType::Pong: {
      wire::Pong pong;
      if (!wire::decodePayload(frame.payload, pong)) return bad("pong");
      // The echo is our own stamp: a sane one is recent (checked before subtracting).
      if (pong.echoSentUs > nowWallUs || pong.echoSentUs < nowWallUs - wire::kMaxPongAgeUs) return;
      std::int64_t rtt = nowWallUs - pong.echoSentUs;
      m_rttUs = rtt;
      // The host answered halfway through the round trip (NTP's symmetric-path estimate);
      // the fastest round trip seen gives the tightest bound, so keep that one.
      if (m_bestRttUs == 0 || rtt <= m_bestRttUs) {
        m_bestRttUs = rtt;
        m_clockOffsetUs = hostMinusOursUs(pong.replyUs, pong.echoSentUs + rtt / 2);
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
      m_peer.closeLink(wire::Reason::Shutdown, "session ended", true);
      return;
    }
    default:
      return m_peer.onPortFrame(frame);
  }
}

LinkEnd ClientProtocol::ended(wire::Reason reason, const std::string& detail) {
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
    end.text = "WARNING: the host at " + m_id.where + " is not the host you expected: its key does not match the "
               "fingerprint you pinned. Someone may be impersonating it. Not connecting.";
  } else if (end.text.empty() && reason == wire::Reason::Tls) {
    end.text = "Failed to join " + m_id.where + ": the secure connection failed (" + detail + ").";
  }
  if (end.text.empty()) {
    end.text = wasJoined ? "Lost connection to the host (" + detail + ")."
                         : "Failed to join " + m_id.where + ": the connection closed during the handshake (" + detail + ").";
  }
  return end;
}

}  // namespace huddle::net
