// The window as a person uses it: a client window joins a host, chat typed into the window
// (xdotool) reaches the host, and the window's own screenshot shows a drawn UI; a host
// window shares the test scene and a client window shows it in its viewer (pixel check),
// with chat typed into each window reaching the other.
#include <gtest/gtest.h>

#include <openssl/evp.h>
#include <stb_image.h>

#include <array>
#include <chrono>
#include <csignal>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <regex>
#include <thread>

#include "app/session/participant_colour.h"
#include "capture/synthetic_source.h"
#include "tests/support/file_sender.h"
#include "tests/support/free_port.h"
#include "tests/support/host_output.h"
#include "tests/support/subprocess.h"
#include "tests/support/xdotool.h"
#include "tests/support/xvfb.h"

using huddle::test::Subprocess;
using huddle::test::Xvfb;
using huddle::test::focusWindow;
using huddle::test::xdotool;

namespace {

// Every window these tests start draws on one thread of llvmpipe (its default is a thread a
// core): a window test runs beside another suite's test, and leaves it the other core.
const bool kOneDrawingThread = setenv("LP_NUM_THREADS", "1", 0) == 0;

std::uint16_t portFrom(const std::string& hostOutput, const char* which) {
  std::smatch m;
  std::regex re(std::string(which) + " port ([0-9]+)");
  if (!std::regex_search(hostOutput, m, re)) return 0;
  return static_cast<std::uint16_t>(std::stoi(m[1]));
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
  ASSERT_TRUE(focusWindow(xvfb.display(), "bob in"));
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
  ASSERT_TRUE(focusWindow(xvfb.display(), "bob in"));
  ASSERT_TRUE(xdotool(xvfb.display(), {"type", "--delay", "20", "hello alice"}));
  ASSERT_TRUE(xdotool(xvfb.display(), {"keydown", "Return", "sleep", "0.15", "keyup", "Return"}));
  EXPECT_TRUE(host.waitForOutput("bob: hello alice", 10000)) << host.output() << "\n--- client:\n" << client.output();
  ASSERT_TRUE(focusWindow(xvfb.display(), "hosting as alice"));
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
  ASSERT_TRUE(focusWindow(display, "^Huddle$"));
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
  // The host comes back on the same port: one no other test's connection can take meanwhile.
  const std::string port = std::to_string(huddle::test::portOutsideEphemeralRange());
  auto host = startHost(port);
  ASSERT_TRUE(host->waitForOutput("Ctrl+C ends the session", 10000)) << host->output();
  const std::string invite = huddle::test::loopbackInvite(host->output());
  Subprocess window({HUDDLE_BINARY, "--join", invite, "--name", "bob", "--quit-after", "30"},
                    {"DISPLAY=" + xvfb.display(), "XDG_CONFIG_HOME=" + privateConfig("rewindow")});
  ASSERT_TRUE(host->waitForOutput("* bob joined", 10000)) << host->output();
  // And the window has the host's welcome: the host says "joined" as it queues it, and killed
  // before it went out, the window saw a join that failed, not a session to reconnect to.
  ASSERT_TRUE(window.waitForOutput("Joined the session of alice", 10000)) << window.output();

  host->signal(SIGKILL);
  host->wait(5000);
  ASSERT_TRUE(window.waitForOutput("Reconnecting", 10000)) << window.output();
  // Typed into the window while the host is gone: kept, and said once it is back.
  // The pause lets the window take the focus in before the first key (else it can be lost).
  ASSERT_TRUE(focusWindow(xvfb.display(), "bob in"));
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

// xdotool's own speed (no --delay, plain `key`): keys pressed and released within a frame, and
// lines typed faster than frames. Each Enter must still end its line.
TEST(Window, FastKeyTapsOfEnterEndEachLine) {
  Xvfb xvfb;
  if (!xvfb.running()) GTEST_SKIP() << "Xvfb is not available";
  if (access("/usr/bin/xdotool", X_OK) != 0) GTEST_SKIP() << "xdotool is not available";
  Subprocess window({HUDDLE_BINARY, "--host", "--name", "alice", "--chat-port", "0", "--screen-port", "0", "--quit-after", "40"},
                    {"DISPLAY=" + xvfb.display(), "XDG_CONFIG_HOME=" + privateConfig("taps")});
  ASSERT_TRUE(window.waitForOutput("* alice joined", 15000)) << window.output();
  ASSERT_TRUE(focusWindow(xvfb.display(), "hosting as alice"));
  // Typed as fast as xdotool goes: a newline in `type` is X11's Linefeed key.
  ASSERT_TRUE(xdotool(xvfb.display(), {"type", "--delay", "1", "bulk 1\nbulk 2\nbulk 3\n"}));
  // Default taps of Enter between lines.
  ASSERT_TRUE(xdotool(xvfb.display(), {"type", "tap 1"}));
  ASSERT_TRUE(xdotool(xvfb.display(), {"key", "Return"}));
  ASSERT_TRUE(xdotool(xvfb.display(), {"type", "tap 2"}));
  // Enter pressed and released back to back (both between two frames), the next line at once.
  // Its Enter comes from another xdotool: GLFW drops a second press of a key with the same X
  // timestamp (millisecond) as the one before, taking it for a duplicate from the input method.
  ASSERT_TRUE(xdotool(xvfb.display(), {"keydown", "--delay", "0", "Return", "keyup", "--delay", "0", "Return", "key",
                                       "--delay", "0", "t", "a", "p", "space", "3"}));
  ASSERT_TRUE(xdotool(xvfb.display(), {"key", "Return"}));
  EXPECT_TRUE(window.waitForOutput("alice: tap 3", 10000)) << window.output();
  const std::string out = window.output();
  for (const char* line : {"bulk 1\n", "bulk 2\n", "bulk 3\n", "tap 1\n", "tap 2\n", "tap 3\n"})
    EXPECT_NE(out.find(std::string("alice: ") + line), std::string::npos) << line << "\n" << out;
  window.signal(SIGTERM);
  EXPECT_EQ(window.wait(15000), 0);
}

// F3 (overlay), F11 (fullscreen) and Esc (leave it) tapped faster than a frame: each acts once.
TEST(Window, ShortTapsOfF3F11AndEscAct) {
  Xvfb xvfb;
  if (!xvfb.running()) GTEST_SKIP() << "Xvfb is not available";
  if (access("/usr/bin/xdotool", X_OK) != 0) GTEST_SKIP() << "xdotool is not available";
  const std::string display = xvfb.display();
  Subprocess host({HUDDLE_BINARY, "--host", "--headless", "--name", "alice", "--chat-port", "0", "--screen-port", "0",
                   "--share", "synthetic", "--scene-size", "640x360", "--scene-motion", "static", "--fps", "5"});
  ASSERT_TRUE(host.waitForOutput("Ctrl+C ends the session", 10000)) << host.output();
  const std::string invite = huddle::test::loopbackInvite(host.output());
  const std::string config = privateConfig("fkeys");
  Subprocess window({HUDDLE_BINARY, "--join", invite, "--screen-port", std::to_string(portFrom(host.output(), "screen")),
                     "--name", "bob", "--watch", "--quit-after", "40"},
                    {"DISPLAY=" + display, "XDG_CONFIG_HOME=" + config});
  ASSERT_TRUE(window.waitForOutput("Joined the session", 15000)) << window.output();
  ASSERT_TRUE(xdotool(display, {"search", "--sync", "--name", "bob in", "windowmove", "--sync", "0", "0"}));
  ASSERT_TRUE(focusWindow(display, "bob in"));
  // The viewer fills the screens column; the pointer rests on it (F3 and F11 act on the
  // viewer under the pointer).
  ASSERT_TRUE(xdotool(display, {"sleep", "1.5", "mousemove", "640", "400", "sleep", "0.5"}));
  auto windowWidth = [&] {
    std::vector<std::string> argv = {"/usr/bin/xdotool", "search", "--name", "bob in", "getwindowgeometry", "--shell"};
    Subprocess p(argv, {"DISPLAY=" + display});
    p.wait(10000);
    std::smatch m;
    const std::string out = p.output();
    return std::regex_search(out, m, std::regex("WIDTH=([0-9]+)")) ? std::stoi(m[1]) : -1;
  };
  auto waitForWidth = [&](int want) {
    for (int i = 0; i < 100; ++i) {
      if (windowWidth() == want) return true;
      usleep(100 * 1000);
    }
    return false;
  };
  ASSERT_TRUE(waitForWidth(1280));
  // Pressed and released back to back: both reach the window between two of its frames.
  ASSERT_TRUE(xdotool(display, {"keydown", "--delay", "0", "F3", "keyup", "--delay", "0", "F3"}));
  ASSERT_TRUE(xdotool(display, {"keydown", "--delay", "0", "F11", "keyup", "--delay", "0", "F11"}));
  EXPECT_TRUE(waitForWidth(1920)) << "F11 did not make the viewer fullscreen";
  ASSERT_TRUE(xdotool(display, {"keydown", "--delay", "0", "Escape", "keyup", "--delay", "0", "Escape"}));
  EXPECT_TRUE(waitForWidth(1280)) << "Esc did not leave fullscreen";
  window.signal(SIGTERM);
  EXPECT_EQ(window.wait(15000), 0);
  // The overlay switch is remembered: one F3 tap turned it off.
  std::ifstream in(config + "/huddle/settings.ini");
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_NE(text.str().find("overlay = off"), std::string::npos) << text.str();
  host.signal(SIGTERM);
  EXPECT_EQ(host.wait(10000), 0);
}

// Text in several scripts from a terminal client shows in the host's window with real glyphs
// (the window says what its font atlas holds with its screenshot, and the emoji is in colour),
// and an emoji typed into the window reaches the others as itself, not U+FFFD.
TEST(Window, TextInManyScriptsShowsAndEmojiAreSentAsThemselves) {
  Xvfb xvfb;
  if (!xvfb.running()) GTEST_SKIP() << "Xvfb is not available";
  if (access("/usr/bin/xdotool", X_OK) != 0) GTEST_SKIP() << "xdotool is not available";
  const std::string shot = ::testing::TempDir() + "huddle_scripts_test.png";
  std::remove(shot.c_str());
  Subprocess window({HUDDLE_BINARY, "--host", "--name", "alice", "--chat-port", "0", "--screen-port", "0", "--screenshot",
                     shot, "--screenshot-after", "6", "--quit-after", "40"},
                    {"DISPLAY=" + xvfb.display(), "XDG_CONFIG_HOME=" + privateConfig("scripts")});
  ASSERT_TRUE(window.waitForOutput("* alice joined", 15000)) << window.output();
  const std::string invite = huddle::test::loopbackInvite(window.output());
  Subprocess client({HUDDLE_BINARY, "--join", invite, "--headless", "--name", "bob"});
  ASSERT_TRUE(window.waitForOutput("* bob joined", 10000)) << window.output();
  const std::string text = "€ — “quotes” ✓ 日本語 😀";
  client.writeLine(text);
  ASSERT_TRUE(window.waitForOutput("bob: " + text, 10000)) << window.output();

  ASSERT_TRUE(window.waitForOutput("saved the window", 15000)) << window.output();
  std::smatch m;
  const std::string out = window.output();
  ASSERT_TRUE(std::regex_search(out, m, std::regex("font atlas: ([0-9]+) glyphs \\(([0-9]+) colour\\).*; beyond Latin-1: (.*); no font for: (.*)\n")))
      << out;
  for (const char* c : {"€", "—", "“", "”", "✓", "日", "本", "語", "😀"})
    EXPECT_NE(m[3].str().find(c), std::string::npos) << c << " is not in the atlas: " << m[0];
  EXPECT_EQ(m[4].str(), "nothing");
  EXPECT_GE(std::stoi(m[2]), 1) << "the emoji is not a colour glyph";
  // The emoji's yellow face is on screen (Noto's is about #FCC21B).
  int w = 0, h = 0, n = 0;
  unsigned char* rgb = stbi_load(shot.c_str(), &w, &h, &n, 3);
  ASSERT_NE(rgb, nullptr) << "no screenshot at " << shot;
  const int yellow = countNear(rgb, w, h, 0xFCC21B, 40);
  stbi_image_free(rgb);
  EXPECT_GT(yellow, 20) << "no colour emoji in the window";

  // Typed into the window: xdotool types 😀 by mapping a spare key to it for a moment; slowly,
  // or the key can arrive before the window has seen the new mapping (an X race, not ours).
  ASSERT_TRUE(focusWindow(xvfb.display(), "hosting as alice"));
  ASSERT_TRUE(xdotool(xvfb.display(), {"type", "--delay", "100", "smile 😀 ok"}));
  ASSERT_TRUE(xdotool(xvfb.display(), {"key", "Return"}));
  EXPECT_TRUE(client.waitForOutput("alice: smile 😀 ok", 10000)) << client.output() << "\n--- window:\n" << window.output();
  client.closeStdin();
  EXPECT_EQ(client.wait(10000), 0);
  window.signal(SIGTERM);
  EXPECT_EQ(window.wait(15000), 0);
}

// Esc on the host asks whether to end the session, and the question stays up (it once opened
// and closed in the same frame); Enter then ends it for everyone. The first Esc only leaves
// the chat input, as Esc does in a text field.
TEST(Window, EscOnTheHostAsksAndEnterEndsTheSession) {
  Xvfb xvfb;
  if (!xvfb.running()) GTEST_SKIP() << "Xvfb is not available";
  if (access("/usr/bin/xdotool", X_OK) != 0) GTEST_SKIP() << "xdotool is not available";
  const std::string display = xvfb.display();
  Subprocess window({HUDDLE_BINARY, "--host", "--name", "alice", "--chat-port", "0", "--screen-port", "0",
                     "--quit-after", "40"},
                    {"DISPLAY=" + display, "XDG_CONFIG_HOME=" + privateConfig("esc")});
  ASSERT_TRUE(window.waitForOutput("Joined the session", 15000)) << window.output();
  const std::string invite = huddle::test::loopbackInvite(window.output());
  Subprocess bob({HUDDLE_BINARY, "--join", invite, "--headless", "--name", "bob"});
  ASSERT_TRUE(bob.waitForOutput("as bob", 10000)) << bob.output();
  ASSERT_TRUE(focusWindow(display, "hosting as alice"));
  ASSERT_TRUE(xdotool(display, {"sleep", "0.5", "key", "Escape", "sleep", "0.5", "key", "Escape", "sleep", "0.5"}));
  // Still hosting: the question is up, nothing has ended yet.
  EXPECT_EQ(bob.output().find("ended the session"), std::string::npos) << bob.output();
  ASSERT_TRUE(xdotool(display, {"key", "Return"}));
  EXPECT_TRUE(bob.waitForOutput("The host ended the session.", 10000)) << bob.output() << "\n--- window:\n" << window.output();
  EXPECT_EQ(bob.wait(10000), 0);
  EXPECT_TRUE(window.waitForOutput("You ended the session.", 5000)) << window.output();
  window.signal(SIGTERM);
  EXPECT_EQ(window.wait(15000), 0);
}

// A command typed in the window and the same command typed in the terminal give the same
// answer: both faces hand the line to the same session controller.
TEST(Window, ACommandTypedInTheWindowAnswersAsInTheTerminal) {
  Xvfb xvfb;
  if (!xvfb.running()) GTEST_SKIP() << "Xvfb is not available";
  if (access("/usr/bin/xdotool", X_OK) != 0) GTEST_SKIP() << "xdotool is not available";
  const std::string display = xvfb.display();
  Subprocess host({HUDDLE_BINARY, "--host", "--headless", "--name", "alice", "--chat-port", "0", "--screen-port", "0"});
  ASSERT_TRUE(host.waitForOutput("Ctrl+C ends the session", 10000)) << host.output();
  const std::string invite = huddle::test::loopbackInvite(host.output());
  Subprocess term({HUDDLE_BINARY, "--join", invite, "--headless", "--name", "carol"});
  ASSERT_TRUE(term.waitForOutput("as carol", 10000)) << term.output();
  Subprocess window({HUDDLE_BINARY, "--join", invite, "--name", "dave", "--quit-after", "40"},
                    {"DISPLAY=" + display, "XDG_CONFIG_HOME=" + privateConfig("same")});
  ASSERT_TRUE(window.waitForOutput("as dave", 15000)) << window.output();
  ASSERT_TRUE(focusWindow(display, "dave in"));
  const std::vector<std::string> commands = {"/msg nobody hello", "/kick alice", "/frobnicate", "/password"};
  for (const auto& c : commands) {
    term.writeLine(c);
    ASSERT_TRUE(xdotool(display, {"sleep", "0.3", "type", "--delay", "20", c}));
    ASSERT_TRUE(xdotool(display, {"key", "Return"}));
  }
  // The answers, without their time stamps, in both.
  const std::vector<std::string> answers = {"! No user named \"nobody\" is here.", "! Only the host can remove people.",
                                            "! Unknown command /frobnicate (try /help).",
                                            "! Only the host can change the room password."};
  for (const auto& a : answers) {
    EXPECT_TRUE(term.waitForOutput(a, 10000)) << a << "\n" << term.output();
    EXPECT_TRUE(window.waitForOutput(a, 10000)) << a << "\n" << window.output();
  }
  // /quit in the window leaves: the host sees it, and the window's title says no session.
  ASSERT_TRUE(xdotool(display, {"type", "--delay", "20", "/quit"}));
  ASSERT_TRUE(xdotool(display, {"key", "Return"}));
  EXPECT_TRUE(host.waitForOutput("dave left", 10000)) << host.output();
  EXPECT_TRUE(xdotool(display, {"search", "--sync", "--name", "^Huddle$"})) << "the title still names the session";
  term.closeStdin();
  EXPECT_EQ(term.wait(10000), 0);
  window.signal(SIGTERM);
  EXPECT_EQ(window.wait(15000), 0);
  host.signal(SIGTERM);
  EXPECT_EQ(host.wait(10000), 0);
}

// The window comes back at the size it was closed at.
TEST(Window, ItsSizeIsRemembered) {
  Xvfb xvfb;
  if (!xvfb.running()) GTEST_SKIP() << "Xvfb is not available";
  if (access("/usr/bin/xdotool", X_OK) != 0) GTEST_SKIP() << "xdotool is not available";
  const std::string display = xvfb.display();
  const std::string config = privateConfig("size");
  {
    Subprocess window({HUDDLE_BINARY, "--quit-after", "30"}, {"DISPLAY=" + display, "XDG_CONFIG_HOME=" + config});
    ASSERT_TRUE(xdotool(display, {"search", "--sync", "--name", "Huddle", "windowsize", "--sync", "1000", "700"}));
    ASSERT_TRUE(xdotool(display, {"sleep", "2"}));  // saved a moment after the resize ends
    window.signal(SIGTERM);
    EXPECT_EQ(window.wait(15000), 0);
  }
  std::ifstream in(config + "/huddle/settings.ini");
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_NE(text.str().find("window = 1000 700"), std::string::npos) << text.str();
  const std::string shot = ::testing::TempDir() + "huddle_size_test.png";
  std::remove(shot.c_str());
  Subprocess again({HUDDLE_BINARY, "--screenshot", shot, "--screenshot-after", "1", "--quit-after", "2"},
                   {"DISPLAY=" + display, "XDG_CONFIG_HOME=" + config});
  EXPECT_EQ(again.wait(20000), 0) << again.output();
  int w = 0, h = 0, n = 0;
  unsigned char* rgb = stbi_load(shot.c_str(), &w, &h, &n, 3);
  ASSERT_NE(rgb, nullptr) << again.output();
  stbi_image_free(rgb);
  EXPECT_EQ(w, 1000);
  EXPECT_EQ(h, 700);
}

namespace {
bool near(const unsigned char* p, std::uint32_t colour, int tolerance) {
  return std::abs(p[0] - int((colour >> 16) & 0xFF)) <= tolerance && std::abs(p[1] - int((colour >> 8) & 0xFF)) <= tolerance &&
         std::abs(p[2] - int(colour & 0xFF)) <= tolerance;
}

// Bounding box (x0, y0, x1, y1 inclusive) of the pixels within `tolerance` of a 0xRRGGBB
// colour inside `within`, counting only pixels in a run of `run` such pixels (to their left or
// right): large areas, not text. False if none.
bool boxOf(const unsigned char* rgb, int w, int h, std::uint32_t colour, int tolerance, int run, const int within[4],
           int box[4]) {
  box[0] = w, box[1] = h, box[2] = -1, box[3] = -1;
  auto at = [&](int x, int y) { return near(rgb + 3 * (std::size_t(y) * w + x), colour, tolerance); };
  for (int y = std::max(0, within[1]); y <= std::min(h - 1, within[3]); ++y)
    for (int x = std::max(0, within[0]); x <= std::min(w - 1, within[2]); ++x) {
      if (!at(x, y)) continue;
      bool right = x + run <= w, left = x - run + 1 >= 0;
      for (int k = 1; k < run && (right || left); ++k) {
        right = right && at(x + k, y);
        left = left && at(x - k, y);
      }
      if (!right && !left) continue;
      box[0] = std::min(box[0], x), box[1] = std::min(box[1], y);
      box[2] = std::max(box[2], x), box[3] = std::max(box[3], y);
    }
  return box[2] >= 0;
}

// A client window watching a host's still test scene with a still cursor, its screenshot
// loaded as RGB; `settings` is written to its settings.ini first.
struct CursorShot {
  std::vector<unsigned char> rgb;
  int w = 0, h = 0;
};
CursorShot watchAndShoot(const std::string& display, const std::string& invite, const std::string& name,
                         const std::string& settings) {
  CursorShot out;
  const std::string config = privateConfig(name);
  std::filesystem::create_directories(config + "/huddle");
  if (!settings.empty()) std::ofstream(config + "/huddle/settings.ini") << settings;
  const std::string shot = ::testing::TempDir() + "huddle_cursor_" + name + ".png";
  std::remove(shot.c_str());
  Subprocess client({HUDDLE_BINARY, "--join", invite, "--name", name, "--watch", "--screenshot", shot,
                     "--screenshot-after", "5", "--quit-after", "25"},
                    {"DISPLAY=" + display, "XDG_CONFIG_HOME=" + config});
  EXPECT_TRUE(client.waitForOutput("saved the window", 20000)) << client.output();
  client.signal(SIGTERM);
  client.wait(15000);
  int n = 0;
  unsigned char* rgb = stbi_load(shot.c_str(), &out.w, &out.h, &n, 3);
  if (!rgb) return out;
  out.rgb.assign(rgb, rgb + std::size_t(out.w) * out.h * 3);
  stbi_image_free(rgb);
  return out;
}

// A headless host sharing a still 640x360 test scene (its cursor "still" or "none").
std::vector<std::string> stillSceneHost(const std::string& cursor) {
  return {HUDDLE_BINARY, "--host", "--headless", "--name", "alice", "--chat-port", "0", "--screen-port", "0",
          "--share", "synthetic", "--scene-size", "640x360", "--scene-motion", "static", "--scene-cursor",
          cursor, "--quality", "95", "--subsampling", "444", "--quit-after", "60"};
}

// Where a kW x kH still scene is drawn in a screenshot, and at what scale: the scene's window
// bodies (large areas of their colour) span x from 5% (left window) to 96% (the right one's
// end) of the stream, and the left one's starts just under its title bar.
struct StreamPlace {
  double scale = 0, originX = 0, originY = 0;
};
bool placeScene(const CursorShot& shot, int kW, int kH, StreamPlace& place) {
  const int all[4] = {0, 0, shot.w - 1, shot.h - 1};
  int bodies[4];
  if (!boxOf(shot.rgb.data(), shot.w, shot.h, huddle::capture::kSceneWindow & 0xFFFFFF, 6, 12, all, bodies)) return false;
  const double x0 = kW * 5 / 100, x1 = kW * 54 / 100 + kW * 42 / 100, y0 = kH * 8 / 100 + std::max(6, kH / 40);
  place.scale = (bodies[2] + 1 - bodies[0]) / (x1 - x0);
  place.originX = bodies[0] - x0 * place.scale;
  place.originY = bodies[1] - y0 * place.scale;
  return place.scale > 0.3;
}
}  // namespace

// The sharer's cursor appears in a viewer window, over the stream, where the sharer's is:
// found by its colour, and placed against the scene's title bars in the same screenshot
// (which give the view's scale and offset). With the viewer's Cursor switch off, it is not drawn.
TEST(Window, TheSharersCursorIsDrawnOverTheStreamAtItsPlace) {
  Xvfb xvfb;
  if (!xvfb.running()) GTEST_SKIP() << "Xvfb is not available";
  constexpr int kW = 640, kH = 360;
  Subprocess host(stillSceneHost("still"));
  ASSERT_TRUE(host.waitForOutput("Ctrl+C ends the session", 10000)) << host.output();
  const std::string invite = huddle::test::loopbackInvite(host.output());
  ASSERT_FALSE(invite.empty()) << host.output();

  CursorShot shot = watchAndShoot(xvfb.display(), invite, "bob", "");
  ASSERT_FALSE(shot.rgb.empty()) << "no screenshot";
  StreamPlace place;
  ASSERT_TRUE(placeScene(shot, kW, kH, place)) << "the viewer does not show the stream";
  const double scale = place.scale, originX = place.originX, originY = place.originY, x0 = kW * 5 / 100,
               y0 = kH * 8 / 100 + std::max(6, kH / 40);
  const int all[4] = {0, 0, shot.w - 1, shot.h - 1};
  int arrow[4];
  const int stream[4] = {int(originX), int(originY), int(originX + kW * scale), int(originY + kH * scale)};
  ASSERT_TRUE(boxOf(shot.rgb.data(), shot.w, shot.h, huddle::capture::kSceneCursorFill & 0xFFFFFF, 60, 1, stream, arrow))
      << "no cursor in the viewer";
  // The arrow's tip (its hot spot) is where the scene's cursor is; its magenta body starts
  // just inside the outline, below and right of the tip, and is as tall as the arrow's head
  // (13 rows; the tail's one-pixel middle blurs into its outline when scaled).
  const double tipX = originX + (kW * 27 / 100) * scale, tipY = originY + (kH * 40 / 100) * scale;
  EXPECT_NEAR(arrow[0], tipX + 1 * scale, 2 + 2 * scale) << "scale " << scale;
  EXPECT_NEAR(arrow[1], tipY + 3 * scale, 2 + 2 * scale) << "scale " << scale;
  EXPECT_NEAR(arrow[3] - arrow[1] + 1, 13 * scale, 3 + 3 * scale);

  // Hidden: the same view without the cursor.
  CursorShot hidden = watchAndShoot(xvfb.display(), invite, "carol", "cursor = off\n");
  ASSERT_FALSE(hidden.rgb.empty()) << "no screenshot";
  int seen[4];
  EXPECT_TRUE(boxOf(hidden.rgb.data(), hidden.w, hidden.h, huddle::capture::kSceneWindow & 0xFFFFFF, 6, 12, all, seen))
      << "the viewer does not show the stream";
  const int shown[4] = {seen[0] - int(x0 * scale), seen[1] - int(y0 * scale), seen[0] + int(kW * scale), seen[1] + int(kH * scale)};
  EXPECT_FALSE(boxOf(hidden.rgb.data(), hidden.w, hidden.h, huddle::capture::kSceneCursorFill & 0xFFFFFF, 60, 1, shown, seen))
      << "a cursor is drawn though the viewer hides it";

  host.signal(SIGTERM);
  EXPECT_EQ(host.wait(15000), 0);
}

// A pointer appears in a viewer window where it points: a headless client points at the
// middle of the host's still scene; the viewer's screenshot has a dot in that person's colour
// centred on that stream pixel (placed against the scene's window bodies, as above).
TEST(Window, AnotherPersonsPointerIsDrawnOverTheStreamAtItsPlace) {
  Xvfb xvfb;
  if (!xvfb.running()) GTEST_SKIP() << "Xvfb is not available";
  constexpr int kW = 640, kH = 360, kPx = 320, kPy = 250;
  Subprocess host(stillSceneHost("none"));
  ASSERT_TRUE(host.waitForOutput("Ctrl+C ends the session", 10000)) << host.output();
  const std::string invite = huddle::test::loopbackInvite(host.output());
  ASSERT_FALSE(invite.empty()) << host.output();
  Subprocess dave({HUDDLE_BINARY, "--join", invite, "--name", "dave", "--point",
                   std::to_string(kPx) + "," + std::to_string(kPy), "--seconds", "40"});
  ASSERT_TRUE(dave.waitForOutput("* Pointing at", 20000)) << dave.output();

  CursorShot shot = watchAndShoot(xvfb.display(), invite, "bob", "");
  ASSERT_FALSE(shot.rgb.empty()) << "no screenshot";
  StreamPlace place;
  ASSERT_TRUE(placeScene(shot, kW, kH, place)) << "the viewer does not show the stream";
  const double scale = place.scale, originX = place.originX, originY = place.originY;
  int dot[4];
  // Dave's colour is one of the palette's (his id is the host's to give): look for each in a
  // small square around where he points; the dot (radius 7 px at any scale) fills its middle.
  const double cx = originX + (kPx + 0.5) * scale, cy = originY + (kPy + 0.5) * scale;
  const int around[4] = {int(cx) - 9, int(cy) - 9, int(cx) + 9, int(cy) + 9};
  bool found = false;
  for (std::uint32_t colour : huddle::session::kParticipantPalette) {
    if (!boxOf(shot.rgb.data(), shot.w, shot.h, colour, 12, 6, around, dot)) continue;
    found = true;
    EXPECT_NEAR((dot[0] + dot[2]) / 2.0, cx, 2.5) << std::hex << colour;
    EXPECT_NEAR((dot[1] + dot[3]) / 2.0, cy, 2.5) << std::hex << colour;
    EXPECT_GE(dot[2] - dot[0], 8) << "a dot, not a speck";
    break;
  }
  EXPECT_TRUE(found) << "no pointer dot at (" << cx << "," << cy << "), scale " << scale;
  dave.signal(SIGTERM);
  EXPECT_EQ(dave.wait(15000), 0);
  host.signal(SIGTERM);
  EXPECT_EQ(host.wait(15000), 0);
}

// A pen stroke appears in a viewer window where it was drawn: a headless client draws a
// horizontal stroke across the host's still scene; the viewer's screenshot has a line in that
// person's colour along those stream pixels (placed against the scene's window bodies).
TEST(Window, AnotherPersonsPenStrokeIsDrawnOverTheStreamWhereItWasDrawn) {
  Xvfb xvfb;
  if (!xvfb.running()) GTEST_SKIP() << "Xvfb is not available";
  constexpr int kW = 640, kH = 360, kX0 = 100, kX1 = 400, kY = 300;
  Subprocess host(stillSceneHost("none"));
  ASSERT_TRUE(host.waitForOutput("Ctrl+C ends the session", 10000)) << host.output();
  const std::string invite = huddle::test::loopbackInvite(host.output());
  ASSERT_FALSE(invite.empty()) << host.output();
  const std::string stroke = std::to_string(kX0) + "," + std::to_string(kY) + ";" + std::to_string(kX1) + "," + std::to_string(kY);
  Subprocess dave({HUDDLE_BINARY, "--join", invite, "--name", "dave", "--pen", stroke, "--seconds", "40"});
  ASSERT_TRUE(dave.waitForOutput("* Drawing a stroke", 20000)) << dave.output();

  CursorShot shot = watchAndShoot(xvfb.display(), invite, "bob", "");
  ASSERT_FALSE(shot.rgb.empty()) << "no screenshot";
  StreamPlace place;
  ASSERT_TRUE(placeScene(shot, kW, kH, place)) << "the viewer does not show the stream";
  const double scale = place.scale, originX = place.originX, originY = place.originY;
  int line[4];
  // Dave's colour is one of the palette's: a long horizontal run of it along row kY, from
  // about kX0 to kX1 (the line's round ends and edge aside).
  const double cy = originY + (kY + 0.5) * scale;
  const int around[4] = {int(originX + (kX0 - 20) * scale), int(cy) - 6, int(originX + (kX1 + 20) * scale), int(cy) + 6};
  bool found = false;
  for (std::uint32_t colour : huddle::session::kParticipantPalette) {
    if (!boxOf(shot.rgb.data(), shot.w, shot.h, colour, 16, 12, around, line)) continue;
    found = true;
    EXPECT_NEAR(line[0], originX + kX0 * scale, 4 + 2 * scale) << std::hex << colour;
    EXPECT_NEAR(line[2], originX + kX1 * scale, 4 + 2 * scale) << std::hex << colour;
    EXPECT_NEAR((line[1] + line[3]) / 2.0, cy, 2.5);
    EXPECT_LE(line[3] - line[1], 6) << "a line, not a band";
    break;
  }
  EXPECT_TRUE(found) << "no stroke along row " << cy << ", scale " << scale;
  dave.signal(SIGTERM);
  EXPECT_EQ(dave.wait(15000), 0);
  host.signal(SIGTERM);
  EXPECT_EQ(host.wait(15000), 0);
}

namespace {

// Voice in the window: a headless alice talks (a tone on SDL's disk driver), bob's window is
// in the voice; its screenshot shows the speaking dot before alice's name (its exact colour).
TEST(Window, TheUserListMarksWhoIsSpeaking) {
  Xvfb xvfb;
  if (!xvfb.running()) GTEST_SKIP() << "Xvfb is not available";
  const std::string dir = ::testing::TempDir();
  const std::string mic = dir + "huddle_voice_tone.raw", quiet = dir + "huddle_voice_quiet.raw";
  {
    std::vector<std::int16_t> tone(48000 * 20);
    for (std::size_t i = 0; i < tone.size(); ++i) tone[i] = static_cast<std::int16_t>(8000 * std::sin(i * 2 * M_PI * 300 / 48000));
    std::ofstream(mic, std::ios::binary).write(reinterpret_cast<const char*>(tone.data()),
                                               static_cast<std::streamsize>(tone.size() * 2));
    std::ofstream(quiet, std::ios::binary).flush();
  }
  auto disk = [&](const std::string& in, const std::string& out) {
    return std::vector<std::string>{"SDL_AUDIODRIVER=disk", "SDL_DISKAUDIOFILEIN=" + in, "SDL_DISKAUDIOFILE=" + out,
                                    "DISPLAY=" + xvfb.display()};
  };
  Subprocess host({HUDDLE_BINARY, "--host", "--headless", "--name", "host", "--chat-port", "0", "--screen-port", "0",
                   "--voice-port", "0"});
  ASSERT_TRUE(host.waitForOutput("Ctrl+C ends the session", 10000)) << host.output();
  const std::string invite = huddle::test::loopbackInvite(host.output());
  Subprocess alice({HUDDLE_BINARY, "--join", invite, "--headless", "--name", "alice", "--voice"},
                   disk(mic, dir + "huddle_voice_alice_out.raw"));
  ASSERT_TRUE(alice.waitForOutput("Voice connected", 15000)) << alice.output();
  const std::string shot = dir + "huddle_voice_window.png";
  std::filesystem::remove(shot);
  Subprocess window({HUDDLE_BINARY, "--join", invite, "--name", "bob", "--voice", "--screenshot", shot,
                     "--screenshot-after", "5", "--quit-after", "7"},
                    disk(quiet, dir + "huddle_voice_bob_out.raw"));
  EXPECT_EQ(window.wait(30000), 0) << window.output();
  alice.signal(SIGTERM);
  EXPECT_EQ(alice.wait(10000), 0);
  host.signal(SIGTERM);
  EXPECT_EQ(host.wait(10000), 0);

  int w = 0, h = 0, n = 0;
  unsigned char* rgb = stbi_load(shot.c_str(), &w, &h, &n, 3);
  ASSERT_NE(rgb, nullptr) << "no screenshot at " << shot << "\n" << window.output();
  int dot = 0;  // app/ui/chat_panel.cpp's kSpeakingColour, 90,220,120
  for (int i = 0; i < w * h; ++i) dot += rgb[i * 3] == 90 && rgb[i * 3 + 1] == 220 && rgb[i * 3 + 2] == 120;
  stbi_image_free(rgb);
  EXPECT_GT(dot, 10) << window.output();
}

// The RGB pixels of a screenshot the window saved.
struct Shot {
  std::vector<unsigned char> rgb;
  int w = 0, h = 0;
  bool load(const std::string& path) {
    int n = 0;
    unsigned char* p = stbi_load(path.c_str(), &w, &h, &n, 3);
    if (!p) return false;
    rgb.assign(p, p + std::size_t(w) * h * 3);
    stbi_image_free(p);
    return true;
  }
};

// Asks the window for a screenshot now (SIGUSR2) and loads it: the `n`th it saved.
bool shootNow(Subprocess& window, const std::string& path, int n, Shot& shot) {
  std::filesystem::remove(path);
  window.signal(SIGUSR2);
  return window.waitForCount("saved the window to " + path, static_cast<std::size_t>(n), 10000) && shot.load(path);
}

// The first row of buttons (StyleColorsDark's Button over the window, about #23456D) from the
// top of `within`: its box. In the chat panel's lower half that is the files strip's Accept
// and Decline (the input line's Send buttons are below it).
bool firstButtonRow(const Shot& s, const int within[4], int box[4]) {
  constexpr std::uint32_t kButton = 0x23456D;
  box[0] = s.w, box[1] = -1, box[2] = -1, box[3] = -1;
  for (int y = std::max(0, within[1]); y <= std::min(s.h - 1, within[3]); ++y) {
    // A row starts at a run of 8 button pixels; it goes on while rows have a run of 3 (the
    // labels' rows keep some of the button's colour around their letters).
    int run = 0, first = -1, last = -1;
    const int need = box[1] < 0 ? 8 : 3;
    for (int x = std::max(0, within[0]); x <= std::min(s.w - 1, within[2]); ++x) {
      run = near(&s.rgb[3 * (std::size_t(y) * s.w + x)], kButton, 14) ? run + 1 : 0;
      if (run == need && first < 0) first = x - need + 1;
      if (run >= need) last = x;
    }
    if (first < 0) {
      if (box[1] >= 0) return true;  // the row ended
      continue;
    }
    if (box[1] < 0) box[1] = y;
    box[0] = std::min(box[0], first), box[2] = std::max(box[2], last), box[3] = y;
  }
  return box[1] >= 0;
}

// Pixels within `tolerance` of a colour inside a box.
int countIn(const Shot& s, const int box[4], std::uint32_t colour, int tolerance) {
  int n = 0;
  for (int y = std::max(0, box[1]); y <= std::min(s.h - 1, box[3]); ++y)
    for (int x = std::max(0, box[0]); x <= std::min(s.w - 1, box[2]); ++x)
      n += near(&s.rgb[3 * (std::size_t(y) * s.w + x)], colour, tolerance);
  return n;
}

}  // namespace

// The files strip as a person meets it: a file offered to the window's user shows Accept and
// Decline with who offers what and its size; a click on Accept shows the file arriving as a
// progress bar (the sender holds the second half back meanwhile); then the received line.
TEST(Window, AnOfferedFileIsAcceptedInTheStripShowsProgressThenArrives) {
  Xvfb xvfb;
  if (!xvfb.running()) GTEST_SKIP() << "Xvfb is not available";
  if (access("/usr/bin/xdotool", X_OK) != 0) GTEST_SKIP() << "xdotool is not available";
  const std::string display = xvfb.display();
  Subprocess host({HUDDLE_BINARY, "--host", "--headless", "--name", "alice", "--chat-port", "0", "--screen-port", "0",
                   "--voice-port", "0"});
  ASSERT_TRUE(host.waitForOutput("Ctrl+C ends the session", 10000)) << host.output();
  const std::string invite = huddle::test::loopbackInvite(host.output());
  const std::string home = privateConfig("files");  // the window's HOME: files go to its Downloads
  const std::string shotPath = ::testing::TempDir() + "huddle_files_window.png";
  Subprocess window({HUDDLE_BINARY, "--join", invite, "--name", "bob", "--screenshot", shotPath, "--screenshot-after",
                     "1000", "--quit-after", "60"},
                    {"DISPLAY=" + display, "XDG_CONFIG_HOME=" + home + "/config", "HOME=" + home});
  ASSERT_TRUE(window.waitForOutput("Joined the session", 15000)) << window.output();
  ASSERT_TRUE(xdotool(display, {"search", "--sync", "--name", "bob in", "windowmove", "--sync", "0", "0"}));
  ASSERT_TRUE(focusWindow(display, "bob in"));
  Shot before;
  ASSERT_TRUE(shootNow(window, shotPath, 1, before)) << window.output();

  auto sam = huddle::test::scriptedSender(invite, "sam");
  for (int i = 0; i < 100 && !sam->joined(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_TRUE(sam->joined());
  sam->data.resize(1u << 20);
  for (std::size_t i = 0; i < sam->data.size(); ++i) sam->data[i] = static_cast<std::uint8_t>(i * 13 + i / 977);
  sam->serveBelow = 512u << 10;
  sam->holdBeyond = true;
  huddle::wire::Sha256 sha{};
  unsigned shaLen = 0;
  EVP_Digest(sam->data.data(), sam->data.size(), sha.data(), &shaLen, EVP_sha256(), nullptr);
  sam->offer(1, "holiday photos.tar", sha);
  ASSERT_TRUE(window.waitForOutput("sam offers holiday photos.tar (1.0 MiB)", 10000)) << window.output();
  Shot offered;
  ASSERT_TRUE(shootNow(window, shotPath, 2, offered)) << window.output();
  // The chat panel is the right part of the window (the standard layout at 1280x800); its
  // lower half holds the strip and, below it, the input line.
  const int panel[4] = {offered.w * 3 / 4, offered.h / 2, offered.w - 1, offered.h - 1};
  int none[4];
  EXPECT_TRUE(firstButtonRow(before, panel, none));  // Send and Send file... only
  int buttons[4];
  ASSERT_TRUE(firstButtonRow(offered, panel, buttons)) << "no Accept/Decline";
  EXPECT_LT(buttons[3], none[1]) << "the strip's buttons are not above the input line";
  EXPECT_GT(buttons[2] - buttons[0], 60) << "Accept and Decline side by side";
  // A narrow panel: who offers what and its size are on the line under the buttons, whole
  // (text-coloured pixels there), not cut beside them.
  const float lineH = static_cast<float>(buttons[3] - buttons[1]);
  const int under[4] = {buttons[0], buttons[3] + 2, offered.w - 12, buttons[3] + static_cast<int>(lineH * 1.5f)};
  EXPECT_GT(lineH, 10.0f) << "the buttons' row";
  EXPECT_GT(countIn(offered, under, 0xFFFFFF, 60), 50) << "no text under the buttons";
  EXPECT_EQ(countIn(before, under, 0xFFFFFF, 60), 0);

  // A click on Accept: the file arrives; the sender holds its second half back, so the strip
  // shows it part-way (a progress bar, StyleColorsDark's #E6B300 fill). The strip grows
  // upwards as its rows need: it is looked for from the panel's middle down.
  const int ax = buttons[0] + 10, ay = (buttons[1] + buttons[3]) / 2;
  ASSERT_TRUE(xdotool(display, {"mousemove", std::to_string(ax), std::to_string(ay), "sleep", "0.3", "click", "1"}));
  ASSERT_TRUE(window.waitForOutput("Receiving holiday photos.tar into " + home + "/Downloads", 10000)) << window.output();
  for (int i = 0; i < 100 && sam->heldCount() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_GT(sam->heldCount(), 0u);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the first half's last pieces drawn
  Shot receiving;
  ASSERT_TRUE(shootNow(window, shotPath, 3, receiving)) << window.output();
  const int strip[4] = {panel[0], panel[1], panel[2], none[1] - 2};
  EXPECT_EQ(countIn(offered, strip, 0xE6B300, 30), 0);
  EXPECT_GT(countIn(receiving, strip, 0xE6B300, 30), 200) << "no progress bar in the strip";
  // Its text (name, sender, how far, size) does not fit on the bar there: it is above it.
  int bar[4];
  ASSERT_TRUE(boxOf(receiving.rgb.data(), receiving.w, receiving.h, 0xE6B300, 30, 8, strip, bar));
  const int above[4] = {strip[0], bar[1] - static_cast<int>(lineH * 3), strip[2], bar[1] - 2};
  EXPECT_GT(countIn(receiving, above, 0xFFFFFF, 60), 50) << "no text above the bar";

  // The rest: the received line, and the strip is gone.
  sam->serveBelow = ~0ull;
  sam->releaseHeld();
  ASSERT_TRUE(window.waitForOutput("Received holiday photos.tar from sam (1.0 MiB, SHA-256 checked): " + home +
                                       "/Downloads/holiday photos.tar",
                                   20000))
      << window.output();
  Shot done;
  ASSERT_TRUE(shootNow(window, shotPath, 4, done)) << window.output();
  EXPECT_EQ(countIn(done, strip, 0xE6B300, 30), 0);
  int after[4];
  ASSERT_TRUE(firstButtonRow(done, panel, after));
  EXPECT_EQ(after[1], none[1]) << "the strip is still there";
  std::ifstream got(home + "/Downloads/holiday photos.tar", std::ios::binary);
  EXPECT_TRUE(std::vector<std::uint8_t>(std::istreambuf_iterator<char>(got), {}) == sam->data);
  sam->leave();
  window.signal(SIGTERM);
  EXPECT_EQ(window.wait(15000), 0);
  host.signal(SIGTERM);
  EXPECT_EQ(host.wait(10000), 0);
}

namespace {
// A host's `scene` (a panel of it changing, its cursor moving) watched fullscreen in a window
// on a 1920x1080 screen; the host is then stopped (SIGSTOP), and the X screen, the sum of many
// partial frames, is compared with the window's own whole frame.
void partsShowWhatAWholeFrameShows(const std::string& scene) {
  Xvfb xvfb;
  if (!xvfb.running()) GTEST_SKIP() << "Xvfb is not available";
  Subprocess host({HUDDLE_BINARY, "--host", "--headless", "--name", "alice", "--chat-port", "0", "--screen-port", "0",
                   "--share", "synthetic", "--scene-size", scene, "--scene-motion", "partial", "--fps", "20",
                   "--quit-after", "60"});
  ASSERT_TRUE(host.waitForOutput("Ctrl+C ends the session", 10000)) << host.output();
  const std::string invite = huddle::test::loopbackInvite(host.output());
  ASSERT_FALSE(invite.empty()) << host.output();
  const std::string config = privateConfig("parts");
  std::filesystem::create_directories(config + "/huddle");
  std::ofstream(config + "/huddle/settings.ini") << "overlay = off\n";  // figures that change by themselves
  const std::string shot = ::testing::TempDir() + "huddle_parts_whole_" + scene + ".png";
  const std::string screen = ::testing::TempDir() + "huddle_parts_screen_" + scene + ".png";
  Subprocess window({HUDDLE_BINARY, "--join", invite, "--name", "bob", "--watch", "--screenshot", shot,
                     "--screenshot-after", "1000", "--quit-after", "45"},
                    {"DISPLAY=" + xvfb.display(), "XDG_CONFIG_HOME=" + config});
  ASSERT_TRUE(window.waitForOutput("Joined the session", 15000)) << window.output();
  std::this_thread::sleep_for(std::chrono::seconds(3));
  ASSERT_TRUE(focusWindow(xvfb.display(), "Huddle"));
  ASSERT_TRUE(xdotool(xvfb.display(), {"keydown", "F11", "sleep", "0.1", "keyup", "F11"}));
  std::this_thread::sleep_for(std::chrono::seconds(3));
  window.signal(SIGUSR1);
  ASSERT_TRUE(window.waitForOutput("redraws in parts", 5000)) << window.output();
  std::smatch m;
  const std::string out = window.output();
  ASSERT_TRUE(std::regex_search(out, m, std::regex(R"(([0-9]+) redraws in parts \(([a-z ]+)\))")));
  if (m[2] != "parts shown") {
    window.signal(SIGTERM);
    host.signal(SIGTERM);
    GTEST_SKIP() << "this GL shows whole frames only (parts are for software renderers)";
  }
  EXPECT_GE(std::stoi(m[1]), 10) << "the window did not draw in parts";
  if (access("/usr/bin/import", X_OK) != 0) {
    window.signal(SIGTERM);
    host.signal(SIGTERM);
    GTEST_SKIP() << "no ImageMagick import to read the screen";
  }

  ::kill(host.pid(), SIGSTOP);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // the last images decoded and shown
  Subprocess grab({"/usr/bin/import", "-window", "root", screen}, {"DISPLAY=" + xvfb.display()});
  const int grabbed = grab.wait(20000);
  Shot whole, shown;
  const bool shotTaken = shootNow(window, shot, 1, whole);
  ::kill(host.pid(), SIGCONT);
  ASSERT_EQ(grabbed, 0) << "import could not grab the screen";
  ASSERT_TRUE(shotTaken) << window.output();
  ASSERT_TRUE(shown.load(screen));
  ASSERT_EQ(whole.w, shown.w);
  ASSERT_EQ(whole.h, shown.h);
  int differing = 0, box[4] = {whole.w, whole.h, -1, -1};
  for (int y = 0; y < whole.h; ++y)
    for (int x = 0; x < whole.w; ++x) {
      const unsigned char* a = &whole.rgb[3 * (std::size_t(y) * whole.w + x)];
      const unsigned char* b = &shown.rgb[3 * (std::size_t(y) * whole.w + x)];
      if (std::abs(a[0] - b[0]) > 2 || std::abs(a[1] - b[1]) > 2 || std::abs(a[2] - b[2]) > 2) {
        ++differing;
        box[0] = std::min(box[0], x), box[1] = std::min(box[1], y), box[2] = std::max(box[2], x), box[3] = std::max(box[3], y);
      }
    }
  EXPECT_EQ(differing, 0) << "pixels the partial frames left unlike the whole frame, within x " << box[0] << ".." << box[2]
                          << ", y " << box[1] << ".." << box[3] << " (" << screen << " against " << shot << ")";
  // Something is shown: the scene's window bodies.
  EXPECT_GT(countIn(whole, std::array<int, 4>{0, 0, whole.w - 1, whole.h - 1}.data(), huddle::capture::kSceneWindow & 0xFFFFFF, 6),
            100000);
  window.signal(SIGTERM);
  window.wait(15000);
  host.signal(SIGTERM);
  host.wait(15000);
}
}  // namespace

// A window drawn in parts (with a software renderer only where the stream or the sharer's
// cursor changed: app/ui/present_plan.h) shows exactly what drawing it whole shows: a
// 2560x1440 scene shown at 0.75 (textured quads, linearly filtered: a changed texel reaches
// past its own pixels), and a 1920x1080 one at 1:1 (blits).
TEST(Window, AWindowDrawnInPartsShowsWhatAWholeFrameShows) {
  partsShowWhatAWholeFrameShows("2560x1440");
  partsShowWhatAWholeFrameShows("1920x1080");
}
