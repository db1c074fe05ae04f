#include "net/chat_client.h"

#include "net/file_hub.h"

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

bool ChatClient::sendVoice(std::span<const std::uint8_t> datagram) {
  if (datagram.empty() || datagram.size() > wire::kMaxVoiceDatagramBytes) return false;
  wire::VoiceDatagram v;
  v.datagram.assign(datagram.begin(), datagram.end());
  return sendFrame(wire::encodeFrame(v));
}

void ChatClient::setVoiceSink(VoiceSink sink) {
  std::lock_guard lock(m_mutex);
  m_voiceSink = std::move(sink);
}

void ChatClient::setFileSink(std::shared_ptr<FileSink> sink) {
  std::lock_guard delivery(m_fileDelivery);
  std::vector<std::pair<std::uint16_t, base::ByteVec>> held;
  {
    std::lock_guard lock(m_mutex);
    m_fileSink = sink;
    if (sink) held.swap(m_heldFileFrames);
  }
  for (const auto& [type, payload] : held) sink->onFileFrame(wire::Frame{type, payload});
}

void ChatClient::onDrained(std::size_t) {
  std::shared_ptr<FileSink> sink;
  {
    std::lock_guard lock(m_mutex);
    sink = m_fileSink;
  }
  if (sink) sink->onLinkDrained();
}

ChatClientEvent ChatClient::connectedEvent(const wire::Welcome& w) {
  ChatClientEvent ev;
  ev.kind = ChatClientEvent::Kind::Connected;
  ev.text = w.name;
  ev.hostName = w.hostName;
  ev.screenPort = w.screenPort;
  ev.voicePort = w.voicePort;
  ev.participantId = w.participantId;
  ev.sessionId = w.sessionId;
  return ev;
}

std::string ChatClient::eventFor(const wire::Frame& frame, ChatClientEvent& ev, wire::Reason& reason) {
  auto bad = [&](const char* what) {
    reason = wire::Reason::ProtoMalformed;
    return std::string("The host sent a malformed ") + what + ".";
  };
  switch (static_cast<wire::MsgType>(frame.type)) {
    case wire::MsgType::ChatEvent:
      ev.kind = ChatClientEvent::Kind::Chat;
      if (!wire::decodePayload(frame.payload, ev.chat)) return bad("chat message");
      return {};
    case wire::MsgType::UserList: {
      wire::UserList list;
      if (!wire::decodePayload(frame.payload, list)) return bad("user list");
      ev.kind = ChatClientEvent::Kind::Users;
      ev.users = std::move(list.users);
      return {};
    }
    case wire::MsgType::Notice: {
      wire::Notice n;
      if (!wire::decodePayload(frame.payload, n)) return bad("notice");
      ev.kind = ChatClientEvent::Kind::Notice;
      ev.text = std::move(n.text);
      return {};
    }
    default:
      reason = wire::Reason::ProtoState;
      return "The host sent an unexpected message (type " + std::to_string(frame.type) + ").";
  }
}

ChatClientEvent ChatClient::disconnectedEvent(const LinkEnd& end) {
  ChatClientEvent ev;
  ev.kind = ChatClientEvent::Kind::Disconnected;
  ev.text = end.text;
  ev.sessionEnded = end.sessionEnded;
  ev.neverJoined = end.neverJoined;
  ev.hostKeyMismatch = end.hostKeyMismatch;
  ev.needsPassword = end.needsPassword;
  ev.hostBusy = end.hostBusy;
  return ev;
}

void ChatClient::onWelcome(const wire::Welcome& w) {
  {
    std::lock_guard lock(m_mutex);
    m_name = w.name;
  }
  emit(connectedEvent(w));
}

void ChatClient::onFrame(const wire::Frame& frame) {
  if (static_cast<wire::MsgType>(frame.type) == wire::MsgType::VoiceDatagram) {
    wire::VoiceDatagram v;
    if (!wire::decodePayload(frame.payload, v))
      return fail(wire::Reason::ProtoMalformed, "The host sent a malformed voice datagram.");
    VoiceSink sink;
    {
      std::lock_guard lock(m_mutex);
      sink = m_voiceSink;
    }
    if (sink) sink(std::move(v.datagram));  // opened (or dropped) by the voice link
    return;
  }
  if (FileHub::isFileMessage(frame.type)) {
    std::lock_guard delivery(m_fileDelivery);
    std::shared_ptr<FileSink> sink;
    {
      std::lock_guard lock(m_mutex);
      sink = m_fileSink;
      // Before the owner took the connection on (an offer just after our Welcome): kept. A piece
      // never is (nobody asked for it on this connection yet).
      if (!sink && m_heldFileFrames.size() < kMaxHeldFileFrames &&
          frame.type != static_cast<std::uint16_t>(wire::MsgType::FileChunk))
        m_heldFileFrames.emplace_back(frame.type, base::ByteVec(frame.payload.begin(), frame.payload.end()));
    }
    if (sink) sink->onFileFrame(frame);  // checked there (a bad one fails that transfer)
    return;
  }
  ChatClientEvent ev;
  wire::Reason reason = wire::Reason::None;
  if (std::string why = eventFor(frame, ev, reason); !why.empty()) return fail(reason, why);
  emit(std::move(ev));
}

void ChatClient::onEnded(const LinkEnd& end) {
  // The last event: it must arrive even if the queue is full.
  events().pushPastCap(disconnectedEvent(end));
}

}  // namespace huddle::net
