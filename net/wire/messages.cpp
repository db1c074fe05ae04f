#include "net/wire/messages.h"

#include "net/base/clock.h"
#include "net/base/utf8.h"

namespace huddle::wire {

std::int64_t chatPortPayloadLimit(std::uint16_t type, bool handshakeDone) {
  switch (static_cast<MsgType>(type)) {
    case MsgType::Hello:
    case MsgType::Welcome:
    case MsgType::Reject:
    case MsgType::AuthChallenge:
    case MsgType::AuthProof:
      return kMaxPreHandshakePayload;
    case MsgType::Ping:
    case MsgType::Pong:
    case MsgType::Bye:
    case MsgType::SessionEnd:
    case MsgType::Notice:
    case MsgType::Say:
    case MsgType::PrivateSay:
    case MsgType::ChatEvent:
    case MsgType::UserList:
      return handshakeDone ? std::int64_t(kMaxChatPortPayload) : -1;
    case MsgType::VoiceDatagram:
      return handshakeDone ? std::int64_t(kMaxVoiceDatagramBytes) : -1;
    case MsgType::FileOffer:
    case MsgType::FileOffered:
    case MsgType::FileRequest:
    case MsgType::FileStatus:
      return handshakeDone ? std::int64_t(kMaxPreHandshakePayload) : -1;
    case MsgType::FileChunk:
      return handshakeDone ? std::int64_t(kMaxFileChunkPayload) : -1;
  }
  return -1;
}

std::string validateName(const std::string& name) {
  if (name.empty()) return "name is empty";
  if (name.size() > kMaxNameBytes) return "name is longer than " + std::to_string(kMaxNameBytes) + " bytes";
  if (!base::isValidUtf8(name)) return "name is not valid UTF-8";
  if (base::hasForbiddenControls(name, false)) return "name contains control characters";
  for (char c : name)
    if (c == ' ' || c == '\t') return "name contains spaces";
  if (name[0] == '/' || name[0] == '@') return "name starts with '/' or '@'";
  return {};
}

std::string validateChatText(const std::string& text) {
  if (text.empty()) return "message is empty";
  if (text.size() > kMaxChatTextBytes) return "message is longer than " + std::to_string(kMaxChatTextBytes) + " bytes";
  if (!base::isValidUtf8(text)) return "message is not valid UTF-8";
  if (base::hasForbiddenControls(text, true)) return "message contains control characters";
  return {};
}

void Hello::write(Writer& w) const {
  w.u32(magic);
  w.u16(version);
  w.u8(static_cast<std::uint8_t>(port));
  w.str(name);
  w.u64(token);
  if (port == PortKind::Screen) w.raw(seatProof.data(), seatProof.size());
}
// Magic and version are read first and alone, so a host can tell "other protocol version"
// apart from garbage even if the rest of a future Hello looks different.
bool Hello::read(Reader& r) {
  magic = r.u32();
  version = r.u16();
  if (!r.ok() || magic != kMagic) return false;
  if (version != kProtocolVersion) return true;  // caller rejects with VersionMismatch
  auto p = r.u8();
  if (p != static_cast<std::uint8_t>(PortKind::Chat) && p != static_cast<std::uint8_t>(PortKind::Screen))
    return false;
  port = static_cast<PortKind>(p);
  name = r.str(kMaxNameBytes);
  token = r.u64();
  if (port == PortKind::Screen)
    for (auto& b : seatProof) b = r.u8();
  return r.done();
}

void Welcome::write(Writer& w) const {
  w.u16(version);
  w.u32(participantId);
  w.str(name);
  w.str(hostName);
  w.i64(serverTimeUs);
  w.u64(token);
  w.u16(screenPort);
  w.u64(sessionId);
  w.u16(voicePort);
}
bool Welcome::read(Reader& r) {
  version = r.u16();
  participantId = r.u32();
  name = r.str(kMaxNameBytes);
  hostName = r.str(kMaxNameBytes);
  serverTimeUs = r.i64();
  token = r.u64();
  screenPort = r.u16();
  sessionId = r.u64();
  voicePort = r.u16();
  return r.ok() && base::isValidUtf8(name) && base::isValidUtf8(hostName);
}

void Reject::write(Writer& w) const {
  w.u16(hostVersion);
  w.u16(static_cast<std::uint16_t>(code));
  w.str(text);
}
bool Reject::read(Reader& r) {
  hostVersion = r.u16();
  code = static_cast<RejectCode>(r.u16());
  text = r.str(kMaxReasonBytes);
  return r.ok() && base::isValidUtf8(text) && !base::hasForbiddenControls(text, false);
}

void Ping::write(Writer& w) const { w.u64(nonce); w.i64(sentUs); }
bool Ping::read(Reader& r) { nonce = r.u64(); sentUs = r.i64(); return r.ok(); }

void Pong::write(Writer& w) const { w.u64(nonce); w.i64(echoSentUs); w.i64(replyUs); }
bool Pong::read(Reader& r) { nonce = r.u64(); echoSentUs = r.i64(); replyUs = r.i64(); return r.ok(); }

base::Bytes pongFor(const Ping& ping) {
  Pong pong;
  pong.nonce = ping.nonce;
  pong.echoSentUs = ping.sentUs;
  pong.replyUs = base::wallUs();
  return encodeFrame(pong);
}

base::Bytes pingNow(std::uint64_t nonce) {
  Ping ping;
  ping.nonce = nonce;
  ping.sentUs = base::wallUs();
  return encodeFrame(ping);
}

void SessionEnd::write(Writer& w) const { w.str(reason); }
bool SessionEnd::read(Reader& r) {
  reason = r.str(kMaxReasonBytes);
  return r.ok() && base::isValidUtf8(reason) && !base::hasForbiddenControls(reason, false);
}

void AuthChallenge::write(Writer& w) const {
  w.u32(ops);
  w.u32(memBytes);
  w.raw(salt.data(), salt.size());
}
bool AuthChallenge::read(Reader& r) {
  ops = r.u32();
  memBytes = r.u32();
  for (auto& b : salt) b = r.u8();
  return r.ok();
}

void AuthProofMsg::write(Writer& w) const { w.raw(proof.data(), proof.size()); }
bool AuthProofMsg::read(Reader& r) {
  for (auto& b : proof) b = r.u8();
  return r.ok();
}

void VoiceDatagram::write(Writer& w) const { w.raw(datagram.data(), datagram.size()); }
bool VoiceDatagram::read(Reader& r) {
  const auto rest = r.bytes(r.remaining());
  datagram.assign(rest.begin(), rest.end());
  return r.ok() && !datagram.empty() && datagram.size() <= kMaxVoiceDatagramBytes;
}

void Notice::write(Writer& w) const { w.str(text); }
bool Notice::read(Reader& r) {
  text = r.str(kMaxReasonBytes);
  return r.ok() && base::isValidUtf8(text) && !base::hasForbiddenControls(text, false);
}

void Say::write(Writer& w) const { w.u64(clientMsgId); w.str(text); }
bool Say::read(Reader& r) {
  clientMsgId = r.u64();
  text = r.str(kMaxChatTextBytes);
  return r.ok();  // text is validated by the host, which names the reason
}

void PrivateSay::write(Writer& w) const { w.u64(clientMsgId); w.str(to); w.str(text); }
bool PrivateSay::read(Reader& r) {
  clientMsgId = r.u64();
  to = r.str(kMaxNameBytes);
  text = r.str(kMaxChatTextBytes);
  return r.ok();
}

void ChatEvent::write(Writer& w) const {
  w.u64(seq);
  w.i64(timeUs);
  w.u8(static_cast<std::uint8_t>(kind));
  w.u8(flags);
  w.u32(fromId);
  w.str(from);
  w.str(to);
  w.str(text);
}
bool ChatEvent::read(Reader& r) {
  seq = r.u64();
  timeUs = r.i64();
  auto k = r.u8();
  flags = r.u8();
  fromId = r.u32();
  from = r.str(kMaxNameBytes);
  to = r.str(kMaxNameBytes);
  text = r.str(kMaxChatTextBytes);
  if (!r.ok() || k < static_cast<std::uint8_t>(ChatKind::Public) || k > static_cast<std::uint8_t>(ChatKind::System))
    return false;
  kind = static_cast<ChatKind>(k);
  // A client must survive a hostile host too: refuse text that would garble its display.
  return base::isValidUtf8(from) && base::isValidUtf8(to) && base::isValidUtf8(text) &&
         !base::hasForbiddenControls(from, false) && !base::hasForbiddenControls(to, false) &&
         !base::hasForbiddenControls(text, true);
}

void UserList::write(Writer& w) const {
  w.u16(static_cast<std::uint16_t>(users.size()));
  for (const auto& u : users) {
    w.u32(u.id);
    w.str(u.name);
    w.u8(u.flags);
  }
}
bool UserList::read(Reader& r) {
  std::size_t n = r.u16();
  if (!r.ok() || n > kMaxUsersInList) return false;
  users.clear();
  users.reserve(n);
  for (std::size_t i = 0; i < n && r.ok(); ++i) {
    UserInfo u;
    u.id = r.u32();
    u.name = r.str(kMaxNameBytes);
    u.flags = r.u8();
    if (!base::isValidUtf8(u.name) || base::hasForbiddenControls(u.name, false)) return false;
    users.push_back(std::move(u));
  }
  return r.ok();
}

}  // namespace huddle::wire
