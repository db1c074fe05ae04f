// Sessions on this network, without sockets: signed announcements (forged, tampered, replayed,
// relayed from elsewhere, far from the clock: none listed) and the bounded table (a flood of
// validly signed announcements from one address neither grows it nor hides others); the rate
// gate at its caps; and the guard that keeps an announcer silent under HUDDLE_NO_ANNOUNCE.
#include <gtest/gtest.h>

#include <cstdlib>

#include "net/discovery.h"
#include "net/discovery_socket.h"
#include "net/wire/limits.h"

using namespace huddle;
using namespace huddle::net;

namespace {

constexpr std::uint32_t kHostA = 0x0A000005;  // 10.0.0.5
constexpr std::uint32_t kHostB = 0x0A000006;
constexpr std::uint32_t kFlooder = 0x0A000066;
constexpr std::uint64_t kWallMs = 1'800'000'000'000ull;

std::unique_ptr<HostIdentity> newIdentity() {
  std::string error;
  auto id = HostIdentity::generate(error);
  EXPECT_TRUE(id) << error;
  return id;
}

Announcement announcementFrom(std::uint32_t address, std::uint64_t sequence = 1, std::uint64_t runId = 7) {
  Announcement a;
  a.sessionName = "alice";
  a.hostName = "alice-laptop";
  a.chatPort = 9999;
  a.screenPort = 9998;
  a.addresses = {0x7F000001, address};
  a.sentAtMs = kWallMs;
  a.runId = runId;
  a.sequence = sequence;
  return a;
}

std::vector<std::uint8_t> signedBy(const HostIdentity& id, const Announcement& a) {
  std::string error;
  auto d = encodeAnnouncement(a, id, error);
  EXPECT_FALSE(d.empty()) << error;
  return d;
}

}  // namespace

TEST(Discovery, AnAnnouncementRoundTripsAndNamesTheKeyTheHandshakeWouldShow) {
  auto id = newIdentity();
  Announcement a = announcementFrom(kHostA);
  a.passwordNeeded = true;
  const auto d = signedBy(*id, a);
  EXPECT_LE(d.size(), wire::kMaxAnnouncementBytes);
  Announcement back;
  Fingerprint key{};
  std::string error;
  ASSERT_TRUE(decodeAnnouncement(d, back, key, error)) << error;
  EXPECT_EQ(key, id->fingerprint());
  EXPECT_EQ(back.sessionName, "alice");
  EXPECT_EQ(back.hostName, "alice-laptop");
  EXPECT_EQ(back.chatPort, 9999);
  EXPECT_EQ(back.screenPort, 9998);
  EXPECT_TRUE(back.passwordNeeded);
  EXPECT_FALSE(back.leaving);
  EXPECT_EQ(back.addresses, a.addresses);
  EXPECT_EQ(back.sentAtMs, kWallMs);
  EXPECT_EQ(back.sequence, 1u);
}

TEST(Discovery, AnyChangedByteOrAnotherKeysSignatureIsRefused) {
  auto id = newIdentity();
  const auto d = signedBy(*id, announcementFrom(kHostA));
  Announcement out;
  Fingerprint key{};
  std::string error;
  for (std::size_t i = 0; i < d.size(); ++i) {
    auto bad = d;
    bad[i] ^= 0x01;
    EXPECT_FALSE(decodeAnnouncement(bad, out, key, error)) << "byte " << i;
  }
  for (std::size_t n = 0; n < d.size(); ++n)
    EXPECT_FALSE(decodeAnnouncement(std::span(d).first(n), out, key, error)) << n;
  // An impostor signs with its own key but claims the real host's: the key it carries is its
  // own, so it is listed (if at all) under the impostor's fingerprint, never the host's.
  auto impostor = newIdentity();
  const auto forged = signedBy(*impostor, announcementFrom(kHostA));
  ASSERT_TRUE(decodeAnnouncement(forged, out, key, error)) << error;
  EXPECT_NE(key, id->fingerprint());
  // Its signature under the host's key bytes fails.
  auto spliced = d;
  std::copy(forged.end() - 64, forged.end(), spliced.end() - 64);
  EXPECT_FALSE(decodeAnnouncement(spliced, out, key, error));
  EXPECT_NE(error.find("signature"), std::string::npos) << error;
}

TEST(Limits, AnnouncementsAtTheirCaps) {
  auto id = newIdentity();
  std::string error;
  for (std::size_t n : {wire::kMaxAnnounceHostNameBytes - 1, wire::kMaxAnnounceHostNameBytes, wire::kMaxAnnounceHostNameBytes + 1}) {
    Announcement a = announcementFrom(kHostA);
    a.hostName.assign(n, 'h');
    EXPECT_EQ(encodeAnnouncement(a, *id, error).empty(), n > wire::kMaxAnnounceHostNameBytes) << n;
  }
  for (std::size_t n : {wire::kMaxAnnouncedAddresses - 1, wire::kMaxAnnouncedAddresses, wire::kMaxAnnouncedAddresses + 1}) {
    Announcement a = announcementFrom(kHostA);
    a.addresses.assign(n, kHostA);
    EXPECT_EQ(encodeAnnouncement(a, *id, error).empty(), n > wire::kMaxAnnouncedAddresses) << n;
  }
  // The biggest announcement fits the datagram cap; one byte over it is refused unread.
  Announcement big = announcementFrom(kHostA);
  big.sessionName.assign(wire::kMaxNameBytes, 'n');
  big.hostName.assign(wire::kMaxAnnounceHostNameBytes, 'h');
  big.addresses.assign(wire::kMaxAnnouncedAddresses, kHostA);
  auto d = signedBy(*id, big);
  EXPECT_LE(d.size(), wire::kMaxAnnouncementBytes);
  Announcement out;
  Fingerprint key{};
  std::vector<std::uint8_t> over(wire::kMaxAnnouncementBytes + 1, 0);
  EXPECT_FALSE(decodeAnnouncement(over, out, key, error));
  EXPECT_EQ(error, "too long");
  Announcement controls = announcementFrom(kHostA);
  controls.hostName = "evil\x1b[2J";
  EXPECT_TRUE(encodeAnnouncement(controls, *id, error).empty());
}

TEST(Discovery, TheTableListsUpdatesAndForgetsAndRefusesReplays) {
  auto a = newIdentity(), b = newIdentity();
  AnnouncementTable table;
  std::string why;
  const auto a1 = signedBy(*a, announcementFrom(kHostA, 1));
  EXPECT_EQ(table.offer(a1, kHostA, 0, kWallMs, why), AnnouncementTable::Verdict::Listed);
  // The same datagram again (a replay, or the network duplicating it) changes nothing.
  EXPECT_EQ(table.offer(a1, kHostA, 10, kWallMs, why), AnnouncementTable::Verdict::Refused);
  const auto a2 = signedBy(*a, announcementFrom(kHostA, 2));
  EXPECT_EQ(table.offer(a2, kHostA, 1'000'000, kWallMs, why), AnnouncementTable::Verdict::Updated);
  EXPECT_EQ(table.offer(a1, kHostA, 1'000'001, kWallMs, why), AnnouncementTable::Verdict::Refused) << why;
  // Relayed from an address it does not name: refused (it would send joiners elsewhere).
  const auto b1 = signedBy(*b, announcementFrom(kHostB, 1));
  EXPECT_EQ(table.offer(b1, kFlooder, 1'000'002, kWallMs, why), AnnouncementTable::Verdict::Refused);
  EXPECT_NE(why.find("address"), std::string::npos);
  // Sent further from our clock than the skew allows: refused; within it: listed, newest first.
  EXPECT_EQ(table.offer(b1, kHostB, 1'000'003, kWallMs + wire::kMaxAnnounceClockSkewMs + 1, why),
            AnnouncementTable::Verdict::Refused);
  EXPECT_EQ(table.offer(b1, kHostB, 1'000'004, kWallMs + wire::kMaxAnnounceClockSkewMs, why),
            AnnouncementTable::Verdict::Listed) << why;
  auto listed = table.sessions();
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].key, b->fingerprint());
  EXPECT_EQ(listed[1].key, a->fingerprint());
  // A goodbye takes a host off at once, and its earlier announcements cannot bring it back.
  Announcement bye = announcementFrom(kHostA, 3);
  bye.leaving = true;
  EXPECT_EQ(table.offer(signedBy(*a, bye), kHostA, 1'100'000, kWallMs, why), AnnouncementTable::Verdict::Removed);
  EXPECT_EQ(table.offer(a2, kHostA, 1'100'001, kWallMs, why), AnnouncementTable::Verdict::Refused);
  ASSERT_EQ(table.size(), 1u);
  // A restarted host (a new run, sent later) is listed again.
  Announcement again = announcementFrom(kHostA, 1, 8);
  again.sentAtMs = kWallMs + 5000;
  EXPECT_EQ(table.offer(signedBy(*a, again), kHostA, 1'200'000, kWallMs + 5000, why), AnnouncementTable::Verdict::Listed);
  // A host that stops without a goodbye is forgotten after the expiry, not before.
  table.expire(1'000'004 + wire::kAnnounceExpiryUs);
  EXPECT_EQ(table.size(), 2u);
  table.expire(1'000'004 + wire::kAnnounceExpiryUs + 1);
  ASSERT_EQ(table.size(), 1u);
  EXPECT_EQ(table.sessions()[0].key, a->fingerprint());
}

TEST(Discovery, AFloodOfSignedAnnouncementsFromOneAddressNeitherGrowsTheTableNorHidesOthers) {
  auto real = newIdentity();
  AnnouncementTable table;
  std::string why;
  ASSERT_EQ(table.offer(signedBy(*real, announcementFrom(kHostA)), kHostA, 0, kWallMs, why),
            AnnouncementTable::Verdict::Listed);
  for (std::size_t i = 0; i < 2 * wire::kMaxNearbySessions; ++i) {
    auto fake = newIdentity();
    table.offer(signedBy(*fake, announcementFrom(kFlooder)), kFlooder, static_cast<std::int64_t>(i + 1), kWallMs, why);
    ASSERT_LE(table.size(), 1 + wire::kMaxNearbyPerAddress);
  }
  const auto listed = table.sessions();
  EXPECT_TRUE(std::any_of(listed.begin(), listed.end(), [&](const NearbySession& s) { return s.key == real->fingerprint(); }));
  // Flooders at many addresses fill the table to its cap and no further (memory is bounded;
  // a flood spoofing many addresses can crowd the list, which the real host's announcements,
  // every kAnnounceIntervalUs, keep it in only as long as the flood is the staler).
  for (std::uint32_t i = 0; i < 2 * wire::kMaxNearbySessions; ++i) {
    auto fake = newIdentity();
    const std::uint32_t from = 0x0B000000 + i / 2;
    table.offer(signedBy(*fake, announcementFrom(from)), from, 1000 + i, kWallMs, why);
    ASSERT_LE(table.size(), wire::kMaxNearbySessions);
  }
  EXPECT_EQ(table.size(), wire::kMaxNearbySessions);
}

TEST(Limits, TheDatagramGateAtItsCaps) {
  // One source: cap-1 and cap pass in one second, cap+1 is dropped; the next second starts anew.
  DatagramGate gate;
  for (std::size_t i = 0; i < wire::kMaxAnnouncementsPerSource; ++i) EXPECT_TRUE(gate.admit(kFlooder, 1'000'000)) << i;
  EXPECT_FALSE(gate.admit(kFlooder, 1'500'000));
  EXPECT_TRUE(gate.admit(kHostA, 1'500'000));  // another address keeps its share
  EXPECT_TRUE(gate.admit(kFlooder, 2'000'000));
  // In all: cap datagrams a second from many addresses, then nothing until the next second.
  DatagramGate all;
  for (std::size_t i = 0; i < wire::kMaxAnnouncementsPerSecond; ++i)
    EXPECT_TRUE(all.admit(0x0A000000 + static_cast<std::uint32_t>(i), 0)) << i;
  EXPECT_FALSE(all.admit(kHostB, 999'999));
  // A source a listed session announced from still gets its own share past the overall cap:
  // a flood from spoofed addresses does not hide sessions already listed.
  constexpr std::uint32_t kListed = 0x0B000001;  // not one of the many above
  for (std::size_t i = 0; i < wire::kMaxAnnouncementsPerSource; ++i) EXPECT_TRUE(all.admit(kListed, 999'999, true)) << i;
  EXPECT_FALSE(all.admit(kListed, 999'999, true));
  EXPECT_TRUE(all.admit(kHostB, 1'000'000));
}

// The guard every test relies on: with HUDDLE_NO_ANNOUNCE set, an announcer refuses to start
// (so it sends nothing), whatever its owner asked. Listening sends nothing and stays allowed.
TEST(DiscoverySocket, NothingIsAnnouncedWhileHuddleNoAnnounceIsSet) {
  const char* old = std::getenv("HUDDLE_NO_ANNOUNCE");
  const std::string saved = old ? old : "";
  ::setenv("HUDDLE_NO_ANNOUNCE", "1", 1);
  std::shared_ptr<const HostIdentity> id = newIdentity();
  AnnouncerConfig config;
  config.sessionName = "alice";
  config.chatPort = 9999;
  config.screenPort = 9998;
  config.identity = id;
  DiscoveryAnnouncer announcer;
  std::string error;
  EXPECT_FALSE(announcer.start(config, error));
  EXPECT_NE(error.find("HUDDLE_NO_ANNOUNCE"), std::string::npos) << error;
  EXPECT_FALSE(announcer.running());
  EXPECT_EQ(announcer.sent(), 0u);
  EXPECT_FALSE(announcingAllowedByEnvironment());
  ::setenv("HUDDLE_NO_ANNOUNCE", "0", 1);
  EXPECT_TRUE(announcingAllowedByEnvironment());
  if (old) ::setenv("HUDDLE_NO_ANNOUNCE", saved.c_str(), 1);
  else ::unsetenv("HUDDLE_NO_ANNOUNCE");
  // A listener on a port of its own starts, hears nothing, and stops promptly.
  DiscoveryListener listener;
  ASSERT_TRUE(listener.start(error, 0)) << error;
  EXPECT_TRUE(listener.sessions().empty());
  listener.stop();
  EXPECT_FALSE(listener.running());
}
