#include "net/chat_client.h"

namespace huddle::net {

ChatClient::ChatClient() : ClientLink(&wire::chatPortPayloadLimit, wire::PortKind::Chat) {}

ChatClient::~ChatClient() { stopLink(); }

void ChatClient::start(ChatClientConfig config) {
  ClientLinkSettings s;
  s.host = config.host;
  s.port = config.port;
  s.connectTimeoutMs = config.connectTimeoutMs;
  s.handshakeTimeoutUs = config.handshakeTimeoutUs;
  s.heartbeatIntervalUs = config.heartbeatIntervalUs;
  s.heartbeatTimeoutUs = config.heartbeatTimeoutUs;
  s.wake = std::move(config.wake);
  s.tls = config.tls;
  s.password = config.password;
  startLink(std::move(s), config.name, config.hostToken ? config.hostToken : config.resumeToken);
}

std::string ChatClient::name() const {
  std::lock_guard lock(m_mutex);
  return m_name;
}

void ChatClient::emit(ChatClientEvent ev) {
  // The owner stopped draining: better to end the session than to grow without bound.
  if (!events().push(std::move(ev))) fail(wire::Reason::SlowConsumer, "Too many unread chat events.");
  wake();
}

bool ChatClient::say(const std::string& text) {
  if (!wire::validateChatText(text).empty()) return false;
  wire::Say m;
  m.clientMsgId = m_nextClientMsgId++;
  m.text = text;
  return sendFrame(wire::encodeFrame(m));
}

bool ChatClient::sayPrivate(const std::string& to, const std::string& text) {
  if (!wire::validateChatText(text).empty() || !wire::validateName(to).empty()) return false;
  wire::PrivateSay m;
  m.clientMsgId = m_nextClientMsgId++;
  m.to = to;
  m.text = text;
  return sendFrame(wire::encodeFrame(m));
}

void ChatClient::onWelcome(const wire::Welcome& w) {
  {
    std::lock_guard lock(m_mutex);
    m_name = w.name;
  }
  ChatClientEvent ev;
  ev.kind = ChatClientEvent::Kind::Connected;
  ev.text = w.name;
  ev.hostName = w.hostName;
  ev.screenPort = w.screenPort;
  ev.sessionId = w.sessionId;
  emit(std::move(ev));
}

void ChatClient::onFrame(const wire::Frame& frame) {
  auto bad = [&](const char* what) {
    fail(wire::Reason::ProtoMalformed, std::string("The host sent a malformed ") + what + ".");
  };
  ChatClientEvent ev;
  switch (static_cast<wire::MsgType>(frame.type)) {
    case wire::MsgType::ChatEvent:
      ev.kind = ChatClientEvent::Kind::Chat;
      if (!wire::decodePayload(frame.payload, ev.chat)) return bad("chat message");
      return emit(std::move(ev));
    case wire::MsgType::UserList: {
      wire::UserList list;
      if (!wire::decodePayload(frame.payload, list)) return bad("user list");
      ev.kind = ChatClientEvent::Kind::Users;
      ev.users = std::move(list.users);
      return emit(std::move(ev));
    }
    case wire::MsgType::Notice: {
      wire::Notice n;
      if (!wire::decodePayload(frame.payload, n)) return bad("notice");
      ev.kind = ChatClientEvent::Kind::Notice;
      ev.text = std::move(n.text);
      return emit(std::move(ev));
    }
    default:
      return fail(wire::Reason::ProtoState, "The host sent an unexpected message (type " + std::to_string(frame.type) + ").");
  }
}

void ChatClient::onEnded(const LinkEnd& end) {
  ChatClientEvent ev;
  ev.kind = ChatClientEvent::Kind::Disconnected;
  ev.text = end.text;
  ev.sessionEnded = end.sessionEnded;
  ev.neverJoined = end.neverJoined;
  ev.hostKeyMismatch = end.hostKeyMismatch;
  ev.needsPassword = end.needsPassword;
  events().pushPastCap(std::move(ev));  // the last event: it must arrive even if the queue is full
}

}  // namespace huddle::net
