// The window as a person uses it: a client window joins a host, chat typed into the window
// (xdotool) reaches the host, and the window's own screenshot shows a drawn UI; a host
// window shares the test scene and a client window shows it in its viewer (pixel check),
// with chat typed into each window reaching the other.
#include <gtest/gtest.h>

#include <stb_image.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <regex>

#include "capture/synthetic_source.h"
#include "tests/support/host_output.h"
#include "tests/support/subprocess.h"
#include "tests/support/xvfb.h"

using huddle::test::Subprocess;
using huddle::test::Xvfb;

namespace {

std::uint16_t portFrom(const std::string& hostOutput, const char* which) {
  std::smatch m;
  std::regex re(std::string(which) + " port ([0-9]+)");
  if (!std::regex_search(hostOutput, m, re)) return 0;
  return static_cast<std::uint16_t>(std::stoi(m[1]));
}

// Runs xdotool on the test's display; true if it succeeded. Keys that act are held for a
// moment: Dear ImGui 1.86 samples key state once a frame, so a press and release within one
// (a loaded machine) would go unseen. People hold keys longer than a frame anyway.
bool xdotool(const std::string& display, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"/usr/bin/xdotool"};
  argv.insert(argv.end(), args.begin(), args.end());
  Subprocess p(argv, {"DISPLAY=" + display});
  return p.wait(15000) == 0;
}

// A private config folder per test, so nothing depends on (or changes) the user's settings.
std::string privateConfig(const std::string& name) {
  std::string dir = ::testing::TempDir() + "huddle-gui-" + name + "-" + std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  return dir;
}

// Pixels within `tolerance` of a 0xRRGGBB colour, in an RGB image.
int countNear(const unsigned char* rgb, int w, int h, std::uint32_t colour, int tolerance) {
  const int r = (colour >> 16) & 0xFF, g = (colour >> 8) & 0xFF, b = colour & 0xFF;
  int n = 0;
  for (int i = 0; i < w * h; ++i)
    n += std::abs(rgb[3 * i] - r) <= tolerance && std::abs(rgb[3 * i + 1] - g) <= tolerance &&
         std::abs(rgb[3 * i + 2] - b) <= tolerance;
  return n;
}

}  // namespace

TEST(Window, ChatTypedInTheWindowReachesTheHost) {
  Xvfb xvfb;
  if (!xvfb.running()) GTEST_SKIP() << "Xvfb is not available";
  if (access("/usr/bin/xdotool", X_OK) != 0) GTEST_SKIP() << "xdotool is not available";

  Subprocess host({HUDDLE_BINARY, "--host", "--headless", "--name", "alice", "--chat-port", "0", "--screen-port", "0"});
  ASSERT_TRUE(host.waitForOutput("Ctrl+C ends the session", 10000)) << host.output();
  std::uint16_t screenPort = portFrom(host.output(), "screen");
  const std::string invite = huddle::test::loopbackInvite(host.output());
  ASSERT_FALSE(invite.empty()) << host.output();

  std::string shot = ::testing::TempDir() + "huddle_window_test.png";
  std::remove(shot.c_str());
  Subprocess window({HUDDLE_BINARY, "--join", invite, "--screen-port",
                     std::to_string(screenPort), "--name", "bob", "--screenshot", shot, "--screenshot-after", "5",
                     "--quit-after", "7"},
                    {"DISPLAY=" + xvfb.display(), "XDG_CONFIG_HOME=" + privateConfig("chat")});
  ASSERT_TRUE(window.started());
  ASSERT_TRUE(host.waitForOutput("* bob joined", 10000)) << host.output();

  // The chat input has keyboard focus once joined (the window says so on stdout); type into
  // the real window.
  ASSERT_TRUE(window.waitForOutput("Joined the session", 10000)) << window.output();
  ASSERT_TRUE(xdotool(xvfb.display(), {"search", "--sync", "--name", "bob in", "windowfocus", "--sync", "sleep", "0.3"}));
  ASSERT_TRUE(xdotool(xvfb.display(), {"type", "--delay", "20", "hello from the window"}));
  ASSERT_TRUE(xdotool(xvfb.display(), {"keydown", "Return", "sleep", "0.15", "keyup", "Return"}));
  EXPECT_TRUE(host.waitForOutput("bob: hello from the window", 10000)) << host.output();
  host.writeLine("hi bob");

  // The window quits by itself after 7 s, leaving the session politely.
  EXPECT_EQ(window.wait(20000), 0);
  EXPECT_TRUE(host.waitForOutput("* bob left", 10000)) << host.output();

  int w = 0, h = 0, n = 0;
  unsigned char* pixels = stbi_load(shot.c_str(), &w, &h, &n, 3);
  ASSERT_NE(pixels, nullptr) << "no screenshot at " << shot;
  EXPECT_GE(w, 640);
  EXPECT_GE(h, 400);
  // A drawn UI: many distinct colours (panels, text, buttons), not a blank or black frame.
  std::vector<bool> seen(1 << 15, false);
  int distinct = 0;
  for (int i = 0; i < w * h; ++i) {
    int key = (pixels[i * 3] >> 3) << 10 | (pixels[i * 3 + 1] >> 3) << 5 | (pixels[i * 3 + 2] >> 3);
    if (!seen[static_cast<std::size_t>(key)]) seen[static_cast<std::size_t>(key)] = true, ++distinct;
  }
  stbi_image_free(pixels);
  EXPECT_GT(distinct, 20);
  host.signal(SIGTERM);
  EXPECT_EQ(host.wait(10000), 0);
}

TEST(Window, HostWindowSharesAndClientWindowShowsItWithChatBothWays) {
  Xvfb xvfb;
  if (!xvfb.running()) GTEST_SKIP() << "Xvfb is not available";
  if (access("/usr/bin/xdotool", X_OK) != 0) GTEST_SKIP() << "xdotool is not available";
  const std::string env = "DISPLAY=" + xvfb.display();
  // A still scene, so the viewer shows exactly the scene's colours when the shot is taken.
  Subprocess host({HUDDLE_BINARY, "--host", "--name", "alice", "--chat-port", "0", "--screen-port", "0", "--share",
                   "synthetic", "--scene-motion", "static", "--quality", "90", "--quit-after", "40"},
                  {env, "XDG_CONFIG_HOME=" + privateConfig("host")});
  ASSERT_TRUE(host.waitForOutput("huddle://127.0.0.1:", 15000)) << host.output();
  const std::string invite = huddle::test::loopbackInvite(host.output());
  ASSERT_FALSE(invite.empty()) << host.output();

  std::string shot = ::testing::TempDir() + "huddle_viewer_test.png";
  std::remove(shot.c_str());
  Subprocess client({HUDDLE_BINARY, "--join", invite, "--name", "bob", "--watch",
                     "--screenshot", shot, "--screenshot-after", "6", "--quit-after", "30"},
                    {env, "XDG_CONFIG_HOME=" + privateConfig("client")});
  ASSERT_TRUE(host.waitForOutput("* bob joined", 15000)) << host.output();

  // Chat typed into the client window reaches the host window, and back. The window has
  // joined (and focused its chat input) once it says so on stdout.
  ASSERT_TRUE(client.waitForOutput("Joined the session", 10000)) << client.output();
  ASSERT_TRUE(xdotool(xvfb.display(), {"search", "--sync", "--name", "bob in", "windowfocus", "--sync", "sleep", "0.3"}));
  ASSERT_TRUE(xdotool(xvfb.display(), {"type", "--delay", "20", "hello alice"}));
  ASSERT_TRUE(xdotool(xvfb.display(), {"keydown", "Return", "sleep", "0.15", "keyup", "Return"}));
  EXPECT_TRUE(host.waitForOutput("bob: hello alice", 10000)) << host.output() << "\n--- client:\n" << client.output();
  ASSERT_TRUE(xdotool(xvfb.display(), {"search", "--sync", "--name", "hosting as alice", "windowfocus", "--sync", "sleep", "0.3"}));
  ASSERT_TRUE(xdotool(xvfb.display(), {"type", "--delay", "20", "hi bob"}));
  ASSERT_TRUE(xdotool(xvfb.display(), {"keydown", "Return", "sleep", "0.15", "keyup", "Return"}));
  EXPECT_TRUE(client.waitForOutput("alice: hi bob", 10000)) << client.output();

  // The client's own screenshot: its viewer shows the scene's windows and the red box.
  ASSERT_TRUE(client.waitForOutput("saved the window", 20000)) << client.output();
  client.signal(SIGTERM);
  EXPECT_EQ(client.wait(15000), 0);
  int w = 0, h = 0, n = 0;
  unsigned char* rgb = stbi_load(shot.c_str(), &w, &h, &n, 3);
  ASSERT_NE(rgb, nullptr) << "no screenshot at " << shot;
  const int windowWhite = countNear(rgb, w, h, huddle::capture::kSceneWindow & 0xFFFFFF, 6);
  const int accent = countNear(rgb, w, h, huddle::capture::kSceneAccent & 0xFFFFFF, 16);
  stbi_image_free(rgb);
  EXPECT_GT(windowWhite, 10000) << "the viewer does not show the scene's windows";
  EXPECT_GT(accent, 150) << "the viewer does not show the scene's red box";

  // Closing the host ends the session for the client as well.
  host.signal(SIGTERM);
  EXPECT_EQ(host.wait(15000), 0);
}

TEST(Window, DraggingATabDocksItAndTheLayoutIsRemembered) {
  Xvfb xvfb;
  if (!xvfb.running()) GTEST_SKIP() << "Xvfb is not available";
  if (access("/usr/bin/xdotool", X_OK) != 0) GTEST_SKIP() << "xdotool is not available";
  const std::string display = xvfb.display();
  const std::string config = privateConfig("dock");
  Subprocess window({HUDDLE_BINARY, "--quit-after", "8"}, {"DISPLAY=" + display, "XDG_CONFIG_HOME=" + config});
  // The window at the screen's corner, focused, so screen and window coordinates agree.
  ASSERT_TRUE(xdotool(display, {"search", "--sync", "--name", "^Huddle$", "windowmove", "--sync", "0", "0"}));
  ASSERT_TRUE(xdotool(display, {"search", "--name", "^Huddle$", "windowfocus", "--sync"}));
  // The standard layout puts the Stats tab third in the side column (about x=175, y=40 at
  // 1280x800); drag it to the bottom edge of the screens area and let go.
  ASSERT_TRUE(xdotool(display, {"sleep", "1", "mousemove", "175", "40", "sleep", "0.5", "mousedown", "1", "sleep", "0.3", "mousemove", "200", "80",
                                "sleep", "0.15", "mousemove", "400", "400", "sleep", "0.15", "mousemove", "640", "700",
                                "sleep", "0.15", "mousemove", "640", "720", "sleep", "0.3", "mouseup", "1"}));
  EXPECT_EQ(window.wait(20000), 0);
  std::ifstream in(config + "/huddle/layout.txt");
  std::stringstream text;
  text << in.rdbuf();
  // Stats now has a leaf of its own, below the screens (a vertical split), and the side
  // column kept the rest.
  EXPECT_NE(text.str().find("split v"), std::string::npos) << text.str();
  EXPECT_NE(text.str().find("leaf 0 screens\nleaf 0 stats\n"), std::string::npos) << text.str();
  EXPECT_NE(text.str().find("leaf 0 connection share\n"), std::string::npos) << text.str();
}

TEST(Window, AClientWindowReconnectsAndSaysWhatWasTypedMeanwhile) {
  Xvfb xvfb;
  if (!xvfb.running()) GTEST_SKIP() << "Xvfb is not available";
  if (access("/usr/bin/xdotool", X_OK) != 0) GTEST_SKIP() << "xdotool is not available";
  const std::string hostConfig = privateConfig("rehost");
  auto startHost = [&](const std::string& port) {
    return std::make_unique<Subprocess>(
        std::vector<std::string>{HUDDLE_BINARY, "--host", "--headless", "--name", "alice", "--chat-port", port,
                                 "--screen-port", "0"},
        std::vector<std::string>{"XDG_CONFIG_HOME=" + hostConfig});
  };
  auto host = startHost("0");
  ASSERT_TRUE(host->waitForOutput("Ctrl+C ends the session", 10000)) << host->output();
  const std::string invite = huddle::test::loopbackInvite(host->output());
  const std::string port = std::to_string(portFrom(host->output(), "Chat"));
  Subprocess window({HUDDLE_BINARY, "--join", invite, "--name", "bob", "--quit-after", "30"},
                    {"DISPLAY=" + xvfb.display(), "XDG_CONFIG_HOME=" + privateConfig("rewindow")});
  ASSERT_TRUE(host->waitForOutput("* bob joined", 10000)) << host->output();

  host->signal(SIGKILL);
  host->wait(5000);
  ASSERT_TRUE(window.waitForOutput("Reconnecting", 10000)) << window.output();
  // Typed into the window while the host is gone: kept, and said once it is back.
  // The pause lets the window take the focus in before the first key (else it can be lost).
  ASSERT_TRUE(xdotool(xvfb.display(), {"search", "--sync", "--name", "bob in", "windowfocus", "--sync", "sleep", "0.3"}));
  ASSERT_TRUE(xdotool(xvfb.display(), {"type", "--delay", "20", "said while away"}));
  ASSERT_TRUE(xdotool(xvfb.display(), {"keydown", "Return", "sleep", "0.15", "keyup", "Return"}));
  ASSERT_TRUE(window.waitForOutput("will be said when the host is back", 10000)) << window.output();
  host = startHost(port);
  ASSERT_TRUE(host->waitForOutput("* bob joined", 15000)) << host->output();
  ASSERT_TRUE(host->waitForOutput("bob: said while away", 10000)) << host->output();
  const std::string out = host->output();
  EXPECT_EQ(out.find("said while away"), out.rfind("said while away"));
  window.signal(SIGTERM);
  EXPECT_EQ(window.wait(15000), 0);
  host->signal(SIGTERM);
  EXPECT_EQ(host->wait(10000), 0);
}
