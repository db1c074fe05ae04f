// Pointers through the screen hub, with no sockets: a viewer's pointer goes to the stream's
// watchers and its sharer only, named by the host; positions out of the stream and over the
// rate are dropped; a released pointer, and the pointer of a person who leaves, is a gone.
#include <gtest/gtest.h>

#include "net/screen_client.h"
#include "net/screen_hub.h"
#include "net_screen_support.h"

using namespace huddle;
using namespace huddle::net;
using namespace huddle::net::test;

namespace {

wire::PointAt point(std::uint32_t stream, std::int32_t x, std::int32_t y, bool present = true) {
  wire::PointAt m;
  m.streamId = stream;
  m.x = x;
  m.y = y;
  m.present = present;
  return m;
}

std::vector<wire::Pointer> pointersOf(RecordingLink& link) {
  std::vector<wire::Pointer> out;
  for (const auto& f : link.of(wire::ScreenType::Pointer)) {
    wire::Pointer m;
    EXPECT_TRUE(wire::decodePayload(std::span(f->data() + wire::kFrameHeaderBytes, f->size() - wire::kFrameHeaderBytes), m));
    out.push_back(m);
  }
  return out;
}

// Stream A (640x360) shared by p1, watched by p2 and p3 (who points); stream B shared by p4,
// watched by p5 only; p6 is logged in and watches nothing.
struct Scene {
  ScreenHub hub = makeHub();
  Peer sharer = join(hub, 1);
  Peer viewer = join(hub, 2);
  Peer pointer = join(hub, 3);
  Peer otherSharer = join(hub, 4);
  Peer otherViewer = join(hub, 5);
  Peer idle = join(hub, 6);
  std::uint32_t stream = 0, other = 0;
  Scene() {
    stream = publish(hub, sharer, 640, 360, 64);
    other = publish(hub, otherSharer, 320, 200, 64);
    feed(hub, viewer.id, wire::Subscribe{stream, 2});
    feed(hub, pointer.id, wire::Subscribe{stream, 2});
    feed(hub, otherViewer.id, wire::Subscribe{other, 2});
  }
};

}  // namespace

TEST(ScreenPointer, RelayedToTheStreamsWatchersAndSharerOnlyNamedByTheHost) {
  Scene s;
  feed(s.hub, s.pointer.id, point(s.stream, 100, 50));
  for (Peer* p : {&s.sharer, &s.viewer, &s.pointer}) {
    auto got = pointersOf(*p->link);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].streamId, s.stream);
    EXPECT_EQ(got[0].participantId, 3u);
    EXPECT_EQ(got[0].name, "p3");
    EXPECT_EQ(got[0].x, 100);
    EXPECT_EQ(got[0].y, 50);
    EXPECT_TRUE(got[0].present);
  }
  for (Peer* p : {&s.otherSharer, &s.otherViewer, &s.idle}) EXPECT_TRUE(pointersOf(*p->link).empty());

  // Released: a gone, once; a second gone is not relayed again.
  feed(s.hub, s.pointer.id, point(s.stream, 0, 0, false));
  feed(s.hub, s.pointer.id, point(s.stream, 0, 0, false));
  auto got = pointersOf(*s.viewer.link);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_FALSE(got[1].present);
  EXPECT_EQ(got[1].participantId, 3u);
  EXPECT_EQ(s.hub.stats().pointersDropped, 0u);
}

TEST(ScreenPointer, TheSharerMayPointAtItsOwnStreamButNobodyAtOneTheyDoNotWatch) {
  Scene s;
  feed(s.hub, s.sharer.id, point(s.stream, 10, 10));
  EXPECT_EQ(pointersOf(*s.viewer.link).size(), 1u);
  feed(s.hub, s.idle.id, point(s.stream, 10, 10));
  feed(s.hub, s.otherViewer.id, point(s.stream, 10, 10));
  EXPECT_EQ(pointersOf(*s.viewer.link).size(), 1u);
  EXPECT_EQ(s.hub.stats().pointersDropped, 2u);
  EXPECT_EQ(s.idle.link->closedWith, wire::Reason::None) << "dropped, not disconnected";
}

TEST(ScreenPointer, OutOfTheStreamIsDroppedAtEveryEdge) {
  Scene s;
  std::int64_t now = kT0;
  auto tryAt = [&](std::int32_t x, std::int32_t y) {
    now += 1'000'000;  // a second apart: never the rate
    const auto before = pointersOf(*s.viewer.link).size();
    feed(s.hub, s.pointer.id, point(s.stream, x, y), now);
    return pointersOf(*s.viewer.link).size() > before;
  };
  EXPECT_TRUE(tryAt(0, 0));
  EXPECT_TRUE(tryAt(639, 359));
  EXPECT_FALSE(tryAt(640, 10));
  EXPECT_FALSE(tryAt(10, 360));
  EXPECT_FALSE(tryAt(-1, 10));
  EXPECT_FALSE(tryAt(10, -1));
  EXPECT_FALSE(tryAt(INT32_MAX, INT32_MIN));
  EXPECT_EQ(s.hub.stats().pointersDropped, 5u);
  EXPECT_EQ(s.pointer.link->closedWith, wire::Reason::None);
}

TEST(ScreenPointer, AtMostSixtyPositionsASecondArePassedOn) {
  Scene s;
  // A flood: 400 positions a second for 2 s (under the connection's message guard, which
  // disconnects past 500 messages a second). Relayed: the burst plus 60 a second.
  std::int64_t now = kT0;
  for (int i = 0; i < 800; ++i) {
    now += 2500;
    feed(s.hub, s.pointer.id, point(s.stream, i % 640, 7), now);
  }
  const auto relayed = pointersOf(*s.viewer.link).size();
  const double seconds = 2.0;
  EXPECT_LE(relayed, std::size_t(wire::kPointerBurst + seconds * wire::kPointerPositionsPerSec) + 1);
  EXPECT_GE(relayed, std::size_t(seconds * wire::kPointerPositionsPerSec) - 1);
  EXPECT_EQ(s.hub.stats().pointersDropped, 800u - relayed);
  EXPECT_EQ(s.pointer.link->closedWith, wire::Reason::None) << "a flood of pointers is dropped, not a disconnect";
  // Exactly at the rate (one every 1/60 s), nothing is dropped.
  Scene calm;
  now = kT0;
  for (int i = 0; i < 120; ++i) {
    now += std::int64_t(1e6 / wire::kPointerPositionsPerSec) + 1;
    feed(calm.hub, calm.pointer.id, point(calm.stream, i, 7), now);
  }
  EXPECT_EQ(pointersOf(*calm.viewer.link).size(), 120u);
  EXPECT_EQ(calm.hub.stats().pointersDropped, 0u);
}

TEST(ScreenPointer, AKickedPersonsPointerIsGoneAtOnce) {
  Scene s;
  feed(s.hub, s.pointer.id, point(s.stream, 200, 100));
  ASSERT_EQ(pointersOf(*s.viewer.link).size(), 1u);
  s.hub.dropParticipant(3, wire::Reason::Kicked);
  for (Peer* p : {&s.sharer, &s.viewer}) {
    auto got = pointersOf(*p->link);
    ASSERT_EQ(got.size(), 2u);
    EXPECT_FALSE(got[1].present);
    EXPECT_EQ(got[1].participantId, 3u);
    EXPECT_EQ(got[1].name, "p3");
  }
  // A viewer who stops watching takes its pointer away too.
  feed(s.hub, s.viewer.id, point(s.stream, 1, 1));
  feed(s.hub, s.viewer.id, wire::Unsubscribe{s.stream});
  auto got = pointersOf(*s.sharer.link);
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[3].participantId, 2u);
  EXPECT_FALSE(got[3].present);
}

TEST(ScreenPointer, TheClientHandsPointersToItsListenerAndDropsMalformedOnes) {
  struct Listener : ScreenClient::Listener {
    std::vector<wire::Pointer> got;
    int dropped = 0;
    void onPointer(const wire::Pointer& p) override { got.push_back(p); }
    void onCursorDropped(const std::string&) override { ++dropped; }
  } listener;
  wire::Pointer m;
  m.streamId = 4;
  m.participantId = 9;
  m.name = "Ann";
  m.x = 3;
  m.y = 5;
  m.present = true;
  base::Bytes f = wire::encodeFrame(m);
  wire::Frame frame;
  frame.type = static_cast<std::uint16_t>(wire::ScreenType::Pointer);
  frame.payload = std::span(f->data() + wire::kFrameHeaderBytes, f->size() - wire::kFrameHeaderBytes);
  wire::Reason reason = wire::Reason::None;
  EXPECT_EQ(ScreenClient::deliver(frame, listener, reason), "");
  ASSERT_EQ(listener.got.size(), 1u);
  EXPECT_EQ(listener.got[0].name, "Ann");
  EXPECT_EQ(listener.got[0].y, 5);
  base::ByteVec bad(f->begin() + wire::kFrameHeaderBytes, f->end());
  bad.back() = 2;  // neither present nor gone
  frame.payload = std::span(bad.data(), bad.size());
  EXPECT_EQ(ScreenClient::deliver(frame, listener, reason), "");
  EXPECT_EQ(listener.got.size(), 1u);
  EXPECT_EQ(listener.dropped, 1);
}

// [SECTION] the vanishing pen and the sharer's switch

namespace {

wire::PenStroke stroke(std::uint32_t stream, std::uint32_t id, std::vector<wire::PenPoint> points, bool end = false) {
  wire::PenStroke m;
  m.streamId = stream;
  m.strokeId = id;
  m.points = std::move(points);
  m.end = end;
  return m;
}

std::vector<wire::PenPoint> line(int n, std::uint16_t y = 7) {
  std::vector<wire::PenPoint> v;
  for (int i = 0; i < n; ++i) v.push_back({std::uint16_t(i % 640), y});
  return v;
}

}  // namespace

TEST(ScreenPen, AStrokeGoesToTheStreamsWatchersAndSharerOnlyInOrderNamedByTheHost) {
  Scene s;
  feed(s.hub, s.pointer.id, stroke(s.stream, 5, {{10, 10}, {20, 12}}));
  feed(s.hub, s.pointer.id, stroke(s.stream, 5, {{30, 14}}, true));
  for (Peer* p : {&s.sharer, &s.viewer, &s.pointer}) {
    auto got = decodedOf<wire::Pen>(*p->link);
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0].participantId, 3u);
    EXPECT_EQ(got[0].name, "p3");
    EXPECT_EQ(got[0].strokeId, 5u);
    EXPECT_EQ(got[0].points, (std::vector<wire::PenPoint>{{10, 10}, {20, 12}}));
    EXPECT_FALSE(got[0].end);
    EXPECT_EQ(got[1].points, (std::vector<wire::PenPoint>{{30, 14}}));
    EXPECT_TRUE(got[1].end);
  }
  for (Peer* p : {&s.otherSharer, &s.otherViewer, &s.idle}) EXPECT_TRUE(decodedOf<wire::Pen>(*p->link).empty());
  // Points for a stroke that ended are not relayed; someone not watching draws nothing.
  feed(s.hub, s.pointer.id, stroke(s.stream, 5, {{40, 14}}));
  feed(s.hub, s.idle.id, stroke(s.stream, 9, {{40, 14}}));
  EXPECT_EQ(decodedOf<wire::Pen>(*s.viewer.link).size(), 2u);
  EXPECT_EQ(s.hub.stats().pensDropped, 2u);
  EXPECT_EQ(s.idle.link->closedWith, wire::Reason::None) << "dropped, not disconnected";
}

TEST(ScreenPen, PointsOutsideTheStreamOverTheRateOrTheStrokesCapAreDropped) {
  Scene s;
  std::int64_t now = kT0;
  auto relayed = [&] { return decodedOf<wire::Pen>(*s.viewer.link).size(); };
  // Outside, at every edge: the whole batch goes.
  for (wire::PenPoint bad : {wire::PenPoint{640, 0}, wire::PenPoint{0, 360}, wire::PenPoint{65535, 65535}}) {
    now += 1'000'000;
    feed(s.hub, s.pointer.id, stroke(s.stream, 1, {{1, 1}, bad}), now);
  }
  now += 1'000'000;
  feed(s.hub, s.pointer.id, stroke(s.stream, 1, {{639, 359}}), now);
  EXPECT_EQ(relayed(), 1u);
  EXPECT_EQ(s.hub.stats().pensDropped, 3u);
  // A stroke's cap: exactly kMaxPenPointsPerStroke points pass (a second apart: never the
  // rate), one more does not, and its end still goes (with no points) so viewers let it fade.
  Scene c;
  now = kT0;
  std::size_t sent = 0;
  while (sent < wire::kMaxPenPointsPerStroke) {
    now += 1'000'000;
    const std::size_t n = std::min(wire::kMaxPenPointsPerMessage, wire::kMaxPenPointsPerStroke - sent);
    feed(c.hub, c.pointer.id, stroke(c.stream, 2, line(int(n))), now);
    sent += n;
  }
  EXPECT_EQ(c.hub.stats().pensDropped, 0u);
  now += 1'000'000;
  feed(c.hub, c.pointer.id, stroke(c.stream, 2, line(1)), now);
  EXPECT_EQ(c.hub.stats().pensDropped, 1u);
  now += 1'000'000;
  feed(c.hub, c.pointer.id, stroke(c.stream, 2, line(1), true), now);
  auto got = decodedOf<wire::Pen>(*c.viewer.link);
  ASSERT_FALSE(got.empty());
  EXPECT_TRUE(got.back().end);
  EXPECT_TRUE(got.back().points.empty());
  std::size_t points = 0;
  for (auto& g : got) points += g.points.size();
  EXPECT_EQ(points, wire::kMaxPenPointsPerStroke);
  // A new stroke starts afresh.
  now += 1'000'000;
  feed(c.hub, c.pointer.id, stroke(c.stream, 3, line(4)), now);
  EXPECT_EQ(decodedOf<wire::Pen>(*c.viewer.link).back().strokeId, 3u);
}

TEST(ScreenPen, AFloodOfPointsIsCutToTheRateAndNotADisconnect) {
  Scene s;
  // 300 batches of 16 points a second for 2 s (4800 points/s): relayed are the burst plus
  // kPenPointsPerSec a second.
  std::int64_t now = kT0;
  for (int i = 0; i < 600; ++i) {
    now += 1'000'000 / 300;
    feed(s.hub, s.pointer.id, stroke(s.stream, std::uint32_t(i / 50), line(16)), now);
  }
  std::size_t points = 0;
  for (auto& g : decodedOf<wire::Pen>(*s.viewer.link)) points += g.points.size();
  EXPECT_LE(points, std::size_t(wire::kPenPointsBurst + 2 * wire::kPenPointsPerSec) + 16);
  EXPECT_GE(points, std::size_t(2 * wire::kPenPointsPerSec) - 16);
  EXPECT_EQ(s.pointer.link->closedWith, wire::Reason::None);
  // Too many points in one message is malformed: the parser refuses it, a protocol error.
  Scene t;
  wire::PenStroke big = stroke(t.stream, 1, line(int(wire::kMaxPenPointsPerMessage) + 1));
  base::Bytes frame = wire::encodeFrame(big);
  t.hub.receive(t.pointer.id, base::view(frame), kT0);
  EXPECT_EQ(t.pointer.link->closedWith, wire::Reason::ProtoMalformed);
  EXPECT_TRUE(decodedOf<wire::Pen>(*t.viewer.link).empty());
}

TEST(ScreenPen, AKickedOrLeavingPersonsStrokesGoAtOnce) {
  Scene s;
  feed(s.hub, s.pointer.id, stroke(s.stream, 1, {{5, 5}, {6, 6}}, true));
  feed(s.hub, s.pointer.id, point(s.stream, 7, 7));
  s.hub.dropParticipant(3, wire::Reason::Kicked);
  for (Peer* p : {&s.sharer, &s.viewer}) {
    auto got = decodedOf<wire::Pen>(*p->link);
    ASSERT_EQ(got.size(), 2u);
    EXPECT_TRUE(got[1].clear);
    EXPECT_EQ(got[1].participantId, 3u);
    EXPECT_TRUE(got[1].points.empty());
    EXPECT_FALSE(pointersOf(*p->link).back().present);
  }
  // Unwatching takes them away too.
  feed(s.hub, s.viewer.id, stroke(s.stream, 1, {{5, 5}}));
  feed(s.hub, s.viewer.id, wire::Unsubscribe{s.stream});
  auto got = decodedOf<wire::Pen>(*s.sharer.link);
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[3].participantId, 2u);
  EXPECT_TRUE(got[3].clear);
}

TEST(ScreenPen, TheSharerTurnsViewersPointersAndPensOffAndTheHostEnforcesIt) {
  Scene s;
  feed(s.hub, s.pointer.id, stroke(s.stream, 1, {{5, 5}}));
  feed(s.hub, s.pointer.id, point(s.stream, 7, 7));
  // Only the sharer's switch counts.
  feed(s.hub, s.viewer.id, wire::ViewerMarks{s.stream, false});
  EXPECT_TRUE(s.hub.viewerMarks(s.stream));
  feed(s.hub, s.sharer.id, wire::ViewerMarks{s.stream, false});
  EXPECT_FALSE(s.hub.viewerMarks(s.stream));
  // What was shown goes at once, and the watchers and the sharer are told.
  for (Peer* p : {&s.sharer, &s.viewer, &s.pointer}) {
    EXPECT_TRUE(decodedOf<wire::Pen>(*p->link).back().clear);
    EXPECT_FALSE(pointersOf(*p->link).back().present);
    auto marks = decodedOf<wire::ViewerMarks>(*p->link);
    ASSERT_EQ(marks.size(), 1u);
    EXPECT_FALSE(marks[0].allowed);
  }
  EXPECT_TRUE(decodedOf<wire::ViewerMarks>(*s.otherViewer.link).empty());
  // Nothing more is relayed from viewers, however they send it.
  const auto pens = decodedOf<wire::Pen>(*s.viewer.link).size(), pointers = pointersOf(*s.viewer.link).size();
  feed(s.hub, s.pointer.id, stroke(s.stream, 2, {{5, 5}}), kT0 + 1'000'000);
  feed(s.hub, s.pointer.id, point(s.stream, 8, 8), kT0 + 1'000'000);
  EXPECT_EQ(decodedOf<wire::Pen>(*s.viewer.link).size(), pens);
  EXPECT_EQ(pointersOf(*s.viewer.link).size(), pointers);
  // A viewer who starts watching now learns it is off.
  feed(s.hub, s.idle.id, wire::Subscribe{s.stream, 2});
  auto late = decodedOf<wire::ViewerMarks>(*s.idle.link);
  ASSERT_EQ(late.size(), 1u);
  EXPECT_FALSE(late[0].allowed);
  // Back on: relayed again.
  feed(s.hub, s.sharer.id, wire::ViewerMarks{s.stream, true});
  feed(s.hub, s.pointer.id, stroke(s.stream, 3, {{5, 5}}), kT0 + 2'000'000);
  EXPECT_EQ(decodedOf<wire::Pen>(*s.viewer.link).size(), pens + 1);
  EXPECT_TRUE(decodedOf<wire::ViewerMarks>(*s.viewer.link).back().allowed);
}
