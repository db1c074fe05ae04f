// Message structs of both ports and their wire encoding. Every struct has a kType, write()
// and read(); read() checks every length against net/wire/limits.h and text for UTF-8 before
// the caller sees it. Thread: any (pure functions).
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "net/base/bytes.h"
#include "net/wire/codec.h"
#include "net/wire/limits.h"

namespace huddle::wire {

enum class MsgType : std::uint16_t {
  // Both ports.
  Hello = 0x0001,       // C->H first message: magic, version, port, name, token
  Welcome = 0x0002,     // H->C handshake accepted
  Reject = 0x0003,      // H->C handshake refused, with reason; then close
  Ping = 0x0004,
  Pong = 0x0005,
  Bye = 0x0006,         // C->H leaving on purpose
  SessionEnd = 0x0007,  // H->C the host ended the session (or removed this client)
  Notice = 0x0008,      // H->C a problem with something the client asked (no such user, ...)
  AuthChallenge = 0x0009,  // H->C the room has a password: KDF parameters and salt
  AuthProof = 0x000A,      // C->H HMAC(K, label | TLS exporter | name), see net/room_auth.h
  // Chat port.
  Say = 0x0101,         // C->H public message
  PrivateSay = 0x0102,  // C->H private message to one user
  ChatEvent = 0x0103,   // H->C a server-stamped chat event
  UserList = 0x0104,    // H->C everyone in the session
  VoiceDatagram = 0x0105,  // both ways: a sealed voice datagram, when UDP does not get through
  // Files in the chat (net/wire/file_messages.h).
  FileOffer = 0x0110,    // C->H a file offered to everyone or one person
  FileOffered = 0x0111,  // H->C an offer (to its recipients, and back to its sender)
  FileRequest = 0x0112,  // C->H a receiver asks for a piece; H->C the host asks the sender for it
  FileChunk = 0x0113,    // C->H a sender's piece for one receiver; H->C that piece to the receiver
  FileStatus = 0x0114,   // both ways: accepted, declined, done, failed, cancelled, refused, closed
};

enum class PortKind : std::uint8_t { Chat = 1, Screen = 2 };

// Largest payload accepted for `type` in this phase, or -1 if not allowed (see FrameDecoder).
std::int64_t chatPortPayloadLimit(std::uint16_t type, bool handshakeDone);

// Checks a user name: 1..kMaxNameBytes UTF-8 bytes, no controls, no spaces (names are
// addressed by /msg NAME), no leading '@' or '/'. Empty result = valid, else the reason.
std::string validateName(const std::string& name);
// Checks chat text: 1..kMaxChatTextBytes of UTF-8, no control characters but tab/newline.
std::string validateChatText(const std::string& text);

struct Hello {
  static constexpr MsgType kType = MsgType::Hello;
  std::uint32_t magic = kMagic;
  std::uint16_t version = kProtocolVersion;
  PortKind port = PortKind::Chat;
  std::string name;
  std::uint64_t token = 0;  // screen port: the chat session's token
  // Screen port only: proof of the seat over this connection (net/room_auth.h,
  // screenLoginProof); all zero on a connection without TLS.
  std::array<std::uint8_t, 32> seatProof{};
  void write(Writer& w) const;
  bool read(Reader& r);
};

struct Welcome {
  static constexpr MsgType kType = MsgType::Welcome;
  std::uint16_t version = kProtocolVersion;
  std::uint32_t participantId = 0;
  std::string name;      // final name (a clash gets a suffix)
  std::string hostName;
  std::int64_t serverTimeUs = 0;
  std::uint64_t token = 0;
  std::uint16_t screenPort = 0;  // chat port: where this session's screens are served
  std::uint64_t sessionId = 0;   // random per hosted session: a reconnecting client knows
                                 // whether it is back in the same one (chat seqs continue)
  std::uint16_t voicePort = 0;   // chat port: the UDP port of this session's voice (0: none)
  void write(Writer& w) const;
  bool read(Reader& r);
};

enum class RejectCode : std::uint16_t {
  BadHello = 1,
  VersionMismatch = 2,
  BadName = 3,
  SessionFull = 4,
  Banned = 5,
  ShuttingDown = 6,
  AuthFailed = 7,   // wrong or missing room password (the same reply for every failure)
  LockedOut = 8,    // too many failed attempts from this address; try later
};

struct AuthChallenge {
  static constexpr MsgType kType = MsgType::AuthChallenge;
  std::uint32_t ops = 0;
  std::uint32_t memBytes = 0;
  std::array<std::uint8_t, 16> salt{};
  void write(Writer& w) const;
  bool read(Reader& r);
};

struct AuthProofMsg {
  static constexpr MsgType kType = MsgType::AuthProof;
  std::array<std::uint8_t, 32> proof{};
  void write(Writer& w) const;
  bool read(Reader& r);
};

struct Reject {
  static constexpr MsgType kType = MsgType::Reject;
  std::uint16_t hostVersion = kProtocolVersion;
  RejectCode code = RejectCode::BadHello;
  std::string text;
  void write(Writer& w) const;
  bool read(Reader& r);
};

struct Ping {
  static constexpr MsgType kType = MsgType::Ping;
  std::uint64_t nonce = 0;
  std::int64_t sentUs = 0;  // the pinger's wall clock
  void write(Writer& w) const;
  bool read(Reader& r);
};

struct Pong {
  static constexpr MsgType kType = MsgType::Pong;
  std::uint64_t nonce = 0;
  std::int64_t echoSentUs = 0;  // the ping's sentUs (pinger's clock)
  std::int64_t replyUs = 0;     // the replier's wall clock when answering
  void write(Writer& w) const;
  bool read(Reader& r);
};

// The answer to `ping`, stamped with our wall clock.
base::Bytes pongFor(const Ping& ping);
// A ping stamped with our wall clock now.
base::Bytes pingNow(std::uint64_t nonce);

struct Bye {
  static constexpr MsgType kType = MsgType::Bye;
  void write(Writer&) const {}
  bool read(Reader&) { return true; }
};

struct SessionEnd {
  static constexpr MsgType kType = MsgType::SessionEnd;
  std::string reason;
  void write(Writer& w) const;
  bool read(Reader& r);
};

struct Notice {
  static constexpr MsgType kType = MsgType::Notice;
  std::string text;
  void write(Writer& w) const;
  bool read(Reader& r);
};

// A sealed voice datagram (net/voice_seal.h) carried by the chat connection instead of UDP:
// the payload is the datagram itself, 1..kMaxVoiceDatagramBytes.
struct VoiceDatagram {
  static constexpr MsgType kType = MsgType::VoiceDatagram;
  std::vector<std::uint8_t> datagram;
  void write(Writer& w) const;
  bool read(Reader& r);
};

struct Say {
  static constexpr MsgType kType = MsgType::Say;
  std::uint64_t clientMsgId = 0;
  std::string text;
  void write(Writer& w) const;
  bool read(Reader& r);
};

struct PrivateSay {
  static constexpr MsgType kType = MsgType::PrivateSay;
  std::uint64_t clientMsgId = 0;
  std::string to;
  std::string text;
  void write(Writer& w) const;
  bool read(Reader& r);
};

enum class ChatKind : std::uint8_t { Public = 1, Private = 2, Join = 3, Leave = 4, System = 5 };

struct ChatEvent {
  static constexpr MsgType kType = MsgType::ChatEvent;
  static constexpr std::uint8_t kFlagHistory = 1;  // replayed to a newcomer
  std::uint64_t seq = 0;        // session-wide order, assigned by the host
  std::int64_t timeUs = 0;      // host wall clock
  ChatKind kind = ChatKind::Public;
  std::uint8_t flags = 0;
  std::uint32_t fromId = 0;
  std::string from;
  std::string to;               // private messages only
  std::string text;
  void write(Writer& w) const;
  bool read(Reader& r);
};

struct UserInfo {
  static constexpr std::uint8_t kFlagHost = 1;
  static constexpr std::uint8_t kFlagSharing = 2;
  std::uint32_t id = 0;
  std::string name;
  std::uint8_t flags = 0;
  bool operator==(const UserInfo&) const = default;
};

struct UserList {
  static constexpr MsgType kType = MsgType::UserList;
  std::vector<UserInfo> users;
  void write(Writer& w) const;
  bool read(Reader& r);
};

// Fills in the header of `out` (whose first kFrameHeaderBytes were reserved for it, the
// payload written after) and publishes it as a shareable frame.
inline base::Bytes sealFrame(base::ByteVec&& out, std::uint16_t type) {
  std::uint32_t len = static_cast<std::uint32_t>(out.size() - kFrameHeaderBytes);
  for (int i = 0; i < 4; ++i) out[i] = static_cast<std::uint8_t>(len >> (8 * i));
  out[4] = static_cast<std::uint8_t>(type);
  out[5] = static_cast<std::uint8_t>(type >> 8);
  return base::makeBytes(std::move(out));
}

// Encodes `msg` as a whole frame (header + payload), ready to send to any number of peers.
template <typename M>
base::Bytes encodeFrame(const M& msg) {
  base::ByteVec out;
  out.reserve(64);
  out.resize(kFrameHeaderBytes);
  Writer w(out);
  msg.write(w);
  return sealFrame(std::move(out), static_cast<std::uint16_t>(M::kType));
}

// Decodes a payload as `M`; false if it is short, long, or any field is invalid.
template <typename M>
bool decodePayload(std::span<const std::uint8_t> payload, M& out) {
  Reader r(payload);
  return out.read(r) && r.done();
}

}  // namespace huddle::wire
