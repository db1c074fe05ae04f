// Pointers end to end over loopback, through the real relay: a third person pointing at a
// shared screen is seen by two viewers and by the sharer itself at the same stream pixel,
// named by the host; released, or gone with its person, it is gone everywhere.
#include <gtest/gtest.h>

#include "app/session/screen_session.h"
#include "capture/synthetic_source.h"
#include "net/base/clock.h"
#include "test_support.h"

using namespace huddle;
using namespace huddle::test;

namespace {

// The pointer of `name` on `stream` as `screen` shows it, if any.
std::optional<session::PointerMark> pointerOf(const session::ScreenSession& screen, std::uint32_t stream,
                                              const std::string& name) {
  for (auto& p : screen.pointers(stream, base::monoUs()))
    if (p.name == name) return p;
  return std::nullopt;
}

bool shownAt(const session::ScreenSession& screen, std::uint32_t stream, const std::string& name, int x, int y) {
  auto p = pointerOf(screen, stream, name);
  return p && p->present && p->x == x && p->y == y;
}

bool released(const session::ScreenSession& screen, std::uint32_t stream, const std::string& name) {
  auto p = pointerOf(screen, stream, name);
  return !p || !p->present;
}

constexpr int kW = 640, kH = 360;

class PointerShare : public HostedTest {
 protected:
  // `sharer` shares a still kW x kH scene with no cursor.
  void shareStillScene(ScreenMember& sharer) {
    capture::CaptureSettings s;
    s.fps = 20;
    std::string error;
    ASSERT_TRUE(sharer.screen.startSharing(
        std::make_unique<capture::SyntheticSource>(kW, kH, capture::SceneMotion::Static, capture::SceneCursor::None), s,
        1, error))
        << error;
  }
};

}  // namespace

TEST_F(PointerShare, TwoViewersAndTheSharerSeeAThirdPersonsPointerAtTheSameStreamPixel) {
  ScreenMember alice, bob, carol, dave;  // alice shares, bob and carol watch, dave points
  alice.join(host, "alice");
  ASSERT_NO_FATAL_FAILURE(shareStillScene(alice));
  bob.join(host, "bob");
  carol.join(host, "carol");
  dave.join(host, "dave");
  const std::uint32_t stream = bob.watchFirstId();
  ASSERT_NE(stream, 0u);
  ASSERT_EQ(carol.watchFirstId(), stream);
  ASSERT_EQ(dave.watchFirstId(), stream);

  // Dave points (sent again until it lands: his Subscribe may still be on its way).
  ASSERT_TRUE(waitFor([&] {
    dave.screen.pointAt(stream, 123, 45);
    return shownAt(bob.screen, stream, "dave", 123, 45);
  }, 5000)) << "bob never saw dave's pointer";
  ASSERT_TRUE(waitFor([&] { return shownAt(carol.screen, stream, "dave", 123, 45); }, 5000));
  EXPECT_TRUE(waitFor([&] { return shownAt(alice.screen, stream, "dave", 123, 45); }, 5000))
      << "the sharer does not see it";
  // Everyone sees the same colour for dave: it comes from his participant id.
  EXPECT_EQ(pointerOf(bob.screen, stream, "dave")->participantId, pointerOf(carol.screen, stream, "dave")->participantId);

  // It moves; out of the stream is dropped (it stays where it was).
  dave.screen.pointAt(stream, kW - 1, kH - 1);
  EXPECT_TRUE(waitFor([&] { return shownAt(bob.screen, stream, "dave", kW - 1, kH - 1); }, 5000));
  dave.screen.pointAt(stream, kW, 10);
  bob.screen.pointAt(stream, 5, 6);  // a marker sent after it, to know it was handled
  EXPECT_TRUE(waitFor([&] { return shownAt(carol.screen, stream, "bob", 5, 6); }, 5000));
  EXPECT_TRUE(shownAt(carol.screen, stream, "dave", kW - 1, kH - 1));

  // Released: gone (fading) for the others.
  dave.screen.pointGone(stream);
  EXPECT_TRUE(waitFor([&] { return released(bob.screen, stream, "dave") && released(alice.screen, stream, "dave"); },
                      5000));
  // Bob leaves while pointing: his pointer is gone at once for carol and the sharer.
  ASSERT_TRUE(shownAt(carol.screen, stream, "bob", 5, 6));
  bob.screen.leave();
  EXPECT_TRUE(waitFor([&] { return released(carol.screen, stream, "bob") && released(alice.screen, stream, "bob"); },
                      5000));
  alice.screen.stopSharing();
  host.stop();
}

namespace {
// The strokes of `name` on `stream` as `screen` shows them.
std::vector<session::StrokeMark> strokesOf(const session::ScreenSession& screen, std::uint32_t stream,
                                           const std::string& name) {
  std::vector<session::StrokeMark> out;
  for (auto& s : screen.strokes(stream, base::monoUs()))
    if (s.name == name) out.push_back(s);
  return out;
}

wire::PenStroke penStroke(std::uint32_t stream, std::uint32_t id, std::vector<wire::PenPoint> points, bool end) {
  wire::PenStroke m;
  m.streamId = stream;
  m.strokeId = id;
  m.points = std::move(points);
  m.end = end;
  return m;
}
}  // namespace

// A stroke drawn by one viewer reaches the other viewer and the sharer whole, at the same
// stream pixels; the sharer's switch off takes it away at once and stops the next one at the
// host (not just hidden); back on, strokes pass again; a person who leaves takes theirs along.
TEST_F(PointerShare, AStrokeReachesWatchersAndSharerAndTheSharersSwitchStopsItAtTheHost) {
  ScreenMember alice, bob, dave;  // alice shares, bob watches, dave draws
  alice.join(host, "alice");
  ASSERT_NO_FATAL_FAILURE(shareStillScene(alice));
  bob.join(host, "bob");
  dave.join(host, "dave");
  const std::uint32_t stream = bob.watchFirstId();
  ASSERT_NE(stream, 0u);
  ASSERT_EQ(dave.watchFirstId(), stream);

  // Dave's Subscribe may still be on its way: a pointer, sent again until bob sees it, tells
  // when the host has it (his messages are handled in order). A stroke sent before that would
  // lose its first part and land as a shorter stroke.
  ASSERT_TRUE(waitFor([&] {
    dave.screen.pointAt(stream, 1, 1);
    return shownAt(bob.screen, stream, "dave", 1, 1);
  }, 5000)) << "bob never saw dave's pointer";
  dave.screen.pointGone(stream);

  const std::vector<wire::PenPoint> first{{10, 10}, {50, 20}, {90, 40}}, rest{{130, 80}, {kW - 1, kH - 1}};
  std::uint32_t id = 1;
  dave.screen.penStroke(penStroke(stream, id, first, false));
  dave.screen.penStroke(penStroke(stream, id, rest, true));
  for (ScreenMember* m : {&bob, &alice}) {
    ASSERT_TRUE(waitFor([&] { auto v = strokesOf(m->screen, stream, "dave"); return !v.empty() && v.back().finished; }, 5000));
    const auto got = strokesOf(m->screen, stream, "dave").back();
    std::vector<wire::PenPoint> all = first;
    all.insert(all.end(), rest.begin(), rest.end());
    EXPECT_EQ(got.points, all) << "in order, at the same stream pixels";
    EXPECT_EQ(got.alpha, 1.f);
  }

  // The sharer turns pointing and drawing off: dave's stroke goes at once, everywhere, and
  // viewers learn it is off.
  alice.screen.setViewerMarks(false);
  EXPECT_TRUE(waitFor([&] { return strokesOf(bob.screen, stream, "dave").empty() && !bob.screen.viewerMarksAllowed(stream); },
                      5000));
  EXPECT_TRUE(waitFor([&] { return !dave.screen.viewerMarksAllowed(stream); }, 5000));
  EXPECT_TRUE(strokesOf(alice.screen, stream, "dave").empty());
  // Whatever dave sends now, the host drops: bob sees none (a marker from the sharer, who
  // may still point, tells when the host has handled dave's).
  const auto droppedBefore = host.screenHub().stats().pensDropped;
  dave.screen.penStroke(penStroke(stream, ++id, first, true));
  dave.screen.pointAt(stream, 5, 5);
  ASSERT_TRUE(waitFor([&] { return host.screenHub().stats().pensDropped > droppedBefore; }, 5000));
  alice.screen.pointAt(stream, 7, 7);
  ASSERT_TRUE(waitFor([&] { return shownAt(bob.screen, stream, "alice", 7, 7); }, 5000));
  EXPECT_TRUE(strokesOf(bob.screen, stream, "dave").empty());
  EXPECT_TRUE(released(bob.screen, stream, "dave"));

  // Back on: dave draws again, and then leaves: his stroke is gone for the others at once.
  alice.screen.setViewerMarks(true);
  ASSERT_TRUE(waitFor([&] { return bob.screen.viewerMarksAllowed(stream); }, 5000));
  dave.screen.penStroke(penStroke(stream, ++id, first, true));
  ASSERT_TRUE(waitFor([&] { return !strokesOf(bob.screen, stream, "dave").empty(); }, 5000));
  dave.screen.leave();
  EXPECT_TRUE(waitFor([&] { return strokesOf(bob.screen, stream, "dave").empty() && strokesOf(alice.screen, stream, "dave").empty(); },
                      5000));
  alice.screen.stopSharing();
}
