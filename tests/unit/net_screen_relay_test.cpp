// The screen hub's memory and frame limits (docs/SECURITY.md s.7.2), driven with no sockets and
// a clock of our own: what a hostile publisher can make the host hold, how fast it may publish,
// how many streams and connections one participant may have, and updates cut under the cap.
#include <gtest/gtest.h>

#include <set>

#include "net/screen_hub.h"
#include "net_screen_support.h"

using namespace huddle;
using namespace huddle::net;
using namespace huddle::net::test;

// Sanitizers bring allocators of their own that keep freed memory resident on purpose
// (ASan's quarantine, TSan's), so resident memory says nothing about the hub under them.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitizerAllocator = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr bool kSanitizerAllocator = true;
#else
constexpr bool kSanitizerAllocator = false;
#endif
#else
constexpr bool kSanitizerAllocator = false;
#endif

// The attack of issue 10: large messages, each with one tile in a fresh slot and the rest in
// slots the next message overwrites. Before, every fresh tile kept its whole message alive.
TEST(ScreenRelay, OneFreshTilePerLargeMessageDoesNotKeepTheMessagesAlive) {
  ScreenHub hub = makeHub();
  constexpr std::uint32_t kW = 4096, kH = 2304;  // 16 x 9 tiles of 256 px
  constexpr std::uint16_t kTile = 256;
  Peer attacker = join(hub, 1), other = join(hub, 2), viewer = join(hub, 3);
  const std::uint32_t bad = publish(hub, attacker, kW, kH, kTile);
  const std::uint32_t good = publish(hub, other, 128, 64, 64);
  ASSERT_NE(bad, 0u);
  ASSERT_NE(good, 0u);
  feed(hub, viewer.id, wire::Subscribe{.streamId = good, .credits = 2});
  hub.drained(viewer.id, 1);  // the first (empty) update went out

  const std::int64_t before = residentBytes();
  constexpr int kMessages = 16;
  constexpr std::size_t kBig = 390'000;
  std::size_t messageBytes = 0;
  for (int i = 0; i < kMessages; ++i) {
    wire::TileBatch b = batchOf(kW, kH, kTile, std::uint64_t(i + 1));
    b.tiles.push_back(scanTile(std::uint16_t(i), 0, 1000));  // fresh slot: row 0
    for (std::uint16_t k = 0; k < 44; ++k)  // overwritten every time: the last rows
      b.tiles.push_back(scanTile(std::uint16_t(k % 16), std::uint16_t(6 + k / 16), kBig));
    messageBytes = wire::encodeTileBatch(wire::ScreenType::PublishTiles, b)->size();
    // A second of our clock per message: within any sane publishing rate.
    feedTiles(hub, attacker.id, b, kT0 + std::int64_t(i) * 1'000'000);
  }
  ASSERT_EQ(attacker.link->closedWith, wire::Reason::None);
  EXPECT_EQ(attacker.link->of(wire::ScreenType::PublishAck).size(), std::size_t(kMessages));
  const std::uint64_t held = hub.streamBytesHeld(bad);
  const std::int64_t grown = residentBytes() - before;
  // What the stream's tiles are worth, with room for allocator rounding.
  const std::uint64_t tilesWorth = 44 * kBig + kMessages * 1000;
  EXPECT_LT(held, tilesWorth + tilesWorth / 10) << "held " << held << " for messages of " << messageBytes;
  EXPECT_LE(held, wire::kMaxStreamBytes);
  // Before, 16 messages of ~17 MB stayed resident; now about one message's tiles do (the
  // hub's own count above holds under sanitizers too).
  if (!kSanitizerAllocator) {
    EXPECT_LT(grown, std::int64_t(wire::kMaxStreamBytes)) << "resident memory grew by " << grown;
  }

  // Everyone else's stream goes on.
  wire::TileBatch frame = batchOf(128, 64, 64, 1);
  frame.tiles.push_back(scanTile(1, 0, 100));
  feedTiles(hub, other.id, frame, kT0 + kMessages * 1'000'000);
  auto updates = viewer.link->of(wire::ScreenType::Update);
  ASSERT_FALSE(updates.empty());
  EXPECT_EQ(decodeUpdate(updates.back()).tiles.size(), 1u);
  EXPECT_EQ(other.link->closedWith, wire::Reason::None);
}

namespace {

// Everything `viewer` is sent for `stream`, giving a credit back for each update and saying
// its connection drained, as a viewer does, until no more comes.
std::vector<base::Bytes> watchUntilQuiet(ScreenHub& hub, Peer& viewer, std::uint32_t stream) {
  std::size_t seen = 0;
  for (int round = 0; round < 1000; ++round) {
    auto updates = viewer.link->of(wire::ScreenType::Update);
    if (updates.size() == seen && round > 0) return updates;
    for (; seen < updates.size(); ++seen) feed(hub, viewer.id, wire::UpdateRequest{.streamId = stream, .credits = 1});
    hub.drained(viewer.id, 1);
  }
  ADD_FAILURE() << "updates never stopped";
  return {};
}

}  // namespace

// A stream whose whole image is larger than a viewer accepts arrives whole, in several frames
// each within the cap (before, one Update of ~57 MB: every viewer dropped its screen link).
TEST(ScreenRelay, AnUpdateLargerThanAFrameArrivesWholeInSeveralFrames) {
  ScreenHub hub = makeHub();
  Peer publisher = join(hub, 1), viewer = join(hub, 2), twin = join(hub, 3);
  const std::uint32_t stream = publish(hub, publisher, 4096, 2304, 256);  // 144 tiles
  ASSERT_NE(stream, 0u);
  const std::uint32_t kFull = wire::maxJpegTileBytes(256, 256);
  for (std::uint16_t first = 0; first < 144; first += 48) {
    wire::TileBatch b = batchOf(4096, 2304, 256, first + 1);
    for (std::uint16_t i = first; i < first + 48; ++i) b.tiles.push_back(scanTile(i % 16, i / 16, kFull));
    feedTiles(hub, publisher.id, b, kT0 + first * 100'000);
  }
  ASSERT_EQ(publisher.link->closedWith, wire::Reason::None);
  for (Peer* p : {&viewer, &twin}) feed(hub, p->id, wire::Subscribe{.streamId = stream, .credits = 2});
  for (Peer* p : {&viewer, &twin}) {
    const std::vector<base::Bytes> frames = watchUntilQuiet(hub, *p, stream);
    EXPECT_GE(frames.size(), 3u);  // 57 MB of tiles
    std::set<std::pair<int, int>> tiles;
    for (const auto& f : frames) {
      EXPECT_LE(f->size() - wire::kFrameHeaderBytes, std::size_t(wire::kMaxScreenPayload));
      for (const auto& t : decodeUpdate(f).tiles) EXPECT_TRUE(tiles.insert({t.tx, t.ty}).second) << "sent twice";
    }
    EXPECT_EQ(tiles.size(), 144u);
    EXPECT_EQ(p->link->closedWith, wire::Reason::None);
  }
  EXPECT_GE(hub.stats().updatesShared, 2u);  // the twin, in step, got the same parts
  // The cached parts are bounded in bytes, not only in entries.
  EXPECT_LE(hub.streamBytesHeld(stream), 144ull * kFull + wire::kMaxUpdateCacheBytes);
}

// A viewer who subscribes before the sharer's first tiles gets no update until they come: an
// update of a grid that was only cleared holds no tiles, and a viewer took it for a blank
// first image (a snapshot of nothing).
TEST(ScreenRelay, AViewerWhoCameBeforeTheFirstTilesIsSentNoEmptyUpdate) {
  ScreenHub hub = makeHub();
  Peer publisher = join(hub, 1), viewer = join(hub, 2);
  const std::uint32_t stream = publish(hub, publisher, 256, 128, 64);  // 4 x 2 tiles
  ASSERT_NE(stream, 0u);
  feed(hub, viewer.id, wire::Subscribe{.streamId = stream, .credits = 2});
  EXPECT_TRUE(viewer.link->of(wire::ScreenType::Update).empty()) << "an update of a grid with no tiles";
  wire::TileBatch first = batchOf(256, 128, 64, 1);
  for (std::uint16_t i = 0; i < 8; ++i) first.tiles.push_back(scanTile(i % 4, i / 4, 100));
  feedTiles(hub, publisher.id, first, kT0 + 1000);
  const std::vector<base::Bytes> updates = viewer.link->of(wire::ScreenType::Update);
  ASSERT_EQ(updates.size(), 1u);
  EXPECT_EQ(decodeUpdate(updates[0]).tiles.size(), 8u);
  // The same after a new size: the viewer is not sent the cleared grid either.
  ASSERT_EQ(publish(hub, publisher, 128, 128, 64), stream);
  feed(hub, viewer.id, wire::UpdateRequest{.streamId = stream, .credits = 1});
  EXPECT_EQ(viewer.link->of(wire::ScreenType::Update).size(), 1u) << "an update of the cleared grid";
  EXPECT_EQ(viewer.link->closedWith, wire::Reason::None);
}

// At the edge: an update of exactly the cap is one frame; a byte more is two.
TEST(ScreenRelay, AnUpdateOfExactlyTheCapIsOneFrameAndOneByteMoreIsTwo) {
  for (int delta : {-1, 0, 1}) {
    ScreenHub hub = makeHub();
    Peer publisher = join(hub, 1), viewer = join(hub, 2);
    const std::uint32_t stream = publish(hub, publisher, 4096, 4096, 256);
    ASSERT_NE(stream, 0u);
    // The second batch adds one tile of one byte (12 bytes on the wire) in the last slot.
    feedTiles(hub, publisher.id, batchWithPayload(1, wire::kMaxScreenPayload - 12 + delta));
    wire::TileBatch last = batchOf(4096, 4096, 256, 2);
    last.tiles.push_back(scanTile(15, 15, 1));
    feedTiles(hub, publisher.id, last, kT0 + 1'000'000);
    feed(hub, viewer.id, wire::Subscribe{.streamId = stream, .credits = 2});
    const std::vector<base::Bytes> frames = watchUntilQuiet(hub, viewer, stream);
    ASSERT_EQ(frames.size(), delta > 0 ? 2u : 1u) << delta;
    if (delta <= 0) {
      EXPECT_EQ(frames[0]->size(), wire::kFrameHeaderBytes + wire::kMaxScreenPayload + delta);
    }
    for (const auto& f : frames) EXPECT_LE(f->size(), wire::kFrameHeaderBytes + wire::kMaxScreenPayload);
  }
}
