// docs/SECURITY.md s.7.2 at the screen hub: streams per session and per participant, screen
// connections per participant, a stream's byte budget and a publisher's byte rate at cap-1,
// cap and cap+1, and the geometry a stream may have; the room password's length and the
// password-check cost a client accepts, at their caps; the history file's size at its cap;
// s.7.1: a refused connection's grace and its place in its address's pending share; joins.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "net/chat_hub.h"
#include "net/file_hub.h"
#include "net/history_log.h"
#include "net/wire/frame_decoder.h"
#include "net/room_auth.h"
#include "net/screen_hub.h"
#include "net_screen_support.h"

using namespace huddle;
using namespace huddle::net;
using namespace huddle::net::test;

namespace {

// Records how the hub closes it: hard (close) or after its last frame (closeAfterFlush).
struct CloseLink : PeerLink {
  bool send(base::Bytes) override { return true; }
  void close(wire::Reason r, const std::string&) override {
    if (hard == wire::Reason::None) hard = r;
  }
  void closeAfterFlush(wire::Reason, const std::string&) override { flushing = true; }
  std::string address() const override { return "10.0.0.7:1"; }
  std::uint32_t ipv4() const override { return ip; }
  std::uint32_t ip = 0x0A000007;
  wire::Reason hard = wire::Reason::None;
  bool flushing = false;
};

// Connects from `ip` and says Hello (`token`: resuming a seat); true if it was let in.
bool joins(ChatHub& hub, std::uint32_t ip, std::uint64_t token = 0, std::uint64_t* newToken = nullptr) {
  struct WelcomeLink : CloseLink {
    bool send(base::Bytes frame) override {
      wire::FrameDecoder d([](std::uint16_t, bool) -> std::int64_t { return 1 << 20; });
      d.push(*frame);
      wire::Frame f;
      if (d.next(f) == wire::FrameDecoder::Status::Frame && f.type == static_cast<std::uint16_t>(wire::MsgType::Welcome))
        welcomed = wire::decodePayload(f.payload, welcome);
      return true;
    }
    bool welcomed = false;
    wire::Welcome welcome;
  };
  auto link = std::make_shared<WelcomeLink>();
  link->ip = ip;
  const PeerId id = hub.attach(link, 1'000'000'000);
  wire::Hello h;
  h.name = "churn";
  h.token = token;
  hub.receive(id, base::view(wire::encodeFrame(h)), 1'000'000'000);
  if (link->welcomed && newToken) *newToken = link->welcome.token;
  return link->welcomed;
}

// Connects and says Hello in a protocol version the host does not speak: refused, told why.
std::shared_ptr<CloseLink> refusedPeer(ChatHub& hub, std::int64_t nowUs) {
  auto link = std::make_shared<CloseLink>();
  const PeerId id = hub.attach(link, nowUs);
  wire::Hello h;
  h.version = wire::kProtocolVersion + 1;
  h.name = "x";
  hub.receive(id, base::view(wire::encodeFrame(h)), nowUs);
  return link;
}

}  // namespace

TEST(Limits, ARefusedConnectionIsClosedHardAtItsGraceNotBefore) {
  ChatHub hub(ChatHubConfig{});
  const std::int64_t t0 = 1'000'000'000;
  auto link = refusedPeer(hub, t0);
  ASSERT_TRUE(link->flushing);
  hub.tick(t0);  // the watchdog sees the refusal
  hub.tick(t0 + wire::kRefusedGraceUs - 1);
  EXPECT_EQ(link->hard, wire::Reason::None);
  hub.tick(t0 + wire::kRefusedGraceUs);
  EXPECT_EQ(link->hard, wire::Reason::Rejected);
}

TEST(Limits, RefusedButOpenConnectionsCountAgainstTheirAddress) {
  for (std::size_t open : {wire::kMaxPendingPerAddress - 1, wire::kMaxPendingPerAddress, wire::kMaxPendingPerAddress + 1}) {
    ChatHub hub(ChatHubConfig{});
    const std::int64_t t0 = 1'000'000'000;
    for (std::size_t i = 0; i < open; ++i) refusedPeer(hub, t0);
    auto newcomer = std::make_shared<CloseLink>();
    hub.attach(newcomer, t0);
    EXPECT_EQ(newcomer->hard == wire::Reason::Busy, open >= wire::kMaxPendingPerAddress) << open;
    // Another address is not held up by them.
    auto other = std::make_shared<CloseLink>();
    other->ip = 0x0A000008;
    hub.attach(other, t0);
    EXPECT_EQ(other->hard, wire::Reason::None) << open;
  }
}

TEST(Limits, SixteenScreensPerSessionAndNoMore) {
  ScreenHub hub(ScreenHubConfig{}, [](std::uint64_t, ScreenSeat&) { return false; },
                [](std::uint32_t, bool) {});
  std::string error;
  // One owner each: a participant's own cap is tested below.
  std::uint32_t owner = 1;
  for (std::size_t i = 0; i + 1 < wire::kMaxStreamsPerSession; ++i)
    ASSERT_NE(hub.startLocalStream(owner++, "host", "s" + std::to_string(i), 64, 64, 64, error), 0u) << error;
  const std::uint32_t last = hub.startLocalStream(owner++, "host", "last", 64, 64, 64, error);
  EXPECT_NE(last, 0u) << error;
  EXPECT_EQ(hub.startLocalStream(owner++, "host", "over", 64, 64, 64, error), 0u);
  EXPECT_NE(error.find("too many"), std::string::npos) << error;
  EXPECT_EQ(hub.streams().size(), wire::kMaxStreamsPerSession);
  // One ends: there is room again.
  hub.endStream(last, "done");
  EXPECT_NE(hub.startLocalStream(owner++, "host", "again", 64, 64, 64, error), 0u) << error;
}

TEST(Limits, AStreamOutsideTheGeometryCapsIsRefused) {
  ScreenHub hub(ScreenHubConfig{}, [](std::uint64_t, ScreenSeat&) { return false; },
                [](std::uint32_t, bool) {});
  std::string error;
  EXPECT_NE(hub.startLocalStream(1, "host", "8K", 7680, 4320, 256, error), 0u) << error;
  EXPECT_NE(hub.startLocalStream(1, "host", "tiny", 1, 1, 64, error), 0u) << error;
  EXPECT_EQ(hub.startLocalStream(1, "host", "wide", wire::kMaxStreamSidePx + 1, 64, 64, error), 0u);
  EXPECT_EQ(hub.startLocalStream(1, "host", "huge", 8192, 8192, 64, error), 0u);
  EXPECT_EQ(hub.startLocalStream(1, "host", "empty", 0, 0, 64, error), 0u);
  EXPECT_EQ(hub.startLocalStream(1, "host", "odd tile", 640, 480, 100, error), 0u);
  EXPECT_EQ(hub.streams().size(), 2u);
}

TEST(Limits, StreamsPerParticipantAtTheCap) {
  ScreenHub hub = makeHub();
  std::string error;
  for (std::size_t i = 0; i < wire::kMaxStreamsPerParticipant; ++i)
    EXPECT_NE(hub.startLocalStream(1, "host", "s" + std::to_string(i), 64, 64, 64, error), 0u) << i << error;
  EXPECT_EQ(hub.startLocalStream(1, "host", "over", 64, 64, 64, error), 0u);
  EXPECT_NE(hub.startLocalStream(2, "other", "theirs", 64, 64, 64, error), 0u) << error;
  // A remote participant with one screen connection per stream: the one over its cap is told why.
  std::vector<Peer> conns;
  std::size_t accepted = 0;
  for (std::size_t i = 0; i <= wire::kMaxStreamsPerParticipant; ++i) {
    conns.push_back(join(hub, 7));
    accepted += publish(hub, conns.back(), 64, 64, 64) != 0;
  }
  EXPECT_EQ(accepted, wire::kMaxStreamsPerParticipant);
  EXPECT_EQ(conns.back().link->of(wire::ScreenType::PublishRefused).size(), 1u);
  // It stays connected (and may watch) past the grace a refused login gets before it is closed.
  hub.tick(kT0);
  hub.tick(kT0 + wire::kRefusedGraceUs + 1);
  EXPECT_EQ(conns.back().link->closedWith, wire::Reason::None);
}

TEST(Limits, ScreenConnectionsPerParticipantAtTheCap) {
  ScreenHub hub = makeHub();
  std::vector<Peer> conns;
  for (std::size_t i = 0; i <= wire::kMaxScreenConnectionsPerParticipant; ++i) conns.push_back(join(hub, 7));
  for (std::size_t i = 0; i < wire::kMaxScreenConnectionsPerParticipant; ++i) {
    EXPECT_EQ(conns[i].link->of(static_cast<wire::ScreenType>(wire::MsgType::Welcome)).size(), 1u) << i;
    EXPECT_EQ(conns[i].link->closedWith, wire::Reason::None) << i;
  }
  EXPECT_EQ(conns.back().link->closedWith, wire::Reason::Rejected);
  // Someone else still gets in, and a closed connection makes room.
  Peer other = join(hub, 8);
  EXPECT_EQ(other.link->closedWith, wire::Reason::None);
  hub.detach(conns[0].id, wire::Reason::IoEof, "gone");
  Peer again = join(hub, 7);
  EXPECT_EQ(again.link->closedWith, wire::Reason::None);
}

// Fills a 4096 x 4096 stream (256 tiles of 256 px) with `total` bytes of tiles, in batches under
// the frame cap and a second apart (well within the byte rate). True if the publisher stays.
static bool fillStream(std::uint64_t total) {
  ScreenHub hub = makeHub();
  Peer p = join(hub, 1);
  if (publish(hub, p, 4096, 4096, 256) == 0) return false;
  const std::uint32_t kFull = wire::maxJpegTileBytes(256, 256);
  std::uint32_t slot = 0;
  std::int64_t now = kT0;
  while (total > 0) {
    wire::TileBatch b = batchOf(4096, 4096, 256, slot + 1);
    for (int k = 0; k < 56 && total > 0; ++k, ++slot) {
      const std::uint32_t n = std::uint32_t(std::min<std::uint64_t>(kFull, total));
      b.tiles.push_back(scanTile(std::uint16_t(slot % 16), std::uint16_t(slot / 16), n));
      total -= n;
    }
    feedTiles(hub, p.id, b, now += 1'000'000);
  }
  return p.link->closedWith == wire::Reason::None;
}

TEST(Limits, AStreamHoldsItsByteBudgetAndNotAByteMore) {
  EXPECT_TRUE(fillStream(wire::kMaxStreamBytes - 1));
  EXPECT_TRUE(fillStream(wire::kMaxStreamBytes));
  EXPECT_FALSE(fillStream(wire::kMaxStreamBytes + 1));
}

TEST(Limits, APublishersByteRateAtItsCap) {
  constexpr std::size_t kFrame = wire::kMaxScreenPayload;
  constexpr std::size_t kSmall = wire::kTileBatchHeaderBytes + 12;  // one tile of one byte
  static_assert(2 * wire::kPublishBurstBytes % kFrame == 0);
  constexpr std::size_t kFrames = 2 * wire::kPublishBurstBytes / kFrame;
  for (int delta : {-1, 0, 1}) {
    ScreenHub hub = makeHub();
    Peer p = join(hub, 1);
    ASSERT_NE(publish(hub, p, 4096, 4096, 256), 0u);
    // At one instant: 2 x kPublishBurstBytes + delta bytes of payload, in frames under the cap.
    for (std::size_t i = 0; i + 1 < kFrames; ++i) feedTiles(hub, p.id, batchWithPayload(i + 1, kFrame));
    feedTiles(hub, p.id, batchWithPayload(kFrames, kFrame - kSmall + delta));
    feedTiles(hub, p.id, batchWithPayload(kFrames + 1, kSmall));
    if (delta > 0) {
      EXPECT_EQ(p.link->closedWith, wire::Reason::Flood);
      continue;
    }
    EXPECT_EQ(p.link->closedWith, wire::Reason::None) << delta;
    // The bucket's worth is acknowledged at once; the rest waits for the bucket to refill.
    const std::size_t atOnce = wire::kPublishBurstBytes / kFrame;
    EXPECT_EQ(p.link->of(wire::ScreenType::PublishAck).size(), atOnce) << delta;
    hub.tick(kT0 + 1'000'000);
    EXPECT_EQ(p.link->of(wire::ScreenType::PublishAck).size(), kFrames + 1) << delta;
  }
}

TEST(Limits, RoomPasswordLengthAtItsCaps) {
  for (std::size_t n : {wire::kMinRoomPasswordBytes - 1, wire::kMinRoomPasswordBytes, wire::kMinRoomPasswordBytes + 1})
    EXPECT_EQ(validateRoomPassword(std::string(n, 'p')).empty(), n >= wire::kMinRoomPasswordBytes) << n;
  for (std::size_t n : {wire::kMaxRoomPasswordBytes - 1, wire::kMaxRoomPasswordBytes, wire::kMaxRoomPasswordBytes + 1})
    EXPECT_EQ(validateRoomPassword(std::string(n, 'p')).empty(), n <= wire::kMaxRoomPasswordBytes) << n;
}

TEST(Limits, PasswordCheckCostAtItsCaps) {
  std::string why;
  KdfParams p;
  for (std::uint32_t ops : {wire::kMinKdfOps - 1, wire::kMinKdfOps, wire::kMaxKdfOps, wire::kMaxKdfOps + 1}) {
    p.ops = ops;
    EXPECT_EQ(kdfParamsAcceptable(p, why), ops >= wire::kMinKdfOps && ops <= wire::kMaxKdfOps) << ops;
  }
  p.ops = wire::kMinKdfOps;
  for (std::uint32_t mem : {wire::kMinKdfMemBytes - 1, wire::kMinKdfMemBytes, wire::kMaxKdfMemBytes, wire::kMaxKdfMemBytes + 1}) {
    p.memBytes = mem;
    EXPECT_EQ(kdfParamsAcceptable(p, why), mem >= wire::kMinKdfMemBytes && mem <= wire::kMaxKdfMemBytes) << mem;
  }
}

TEST(Limits, HistoryFileAtItsCap) {
  // The file is filled to cap-1, cap and cap+1 by its last record: up to the cap it just grows;
  // past it, it is compacted to the kept history (2 here) first.
  const std::uint64_t cap = wire::kMaxHistoryFileBytes;
  for (int over : {-1, 0, 1}) {
    const std::string dir = ::testing::TempDir() + "huddle-cap-" + std::to_string(::getpid());
    std::filesystem::remove_all(dir);
    ChatHistoryLog log;
    std::vector<wire::ChatEvent> events;
    std::string warning, error;
    ASSERT_TRUE(log.open(dir + "/chat.log", 2, events, warning, error)) << error;
    wire::ChatEvent e;
    e.kind = wire::ChatKind::Public;
    e.from = "bob";
    e.text = "x";
    ASSERT_TRUE(log.append(e));
    const std::uint64_t base = log.fileBytes() - 1;  // a record's bytes besides its text
    auto add = [&](std::uint64_t textBytes) {
      ++e.seq;
      e.text.assign(textBytes, 'x');
      return log.append(e);
    };
    while (cap - log.fileBytes() > 2 * (base + 3000)) ASSERT_TRUE(add(3000));
    const std::uint64_t target = cap + static_cast<std::uint64_t>(over + 1) - 1;  // cap + over
    const std::uint64_t lastRecord = base + 2000;
    ASSERT_TRUE(add(target - lastRecord - log.fileBytes() - base));  // a filler
    ASSERT_EQ(log.fileBytes() + lastRecord, target);
    ASSERT_TRUE(add(2000));
    if (over <= 0) {
      EXPECT_EQ(log.fileBytes(), cap - static_cast<std::uint64_t>(-over)) << over;
    } else {
      EXPECT_LT(log.fileBytes(), 4 * (base + 3000)) << "compacted to the two kept and the new one";
    }
    EXPECT_EQ(std::filesystem::file_size(dir + "/chat.log"), log.fileBytes());
    std::filesystem::remove_all(dir);
  }
}

// Join churn (docs/SECURITY.md s.7.2): one address joins its burst and no more (the rest of the
// minute refills slowly); one seat resumed over and over, from anywhere, likewise.
TEST(Limits, JoinsPerAddressAndPerSeatAtTheirBursts) {
  const auto burstAddr = static_cast<std::size_t>(wire::kJoinBurstPerAddress);
  for (std::size_t n : {burstAddr - 1, burstAddr, burstAddr + 1}) {
    ChatHubConfig c;
    c.maxParticipants = wire::kMaxParticipants;
    ChatHub hub(c);
    std::size_t in = 0;
    for (std::size_t i = 0; i < n; ++i) in += joins(hub, 0x0A000001);
    EXPECT_EQ(in, std::min(n, burstAddr)) << n;
    EXPECT_TRUE(joins(hub, 0x0A000002)) << "another address is not held up";
  }
  const auto burstSeat = static_cast<std::size_t>(wire::kJoinBurstPerSeat);
  for (std::size_t n : {burstSeat - 1, burstSeat, burstSeat + 1}) {
    ChatHub hub(ChatHubConfig{});
    std::uint64_t token = 0;
    ASSERT_TRUE(joins(hub, 0x0A000100, 0, &token));
    std::size_t in = 0;
    for (std::size_t i = 0; i < n; ++i) in += joins(hub, 0x0A000200 + static_cast<std::uint32_t>(i), token, &token);
    EXPECT_EQ(in, std::min(n, burstSeat)) << n;
  }
}

namespace {
std::int64_t g_fakeNowUs = 0;
std::int64_t fakeNow() { return g_fakeNowUs; }

// Records the history a newcomer is replayed: "name:kind" per event.
struct HistoryLink : CloseLink {
  bool send(base::Bytes frame) override {
    wire::FrameDecoder d([](std::uint16_t, bool) -> std::int64_t { return 1 << 20; });
    d.push(*frame);
    wire::Frame f;
    wire::ChatEvent e;
    while (d.next(f) == wire::FrameDecoder::Status::Frame)
      if (f.type == static_cast<std::uint16_t>(wire::MsgType::ChatEvent) && wire::decodePayload(f.payload, e) &&
          (e.flags & wire::ChatEvent::kFlagHistory))
        replayed.push_back(e.from + ":" + std::to_string(static_cast<int>(e.kind)));
    return true;
  }
  std::vector<std::string> replayed;
};

PeerId joinAs(ChatHub& hub, const std::shared_ptr<CloseLink>& link, const std::string& name) {
  const PeerId id = hub.attach(link, g_fakeNowUs);
  wire::Hello h;
  h.name = name;
  hub.receive(id, base::view(wire::encodeFrame(h)), g_fakeNowUs);
  return id;
}
}  // namespace

// Churn (docs/SECURITY.md s.7.2): someone gone less than kChurnWindowUs after joining leaves
// no line in the history; at the window, both lines stay.
TEST(Limits, ChurnWindowAtItsCap) {
  const std::int64_t cap = wire::kChurnWindowUs;
  for (std::int64_t stay : {cap - 1, cap, cap + 1}) {
    ChatHubConfig c;
    c.monoClock = &fakeNow;
    g_fakeNowUs = 1'000'000'000;
    ChatHub hub(c);
    auto bLink = std::make_shared<CloseLink>();
    bLink->ip = 0x0A000301;
    const PeerId b = joinAs(hub, bLink, "b");
    g_fakeNowUs += stay;
    hub.detach(b, wire::Reason::IoEof, "gone");
    auto newcomer = std::make_shared<HistoryLink>();
    newcomer->ip = 0x0A000302;
    joinAs(hub, newcomer, "c");
    const std::vector<std::string> kept{"b:" + std::to_string(static_cast<int>(wire::ChatKind::Join)),
                                        "b:" + std::to_string(static_cast<int>(wire::ChatKind::Leave))};
    EXPECT_EQ(newcomer->replayed, stay < cap ? std::vector<std::string>{} : kept) << stay;
  }
}

// The join-rate table holds kMaxJoinRateEntries addresses; one more forgets the address used
// longest ago (whose spent burst is then forgiven), and the table never grows past the cap.
TEST(Limits, JoinRateTableAtItsCap) {
  const std::size_t cap = wire::kMaxJoinRateEntries;
  const auto burst = static_cast<std::size_t>(wire::kJoinBurstPerAddress);
  for (std::size_t others : {cap - 2, cap - 1, cap}) {
    ChatHubConfig c;
    c.monoClock = &fakeNow;
    g_fakeNowUs = 1'000'000'000;
    c.maxParticipants = wire::kMaxParticipants;
    ChatHub hub(c);
    for (std::size_t i = 0; i < burst; ++i) joins(hub, 0x0B000001);
    ASSERT_FALSE(joins(hub, 0x0B000001)) << "its burst is spent";
    for (std::size_t i = 0; i < others; ++i) {
      g_fakeNowUs += 1;  // each a little later, so the spent address is the oldest
      auto link = std::make_shared<CloseLink>();
      link->ip = 0x0C000000 + static_cast<std::uint32_t>(i);
      hub.detach(joinAs(hub, link, "other"), wire::Reason::IoEof, "gone");  // the room stays open
    }
    EXPECT_LE(hub.stats().joinRateEntries, cap) << others;
    // With 1 + others <= cap entries, the spent address is still remembered and refused.
    EXPECT_EQ(joins(hub, 0x0B000001), 1 + others > cap) << others;
  }
}

// [SECTION] the voice relay (net/voice_hub.h): a speaker's packet rate and the speakers
// forwarded at once, each at cap-1, cap and cap+1.
#include "net_voice_support.h"

namespace {

TEST(NetLimits, VoicePacketBurstPerSpeakerAtItsCap) {
  VoiceRig rig;
  rig.join(1, 0);
  rig.join(2, 0);
  const std::int64_t now = 5'000'000;
  const auto burst = static_cast<std::uint32_t>(wire::kVoicePacketBurst);
  std::uint32_t forwarded = 0;
  for (std::uint32_t seq = 0; seq < burst + 1; ++seq) forwarded += rig.send(1, voiceFramePlain(1, seq), now).size();
  EXPECT_EQ(forwarded, burst);  // cap-1 and cap pass, cap+1 dropped
  EXPECT_EQ(rig.hub.stats().rateLimited, 1u);
  // The steady rate: a second later, kVoicePacketsPerSec more go.
  forwarded = 0;
  for (std::uint32_t seq = 0; seq < burst + 1; ++seq)
    forwarded += rig.send(1, voiceFramePlain(1, 100 + seq), now + 1'000'000).size();
  EXPECT_EQ(forwarded, std::min<std::uint32_t>(burst, static_cast<std::uint32_t>(wire::kVoicePacketsPerSec)));
}

TEST(NetLimits, VoiceSpeakersForwardedAtOnceAtTheirCap) {
  const std::uint32_t cap = static_cast<std::uint32_t>(wire::kMaxVoiceSpeakersForwarded);
  VoiceRig rig({}, cap + 2);
  for (std::uint32_t id = 1; id <= cap + 2; ++id) rig.join(id, 0);
  const std::int64_t now = 1'000'000;
  for (std::uint32_t id = 1; id <= cap; ++id) EXPECT_FALSE(rig.send(id, voiceFramePlain(id, 0), now).empty()) << id;
  EXPECT_TRUE(rig.send(cap + 1, voiceFramePlain(cap + 1, 0), now).empty());
  EXPECT_EQ(rig.hub.stats().speakersCapped, 1u);
  // Speakers already forwarded keep going, the one waiting does not; once the others fall
  // silent, it gets in.
  const std::int64_t mid = now + wire::kVoiceSpeakerActiveUs / 2;
  EXPECT_FALSE(rig.send(1, voiceFramePlain(1, 1), mid).empty());
  EXPECT_TRUE(rig.send(cap + 1, voiceFramePlain(cap + 1, 1), mid).empty());
  EXPECT_EQ(rig.hub.stats().speakersCapped, 2u);
  EXPECT_FALSE(rig.send(cap + 1, voiceFramePlain(cap + 1, 2), now + wire::kVoiceSpeakerActiveUs).empty());
}

// Files in the chat (net/file_hub.h): the default size cap and open offers per person, at the
// cap and one over (each refusal is a FileStatus back to the sender).
TEST(NetLimits, FileSizeAndOpenOffersAtTheirCaps) {
  struct CountLink : PeerLink {
    bool send(base::Bytes frame) override {
      refusals += (frame->at(4) | frame->at(5) << 8) == static_cast<int>(wire::MsgType::FileStatus);
      return true;
    }
    void close(wire::Reason, const std::string&) override {}
    void closeAfterFlush(wire::Reason, const std::string&) override {}
    std::string address() const override { return "10.0.0.7:1"; }
    std::uint32_t ipv4() const override { return 0x0A000007; }
    int refusals = 0;
  };
  FileHubConfig config;
  config.offerBurst = 1000;  // the rate is not what is measured here
  FileHub hub(config);
  auto alice = std::make_shared<CountLink>(), bob = std::make_shared<CountLink>();
  const std::vector<FileHub::Member> room{{1, "alice", alice}, {2, "bob", bob}};
  std::uint32_t n = 1;
  auto offer = [&](std::uint64_t size) {
    wire::FileOffer o;
    o.offerId = n++;
    o.name = "f" + std::to_string(o.offerId) + ".bin";  // each one another file
    o.size = size;
    base::Bytes bytes = wire::encodeFrame(o);
    wire::Frame f{static_cast<std::uint16_t>(wire::MsgType::FileOffer),
                  std::span<const std::uint8_t>(bytes->data() + wire::kFrameHeaderBytes, bytes->size() - wire::kFrameHeaderBytes)};
    EXPECT_EQ(hub.handle(room[0], f, room, 1'000'000), "");
    return alice->refusals;
  };
  EXPECT_EQ(offer(wire::kDefaultMaxFileBytes + 1), 1);
  EXPECT_EQ(offer(wire::kDefaultMaxFileBytes), 1);
  EXPECT_EQ(offer(wire::kDefaultMaxFileBytes - 1), 1);
  for (std::size_t i = 2; i < wire::kMaxFileOffersPerPerson; ++i) offer(1);
  EXPECT_EQ(hub.stats().openOffers, wire::kMaxFileOffersPerPerson);  // at the cap
  EXPECT_EQ(offer(1), 2);                                            // one over
  EXPECT_EQ(hub.stats().openOffers, wire::kMaxFileOffersPerPerson);
}

// A lower tier's grid holds at most kMaxTierStreamBytes of tiles; the publisher over it is closed.
TEST(NetLimits, TierGridBytesAtTheirCap) {
  for (std::size_t extra : {std::size_t(0), std::size_t(1)}) {
    std::int64_t now = kT0;
    ScreenHubConfig config;
    config.clock = [&now] { return now; };
    ScreenHub hub(config, [](std::uint64_t token, ScreenSeat& seat) {
      seat.participantId = static_cast<std::uint32_t>(token);
      return true;
    }, [](std::uint32_t, bool) {});
    Peer sharer = join(hub, 1);
    const std::uint32_t stream = publish(hub, sharer, 4096, 4096, 256);
    wire::TileBatch top = batchOf(4096, 4096, 256, 1);
    top.tiles.push_back(scanTile(0, 0, 100));
    feedTiles(hub, sharer.id, top);
    // A viewer whose credit never comes back: its policy wants tier 1 once the update stalls.
    Peer viewer = join(hub, 2);
    feed(hub, viewer.id, wire::Subscribe{.streamId = stream, .credits = 1});
    now += config.tiers.stallUs + config.tiers.holdUs;
    hub.tick(now);
    ASSERT_EQ(hub.wantedTiers(stream), 3);
    // Tier 1's tiles, their bytes exactly at the cap (plus `extra`), in two batches.
    const std::size_t kLargest = wire::maxJpegTileBytes(256, 256);
    std::size_t left = wire::kMaxTierStreamBytes + extra;
    wire::TileBatch b = batchOf(4096, 4096, 256, 2);
    for (std::uint16_t slot = 0; left > 0; ++slot) {
      const std::size_t take = std::min(left, kLargest);
      b.tiles.push_back(scanTile(slot % 16, slot / 16, take));
      left -= take;
      if (b.tiles.size() == 50 || left == 0) {
        hub.receive(sharer.id, base::view(wire::encodeTierTiles(1, b)), now);
        b.tiles.clear();
        ++b.seq;
      }
    }
    EXPECT_EQ(sharer.link->closedWith, extra ? wire::Reason::ScreenBounds : wire::Reason::None) << extra;
  }
}

// Patches (issue 12): a publisher's batch of kMaxPatchesPerBatch is taken, one more drops it.
TEST(NetLimits, PatchesPerBatchAtTheirCap) {
  for (std::size_t n : {wire::kMaxPatchesPerBatch - 1, wire::kMaxPatchesPerBatch, wire::kMaxPatchesPerBatch + 1}) {
    ScreenHub hub = makeHub();
    Peer sharer = join(hub, 1);
    ASSERT_NE(publish(hub, sharer, 4096, 4096, 64), 0u);
    wire::TileBatch b = batchOf(4096, 4096, 64, 1);
    for (std::size_t i = 0; i < n; ++i) {
      base::TilePatch p;
      p.tile.tx = std::uint16_t(i % 64);
      p.tile.ty = std::uint16_t(i / 64);
      p.w = p.h = 1;
      b.patches.push_back(p);
    }
    feedTiles(hub, sharer.id, b);
    EXPECT_EQ(sharer.link->closedWith, n <= wire::kMaxPatchesPerBatch ? wire::Reason::None : wire::Reason::ScreenBounds)
        << n;
  }
}

}  // namespace
