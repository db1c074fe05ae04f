// Our own pointer's pacing, on a fake clock: what goes to the host, and when.
#include <gtest/gtest.h>

#include "app/session/chat_log.h"
#include "app/session/participant_colour.h"
#include "app/session/presenter.h"
#include "app/session/stream_marks.h"
#include "net/wire/limits.h"

using namespace huddle;
using namespace huddle::session;

namespace {
constexpr std::int64_t kT0 = 1'000'000'000;
constexpr std::int64_t kMs = 1000;
}  // namespace

TEST(PointerPacer, APressGoesAtOnceMovesAtTheRateAndOneGoneOnRelease) {
  PointerPacer p;
  EXPECT_FALSE(p.next(kT0)) << "nothing held, nothing shown";
  p.hold(10, 20);
  auto s = p.next(kT0);
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->present);
  EXPECT_EQ(s->x, 10);
  EXPECT_EQ(s->y, 20);
  EXPECT_TRUE(p.shown());
  EXPECT_FALSE(p.next(kT0 + 1 * kMs)) << "held still: nothing until the keep-alive";
  // A move within the rate's gap waits; the newest position goes once the gap is over.
  p.hold(11, 20);
  p.hold(12, 21);
  EXPECT_FALSE(p.next(kT0 + 5 * kMs));
  s = p.next(kT0 + 18 * kMs);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->x, 12);
  EXPECT_EQ(s->y, 21);
  // A steady drag at 120 Hz sends at most kPointerPositionsPerSec a second.
  int sent = 0;
  for (int i = 0; i < 120; ++i) {
    const std::int64_t now = kT0 + 18 * kMs + (i + 1) * 1'000'000 / 120;
    p.hold(100 + i, 50);
    if (p.next(now)) ++sent;
  }
  EXPECT_LE(sent, int(wire::kPointerPositionsPerSec));
  EXPECT_GE(sent, int(wire::kPointerPositionsPerSec) / 2);
  // Released: one gone, then nothing; idle.
  p.release();
  s = p.next(kT0 + 2'000 * kMs);
  ASSERT_TRUE(s);
  EXPECT_FALSE(s->present);
  EXPECT_FALSE(p.next(kT0 + 2'001 * kMs));
  EXPECT_TRUE(p.idle());
}

TEST(PointerPacer, HeldStillItIsSentAgainEveryKeepAliveAndAfterALoss) {
  PointerPacer p;
  p.hold(5, 6);
  ASSERT_TRUE(p.next(kT0));
  const std::int64_t keep = std::int64_t(wire::kPointerKeepAliveMs) * kMs;
  EXPECT_FALSE(p.next(kT0 + keep - 1));
  auto s = p.next(kT0 + keep);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->x, 5);
  EXPECT_FALSE(p.next(kT0 + keep + 1));
  // The screen port was lost: the host forgot it, so it goes again at the next chance.
  p.lost();
  EXPECT_FALSE(p.shown());
  s = p.next(kT0 + keep + 20 * kMs);
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->present);
  // Released while lost: no gone is owed.
  p.lost();
  p.release();
  EXPECT_FALSE(p.next(kT0 + 2 * keep));
  EXPECT_TRUE(p.idle());
}

TEST(PointerPacer, StaysWellUnderTheKeepAliveAsSeenByViewers) {
  // The keep-alive is what keeps a held pointer from going stale on viewers.
  EXPECT_LT(wire::kPointerKeepAliveMs * 2, wire::kPointerStaleMs);
}

// One colour per person everywhere: the user list and pointers use participantColour(id), and
// a name in the chat takes its person's while they are here.
TEST(ParticipantColour, ANameInTheChatHasItsPersonsColour) {
  ChatLog log;
  net::ChatClientEvent ev;
  ev.kind = net::ChatClientEvent::Kind::Users;
  ev.users = {{1, "alice", wire::UserInfo::kFlagHost}, {2, "bob", 0}, {7, "carol", 0}};
  log.apply(ev);
  EXPECT_EQ(log.colourOf("bob"), participantColour(2));
  EXPECT_EQ(log.colourOf("carol"), participantColour(7));
  EXPECT_NE(log.colourOf("alice"), log.colourOf("bob"));
  // Someone who left: still a palette colour, the same each time.
  EXPECT_EQ(log.colourOf("dave"), colourForName("dave"));
  bool inPalette = false;
  for (std::uint32_t c : kParticipantPalette) inPalette |= c == log.colourOf("dave");
  EXPECT_TRUE(inPalette);
  // Neighbouring ids differ.
  for (std::uint32_t id = 1; id < 20; ++id) EXPECT_NE(participantColour(id), participantColour(id + 1));
}

namespace {
wire::Pointer relayed(std::uint32_t who, std::int32_t x, std::int32_t y, bool present = true) {
  wire::Pointer m;
  m.streamId = 1;
  m.participantId = who;
  m.name = "p" + std::to_string(who);
  m.x = x;
  m.y = y;
  m.present = present;
  return m;
}
}  // namespace

// A moving pointer leaves a short trail of where it was, fading with age, bounded in length.
TEST(StreamMarks, AMovingPointerHasAShortFadingTrail) {
  StreamMarks marks;
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(marks.applyPointer(relayed(3, 10 + i, 20), 640, 360, kT0 + i * 20 * kMs));
  const std::int64_t now = kT0 + 9 * 20 * kMs;
  auto shown = marks.pointers(now);
  ASSERT_EQ(shown.size(), 1u);
  const PointerMark& p = shown[0];
  EXPECT_EQ(p.x, 19);
  ASSERT_EQ(p.trail.size(), 10u);
  EXPECT_EQ(p.trail.front().x, 10);
  EXPECT_EQ(p.trail.back().x, 19) << "the trail ends at the dot";
  for (std::size_t i = 1; i < p.trail.size(); ++i) EXPECT_LT(p.trail[i - 1].alpha, p.trail[i].alpha) << "older is fainter";
  // Held still: the trail shrinks to the dot as its points age out.
  shown = marks.pointers(now + std::int64_t(wire::kPointerTrailMs) * kMs);
  ASSERT_EQ(shown.size(), 1u);
  EXPECT_TRUE(shown[0].trail.empty());
  // Fast moves: never more than the cap.
  for (int i = 0; i < 100; ++i) marks.applyPointer(relayed(3, i, 30), 640, 360, now + i * kMs);
  EXPECT_EQ(marks.pointers(now + 100 * kMs)[0].trail.size(), wire::kPointerTrailPoints);
  // Released, then pressed elsewhere: the new press does not draw a line from the old place.
  marks.applyPointer(relayed(3, 0, 0, false), 640, 360, now + 200 * kMs);
  marks.applyPointer(relayed(3, 600, 300), 640, 360, now + 210 * kMs);
  shown = marks.pointers(now + 210 * kMs);
  ASSERT_EQ(shown[0].trail.size(), 1u);
  EXPECT_EQ(shown[0].trail[0].x, 600);
}

TEST(StreamMarks, PointersOutsideTheStreamOrPastTheCapAreNotTaken) {
  StreamMarks marks;
  EXPECT_FALSE(marks.applyPointer(relayed(3, 640, 0), 640, 360, kT0));
  EXPECT_TRUE(marks.empty());
  for (std::uint32_t who = 0; who < wire::kMaxPointersPerStream; ++who)
    ASSERT_TRUE(marks.applyPointer(relayed(who, 1, 1), 640, 360, kT0));
  EXPECT_FALSE(marks.applyPointer(relayed(999, 1, 1), 640, 360, kT0)) << "one past the cap";
  marks.applyPointer(relayed(5, 0, 0, false), 640, 360, kT0);  // a released one makes room
  EXPECT_TRUE(marks.applyPointer(relayed(999, 1, 1), 640, 360, kT0));
  // Released: fades out over kPointerFadeMs, then is no longer drawn.
  auto shown = marks.pointers(kT0 + std::int64_t(wire::kPointerFadeMs) * kMs / 2);
  EXPECT_EQ(shown.size(), wire::kMaxPointersPerStream);
  marks.applyPointer(relayed(999, 0, 0, false), 640, 360, kT0);
  EXPECT_EQ(marks.pointers(kT0 + std::int64_t(wire::kPointerFadeMs) * kMs).size(), wire::kMaxPointersPerStream - 1);
}

// Our pen: a stroke's points go in batches, in order, the end with the last; never more than
// a message's worth at once nor faster than a little under the host's rate.
TEST(PenPacer, AStrokeGoesInBatchesWithItsEndAndUnderTheHostsRate) {
  PenPacer p;
  p.down(7, 1, 1);
  auto b = p.next(1, kT0);
  ASSERT_TRUE(b) << "the first point goes at once";
  EXPECT_EQ(b->strokeId, 7u);
  EXPECT_EQ(b->streamId, 1u);
  EXPECT_EQ(b->points.size(), 1u);
  EXPECT_FALSE(b->end);
  p.to(2, 2);
  p.to(2, 2);  // the same point again is skipped
  p.to(3, 3);
  EXPECT_FALSE(p.next(1, kT0 + 10 * kMs)) << "points gather for a moment while drawing";
  b = p.next(1, kT0 + 40 * kMs);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->points, (std::vector<wire::PenPoint>{{2, 2}, {3, 3}}));
  p.to(4, 4);
  p.up();
  b = p.next(1, kT0 + 41 * kMs);
  ASSERT_TRUE(b) << "a finished stroke goes at once";
  EXPECT_EQ(b->points, (std::vector<wire::PenPoint>{{4, 4}}));
  EXPECT_TRUE(b->end);
  EXPECT_TRUE(p.idle());

  // A long stroke at once (a script's): whole messages at most, within the host's rate.
  PenPacer q;
  q.down(8, 0, 0);
  for (int i = 1; i < 2000; ++i) q.to(std::uint16_t(i % 600), std::uint16_t(i / 600));
  q.up();
  std::size_t points = 0;
  bool ended = false;
  std::int64_t now = kT0;
  double budget = wire::kPenPointsBurst;  // the host's bucket, as it would see them
  std::int64_t last = now;
  for (int step = 0; step < 2000 && !ended; ++step, now += 10 * kMs) {
    budget = std::min(wire::kPenPointsBurst, budget + double(now - last) * wire::kPenPointsPerSec / 1e6);
    last = now;
    while (auto s = q.next(1, now)) {
      EXPECT_LE(s->points.size(), wire::kMaxPenPointsPerMessage);
      budget -= double(std::max<std::size_t>(1, s->points.size()));
      EXPECT_GE(budget, 0) << "the host would drop it";
      points += s->points.size();
      ended = s->end;
    }
  }
  EXPECT_TRUE(ended);
  EXPECT_EQ(points, wire::kMaxPenPointsPerStroke) << "a stroke keeps at most the host's cap";
}

TEST(PenPacer, ANewStrokeFinishesTheOpenOneAndALossLetsItGo) {
  PenPacer p;
  p.down(1, 5, 5);
  ASSERT_TRUE(p.next(1, kT0));
  p.to(6, 6);
  p.down(2, 9, 9);  // a new press: stroke 1 ends first
  auto a = p.next(1, kT0 + 1 * kMs);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->strokeId, 1u);
  EXPECT_TRUE(a->end);
  auto b = p.next(1, kT0 + 40 * kMs);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->strokeId, 2u);
  p.lost();
  EXPECT_TRUE(p.idle());
  p.to(10, 10);  // no stroke open: nothing
  EXPECT_FALSE(p.next(1, kT0 + 100 * kMs));
}

namespace {
wire::Pen penBatch(std::uint32_t who, std::uint32_t id, std::vector<wire::PenPoint> pts, bool end = false) {
  wire::Pen m;
  m.streamId = 1;
  m.participantId = who;
  m.name = "p" + std::to_string(who);
  m.strokeId = id;
  m.points = std::move(pts);
  m.end = end;
  return m;
}
}  // namespace

// Strokes as a viewer keeps them: shown while drawn and kPenHoldMs after, then fading out;
// bounded per person and per stroke; a clear takes a person's away at once.
TEST(StreamMarks, StrokesFadeAFewSecondsAfterTheyAreFinished) {
  StreamMarks marks;
  ASSERT_TRUE(marks.applyPen(penBatch(3, 1, {{1, 1}, {2, 2}}), 640, 360, kT0));
  ASSERT_TRUE(marks.applyPen(penBatch(3, 1, {{3, 3}}, true), 640, 360, kT0 + 100 * kMs));
  auto shown = marks.strokes(kT0 + 100 * kMs);
  ASSERT_EQ(shown.size(), 1u);
  EXPECT_EQ(shown[0].points.size(), 3u);
  EXPECT_TRUE(shown[0].finished);
  EXPECT_EQ(shown[0].alpha, 1.f);
  const std::int64_t fadeAt = kT0 + 100 * kMs + std::int64_t(wire::kPenHoldMs) * kMs;
  EXPECT_EQ(marks.strokes(fadeAt)[0].alpha, 1.f);
  const auto half = marks.strokes(fadeAt + std::int64_t(wire::kPenFadeMs) * kMs / 2);
  ASSERT_EQ(half.size(), 1u);
  EXPECT_NEAR(half[0].alpha, 0.5f, 0.01f);
  EXPECT_TRUE(marks.strokes(fadeAt + std::int64_t(wire::kPenFadeMs) * kMs).empty());
  // Points for a finished stroke are not added; outside the stream are not taken.
  marks.applyPen(penBatch(3, 1, {{9, 9}}), 640, 360, kT0 + 200 * kMs);
  EXPECT_EQ(marks.strokes(kT0 + 200 * kMs)[0].points.size(), 3u);
  EXPECT_FALSE(marks.applyPen(penBatch(3, 2, {{640, 0}}), 640, 360, kT0));
  // An open stroke with no news fades like a finished one, from its staleness.
  StreamMarks open;
  open.applyPen(penBatch(4, 1, {{1, 1}}), 640, 360, kT0);
  const std::int64_t quiet = std::max(wire::kPointerStaleMs, wire::kPenHoldMs);
  EXPECT_EQ(open.strokes(kT0 + quiet * kMs).size(), 1u);
  EXPECT_TRUE(open.strokes(kT0 + (quiet + wire::kPenFadeMs) * kMs).empty());
}

TEST(StreamMarks, StrokesAreBoundedAndAClearOrTheSwitchTakesThemAway) {
  StreamMarks marks;
  for (std::uint32_t id = 1; id <= wire::kMaxPenStrokesPerPerson + 2; ++id)
    marks.applyPen(penBatch(3, id, {{1, 1}}, true), 640, 360, kT0);
  auto shown = marks.strokes(kT0);
  ASSERT_EQ(shown.size(), wire::kMaxPenStrokesPerPerson);
  EXPECT_EQ(shown.front().strokeId, 3u) << "the oldest went first";
  // A stroke keeps at most kMaxPenPointsPerStroke points, however many batches come.
  const std::vector<wire::PenPoint> batch(wire::kMaxPenPointsPerMessage, wire::PenPoint{5, 5});
  for (std::size_t i = 0; i <= wire::kMaxPenPointsPerStroke / wire::kMaxPenPointsPerMessage; ++i)
    marks.applyPen(penBatch(4, 1, batch), 640, 360, kT0);
  for (auto& s : marks.strokes(kT0))
    if (s.participantId == 4) {
      EXPECT_EQ(s.points.size(), wire::kMaxPenPointsPerStroke);
    }
  wire::Pen clear;
  clear.streamId = 1;
  clear.participantId = 3;
  clear.clear = true;
  marks.applyPen(clear, 640, 360, kT0);
  for (auto& s : marks.strokes(kT0)) EXPECT_NE(s.participantId, 3u);
  marks.setAllowed(false);
  EXPECT_TRUE(marks.empty());
  EXPECT_FALSE(marks.allowed());
}
