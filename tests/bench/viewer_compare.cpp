#include "tests/bench/viewer_compare.h"

#include "net/base/clock.h"

#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

#include "tests/bench/process_figures.h"
#include "tests/bench/screen_stamp.h"
#include "tests/bench/x11_load.h"
#include "tests/support/free_port.h"
#include "tests/support/host_output.h"
#include "tests/support/subprocess.h"
#include "tests/support/xdotool.h"
#include "tests/support/xvfb.h"

namespace huddle::bench {

namespace {

using test::Subprocess;
constexpr const char* kTigerVncServer = "/usr/bin/X0tigervnc";
constexpr const char* kTigerVncViewer = "/usr/bin/xtigervncviewer";
constexpr int kFps = 30;
// How often the viewer's display is looked at: several times a frame, so no image shown is
// missed and the latency is read within this of its showing.
constexpr int kSampleEveryMs = 3;

// Whether something listens on loopback `port`, asked every 50 ms up to `timeoutMs`.
bool waitForListener(std::uint16_t port, int timeoutMs) {
  for (int waited = 0; waited < timeoutMs; waited += 50) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    const bool up = fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    if (fd >= 0) ::close(fd);
    if (up) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

// Where the load's frame code is on `d`'s root: where a fullscreen 1:1 image has it first,
// else anywhere; false if no clean code is on the screen.
bool findStamp(Display* d, int& x, int& y) {
  const int screen = DefaultScreen(d);
  const int w = DisplayWidth(d, screen), h = DisplayHeight(d, screen);
  XImage* image = XGetImage(d, RootWindow(d, screen), 0, 0, static_cast<unsigned>(w), static_cast<unsigned>(h), AllPlanes, ZPixmap);
  if (!image) return false;
  bool found = false;
  if (image->bits_per_pixel == 32) {
    const auto* px = reinterpret_cast<const std::uint8_t*>(image->data);
    const std::size_t stride = static_cast<std::size_t>(image->bytes_per_line);
    auto at = [&](int cx, int cy) { return readStamp(px + std::size_t(cy) * stride + std::size_t(cx) * 4, stride) >= 0; };
    if (at(kStampX, stampY(h))) {
      x = kStampX, y = stampY(h), found = true;
    }
    for (int cy = h - kStampH; cy >= 0 && !found; --cy)
      for (int cx = 0; cx + kStampW <= w && !found; ++cx)
        if (at(cx, cy)) x = cx, y = cy, found = true;
  }
  XDestroyImage(image);
  return found;
}

// The frame code at (x, y) of `d`'s screen; -1 if none can be read there.
std::int64_t readCodeAt(Display* d, int x, int y) {
  XImage* image = XGetImage(d, DefaultRootWindow(d), x, y, kStampW, kStampH, AllPlanes, ZPixmap);
  if (!image) return -1;
  const std::int64_t code = image->bits_per_pixel == 32
                                ? readStamp(reinterpret_cast<const std::uint8_t*>(image->data), std::size_t(image->bytes_per_line))
                                : -1;
  XDestroyImage(image);
  return code;
}

// What reading the frame code every kSampleEveryMs costs `screen`'s X server a second, with
// nothing else drawing on it: taken out of each viewer's X server figure, so that figure is the
// viewer's own (a viewer showing fewer images a second would otherwise be charged more of it
// an image).
double samplingCostPerSec(const test::Xvfb& screen) {
  Display* d = XOpenDisplay(screen.display().c_str());
  if (!d) return 0;
  const double cpu0 = cpuSecondsOf(screen.pid());
  const std::int64_t t0 = base::monoUs();
  for (std::int64_t now = t0; now < t0 + 2'000'000; now = base::monoUs()) {
    readCodeAt(d, kStampX, 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(kSampleEveryMs));
  }
  const double perSec = (cpuSecondsOf(screen.pid()) - cpu0) / (static_cast<double>(base::monoUs() - t0) / 1e6);
  XCloseDisplay(d);
  return perSec;
}

// Watches what `viewer` shows on `screen` for `seconds` once the load's code is found there
// (up to 20 s), counting each frame code that appears and its latency from the load's drawing.
// `samplingPerSec`: what the reading costs the X server a second (samplingCostPerSec()).
ViewerFigures watchScreen(const test::Xvfb& screen, double samplingPerSec, const X11Load& load, Subprocess& viewer,
                          double seconds) {
  const std::string& display = screen.display();
  ViewerFigures f;
  Display* d = XOpenDisplay(display.c_str());
  if (!d) {
    f.error = "cannot open the viewer's display";
    return f;
  }
  int sx = 0, sy = 0;
  bool found = false;
  for (int i = 0; i < 40 && !found; ++i) {
    found = findStamp(d, sx, sy);
    if (!found) std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  if (!found) {
    XCloseDisplay(d);
    f.error = "the load's frame code never showed on the viewer's display" +
              (viewer.output().empty() ? std::string() : ": " + viewer.output().substr(0, 400));
    return f;
  }
  auto sample = [&] { return readCodeAt(d, sx, sy); };
  StampLatency latency;
  latency.baseline(sample());
  const double cpu0 = cpuSecondsOf(viewer.pid()), serverCpu0 = cpuSecondsOf(screen.pid());
  const std::int64_t t0 = base::monoUs();
  const std::int64_t end = t0 + static_cast<std::int64_t>(seconds * 1e6);
  std::size_t images = 0;
  std::int64_t last = -1;
  for (std::int64_t now = t0; now < end; now = base::monoUs()) {
    const std::int64_t code = sample();
    const std::int64_t seen = base::monoUs();
    if (code >= 0 && code != last) {
      last = code;
      ++images;
    }
    latency.shown(code, seen, [&load](std::uint32_t c) { return load.drawnAtUs(c); });
    std::this_thread::sleep_for(std::chrono::milliseconds(kSampleEveryMs));
  }
  const double dt = static_cast<double>(base::monoUs() - t0) / 1e6;
  const double cpuSec = cpuSecondsOf(viewer.pid()) - cpu0;
  const double serverCpuSec = std::max(0.0, cpuSecondsOf(screen.pid()) - serverCpu0 - samplingPerSec * dt);
  XCloseDisplay(d);
  f.imagesPerSec = static_cast<double>(images) / dt;
  f.cpuPercent = 100.0 * cpuSec / dt;
  f.cpuMsPerImage = images ? 1000.0 * cpuSec / static_cast<double>(images) : 0;
  f.serverCpuMsPerImage = images ? 1000.0 * serverCpuSec / static_cast<double>(images) : 0;
  f.latencyP50Ms = latency.percentileMs(50);
  f.latencyP95Ms = latency.percentileMs(95);
  f.latencySamples = latency.samples();
  return f;
}

ViewerFigures measureHuddleWindow(const std::string& binary, const std::string& source, const test::Xvfb& screen,
                                  double samplingPerSec, const X11Load& load, double seconds, const std::string& tmpDir) {
  ViewerFigures f;
  Subprocess host({binary, "--host", "--headless", "--name", "bench", "--chat-port", "0", "--screen-port", "0",
                   "--voice-port", "0", "--share", "x11", "--fps", std::to_string(kFps), "--quality", "80",
                   "--subsampling", "420", "--log-level", "error"},
                  {"DISPLAY=" + source});
  if (!host.waitForOutput("* Sharing: ", 15000)) {
    f.error = "the host did not start sharing: " + host.output();
    return f;
  }
  const std::string home = tmpDir + "/viewer-window-home";
  std::filesystem::remove_all(home);
  std::filesystem::create_directories(home + "/huddle");
  // Without the overlay: vncviewer shows no figures either.
  std::ofstream(home + "/huddle/settings.ini") << "overlay = off\n";
  Subprocess client({binary, "--name", "viewer", "--watch", "--join", test::loopbackInvite(host.output())},
                    {"DISPLAY=" + screen.display(), "HOME=" + home, "XDG_CONFIG_HOME=" + home});
  if (!client.waitForOutput("Joined the session", 15000)) {
    f.error = "the window did not join: " + client.output();
  } else {
    std::this_thread::sleep_for(std::chrono::seconds(3));  // the first image, the font atlas
    // F11: the only viewer fullscreen, the window taking the whole screen.
    if (!test::xdotool(screen.display(), {"search", "--name", "Huddle", "windowfocus", "--sync", "keydown", "F11", "sleep", "0.1",
                                "keyup", "F11"}))
      f.error = "xdotool could not press F11";
    else {
      std::this_thread::sleep_for(std::chrono::seconds(1));
      f = watchScreen(screen, samplingPerSec, load, client, seconds);
    }
  }
  client.signal(SIGTERM);
  client.wait(10000);
  host.signal(SIGTERM);
  host.wait(15000);
  std::filesystem::remove_all(home);
  return f;
}

ViewerFigures measureVncViewer(const std::string& source, const test::Xvfb& screen, double samplingPerSec,
                               const X11Load& load, double seconds, const std::string& tmpDir) {
  ViewerFigures f;
  if (access(kTigerVncServer, X_OK) != 0 || access(kTigerVncViewer, X_OK) != 0) {
    f.error = "no TigerVNC (install tigervnc-scraping-server and tigervnc-viewer)";
    return f;
  }
  const std::uint16_t port = test::freeLoopbackPort();
  Subprocess server({kTigerVncServer, "-display", source, "-rfbport", std::to_string(port), "-SecurityTypes", "None",
                     "-localhost", "-PollingCycle", "16", "-FrameRate", std::to_string(kFps), "-MaxProcessorUsage", "100",
                     "-Log", "*:stderr:0"});
  const std::string home = tmpDir + "/vncviewer-home";
  std::filesystem::remove_all(home);
  std::filesystem::create_directories(home);
  // Tight with JPEG at quality level 6 (TigerVNC's JPEG 79, 4:2:0: the nearest to Huddle's 80),
  // not chosen by its own link estimate; once the server listens (up to 10 s).
  if (!waitForListener(port, 10000)) {
    f.error = "TigerVNC's server did not listen";
    return f;
  }
  Subprocess viewer({kTigerVncViewer, "-FullScreen=1", "-AutoSelect=0", "-PreferredEncoding=Tight", "-QualityLevel=6",
                     "-CompressLevel=1", "-SecurityTypes=None", "-Log=*:stderr:0", "127.0.0.1::" + std::to_string(port)},
                    {"DISPLAY=" + screen.display(), "HOME=" + home});
  std::this_thread::sleep_for(std::chrono::seconds(2));
  f = watchScreen(screen, samplingPerSec, load, viewer, seconds);
  viewer.signal(SIGTERM);
  viewer.wait(10000);
  server.signal(SIGTERM);
  server.wait(10000);
  std::filesystem::remove_all(home);
  return f;
}

}  // namespace

ViewerCompareResult measureViewerCompare(const std::string& binary, double seconds, const std::string& tmpDir) {
  ViewerCompareResult r;
  for (X11LoadKind kind : {X11LoadKind::Video, X11LoadKind::ScrollTerminal}) {
    test::Xvfb source(80, 99, "1920x1080x24");
    test::Xvfb screen(80, 99, "1920x1080x24");
    if (source.display().empty() || screen.display().empty()) {
      r.error = "no Xvfb (install xvfb)";
      return r;
    }
    ViewerCompareRow row;
    row.load = x11LoadName(kind);
    X11Load load;
    std::string error;
    if (!load.start(source.display(), kind, error)) {
      row.huddle.error = row.vnc.error = error;
    } else {
      const double sampling = samplingCostPerSec(screen);
      row.huddle = measureHuddleWindow(binary, source.display(), screen, sampling, load, seconds, tmpDir);
      row.vnc = measureVncViewer(source.display(), screen, sampling, load, seconds, tmpDir);
    }
    r.rows.push_back(row);
  }
  return r;
}

void printViewerCompare(const ViewerCompareResult& r) {
  std::printf("\nViewer windows side by side (a 1920x1080 X screen shared at %d fps, watched fullscreen on a 1920x1080 Xvfb,\n"
              "software GL; Huddle JPEG 80 4:2:0, TigerVNC's vncviewer Tight JPEG level 6 = 79 4:2:0)\n", kFps);
  if (!r.error.empty()) {
    std::printf("  not measured: %s\n", r.error.c_str());
    return;
  }
  std::printf("  images: frame codes read off the viewer's display; latency: the load's XSync to the code on that display;\n"
              "  CPU: the viewer process's; +X server: and the X server it draws on, over the same seconds (its work putting\n"
              "  images on the screen, and copies asked of it; what the bench's reads of the frame code cost it is taken out)\n");
  std::printf("  %-26s %-9s %9s %9s %13s %10s %8s %8s\n", "load", "viewer", "images/s", "CPU %", "CPU ms/image", "+X server",
              "p50 ms", "p95 ms");
  auto line = [](const char* load, const char* who, const ViewerFigures& f) {
    if (!f.error.empty()) {
      std::printf("  %-26s %-9s failed: %s\n", load, who, f.error.c_str());
      return;
    }
    std::printf("  %-26s %-9s %9.1f %9.1f %13.2f %10.2f %8.1f %8.1f\n", load, who, f.imagesPerSec, f.cpuPercent,
                f.cpuMsPerImage, f.cpuMsPerImage + f.serverCpuMsPerImage, f.latencyP50Ms, f.latencyP95Ms);
  };
  for (const auto& row : r.rows) {
    line(row.load.c_str(), "Huddle", row.huddle);
    line("", "vncviewer", row.vnc);
    if (row.huddle.error.empty() && row.vnc.error.empty() && row.vnc.cpuMsPerImage > 0)
      std::printf("  %-26s %-9s CPU/image %.2fx vncviewer; with the X server %.2fx\n", "", "ratio",
                  row.huddle.cpuMsPerImage / row.vnc.cpuMsPerImage,
                  (row.huddle.cpuMsPerImage + row.huddle.serverCpuMsPerImage) /
                      (row.vnc.cpuMsPerImage + row.vnc.serverCpuMsPerImage));
  }
}

void writeViewerCompareJson(std::FILE* f, const ViewerCompareResult& r) {
  auto side = [&](const char* name, const ViewerFigures& s) {
    std::fprintf(f,
                 "\"%s\": {\"ok\": %s, \"images_per_sec\": %.2f, \"cpu_percent\": %.1f, \"cpu_ms_per_image\": %.3f, "
                 "\"x_server_cpu_ms_per_image\": %.3f, \"latency_p50_ms\": %.2f, \"latency_p95_ms\": %.2f, \"latency_samples\": %zu}",
                 name, s.error.empty() ? "true" : "false", s.imagesPerSec, s.cpuPercent, s.cpuMsPerImage,
                 s.serverCpuMsPerImage, s.latencyP50Ms, s.latencyP95Ms, s.latencySamples);
  };
  std::fprintf(f, "  \"viewer_side_by_side\": {\"error\": \"%s\", \"rows\": [", r.error.empty() ? "" : "not measured");
  for (std::size_t i = 0; i < r.rows.size(); ++i) {
    std::fprintf(f, "%s\n    {\"load\": \"%s\", ", i ? "," : "", r.rows[i].load.c_str());
    side("huddle", r.rows[i].huddle);
    std::fprintf(f, ", ");
    side("vncviewer", r.rows[i].vnc);
    std::fprintf(f, "}");
  }
  std::fprintf(f, "]}");
}

}  // namespace huddle::bench
