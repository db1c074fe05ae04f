// Drives a test's private X display with xdotool, as a user would: keys, typing, the mouse.
#pragma once
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/subprocess.h"

namespace huddle::test {

// Runs xdotool on the test's display; true if it succeeded. Keys that act are held for a
// moment: Dear ImGui 1.86 samples key state once a frame, so a press and release within one
// (a loaded machine) would go unseen. People hold keys longer than a frame anyway.
inline bool xdotool(const std::string& display, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"/usr/bin/xdotool"};
  argv.insert(argv.end(), args.begin(), args.end());
  Subprocess p(argv, {"DISPLAY=" + display});
  return p.wait(15000) == 0;
}

// Focuses the window whose title matches `name` once it is viewable: found by name is not yet
// mapped (X refuses focus to an unmapped window with BadMatch), so it is tried again, up to 10 s.
inline bool focusWindow(const std::string& display, const std::string& name) {
  for (int attempt = 0; attempt < 40; ++attempt) {
    if (xdotool(display, {"search", "--sync", "--name", name, "windowfocus", "--sync", "sleep", "0.3"})) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  return false;
}

}  // namespace huddle::test
