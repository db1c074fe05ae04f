// The host's voice relay (net/voice_hub.h): joining, forwarding sealed frames to the other
// members under their own keys, the seat's return address (only its newest authentic
// datagram moves it), and every bad datagram dropped and counted by why.
#include <gtest/gtest.h>

#include <unistd.h>

#include "net/voice_server.h"
#include "net_voice_support.h"

using namespace huddle;
using namespace huddle::net;
using namespace huddle::net::test;

namespace {

constexpr std::int64_t kT0 = 1'000'000;

// What `listener` reads from the datagrams addressed to it.
std::vector<base::ByteVec> readAt(VoiceClientEnd& listener, const std::vector<VoiceDatagram>& out) {
  std::vector<base::ByteVec> plains;
  for (const auto& d : out) {
    if (!(d.to == listener.endpoint)) continue;
    base::ByteVec plain;
    EXPECT_EQ(listener.opener.open(d.bytes, plain), VoiceOpener::Result::Ok);
    plains.push_back(plain);
  }
  return plains;
}

TEST(VoiceHub, JoinIsAnsweredAndFramesReachEveryOtherMemberUnchanged) {
  VoiceRig rig;
  auto ack = rig.join(1, kT0);
  ASSERT_EQ(ack.size(), 1u);
  EXPECT_EQ(readAt(rig.end(1), ack), std::vector<base::ByteVec>{base::ByteVec{kVoiceJoinAck}});
  rig.join(2, kT0);
  rig.join(3, kT0);
  const base::ByteVec frame = voiceFramePlain(1, 0);
  auto out = rig.send(1, frame, kT0 + 10'000);
  ASSERT_EQ(out.size(), 2u);  // to 2 and 3, not back to 1
  EXPECT_EQ(readAt(rig.end(2), out), std::vector<base::ByteVec>{frame});
  EXPECT_EQ(readAt(rig.end(3), out), std::vector<base::ByteVec>{frame});
  EXPECT_TRUE(readAt(rig.end(1), out).empty());
  EXPECT_EQ(rig.hub.stats().members, 3u);
  EXPECT_EQ(rig.hub.stats().frames, 1u);
  EXPECT_TRUE(rig.hub.speaking(1, kT0 + 20'000));
  EXPECT_FALSE(rig.hub.speaking(2, kT0 + 20'000));
}

TEST(VoiceHub, OnlyMembersHearAndOnlyMembersSpeak) {
  VoiceRig rig;
  rig.join(1, kT0);
  // 2 is seated in the chat but has not joined voice: it hears nothing, and its frames go nowhere.
  EXPECT_TRUE(rig.send(1, voiceFramePlain(1, 0), kT0).empty());
  EXPECT_TRUE(rig.send(2, voiceFramePlain(2, 0), kT0).empty());
  EXPECT_EQ(rig.hub.stats().notJoined, 1u);
  rig.join(2, kT0);
  EXPECT_EQ(rig.send(2, voiceFramePlain(2, 1), kT0).size(), 1u);
  // Leaving: no longer forwarded to, nor from.
  rig.send(2, base::ByteVec{kVoiceLeave}, kT0);
  EXPECT_TRUE(rig.send(1, voiceFramePlain(1, 1), kT0).empty());
  EXPECT_EQ(rig.hub.stats().members, 1u);
}

TEST(VoiceHub, SilentFramesAreNotForwarded) {
  VoiceRig rig;
  rig.join(1, kT0);
  rig.join(2, kT0);
  EXPECT_TRUE(rig.send(1, voiceFramePlain(1, 0, /*flags=*/0), kT0).empty());
  EXPECT_EQ(rig.hub.stats().silent, 1u);
}

TEST(VoiceHub, ASeatCannotSpeakAsAnother) {
  VoiceRig rig;
  rig.join(1, kT0);
  rig.join(2, kT0);
  // 1's own key, but a frame naming 2 as its speaker.
  EXPECT_TRUE(rig.send(1, voiceFramePlain(2, 0), kT0).empty());
  EXPECT_EQ(rig.hub.stats().badPayload, 1u);
}

TEST(VoiceHub, BadPlaintextsAreDroppedAndCounted) {
  VoiceRig rig;
  rig.join(1, kT0);
  rig.join(2, kT0);
  base::ByteVec wrongVersion = voiceFramePlain(1, 0);
  wrongVersion[0] = 2;
  base::ByteVec unknownFlag = voiceFramePlain(1, 1, 0x81);
  base::ByteVec lengthLies = voiceFramePlain(1, 2);
  lengthLies[14] += 1;
  base::ByteVec noOpus = voiceFramePlain(1, 3, 0x01, 0);
  base::ByteVec tooMuchOpus = voiceFramePlain(1, 4, 0x01, wire::kMaxVoiceOpusBytes + 1);
  for (const auto& p : {wrongVersion, unknownFlag, lengthLies, noOpus, tooMuchOpus, base::ByteVec{'X'}, base::ByteVec{}})
    EXPECT_TRUE(rig.send(1, p, kT0).empty());
  EXPECT_EQ(rig.hub.stats().badPayload, 7u);
  // The largest frame there may be still goes.
  EXPECT_EQ(rig.send(1, voiceFramePlain(1, 5, 0x01, wire::kMaxVoiceOpusBytes), kT0).size(), 1u);
}

TEST(VoiceHub, ForgedReplayedOversizeAndUnknownDatagramsAreDroppedAndCounted) {
  VoiceRig rig;
  rig.join(1, kT0);
  rig.join(2, kT0);
  const base::ByteVec good = rig.end(1).sealer.seal(voiceFramePlain(1, 0));
  EXPECT_EQ(rig.deliver(good, rig.end(1).endpoint, kT0).size(), 1u);
  EXPECT_TRUE(rig.deliver(good, rig.end(1).endpoint, kT0).empty());  // replay
  base::ByteVec bent = rig.end(1).sealer.seal(voiceFramePlain(1, 1));
  bent[bent.size() - 1] ^= 1;
  EXPECT_TRUE(rig.deliver(bent, rig.end(1).endpoint, kT0).empty());
  // Sealed with someone else's key under 1's channel.
  VoiceSealer thief(voiceKeysFor(3).up, VoiceDirection::Up, 1);
  for (int i = 0; i < 10; ++i) thief.seal(base::ByteVec{1});  // a counter ahead of 1's
  EXPECT_TRUE(rig.deliver(thief.seal(voiceFramePlain(1, 2)), rig.end(1).endpoint, kT0).empty());
  // A channel nobody holds; not a sealed datagram at all; one over the size cap.
  VoiceSealer stranger(voiceKeysFor(9).up, VoiceDirection::Up, 9);
  EXPECT_TRUE(rig.deliver(stranger.seal(voiceFramePlain(9, 0)), {0x0A000001, 5}, kT0).empty());
  EXPECT_TRUE(rig.deliver(base::ByteVec(40, 0x41), {0x0A000001, 5}, kT0).empty());
  std::vector<VoiceDatagram> out;
  rig.hub.receive(base::ByteVec(wire::kMaxVoiceDatagramBytes, 0x56), {0x0A000001, 5}, kT0, out, /*oversize=*/true);
  EXPECT_TRUE(out.empty());
  const VoiceHubStats s = rig.hub.stats();
  EXPECT_EQ(s.replayed, 1u);
  EXPECT_EQ(s.badTag, 2u);
  EXPECT_EQ(s.unknownSeat, 1u);
  EXPECT_EQ(s.malformed, 1u);
  EXPECT_EQ(s.oversize, 1u);
  EXPECT_EQ(s.dropped(), 6u);
  EXPECT_EQ(s.frames, 1u);
}

TEST(VoiceHub, OnlyTheNewestAuthenticDatagramMovesASeatsReturnAddress) {
  VoiceRig rig;
  rig.join(1, kT0);
  rig.join(2, kT0);
  const VoiceEndpoint attacker{0x0A0000FE, 666};
  // A forged datagram from elsewhere, and a replay of a real one from elsewhere: 2's frames
  // still go to 1's real address.
  base::ByteVec older = rig.end(1).sealer.seal(base::ByteVec{kVoiceJoin});
  rig.deliver(rig.end(1).sealer.seal(base::ByteVec{kVoiceJoin}), rig.end(1).endpoint, kT0);
  rig.deliver(base::ByteVec(60, 0x56), attacker, kT0);
  VoiceSealer forger(voiceKeysFor(5).up, VoiceDirection::Up, 1);
  rig.deliver(forger.seal(base::ByteVec{kVoiceJoin}), attacker, kT0);
  rig.deliver(older, attacker, kT0);  // authentic, but older than the newest: a delayed copy
  EXPECT_EQ(rig.hub.stats().wrongAddress, 2u);  // neither from 1's machine: not opened
  // The same from 1's own machine (another program there, or behind the same NAT): the
  // forgery fails its tag; the older copy opens (it was never seen) but is not the newest, so
  // it does not move the seat, and once more it is a replay.
  const VoiceEndpoint sameMachine{VoiceRig::kSeatIpv4, 666};
  rig.deliver(forger.seal(base::ByteVec{kVoiceJoin}), sameMachine, kT0);
  rig.deliver(older, sameMachine, kT0);
  rig.deliver(older, sameMachine, kT0);
  EXPECT_EQ(rig.hub.stats().badTag, 1u);
  EXPECT_EQ(rig.hub.stats().replayed, 1u);
  auto out = rig.send(2, voiceFramePlain(2, 0), kT0);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].to, rig.end(1).endpoint);
  // 1 itself moves (a new port after its NAT or socket changed): its newest datagram says so.
  const VoiceEndpoint moved{0x7F000001, 50001};
  rig.send(1, base::ByteVec{kVoiceJoin}, kT0, &moved);
  out = rig.send(2, voiceFramePlain(2, 1), kT0);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].to, moved);
}

// Found by fuzz_voice_hub: 1's first join came while unknown channels had used up the lookup
// rate, so the host dropped it unopened. A copy sent again from another machine is authentic
// and newer than anything heard: without the address check it became 1's return address.
TEST(VoiceHub, ADatagramTheHostNeverOpenedCannotMoveASeatFromAnotherAddress) {
  VoiceRig rig;
  rig.join(2, kT0);
  for (std::uint32_t i = 0; i < 2 * static_cast<std::uint32_t>(wire::kVoiceLookupsPerSec); ++i) {
    VoiceSealer s(voiceKeysFor(100 + i).up, VoiceDirection::Up, 100 + i);
    rig.deliver(s.seal(base::ByteVec{kVoiceJoin}), {0x0A000001, 5}, kT0);
  }
  const base::ByteVec unopened = rig.end(1).sealer.seal(base::ByteVec{kVoiceJoin});
  EXPECT_TRUE(rig.deliver(unopened, rig.end(1).endpoint, kT0).empty());
  EXPECT_GT(rig.hub.stats().lookupLimited, 0u);
  const VoiceEndpoint attacker{0x0A0000FE, 666};
  EXPECT_TRUE(rig.deliver(unopened, attacker, kT0 + 1'000'000).empty());
  EXPECT_EQ(rig.hub.stats().wrongAddress, 1u);
  EXPECT_EQ(rig.hub.stats().members, 1u);  // nobody joined 1 from there
  // 1 joins from its own machine, and its voice comes back to it, never to the attacker.
  auto out = rig.join(1, kT0 + 1'000'000);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].to, rig.end(1).endpoint);
  rig.deliver(rig.end(1).sealer.seal(base::ByteVec{kVoiceJoin}), attacker, kT0 + 1'000'000);
  out = rig.send(2, voiceFramePlain(2, 0), kT0 + 1'000'000);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].to, rig.end(1).endpoint);
  EXPECT_EQ(rig.hub.stats().wrongAddress, 2u);
}

TEST(VoiceHub, SilentMembersAreForgottenAndLeaversGoAtOnce) {
  VoiceRig rig;
  rig.join(1, kT0);
  rig.join(2, kT0);
  rig.hub.tick(kT0 + wire::kVoiceMemberTimeoutUs);
  EXPECT_EQ(rig.hub.stats().members, 2u);
  rig.join(2, kT0 + wire::kVoiceMemberTimeoutUs);  // 2 keeps itself alive
  rig.hub.tick(kT0 + wire::kVoiceMemberTimeoutUs + 1);
  EXPECT_EQ(rig.hub.members(), std::vector<std::uint32_t>{2});
  rig.hub.dropParticipant(2);  // left the chat
  EXPECT_EQ(rig.hub.stats().members, 0u);
}

TEST(VoiceHub, LookupsOfUnknownChannelsAreRateLimited) {
  VoiceRig rig;
  const int before = rig.lookups;
  for (std::uint32_t i = 0; i < 200; ++i) {
    VoiceSealer s(voiceKeysFor(100 + i).up, VoiceDirection::Up, 100 + i);
    rig.deliver(s.seal(base::ByteVec{kVoiceJoin}), {0x0A000001, 5}, kT0);
  }
  EXPECT_EQ(rig.lookups - before, static_cast<int>(wire::kVoiceLookupsPerSec));
  EXPECT_EQ(rig.hub.stats().lookupLimited, 200u - static_cast<std::uint64_t>(wire::kVoiceLookupsPerSec));
  // A known seat, once looked up, costs no lookup again.
  rig.join(1, kT0 + 1'000'000);
  const int after = rig.lookups;
  rig.join(1, kT0 + 1'000'000);
  EXPECT_EQ(rig.lookups, after);
}

}  // namespace

namespace {

// Waits (bounded) for one datagram on `socket`.
bool receiveOne(VoiceSocket& socket, base::ByteVec& out) {
  for (int i = 0; i < 50; ++i) {
    if (!socket.wait(100)) continue;
    VoiceEndpoint from;
    bool oversize = false;
    if (socket.receive(out, from, oversize) > 0) return true;
  }
  return false;
}

TEST(VoiceServer, RelaysSealedFramesOverLoopbackUdp) {
  VoiceRig rig;
  VoiceServer server(rig.hub);
  std::string error;
  ASSERT_TRUE(server.start(0, error, /*loopbackOnly=*/true)) << error;
  VoiceSocket alice, bob;
  ASSERT_TRUE(alice.open(0, error, true)) << error;
  ASSERT_TRUE(bob.open(0, error, true)) << error;
  const VoiceEndpoint host{0x7F000001, server.port()};
  base::ByteVec got, plain;
  ASSERT_TRUE(alice.send(rig.end(1).sealer.seal(base::ByteVec{kVoiceJoin}), host));
  ASSERT_TRUE(receiveOne(alice, got));
  ASSERT_EQ(rig.end(1).opener.open(got, plain), VoiceOpener::Result::Ok);
  EXPECT_EQ(plain, base::ByteVec{kVoiceJoinAck});
  ASSERT_TRUE(bob.send(rig.end(2).sealer.seal(base::ByteVec{kVoiceJoin}), host));
  ASSERT_TRUE(receiveOne(bob, got));
  const base::ByteVec frame = voiceFramePlain(1, 7);
  ASSERT_TRUE(alice.send(rig.end(1).sealer.seal(frame), host));
  ASSERT_TRUE(receiveOne(bob, got));
  ASSERT_EQ(rig.end(2).opener.open(got, plain), VoiceOpener::Result::Ok);
  EXPECT_EQ(plain, frame);
  // A datagram over the cap is read as oversize and dropped.
  ASSERT_TRUE(alice.send(base::ByteVec(wire::kMaxVoiceDatagramBytes + 100, 0x56), host));
  for (int i = 0; i < 50 && rig.hub.stats().oversize == 0; ++i) ::usleep(10'000);
  EXPECT_EQ(rig.hub.stats().oversize, 1u);
  server.stop();
}

}  // namespace
