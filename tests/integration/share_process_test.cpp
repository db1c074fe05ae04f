// The binary's screen features driven as a user would: a headless host shares the test
// scene (or one window of a private X server), headless viewers watch it (--watch/--stats-json)
// and save it (--snapshot), a client shares its own screen to another client through the host.
#include <gtest/gtest.h>
#include <stb_image.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "capture/synthetic_source.h"
#include "tests/support/host_output.h"
#include "tests/support/subprocess.h"
#include "tests/support/x11_test_window.h"  // after gtest (Xlib's macros)
#include "tests/support/xvfb.h"

using huddle::test::Subprocess;

namespace {

std::string chatAddress(const std::string& hostOutput) { return huddle::test::loopbackInvite(hostOutput); }

std::string tempPath(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("huddle-share-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A number from the flat JSON the viewer writes ("key": 12.5); -1 if absent.
double jsonNumber(const std::string& json, const std::string& key) {
  std::smatch m;
  if (!std::regex_search(json, m, std::regex("\"" + key + "\": ([0-9.]+)"))) return -1;
  return std::stod(m[1]);
}

// A host sharing a small test scene, ready for viewers.
struct SharingHost {
  Subprocess process;
  std::string address;
  explicit SharingHost(const std::string& motion, const std::string& cursor = "moving",
                       std::vector<std::string> extra = {})
      : process([&] {
          std::vector<std::string> args{HUDDLE_BINARY, "--host", "--headless", "--name", "alice", "--chat-port", "0",
                                        "--screen-port", "0", "--share", "synthetic", "--scene-size", "320x200",
                                        "--scene-motion", motion, "--scene-cursor", cursor, "--fps", "20", "--quality", "90"};
          args.insert(args.end(), extra.begin(), extra.end());
          return args;
        }()) {}
  bool ready() {
    if (!process.waitForOutput("* Sharing: ", 15000)) return false;
    address = chatAddress(process.output());
    return !address.empty();
  }
};

struct Cleanup {
  ~Cleanup() { std::filesystem::remove_all(std::filesystem::path(tempPath("x")).parent_path()); }
};

}  // namespace

TEST(ShareBinary, HeadlessViewerWatchesAndWritesStatsJson) {
  Cleanup cleanup;
  SharingHost host("partial");
  ASSERT_TRUE(host.ready()) << host.process.output();
  std::string json = tempPath("stats.json");
  Subprocess viewer({HUDDLE_BINARY, "--join", host.address, "--name", "vic", "--watch", "--seconds", "2",
                     "--stats-json", json});
  EXPECT_EQ(viewer.wait(30000), 0) << viewer.output();
  EXPECT_NE(viewer.output().find("shared by alice, 320x200"), std::string::npos) << viewer.output();
  std::string stats = readFile(json);
  ASSERT_FALSE(stats.empty()) << viewer.output();
  EXPECT_EQ(jsonNumber(stats, "width"), 320) << stats;
  EXPECT_EQ(jsonNumber(stats, "height"), 200) << stats;
  EXPECT_GE(jsonNumber(stats, "seconds"), 2.0) << stats;
  // The partial scene changes every frame at 20 fps; two seconds must bring several updates.
  EXPECT_GE(jsonNumber(stats, "updates"), 5) << stats;
  EXPECT_GT(jsonNumber(stats, "bytes"), 0) << stats;
  EXPECT_EQ(jsonNumber(stats, "decode_errors"), 0) << stats;
  EXPECT_GE(jsonNumber(stats, "samples"), 5) << stats;
  host.process.signal(SIGTERM);
  EXPECT_EQ(host.process.wait(10000), 0);
}

TEST(ShareBinary, SnapshotSavesTheSharedSceneAsPng) {
  Cleanup cleanup;
  SharingHost host("static");
  ASSERT_TRUE(host.ready()) << host.process.output();
  std::string png = tempPath("shot.png");
  Subprocess viewer({HUDDLE_BINARY, "--join", host.address, "--headless", "--snapshot", png});
  EXPECT_EQ(viewer.wait(30000), 0) << viewer.output();
  EXPECT_NE(viewer.output().find("Saved " + png), std::string::npos) << viewer.output();
  int w = 0, h = 0, n = 0;
  unsigned char* rgb = stbi_load(png.c_str(), &w, &h, &n, 3);
  ASSERT_NE(rgb, nullptr) << viewer.output();
  EXPECT_EQ(w, 320);
  EXPECT_EQ(h, 200);
  // The scene's known colours must be there, as JPEG at quality 90 keeps them (within a few
  // levels): count pixels near the title-bar blue and the window white.
  auto near = [](const unsigned char* p, std::uint32_t bgrx) {
    int r = (bgrx >> 16) & 0xFF, g = (bgrx >> 8) & 0xFF, b = bgrx & 0xFF;
    return std::abs(p[0] - r) < 12 && std::abs(p[1] - g) < 12 && std::abs(p[2] - b) < 12;
  };
  int title = 0, window = 0;
  for (int i = 0; i < w * h; ++i) {
    title += near(rgb + 3 * i, huddle::capture::kSceneTitleBar);
    window += near(rgb + 3 * i, huddle::capture::kSceneWindow);
  }
  stbi_image_free(rgb);
  EXPECT_GT(title, 200);
  EXPECT_GT(window, 2000);
  host.process.signal(SIGTERM);
  EXPECT_EQ(host.process.wait(10000), 0);
}

// --snapshot-cursor draws the sharer's cursor into the PNG where it is (the scene's still
// arrow: its body pixels exactly, as it is composited after decoding); without it, no cursor.
TEST(ShareBinary, SnapshotCursorDrawsTheSharersCursorIntoThePng) {
  Cleanup cleanup;
  SharingHost host("static", "still");
  ASSERT_TRUE(host.ready()) << host.process.output();
  const huddle::base::CursorPos at = huddle::capture::SyntheticSource::cursorAt(320, 200, huddle::capture::SceneCursor::Still, 0);
  auto shoot = [&](const std::string& name, bool withCursor, int& bodyPixels) {
    const std::string png = tempPath(name);
    std::vector<std::string> args = {HUDDLE_BINARY, "--join", host.address, "--headless", "--snapshot", png};
    if (withCursor) args.push_back("--snapshot-cursor");
    Subprocess viewer(args);
    ASSERT_EQ(viewer.wait(30000), 0) << viewer.output();
    int w = 0, h = 0, n = 0;
    unsigned char* rgb = stbi_load(png.c_str(), &w, &h, &n, 3);
    ASSERT_NE(rgb, nullptr) << viewer.output();
    // The arrow's body, a few pixels inside the tip: (1..3, 6..8) from the hot spot.
    bodyPixels = 0;
    for (int dy = 6; dy <= 8; ++dy)
      for (int dx = 1; dx <= 3; ++dx) {
        const unsigned char* p = rgb + 3 * (std::size_t(at.y + dy) * w + at.x + dx);
        bodyPixels += p[0] == 0xFF && p[1] == 0x00 && p[2] == 0xFF;
      }
    stbi_image_free(rgb);
  };
  int with = 0, without = 0;
  shoot("with.png", true, with);
  shoot("without.png", false, without);
  EXPECT_EQ(with, 9) << "the cursor's body is not at its place in the snapshot";
  EXPECT_EQ(without, 0);
  host.process.signal(SIGTERM);
  EXPECT_EQ(host.process.wait(10000), 0);
}

TEST(ShareBinary, AfterTheSceneGoesStillTheViewersImageIsTheSourcesPixelsExactly) {
  // The settling scene moves (JPEG) for its first frames, then stays still: sharp when still
  // (on by default) resends it losslessly, and the viewer's snapshot, taken once the image is
  // sharp, is the scene byte for byte (PNG is lossless too).
  Cleanup cleanup;
  SharingHost host("settle");
  ASSERT_TRUE(host.ready()) << host.process.output();
  std::string png = tempPath("sharp.png"), json = tempPath("sharp.json");
  Subprocess viewer({HUDDLE_BINARY, "--join", host.address, "--headless", "--snapshot", png, "--snapshot-when-sharp"});
  Subprocess watcher({HUDDLE_BINARY, "--join", host.address, "--name", "wes", "--watch", "--seconds", "3",
                      "--stats-json", json});
  EXPECT_EQ(viewer.wait(30000), 0) << viewer.output();
  int w = 0, h = 0, n = 0;
  unsigned char* rgb = stbi_load(png.c_str(), &w, &h, &n, 3);
  ASSERT_NE(rgb, nullptr) << viewer.output();
  ASSERT_EQ(w, 320);
  ASSERT_EQ(h, 200);
  std::vector<std::uint8_t> expected;
  huddle::capture::SyntheticSource::render(320, 200, huddle::capture::SceneMotion::Settle,
                                           huddle::capture::kSettleFrames - 1, expected);
  int differing = 0;
  for (int i = 0; i < w * h; ++i)
    differing += rgb[3 * i] != expected[4 * i + 2] || rgb[3 * i + 1] != expected[4 * i + 1] ||
                 rgb[3 * i + 2] != expected[4 * i];
  stbi_image_free(rgb);
  EXPECT_EQ(differing, 0) << "pixels differ from the source's";
  // The watcher's figures say so too: sharp, with the lossless bytes it took.
  EXPECT_EQ(watcher.wait(30000), 0) << watcher.output();
  std::string stats = readFile(json);
  EXPECT_EQ(jsonNumber(stats, "sharp"), 1) << stats;
  EXPECT_EQ(jsonNumber(stats, "lossy_tiles"), 0) << stats;
  EXPECT_GT(jsonNumber(stats, "lossless_bytes"), 0) << stats;
  EXPECT_GE(jsonNumber(stats, "ms_to_sharp"), 0) << stats;
  EXPECT_EQ(jsonNumber(stats, "decode_errors"), 0) << stats;
  host.process.signal(SIGTERM);
  EXPECT_EQ(host.process.wait(10000), 0);
}

TEST(ShareBinary, WithSharpWhenStillOffTheStillImageStaysJpeg) {
  Cleanup cleanup;
  Subprocess host({HUDDLE_BINARY, "--host", "--headless", "--name", "alice", "--chat-port", "0", "--screen-port", "0",
                   "--share", "synthetic", "--scene-size", "320x200", "--scene-motion", "static", "--fps", "20",
                   "--sharp-when-still", "off", "--still-ms", "50"});
  ASSERT_TRUE(host.waitForOutput("* Sharing: ", 15000)) << host.output();
  std::string json = tempPath("jpeg.json");
  Subprocess watcher({HUDDLE_BINARY, "--join", chatAddress(host.output()), "--watch", "--seconds", "2",
                      "--stats-json", json});
  EXPECT_EQ(watcher.wait(30000), 0) << watcher.output();
  std::string stats = readFile(json);
  EXPECT_EQ(jsonNumber(stats, "sharp"), 0) << stats;
  EXPECT_GT(jsonNumber(stats, "lossy_tiles"), 0) << stats;
  EXPECT_EQ(jsonNumber(stats, "lossless_bytes"), 0) << stats;
  EXPECT_EQ(jsonNumber(stats, "updates"), 1) << stats;
  host.signal(SIGTERM);
  EXPECT_EQ(host.wait(10000), 0);
}

TEST(ShareBinary, SnapshotToAnUnwritablePlaceFailsClearly) {
  SharingHost host("static");
  ASSERT_TRUE(host.ready()) << host.process.output();
  Subprocess viewer({HUDDLE_BINARY, "--join", host.address, "--snapshot", "/nonexistent-dir/shot.png"});
  EXPECT_EQ(viewer.wait(30000), 1) << viewer.output();
  EXPECT_NE(viewer.output().find("Cannot save the snapshot"), std::string::npos) << viewer.output();
  host.process.signal(SIGTERM);
  EXPECT_EQ(host.process.wait(10000), 0);
}

TEST(ShareBinary, AClientSharesAndAnotherWatchesThroughTheHost) {
  Cleanup cleanup;
  Subprocess host({HUDDLE_BINARY, "--host", "--headless", "--chat-port", "0", "--screen-port", "0"});
  ASSERT_TRUE(host.waitForOutput("Ctrl+C ends the session", 10000)) << host.output();
  std::string address = chatAddress(host.output());
  Subprocess bob({HUDDLE_BINARY, "--join", address, "--headless", "--name", "bob", "--share", "synthetic",
                  "--scene-size", "200x120", "--scene-motion", "full", "--fps", "15"});
  ASSERT_TRUE(bob.waitForOutput("* Sharing: ", 15000)) << bob.output();
  std::string json = tempPath("bob.json");
  Subprocess carol({HUDDLE_BINARY, "--join", address, "--name", "carol", "--watch", "--seconds", "1.5",
                    "--stats-json", json});
  EXPECT_EQ(carol.wait(30000), 0) << carol.output();
  EXPECT_NE(carol.output().find("shared by bob, 200x120"), std::string::npos) << carol.output();
  std::string stats = readFile(json);
  EXPECT_GE(jsonNumber(stats, "updates"), 3) << stats;
  // bob keeps sharing after stdin closes; a signal ends him cleanly, and the host too.
  bob.signal(SIGTERM);
  EXPECT_EQ(bob.wait(10000), 0) << bob.output();
  host.signal(SIGTERM);
  EXPECT_EQ(host.wait(10000), 0);
}

// --point from a script: a viewer watching with --stats-json lists the pointer of another
// client (who, where) while it is held.
TEST(ShareBinary, APointFromAScriptIsListedInAnotherViewersStatsJson) {
  Cleanup cleanup;
  SharingHost host("static", "none");
  ASSERT_TRUE(host.ready()) << host.process.output();
  Subprocess dave({HUDDLE_BINARY, "--join", host.address, "--name", "dave", "--point", "123,45", "--seconds", "30"});
  ASSERT_TRUE(dave.waitForOutput("* Pointing at 123,45", 20000)) << dave.output();
  std::string json = tempPath("pointers.json");
  Subprocess vic({HUDDLE_BINARY, "--join", host.address, "--name", "vic", "--watch", "--seconds", "1.5",
                  "--stats-json", json});
  EXPECT_EQ(vic.wait(30000), 0) << vic.output();
  std::string stats = readFile(json);
  EXPECT_NE(stats.find("\"who\": \"dave\""), std::string::npos) << stats;
  EXPECT_EQ(jsonNumber(stats, "x"), 123) << stats;
  EXPECT_EQ(jsonNumber(stats, "y"), 45) << stats;
  EXPECT_EQ(jsonNumber(stats, "held"), 1) << stats;
  dave.signal(SIGTERM);
  EXPECT_EQ(dave.wait(10000), 0) << dave.output();
  host.process.signal(SIGTERM);
  EXPECT_EQ(host.process.wait(10000), 0);
}

// One window shared by its title through the real binary on a private X server: the viewer's
// image is the window's own pixels, exactly, while another window covers it; when the window
// closes, the share ends and the sharer is told which window it was.
TEST(ShareBinary, OneWindowIsSharedExactlyWhileCoveredAndEndsWhenItCloses) {
  Cleanup cleanup;
  huddle::test::Xvfb xvfb(80, 99, "800x600x24");
  if (!xvfb.running()) GTEST_SKIP() << "Xvfb is not available";
  Display* dpy = XOpenDisplay(xvfb.display().c_str());
  ASSERT_NE(dpy, nullptr);
  huddle::test::X11TestWindow doc(dpy, "Quarterly notes - Editor", 40, 30, 320, 200);
  huddle::test::X11TestWindow cover(dpy, "Mail", 100, 80, 300, 200);
  cover.fill(0xFF0000);
  Subprocess host({HUDDLE_BINARY, "--host", "--headless", "--name", "alice", "--chat-port", "0", "--screen-port", "0",
                   "--share", "window:quarterly", "--fps", "20"},
                  {"DISPLAY=" + xvfb.display()});
  ASSERT_TRUE(host.waitForOutput("* Sharing: ", 15000)) << host.output();
  // Sharing redirects the window, which X answers with an Expose: a program paints itself
  // then, as this test does now.
  doc.paint(0);
  const std::string address = chatAddress(host.output());
  const std::string png = tempPath("window.png");
  Subprocess viewer({HUDDLE_BINARY, "--join", address, "--headless", "--snapshot", png, "--snapshot-when-sharp"});
  EXPECT_EQ(viewer.wait(30000), 0) << viewer.output();
  int w = 0, h = 0, n = 0;
  unsigned char* rgb = stbi_load(png.c_str(), &w, &h, &n, 3);
  ASSERT_NE(rgb, nullptr) << viewer.output();
  EXPECT_EQ(w, 320);
  EXPECT_EQ(h, 200);
  int differing = 0;
  for (int y = 0; y < h && w == 320; ++y)
    for (int x = 0; x < w; ++x) {
      const std::uint32_t want = huddle::test::X11TestWindow::pictureAt(x, y, 0);
      const unsigned char* p = rgb + 3 * (std::size_t(y) * w + x);
      differing += p[0] != (want >> 16 & 0xFF) || p[1] != (want >> 8 & 0xFF) || p[2] != (want & 0xFF);
    }
  stbi_image_free(rgb);
  EXPECT_EQ(differing, 0) << "the viewer's image is not the window's own pixels";

  XDestroyWindow(dpy, doc.win);
  XSync(dpy, False);
  EXPECT_TRUE(host.waitForOutput("Sharing stopped: the shared window \"Quarterly notes - Editor\" closed", 10000))
      << host.output();
  XCloseDisplay(dpy);
  host.signal(SIGTERM);
  EXPECT_EQ(host.wait(10000), 0) << host.output();
}

// --pen from a script: a viewer watching with --stats-json lists the stroke of another client
// (whose, its points, where it starts and ends), drawn again as the last one starts to fade.
TEST(ShareBinary, AStrokeFromAScriptIsListedInAnotherViewersStatsJson) {
  Cleanup cleanup;
  SharingHost host("static", "none");
  ASSERT_TRUE(host.ready()) << host.process.output();
  Subprocess dave({HUDDLE_BINARY, "--join", host.address, "--name", "dave", "--pen", "10,20;100,20;100,150", "--seconds", "30"});
  ASSERT_TRUE(dave.waitForOutput("* Drawing a stroke of 3 points", 20000)) << dave.output();
  std::string json = tempPath("strokes.json");
  Subprocess vic({HUDDLE_BINARY, "--join", host.address, "--name", "vic", "--watch", "--seconds", "3.5",
                  "--stats-json", json});
  EXPECT_EQ(vic.wait(30000), 0) << vic.output();
  std::string stats = readFile(json);
  const auto strokes = stats.find("\"strokes\"");
  ASSERT_NE(strokes, std::string::npos) << stats;
  EXPECT_NE(stats.find("\"who\": \"dave\"", strokes), std::string::npos) << stats;
  EXPECT_NE(stats.find("\"points\": 3", strokes), std::string::npos) << stats;
  EXPECT_NE(stats.find("\"first\": [10, 20], \"last\": [100, 150]", strokes), std::string::npos) << stats;
  dave.signal(SIGTERM);
  EXPECT_EQ(dave.wait(10000), 0) << dave.output();
  host.process.signal(SIGTERM);
  EXPECT_EQ(host.process.wait(10000), 0);
}

// A host sharing with --no-pointers: a viewer's --pen is told it is off, and exits with an error.
TEST(ShareBinary, NoPointersTellsAViewerThatPointingAndDrawingAreOff) {
  Cleanup cleanup;
  SharingHost host("static", "none", {"--no-pointers"});
  ASSERT_TRUE(host.ready()) << host.process.output();
  Subprocess dave({HUDDLE_BINARY, "--join", host.address, "--name", "dave", "--pen", "10,20;100,20", "--seconds", "10"});
  EXPECT_EQ(dave.wait(30000), 1) << dave.output();
  EXPECT_NE(dave.output().find("the sharer does not let viewers point or draw"), std::string::npos) << dave.output();
  host.process.signal(SIGTERM);
  EXPECT_EQ(host.process.wait(10000), 0);
}
