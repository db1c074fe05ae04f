// The screen hub's memory and frame limits (docs/SECURITY.md s.7.2), driven with no sockets and
// a clock of our own: what a hostile publisher can make the host hold, how fast it may publish,
// how many streams and connections one participant may have, and updates cut under the cap.
#include <gtest/gtest.h>

#include "net/screen_hub.h"
#include "net_screen_support.h"

using namespace huddle;
using namespace huddle::net;
using namespace huddle::net::test;

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
  hub.drained(viewer.id);  // the first (empty) update went out

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
  // Before, 16 messages of ~17 MB stayed resident; now about one message's tiles do.
  EXPECT_LT(grown, std::int64_t(wire::kMaxStreamBytes)) << "resident memory grew by " << grown;

  // Everyone else's stream goes on.
  wire::TileBatch frame = batchOf(128, 64, 64, 1);
  frame.tiles.push_back(scanTile(1, 0, 100));
  feedTiles(hub, other.id, frame, kT0 + kMessages * 1'000'000);
  auto updates = viewer.link->of(wire::ScreenType::Update);
  ASSERT_FALSE(updates.empty());
  EXPECT_EQ(decodeUpdate(updates.back()).tiles.size(), 1u);
  EXPECT_EQ(other.link->closedWith, wire::Reason::None);
}
