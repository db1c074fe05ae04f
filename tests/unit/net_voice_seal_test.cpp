// Sealed voice datagrams (net/voice_seal.h): keys from a real TLS exporter on both ends, the
// AEAD round trip, and everything a hostile or broken sender can try (a wrong key, the other
// direction, a changed header, replays, datagrams from too long ago, sizes).
#include <gtest/gtest.h>

#include <random>

#include "net/tls_engine.h"
#include "net/voice_seal.h"

using namespace huddle;
using namespace huddle::net;

namespace {

base::ByteVec speech(std::size_t n, std::uint8_t seed) {
  base::ByteVec v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>(seed * 31 + i);
  return v;
}

VoiceKey keyOf(std::uint8_t b) {
  VoiceKey k;
  k.fill(b);
  return k;
}

// Sends counters in `order` from one sealer; returns what the opener said for each.
std::vector<VoiceOpener::Result> deliver(const std::vector<std::uint64_t>& order) {
  VoiceSealer sealer(keyOf(1), VoiceDirection::Up, 7);
  std::vector<base::ByteVec> sent;
  std::uint64_t most = 0;
  for (auto c : order) most = std::max(most, c);
  for (std::uint64_t i = 0; i <= most; ++i) sent.push_back(sealer.seal(speech(40, static_cast<std::uint8_t>(i))));
  VoiceOpener opener(keyOf(1), VoiceDirection::Up);
  std::vector<VoiceOpener::Result> results;
  base::ByteVec out;
  for (auto c : order) results.push_back(opener.open(sent[c], out));
  return results;
}

using R = VoiceOpener::Result;

}  // namespace

// Both ends of a real TLS 1.3 session take the same two keys from its exporter, and a
// datagram sealed by one opens on the other, in each direction.
TEST(VoiceSeal, KeysFromTheTlsExporterAgreeAndEachDirectionOpens) {
  std::string error;
  auto id = HostIdentity::generate(error);
  ASSERT_TRUE(id) << error;
  TlsEngine::ClientTrust trust;
  trust.pin = id->fingerprint();
  trust.pinBytes = 32;
  auto server = TlsEngine::server(*id, error);
  auto client = TlsEngine::client(trust, error);
  ASSERT_TRUE(server && client) << error;
  client->start();
  base::ByteVec ignored;
  for (int i = 0; i < 10; ++i) {
    auto c2s = client->takeCiphertext(), s2c = server->takeCiphertext();
    if (c2s.empty() && s2c.empty()) break;
    if (!c2s.empty()) server->feed(c2s, ignored);
    if (!s2c.empty()) client->feed(s2c, ignored);
  }
  ASSERT_TRUE(client->handshakeDone() && server->handshakeDone());
  std::array<std::uint8_t, 64> ce{}, se{};
  ASSERT_TRUE(client->exportKeyingMaterial(kVoiceExporterLabel, ce));
  ASSERT_TRUE(server->exportKeyingMaterial(kVoiceExporterLabel, se));
  const VoiceKeys ck = voiceKeysFromExporter(ce), sk = voiceKeysFromExporter(se);
  EXPECT_EQ(ck.up, sk.up);
  EXPECT_EQ(ck.down, sk.down);
  EXPECT_NE(ck.up, ck.down);

  VoiceSealer up(ck.up, VoiceDirection::Up, 42);
  VoiceOpener hostOpens(sk.up, VoiceDirection::Up);
  const base::ByteVec words = speech(120, 3);
  const base::ByteVec datagram = up.seal(words);
  EXPECT_EQ(datagram.size(), kVoiceHeaderBytes + words.size() + kVoiceTagBytes);
  VoiceHeader h;
  ASSERT_TRUE(readVoiceHeader(datagram, h, error)) << error;
  EXPECT_EQ(h.channel, 42u);
  EXPECT_EQ(h.counter, 0u);
  base::ByteVec out;
  ASSERT_EQ(hostOpens.open(datagram, out), R::Ok);
  EXPECT_EQ(out, words);
  // The ciphertext is not the plaintext.
  EXPECT_EQ(std::search(datagram.begin(), datagram.end(), words.begin(), words.begin() + 16), datagram.end());

  VoiceSealer down(sk.down, VoiceDirection::Down, 42);
  VoiceOpener clientOpens(ck.down, VoiceDirection::Down);
  ASSERT_EQ(clientOpens.open(down.seal(words), out), R::Ok);
  EXPECT_EQ(out, words);
}

TEST(VoiceSeal, AWrongKeyTheOtherDirectionOrAChangedByteDoesNotOpen) {
  VoiceSealer sealer(keyOf(1), VoiceDirection::Up, 5);
  const base::ByteVec d = sealer.seal(speech(60, 1));
  base::ByteVec out;
  VoiceOpener wrongKey(keyOf(2), VoiceDirection::Up);
  EXPECT_EQ(wrongKey.open(d, out), R::BadTag);
  EXPECT_TRUE(out.empty());
  // The same key the other way: a datagram reflected back at its sender does not open.
  VoiceOpener reflected(keyOf(1), VoiceDirection::Down);
  EXPECT_EQ(reflected.open(d, out), R::BadTag);
  VoiceOpener opener(keyOf(1), VoiceDirection::Up);
  for (std::size_t i = 0; i < d.size(); ++i) {
    base::ByteVec bent = d;
    bent[i] ^= 0x01;  // the header is authenticated too: channel and counter cannot be moved
    EXPECT_NE(opener.open(bent, out), R::Ok) << "byte " << i;
  }
  EXPECT_EQ(opener.open(d, out), R::Ok);
}

// A forged datagram with a far-ahead counter fails its tag and does not move the window: the
// real stream goes on.
TEST(VoiceSeal, AForgedCounterDoesNotMoveTheWindow) {
  VoiceSealer sealer(keyOf(1), VoiceDirection::Up, 5);
  VoiceOpener opener(keyOf(1), VoiceDirection::Up);
  base::ByteVec out;
  ASSERT_EQ(opener.open(sealer.seal(speech(10, 1)), out), R::Ok);
  VoiceSealer forger(keyOf(9), VoiceDirection::Up, 5);
  base::ByteVec forged;
  for (int i = 0; i < 1000; ++i) forged = forger.seal(speech(10, 2));
  EXPECT_EQ(opener.open(forged, out), R::BadTag);
  EXPECT_EQ(opener.highest(), 0u);
  EXPECT_EQ(opener.open(sealer.seal(speech(10, 3)), out), R::Ok);
  EXPECT_EQ(opener.highest(), 1u);
}

TEST(VoiceSeal, ReplaysAreRefusedAndLateDatagramsInTheWindowOpenOnce) {
  EXPECT_EQ(deliver({0, 0}), (std::vector<R>{R::Ok, R::Replayed}));
  EXPECT_EQ(deliver({0, 2, 1, 1, 2}), (std::vector<R>{R::Ok, R::Ok, R::Ok, R::Replayed, R::Replayed}));
  // A jump ahead further than the window forgets what was seen before it.
  EXPECT_EQ(deliver({0, 100, 0, 99, 99}), (std::vector<R>{R::Ok, R::Ok, R::TooOld, R::Ok, R::Replayed}));
}

// kVoiceReplayWindow: a datagram window-1 behind the highest opens, one window behind does not.
TEST(Limits, VoiceReplayWindowAtItsCap) {
  const std::uint64_t w = wire::kVoiceReplayWindow;
  for (std::uint64_t behind : {w - 1, w, w + 1}) {
    const auto r = deliver({w + 1, w + 1 - behind});
    EXPECT_EQ(r[0], R::Ok);
    EXPECT_EQ(r[1], behind < w ? R::Ok : R::TooOld) << behind;
  }
}

// kMaxVoiceDatagramBytes: the largest plaintext makes a datagram of exactly the cap; one byte
// more is not sealed; a datagram over the cap (or under a header and tag) is not read.
TEST(Limits, VoiceDatagramAtItsCap) {
  VoiceSealer sealer(keyOf(1), VoiceDirection::Up, 5);
  VoiceOpener opener(keyOf(1), VoiceDirection::Up);
  base::ByteVec out;
  for (std::size_t n : {kMaxVoicePlaintextBytes - 1, kMaxVoicePlaintextBytes, kMaxVoicePlaintextBytes + 1}) {
    const base::ByteVec d = sealer.seal(speech(n, 4));
    if (n <= kMaxVoicePlaintextBytes) {
      EXPECT_EQ(d.size(), n + kVoiceHeaderBytes + kVoiceTagBytes);
      EXPECT_LE(d.size(), wire::kMaxVoiceDatagramBytes);
      EXPECT_EQ(opener.open(d, out), R::Ok) << n;
    } else {
      EXPECT_TRUE(d.empty());
    }
  }
  std::string why;
  VoiceHeader h;
  for (std::size_t n : {wire::kMaxVoiceDatagramBytes - 1, wire::kMaxVoiceDatagramBytes, wire::kMaxVoiceDatagramBytes + 1}) {
    base::ByteVec d(n, 0);
    d[0] = kVoiceKindSealed;
    EXPECT_EQ(readVoiceHeader(d, h, why), n <= wire::kMaxVoiceDatagramBytes) << n;
  }
  base::ByteVec tiny(kVoiceHeaderBytes + kVoiceTagBytes - 1, 0);
  tiny[0] = kVoiceKindSealed;
  EXPECT_FALSE(readVoiceHeader(tiny, h, why));
  EXPECT_EQ(opener.open(tiny, out), R::Malformed);
  base::ByteVec notVoice(100, 0);
  EXPECT_EQ(opener.open(notVoice, out), R::Malformed);
}
