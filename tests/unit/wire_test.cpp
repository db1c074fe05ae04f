// Unit tests for huddle_wire: message round trips, every limit and malformed case, and the
// frame decoder under random chunking.
#include <gtest/gtest.h>

#include <random>

#include "net/wire/frame_decoder.h"
#include "net/wire/messages.h"

using namespace huddle;
using namespace huddle::wire;

namespace {

// Splits a frame into header fields and payload (and checks the header).
std::span<const std::uint8_t> payloadOf(const base::Bytes& frame, MsgType type) {
  EXPECT_GE(frame->size(), kFrameHeaderBytes);
  std::uint32_t len = (*frame)[0] | (*frame)[1] << 8 | (*frame)[2] << 16 | std::uint32_t((*frame)[3]) << 24;
  EXPECT_EQ(len, frame->size() - kFrameHeaderBytes);
  EXPECT_EQ((*frame)[4] | (*frame)[5] << 8, static_cast<int>(type));
  return std::span<const std::uint8_t>(frame->data() + kFrameHeaderBytes, len);
}

template <typename M>
M roundTrip(const M& in) {
  base::Bytes frame = encodeFrame(in);
  M out;
  EXPECT_TRUE(decodePayload(payloadOf(frame, M::kType), out));
  return out;
}

base::ByteVec rawFrame(std::uint16_t type, std::span<const std::uint8_t> payload, std::uint32_t lenOverride = 0) {
  base::ByteVec v;
  Writer w(v);
  w.u32(lenOverride ? lenOverride : static_cast<std::uint32_t>(payload.size()));
  w.u16(type);
  w.raw(payload.data(), payload.size());
  return v;
}

}  // namespace

TEST(Messages, RoundTrips) {
  Hello h;
  h.name = "bob";
  h.token = 42;
  Hello h2 = roundTrip(h);
  EXPECT_EQ(h2.name, "bob");
  EXPECT_EQ(h2.token, 42u);
  EXPECT_EQ(h2.version, kProtocolVersion);

  Welcome w;
  w.participantId = 7;
  w.name = "bob_2";
  w.hostName = "alice";
  w.serverTimeUs = 123456789;
  w.token = 99;
  w.voicePort = 9997;
  Welcome w2 = roundTrip(w);
  EXPECT_EQ(w2.voicePort, 9997);
  EXPECT_EQ(w2.participantId, 7u);
  EXPECT_EQ(w2.name, "bob_2");
  EXPECT_EQ(w2.hostName, "alice");
  EXPECT_EQ(w2.serverTimeUs, 123456789);

  ChatEvent e;
  e.seq = 1ull << 40;
  e.timeUs = -5;
  e.kind = ChatKind::Private;
  e.flags = ChatEvent::kFlagHistory;
  e.fromId = 3;
  e.from = "a";
  e.to = "b";
  e.text = "caf\xC3\xA9\nline two";
  ChatEvent e2 = roundTrip(e);
  EXPECT_EQ(e2.seq, e.seq);
  EXPECT_EQ(e2.timeUs, -5);
  EXPECT_EQ(e2.kind, ChatKind::Private);
  EXPECT_EQ(e2.text, e.text);
  EXPECT_EQ(e2.to, "b");

  UserList u;
  u.users = {{1, "host", UserInfo::kFlagHost}, {2, "bob", UserInfo::kFlagSharing}};
  EXPECT_EQ(roundTrip(u).users, u.users);

  Reject r;
  r.code = RejectCode::SessionFull;
  r.text = "full";
  EXPECT_EQ(roundTrip(r).code, RejectCode::SessionFull);

  PrivateSay p;
  p.clientMsgId = 5;
  p.to = "carol";
  p.text = "psst";
  PrivateSay p2 = roundTrip(p);
  EXPECT_EQ(p2.to, "carol");
  EXPECT_EQ(p2.text, "psst");

  Pong pong;
  pong.nonce = 1;
  pong.echoSentUs = 2;
  pong.replyUs = 3;
  EXPECT_EQ(roundTrip(pong).replyUs, 3);
}

TEST(Messages, RejectsTruncatedAndTrailingBytes) {
  ChatEvent e;
  e.from = "a";
  e.text = "hello";
  base::Bytes frame = encodeFrame(e);
  auto payload = payloadOf(frame, MsgType::ChatEvent);
  ChatEvent out;
  for (std::size_t n = 0; n < payload.size(); ++n) EXPECT_FALSE(decodePayload(payload.first(n), out)) << n;
  base::ByteVec longer(payload.begin(), payload.end());
  longer.push_back(0);
  EXPECT_FALSE(decodePayload(std::span<const std::uint8_t>(longer), out));
}

TEST(Messages, TextLimitsAtCapMinusOneCapAndCapPlusOne) {
  for (std::size_t n : {kMaxChatTextBytes - 1, kMaxChatTextBytes, kMaxChatTextBytes + 1}) {
    ChatEvent e;
    e.from = "a";
    e.text.assign(n, 'x');
    ChatEvent out;
    bool ok = decodePayload(payloadOf(encodeFrame(e), MsgType::ChatEvent), out);
    EXPECT_EQ(ok, n <= kMaxChatTextBytes) << n;
    EXPECT_EQ(validateChatText(e.text).empty(), n <= kMaxChatTextBytes) << n;
  }
  for (std::size_t n : {kMaxNameBytes - 1, kMaxNameBytes, kMaxNameBytes + 1})
    EXPECT_EQ(validateName(std::string(n, 'n')).empty(), n <= kMaxNameBytes) << n;
}

TEST(Messages, ValidateNameAndText) {
  EXPECT_TRUE(validateName("bob").empty());
  EXPECT_TRUE(validateName("Zo\xC3\xAB").empty());
  EXPECT_FALSE(validateName("").empty());
  EXPECT_FALSE(validateName("two words").empty());
  EXPECT_FALSE(validateName("/msg").empty());
  EXPECT_FALSE(validateName("bad\xC0\xAF").empty());
  EXPECT_FALSE(validateName("bell\x07").empty());
  EXPECT_TRUE(validateChatText("multi\nline\ttext").empty());
  EXPECT_FALSE(validateChatText("").empty());
  EXPECT_FALSE(validateChatText("\xED\xA0\x80").empty());
  EXPECT_FALSE(validateChatText("\x1b[2J").empty());
}

TEST(Messages, HostileChatEventIsRefusedByClientDecoder) {
  ChatEvent e;
  e.from = "evil\x1b[31m";
  e.text = "hi";
  ChatEvent out;
  EXPECT_FALSE(decodePayload(payloadOf(encodeFrame(e), MsgType::ChatEvent), out));
  e.from = "ok";
  e.text = "bad\xFF";
  EXPECT_FALSE(decodePayload(payloadOf(encodeFrame(e), MsgType::ChatEvent), out));
}

TEST(Messages, UserListCountIsCapped) {
  base::ByteVec v;
  Writer w(v);
  w.u16(static_cast<std::uint16_t>(kMaxUsersInList + 1));
  UserList out;
  EXPECT_FALSE(decodePayload(std::span<const std::uint8_t>(v), out));
  base::ByteVec huge;
  Writer w2(huge);
  w2.u16(60000);  // claims many users, holds none: fails without reserving 60000
  EXPECT_FALSE(decodePayload(std::span<const std::uint8_t>(huge), out));
}

TEST(Messages, HelloVersionMismatchStillReadsMagicAndVersion) {
  base::ByteVec v;
  Writer w(v);
  w.u32(kMagic);
  w.u16(kProtocolVersion + 1);
  w.u8(99);  // a future layout
  Hello h;
  EXPECT_FALSE(decodePayload(std::span<const std::uint8_t>(v), h));
  EXPECT_EQ(h.magic, kMagic);
  EXPECT_EQ(h.version, kProtocolVersion + 1);
}

TEST(FrameDecoder, PreHandshakeOnlyAllowsHandshakeTypes) {
  FrameDecoder d(&chatPortPayloadLimit);
  Say s;
  s.text = "too early";
  d.push(base::view(encodeFrame(s)));
  Frame f;
  EXPECT_EQ(d.next(f), FrameDecoder::Status::Error);
  EXPECT_EQ(d.reason(), Reason::ProtoState);
}

// The voice datagram a chat connection may carry: at its cap, and one byte over.
TEST(FrameDecoder, VoiceDatagramAtItsCap) {
  for (std::uint32_t len : {std::uint32_t(kMaxVoiceDatagramBytes), std::uint32_t(kMaxVoiceDatagramBytes + 1)}) {
    FrameDecoder d(&chatPortPayloadLimit);
    d.setHandshakeDone(true);
    base::ByteVec v = rawFrame(static_cast<std::uint16_t>(MsgType::VoiceDatagram), base::ByteVec(len, 0x56));
    d.push(v);
    Frame f;
    EXPECT_EQ(d.next(f), len <= kMaxVoiceDatagramBytes ? FrameDecoder::Status::Frame : FrameDecoder::Status::Error) << len;
  }
  VoiceDatagram in;
  in.datagram.assign(kMaxVoiceDatagramBytes, 7);
  VoiceDatagram out = roundTrip(in);
  EXPECT_EQ(out.datagram, in.datagram);
}

TEST(FrameDecoder, UnknownTypeAndOversize) {
  {
    FrameDecoder d(&chatPortPayloadLimit);
    d.setHandshakeDone(true);
    base::ByteVec v = rawFrame(0x7777, {});
    d.push(v);
    Frame f;
    EXPECT_EQ(d.next(f), FrameDecoder::Status::Error);
    EXPECT_EQ(d.reason(), Reason::ProtoHeader);
  }
  for (std::uint32_t len : {0xFFFFFFFFu, kMaxChatPortPayload + 1}) {
    FrameDecoder d(&chatPortPayloadLimit);
    d.setHandshakeDone(true);
    base::ByteVec v = rawFrame(static_cast<std::uint16_t>(MsgType::Say), {}, len);
    d.push(v);  // only the header: the cap is checked before waiting for the payload
    Frame f;
    EXPECT_EQ(d.next(f), FrameDecoder::Status::Error) << len;
    EXPECT_EQ(d.reason(), Reason::ProtoOversize);
  }
  {
    FrameDecoder d(&chatPortPayloadLimit);
    base::ByteVec v = rawFrame(static_cast<std::uint16_t>(MsgType::Hello), {}, kMaxPreHandshakePayload + 1);
    d.push(v);
    Frame f;
    EXPECT_EQ(d.next(f), FrameDecoder::Status::Error);
    EXPECT_EQ(d.reason(), Reason::ProtoOversize);
  }
}

TEST(FrameDecoder, PayloadAtCapIsAccepted) {
  FrameDecoder d(&chatPortPayloadLimit);
  d.setHandshakeDone(true);
  base::ByteVec payload(kMaxChatPortPayload, 0x41);
  base::ByteVec v = rawFrame(static_cast<std::uint16_t>(MsgType::Say), payload);
  d.push(v);
  Frame f;
  ASSERT_EQ(d.next(f), FrameDecoder::Status::Frame);
  EXPECT_EQ(f.payload.size(), kMaxChatPortPayload);
  EXPECT_EQ(d.next(f), FrameDecoder::Status::NeedMore);
  EXPECT_FALSE(d.hasPartial());
}

TEST(FrameDecoder, RandomChunkingGivesTheSameMessages) {
  std::mt19937 rng(1234);
  base::ByteVec stream;
  std::vector<std::string> sent;
  for (int i = 0; i < 3000; ++i) {
    ChatEvent e;
    e.seq = static_cast<std::uint64_t>(i);
    e.from = "u" + std::to_string(i % 17);
    e.text = std::string(rng() % 2000 + 1, static_cast<char>('a' + i % 26));
    sent.push_back(e.text);
    base::Bytes f = encodeFrame(e);
    stream.insert(stream.end(), f->begin(), f->end());
  }
  for (int round = 0; round < 3; ++round) {
    FrameDecoder d(&chatPortPayloadLimit);
    d.setHandshakeDone(true);
    std::size_t pos = 0, got = 0;
    while (pos < stream.size()) {
      std::size_t n = std::min<std::size_t>(stream.size() - pos, rng() % (round == 0 ? 7 : 70000) + 1);
      d.push(std::span<const std::uint8_t>(stream.data() + pos, n));
      pos += n;
      Frame f;
      while (d.next(f) == FrameDecoder::Status::Frame) {
        ChatEvent e;
        ASSERT_TRUE(decodePayload(f.payload, e));
        ASSERT_EQ(e.seq, got);
        ASSERT_EQ(e.text, sent[got]);
        ++got;
      }
    }
    EXPECT_EQ(got, sent.size());
    EXPECT_FALSE(d.hasPartial());
  }
}

TEST(FrameDecoder, PartialIsReported) {
  FrameDecoder d(&chatPortPayloadLimit);
  Hello h;
  h.name = "x";
  base::Bytes f = encodeFrame(h);
  d.push(std::span<const std::uint8_t>(f->data(), 3));
  Frame out;
  EXPECT_EQ(d.next(out), FrameDecoder::Status::NeedMore);
  EXPECT_TRUE(d.hasPartial());
}
