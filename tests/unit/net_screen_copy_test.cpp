// The host relays copies (scrolls, issue 12) like tiles: a viewer in step gets each copy with
// its frame's tiles; a viewer that missed frames is replayed them in order from the log, never
// a copy against an image it does not have; a viewer too far behind, or new, waits for the
// sharer's refresh and then gets a whole image. Copies outside the stream drop the publisher.
#include <gtest/gtest.h>

#include "net_screen_support.h"

using namespace huddle;
using namespace huddle::net;
using namespace huddle::net::test;

namespace {

constexpr std::uint32_t kW = 256, kH = 128;
constexpr std::uint16_t kTile = 64;
constexpr std::uint32_t kCols = kW / kTile, kRows = kH / kTile;

// An image of one colour a pixel, as a viewer (or the sharer) holds it.
struct Image {
  std::vector<std::uint32_t> px = std::vector<std::uint32_t>(std::size_t(kW) * kH, 0);
  void apply(const wire::TileBatch& b) {
    for (const auto& c : b.copies) {
      std::vector<std::uint32_t> before = px;  // one block: reads the image as it was
      for (int y = 0; y < c.h; ++y)
        for (int x = 0; x < c.w; ++x)
          px[std::size_t(c.dstY + y) * kW + c.dstX + x] = before[std::size_t(c.srcY + y) * kW + c.srcX + x];
    }
    for (const auto& p : b.patches)
      for (int y = 0; y < p.h; ++y)
        for (int x = 0; x < p.w; ++x)
          px[std::size_t(p.tile.ty * kTile + p.y + y) * kW + p.tile.tx * kTile + p.x + x] = p.tile.solidBgrx;
    for (const auto& t : b.tiles)
      for (int y = 0; y < kTile; ++y)
        for (int x = 0; x < kTile; ++x) px[std::size_t(t.ty * kTile + y) * kW + t.tx * kTile + x] = t.solidBgrx;
  }
  bool operator==(const Image&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Image& i) {
  std::size_t set = 0;
  for (auto v : i.px) set += v != 0;
  return os << "image with " << set << " pixels set, first " << i.px[0] << ", last " << i.px.back();
}

base::EncodedTile solid(std::uint16_t tx, std::uint16_t ty, std::uint32_t colour) {
  base::EncodedTile t;
  t.tx = tx;
  t.ty = ty;
  t.kind = base::TileKind::Solid;
  t.solidBgrx = colour;
  return t;
}

// Every update (with copies or not) the viewer was sent from frame `from` on, decoded, in order.
std::vector<wire::TileBatch> updatesOf(Peer& p, std::size_t& from) {
  std::vector<wire::TileBatch> out;
  std::vector<base::Bytes> frames;
  {
    frames = p.link->frames;
  }
  for (; from < frames.size(); ++from) {
    const base::Bytes& f = frames[from];
    const std::uint16_t type = std::uint16_t(f->at(4) | f->at(5) << 8);
    if (!wire::isUpdateType(type)) continue;
    wire::TileBatch b;
    std::string error;
    wire::Reader r(std::span(f->data() + wire::kFrameHeaderBytes, f->size() - wire::kFrameHeaderBytes));
    EXPECT_TRUE(b.read(r, f, error, wire::hasCopies(type)) && r.done()) << error;
    out.push_back(std::move(b));
  }
  return out;
}

struct Viewer {
  Peer peer;
  Image image;
  std::size_t seen = 0;
  // Applies what arrived; gives a credit back for each update when `credit`.
  // Says its connection drained each time, so one update may follow another.
  std::size_t take(ScreenHub& hub, std::uint32_t stream, bool credit = true) {
    std::size_t n = 0;
    for (int round = 0; round < 100; ++round) {
      hub.drained(peer.id, 1);
      auto updates = updatesOf(peer, seen);
      if (updates.empty()) break;
      for (const auto& u : updates) {
        image.apply(u);
        if (credit) feed(hub, peer.id, wire::UpdateRequest{.streamId = stream, .credits = 1});
      }
      n += updates.size();
    }
    return n;
  }
};

struct Scene {
  ScreenHub hub = makeHub();
  Peer sharer = join(hub, 1);
  std::uint32_t stream = publish(hub, sharer, kW, kH, kTile);
  Image truth;
  std::uint64_t seq = 0;
  bool patched = false;  // refresh() sends the patched (bottom) row too
  void send(wire::TileBatch b) {
    b.seq = ++seq;
    truth.apply(b);
    feedTiles(hub, sharer.id, b);
  }
  // The first frame: every tile a colour of its own.
  void whole(std::uint32_t base) {
    wire::TileBatch b = batchOf(kW, kH, kTile, 0);
    for (std::uint16_t ty = 0; ty < kRows; ++ty)
      for (std::uint16_t tx = 0; tx < kCols; ++tx) b.tiles.push_back(solid(tx, ty, base + ty * kCols + tx));
    send(std::move(b));
  }
  // Everything scrolls up `dy` pixels; the bottom row of tiles is new.
  void scroll(int dy, std::uint32_t colour) {
    wire::TileBatch b = batchOf(kW, kH, kTile, 0);
    b.copies.push_back({0, dy, int(kW), int(kH) - dy, 0, 0});
    for (std::uint16_t tx = 0; tx < kCols; ++tx) b.tiles.push_back(solid(tx, kRows - 1, colour + tx));
    send(std::move(b));
  }
  // Everything scrolls up `dy` (< 16) pixels; the bottom 16 rows of each bottom tile are new,
  // sent as patches (the first one's in a batch of its own, after it, with no copy).
  void scrollWithPatches(int dy, std::uint32_t colour) {
    wire::TileBatch b = batchOf(kW, kH, kTile, 0);
    b.copies.push_back({0, dy, int(kW), int(kH) - dy, 0, 0});
    for (std::uint16_t tx = 1; tx < kCols; ++tx)
      b.patches.push_back(patch(tx, kRows - 1, 0, kTile - 16, kTile, 16, colour + tx));
    send(std::move(b));
    wire::TileBatch alone = batchOf(kW, kH, kTile, 0);
    alone.patches.push_back(patch(0, kRows - 1, 8, kTile - 16, 16, 16, colour));
    send(std::move(alone));
  }
  static base::TilePatch patch(std::uint16_t tx, std::uint16_t ty, int x, int y, int w, int h, std::uint32_t colour) {
    base::TilePatch p;
    p.tile = solid(tx, ty, colour);
    p.x = std::uint16_t(x);
    p.y = std::uint16_t(y);
    p.w = std::uint16_t(w);
    p.h = std::uint16_t(h);
    return p;
  }
  // The sharer's refresh: every tile a copy changed, encoded again (here: a new colour).
  void refresh(std::uint32_t colour) {
    wire::TileBatch b = batchOf(kW, kH, kTile, 0);
    for (std::uint16_t tx = 0; tx < kCols; ++tx) b.tiles.push_back(solid(tx, 0, colour + tx));
    if (patched)
      for (std::uint16_t tx = 0; tx < kCols; ++tx) b.tiles.push_back(solid(tx, kRows - 1, colour + 100 + tx));
    send(std::move(b));
  }
  Viewer watch(std::uint64_t token, std::uint8_t credits = 2) {
    Viewer v;
    v.peer = join(hub, token);
    feed(hub, v.peer.id, wire::Subscribe{stream, credits});
    return v;
  }
};

}  // namespace

TEST(ScreenCopies, AViewerInStepGetsEachCopyWithItsTilesAndEndsExact) {
  Scene s;
  ASSERT_NE(s.stream, 0u);
  Viewer v = s.watch(2);
  s.whole(100);
  v.take(s.hub, s.stream);
  EXPECT_EQ(v.image, s.truth);
  for (int i = 0; i < 5; ++i) {
    s.scroll(7 + i, 1000 + 10 * i);
    EXPECT_EQ(v.take(s.hub, s.stream), 1u);
    EXPECT_EQ(v.peer.link->of(wire::ScreenType::CopyUpdate).size(), std::size_t(i + 1));
    EXPECT_EQ(v.image, s.truth) << "after scroll " << i;
  }
  EXPECT_FALSE(v.peer.link->of(wire::ScreenType::CopyUpdate).empty());
  EXPECT_GE(s.hub.stats().copyUpdatesSent, 5u);
}

TEST(ScreenCopies, AViewerThatMissedFramesIsReplayedThemInOrder) {
  Scene s;
  Viewer fast = s.watch(2), slow = s.watch(3, 1);
  s.whole(100);
  fast.take(s.hub, s.stream);
  slow.take(s.hub, s.stream, false);  // its one credit spent: it gets nothing more for now
  for (int i = 0; i < 6; ++i) {
    s.scroll(5, 2000 + 10 * i);
    // A frame with no copy between: coalesced with its neighbours where that is safe.
    wire::TileBatch b = batchOf(kW, kH, kTile, 0);
    b.tiles.push_back(solid(std::uint16_t(i % kCols), 1, 3000 + i));
    s.send(std::move(b));
    fast.take(s.hub, s.stream);
    EXPECT_EQ(fast.image, s.truth);
  }
  EXPECT_EQ(slow.take(s.hub, s.stream, false), 0u);
  // Now it gives credits back, one update at a time, and catches up exactly.
  feed(s.hub, slow.peer.id, wire::UpdateRequest{.streamId = s.stream, .credits = 1});
  EXPECT_GE(slow.take(s.hub, s.stream), 6u);  // each copy in its own update
  EXPECT_EQ(slow.image, s.truth);
  EXPECT_EQ(fast.image, s.truth);
}

TEST(ScreenCopies, ANewViewerWaitsForTheSharersRefreshThenGetsAWholeImage) {
  Scene s;
  s.whole(100);
  s.scroll(9, 4000);
  s.scroll(9, 4100);
  // The top row's bytes on the host are older than what the copies put there.
  Viewer late = s.watch(2);
  EXPECT_EQ(late.take(s.hub, s.stream), 0u);
  EXPECT_GT(s.hub.stats().copyWaits, 0u);
  s.refresh(5000);
  EXPECT_GE(late.take(s.hub, s.stream), 1u);
  EXPECT_EQ(late.image, s.truth);
  // And in step from there on.
  s.scroll(3, 6000);
  late.take(s.hub, s.stream);
  EXPECT_EQ(late.image, s.truth);
}

TEST(ScreenCopies, AViewerTooFarBehindTheLogWaitsForTheRefresh) {
  Scene s;
  Viewer slow = s.watch(3, 1);
  s.whole(100);
  slow.take(s.hub, s.stream, false);
  for (std::size_t i = 0; i < wire::kCopyLogVersions + 4; ++i) s.scroll(4, 7000 + std::uint32_t(i) * 10);
  feed(s.hub, slow.peer.id, wire::UpdateRequest{.streamId = s.stream, .credits = 1});
  EXPECT_EQ(slow.take(s.hub, s.stream), 0u);  // cannot be replayed: waits
  s.refresh(8000);
  EXPECT_GE(slow.take(s.hub, s.stream), 1u);
  EXPECT_EQ(slow.image, s.truth);
}

TEST(ScreenCopies, ACopyOutsideTheStreamDropsThePublisher) {
  const std::vector<base::CopyRect> bad = {
      {0, 0, int(kW) + 1, 10, 0, 0},  // wider than the stream
      {0, 120, 10, 10, 0, 0},         // source below the bottom
      {0, 0, 10, 10, int(kW) - 5, 0}, // destination past the right edge
      {0, 0, 0, 10, 0, 0},            // empty
  };
  for (const auto& c : bad) {
    Scene s;
    s.whole(100);
    wire::TileBatch b = batchOf(kW, kH, kTile, 2);
    b.copies.push_back(c);
    feedTiles(s.hub, s.sharer.id, b);
    EXPECT_EQ(s.sharer.link->closedWith, wire::Reason::ScreenBounds) << c.w << "x" << c.h;
  }
}

// Patches (changed rectangles inside a tile) ride the copy batches: in order after the copies,
// the tiles they wrote stale on the host like a copy's.
TEST(ScreenPatches, AViewerInStepGetsEachPatchAfterItsCopiesAndEndsExact) {
  Scene s;
  s.patched = true;
  Viewer v = s.watch(2);
  s.whole(100);
  v.take(s.hub, s.stream);
  for (int i = 0; i < 4; ++i) {
    s.scrollWithPatches(3 + i, 1000 + 10 * i);
    v.take(s.hub, s.stream);
    EXPECT_EQ(v.image, s.truth) << "after scroll " << i;
  }
  EXPECT_GE(v.peer.link->of(wire::ScreenType::CopyUpdate).size(), 8u);
  s.refresh(5000);
  v.take(s.hub, s.stream);
  EXPECT_EQ(v.image, s.truth);
}

TEST(ScreenPatches, AViewerThatMissedFramesIsReplayedPatchesInOrderWithCopies) {
  Scene s;
  s.patched = true;
  Viewer fast = s.watch(2), slow = s.watch(3, 1);
  s.whole(100);
  fast.take(s.hub, s.stream);
  slow.take(s.hub, s.stream, false);
  for (int i = 0; i < 4; ++i) {
    s.scrollWithPatches(4, 2000 + 10 * i);
    wire::TileBatch b = batchOf(kW, kH, kTile, 0);  // a plain frame between, one tile a patch wrote
    b.tiles.push_back(solid(std::uint16_t(i % kCols), kRows - 1, 3000 + i));
    s.send(std::move(b));
    fast.take(s.hub, s.stream);
    EXPECT_EQ(fast.image, s.truth);
  }
  EXPECT_EQ(slow.take(s.hub, s.stream, false), 0u);
  feed(s.hub, slow.peer.id, wire::UpdateRequest{.streamId = s.stream, .credits = 1});
  EXPECT_GE(slow.take(s.hub, s.stream), 8u);  // each batch of copies or patches in its own update
  EXPECT_EQ(slow.image, s.truth);
}

TEST(ScreenPatches, ANewViewerWaitsForTheRefreshOfPatchedTiles) {
  Scene s;
  s.patched = true;
  s.whole(100);
  // Patches alone (no copy): the tiles they wrote are stale on the host all the same.
  wire::TileBatch b = batchOf(kW, kH, kTile, 0);
  b.patches.push_back(Scene::patch(1, 1, 16, 32, 32, 16, 4242));
  s.send(std::move(b));
  Viewer late = s.watch(2);
  EXPECT_EQ(late.take(s.hub, s.stream), 0u);
  s.refresh(5000);
  EXPECT_GE(late.take(s.hub, s.stream), 1u);
  EXPECT_EQ(late.image, s.truth);
}

TEST(ScreenPatches, ABadPatchDropsThePublisher) {
  struct Case {
    base::TilePatch p;
    wire::Reason reason;
  };
  base::TilePatch badBytes = Scene::patch(0, 0, 0, 0, 16, 16, 0);
  badBytes.tile.kind = base::TileKind::Jpeg;
  badBytes.tile.jpeg = base::ByteSlice::whole(base::makeBytes(base::ByteVec(64, 0x55)));
  const std::vector<Case> cases = {
      {Scene::patch(0, 0, 60, 0, 8, 8, 1), wire::Reason::ScreenBounds},   // past its tile's right edge
      {Scene::patch(0, 0, 0, 0, 0, 8, 1), wire::Reason::ScreenBounds},    // empty
      {Scene::patch(kCols, 0, 0, 0, 8, 8, 1), wire::Reason::ScreenBounds},  // a tile outside the grid
      {Scene::patch(0, 1, 0, 60, 8, 5, 1), wire::Reason::ScreenBounds},   // past the stream's bottom
      {badBytes, wire::Reason::ScreenJpeg},                                // not a JPEG
  };
  for (const auto& c : cases) {
    Scene s;
    s.whole(100);
    wire::TileBatch b = batchOf(kW, kH, kTile, 2);
    b.patches.push_back(c.p);
    feedTiles(s.hub, s.sharer.id, b);
    EXPECT_EQ(s.sharer.link->closedWith, c.reason) << c.p.tile.tx << "," << c.p.tile.ty << " " << c.p.x << "," << c.p.y
                                                  << " " << c.p.w << "x" << c.p.h;
  }
  // The same tile whole and patched in one batch: refused.
  Scene s;
  s.whole(100);
  wire::TileBatch b = batchOf(kW, kH, kTile, 2);
  b.tiles.push_back(solid(1, 1, 7));
  b.patches.push_back(Scene::patch(1, 1, 0, 0, 8, 8, 1));
  feedTiles(s.hub, s.sharer.id, b);
  EXPECT_EQ(s.sharer.link->closedWith, wire::Reason::ScreenBounds);
}
