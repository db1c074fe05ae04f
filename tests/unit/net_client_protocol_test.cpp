// The client's protocol core with no socket: the handshake, the password challenge, pings,
// the end of a session, and hostile clock stamps, fed as bytes from a scripted host.
#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <vector>

#include "net/client_protocol.h"
#include "net/wire/frame_decoder.h"
#include "net/wire/messages.h"

using namespace huddle;
using namespace huddle::net;

namespace {

constexpr std::int64_t kNowUs = 1'700'000'000'000'000;

int g_derivations = 0;
bool countingDerive(const std::string&, const KdfParams&, RoomKey& out, std::string&) {
  ++g_derivations;
  out.fill(1);
  return true;
}

// Records what the protocol asks of its connection and owner.
struct FakePeer : ClientProtocol::Peer {
  std::vector<std::uint16_t> sentTypes;
  std::vector<std::uint16_t> portFrames;
  int joins = 0;
  bool closed = false, flushed = false;
  wire::Reason reason = wire::Reason::None;

  void sendToHost(base::Bytes frame) override { sentTypes.push_back(std::uint16_t((*frame)[4] | (*frame)[5] << 8)); }
  bool secured = true;  // a TLS session to bind a password proof to
  bool exportKeyingMaterial(const std::string&, std::span<std::uint8_t> out) override {
    std::fill(out.begin(), out.end(), std::uint8_t{0x11});
    return secured;
  }
  void closeLink(wire::Reason r, const std::string&, bool flush) override {
    if (closed) return;
    closed = true;
    flushed = flush;
    reason = r;
  }
  void onJoined(const wire::Welcome&) override { ++joins; }
  void onPortFrame(const wire::Frame& frame) override { portFrames.push_back(frame.type); }
};

struct ClientProtocolTest : ::testing::Test {
  FakePeer peer;
  ClientProtocol protocol{&wire::chatPortPayloadLimit, wire::PortKind::Chat, peer};

  void SetUp() override {
    ClientIdentity id;
    id.name = "bob";
    id.token = 9;
    id.password = "correct horse";
    id.where = "host:1";
    id.deriveKey = &countingDerive;
    protocol.setIdentity(id);
    g_derivations = 0;
  }
  void receive(const base::Bytes& frame) {
    protocol.push(base::view(frame));
    while (protocol.processNext(kNowUs) && !peer.closed) {
    }
  }
  static base::Bytes welcome(std::int64_t serverTimeUs = kNowUs + 5000) {
    wire::Welcome w;
    w.participantId = 3;
    w.name = "bob";
    w.hostName = "alice";
    w.serverTimeUs = serverTimeUs;
    w.token = 77;
    return wire::encodeFrame(w);
  }
  static base::Bytes challenge(std::uint32_t ops, std::uint32_t memBytes) {
    wire::AuthChallenge c;
    c.ops = ops;
    c.memBytes = memBytes;
    return wire::encodeFrame(c);
  }
};

TEST_F(ClientProtocolTest, JoinsOnWelcomeThenAnswersPingsAndHandsOnPortMessages) {
  wire::Hello hello;
  wire::FrameDecoder decoder(&wire::chatPortPayloadLimit);
  decoder.push(base::view(protocol.hello()));
  wire::Frame f;
  ASSERT_EQ(decoder.next(f), wire::FrameDecoder::Status::Frame);
  ASSERT_TRUE(wire::decodePayload(f.payload, hello));
  EXPECT_EQ(hello.name, "bob");
  EXPECT_EQ(hello.token, 9u);

  receive(welcome());
  EXPECT_TRUE(protocol.joined());
  EXPECT_EQ(peer.joins, 1);
  EXPECT_EQ(protocol.participantId(), 3u);
  EXPECT_EQ(protocol.token(), 77u);
  EXPECT_EQ(protocol.clockOffsetUs(), 5000);
  receive(wire::pingNow(1));
  wire::Notice n;
  n.text = "hi";
  receive(wire::encodeFrame(n));
  EXPECT_EQ(peer.sentTypes, std::vector<std::uint16_t>{std::uint16_t(wire::MsgType::Pong)});
  EXPECT_EQ(peer.portFrames, std::vector<std::uint16_t>{std::uint16_t(wire::MsgType::Notice)});
  EXPECT_FALSE(peer.closed);
}

TEST_F(ClientProtocolTest, AHostNameWithControlCharactersIsAMalformedWelcome) {
  // The host's name reaches the terminal raw and the known_hosts label.
  for (const char* hostName : {"alice\n[12:00:00] * mallory is the host", "al\x1b[2Jice", "two words", ""}) {
    FakePeer p;
    ClientProtocol proto{&wire::chatPortPayloadLimit, wire::PortKind::Chat, p};
    wire::Welcome w;
    w.participantId = 3;
    w.name = "bob";
    w.hostName = hostName;
    w.serverTimeUs = kNowUs;
    proto.push(base::view(wire::encodeFrame(w)));
    while (proto.processNext(kNowUs) && !p.closed) {
    }
    EXPECT_TRUE(p.closed) << hostName;
    EXPECT_EQ(p.reason, wire::Reason::ProtoMalformed) << hostName;
    EXPECT_EQ(p.joins, 0) << hostName;
    EXPECT_FALSE(proto.joined());
  }
}

TEST_F(ClientProtocolTest, ChatBeforeTheWelcomeBreaksTheHandshake) {
  wire::Notice n;
  n.text = "early";
  receive(wire::encodeFrame(n));  // not even allowed through the decoder before the welcome
  EXPECT_TRUE(peer.closed);
  EXPECT_TRUE(peer.portFrames.empty());
  LinkEnd end = protocol.ended(peer.reason, "closed");
  EXPECT_TRUE(end.neverJoined);
  EXPECT_FALSE(end.text.empty());
}

TEST_F(ClientProtocolTest, AbsurdKdfParametersAreRefusedWithoutDerivingAKey) {
  receive(challenge(0xFFFF'FFFF, 0xFFFF'FFFF));
  EXPECT_TRUE(peer.closed);
  EXPECT_EQ(peer.reason, wire::Reason::Rejected);
  EXPECT_EQ(g_derivations, 0);
  EXPECT_TRUE(peer.sentTypes.empty());
  EXPECT_NE(protocol.ended(peer.reason, "closed").text.find("costlier"), std::string::npos);
}

TEST_F(ClientProtocolTest, AnAcceptableChallengeIsAnsweredWithAProof) {
  receive(challenge(2, 64u << 20));
  EXPECT_FALSE(peer.closed);
  EXPECT_EQ(g_derivations, 1);
  EXPECT_EQ(peer.sentTypes, std::vector<std::uint16_t>{std::uint16_t(wire::MsgType::AuthProof)});
  wire::Reject r;
  r.code = wire::RejectCode::AuthFailed;
  receive(wire::encodeFrame(r));
  LinkEnd end = protocol.ended(peer.reason, "closed");
  EXPECT_TRUE(end.needsPassword);
  EXPECT_NE(end.text.find("wrong password"), std::string::npos);
}

TEST_F(ClientProtocolTest, OnlyOneChallengeIsAnsweredPerConnection) {
  // A hostile host repeating its challenge would make us run Argon2id once per frame.
  receive(challenge(2, 64u << 20));
  receive(challenge(2, 64u << 20));
  receive(challenge(2, 64u << 20));
  EXPECT_EQ(g_derivations, 1);
  EXPECT_EQ(peer.sentTypes, std::vector<std::uint16_t>{std::uint16_t(wire::MsgType::AuthProof)});
  EXPECT_TRUE(peer.closed);
  EXPECT_EQ(peer.reason, wire::Reason::ProtoState);
  EXPECT_NE(protocol.ended(peer.reason, "closed").text.find("twice"), std::string::npos);
}

TEST_F(ClientProtocolTest, NoProofIsSentOverALinkWithoutTls) {
  peer.secured = false;  // a proof with nothing to bind it to could be replayed
  receive(challenge(2, 64u << 20));
  EXPECT_TRUE(peer.closed);
  EXPECT_EQ(peer.reason, wire::Reason::Tls);
  EXPECT_TRUE(peer.sentTypes.empty());
  EXPECT_EQ(g_derivations, 0) << "the password is not even used";
}

TEST_F(ClientProtocolTest, SessionEndClosesAfterFlushingAndSaysWhy) {
  receive(welcome());
  wire::SessionEnd end;
  end.reason = "alice ended the session";
  receive(wire::encodeFrame(end));
  EXPECT_TRUE(peer.closed);
  EXPECT_TRUE(peer.flushed);
  LinkEnd e = protocol.ended(wire::Reason::IoEof, "eof");
  EXPECT_TRUE(e.sessionEnded);
  EXPECT_FALSE(e.neverJoined);
  EXPECT_EQ(e.text, "alice ended the session");
  EXPECT_FALSE(protocol.joined());
}

TEST_F(ClientProtocolTest, HostileClockStampsGiveABoundedOffset) {
  constexpr auto kMin = std::numeric_limits<std::int64_t>::min(), kMax = std::numeric_limits<std::int64_t>::max();
  receive(welcome(kMin));
  const std::int64_t low = protocol.clockOffsetUs();
  EXPECT_LT(low, 0);
  EXPECT_GT(low, kMin / 2);  // far from overflowing when added to a wall-clock time
  wire::Pong pong;
  pong.echoSentUs = kMin;  // not a stamp of ours: ignored
  pong.replyUs = 0;
  receive(wire::encodeFrame(pong));
  EXPECT_EQ(protocol.clockOffsetUs(), low);
  pong.echoSentUs = kNowUs - 2000;
  pong.replyUs = kMax;
  receive(wire::encodeFrame(pong));
  EXPECT_EQ(protocol.roundTripUs(), 2000);
  EXPECT_GT(protocol.clockOffsetUs(), 0);
  EXPECT_LT(protocol.clockOffsetUs(), kMax / 2);
  EXPECT_FALSE(peer.closed);
}

}  // namespace
