#include "tests/bench/x11_compare.h"

#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <turbojpeg.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <future>
#include <thread>
#include <vector>

#include "tests/bench/process_figures.h"
#include "tests/bench/rfb_client.h"
#include "tests/bench/x11_load.h"
#include "tests/support/host_output.h"
#include "tests/support/subprocess.h"
#include "tests/support/xvfb.h"

namespace huddle::bench {

namespace {

using test::Subprocess;
constexpr int kQuality = 80;
constexpr const char* kTigerVnc = "/usr/bin/X0tigervnc";

double threadCpuMs() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) / 1e6;
}

// One TurboJPEG compression of the whole screen as it is now, on this thread: the median of a few.
double codecMsPerFrame(const std::string& display) {
  Display* d = XOpenDisplay(display.c_str());
  if (!d) return 0;
  const int screen = DefaultScreen(d);
  const int w = DisplayWidth(d, screen), h = DisplayHeight(d, screen);
  XImage* image = XGetImage(d, RootWindow(d, screen), 0, 0, static_cast<unsigned>(w), static_cast<unsigned>(h), AllPlanes, ZPixmap);
  double best = 0;
  if (image && image->bits_per_pixel == 32) {
    tjhandle tj = tjInitCompress();
    std::vector<double> times;
    for (int i = 0; i < 7; ++i) {
      unsigned char* jpeg = nullptr;
      unsigned long size = 0;
      const double t0 = threadCpuMs();
      tjCompress2(tj, reinterpret_cast<unsigned char*>(image->data), w, image->bytes_per_line, h, TJPF_BGRX, &jpeg, &size,
                  TJSAMP_420, kQuality, TJFLAG_FASTDCT);
      times.push_back(threadCpuMs() - t0);
      tjFree(jpeg);
    }
    tjDestroy(tj);
    std::sort(times.begin(), times.end());
    best = times[times.size() / 2];
  }
  if (image) XDestroyImage(image);
  XCloseDisplay(d);
  return best;
}

std::uint16_t freeLoopbackPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  std::uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

// The sender's CPU over the middle of a watch of `seconds`: from 1 s in, for seconds - 2.
double cpuPerSecondMidWatch(pid_t pid, double seconds) {
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const double window = std::max(1.0, seconds - 2);
  const double cpu0 = cpuSecondsOf(pid);
  const auto t0 = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(window));
  const double cpu1 = cpuSecondsOf(pid);
  return (cpu1 - cpu0) / std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void finish(SenderFigures& f, double cpuPerSec) {
  f.cpuPercent = 100.0 * cpuPerSec;
  f.cpuMsPerUpdate = f.updatesPerSec > 0 ? 1000.0 * cpuPerSec / f.updatesPerSec : 0;
  f.kbPerUpdate = f.updatesPerSec > 0 ? f.bytesPerSec / f.updatesPerSec / 1000.0 : 0;
}

SenderFigures measureHuddle(const std::string& binary, const std::string& display, double seconds, const std::string& tmpDir) {
  SenderFigures f;
  Subprocess host({binary, "--host", "--headless", "--name", "bench", "--chat-port", "0", "--screen-port", "0",
                   "--voice-port", "0", "--share", "x11", "--fps", "60", "--quality", std::to_string(kQuality),
                   "--subsampling", "420", "--log-level", "error"},
                  {"DISPLAY=" + display});
  if (!host.waitForOutput("* Sharing: ", 15000)) {
    f.error = "the host did not start sharing: " + host.output();
    return f;
  }
  const std::string json = tmpDir + "/x11-viewer.json";
  std::filesystem::remove(json);
  Subprocess viewer({binary, "--join", test::loopbackInvite(host.output()), "--headless", "--name", "viewer", "--watch",
                     "--seconds", std::to_string(seconds), "--stats-json", json, "--log-level", "error"});
  if (!viewer.waitForOutput("* Watching stream", 20000)) {
    f.error = "the viewer did not start watching: " + viewer.output();
    return f;
  }
  const double cpuPerSec = cpuPerSecondMidWatch(host.pid(), seconds);
  const int code = viewer.wait(static_cast<int>(seconds * 1000) + 30000);
  const std::string stats = readFile(json);
  if (code != 0 || stats.empty()) {
    f.error = "the viewer failed: " + viewer.output();
    return f;
  }
  const double watched = jsonNumber(stats, "seconds"), updates = jsonNumber(stats, "updates");
  f.updatesPerSec = watched > 0 && updates > 1 ? (updates - 1) / watched : 0;
  f.bytesPerSec = watched > 0 ? jsonNumber(stats, "bytes_after_first") / watched : 0;
  f.latencyP50Ms = jsonNumber(stats, "p50");
  finish(f, cpuPerSec);
  host.signal(SIGTERM);
  host.wait(15000);
  return f;
}

SenderFigures measureTigerVnc(const std::string& display, double seconds) {
  SenderFigures f;
  if (access(kTigerVnc, X_OK) != 0) {
    f.error = "no TigerVNC scraping server (install tigervnc-scraping-server)";
    return f;
  }
  const std::uint16_t port = freeLoopbackPort();
  Subprocess server({kTigerVnc, "-display", display, "-rfbport", std::to_string(port), "-SecurityTypes", "None",
                     "-localhost", "-PollingCycle", "16", "-FrameRate", "60", "-MaxProcessorUsage", "100", "-Log", "*:stderr:0"});
  auto watch = std::async(std::launch::async, [&] { return watchRfb(port, seconds, kQuality); });
  const double cpuPerSec = cpuPerSecondMidWatch(server.pid(), seconds);
  const RfbFigures rfb = watch.get();
  server.signal(SIGTERM);
  server.wait(10000);
  if (!rfb.error.empty()) {
    f.error = rfb.error;
    return f;
  }
  f.updatesPerSec = rfb.seconds > 0 ? static_cast<double>(rfb.updates) / rfb.seconds : 0;
  f.bytesPerSec = rfb.seconds > 0 ? static_cast<double>(rfb.bytes) / rfb.seconds : 0;
  finish(f, cpuPerSec);
  return f;
}

}  // namespace

X11CompareResult measureX11Compare(const std::string& binary, double seconds, const std::string& tmpDir) {
  X11CompareResult r;
  for (X11LoadKind kind : {X11LoadKind::ScrollDocument, X11LoadKind::ScrollTerminal, X11LoadKind::Video, X11LoadKind::Still}) {
    test::Xvfb xvfb(80, 99, "1920x1080x24");
    if (xvfb.display().empty()) {
      r.error = "no Xvfb (install xvfb)";
      return r;
    }
    X11CompareRow row;
    row.load = x11LoadName(kind);
    X11Load load;
    std::string error;
    if (!load.start(xvfb.display(), kind, error)) {
      row.huddle.error = row.vnc.error = error;
      r.rows.push_back(row);
      continue;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    row.codecMsPerFrame = codecMsPerFrame(xvfb.display());
    const std::uint64_t frames0 = load.framesDrawn();
    const auto t0 = std::chrono::steady_clock::now();
    row.huddle = measureHuddle(binary, xvfb.display(), seconds, tmpDir);
    row.vnc = measureTigerVnc(xvfb.display(), seconds);
    row.loadFps = static_cast<double>(load.framesDrawn() - frames0) /
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    load.stop();
    r.rows.push_back(row);
  }
  return r;
}

void printX11Compare(const X11CompareResult& r) {
  std::printf("\nA real X screen (Xvfb 1920x1080, an X client drawing at 60 Hz), JPEG %d 4:2:0, sender CPU per update delivered\n",
              kQuality);
  if (!r.error.empty()) {
    std::printf("  not measured: %s\n", r.error.c_str());
    return;
  }
  std::printf("  %-26s %-9s %9s %11s %9s %11s %11s\n", "load", "sender", "updates/s", "CPU ms/upd", "CPU %", "KB/update",
              "p50 ms");
  auto line = [](const char* load, const char* who, const SenderFigures& f) {
    if (!f.error.empty()) {
      std::printf("  %-26s %-9s failed: %s\n", load, who, f.error.c_str());
      return;
    }
    char p50[32] = "-";
    if (f.latencyP50Ms >= 0) std::snprintf(p50, sizeof p50, "%.1f", f.latencyP50Ms);
    std::printf("  %-26s %-9s %9.1f %11.2f %9.1f %11.1f %11s\n", load, who, f.updatesPerSec, f.cpuMsPerUpdate, f.cpuPercent,
                f.kbPerUpdate, p50);
  };
  for (const auto& row : r.rows) {
    line(row.load.c_str(), "Huddle", row.huddle);
    line("", "TigerVNC", row.vnc);
    std::printf("  %-26s %-9s one frame in %.2f ms on one core; the load drew %.1f frames/s\n", "", "TurboJPEG",
                row.codecMsPerFrame, row.loadFps);
    if (row.huddle.error.empty() && row.vnc.error.empty() && row.vnc.cpuMsPerUpdate > 0 && row.vnc.kbPerUpdate > 0)
      std::printf("  %-26s %-9s CPU/update %.2fx TigerVNC, %.2fx the codec; bytes/update %.2fx TigerVNC\n", "", "ratios",
                  row.huddle.cpuMsPerUpdate / row.vnc.cpuMsPerUpdate,
                  row.codecMsPerFrame > 0 ? row.huddle.cpuMsPerUpdate / row.codecMsPerFrame : 0,
                  row.huddle.kbPerUpdate / row.vnc.kbPerUpdate);
  }
}

void writeX11CompareJson(std::FILE* f, const X11CompareResult& r) {
  auto side = [&](const char* name, const SenderFigures& s) {
    std::fprintf(f,
                 "\"%s\": {\"ok\": %s, \"updates_per_sec\": %.2f, \"cpu_ms_per_update\": %.3f, \"cpu_percent\": %.1f, "
                 "\"kb_per_update\": %.2f, \"bytes_per_sec\": %.0f, \"latency_p50_ms\": %.2f}",
                 name, s.error.empty() ? "true" : "false", s.updatesPerSec, s.cpuMsPerUpdate, s.cpuPercent, s.kbPerUpdate,
                 s.bytesPerSec, s.latencyP50Ms);
  };
  std::fprintf(f, "  \"x11_side_by_side\": {\"error\": \"%s\", \"rows\": [", r.error.empty() ? "" : "not measured");
  for (std::size_t i = 0; i < r.rows.size(); ++i) {
    const auto& row = r.rows[i];
    std::fprintf(f, "%s\n    {\"load\": \"%s\", \"codec_ms_per_frame\": %.3f, \"load_fps\": %.1f, ", i ? "," : "",
                 row.load.c_str(), row.codecMsPerFrame, row.loadFps);
    side("huddle", row.huddle);
    std::fprintf(f, ", ");
    side("tigervnc", row.vnc);
    std::fprintf(f, "}");
  }
  std::fprintf(f, "]}");
}

}  // namespace huddle::bench
