#include "tests/bench/window_bench.h"

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <regex>
#include <thread>

#include "tests/support/host_output.h"
#include "tests/support/subprocess.h"
#include "tests/support/xdotool.h"
#include "tests/support/xvfb.h"

namespace huddle::bench {

namespace {

using test::Subprocess;

// One "huddle: window figures: ..." line, as the window prints it on SIGUSR1.
struct Figures {
  double redraws = 0, images = 0, cpuSec = 0, runningSec = 0;
};

// Asks the window for its figures and reads the answer (the n-th such line); false after 5 s.
bool askFigures(Subprocess& client, std::size_t n, Figures& out) {
  const std::string needle = "huddle: window figures:";
  client.signal(SIGUSR1);
  if (!client.waitForCount(needle, n, 5000)) return false;
  const std::string& text = client.output();
  std::size_t at = std::string::npos;
  for (std::size_t i = 0, from = 0; i < n; ++i, from = at + 1) at = text.find(needle, from);
  std::smatch m;
  const std::string line = text.substr(at, text.find('\n', at) - at);
  if (!std::regex_search(line, m, std::regex(R"(([0-9]+) redraws, ([0-9]+) stream images shown, ([0-9.]+) s CPU, ([0-9.]+) s running)")))
    return false;
  out = {std::stod(m[1]), std::stod(m[2]), std::stod(m[3]), std::stod(m[4])};
  return true;
}

WindowBenchRow measureRow(const std::string& view, Subprocess& client, std::size_t& asked, double seconds) {
  WindowBenchRow row;
  row.view = view;
  Figures a, b;
  if (!askFigures(client, ++asked, a)) {
    row.error = "the window did not report its figures";
    return row;
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  if (!askFigures(client, ++asked, b)) {
    row.error = "the window did not report its figures";
    return row;
  }
  const double dt = b.runningSec - a.runningSec;
  if (dt <= 0) {
    row.error = "no time passed";
    return row;
  }
  row.redrawsPerSec = (b.redraws - a.redraws) / dt;
  row.imagesPerSec = (b.images - a.images) / dt;
  row.cpuPercent = 100.0 * (b.cpuSec - a.cpuSec) / dt;
  row.cpuMsPerImage = b.images > a.images ? 1000.0 * (b.cpuSec - a.cpuSec) / (b.images - a.images) : 0;
  return row;
}

}  // namespace

WindowBenchResult measureWindow(const std::string& binary, double seconds, const std::string& tmpDir) {
  WindowBenchResult r;
  test::Xvfb xvfb(80, 99, "1920x1080x24");
  if (xvfb.display().empty()) {
    r.error = "no Xvfb (install xvfb)";
    return r;
  }
  Subprocess host({binary, "--host", "--headless", "--name", "bench", "--chat-port", "0", "--screen-port", "0",
                   "--voice-port", "0", "--share", "synthetic", "--scene-motion", "partial", "--fps", "30"});
  std::string invite;
  for (int i = 0; i < 100 && invite.empty(); ++i) {
    host.waitForOutput("huddle://127.0.0.1", 100);
    invite = test::loopbackInvite(host.output());
  }
  if (invite.empty()) {
    r.error = "the host did not start: " + host.output();
    return r;
  }
  const std::string home = tmpDir + "/window-home";
  std::filesystem::create_directories(home);
  Subprocess client({binary, "--name", "viewer", "--watch", "--join", invite},
                    {"DISPLAY=" + xvfb.display(), "HOME=" + home});
  if (!client.waitForOutput("Joined the session", 15000)) {
    r.error = "the window did not join: " + client.output();
    return r;
  }
  std::this_thread::sleep_for(std::chrono::seconds(3));  // the first image, the font atlas
  std::size_t asked = 0;
  r.rows.push_back(measureRow("in its panel", client, asked, seconds));
  // F11 makes the viewer under the pointer (or the only one) fullscreen.
  if (!test::xdotool(xvfb.display(), {"search", "--name", "Huddle", "windowfocus", "--sync", "keydown", "F11", "sleep",
                                      "0.1", "keyup", "F11"})) {
    WindowBenchRow row;
    row.view = "fullscreen";
    row.error = "xdotool could not press F11";
    r.rows.push_back(row);
  } else {
    std::this_thread::sleep_for(std::chrono::seconds(2));
    r.rows.push_back(measureRow("fullscreen", client, asked, seconds));
  }
  client.signal(SIGTERM);
  client.wait(10000);
  host.signal(SIGTERM);
  host.wait(10000);
  return r;
}

void printWindow(const WindowBenchResult& r) {
  std::printf("\nThe viewer's window (Xvfb, software GL; a 1920x1080 share at 30 fps, 10%% changing, with a moving cursor)\n");
  if (!r.error.empty()) {
    std::printf("  not measured: %s\n", r.error.c_str());
    return;
  }
  std::printf("  %-14s %10s %10s %10s %14s\n", "view", "redraws/s", "images/s", "CPU %", "CPU ms/image");
  for (const auto& row : r.rows) {
    if (!row.error.empty()) std::printf("  %-14s failed: %s\n", row.view.c_str(), row.error.c_str());
    else
      std::printf("  %-14s %10.1f %10.1f %10.1f %14.2f\n", row.view.c_str(), row.redrawsPerSec, row.imagesPerSec,
                  row.cpuPercent, row.cpuMsPerImage);
  }
}

void writeWindowJson(std::FILE* f, const WindowBenchResult& r) {
  std::fprintf(f, "  \"window\": {\"error\": \"%s\", \"rows\": [", r.error.empty() ? "" : "not measured");
  for (std::size_t i = 0; i < r.rows.size(); ++i) {
    const auto& row = r.rows[i];
    std::fprintf(f,
                 "%s\n    {\"view\": \"%s\", \"ok\": %s, \"redraws_per_sec\": %.2f, \"images_per_sec\": %.2f, "
                 "\"cpu_percent\": %.2f, \"cpu_ms_per_image\": %.3f}",
                 i ? "," : "", row.view.c_str(), row.error.empty() ? "true" : "false", row.redrawsPerSec,
                 row.imagesPerSec, row.cpuPercent, row.cpuMsPerImage);
  }
  std::fprintf(f, "]}");
}

}  // namespace huddle::bench
