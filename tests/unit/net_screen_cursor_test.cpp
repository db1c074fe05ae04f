// The sharer's cursor through the screen hub, with no sockets: a shape once per change and
// positions to every viewer of the stream (and to a newcomer at once), none of it in tiles;
// malformed, out-of-range and flooding cursor messages are dropped while the stream goes on.
#include <gtest/gtest.h>

#include "net/screen_client.h"
#include "net/screen_hub.h"
#include "net_screen_support.h"

using namespace huddle;
using namespace huddle::net;
using namespace huddle::net::test;

namespace {

wire::CursorShape arrow(std::uint32_t id, std::uint16_t w = 16, std::uint16_t h = 24) {
  wire::CursorShape m;
  m.image.id = id;
  m.image.widthPx = w;
  m.image.heightPx = h;
  m.image.hotX = 1;
  m.image.hotY = 2;
  m.image.rgba.assign(std::size_t(w) * h * 4, 0xCC);
  return m;
}

wire::CursorPosition at(std::uint32_t shapeId, std::int32_t x, std::int32_t y, bool visible = true) {
  wire::CursorPosition m;
  m.pos.shapeId = shapeId;
  m.pos.x = x;
  m.pos.y = y;
  m.pos.visible = visible;
  return m;
}

template <typename M>
M decodeAs(const base::Bytes& frame) {
  M m;
  EXPECT_TRUE(wire::decodePayload(std::span(frame->data() + wire::kFrameHeaderBytes, frame->size() - wire::kFrameHeaderBytes), m));
  return m;
}

struct Scene {
  ScreenHub hub = makeHub();
  Peer sharer = join(hub, 1);
  Peer viewer = join(hub, 2);
  std::uint32_t stream = 0;
  Scene() {
    stream = publish(hub, sharer, 640, 360, 64);
    wire::TileBatch b = batchOf(640, 360, 64, 1);
    b.tiles.push_back(scanTile(0, 0, 100));
    feedTiles(hub, sharer.id, b);
    feed(hub, viewer.id, wire::Subscribe{stream, 4});
  }
};

// The host's own 640x360 stream (publishLocal, no publisher connection) and one viewer of it.
struct LocalScene {
  ScreenHub hub = makeHub();
  std::string error;
  std::uint32_t stream = hub.startLocalStream(1, "host", "screen", 640, 360, 64, error);
  Peer viewer = join(hub, 2);
  LocalScene() { feed(hub, viewer.id, wire::Subscribe{stream, 4}); }
};

}  // namespace

TEST(ScreenCursor, ShapeOncePerChangeAndPositionsReachTheViewer) {
  Scene s;
  feed(s.hub, s.sharer.id, arrow(5));
  feed(s.hub, s.sharer.id, at(5, 100, 50));
  feed(s.hub, s.sharer.id, at(5, 110, 55));
  auto shapes = s.viewer.link->of(wire::ScreenType::CursorShape);
  auto positions = s.viewer.link->of(wire::ScreenType::CursorPosition);
  ASSERT_EQ(shapes.size(), 1u) << "the shape goes once, not with every position";
  ASSERT_EQ(positions.size(), 2u);
  auto shape = decodeAs<wire::CursorShape>(shapes[0]);
  EXPECT_EQ(shape.streamId, s.stream);
  EXPECT_EQ(shape.image.id, 5u);
  EXPECT_EQ(shape.image.widthPx, 16);
  EXPECT_EQ(shape.image.hotY, 2);
  auto last = decodeAs<wire::CursorPosition>(positions.back());
  EXPECT_EQ(last.streamId, s.stream);
  EXPECT_EQ(last.pos.x, 110);
  EXPECT_EQ(last.pos.y, 55);
  EXPECT_TRUE(last.pos.visible);
  // The sharer is not sent its own cursor back (it does not watch its stream).
  EXPECT_TRUE(s.sharer.link->of(wire::ScreenType::CursorPosition).empty());

  // A shape change, then back to the first shape: the viewer has both cached, so only the
  // new one is sent.
  feed(s.hub, s.sharer.id, arrow(6));
  feed(s.hub, s.sharer.id, at(6, 120, 60));
  feed(s.hub, s.sharer.id, at(5, 130, 65));
  EXPECT_EQ(s.viewer.link->of(wire::ScreenType::CursorShape).size(), 2u);

  // A newcomer gets the current shape and position on subscribing.
  Peer late = join(s.hub, 3);
  feed(s.hub, late.id, wire::Subscribe{s.stream, 2});
  auto lateShapes = late.link->of(wire::ScreenType::CursorShape);
  auto latePositions = late.link->of(wire::ScreenType::CursorPosition);
  ASSERT_EQ(lateShapes.size(), 1u);
  EXPECT_EQ(decodeAs<wire::CursorShape>(lateShapes[0]).image.id, 5u);
  ASSERT_EQ(latePositions.size(), 1u);
  EXPECT_EQ(decodeAs<wire::CursorPosition>(latePositions[0]).pos.x, 130);
  EXPECT_EQ(s.hub.stats().cursorDropped, 0u);
}

TEST(ScreenCursor, AMovingCursorOverAStillScreenCostsNoTileBytes) {
  Scene s;
  // The viewer has its first image; from here on the screen is still.
  const auto before = s.hub.stats();
  const auto updatesBefore = s.viewer.link->of(wire::ScreenType::Update).size();
  feed(s.hub, s.sharer.id, arrow(5));
  std::int64_t now = kT0;
  for (int i = 0; i < 100; ++i) {
    now += 10'000;  // 100 positions a second
    feed(s.hub, s.sharer.id, at(5, i * 5, i * 3), now);
  }
  s.hub.drained(s.viewer.id, 1);
  const auto after = s.hub.stats();
  EXPECT_EQ(after.tileBytesSent, before.tileBytesSent);
  EXPECT_EQ(after.updatesSent, before.updatesSent);
  EXPECT_EQ(s.viewer.link->of(wire::ScreenType::Update).size(), updatesBefore);
  EXPECT_EQ(s.viewer.link->of(wire::ScreenType::CursorPosition).size(), 100u);
  EXPECT_GT(after.cursorBytesSent, 0u);
  EXPECT_EQ(after.cursorDropped, 0u);
}

// The host's own share hands the hub a frame's tiles and its cursor together: a viewer ready
// for an update gets the position in the same write (one send, one wake); one still waiting
// for its last update to drain gets the position alone, at once.
TEST(ScreenCursor, TheHostsCursorGoesInTheSameWriteAsTheUpdateOfItsFrame) {
  LocalScene scene;
  ScreenHub& hub = scene.hub;
  Peer& viewer = scene.viewer;
  const std::uint32_t stream = scene.stream;
  ASSERT_NE(stream, 0u) << scene.error;
  wire::TileBatch first = batchOf(640, 360, 64, 1);
  first.tiles.push_back(scanTile(0, 0, 100));
  hub.publishLocal(stream, std::move(first));
  // The first tiles are the first update (nothing was sent for the empty grid on subscribing).
  ASSERT_EQ(viewer.link->of(wire::ScreenType::Update).size(), 1u);
  hub.drained(viewer.id, 1);

  base::CursorImage shape = arrow(5).image;
  base::CursorPos pos = at(5, 100, 50).pos;
  const std::size_t writesBefore = viewer.link->writes.size();
  wire::TileBatch second = batchOf(640, 360, 64, 2);
  second.tiles.push_back(scanTile(1, 0, 100));
  hub.publishLocal(stream, std::move(second), 0, &shape, &pos);
  // The new shape on its own (ahead), then the position and the update in one write.
  std::vector<int> writes(viewer.link->writes.begin() + long(writesBefore), viewer.link->writes.end());
  ASSERT_EQ(writes, (std::vector<int>{1, 2}));
  auto frames = viewer.link->snapshot();
  ASSERT_GE(frames.size(), 3u);
  EXPECT_EQ(frameType(frames[frames.size() - 3]), int(wire::ScreenType::CursorShape));
  EXPECT_EQ(frameType(frames[frames.size() - 2]), int(wire::ScreenType::CursorPosition));
  EXPECT_EQ(frameType(frames.back()), int(wire::ScreenType::Update));
  EXPECT_EQ(decodeAs<wire::CursorPosition>(frames[frames.size() - 2]).pos.x, 100);

  // Its last update not yet drained: no update goes, and the position does not wait for one.
  pos.x = 120;
  wire::TileBatch third = batchOf(640, 360, 64, 3);
  third.tiles.push_back(scanTile(2, 0, 100));
  hub.publishLocal(stream, std::move(third), 0, nullptr, &pos);
  ASSERT_EQ(viewer.link->writes.back(), 1);
  EXPECT_EQ(frameType(viewer.link->snapshot().back()), int(wire::ScreenType::CursorPosition));
  EXPECT_EQ(decodeAs<wire::CursorPosition>(viewer.link->snapshot().back()).pos.x, 120);
  EXPECT_EQ(viewer.link->of(wire::ScreenType::Update).size(), 2u);
  // Once drained, the third frame's tiles follow, with no position: it went already.
  hub.drained(viewer.id, 1);
  EXPECT_EQ(viewer.link->of(wire::ScreenType::Update).size(), 3u);
  EXPECT_EQ(viewer.link->writes.back(), 1);
  EXPECT_EQ(viewer.link->of(wire::ScreenType::CursorPosition).size(), 2u);
}

// The host's screen grows (a larger resolution, a scale raised): the cursor that comes with
// the first frame of the new size is checked against that size, not the one before.
TEST(ScreenCursor, TheHostsCursorWithAResizedFrameIsCheckedAgainstTheNewSize) {
  LocalScene scene;
  ScreenHub& hub = scene.hub;
  Peer& viewer = scene.viewer;
  const std::uint32_t stream = scene.stream;
  ASSERT_NE(stream, 0u) << scene.error;
  base::CursorImage shape = arrow(5).image;
  base::CursorPos pos = at(5, 1200, 700).pos;  // far outside 640x360
  wire::TileBatch big = batchOf(1280, 720, 64, 1);
  big.tiles.push_back(scanTile(0, 0, 100));
  hub.publishLocal(stream, std::move(big), 0, &shape, &pos);
  EXPECT_EQ(hub.stats().cursorDropped, 0u);
  auto positions = viewer.link->of(wire::ScreenType::CursorPosition);
  ASSERT_EQ(positions.size(), 1u);
  EXPECT_EQ(decodeAs<wire::CursorPosition>(positions[0]).pos.x, 1200);
}

// A client's share: its cursor and its tiles read in one chunk reach each viewer in one write;
// a position read alone goes at once, alone.
TEST(ScreenCursor, APublishersCursorReadWithItsTilesGoesInTheSameWriteAsTheUpdate) {
  Scene s;
  s.hub.drained(s.viewer.id, 1);  // the first image
  feed(s.hub, s.sharer.id, arrow(5));
  const std::size_t writesBefore = s.viewer.link->writes.size();
  base::ByteVec chunk;
  auto append = [&](const base::Bytes& f) { chunk.insert(chunk.end(), f->begin(), f->end()); };
  append(wire::encodeFrame(at(5, 100, 50)));
  wire::TileBatch b = batchOf(640, 360, 64, 2);
  b.tiles.push_back(scanTile(1, 0, 100));
  append(wire::encodeTileBatch(wire::ScreenType::PublishTiles, b));
  s.hub.receive(s.sharer.id, chunk, kT0);
  std::vector<int> writes(s.viewer.link->writes.begin() + long(writesBefore), s.viewer.link->writes.end());
  ASSERT_EQ(writes, (std::vector<int>{1, 2}));  // the shape first, on its own
  auto frames = s.viewer.link->snapshot();
  EXPECT_EQ(frameType(frames[frames.size() - 3]), int(wire::ScreenType::CursorShape));
  EXPECT_EQ(decodeAs<wire::CursorPosition>(frames[frames.size() - 2]).pos.x, 100);
  EXPECT_EQ(frameType(frames.back()), int(wire::ScreenType::Update));

  feed(s.hub, s.sharer.id, at(5, 120, 60));  // its update not drained: the position goes alone
  ASSERT_EQ(s.viewer.link->writes.back(), 1);
  EXPECT_EQ(decodeAs<wire::CursorPosition>(s.viewer.link->snapshot().back()).pos.x, 120);
}

TEST(ScreenCursor, APublishersCursorStaysWithTilesThatTakeMoreThanOneRead) {
  Scene s;
  s.hub.drained(s.viewer.id, 1);  // the first image
  feed(s.hub, s.sharer.id, arrow(5));
  const std::size_t writesBefore = s.viewer.link->writes.size();
  auto concat = [](std::initializer_list<std::span<const std::uint8_t>> parts) {
    base::ByteVec out;
    for (auto p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
  };
  auto tilesFrame = [&](std::uint64_t seq, int tx, int ty) {
    wire::TileBatch t = batchOf(640, 360, 64, seq);
    t.tiles.push_back(scanTile(tx, ty, 100));
    return wire::encodeTileBatch(wire::ScreenType::PublishTiles, t);
  };
  // The cursor and the start of its tiles in one read, the rest of them in the next.
  base::Bytes tiles = tilesFrame(2, 1, 0);
  s.hub.receive(s.sharer.id, concat({base::view(wire::encodeFrame(at(5, 100, 50))), base::view(tiles).first(20)}), kT0);
  EXPECT_EQ(s.viewer.link->writes.size(), writesBefore + 1);  // only the shape: the position waits
  s.hub.receive(s.sharer.id, base::view(tiles).subspan(20), kT0);
  std::vector<int> writes(s.viewer.link->writes.begin() + long(writesBefore), s.viewer.link->writes.end());
  ASSERT_EQ(writes, (std::vector<int>{1, 2}));
  auto frames = s.viewer.link->snapshot();
  EXPECT_EQ(decodeAs<wire::CursorPosition>(frames[frames.size() - 2]).pos.x, 100);
  EXPECT_EQ(frameType(frames.back()), int(wire::ScreenType::Update));

  // Held only for tiles, and only so long; the viewer has not drained its update, so each
  // position below goes alone, and the count of them says when.
  auto positions = [&] { return s.viewer.link->of(wire::ScreenType::CursorPosition); };
  // With the start of a frame that is not tiles: at the end of that read.
  base::Bytes shape = wire::encodeFrame(arrow(6));
  s.hub.receive(s.sharer.id, concat({base::view(wire::encodeFrame(at(5, 130, 70))), base::view(shape).first(10)}), kT0);
  ASSERT_EQ(positions().size(), 2u);
  s.hub.receive(s.sharer.id, base::view(shape).subspan(10), kT0);
  // With the start of tiles that take longer than kCursorHoldUs to come: at the first read after.
  base::Bytes slow = tilesFrame(3, 2, 1);
  s.hub.receive(s.sharer.id, concat({base::view(wire::encodeFrame(at(5, 140, 70))), base::view(slow).first(20)}), kT0);
  EXPECT_EQ(positions().size(), 2u);
  s.hub.receive(s.sharer.id, base::view(slow).subspan(20, 10), kT0 + 30'000);
  ASSERT_EQ(positions().size(), 3u);
  EXPECT_EQ(decodeAs<wire::CursorPosition>(positions().back()).pos.x, 140);
  s.hub.receive(s.sharer.id, base::view(slow).subspan(30), kT0 + 30'000);
  // Its tiles whole, then the start of the next frame's: at the end of that read, not later.
  base::Bytes next = tilesFrame(5, 4, 1);
  s.hub.receive(s.sharer.id,
                concat({base::view(wire::encodeFrame(at(5, 150, 70))), base::view(tilesFrame(4, 3, 1)), base::view(next).first(20)}),
                kT0 + 40'000);
  ASSERT_EQ(positions().size(), 4u);
  EXPECT_EQ(decodeAs<wire::CursorPosition>(positions().back()).pos.x, 150);
  s.hub.receive(s.sharer.id, base::view(next).subspan(20), kT0 + 40'000);
  EXPECT_EQ(s.hub.stats().cursorDropped, 0u);
}

TEST(ScreenCursor, MalformedOutOfRangeAndFloodingCursorMessagesAreDroppedAndTheStreamGoesOn) {
  Scene s;
  auto raw = [&](wire::ScreenType type, const base::ByteVec& payload) {
    base::ByteVec out(wire::kFrameHeaderBytes);
    out.insert(out.end(), payload.begin(), payload.end());
    base::Bytes f = wire::sealFrame(std::move(out), static_cast<std::uint16_t>(type));
    s.hub.receive(s.sharer.id, base::view(f), kT0);
  };
  // A shape whose hot spot lies outside it; one claiming more pixels than it has; one wider
  // than the cap (its pixels would fit the message); a position with a bad flag.
  wire::CursorShape badHot = arrow(9);
  badHot.image.hotX = 16;
  feed(s.hub, s.sharer.id, badHot);
  base::Bytes shortShape = wire::encodeFrame(arrow(9));
  raw(wire::ScreenType::CursorShape,
      base::ByteVec(shortShape->begin() + wire::kFrameHeaderBytes, shortShape->end() - 4));
  base::Bytes wide = wire::encodeFrame(arrow(9, 257, 1));
  raw(wire::ScreenType::CursorShape, base::ByteVec(wide->begin() + wire::kFrameHeaderBytes, wide->end()));
  base::Bytes flag = wire::encodeFrame(at(9, 1, 1));
  base::ByteVec badFlag(flag->begin() + wire::kFrameHeaderBytes, flag->end());
  badFlag.back() = 2;
  raw(wire::ScreenType::CursorPosition, badFlag);
  // Far outside the 640x360 stream.
  feed(s.hub, s.sharer.id, arrow(5));
  feed(s.hub, s.sharer.id, at(5, 640 + wire::kCursorMarginPx, 10));
  feed(s.hub, s.sharer.id, at(5, 10, -100000));
  EXPECT_EQ(s.hub.stats().cursorDropped, 6u);
  EXPECT_TRUE(s.viewer.link->of(wire::ScreenType::CursorPosition).empty());

  // A flood at one instant (once the buckets are full again): the burst passes, the rest is
  // dropped.
  const std::int64_t flood = kT0 + 10'000'000;
  const int sent = int(wire::kCursorPositionBurst) + 50;
  for (int i = 0; i < sent; ++i) feed(s.hub, s.sharer.id, at(5, i % 600, 10), flood);
  EXPECT_EQ(s.viewer.link->of(wire::ScreenType::CursorPosition).size(), std::size_t(wire::kCursorPositionBurst));
  EXPECT_EQ(s.hub.stats().cursorDropped, 6u + 50u);
  // Shapes have a bucket of their own.
  for (int i = 0; i < int(wire::kCursorShapeBurst) + 5; ++i) feed(s.hub, s.sharer.id, arrow(100 + i), flood);
  EXPECT_EQ(s.hub.stats().cursorDropped, 6u + 50u + 5u);

  // No one was disconnected, and the stream goes on: tiles still reach the viewer, and a
  // second later positions do too.
  EXPECT_EQ(s.sharer.link->closedWith, wire::Reason::None);
  EXPECT_EQ(s.viewer.link->closedWith, wire::Reason::None);
  wire::TileBatch b = batchOf(640, 360, 64, 2);
  b.tiles.push_back(scanTile(1, 0, 100));
  const auto updates = s.viewer.link->of(wire::ScreenType::Update).size();
  feedTiles(s.hub, s.sharer.id, b, flood + 1'000'000);
  s.hub.drained(s.viewer.id, 1);
  EXPECT_GT(s.viewer.link->of(wire::ScreenType::Update).size(), updates);
  feed(s.hub, s.sharer.id, at(5, 300, 200), flood + 2'000'000);
  auto positions = s.viewer.link->of(wire::ScreenType::CursorPosition);
  EXPECT_EQ(decodeAs<wire::CursorPosition>(positions.back()).pos.x, 300);
}

TEST(ScreenCursor, AViewerDropsABadCursorMessageFromTheHostAndStaysConnected) {
  struct Listener : ScreenClient::Listener {
    int dropped = 0, shapes = 0;
    void onCursorDropped(const std::string&) override { ++dropped; }
    void onCursorShape(std::uint32_t, base::CursorImage&&) override { ++shapes; }
  } listener;
  base::Bytes good = wire::encodeFrame(arrow(3));
  base::ByteVec payload(good->begin() + wire::kFrameHeaderBytes, good->end());
  wire::Frame frame;
  frame.type = static_cast<std::uint16_t>(wire::ScreenType::CursorShape);
  frame.payload = payload;
  wire::Reason reason = wire::Reason::None;
  EXPECT_EQ(ScreenClient::deliver(frame, listener, reason), "");
  EXPECT_EQ(listener.shapes, 1);
  payload.pop_back();  // one pixel byte short
  frame.payload = payload;
  EXPECT_EQ(ScreenClient::deliver(frame, listener, reason), "") << "a bad cursor does not end the link";
  EXPECT_EQ(listener.dropped, 1);
  EXPECT_EQ(listener.shapes, 1);
}

// The shape caches at their cap (kMaxCursorShapesCached, the hub's per stream and its mirror
// of each viewer's): a shape within the last 16 is not sent again; the 17th back is gone from
// both, so naming it sends no shape (the viewer shows no cursor until a shape comes).
TEST(ScreenCursor, ShapeCachesHoldTheirCapAndNotOneMore) {
  Scene s;
  const auto cap = static_cast<std::uint32_t>(wire::kMaxCursorShapesCached);
  std::int64_t now = kT0;
  auto shapesSeen = [&] { return s.viewer.link->of(wire::ScreenType::CursorShape).size(); };
  for (std::uint32_t id = 1; id <= cap; ++id) {
    now += 100'000;  // within both rates
    feed(s.hub, s.sharer.id, arrow(id), now);
    feed(s.hub, s.sharer.id, at(id, 10, 10), now);
  }
  ASSERT_EQ(shapesSeen(), cap);
  // cap-1 back and the cap-th back (the oldest): still cached on both sides, not sent again.
  feed(s.hub, s.sharer.id, at(2, 11, 11), now += 100'000);
  feed(s.hub, s.sharer.id, at(1, 12, 12), now += 100'000);
  EXPECT_EQ(shapesSeen(), cap);
  // One more shape: the oldest (1) leaves both caches. Naming it now sends no shape.
  feed(s.hub, s.sharer.id, arrow(cap + 1), now += 100'000);
  feed(s.hub, s.sharer.id, at(cap + 1, 13, 13), now += 100'000);
  EXPECT_EQ(shapesSeen(), cap + 1);
  feed(s.hub, s.sharer.id, at(1, 14, 14), now += 100'000);
  EXPECT_EQ(shapesSeen(), cap + 1);
  auto positions = s.viewer.link->of(wire::ScreenType::CursorPosition);
  EXPECT_EQ(decodeAs<wire::CursorPosition>(positions.back()).pos.x, 14) << "the position is relayed all the same";
  // Shape 2 is still within the last 16: no resend either.
  feed(s.hub, s.sharer.id, at(2, 15, 15), now += 100'000);
  EXPECT_EQ(shapesSeen(), cap + 1);
}
