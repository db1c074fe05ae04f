// X11 capture against a private Xvfb: the test paints the root window a known colour with
// xsetroot and checks the captured pixels, through XShm, for the whole screen and a region;
// shares one window of its own (XComposite), covered, changed, resized and closed; and picks a
// region by dragging with xdotool, checks the border shown around it, and viewers' pointers on
// the screen.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "capture/capture_pipeline.h"
#include "capture/x11_overlay.h"
#include "capture/x11_source.h"
#include "net/base/clock.h"
#include "tests/support/subprocess.h"
#include "tests/support/x11_test_window.h"  // after gtest (Xlib's macros)
#include "tests/support/xvfb.h"
#include <X11/extensions/shape.h>

using namespace huddle::capture;
using huddle::test::Subprocess;
using huddle::test::Xvfb;

namespace {
std::uint32_t pixelAt(const Frame& f, int x, int y) {
  const auto* p = f.pixels + std::size_t(y) * f.strideBytes + std::size_t(x) * 4;
  return std::uint32_t(p[2]) << 16 | std::uint32_t(p[1]) << 8 | p[0];  // 0xRRGGBB
}

// A rectangle of the screen to share.
X11Region rectRegion(int x, int y, int w, int h) {
  X11Region r;
  r.kind = X11Region::Kind::Rect;
  r.x = x;
  r.y = y;
  r.w = w;
  r.h = h;
  return r;
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

  // Reaches past the screen: clipped to 100x100.
  X11Source part(xvfb.display(), rectRegion(700, 500, 300, 300));
  ASSERT_TRUE(part.open(error)) << error;
  ASSERT_NE(part.capture(f, error), CaptureResult::Error) << error;
  EXPECT_EQ(f.widthPx, 100);
  EXPECT_EQ(f.heightPx, 100);
  EXPECT_EQ(pixelAt(f, 99, 99), 0xC04010u);
}

TEST(X11Capture, FramesAreKeepableOnlyForACallerOfKeepAndTheKeptImageIsNeverFetchedInto) {
  if (access("/usr/bin/xsetroot", X_OK) != 0) GTEST_SKIP() << "xsetroot is not available";
  Xvfb xvfb(80, 99, "320x200x24");
  if (!xvfb.running()) GTEST_SKIP() << "Xvfb is not available";
  auto paint = [&](const char* colour) {
    Subprocess p({"/usr/bin/xsetroot", "-solid", colour}, {"DISPLAY=" + xvfb.display()});
    ASSERT_EQ(p.wait(10000), 0);
  };
  paint("#112233");
  X11Source src(xvfb.display(), {});
  std::string error;
  ASSERT_TRUE(src.open(error)) << error;
  ASSERT_TRUE(src.usingShm());
  Frame f;
  ASSERT_NE(src.capture(f, error), CaptureResult::Error) << error;
  EXPECT_EQ(f.keepable, nullptr);  // nobody said they follow keep()
  src.keep(nullptr);
  paint("#445566");
  ASSERT_NE(src.capture(f, error), CaptureResult::Error) << error;
  ASSERT_NE(f.keepable, nullptr);
  EXPECT_EQ(f.keepable, f.pixels);
  const std::uint8_t* first = f.pixels;
  paint("#778899");
  ASSERT_NE(src.capture(f, error), CaptureResult::Error) << error;
  EXPECT_NE(f.pixels, first);  // two images take turns
  EXPECT_EQ(pixelAt(f, 5, 5), 0x778899u);
  // The caller keeps the second frame: every fetch goes to the other image, which it is not.
  src.keep(f.keepable);
  const std::uint8_t* kept = f.pixels;
  for (const char* colour : {"#AA0000", "#00BB00", "#0000CC"}) {
    paint(colour);
    ASSERT_NE(src.capture(f, error), CaptureResult::Error) << error;
    EXPECT_NE(f.pixels, kept);
    EXPECT_EQ(pixelAt(f, 5, 5), std::uint32_t(std::stoul(colour + 1, nullptr, 16)));
  }
  EXPECT_EQ(std::uint32_t(kept[2]) << 16 | std::uint32_t(kept[1]) << 8 | kept[0], 0x778899u);
}

TEST(X11Capture, NoDisplayIsAClearError) {
  X11Source src(":12345", {});
  std::string error;
  EXPECT_FALSE(src.open(error));
  EXPECT_NE(error.find("cannot open the X display :12345"), std::string::npos) << error;
}

// A still screen under a still pointer is not looked at every frame (XDamage and XInput2 say
// when something happens), and the pointer's moves are still told, each where it went.
TEST(X11Capture, AQuietScreenIsLookedAtRarelyAndThePointersMovesAreStillTold) {
  if (access("/usr/bin/xdotool", X_OK) != 0) GTEST_SKIP() << "xdotool is not available";
  Xvfb xvfb(80, 99, "640x480x24");
  if (!xvfb.running()) GTEST_SKIP() << "Xvfb is not available";
  const std::string env = "DISPLAY=" + xvfb.display();
  ASSERT_EQ(Subprocess({"/usr/bin/xdotool", "mousemove", "10", "10"}, {env}).wait(10000), 0);
  CaptureSettings s;
  s.fps = 60;
  std::mutex m;
  std::condition_variable cv;
  std::vector<std::pair<int, int>> told;
  CapturePipeline pipeline(std::make_unique<X11Source>(xvfb.display(), X11Region{}), s, 1, [](EncodedUpdate&&) {});
  pipeline.setCursorCallback([&](const CursorUpdate& u) {
    std::lock_guard lock(m);
    told.emplace_back(u.pos.x, u.pos.y);
    cv.notify_all();
  });
  std::string error;
  ASSERT_TRUE(pipeline.start(error)) << error;
  // Quiet half a second after the first frame: then four frames a second, not sixty.
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  std::uint64_t before = pipeline.stats().framesCaptured;
  std::this_thread::sleep_for(std::chrono::seconds(2));
  const std::uint64_t frames = pipeline.stats().framesCaptured - before;
  EXPECT_GE(frames, 4u);
  EXPECT_LE(frames, 14u) << "a quiet screen was looked at more than about four times a second";
  // New settings end the quiet at once: frames at the frame rate for a while (a quiet wait that
  // went on would give one or two in this time).
  before = pipeline.stats().framesCaptured;
  s.quality = 70;
  pipeline.setSettings(s);
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  EXPECT_GE(pipeline.stats().framesCaptured - before, 6u) << "new settings waited for the quiet tick";
  // xdotool's mousemove warps the pointer (no raw motion): told by the pointer's poll.
  for (auto [x, y] : {std::pair{200, 150}, std::pair{201, 150}, std::pair{630, 470}}) {
    ASSERT_EQ(Subprocess({"/usr/bin/xdotool", "mousemove", std::to_string(x), std::to_string(y)}, {env}).wait(10000), 0);
    std::unique_lock lock(m);
    EXPECT_TRUE(cv.wait_for(lock, std::chrono::seconds(5), [&] { return !told.empty() && told.back() == std::pair{x, y}; }))
        << "the pointer at " << x << "," << y << " was not told";
  }
  // A root cursor set by a client that then left: XFixes keeps telling of a shape it will not
  // give, which must not end every wait.
  ASSERT_EQ(Subprocess({"/usr/bin/xsetroot", "-cursor_name", "watch"}, {env}).wait(10000), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  before = pipeline.stats().framesCaptured;
  std::this_thread::sleep_for(std::chrono::seconds(1));
  EXPECT_LE(pipeline.stats().framesCaptured - before, 8u) << "a cursor shape kept ending the quiet wait";
  // Quiet again: stop() ends the quiet wait at once.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const auto stopAt = std::chrono::steady_clock::now();
  pipeline.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - stopAt, std::chrono::milliseconds(400));
}

// An application that draws a picture as many requests (XPutImage goes in 256 KB pieces, a
// page in tiles): settle() waits while the pieces keep coming, so the capture after it has the
// whole drawing, and every piece's damage, set aside on the way, is in that frame's. It stops
// at its limit when the drawing never pauses, and a drawing after the capture is news again.
TEST(X11Capture, SettleWaitsForADrawingInPiecesToEnd) {
  using Clock = std::chrono::steady_clock;
  Xvfb xvfb(80, 99, "640x480x24");
  if (!xvfb.running()) GTEST_SKIP() << "Xvfb is not available";
  X11Source source(xvfb.display(), {});
  std::string error;
  ASSERT_TRUE(source.open(error)) << error;
  ASSERT_TRUE(source.notifiesChanges()) << "Xvfb has XDamage";
  Frame f;
  ASSERT_NE(source.capture(f, error), CaptureResult::Error) << error;  // whole
  ASSERT_NE(source.capture(f, error), CaptureResult::Error) << error;
  ASSERT_TRUE(f.changed && f.changed->empty());

  Display* d = XOpenDisplay(xvfb.display().c_str());
  ASSERT_NE(d, nullptr);
  const Window root = DefaultRootWindow(d);
  GC gc = XCreateGC(d, root, 0, nullptr);
  constexpr int kBands = 20, kBandH = 24;
  auto colour = [](int band) { return std::uint32_t(40 + band * 9) << 16 | std::uint32_t(200 - band * 7) << 8 | 0x33; };
  std::atomic<bool> drawing{false}, stop{false};
  std::atomic<std::int64_t> lastBandUs{0};
  // Bands 20 ms apart; each band is in the X server (XSync) before the next.
  auto drawBands = [&](int rounds) {
    for (int r = 0; r < rounds && !stop.load(); ++r)
      for (int i = 0; i < kBands && !stop.load(); ++i) {
        XSetForeground(d, gc, colour((i + r) % kBands));
        XFillRectangle(d, root, gc, 0, i * kBandH, 640, kBandH);
        XSync(d, False);
        lastBandUs = huddle::base::monoUs();
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    drawing = false;
  };
  // The drawer stops and is joined however this test ends (a failed ASSERT included).
  struct Drawer {
    std::atomic<bool>& stop;
    std::thread thread;
    ~Drawer() {
      stop = true;
      if (thread.joinable()) thread.join();
    }
    void join() {
      if (thread.joinable()) thread.join();
    }
  };
  auto msSince = [](std::int64_t us) { return (huddle::base::monoUs() - us) / 1000; };

  drawing = true;
  Drawer drawer{stop, std::thread(drawBands, 1)};
  ASSERT_TRUE(source.waitForChange(5000));
  // A quiet window of 150 ms (more than seven times the pieces' gap); the limit 10 s.
  source.settle(150'000, 10'000'000);
  const bool drawnWhole = !drawing.load();
  const std::int64_t pausedMs = msSince(lastBandUs.load());
  ASSERT_NE(source.capture(f, error), CaptureResult::Error) << error;
  drawer.join();
  EXPECT_TRUE(drawnWhole) << "settle() ended while the drawing went on";
  EXPECT_LT(pausedMs, 5000) << "settle() did not end when the drawing paused";
  for (int i = 0; i < kBands; ++i) EXPECT_EQ(pixelAt(f, 320, i * kBandH + kBandH / 2), colour(i)) << "band " << i;
  ASSERT_NE(f.changed, nullptr);
  int covered = 0;  // rows of the bands that the frame's damage holds
  for (int y = 0; y < kBands * kBandH; ++y)
    for (const auto& r : *f.changed)
      if (r.x == 0 && r.w == 640 && y >= r.y && y < r.bottom()) {
        ++covered;
        break;
      }
  EXPECT_EQ(covered, kBands * kBandH) << "damage set aside while settling was lost";

  // A drawing with no pause: settle() ends at its limit (0.3 s; the drawing goes on for 8 s).
  drawing = true;
  Drawer endless{stop, std::thread(drawBands, 20)};
  ASSERT_TRUE(source.waitForChange(5000));
  const auto begun = Clock::now();
  source.settle(150'000, 300'000);
  const auto tookMs = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - begun).count();
  EXPECT_TRUE(drawing.load()) << "settle() went past its limit";
  EXPECT_GE(tookMs, 300) << "settle() ended before its limit while the drawing went on";
  stop = true;
  endless.join();
  ASSERT_NE(source.capture(f, error), CaptureResult::Error) << error;
  ASSERT_NE(source.capture(f, error), CaptureResult::Error) << error;  // what came after that capture
  EXPECT_FALSE(source.waitForChange(100)) << "news left over after the captures";
  XSetForeground(d, gc, 0x102030);
  XFillRectangle(d, root, gc, 600, 440, 10, 10);
  XSync(d, False);
  EXPECT_TRUE(source.waitForChange(5000)) << "a drawing after the capture was no news";
  XFreeGC(d, gc);
  XCloseDisplay(d);
}

// A pointer's move on a still screen is news that ends a wait for a change (XInput2's raw
// motion), once the cursor is watched; nothing else on a still screen is.
TEST(X11Capture, APointersMoveEndsTheWaitForAChange) {
  if (access("/usr/bin/xdotool", X_OK) != 0) GTEST_SKIP() << "xdotool is not available";
  Xvfb xvfb(80, 99, "640x480x24");
  if (!xvfb.running()) GTEST_SKIP() << "Xvfb is not available";
  const std::string env = "DISPLAY=" + xvfb.display();
  ASSERT_EQ(Subprocess({"/usr/bin/xdotool", "mousemove", "70", "80"}, {env}).wait(10000), 0);  // a warp
  X11Source source(xvfb.display(), {});
  std::string error;
  ASSERT_TRUE(source.open(error)) << error;
  ASSERT_TRUE(source.notifiesPointer()) << "Xvfb has XInput 2.2";
  Frame f;
  ASSERT_NE(source.capture(f, error), CaptureResult::Error) << error;
  huddle::base::CursorPos pos;
  huddle::base::CursorImage shape;
  bool changed = false;
  ASSERT_TRUE(source.cursor(pos, shape, changed));
  ASSERT_NE(source.capture(f, error), CaptureResult::Error) << error;
  ASSERT_TRUE(source.cursor(pos, shape, changed));  // what news there was is taken
  EXPECT_FALSE(source.waitForChange(300)) << "news on a still screen under a still pointer";
  // A relative move goes through the input device (XTest), as a mouse's does: raw motion.
  ASSERT_EQ(Subprocess({"/usr/bin/xdotool", "mousemove_relative", "7", "8"}, {env}).wait(10000), 0);
  EXPECT_TRUE(source.waitForChange(5000)) << "the move was no news";
  ASSERT_NE(source.capture(f, error), CaptureResult::Error) << error;
  ASSERT_TRUE(source.cursor(pos, shape, changed));
  EXPECT_EQ(pos.x, 77);
  EXPECT_EQ(pos.y, 88);
}

// While captures are held back, the pipeline learns when drawings land: waitForDrawing()
// ends for a drawing inside the shared area only (not a pointer's move, not a drawing beside
// the area), sets each aside so the next is news again, and the capture holds them all.
TEST(X11Capture, WaitForDrawingSeesDrawingsInsideTheSharedAreaAndKeepsThemForTheCapture) {
  if (access("/usr/bin/xdotool", X_OK) != 0) GTEST_SKIP() << "xdotool is not available";
  Xvfb xvfb(80, 99, "640x480x24");
  if (!xvfb.running()) GTEST_SKIP() << "Xvfb is not available";
  const std::string env = "DISPLAY=" + xvfb.display();
  X11Source source(xvfb.display(), rectRegion(100, 100, 320, 240));
  std::string error;
  ASSERT_TRUE(source.open(error)) << error;
  ASSERT_TRUE(source.notifiesPointer()) << "Xvfb has XDamage and XInput 2.2";
  Frame f;
  ASSERT_NE(source.capture(f, error), CaptureResult::Error) << error;  // whole
  huddle::base::CursorPos pos;
  huddle::base::CursorImage shape;
  bool changed = false;
  ASSERT_TRUE(source.cursor(pos, shape, changed));  // the pointer is watched from now on

  ASSERT_EQ(Subprocess({"/usr/bin/xdotool", "mousemove_relative", "7", "8"}, {env}).wait(10000), 0);
  EXPECT_FALSE(source.waitForDrawing(300)) << "a pointer's move counted as a drawing";

  Display* d = XOpenDisplay(xvfb.display().c_str());
  ASSERT_NE(d, nullptr);
  const Window root = DefaultRootWindow(d);
  GC gc = XCreateGC(d, root, 0, nullptr);
  auto fill = [&](std::uint32_t colour, int x, int y) {
    XSetForeground(d, gc, colour);
    XFillRectangle(d, root, gc, x, y, 16, 16);
    XSync(d, False);
  };
  fill(0x00FF00, 500, 400);  // beside the area
  EXPECT_FALSE(source.waitForDrawing(300)) << "a drawing outside the shared area counted";
  fill(0xFF0000, 110, 110);
  EXPECT_TRUE(source.waitForDrawing(5000)) << "a drawing inside was no news";
  fill(0x0000FF, 300, 200);
  EXPECT_TRUE(source.waitForDrawing(5000)) << "the drawing after one set aside was no news";
  XFreeGC(d, gc);
  XCloseDisplay(d);

  ASSERT_NE(source.capture(f, error), CaptureResult::Error) << error;
  EXPECT_EQ(pixelAt(f, 18, 18), 0xFF0000u);
  EXPECT_EQ(pixelAt(f, 208, 108), 0x0000FFu);
  ASSERT_NE(f.changed, nullptr);
  auto holds = [&](int x, int y) {
    for (const auto& r : *f.changed)
      if (x >= r.x && x < r.x + r.w && y >= r.y && y < r.bottom()) return true;
    return false;
  };
  EXPECT_TRUE(holds(18, 18)) << "the first drawing set aside was not in the capture's damage";
  EXPECT_TRUE(holds(208, 108)) << "the second drawing set aside was not in the capture's damage";
}

// The cursor through XFixes: the shape X shows (set with xsetroot), its hot spot, and the
// position (moved with xdotool), and a new shape id once the shape changes.
TEST(X11Capture, ReadsTheRealCursorShapeAndPosition) {
  if (access("/usr/bin/xsetroot", X_OK) != 0) GTEST_SKIP() << "xsetroot is not available";
  if (access("/usr/bin/xdotool", X_OK) != 0) GTEST_SKIP() << "xdotool is not available";
  Xvfb xvfb(80, 99, "640x480x24");
  if (!xvfb.running()) GTEST_SKIP() << "Xvfb is not available";
  const std::string env = "DISPLAY=" + xvfb.display();
  ASSERT_EQ(Subprocess({"/usr/bin/xsetroot", "-cursor_name", "crosshair"}, {env}).wait(10000), 0);
  ASSERT_EQ(Subprocess({"/usr/bin/xdotool", "mousemove", "123", "231"}, {env}).wait(10000), 0);

  X11Source source(xvfb.display(), {});
  std::string error;
  ASSERT_TRUE(source.open(error)) << error;
  Frame f;
  ASSERT_NE(source.capture(f, error), CaptureResult::Error) << error;
  huddle::base::CursorPos pos;
  huddle::base::CursorImage shape;
  bool changed = false;
  ASSERT_TRUE(source.cursor(pos, shape, changed)) << "Xvfb has XFixes";
  EXPECT_TRUE(changed);
  EXPECT_TRUE(pos.visible);
  EXPECT_EQ(pos.x, 123);
  EXPECT_EQ(pos.y, 231);
  EXPECT_EQ(pos.shapeId, shape.id);
  ASSERT_GT(shape.widthPx, 4);
  ASSERT_GT(shape.heightPx, 4);
  ASSERT_EQ(shape.rgba.size(), std::size_t(shape.widthPx) * shape.heightPx * 4);
  // The crosshair's hot spot is its middle, and it has opaque and clear pixels.
  EXPECT_NEAR(shape.hotX, shape.widthPx / 2, 2);
  EXPECT_NEAR(shape.hotY, shape.heightPx / 2, 2);
  int opaque = 0, clear = 0;
  for (std::size_t i = 3; i < shape.rgba.size(); i += 4) {
    opaque += shape.rgba[i] == 255;
    clear += shape.rgba[i] == 0;
  }
  EXPECT_GT(opaque, 10);
  EXPECT_GT(clear, 10);

  // Only the position changes: no shape is fetched again.
  ASSERT_EQ(Subprocess({"/usr/bin/xdotool", "mousemove", "300", "40"}, {env}).wait(10000), 0);
  ASSERT_NE(source.capture(f, error), CaptureResult::Error) << error;
  ASSERT_TRUE(source.cursor(pos, shape, changed));
  EXPECT_FALSE(changed);
  EXPECT_EQ(pos.x, 300);
  EXPECT_EQ(pos.y, 40);

  // Another shape comes under another id. (Read by a new connection: Xvfb answers a
  // connection that already read the cursor with no image once the cursor it showed was
  // freed, as xsetroot's is when it exits; the source then keeps the last shape.)
  const std::uint32_t firstId = shape.id;
  const std::vector<std::uint8_t> firstPixels = shape.rgba;
  ASSERT_EQ(Subprocess({"/usr/bin/xsetroot", "-cursor_name", "watch"}, {env}).wait(10000), 0);
  ASSERT_NE(source.capture(f, error), CaptureResult::Error) << error;
  ASSERT_TRUE(source.cursor(pos, shape, changed)) << "the last shape holds";
  EXPECT_EQ(pos.x, 300);
  X11Source again(xvfb.display(), {});
  ASSERT_TRUE(again.open(error)) << error;
  ASSERT_NE(again.capture(f, error), CaptureResult::Error) << error;
  ASSERT_TRUE(again.cursor(pos, shape, changed));
  EXPECT_TRUE(changed);
  EXPECT_NE(shape.id, firstId);
  EXPECT_NE(shape.rgba, firstPixels);
  EXPECT_EQ(pos.shapeId, shape.id);

  // A region that does not hold the pointer: the cursor is not visible in it.
  X11Source part(xvfb.display(), rectRegion(400, 300, 100, 100));
  ASSERT_TRUE(part.open(error)) << error;
  ASSERT_NE(part.capture(f, error), CaptureResult::Error) << error;
  ASSERT_TRUE(part.cursor(pos, shape, changed));
  EXPECT_FALSE(pos.visible);
}

// Which window a --share window:QUERY names: an id, a whole title, or the one title holding
// the words; none or several is an error that lists the candidates.
TEST(X11Capture, AWindowIsFoundByIdTitleOrPartOfItsTitle) {
  auto window = [](unsigned long id, const char* title) {
    X11Window w;
    w.id = id;
    w.title = title;
    return w;
  };
  const std::vector<X11Window> windows = {window(0x400001, "Terminal"), window(0x400002, "notes.txt - Editor"),
                                          window(0x400003, "Slides - Editor")};
  X11Window found;
  std::string error;
  ASSERT_TRUE(findX11Window(windows, "0x400002", found, error)) << error;
  EXPECT_EQ(found.title, "notes.txt - Editor");
  ASSERT_TRUE(findX11Window(windows, std::to_string(0x400003), found, error)) << error;
  EXPECT_EQ(found.title, "Slides - Editor");
  ASSERT_TRUE(findX11Window(windows, "Terminal", found, error)) << error;
  EXPECT_EQ(found.id, 0x400001u);
  ASSERT_TRUE(findX11Window(windows, "SLIDES", found, error)) << error;
  EXPECT_EQ(found.id, 0x400003u);

  EXPECT_FALSE(findX11Window(windows, "editor", found, error));
  EXPECT_NE(error.find("several windows match \"editor\""), std::string::npos) << error;
  EXPECT_NE(error.find("notes.txt - Editor"), std::string::npos) << error;
  EXPECT_FALSE(findX11Window(windows, "browser", found, error));
  EXPECT_NE(error.find("no window matches \"browser\"; windows: \"Terminal\" (0x400001)"), std::string::npos) << error;
  EXPECT_FALSE(findX11Window(windows, "0x999", found, error));  // not one of them, and no title has it
  EXPECT_FALSE(findX11Window({}, "x", found, error));
  EXPECT_NE(error.find("no windows are shown"), std::string::npos) << error;
  EXPECT_FALSE(findX11Window(windows, "", found, error));
  EXPECT_NE(error.find("choose a window"), std::string::npos) << error;
}

namespace {
using huddle::test::X11TestWindow;

// Captures until the frame shows `want` at (x, y) (X draws asynchronously; bounded).
bool captureUntil(X11Source& src, Frame& f, int x, int y, std::uint32_t want, std::string& error) {
  for (int i = 0; i < 50; ++i) {
    const CaptureResult r = src.capture(f, error);
    if (r == CaptureResult::Ended) return false;
    if (r != CaptureResult::Error && x < f.widthPx && y < f.heightPx && pixelAt(f, x, y) == want) return true;
    usleep(20'000);
  }
  return false;
}
}  // namespace

// One window through XComposite: its own pixels while another window covers it, changes
// drawn while covered, a resize, and the end of the stream when it closes.
TEST(X11Capture, OneWindowKeepsItsOwnPixelsWhenCoveredAndEndsWhenClosed) {
  Xvfb xvfb(80, 99, "800x600x24");
  if (!xvfb.running()) GTEST_SKIP() << "Xvfb is not available";
  Display* dpy = XOpenDisplay(xvfb.display().c_str());
  ASSERT_NE(dpy, nullptr);
  X11TestWindow doc(dpy, "Quarterly notes - Editor", 50, 40, 320, 200);
  doc.paint(0);
  X11TestWindow other(dpy, "Chat", 400, 300, 200, 100);

  std::string error;
  const std::vector<X11Window> listed = listX11Windows(xvfb.display(), error);
  ASSERT_EQ(listed.size(), 2u) << error;
  EXPECT_EQ(listed[0].title, "Quarterly notes - Editor");
  EXPECT_EQ(listed[0].w, 320);
  EXPECT_EQ(listed[1].title, "Chat");

  X11Region region;
  region.kind = X11Region::Kind::Window;
  region.window = "quarterly";
  X11Source src(xvfb.display(), region);
  ASSERT_TRUE(src.open(error)) << error;
  EXPECT_EQ(src.title(), "Quarterly notes - Editor");
  // Redirecting a shown window gives it a new pixmap and an Expose: a real program paints
  // itself again then, as this one does.
  doc.paint(0);
  Frame f;
  ASSERT_TRUE(captureUntil(src, f, 319, 199, X11TestWindow::pictureAt(319, 199, 0), error)) << error;
  EXPECT_EQ(f.widthPx, 320);
  EXPECT_EQ(f.heightPx, 200);
  for (int y = 0; y < 200; y += 7)
    for (int x = 0; x < 320; x += 3) ASSERT_EQ(pixelAt(f, x, y), X11TestWindow::pictureAt(x, y, 0)) << x << "," << y;

  // Another window moves over it and paints itself red: the stream still shows the document.
  XMoveWindow(dpy, other.win, 60, 50);
  XRaiseWindow(dpy, other.win);
  other.fill(0xFF0000);
  // The document changes under the cover: the stream shows the change.
  doc.paint(99, 100, 60, 40, 40);
  ASSERT_TRUE(captureUntil(src, f, 110, 70, X11TestWindow::pictureAt(110, 70, 99), error)) << error;
  for (int y = 0; y < 200; y += 5)
    for (int x = 0; x < 320; x += 5) {
      const bool changed = x >= 100 && x < 140 && y >= 60 && y < 100;
      ASSERT_EQ(pixelAt(f, x, y), X11TestWindow::pictureAt(x, y, changed ? 99 : 0)) << x << "," << y;
    }

  // Resized: the stream follows (a new size, the whole window again).
  XResizeWindow(dpy, doc.win, 400, 240);
  doc.w = 400;
  doc.h = 240;
  doc.paint(7);
  ASSERT_TRUE(captureUntil(src, f, 399, 239, X11TestWindow::pictureAt(399, 239, 7), error)) << error;
  EXPECT_EQ(f.widthPx, 400);
  EXPECT_EQ(f.heightPx, 240);

  // Closed: the source says the stream is over, with the window's name.
  XDestroyWindow(dpy, doc.win);
  XSync(dpy, False);
  CaptureResult r = CaptureResult::Ok;
  for (int i = 0; i < 50 && r != CaptureResult::Ended; ++i) {
    r = src.capture(f, error);
    usleep(10'000);
  }
  EXPECT_EQ(r, CaptureResult::Ended);
  EXPECT_NE(error.find("the shared window \"Quarterly notes - Editor\" closed"), std::string::npos) << error;
  XCloseDisplay(dpy);
}

TEST(X11Capture, AWindowThatIsNotThereIsAClearError) {
  Xvfb xvfb(80, 99, "800x600x24");
  if (!xvfb.running()) GTEST_SKIP() << "Xvfb is not available";
  X11Region region;
  region.kind = X11Region::Kind::Window;
  region.window = "Spreadsheet";
  X11Source src(xvfb.display(), region);
  std::string error;
  EXPECT_FALSE(src.open(error));
  EXPECT_NE(error.find("no window matches \"Spreadsheet\" (no windows are shown)"), std::string::npos) << error;
}

// A real RandR resize (xrandr -s on an Xephyr, whose screen can change size; Xvfb's cannot):
// the capture after it says so and holds the whole screen at its new size, smaller and larger.
TEST(X11Capture, AScreenResizedWithRandRIsCapturedWholeAtItsNewSize) {
  if (access("/usr/bin/xsetroot", X_OK) != 0 || access("/usr/bin/xrandr", X_OK) != 0)
    GTEST_SKIP() << "xsetroot or xrandr is not available";
  Xvfb parent(80, 99, "1920x1080x24");
  if (!parent.running()) GTEST_SKIP() << "Xvfb is not available";
  if (access("/usr/bin/Xephyr", X_OK) != 0) GTEST_SKIP() << "Xephyr is not available (xserver-xephyr)";
  Xvfb screen(Xvfb::Nested{parent.display(), "1280x720"});
  ASSERT_TRUE(screen.running()) << "Xephyr is installed but did not start on " << parent.display();
  auto run = [&](const std::vector<std::string>& argv) {
    Subprocess p(argv, {"DISPLAY=" + screen.display()});
    return p.wait(10000);
  };
  ASSERT_EQ(run({"/usr/bin/xsetroot", "-solid", "#336699"}), 0);
  X11Source src(screen.display(), {});
  std::string error;
  ASSERT_TRUE(src.open(error)) << error;
  Frame f;
  ASSERT_NE(src.capture(f, error), CaptureResult::Error) << error;
  EXPECT_EQ(f.widthPx, 1280);
  EXPECT_EQ(f.heightPx, 720);
  EXPECT_EQ(pixelAt(f, 640, 360), 0x336699u);

  for (auto [w, h, colour] : {std::tuple{800, 600, 0xC04010u}, std::tuple{1600, 1200, 0x20A040u}}) {
    SCOPED_TRACE(std::to_string(w) + "x" + std::to_string(h));
    ASSERT_EQ(run({"/usr/bin/xrandr", "-s", std::to_string(w) + "x" + std::to_string(h)}), 0);
    char solid[16];
    std::snprintf(solid, sizeof solid, "#%06X", colour);
    ASSERT_EQ(run({"/usr/bin/xsetroot", "-solid", solid}), 0);
    // The root's ConfigureNotify comes as an event: a capture or two may pass before it.
    bool reinit = false;
    for (int i = 0; i < 50 && (f.widthPx != w || f.heightPx != h); ++i) {
      const CaptureResult r = src.capture(f, error);
      ASSERT_NE(r, CaptureResult::Error) << error;
      ASSERT_NE(r, CaptureResult::Ended) << error;
      reinit = reinit || r == CaptureResult::Reinit;
      if (f.widthPx != w) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_TRUE(reinit);
    ASSERT_EQ(f.widthPx, w);
    ASSERT_EQ(f.heightPx, h);
    EXPECT_GE(f.strideBytes, w * 4);
    // The new colour may be a capture behind the size: a few more looks, bounded.
    for (int i = 0; i < 50 && pixelAt(f, w - 1, h - 1) != colour; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      ASSERT_NE(src.capture(f, error), CaptureResult::Error) << error;
    }
    for (auto [x, y] : {std::pair{0, 0}, std::pair{w - 1, h - 1}, std::pair{w / 2, h / 2}})
      EXPECT_EQ(pixelAt(f, x, y), colour) << x << "," << y;
  }
}

namespace {
// True once someone else holds the pointer grab on `dpy`'s screen (the picker is ready).
bool pointerIsGrabbed(Display* dpy) {
  for (int i = 0; i < 250; ++i) {
    const int r = XGrabPointer(dpy, DefaultRootWindow(dpy), False, 0, GrabModeAsync, GrabModeAsync, 0, 0, CurrentTime);
    if (r == AlreadyGrabbed) return true;
    if (r == GrabSuccess) XUngrabPointer(dpy, CurrentTime);
    XSync(dpy, False);
    usleep(20'000);
  }
  return false;
}

bool runXdotool(const Xvfb& xvfb, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"/usr/bin/xdotool"};
  argv.insert(argv.end(), args.begin(), args.end());
  Subprocess p(argv, {"DISPLAY=" + xvfb.display()});
  return p.wait(10000) == 0;
}
}  // namespace

// Picking a region by hand: a drag is the region (whichever way it goes), Esc cancels, and
// the owner can stop a pick that nobody finishes.
TEST(X11RegionPicker, ADragPicksTheRegionAndEscCancels) {
  if (access("/usr/bin/xdotool", X_OK) != 0) GTEST_SKIP() << "xdotool is not available";
  Xvfb xvfb(80, 99, "800x600x24");
  if (!xvfb.running()) GTEST_SKIP() << "Xvfb is not available";
  Display* dpy = XOpenDisplay(xvfb.display().c_str());
  ASSERT_NE(dpy, nullptr);
  std::atomic<bool> stop{false};
  ScreenRect picked;
  std::string error;
  PickResult result = PickResult::Failed;
  std::thread picker([&] { result = pickX11Region(xvfb.display(), picked, error, stop); });
  ASSERT_TRUE(pointerIsGrabbed(dpy));
  // From the bottom right to the top left: the region is the same either way.
  EXPECT_TRUE(runXdotool(xvfb, {"mousemove", "420", "330", "mousedown", "1", "mousemove", "300", "250", "mousemove",
                                "100", "120", "mouseup", "1"}));
  picker.join();
  EXPECT_EQ(result, PickResult::Picked) << error;
  EXPECT_EQ(picked.x, 100);
  EXPECT_EQ(picked.y, 120);
  EXPECT_EQ(picked.w, 320);
  EXPECT_EQ(picked.h, 210);

  result = PickResult::Failed;
  std::thread escaped([&] { result = pickX11Region(xvfb.display(), picked, error, stop); });
  ASSERT_TRUE(pointerIsGrabbed(dpy));
  EXPECT_TRUE(runXdotool(xvfb, {"mousemove", "50", "50", "click", "1", "key", "Escape"}));  // a click picks nothing
  escaped.join();
  EXPECT_EQ(result, PickResult::Cancelled);

  result = PickResult::Failed;
  std::thread stopped([&] { result = pickX11Region(xvfb.display(), picked, error, stop); });
  ASSERT_TRUE(pointerIsGrabbed(dpy));
  stop = true;
  stopped.join();
  EXPECT_EQ(result, PickResult::Cancelled);
  XCloseDisplay(dpy);
}

// The border around a shared region: just outside it (never in the shared pixels), above
// other windows without a frame, and clicks go through it.
TEST(X11RegionPicker, TheBorderIsOutsideTheRegionAndLetsClicksThrough) {
  Xvfb xvfb(80, 99, "800x600x24");
  if (!xvfb.running()) GTEST_SKIP() << "Xvfb is not available";
  X11RegionBorder border;
  std::string error;
  ASSERT_TRUE(border.show(xvfb.display(), {200, 150, 400, 300}, error)) << error;
  EXPECT_TRUE(border.shown());

  X11Source whole(xvfb.display(), {});
  ASSERT_TRUE(whole.open(error)) << error;
  Frame f;
  ASSERT_NE(whole.capture(f, error), CaptureResult::Error) << error;
  for (auto [x, y] : {std::pair{199, 149}, std::pair{600, 450}, std::pair{197, 300}, std::pair{602, 300}})
    EXPECT_EQ(pixelAt(f, x, y), 0xFF8C1Au) << x << "," << y;
  for (auto [x, y] : {std::pair{200, 150}, std::pair{599, 449}, std::pair{196, 300}, std::pair{603, 300}})
    EXPECT_NE(pixelAt(f, x, y), 0xFF8C1Au) << x << "," << y;

  Display* dpy = XOpenDisplay(xvfb.display().c_str());
  ASSERT_NE(dpy, nullptr);
  Window rootReturn = 0, parent = 0, *children = nullptr;
  unsigned n = 0;
  ASSERT_TRUE(XQueryTree(dpy, DefaultRootWindow(dpy), &rootReturn, &parent, &children, &n));
  int sides = 0;
  for (unsigned i = 0; i < n; ++i) {
    XWindowAttributes attrs{};
    XGetWindowAttributes(dpy, children[i], &attrs);
    if (attrs.map_state != IsViewable) continue;
    ++sides;
    EXPECT_TRUE(attrs.override_redirect);
    int count = -1, ordering = 0;
    XRectangle* input = XShapeGetRectangles(dpy, children[i], ShapeInput, &count, &ordering);
    EXPECT_EQ(count, 0) << "the border takes clicks";
    if (input) XFree(input);
  }
  if (children) XFree(children);
  EXPECT_EQ(sides, 4);
  border.hide();
  EXPECT_FALSE(border.shown());
  XCloseDisplay(dpy);
}

// Viewers' pointers on the sharer's real screen: a round dot in the person's colour centred
// where they point, with a name tag; moved, taken away when gone, and never in the way of a
// click.
TEST(X11PointerOverlay, DotsSitWherePeoplePointAndGoWhenTheyStop) {
  Xvfb xvfb(80, 99, "800x600x24");
  if (!xvfb.running()) GTEST_SKIP() << "Xvfb is not available";
  X11PointerOverlay overlay;
  std::string error;
  ASSERT_TRUE(overlay.update(xvfb.display(), {{7, 200, 150, 0x3CB44B, "dave"}, {9, 600, 400, 0xE6194B, "zoë"}}, error))
      << error;
  EXPECT_EQ(overlay.shown(), 2u);
  X11Source whole(xvfb.display(), {});
  ASSERT_TRUE(whole.open(error)) << error;
  Frame f;
  ASSERT_NE(whole.capture(f, error), CaptureResult::Error) << error;
  EXPECT_EQ(pixelAt(f, 200, 150), 0x3CB44Bu);
  EXPECT_EQ(pixelAt(f, 600, 400), 0xE6194Bu);
  EXPECT_NE(pixelAt(f, 200 - 9, 150 - 9), 0x3CB44Bu) << "the dot is round, not a square";
  EXPECT_EQ(pixelAt(f, 215, 160), 0x202020u) << "the name tag beside the dot";

  Display* dpy = XOpenDisplay(xvfb.display().c_str());
  ASSERT_NE(dpy, nullptr);
  Window rootReturn = 0, parent = 0, *children = nullptr;
  unsigned n = 0;
  ASSERT_TRUE(XQueryTree(dpy, DefaultRootWindow(dpy), &rootReturn, &parent, &children, &n));
  EXPECT_EQ(n, 4u);  // two dots, two tags
  for (unsigned i = 0; i < n; ++i) {
    int count = -1, ordering = 0;
    XRectangle* input = XShapeGetRectangles(dpy, children[i], ShapeInput, &count, &ordering);
    EXPECT_EQ(count, 0) << "a pointer marker takes clicks";
    if (input) XFree(input);
  }
  if (children) XFree(children);
  XCloseDisplay(dpy);

  // Dave moves, zoë stops pointing.
  ASSERT_TRUE(overlay.update(xvfb.display(), {{7, 300, 250, 0x3CB44B, "dave"}}, error)) << error;
  EXPECT_EQ(overlay.shown(), 1u);
  for (int i = 0; i < 50 && pixelAt(f, 300, 250) != 0x3CB44Bu; ++i) {
    usleep(10'000);
    ASSERT_NE(whole.capture(f, error), CaptureResult::Error) << error;
  }
  EXPECT_EQ(pixelAt(f, 300, 250), 0x3CB44Bu);
  EXPECT_NE(pixelAt(f, 200, 150), 0x3CB44Bu);
  EXPECT_NE(pixelAt(f, 600, 400), 0xE6194Bu);
  ASSERT_TRUE(overlay.update(xvfb.display(), {}, error)) << error;
  EXPECT_EQ(overlay.shown(), 0u);

  // Relative to a shared window: its top-left corner wherever it is; none once it is gone.
  Display* d2 = XOpenDisplay(xvfb.display().c_str());
  ASSERT_NE(d2, nullptr);
  X11TestWindow doc(d2, "Notes", 100, 80, 300, 200);
  ASSERT_TRUE(overlay.update(xvfb.display(), {{7, 50, 40, 0x3CB44B, "dave"}}, error, doc.win)) << error;
  for (int i = 0; i < 50 && pixelAt(f, 150, 120) != 0x3CB44Bu; ++i) {
    usleep(10'000);
    ASSERT_NE(whole.capture(f, error), CaptureResult::Error) << error;
  }
  EXPECT_EQ(pixelAt(f, 150, 120), 0x3CB44Bu);
  XDestroyWindow(d2, doc.win);
  XSync(d2, False);
  ASSERT_TRUE(overlay.update(xvfb.display(), {{7, 50, 40, 0x3CB44B, "dave"}}, error, doc.win)) << error;
  EXPECT_EQ(overlay.shown(), 0u);
  XCloseDisplay(d2);
}

// A window's application icon, listed beside its title: the size nearest 32x32 of those it
// gives, as RGBA; a size that does not fit the data stops the reading there.
TEST(X11Capture, AWindowsIconIsListedWithIt) {
  Xvfb xvfb(80, 99, "800x600x24");
  if (!xvfb.running()) GTEST_SKIP() << "Xvfb is not available";
  Display* dpy = XOpenDisplay(xvfb.display().c_str());
  ASSERT_NE(dpy, nullptr);
  X11TestWindow app(dpy, "Slides", 10, 10, 200, 100);
  X11TestWindow plain(dpy, "Notes", 300, 10, 200, 100);
  std::vector<unsigned long> icons;
  auto add = [&](unsigned long side, unsigned long argb) {
    icons.push_back(side);
    icons.push_back(side);
    icons.insert(icons.end(), side * side, argb);
  };
  add(16, 0xFF0000FF);  // opaque blue
  add(48, 0x80FF0000);  // half-transparent red: nearest 32 after...
  add(30, 0xFF00FF00);  // ...this opaque green, which is nearer
  icons.push_back(4096);  // then a size the data does not hold
  icons.push_back(4096);
  XChangeProperty(dpy, app.win, XInternAtom(dpy, "_NET_WM_ICON", False), XA_CARDINAL, 32, PropModeReplace,
                  reinterpret_cast<const unsigned char*>(icons.data()), static_cast<int>(icons.size()));
  XSync(dpy, False);
  std::string error;
  const std::vector<X11Window> listed = listX11Windows(xvfb.display(), error);
  ASSERT_EQ(listed.size(), 2u) << error;
  EXPECT_EQ(listed[0].title, "Slides");
  ASSERT_EQ(listed[0].iconW, 30);
  ASSERT_EQ(listed[0].iconH, 30);
  ASSERT_EQ(listed[0].iconRgba.size(), 30u * 30 * 4);
  EXPECT_EQ(listed[0].iconRgba[0], 0);
  EXPECT_EQ(listed[0].iconRgba[1], 0xFF);
  EXPECT_EQ(listed[0].iconRgba[2], 0);
  EXPECT_EQ(listed[0].iconRgba[3], 0xFF);
  EXPECT_EQ(listed[1].title, "Notes");
  EXPECT_EQ(listed[1].iconW, 0);
  EXPECT_TRUE(listed[1].iconRgba.empty());
  XCloseDisplay(dpy);
}

// With a compositor running (xcompmgr), the markers are translucent: windows of a 32-bit
// visual, which the screen shows blended with what is under them.
TEST(X11PointerOverlay, UnderACompositorTheMarkersAreTranslucent) {
  if (access("/usr/bin/xcompmgr", X_OK) != 0) GTEST_SKIP() << "xcompmgr is not available";
  Xvfb xvfb(80, 99, "800x600x24");
  if (!xvfb.running()) GTEST_SKIP() << "Xvfb is not available";
  Display* dpy = XOpenDisplay(xvfb.display().c_str());
  ASSERT_NE(dpy, nullptr);
  Subprocess compositor({"/usr/bin/xcompmgr"}, {"DISPLAY=" + xvfb.display()});
  const Atom cm = XInternAtom(dpy, "_NET_WM_CM_S0", False);
  for (int i = 0; i < 250 && XGetSelectionOwner(dpy, cm) == None; ++i) usleep(20'000);
  ASSERT_NE(XGetSelectionOwner(dpy, cm), static_cast<Window>(None)) << "xcompmgr did not start";

  X11PointerOverlay overlay;
  std::string error;
  ASSERT_TRUE(overlay.update(xvfb.display(), {{7, 200, 150, 0x3CB44B, "dave"}}, error)) << error;
  EXPECT_TRUE(overlay.translucent());
  Window rootReturn = 0, parent = 0, *children = nullptr;
  unsigned n = 0;
  ASSERT_TRUE(XQueryTree(dpy, DefaultRootWindow(dpy), &rootReturn, &parent, &children, &n));
  int argb = 0;
  for (unsigned i = 0; i < n; ++i) {
    XWindowAttributes attrs{};
    XGetWindowAttributes(dpy, children[i], &attrs);
    if (attrs.override_redirect && attrs.map_state == IsViewable) argb += attrs.depth == 32;
  }
  if (children) XFree(children);
  EXPECT_EQ(argb, 2);  // the dot and its tag
  // On the screen: dave's green, blended with the black under it (3/4 of it, as premultiplied).
  X11Source whole(xvfb.display(), {});
  ASSERT_TRUE(whole.open(error)) << error;
  Frame f;
  std::uint32_t seen = 0;
  for (int i = 0; i < 100 && (seen == 0 || seen == 0x3CB44Bu); ++i) {
    usleep(20'000);
    if (whole.capture(f, error) != CaptureResult::Error) seen = pixelAt(f, 200, 150);
  }
  const std::uint32_t under = pixelAt(f, 170, 120);  // beside the dot: what is under it
  for (int shift : {16, 8, 0}) {
    const double alpha = 0xC0 / 255.0;
    const double want = ((0x3CB44Bu >> shift) & 0xFF) * alpha + ((under >> shift) & 0xFF) * (1 - alpha);
    EXPECT_NEAR(double((seen >> shift) & 0xFF), want, 2.5) << std::hex << seen << " over " << under;
  }
  overlay.update(xvfb.display(), {}, error);
  compositor.signal(SIGTERM);
  compositor.wait(5000);
  XCloseDisplay(dpy);
}
