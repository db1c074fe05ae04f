// The sharer's cursor end to end over loopback, through the real relay: the test scene's
// arrow and where it is reach a viewer (the host's share and a client's), and a cursor
// moving over a still screen costs no tile bytes at all.
#include <gtest/gtest.h>

#include "app/session/screen_session.h"
#include "capture/synthetic_source.h"
#include "test_support.h"

using namespace huddle;
using namespace huddle::test;

namespace {

constexpr int kW = 640, kH = 360;

class CursorShare : public HostedTest {
 protected:
  // The host shares a still kW x kH scene whose cursor moves, at `fps`; bob watches it.
  std::shared_ptr<session::StreamView> shareAndWatch(int fps) {
    capture::CaptureSettings s;
    s.fps = fps;
    std::string error;
    EXPECT_TRUE(host.startSharing(
        std::make_unique<capture::SyntheticSource>(kW, kH, capture::SceneMotion::Static, capture::SceneCursor::Moving),
        s, 1, error))
        << error;
    bob.join(host, "bob");
    return bob.watchFirst();
  }
  ScreenMember bob;
};

// True if `c` shows the test scene's arrow, pixel for pixel.
bool isSceneArrow(const session::StreamView::Cursor& c) {
  const base::CursorImage want = capture::SyntheticSource::cursorShape();
  return c.visible && c.shape && c.shape->widthPx == want.widthPx && c.shape->heightPx == want.heightPx &&
         c.shape->hotX == want.hotX && c.shape->hotY == want.hotY && c.shape->rgba == want.rgba;
}

}  // namespace

TEST_F(CursorShare, TheHostsCursorShapeAndPositionReachAViewer) {
  auto view = shareAndWatch(30);
  ASSERT_NE(view, nullptr);
  ASSERT_TRUE(waitFor([&] { return isSceneArrow(view->cursor()); }, 5000)) << "no cursor reached the viewer";
  // It moves along the scene's path: each position seen is the scene's for some frame.
  const auto first = view->cursor();
  ASSERT_TRUE(waitFor([&] { auto c = view->cursor(); return c.x != first.x || c.y != first.y; }, 5000))
      << "the cursor did not move";
  const auto c = view->cursor();
  bool onPath = false;
  for (std::uint64_t n = 0; n < 100000 && !onPath; ++n) {
    const base::CursorPos p = capture::SyntheticSource::cursorAt(kW, kH, capture::SceneCursor::Moving, n);
    onPath = p.x == c.x && p.y == c.y;
  }
  EXPECT_TRUE(onPath) << "(" << c.x << "," << c.y << ") is not on the scene's path";
  host.stopSharing();
}

TEST_F(CursorShare, AClientsCursorReachesAnotherClientAtItsPlace) {
  ScreenMember alice;  // and the fixture's bob
  alice.join(host, "alice");
  bob.join(host, "bob");
  capture::CaptureSettings s;
  s.fps = 20;
  std::string error;
  ASSERT_TRUE(alice.screen.startSharing(
      std::make_unique<capture::SyntheticSource>(kW, kH, capture::SceneMotion::Static, capture::SceneCursor::Still), s, 1,
      error))
      << error;
  auto view = bob.watchFirst();
  ASSERT_NE(view, nullptr);
  const base::CursorPos want = capture::SyntheticSource::cursorAt(kW, kH, capture::SceneCursor::Still, 0);
  ASSERT_TRUE(waitFor([&] { auto c = view->cursor(); return isSceneArrow(c) && c.x == want.x && c.y == want.y; }, 5000));
  // A viewer who comes later gets it at once on subscribing, though the cursor stays still
  // (nothing new is sent for it after the first position).
  ScreenMember carol;
  carol.join(host, "carol");
  auto late = carol.watchFirst();
  ASSERT_NE(late, nullptr);
  ASSERT_TRUE(waitFor([&] { auto c = late->cursor(); return isSceneArrow(c) && c.x == want.x && c.y == want.y; }, 5000));
  alice.screen.stopSharing();
}

TEST_F(CursorShare, AMovingCursorOverAStillScreenCostsNoTileBytes) {
  auto view = shareAndWatch(60);
  ASSERT_NE(view, nullptr);
  // Measured once the still screen is sharp (its one lossless refresh sent): from then on,
  // only the cursor moves.
  ASSERT_TRUE(waitFor([&] { return view->sharp() && view->cursor().visible; }, 5000));
  const auto before = host.screenHub().stats();
  const std::uint64_t applied = view->updatesApplied();
  const std::uint64_t cursorVersion = view->cursor().version;
  // At least 30 more cursor messages (half a second of movement at 60 fps).
  ASSERT_TRUE(waitFor([&] { return host.screenHub().stats().cursorMessagesSent >= before.cursorMessagesSent + 30; }, 5000));
  const auto after = host.screenHub().stats();
  EXPECT_EQ(after.tileBytesSent, before.tileBytesSent) << "the cursor moved tiles";
  EXPECT_EQ(after.updatesSent, before.updatesSent);
  EXPECT_EQ(view->updatesApplied(), applied);
  EXPECT_GT(after.cursorBytesSent, before.cursorBytesSent);
  EXPECT_GT(view->cursor().version, cursorVersion);
  // A position is 19 bytes of payload (6 of frame header): the bytes are the messages'.
  const double perMessage = double(after.cursorBytesSent - before.cursorBytesSent) /
                            double(after.cursorMessagesSent - before.cursorMessagesSent);
  EXPECT_EQ(perMessage, 23.0);
  host.stopSharing();
}
