#include "net/chat_client.h"

#include <chrono>

#include "net/base/clock.h"
#include "net/base/log.h"

namespace huddle::net {

namespace {
constexpr const char* kTag = "net/client";
}

ChatClient::ChatClient() : m_decoder(&wire::chatPortPayloadLimit) {}

ChatClient::~ChatClient() {
  m_stop = true;
  if (m_thread.joinable()) m_thread.join();
}

void ChatClient::start(ChatClientConfig config) {
  m_config = std::move(config);
  m_thread = std::thread([this] { run(); });
}

std::string ChatClient::name() const {
  std::lock_guard lock(m_mutex);
  return m_name;
}

void ChatClient::emit(ChatClientEvent ev) {
  // The owner stopped draining: better to end the session than to grow without bound.
  if (!m_events.push(std::move(ev)) && m_conn) m_conn->close(wire::Reason::SlowConsumer, "event queue full");
  if (m_config.wake) m_config.wake();
}

// Records why the session ends; the first cause wins (a SessionEnd beats the EOF after it).
void ChatClient::fail(wire::Reason reason, const std::string& text) {
  {
    std::lock_guard lock(m_mutex);
    if (m_endText.empty()) m_endText = text;
  }
  if (m_conn) m_conn->close(reason, text);
}

void ChatClient::run() {
  const std::string where = m_config.host + ":" + std::to_string(m_config.port);
  ConnectResult cr = connectTcp(m_config.host, m_config.port, m_config.connectTimeoutMs, &m_stop);
  if (!cr.socket || m_stop.load()) {
    ChatClientEvent ev;
    ev.kind = ChatClientEvent::Kind::Disconnected;
    ev.text = cr.socket ? "Cancelled." : cr.error;
    ev.neverJoined = true;
    m_events.push(std::move(ev));
    if (m_config.wake) m_config.wake();
    m_finished = true;
    return;
  }
  Connection::Options options;
  options.sendStallUs = m_config.heartbeatTimeoutUs;
  m_conn = std::make_unique<Connection>(std::move(cr.socket), options);
  if (!m_conn->start(this)) {
    ChatClientEvent ev;
    ev.kind = ChatClientEvent::Kind::Disconnected;
    ev.text = "Failed to connect to " + where + ": cannot start threads";
    ev.neverJoined = true;
    m_events.push(std::move(ev));
    m_finished = true;
    return;
  }
  wire::Hello hello;
  hello.port = wire::PortKind::Chat;
  hello.name = m_config.name;
  hello.token = m_config.hostToken;
  m_conn->send(wire::encodeFrame(hello));

  const std::int64_t startUs = base::monoUs();
  m_lastRecvUs = startUs;
  std::int64_t lastPingUs = startUs;
  while (!m_conn->finished()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::int64_t now = base::monoUs();
    m_conn->checkDeadlines(now);
    if (m_stop.load()) {
      // leave() already started a polite close; otherwise (destructor, or leaving before
      // the handshake finished) close now. Either way, wait for the threads to finish.
      if (!m_conn->closing()) m_conn->close(wire::Reason::Shutdown, "left");
      continue;
    }
    if (!m_joined.load() && now - startUs > m_config.handshakeTimeoutUs) {
      fail(wire::Reason::HandshakeTimeout, "Failed to join " + where + ": the host did not answer the handshake");
    } else if (now - m_lastRecvUs.load() > m_config.heartbeatTimeoutUs) {
      fail(wire::Reason::HeartbeatTimeout, "Lost connection to the host: no response for " +
                                               std::to_string(m_config.heartbeatTimeoutUs / 1'000'000) + " s.");
    } else if (m_joined.load() && now - lastPingUs > m_config.heartbeatIntervalUs) {
      lastPingUs = now;
      wire::Ping ping;
      ping.nonce = static_cast<std::uint64_t>(now);
      ping.sentUs = base::wallUs();
      m_conn->send(wire::encodeFrame(ping));
    }
  }
  m_conn->join();
  m_finished = true;
}

bool ChatClient::say(const std::string& text) {
  if (!m_joined.load() || !wire::validateChatText(text).empty()) return false;
  wire::Say m;
  m.clientMsgId = m_nextClientMsgId++;
  m.text = text;
  return m_conn->send(wire::encodeFrame(m));
}

bool ChatClient::sayPrivate(const std::string& to, const std::string& text) {
  if (!m_joined.load() || !wire::validateChatText(text).empty() || !wire::validateName(to).empty()) return false;
  wire::PrivateSay m;
  m.clientMsgId = m_nextClientMsgId++;
  m.to = to;
  m.text = text;
  return m_conn->send(wire::encodeFrame(m));
}

void ChatClient::leave() {
  {
    std::lock_guard lock(m_mutex);
    if (m_endText.empty()) m_endText = "You left the session.";
  }
  // m_conn is safe to touch once joined (it was set before the handshake could finish).
  if (m_joined.load() && !m_stop.load()) {
    m_conn->send(wire::encodeFrame(wire::Bye{}));
    m_conn->closeAfterFlush(wire::Reason::IoEof, "left");
  }
  m_stop = true;
  // The goodbye normally takes a round trip; the thread ends at the linger deadline anyway.
  if (m_thread.joinable()) m_thread.join();
}

void ChatClient::onReceive(std::span<const std::uint8_t> bytes) {
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

void ChatClient::handleFrame(const wire::Frame& frame) {
  auto bad = [&](const char* what) {
    fail(wire::Reason::ProtoMalformed, std::string("The host sent a malformed ") + what + ".");
  };
  switch (static_cast<wire::MsgType>(frame.type)) {
    case wire::MsgType::Welcome: {
      wire::Welcome w;
      if (m_joined.load()) return fail(wire::Reason::ProtoState, "The host repeated its welcome.");
      if (!wire::decodePayload(frame.payload, w) || !wire::validateName(w.name).empty()) return bad("welcome");
      {
        std::lock_guard lock(m_mutex);
        m_name = w.name;
      }
      m_participantId = w.participantId;
      m_token = w.token;
      m_clockOffsetUs = w.serverTimeUs - base::wallUs();
      m_decoder.setHandshakeDone(true);
      m_joined = true;
      ChatClientEvent ev;
      ev.kind = ChatClientEvent::Kind::Connected;
      ev.text = w.name;
      ev.hostName = w.hostName;
      emit(std::move(ev));
      return;
    }
    case wire::MsgType::Reject: {
      wire::Reject r;
      if (!wire::decodePayload(frame.payload, r)) return bad("reject");
      std::string where = m_config.host + ":" + std::to_string(m_config.port);
      if (r.code == wire::RejectCode::VersionMismatch)
        return fail(wire::Reason::Rejected, "Cannot join " + where + ": host speaks protocol " +
                                                std::to_string(r.hostVersion) + ", this build speaks " +
                                                std::to_string(wire::kProtocolVersion) + ".");
      return fail(wire::Reason::Rejected, "The host at " + where + " refused to let you join: " + r.text);
    }
    default:
      break;
  }
  if (!m_joined.load()) return fail(wire::Reason::ProtoState, "The host broke the handshake.");
  switch (static_cast<wire::MsgType>(frame.type)) {
    case wire::MsgType::ChatEvent: {
      ChatClientEvent ev;
      ev.kind = ChatClientEvent::Kind::Chat;
      if (!wire::decodePayload(frame.payload, ev.chat)) return bad("chat message");
      return emit(std::move(ev));
    }
    case wire::MsgType::UserList: {
      wire::UserList list;
      if (!wire::decodePayload(frame.payload, list)) return bad("user list");
      ChatClientEvent ev;
      ev.kind = ChatClientEvent::Kind::Users;
      ev.users = std::move(list.users);
      return emit(std::move(ev));
    }
    case wire::MsgType::Notice: {
      wire::Notice n;
      if (!wire::decodePayload(frame.payload, n)) return bad("notice");
      ChatClientEvent ev;
      ev.kind = ChatClientEvent::Kind::Notice;
      ev.text = std::move(n.text);
      return emit(std::move(ev));
    }
    case wire::MsgType::Ping: {
      wire::Ping ping;
      if (!wire::decodePayload(frame.payload, ping)) return bad("ping");
      wire::Pong pong;
      pong.nonce = ping.nonce;
      pong.echoSentUs = ping.sentUs;
      pong.replyUs = base::wallUs();
      m_conn->send(wire::encodeFrame(pong));
      return;
    }
    case wire::MsgType::Pong: {
      wire::Pong pong;
      if (!wire::decodePayload(frame.payload, pong)) return bad("pong");
      std::int64_t now = base::wallUs();
      std::int64_t rtt = now - pong.echoSentUs;
      if (rtt < 0 || rtt > 60'000'000) return;
      m_rttUs = rtt;
      // The host answered halfway through the round trip (NTP's symmetric-path estimate).
      m_clockOffsetUs = pong.replyUs - (pong.echoSentUs + rtt / 2);
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
      return fail(wire::Reason::ProtoState, "The host sent an unexpected message (type " + std::to_string(frame.type) + ").");
  }
}

void ChatClient::onClosed(wire::Reason reason, const std::string& detail) {
  bool wasJoined = m_joined.exchange(false);
  ChatClientEvent ev;
  ev.kind = ChatClientEvent::Kind::Disconnected;
  {
    std::lock_guard lock(m_mutex);
    ev.sessionEnded = m_sessionEnded;
    ev.text = m_endText;
  }
  ev.neverJoined = !wasJoined && !ev.sessionEnded;
  if (ev.text.empty()) {
    std::string where = m_config.host + ":" + std::to_string(m_config.port);
    ev.text = wasJoined ? "Lost connection to the host (" + detail + ")."
                        : "Failed to join " + where + ": the connection closed during the handshake (" + detail + ").";
  }
  HLOG_INFO(kTag, "disconnected: %s (%s)", ev.text.c_str(), wire::reasonName(reason));
  m_events.push(std::move(ev));
  if (m_config.wake) m_config.wake();
}

}  // namespace huddle::net
