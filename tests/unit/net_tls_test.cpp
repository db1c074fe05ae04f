// TLS engine tests with no sockets: two engines pass ciphertext back and forth in memory.
#include <gtest/gtest.h>

#include <random>

#include "net/tls_engine.h"

using namespace huddle;
using namespace huddle::net;

namespace {

struct Pair {
  std::unique_ptr<TlsEngine> client, server;
  base::ByteVec toClient, toServer;  // plaintext each side received

  // Moves ciphertext both ways until nothing is left to move (bounded).
  bool pump() {
    for (int i = 0; i < 20; ++i) {
      base::ByteVec c2s = client->takeCiphertext(), s2c = server->takeCiphertext();
      if (c2s.empty() && s2c.empty()) return true;
      if (!c2s.empty() && server->feed(c2s, toServer) == TlsEngine::Status::Failed) return false;
      if (!s2c.empty() && client->feed(s2c, toClient) == TlsEngine::Status::Failed) return false;
    }
    return false;
  }
};

std::unique_ptr<HostIdentity> identity() {
  std::string error;
  auto id = HostIdentity::generate(error);
  EXPECT_TRUE(id) << error;
  return id;
}

// Trust in `id` by its whole fingerprint, as an invite link pins it.
TlsEngine::ClientTrust pinnedTo(const HostIdentity& id) {
  TlsEngine::ClientTrust trust;
  trust.pin = id.fingerprint();
  trust.pinBytes = 32;
  return trust;
}

Pair connect(const HostIdentity& id, const TlsEngine::ClientTrust& trust) {
  std::string error;
  Pair p;
  p.server = TlsEngine::server(id, error);
  p.client = TlsEngine::client(trust, error);
  EXPECT_TRUE(p.server && p.client) << error;
  p.client->start();
  return p;
}

}  // namespace

TEST(Tls, PinnedHandshakeAndDataBothWays) {
  auto id = identity();
  const TlsEngine::ClientTrust trust = pinnedTo(*id);
  Pair p = connect(*id, trust);
  ASSERT_TRUE(p.pump());
  ASSERT_TRUE(p.client->handshakeDone());
  ASSERT_TRUE(p.server->handshakeDone());
  std::string hello = "hello over TLS 1.3";
  ASSERT_EQ(p.client->write(std::span(reinterpret_cast<const std::uint8_t*>(hello.data()), hello.size())), TlsEngine::Status::Ok);
  base::ByteVec big(300000);
  std::mt19937 rng(7);
  for (auto& b : big) b = static_cast<std::uint8_t>(rng());
  ASSERT_EQ(p.server->write(big), TlsEngine::Status::Ok);
  ASSERT_TRUE(p.pump());
  EXPECT_EQ(std::string(p.toServer.begin(), p.toServer.end()), hello);
  EXPECT_EQ(p.toClient, big);
}

TEST(Tls, ShortCodePinWorks) {
  auto id = identity();
  TlsEngine::ClientTrust trust;
  std::size_t bytes = 0;
  ASSERT_TRUE(parseFingerprint(shortCode(id->fingerprint()), trust.pin, bytes));
  EXPECT_EQ(bytes, 10u);
  trust.pinBytes = bytes;
  Pair p = connect(*id, trust);
  ASSERT_TRUE(p.pump());
  EXPECT_TRUE(p.client->handshakeDone());
}

TEST(Tls, WrongKeyFailsInTheHandshakeBeforeAnyApplicationByte) {
  auto real = identity();
  auto impostor = identity();
  const TlsEngine::ClientTrust trust = pinnedTo(*real);
  Pair p = connect(*impostor, trust);
  EXPECT_FALSE(p.pump());
  EXPECT_FALSE(p.client->handshakeDone());
  EXPECT_TRUE(p.client->pinMismatch());
  EXPECT_NE(p.client->error().find("does not match"), std::string::npos) << p.client->error();
  std::uint8_t secret[4] = {1, 2, 3, 4};
  EXPECT_EQ(p.client->write(secret), TlsEngine::Status::Failed);  // nothing can be sent
  EXPECT_TRUE(p.toServer.empty());
}

TEST(Tls, TrustOnFirstUseReportsTheKey) {
  auto id = identity();
  Pair p = connect(*id, TlsEngine::ClientTrust{});
  ASSERT_TRUE(p.pump());
  ASSERT_TRUE(p.client->handshakeDone());
  EXPECT_EQ(p.client->peerFingerprint(), id->fingerprint());
}

TEST(Tls, ExporterMatchesAcrossTheSessionAndDiffersBetweenSessions) {
  auto id = identity();
  const TlsEngine::ClientTrust trust = pinnedTo(*id);
  Pair a = connect(*id, trust), b = connect(*id, trust);
  ASSERT_TRUE(a.pump());
  ASSERT_TRUE(b.pump());
  std::array<std::uint8_t, 32> ac{}, as{}, bc{};
  ASSERT_TRUE(a.client->exportKeyingMaterial("EXPORTER-huddle-auth-v1", ac));
  ASSERT_TRUE(a.server->exportKeyingMaterial("EXPORTER-huddle-auth-v1", as));
  ASSERT_TRUE(b.client->exportKeyingMaterial("EXPORTER-huddle-auth-v1", bc));
  EXPECT_EQ(ac, as);
  EXPECT_NE(ac, bc);
}

TEST(Tls, GarbageFailsTheServerCleanly) {
  auto id = identity();
  std::string error;
  auto server = TlsEngine::server(*id, error);
  base::ByteVec junk(4096, 0x42), out;
  EXPECT_EQ(server->feed(junk, out), TlsEngine::Status::Failed);
  EXPECT_FALSE(server->error().empty());
  EXPECT_TRUE(out.empty());
}

TEST(Tls, RandomChunkingOfTheHandshakeAndRecords) {
  auto id = identity();
  const TlsEngine::ClientTrust trust = pinnedTo(*id);
  std::string error;
  auto server = TlsEngine::server(*id, error);
  auto client = TlsEngine::client(trust, error);
  client->start();
  std::mt19937 rng(99);
  base::ByteVec atServer, atClient;
  auto dribble = [&](base::ByteVec bytes, TlsEngine& to, base::ByteVec& plain) {
    for (std::size_t off = 0; off < bytes.size();) {
      std::size_t n = std::min<std::size_t>(bytes.size() - off, rng() % 37 + 1);
      ASSERT_EQ(to.feed(std::span(bytes.data() + off, n), plain), TlsEngine::Status::Ok);
      off += n;
    }
  };
  for (int i = 0; i < 10 && !(client->handshakeDone() && server->handshakeDone()); ++i) {
    dribble(client->takeCiphertext(), *server, atServer);
    dribble(server->takeCiphertext(), *client, atClient);
  }
  ASSERT_TRUE(client->handshakeDone() && server->handshakeDone());
  base::ByteVec msg(50000, 0x5A);
  ASSERT_EQ(client->write(msg), TlsEngine::Status::Ok);
  dribble(client->takeCiphertext(), *server, atServer);
  EXPECT_EQ(atServer, msg);
}

TEST(Identity, PemRoundTripKeepsTheFingerprint) {
  auto id = identity();
  std::string error;
  auto again = HostIdentity::fromPem(id->keyPem(), id->certPem(), error);
  ASSERT_TRUE(again) << error;
  EXPECT_EQ(again->fingerprint(), id->fingerprint());
  auto other = identity();
  EXPECT_FALSE(HostIdentity::fromPem(id->keyPem(), other->certPem(), error));  // mismatched pair
  EXPECT_FALSE(HostIdentity::fromPem("garbage", id->certPem(), error));
}

TEST(Identity, FingerprintTextRoundTrip) {
  auto id = identity();
  std::string full = fingerprintText(id->fingerprint());
  Fingerprint parsed{};
  std::size_t bytes = 0;
  ASSERT_TRUE(parseFingerprint(full, parsed, bytes));
  EXPECT_EQ(bytes, 32u);
  EXPECT_EQ(parsed, id->fingerprint());
  std::string code = shortCode(id->fingerprint());
  EXPECT_EQ(code.rfind("HUDL-", 0), 0u);
  EXPECT_EQ(code.size(), 5u + 19u);
  EXPECT_FALSE(parseFingerprint("HUDL-0000-1111-IIII-OOOO", parsed, bytes));  // look-alikes are not in the alphabet
  EXPECT_FALSE(parseFingerprint("short", parsed, bytes));
}

namespace {
Pair connected() {
  static auto id = identity();
  const TlsEngine::ClientTrust trust = pinnedTo(*id);
  Pair p = connect(*id, trust);
  EXPECT_TRUE(p.pump());
  return p;
}
base::ByteVec bytesOf(std::size_t n, std::uint8_t seed) {
  base::ByteVec v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>(seed + i * 7);
  return v;
}
}  // namespace

// Long-lived connections move their sending keys on (RFC 8446 s.4.6.3): at the byte budget,
// not a byte before, and the stream goes on in both directions across several updates.
TEST(Tls, SendingKeysMoveOnAtTheByteBudgetAndTheStreamGoesOn) {
  Pair p = connected();
  p.client->setKeyUpdatePolicy({.bytes = 1000, .intervalUs = 0});
  base::ByteVec sent;
  auto send = [&](std::size_t n, std::uint8_t seed) {
    base::ByteVec chunk = bytesOf(n, seed);
    ASSERT_EQ(p.client->updateKeysIfDue(0), TlsEngine::Status::Ok);
    ASSERT_EQ(p.client->write(chunk), TlsEngine::Status::Ok);
    sent.insert(sent.end(), chunk.begin(), chunk.end());
    ASSERT_TRUE(p.pump());
  };
  send(999, 1);  // cap-1 written: no update yet
  send(1, 2);    // still none before this write: the check runs before writing
  EXPECT_EQ(p.client->keyUpdates(), 0u);
  send(10, 3);   // the cap was reached by the last write: this one goes under new keys
  EXPECT_EQ(p.client->keyUpdates(), 1u);
  for (int i = 0; i < 5; ++i) send(1000, static_cast<std::uint8_t>(10 + i));
  EXPECT_EQ(p.client->keyUpdates(), 5u);
  EXPECT_EQ(p.toServer, sent);
  // The other direction is untouched by the client's updates and still reads.
  base::ByteVec back = bytesOf(5000, 9);
  ASSERT_EQ(p.server->write(back), TlsEngine::Status::Ok);
  ASSERT_TRUE(p.pump());
  EXPECT_EQ(p.toClient, back);
}

// The time budget: the default interval (kTlsKeyUpdateIntervalUs) from the first check, at
// cap-1 no update, at the cap one, and the next one a whole interval later.
TEST(Limits, TlsKeyUpdateIntervalAtItsCap) {
  Pair p = connected();
  const std::int64_t t0 = 5'000'000;
  const std::int64_t cap = wire::kTlsKeyUpdateIntervalUs;
  ASSERT_EQ(p.server->updateKeysIfDue(t0), TlsEngine::Status::Ok);
  ASSERT_EQ(p.server->updateKeysIfDue(t0 + cap - 1), TlsEngine::Status::Ok);
  EXPECT_EQ(p.server->keyUpdates(), 0u);
  ASSERT_EQ(p.server->updateKeysIfDue(t0 + cap), TlsEngine::Status::Ok);
  EXPECT_EQ(p.server->keyUpdates(), 1u);
  base::ByteVec first = bytesOf(100, 5);  // the KeyUpdate goes out ahead of this record
  ASSERT_EQ(p.server->write(first), TlsEngine::Status::Ok);
  ASSERT_TRUE(p.pump());
  ASSERT_EQ(p.server->updateKeysIfDue(t0 + cap + 1), TlsEngine::Status::Ok);
  ASSERT_EQ(p.server->updateKeysIfDue(t0 + 2 * cap - 1), TlsEngine::Status::Ok);
  EXPECT_EQ(p.server->keyUpdates(), 1u);
  ASSERT_EQ(p.server->updateKeysIfDue(t0 + 2 * cap), TlsEngine::Status::Ok);
  EXPECT_EQ(p.server->keyUpdates(), 2u);
  base::ByteVec msg = bytesOf(3000, 4);
  ASSERT_EQ(p.server->write(msg), TlsEngine::Status::Ok);
  ASSERT_TRUE(p.pump());
  first.insert(first.end(), msg.begin(), msg.end());
  EXPECT_EQ(p.toClient, first);
}

// What lets a connection's reader leave its writer asleep: records of application data call for
// no answer, so after feeding them the engine has nothing to send; a handshake flight does.
TEST(Tls, ApplicationDataCallsForNoAnswer) {
  auto id = identity();
  const TlsEngine::ClientTrust trust = pinnedTo(*id);
  Pair p = connect(*id, trust);
  EXPECT_TRUE(p.client->hasCiphertext());  // its first flight
  ASSERT_TRUE(p.pump());
  ASSERT_TRUE(p.server->handshakeDone());
  EXPECT_FALSE(p.server->hasCiphertext());
  const base::ByteVec credit(12, 0x42);
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(p.client->write(credit), TlsEngine::Status::Ok);
    EXPECT_TRUE(p.client->hasCiphertext());
    base::ByteVec record = p.client->takeCiphertext();
    EXPECT_FALSE(p.client->hasCiphertext());
    ASSERT_EQ(p.server->feed(record, p.toServer), TlsEngine::Status::Ok);
    EXPECT_FALSE(p.server->hasCiphertext());
  }
  EXPECT_EQ(p.toServer.size(), 3 * credit.size());
}
