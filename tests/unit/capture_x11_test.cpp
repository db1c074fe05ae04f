// X11 capture against a private Xvfb: the test paints the root window a known colour with
// xsetroot and checks the captured pixels, through XShm, for the whole screen and a region.
#include <gtest/gtest.h>

#include <unistd.h>

#include "capture/x11_source.h"
#include "tests/support/subprocess.h"
#include "tests/support/xvfb.h"

using namespace huddle::capture;
using huddle::test::Subprocess;
using huddle::test::Xvfb;

namespace {
std::uint32_t pixelAt(const Frame& f, int x, int y) {
  const auto* p = f.pixels + std::size_t(y) * f.strideBytes + std::size_t(x) * 4;
  return std::uint32_t(p[2]) << 16 | std::uint32_t(p[1]) << 8 | p[0];  // 0xRRGGBB
}
}  // namespace

TEST(X11Capture, CapturesWhatIsOnTheScreen) {
  if (access("/usr/bin/xsetroot", X_OK) != 0) GTEST_SKIP() << "xsetroot is not available";
  Xvfb xvfb(80, 99, "800x600x24");
  if (!xvfb.running()) GTEST_SKIP() << "Xvfb is not available";
  Subprocess paint({"/usr/bin/xsetroot", "-solid", "#336699"}, {"DISPLAY=" + xvfb.display()});
  ASSERT_EQ(paint.wait(10000), 0);

  X11Source whole(xvfb.display(), {});
  std::string error;
  ASSERT_TRUE(whole.open(error)) << error;
  EXPECT_TRUE(whole.usingShm());
  Frame f;
  ASSERT_NE(whole.capture(f, error), CaptureResult::Error) << error;
  EXPECT_EQ(f.widthPx, 800);
  EXPECT_EQ(f.heightPx, 600);
  for (auto [x, y] : {std::pair{0, 0}, std::pair{799, 599}, std::pair{400, 300}}) EXPECT_EQ(pixelAt(f, x, y), 0x336699u);
  EXPECT_EQ(f.changed, nullptr);  // the first frame is whole

  // Nothing drawn: XDamage says so, and the frame is not even fetched again.
  ASSERT_NE(whole.capture(f, error), CaptureResult::Error) << error;
  ASSERT_NE(f.changed, nullptr) << "Xvfb has XDamage";
  EXPECT_TRUE(f.changed->empty());
  EXPECT_EQ(pixelAt(f, 400, 300), 0x336699u);

  // Repaint: the next capture sees the new colour, and its damage covers it.
  Subprocess repaint({"/usr/bin/xsetroot", "-solid", "#C04010"}, {"DISPLAY=" + xvfb.display()});
  ASSERT_EQ(repaint.wait(10000), 0);
  ASSERT_NE(whole.capture(f, error), CaptureResult::Error) << error;
  EXPECT_EQ(pixelAt(f, 10, 10), 0xC04010u);
  ASSERT_NE(f.changed, nullptr);
  huddle::base::Rect covered;
  for (const auto& r : *f.changed) covered = covered.united(r);
  EXPECT_EQ(covered, (huddle::base::Rect{0, 0, 800, 600}));

  X11Region rect;
  rect.kind = X11Region::Kind::Rect;
  rect.x = 700;
  rect.y = 500;
  rect.w = 300;  // reaches past the screen: clipped to 100x100
  rect.h = 300;
  X11Source part(xvfb.display(), rect);
  ASSERT_TRUE(part.open(error)) << error;
  ASSERT_NE(part.capture(f, error), CaptureResult::Error) << error;
  EXPECT_EQ(f.widthPx, 100);
  EXPECT_EQ(f.heightPx, 100);
  EXPECT_EQ(pixelAt(f, 99, 99), 0xC04010u);
}

TEST(X11Capture, NoDisplayIsAClearError) {
  X11Source src(":12345", {});
  std::string error;
  EXPECT_FALSE(src.open(error));
  EXPECT_NE(error.find("cannot open the X display :12345"), std::string::npos) << error;
}
