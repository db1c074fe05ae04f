// huddle-bench: how fast the screen engine is, measured the way the targets are
// stated. Not a test: it prints a table, writes JSON, and marks each target met or missed.
//
//  1. Host pipeline throughput, in this process: capture + damage + JPEG encode of the test
//     scene (full motion, ~10% changing, static) and of X11 when a display is there, with 1
//     and 2 encoder threads, as fast as it goes.
//  2. Loopback end to end with real processes: a headless host sharing the test scene and
//     1, 4 or 16 headless viewers (huddle --watch), each decoding every update as the window
//     would. Delivered fps and capture-to-decoded latency come from the viewers' own JSON;
//     host CPU and peak RSS from /proc for the host's PID.
//  3. A viewer throttled to 1 MB/s (huddle --read-limit): the others' fps with and without it.
//  4. The sharer's cursor moving over a still screen: the capture pipeline at 60 fps, what it
//     hands on as the wire's cursor messages (what the relay sends each viewer) and as tiles.
//  5. Sharp when still: after a full-screen change (the settling test scene: full motion, then
//     still), the lossless bytes and the time until every tile is exact, in this process's
//     pipeline and end to end through the binary; and one still screen lossless vs JPEG.
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "capture/capture_pipeline.h"
#include "capture/damage.h"
#include "capture/encoder_pool.h"
#include "capture/synthetic_source.h"
#include "capture/x11_source.h"
#include "net/wire/screen_messages.h"
#include "net/base/clock.h"
#include "tests/bench/file_bench.h"
#include "tests/bench/process_figures.h"
#include "tests/bench/transport_floor.h"
#include "tests/bench/voice_bench.h"
#include "tests/bench/viewer_compare.h"
#include "tests/bench/window_bench.h"
#include "tests/bench/x11_compare.h"
#include "tests/bench/x11_load.h"
#include "tests/integration/netns/shaped_links.h"
#include "tests/support/host_output.h"
#include "tests/support/subprocess.h"

using huddle::test::Subprocess;
using huddle::bench::cpuSecondsOf;
using huddle::bench::jsonNumber;
using huddle::bench::peakRssMiBOf;
using huddle::bench::readFile;
namespace cap = huddle::capture;

namespace {

struct BenchOptions {
  int widthPx = 1920, heightPx = 1080;
  double encodeSeconds = 3;   // per throughput measurement
  double watchSeconds = 6;    // per end-to-end scenario
  std::vector<int> viewerCounts = {1, 4, 16};
  std::string jsonPath = "huddle-bench.json";
  std::string binary = HUDDLE_BINARY;
  bool x11 = true;
  bool cursorOnly = false;  // --cursor-only: just the cursor figure (part 4)
  bool onlySharp = false;  // --only-sharp: section 5 alone
  bool onlyVoice = false;  // --only-voice: the voice figures alone
  bool onlyScroll = false;  // --only-scroll: section 6 alone (scrolls with and without copies)
  bool onlyFiles = false;  // --only-files: the file figures alone
  bool onlyTiers = false;  // --only-tiers: full motion to 3 viewers and one at 1 MB/s, with their tiers
  bool onlyViewers = false;  // --only-viewers: 10% change to 1, 4 and 16 viewers: what each viewer costs the host
  bool secondsGiven = false;  // --seconds was given (else --only-viewers watches 5 s per count)
  std::size_t fileMiB = 256;  // the file sent (--smoke: 16)
  bool onlyWindow = false;  // --only-window: the viewer window's figures alone
  bool onlyX11 = false;     // --only-x11: the side-by-side run on a real X screen alone
  std::string x11Load;      // --x11-load KIND: only draw that load on $DISPLAY (to profile by hand)
  double voiceSeconds = 10;  // each mouth-to-ear run (20 talk spurts)
};

double cpuSecondsOfThisProcess() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// [SECTION] 1. Pipeline throughput

// A source with its change hints taken away: what damage tracking costs when the source
// cannot tell what changed (X11 without XDamage).
class WithoutHints : public cap::ScreenSource {
 public:
  explicit WithoutHints(std::unique_ptr<cap::ScreenSource> inner) : m_inner(std::move(inner)) {}
  bool open(std::string& error) override { return m_inner->open(error); }
  cap::CaptureResult capture(cap::Frame& frame, std::string& error) override {
    cap::CaptureResult r = m_inner->capture(frame, error);
    frame.changed = nullptr;
    return r;
  }
  std::string title() const override { return m_inner->title(); }

 private:
  std::unique_ptr<cap::ScreenSource> m_inner;
};

struct EncodeResult {
  std::string source;
  int threads = 0;
  std::uint64_t frames = 0, updates = 0, bytes = 0, tiles = 0;
  double seconds = 0, fps = 0, mpixPerSec = 0, kbPerUpdate = 0, cpuMsPerFrame = 0;
  double captureMs = 0, damageMs = 0, encodeMs = 0;
  std::string error;
};

EncodeResult measureEncode(const std::string& name, std::unique_ptr<cap::ScreenSource> source, int threads,
                           double seconds) {
  EncodeResult r;
  r.source = name;
  r.threads = threads;
  if (!source->open(r.error)) return r;
  cap::EncoderPool pool(threads);
  cap::DamageTracker damage;
  cap::CaptureSettings settings;  // quality 80, 4:2:0, 100%, 64-px tiles
  std::vector<huddle::base::EncodedTile> tiles;
  std::uint64_t pixels = 0;
  // The first frame (every tile) is not what a steady stream costs: warm up with it.
  cap::Frame frame;
  if (source->capture(frame, r.error) == cap::CaptureResult::Error) return r;
  damage.update(frame);
  using Clock = std::chrono::steady_clock;
  const double cpu0 = cpuSecondsOfThisProcess();
  const auto t0 = Clock::now();
  double captureS = 0, damageS = 0, encodeS = 0;
  while (std::chrono::duration<double>(Clock::now() - t0).count() < seconds) {
    const auto a = Clock::now();
    if (source->capture(frame, r.error) == cap::CaptureResult::Error) return r;
    const auto b = Clock::now();
    const auto& dirty = damage.update(frame, false);  // as the pipeline does on frames without copies
    const auto c = Clock::now();
    if (!pool.encode(frame, dirty, damage.tilesX(), settings, tiles, r.error)) return r;
    const auto d = Clock::now();
    captureS += std::chrono::duration<double>(b - a).count();
    damageS += std::chrono::duration<double>(c - b).count();
    encodeS += std::chrono::duration<double>(d - c).count();
    ++r.frames;
    pixels += static_cast<std::uint64_t>(frame.widthPx) * static_cast<std::uint64_t>(frame.heightPx);
    if (!dirty.empty()) ++r.updates;
    r.tiles += tiles.size();
    // What the wire carries per tile: its bytes plus position, kind and length.
    for (const auto& t : tiles) r.bytes += t.kind == huddle::base::TileKind::Solid ? 9 : t.jpeg.size + 11;
  }
  r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  const double cpu = cpuSecondsOfThisProcess() - cpu0;
  r.fps = static_cast<double>(r.frames) / r.seconds;
  r.mpixPerSec = static_cast<double>(pixels) / 1e6 / r.seconds;
  r.kbPerUpdate = r.updates ? static_cast<double>(r.bytes) / 1000.0 / static_cast<double>(r.updates) : 0;
  r.cpuMsPerFrame = r.frames ? cpu * 1e3 / static_cast<double>(r.frames) : 0;
  r.captureMs = r.frames ? captureS * 1e3 / static_cast<double>(r.frames) : 0;
  r.damageMs = r.frames ? damageS * 1e3 / static_cast<double>(r.frames) : 0;
  r.encodeMs = r.frames ? encodeS * 1e3 / static_cast<double>(r.frames) : 0;
  return r;
}

// [SECTION] 6. Scrolls: a copy, not a re-encode

// The sharer's pipeline (the real one: capture thread, scroll detection, damage, encoders,
// sharp when still, the copies' refresh) over a scrolling scene at 60 fps, with copy detection
// on or off: what each update weighs on the wire and what the sending process spends on it.
struct ScrollResult {
  std::string scene;
  bool copies = false;
  std::uint64_t updates = 0, withCopies = 0;
  double kbPerUpdate = 0, cpuMsPerUpdate = 0, captureMs = 0, fps = 0;
  std::string error;
};

ScrollResult measureScroll(const std::string& scene, cap::SceneMotion motion, bool copyDetect, int w, int h,
                           double seconds) {
  ScrollResult r;
  r.scene = scene;
  r.copies = copyDetect;
  cap::CaptureSettings s;  // quality 80, 4:2:0, 64-px tiles, sharp when still on
  s.fps = 60;
  s.copyDetect = copyDetect;
  std::mutex m;
  std::uint64_t updates = 0, withCopies = 0, bytes = 0;
  bool counting = false;
  cap::CapturePipeline p(std::make_unique<cap::SyntheticSource>(w, h, motion, cap::SceneCursor::None), s, 2,
                         [&](cap::EncodedUpdate&& u) {
                           std::lock_guard lock(m);
                           if (!counting) return;  // the first, whole image is not what a scroll costs
                           ++updates;
                           withCopies += !u.copies.empty();
                           std::size_t patchBytes = 0;
                           for (const auto& pt : u.patches) patchBytes += huddle::wire::patchWireBytes(pt);
                           bytes += huddle::wire::kTileBatchHeaderBytes +
                                    huddle::wire::orderedWireBytes(u.copies.size(), patchBytes, !u.patches.empty());
                           for (const auto& t : u.tiles) bytes += huddle::wire::tileWireBytes(t);
                         });
  if (!p.start(r.error)) return r;
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  double cpu0;
  std::uint64_t frames0;
  {
    std::lock_guard lock(m);
    counting = true;
    cpu0 = cpuSecondsOfThisProcess();
    frames0 = p.stats().framesCaptured;
  }
  const auto t0 = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  double cpu;
  {
    std::lock_guard lock(m);
    counting = false;
    cpu = cpuSecondsOfThisProcess() - cpu0;
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const cap::PipelineStats st = p.stats();
  p.stop();
  if (!st.lastError.empty()) r.error = st.lastError;
  r.updates = updates;
  r.withCopies = withCopies;
  r.kbPerUpdate = updates ? double(bytes) / 1000.0 / double(updates) : 0;
  r.cpuMsPerUpdate = updates ? cpu * 1e3 / double(updates) : 0;
  r.captureMs = st.captureMs;
  r.fps = double(st.framesCaptured - frames0) / wall;
  if (updates == 0 && r.error.empty()) r.error = "no updates";
  return r;
}

std::vector<ScrollResult> measureScrolls(const BenchOptions& o) {
  std::vector<ScrollResult> out;
  const double seconds = std::max(1.0, o.encodeSeconds);
  std::printf("\nScrolls and moves at 60 fps: a copy, not a re-encode (the sharer's pipeline, copy detection off, then on)\n");
  std::printf("  %-30s %6s %8s %9s %10s %11s %12s %9s\n", "scene", "copies", "fps", "updates", "KB/update",
              "CPU ms/upd", "(scene draw)", "w/ copy");
  struct Scene {
    std::string name;
    cap::SceneMotion motion;
  };
  const int tw = std::min(cap::kTerminalW, o.widthPx * 8 / 10), th = std::min(cap::kTerminalH, o.heightPx * 6 / 10);
  const int dw = std::min(cap::kDragW, o.widthPx * 6 / 10), dh = std::min(cap::kDragH, o.heightPx * 6 / 10);
  // Then a window dragged both ways (moves), and full motion, where nothing is a copy: what
  // looking for copies costs a frame that has none.
  for (const Scene& sc : {Scene{"whole screen scrolls 7 px/frame", cap::SceneMotion::Scroll},
                          Scene{std::to_string(tw) + "x" + std::to_string(th) + " terminal scrolls", cap::SceneMotion::Terminal},
                          Scene{std::to_string(dw) + "x" + std::to_string(dh) + " window dragged", cap::SceneMotion::Drag},
                          Scene{"full motion (no copies)", cap::SceneMotion::Full}})
    for (bool copies : {false, true}) {
      ScrollResult r = measureScroll(sc.name, sc.motion, copies, o.widthPx, o.heightPx, seconds);
      if (!r.error.empty()) std::printf("  %-30s %6s  failed: %s\n", sc.name.c_str(), copies ? "on" : "off", r.error.c_str());
      else
        std::printf("  %-30s %6s %8.1f %9llu %10.1f %11.2f %10.2fms %9llu\n", sc.name.c_str(), copies ? "on" : "off",
                    r.fps, static_cast<unsigned long long>(r.updates), r.kbPerUpdate, r.cpuMsPerUpdate, r.captureMs,
                    static_cast<unsigned long long>(r.withCopies));
      out.push_back(r);
    }
  return out;
}

// [SECTION] 2. End to end over loopback

struct Scenario {
  std::string name;
  std::string motion;  // full, partial, static
  int fps = 30;
  int viewers = 1;
  bool throttledExtra = false;  // one more viewer, reading at 1 MB/s
  int readLimitKBps = 1000;     // (or at this rate)
};

struct ViewerFigures {
  double fps = 0, latencyP50 = 0, latencyP95 = 0, latencyP99 = 0, kbPerUpdate = 0, decodeMs = 0;
  double bytesAfterFirst = 0, seconds = 0, updates = 0;
  int tier = 0;  // the quality tier the host served it at the end (0: the sharer's settings)
  double tierSwitches = 0;
  bool ok = false;
};

struct ScenarioResult {
  Scenario scenario;
  std::vector<ViewerFigures> viewers;  // the normal viewers
  ViewerFigures throttled;
  double fpsMean = 0, fpsMin = 0, latencyP50 = 0, latencyP95 = 0, latencyP99 = 0, kbPerUpdate = 0, decodeMs = 0;
  double bytesAfterFirstPerSec = 0;
  double hostCpuPerSec = 0;       // CPU seconds the host used per wall second
  double hostCpuMsPerFrame = 0;   // per frame delivered (to each viewer)
  double hostPeakRssMiB = 0;
  std::string error;
};

// A viewer's figures from its --stats-json.
ViewerFigures figuresOf(const std::string& json) {
  ViewerFigures f;
  f.seconds = jsonNumber(json, "seconds");
  f.updates = jsonNumber(json, "updates");
  f.fps = jsonNumber(json, "updates_per_sec");
  f.latencyP50 = jsonNumber(json, "p50");
  f.latencyP95 = jsonNumber(json, "p95");
  f.latencyP99 = jsonNumber(json, "p99");
  f.decodeMs = jsonNumber(json, "decode_ms_mean");
  f.bytesAfterFirst = jsonNumber(json, "bytes_after_first");
  f.tier = static_cast<int>(jsonNumber(json, "tier"));
  f.tierSwitches = jsonNumber(json, "tier_switches");
  f.kbPerUpdate = f.updates > 1 ? f.bytesAfterFirst / 1000.0 / (f.updates - 1) : 0;
  return f;
}

// The loopback invite link: viewers pin the host's key, as a user following it would.
std::string chatAddress(const std::string& hostOutput) { return huddle::test::loopbackInvite(hostOutput); }

ScenarioResult runScenario(const Scenario& sc, const BenchOptions& o, const std::string& tmpDir) {
  ScenarioResult r;
  r.scenario = sc;
  const std::string size = std::to_string(o.widthPx) + "x" + std::to_string(o.heightPx);
  Subprocess host({o.binary, "--host", "--headless", "--name", "bench", "--chat-port", "0", "--screen-port", "0",
                   "--share", "synthetic", "--scene-size", size, "--scene-motion", sc.motion, "--fps",
                   std::to_string(sc.fps), "--quality", "80", "--subsampling", "420", "--log-level", "error",
                   "--max-participants", "64", "--sharp-when-still", sc.motion == "static" ? "off" : "on"});
  if (!host.waitForOutput("* Sharing: ", 15000)) {
    r.error = "host did not start sharing: " + host.output();
    return r;
  }
  const std::string address = chatAddress(host.output());
  const int total = sc.viewers + (sc.throttledExtra ? 1 : 0);
  std::vector<std::unique_ptr<Subprocess>> viewers;
  std::vector<std::string> jsonPaths;
  for (int i = 0; i < total; ++i) {
    const bool throttled = i == sc.viewers;
    jsonPaths.push_back(tmpDir + "/viewer-" + std::to_string(i) + ".json");
    std::filesystem::remove(jsonPaths.back());
    std::vector<std::string> args = {o.binary, "--join", address, "--headless", "--name", "v" + std::to_string(i),
                                     "--watch", "--seconds", std::to_string(o.watchSeconds), "--stats-json",
                                     jsonPaths.back(), "--log-level", "error"};
    if (throttled) args.insert(args.end(), {"--read-limit", std::to_string(sc.readLimitKBps)});
    viewers.push_back(std::make_unique<Subprocess>(args));
  }
  for (auto& v : viewers)
    if (!v->waitForOutput("* Watching stream", 20000)) {
      r.error = "a viewer did not start watching: " + v->output();
      return r;
    }
  // Host CPU over the middle of the viewers' watch: after a second to settle, for most of it.
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const double window = std::max(1.0, o.watchSeconds - 2);
  const double cpu0 = cpuSecondsOf(host.pid());
  const auto t0 = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(window));
  const double cpu1 = cpuSecondsOf(host.pid());
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.hostCpuPerSec = (cpu1 - cpu0) / wall;
  for (std::size_t i = 0; i < viewers.size(); ++i) {
    int code = viewers[i]->wait(static_cast<int>(o.watchSeconds * 1000) + 30000);
    std::string json = readFile(jsonPaths[i]);
    ViewerFigures f = figuresOf(json);
    f.ok = code == 0 && !json.empty();
    if (!f.ok && r.error.empty()) r.error = "viewer " + std::to_string(i) + " failed: " + viewers[i]->output();
    if (static_cast<int>(i) < sc.viewers) r.viewers.push_back(f);
    else r.throttled = f;
  }
  r.hostPeakRssMiB = peakRssMiBOf(host.pid());
  host.signal(SIGTERM);
  host.wait(15000);

  if (r.viewers.empty()) return r;
  double fpsSum = 0, kbSum = 0, decodeSum = 0, afterFirstPerSec = 0;
  r.fpsMin = 1e9;
  std::vector<double> p50s, p95s, p99s;
  for (const auto& f : r.viewers) {
    fpsSum += f.fps;
    r.fpsMin = std::min(r.fpsMin, f.fps);
    kbSum += f.kbPerUpdate;
    decodeSum += f.decodeMs;
    afterFirstPerSec += f.seconds > 0 ? f.bytesAfterFirst / f.seconds : 0;
    p50s.push_back(f.latencyP50);
    p95s.push_back(f.latencyP95);
    p99s.push_back(f.latencyP99);
  }
  const double n = static_cast<double>(r.viewers.size());
  r.fpsMean = fpsSum / n;
  r.kbPerUpdate = kbSum / n;
  r.decodeMs = decodeSum / n;
  r.bytesAfterFirstPerSec = afterFirstPerSec / n;
  // Latency: the median viewer's percentiles (every viewer's own distribution is in the JSON).
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  r.latencyP50 = median(p50s);
  r.latencyP95 = median(p95s);
  r.latencyP99 = median(p99s);
  r.hostCpuMsPerFrame = r.fpsMean > 0 ? r.hostCpuPerSec * 1e3 / r.fpsMean : 0;
  return r;
}

// [SECTION] 3b. Shaped links: three viewers at 1 Gbit/s, 50 and 8 Mbit/s at once

// The real-link run: the host in a network namespace of its own, each viewer (a
// process) in another, reached over a veth pair the kernel shapes (tbf, behind netem's
// 1 ms +- 2 ms where the kernel has netem), while full motion runs. First the 1 Gbit/s viewer
// alone (its solo rate), then all three together. Everything runs from one thread that moved
// into the new namespace, so nothing of it reaches the machine's own network; the namespaces
// go with their processes. Root only (skipped, saying why, otherwise).
struct ShapedResult {
  std::string skipped, error;
  bool jitter = false;
  ViewerFigures solo;                    // the 1 Gbit/s viewer alone
  std::array<ViewerFigures, 3> together;  // 1 Gbit/s, 50 Mbit/s, 8 Mbit/s
};

ShapedResult measureShapedLinks(const BenchOptions& o, const std::string& tmpDir) {
  ShapedResult r;
  if (::geteuid() != 0) {
    r.skipped = "needs root (network namespaces, veth, tc)";
    return r;
  }
  if (!huddle::test::runQuietly("command -v ip") || !huddle::test::runQuietly("command -v tc")) {
    r.skipped = "needs ip and tc (iproute2)";
    return r;
  }
  // A viewer's namespace goes with its process, and its pair with it: the solo run has a
  // 1 Gbit/s pair of its own (the last).
  const std::array<huddle::test::LinkShape, 4> shapes = {
      huddle::test::LinkShape{"1gbit", "1mb", "50ms"}, huddle::test::LinkShape{"50mbit", "128kb", "200ms"},
      huddle::test::LinkShape{"8mbit", "16kb", "400ms"}, huddle::test::LinkShape{"1gbit", "1mb", "50ms"}};
  std::thread inside([&] {
    if (::unshare(CLONE_NEWNET) != 0) {
      r.skipped = std::string("cannot make a network namespace here: ") + std::strerror(errno);
      return;
    }
    if (!huddle::test::runQuietly("ip link set lo up")) {
      r.skipped = "cannot bring up lo in the new namespace";
      return;
    }
    huddle::test::ShapedLinks links;
    links.setJitter("1ms", "2ms");
    std::array<int, 4> link{};
    for (std::size_t i = 0; i < shapes.size(); ++i) {
      std::string why;
      if ((link[i] = links.add(shapes[i], why)) < 0) {
        r.skipped = why;
        return;
      }
    }
    r.jitter = links.jitter();
    const std::string size = std::to_string(o.widthPx) + "x" + std::to_string(o.heightPx);
    Subprocess host({o.binary, "--host", "--headless", "--name", "bench", "--chat-port", "0", "--screen-port", "0",
                     "--share", "synthetic", "--scene-size", size, "--scene-motion", "full", "--fps", "60", "--quality",
                     "80", "--subsampling", "420", "--log-level", "error", "--sharp-when-still", "off"},
                    {"HUDDLE_NO_ANNOUNCE=1"});
    if (!host.waitForOutput("* Sharing: ", 15000)) {
      r.error = "host did not start sharing: " + host.output();
      return;
    }
    const std::string invite = huddle::test::loopbackInvite(host.output());
    // Viewers 0..n-1 at once, each through its own link (the first through `first`); their figures.
    auto watch = [&](std::size_t n, int first) {
      std::vector<std::unique_ptr<Subprocess>> viewers(n);
      std::vector<std::string> paths(n);
      std::vector<ViewerFigures> out(n);
      for (std::size_t i = 0; i < n; ++i) {
        paths[i] = tmpDir + "/shaped-" + std::to_string(i) + ".json";
        std::filesystem::remove(paths[i]);
        std::string address = invite;
        const int via = i == 0 ? first : link[i];
        address.replace(address.find("127.0.0.1"), 9, huddle::test::ShapedLinks::hostAddress(via));
        const std::string failed = links.inViewerNamespace(via, [&] {
          viewers[i] = std::make_unique<Subprocess>(
              std::vector<std::string>{o.binary, "--join", address, "--headless", "--name", "v" + std::to_string(i),
                                       "--watch", "--seconds", std::to_string(o.watchSeconds), "--stats-json",
                                       paths[i], "--log-level", "error"},
              std::vector<std::string>{"HUDDLE_NO_ANNOUNCE=1"});
        });
        if (!failed.empty()) {
          r.error = failed;
          return out;
        }
      }
      for (std::size_t i = 0; i < n; ++i) {
        const int code = viewers[i]->wait(static_cast<int>(o.watchSeconds * 1000) + 30000);
        const std::string json = readFile(paths[i]);
        ViewerFigures& f = out[i] = figuresOf(json);
        f.ok = code == 0 && !json.empty();
        if (!f.ok && r.error.empty()) r.error = "viewer " + std::to_string(i) + " failed: " + viewers[i]->output();
      }
      return out;
    };
    r.solo = watch(1, link[3]).front();
    if (r.error.empty()) {
      const std::vector<ViewerFigures> all = watch(3, link[0]);
      std::copy(all.begin(), all.end(), r.together.begin());
    }
    host.signal(SIGTERM);
    host.wait(15000);
  });
  inside.join();
  return r;
}

void printShaped(const ShapedResult& r, const BenchOptions& o) {
  std::printf("Shaped links: full motion %dx%d at 60 fps to 3 viewers, each in its own network namespace behind a "
              "veth pair at 1 Gbit/s, 50 Mbit/s, 8 Mbit/s (tc tbf)%s\n",
              o.widthPx, o.heightPx,
              r.jitter ? ", netem 1 ms +- 2 ms" : r.skipped.empty() ? "; this kernel has no netem: no jitter" : "");
  if (!r.skipped.empty()) {
    std::printf("  skipped: %s\n", r.skipped.c_str());
    return;
  }
  if (!r.error.empty()) std::printf("  failed: %s\n", r.error.c_str());
  const ViewerFigures &fast = r.together[0], &mid = r.together[1], &slow = r.together[2];
  const double keep = r.solo.fps > 0 ? 100.0 * fast.fps / r.solo.fps : 0;
  std::printf("  1 Gbit/s viewer alone          %5.1f updates/s, tier %d, latency p95 %.0f ms\n", r.solo.fps,
              r.solo.tier, r.solo.latencyP95);
  std::printf("  1 Gbit/s viewer with the others %5.1f updates/s, tier %d: %.0f%% of alone (target >= 95%%: %s)\n",
              fast.fps, fast.tier, keep, keep >= 95 ? "met" : "NOT met");
  std::printf("  50 Mbit/s viewer               %5.1f updates/s, tier %d, %.1f KB/update, latency p95 %.0f ms\n",
              mid.fps, mid.tier, mid.kbPerUpdate, mid.latencyP95);
  std::printf("  8 Mbit/s viewer                %5.1f updates/s (target >= 10: %s), tier %d (%.0f switches), "
              "%.1f KB/update\n",
              slow.fps, slow.fps >= 10 ? "met" : "NOT met", slow.tier, slow.tierSwitches, slow.kbPerUpdate);
  std::printf("  8 Mbit/s viewer                capture-to-decoded latency p50 %.0f ms, p95 %.0f ms (target p95 < 250 "
              "ms: %s)\n",
              slow.latencyP50, slow.latencyP95, slow.latencyP95 > 0 && slow.latencyP95 < 250 ? "met" : "NOT met");
}

// [SECTION] 2b. What each viewer costs the host

// Host CPU with `most` viewers over host CPU with one, both at 10% change (issue 12's target:
// at most 1.15x). Per second is the target's measure; per delivered frame as well, since on a
// small machine many decoding viewers may take the cores the host would have used.
struct ViewerRatio {
  double perSec = 0, perFrame = 0;
  // Host CPU per frame delivered to each viewer past the first, in us: what one more viewer
  // costs, free of the first viewer's share of the capture and encoding.
  double addedUs = 0;
  int most = 0;
};

// (CPU a second with `most` viewers - with one) / (frames a second delivered past the first).
double addedViewerUs(double cpuOne, double fpsOne, double cpuMost, double fpsMost, int most) {
  const double addedFrames = fpsMost * most - fpsOne;
  return addedFrames > 0 ? (cpuMost - cpuOne) / addedFrames * 1e6 : 0;
}

ViewerRatio viewerRatio(const std::vector<ScenarioResult>& results) {
  ViewerRatio v;
  const ScenarioResult* one = nullptr;
  const ScenarioResult* many = nullptr;
  for (const auto& r : results) {
    if (r.scenario.motion != "partial" || r.scenario.throttledExtra || !r.error.empty()) continue;
    if (r.scenario.viewers == 1) one = &r;
    if (r.scenario.viewers > 1 && (!many || r.scenario.viewers > many->scenario.viewers)) many = &r;
  }
  if (!one || !many) return v;
  v.most = many->scenario.viewers;
  v.perSec = one->hostCpuPerSec > 0 ? many->hostCpuPerSec / one->hostCpuPerSec : 0;
  v.perFrame = one->hostCpuMsPerFrame > 0 ? many->hostCpuMsPerFrame / one->hostCpuMsPerFrame : 0;
  v.addedUs = addedViewerUs(one->hostCpuPerSec, one->fpsMean, many->hostCpuPerSec, many->fpsMean, v.most);
  return v;
}

void printViewerRatio(const ViewerRatio& v) {
  if (v.most == 0) return;
  std::printf("  host CPU, %d viewers : 1 (10%% changing): %.2fx per second (target <= 1.15x), %.2fx per delivered "
              "frame; each viewer past the first: %.0f us a frame\n",
              v.most, v.perSec, v.perFrame, v.addedUs);
}

// --only-viewers: the 10% scene at 60 fps to 1, 4 and 16 viewers, one host each, in one run,
// three times over: one viewer's own figure moves by half between runs on a shared machine, so
// the ratio is taken from each count's mean over the rounds, not from one sample of each; each
// round's own ratio (its counts run within half a minute of each other) is printed beside it.
bool measureViewers(const BenchOptions& o, const std::string& tmpDir) {
  constexpr int kRounds = 3;
  std::printf("Many viewers: 10%% changing at 60 fps, a host and N viewers over loopback with TLS, %.0f s each, "
              "%d rounds\n",
              o.watchSeconds, kRounds);
  // Tier switches count too: a viewer moved down makes the host encode a second tier.
  std::printf("  %5s %7s %9s %9s %8s %10s %9s %8s %15s\n", "round", "viewers", "fps mean", "fps min", "lat p50",
              "host CPU", "CPU/frm", "vs 1", "tier switches");
  bool ok = true;
  std::map<int, std::pair<double, double>> sums;  // viewers -> (CPU per second, CPU ms per frame), summed
  std::map<int, double> fpsSums;                  // viewers -> frames a second each, summed
  std::map<int, int> samples;
  double kbPerUpdateSum = 0;        // one viewer's, summed over the rounds
  std::vector<double> roundRatios;  // each round's most viewers : one, per second
  const int most = o.viewerCounts.empty() ? 0 : *std::max_element(o.viewerCounts.begin(), o.viewerCounts.end());
  for (int round = 1; round <= kRounds; ++round) {
    double one = 0;
    for (int n : o.viewerCounts) {
      ScenarioResult r = runScenario({"10% changing, 60 fps", "partial", 60, n, false}, o, tmpDir);
      if (!r.error.empty()) {
        ok = false;
        std::printf("  %5d %7d  failed: %s\n", round, n, r.error.c_str());
        continue;
      }
      if (n == 1) one = r.hostCpuPerSec, kbPerUpdateSum += r.kbPerUpdate;
      double switches = 0;
      for (const auto& v : r.viewers) switches += std::max(0.0, v.tierSwitches);
      std::printf("  %5d %7d %9.1f %9.1f %6.1fms %9.1f%% %7.2fms %7.2fx %15.0f\n", round, n, r.fpsMean, r.fpsMin,
                  r.latencyP50, r.hostCpuPerSec * 100, r.hostCpuMsPerFrame, one > 0 ? r.hostCpuPerSec / one : 0,
                  switches);
      sums[n].first += r.hostCpuPerSec;
      sums[n].second += r.hostCpuMsPerFrame;
      fpsSums[n] += r.fpsMean;
      ++samples[n];
      if (n > 1 && n == most && one > 0) roundRatios.push_back(r.hostCpuPerSec / one);
    }
  }
  if (most > 1 && samples[1] > 0 && samples[most] > 0 && sums[1].first > 0 && sums[1].second > 0) {
    ViewerRatio v;
    v.most = most;
    v.perSec = (sums[most].first / samples[most]) / (sums[1].first / samples[1]);
    v.perFrame = (sums[most].second / samples[most]) / (sums[1].second / samples[1]);
    v.addedUs = addedViewerUs(sums[1].first / samples[1], fpsSums[1] / samples[1], sums[most].first / samples[most],
                              fpsSums[most] / samples[most], most);
    std::printf("  (each count's mean over %d rounds)\n", kRounds);
    printViewerRatio(v);
    if (!roundRatios.empty()) {
      std::printf("  round by round, %d viewers : 1 per second:", most);
      for (double x : roundRatios) std::printf(" %.2fx", x);
      std::vector<double> sorted = roundRatios;
      std::sort(sorted.begin(), sorted.end());
      std::printf(" (median %.2fx)\n", sorted[sorted.size() / 2]);
    }
    // What any host pays per viewer for these bytes, and what the target leaves for it.
    const double kb = kbPerUpdateSum / samples[1];
    const huddle::bench::TransportFloor floor =
        huddle::bench::measureTransportFloor(static_cast<std::size_t>(kb * 1000), most, 60, 3, kRounds);
    const double budgetUs = 0.15 * (sums[1].second / samples[1]) * 1e3 / (most - 1);
    if (!floor.error.empty()) {
      std::printf("  floor: %s\n", floor.error.c_str());
    } else {
      std::printf("  floor (sends only, no credits read back): %.1f KB an update through TLS and one TCP send over "
                  "loopback, from one thread with nothing else, to 1 and %d receivers: %.0f us a frame for each receiver "
                  "past the first (Huddle: %.2fx that)\n",
                  kb, most, floor.addedUs, floor.addedUs > 0 ? v.addedUs / floor.addedUs : 0);
      std::printf("  the 1.15x target leaves %.0f us a frame for each viewer past the first (0.15 of one viewer's "
                  "%.2f ms a frame, over %d): %s the floor\n",
                  budgetUs, sums[1].second / samples[1], most - 1, budgetUs >= floor.addedUs ? "above" : "below");
    }
  }
  return ok;
}

// [SECTION] 4. Sharp when still

struct SharpResult {
  double jpegKB = 0, losslessKB = 0;          // one still screen, every tile, each way
  double x11JpegKB = -1, x11LosslessKB = -1;  // the same for the X screen, when there is one
  double pipelineMs = 0, pipelineKB = 0;      // after the last change: until every tile is exact
  int refreshFrames = 0;                      // frames that carried the refresh
  double endToEndMs = 0, endToEndKB = 0;      // a viewer: from its last JPEG tile to sharp
  std::string error;
};

SharpResult measureSharp(const BenchOptions& o, const std::string& tmpDir) {
  SharpResult r;
  // One still screen: the settled scene's every tile as JPEG (quality 80, 4:2:0) and lossless.
  std::vector<std::uint8_t> px;
  cap::SyntheticSource::render(o.widthPx, o.heightPx, cap::SceneMotion::Settle, cap::kSettleFrames - 1, px);
  cap::Frame frame;
  frame.widthPx = o.widthPx;
  frame.heightPx = o.heightPx;
  frame.strideBytes = o.widthPx * 4;
  frame.pixels = px.data();
  cap::DamageTracker damage(64);
  const auto& all = damage.update(frame);
  cap::EncoderPool pool(2);
  cap::CaptureSettings settings;
  std::vector<huddle::base::EncodedTile> jpeg, lossless;
  if (!pool.encode(frame, all, damage.tilesX(), settings, jpeg, r.error) ||
      !pool.encodeLossless(frame, all, damage.tilesX(), 64, lossless, r.error))
    return r;
  for (const auto& t : jpeg) r.jpegKB += (t.jpeg.size + 11) / 1000.0;
  for (const auto& t : lossless) r.losslessKB += (t.jpeg.size + 11) / 1000.0;
  // A real screen (anti-aliased text), when there is a display to capture.
  const char* display = std::getenv("DISPLAY");
  if (o.x11 && display && *display) {
    cap::X11Source x11("", cap::X11Region{});
    std::string error;
    cap::Frame shot;
    cap::DamageTracker x11Damage(64);
    if (x11.open(error) && x11.capture(shot, error) != cap::CaptureResult::Error) {
      const auto& tiles = x11Damage.update(shot);
      if (pool.encode(shot, tiles, x11Damage.tilesX(), settings, jpeg, error) &&
          pool.encodeLossless(shot, tiles, x11Damage.tilesX(), 64, lossless, error)) {
        r.x11JpegKB = r.x11LosslessKB = 0;
        for (const auto& t : jpeg) r.x11JpegKB += (t.jpeg.size + 11) / 1000.0;
        for (const auto& t : lossless) r.x11LosslessKB += (t.jpeg.size + 11) / 1000.0;
      }
    }
  }

  // The pipeline as a sharer runs it (30 fps, still time 300 ms): the last JPEG frame, then
  // the refresh frames until no tile is lossy.
  std::mutex m;
  std::int64_t lastJpegUs = 0, lastSharpUs = 0;
  std::size_t sharpBytes = 0;
  int sharpFrames = 0;
  cap::CapturePipeline p(std::make_unique<cap::SyntheticSource>(o.widthPx, o.heightPx, cap::SceneMotion::Settle),
                         settings, 2, [&](cap::EncodedUpdate&& u) {
                           std::lock_guard lock(m);
                           const std::int64_t now = huddle::base::monoUs();
                           bool lossy = false;
                           for (const auto& t : u.tiles) {
                             if (huddle::base::isLosslessKind(t.kind)) sharpBytes += t.jpeg.size + 11;
                             lossy = lossy || !huddle::base::isExactKind(t.kind);
                           }
                           if (lossy) lastJpegUs = now, sharpBytes = 0, sharpFrames = 0;
                           else ++sharpFrames, lastSharpUs = now;
                         });
  if (!p.start(r.error)) return r;
  bool done = false;
  for (int i = 0; i < 1000 && !done; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    done = p.stats().framesCaptured > cap::kSettleFrames + 1 && p.stats().lossyTiles == 0;
  }
  p.stop();
  if (!done) return r.error = "the pipeline did not turn sharp within 10 s", r;
  {
    std::lock_guard lock(m);
    r.pipelineMs = static_cast<double>(lastSharpUs - lastJpegUs) / 1e3;
    r.pipelineKB = static_cast<double>(sharpBytes) / 1000.0;
    r.refreshFrames = sharpFrames;
  }

  // End to end: a headless host sharing the settling scene, one viewer watching it.
  const std::string size = std::to_string(o.widthPx) + "x" + std::to_string(o.heightPx);
  Subprocess host({o.binary, "--host", "--headless", "--name", "bench", "--chat-port", "0", "--screen-port", "0",
                   "--share", "synthetic", "--scene-size", size, "--scene-motion", "settle", "--fps", "30",
                   "--log-level", "error"});
  if (!host.waitForOutput("* Sharing: ", 15000)) return r.error = "host did not start sharing: " + host.output(), r;
  const std::string json = tmpDir + "/sharp.json";
  Subprocess viewer({o.binary, "--join", chatAddress(host.output()), "--headless", "--name", "v", "--watch",
                     "--seconds", "3", "--stats-json", json, "--log-level", "error"});
  const int code = viewer.wait(40000);
  host.signal(SIGTERM);
  host.wait(15000);
  const std::string stats = readFile(json);
  if (code != 0 || stats.empty() || jsonNumber(stats, "sharp") != 1)
    return r.error = "the viewer did not see a sharp image: " + viewer.output() + stats, r;
  r.endToEndMs = jsonNumber(stats, "ms_to_sharp");
  r.endToEndKB = jsonNumber(stats, "lossless_bytes") / 1000.0;
  return r;
}

void printSharp(const SharpResult& r) {
  std::printf("\nSharp when still (the settling test scene: windows of text-like glyphs on a gradient)\n");
  if (!r.error.empty()) {
    std::printf("  failed: %s\n", r.error.c_str());
    return;
  }
  std::printf("  one still screen: JPEG (q80, 4:2:0) %.1f KB, lossless %.1f KB (%.2fx)\n", r.jpegKB, r.losslessKB,
              r.jpegKB > 0 ? r.losslessKB / r.jpegKB : 0);
  if (r.x11JpegKB >= 0)
    std::printf("  the X screen, still: JPEG (q80, 4:2:0) %.1f KB, lossless %.1f KB (%.2fx)\n", r.x11JpegKB,
                r.x11LosslessKB, r.x11JpegKB > 0 ? r.x11LosslessKB / r.x11JpegKB : 0);
  std::printf("  pipeline: sharp %.0f ms after the last change (still time 300 ms), %.1f KB in %d frames\n",
              r.pipelineMs, r.pipelineKB, r.refreshFrames);
  std::printf("  end to end (a viewer over loopback): sharp %.0f ms after its last JPEG tile, %.1f KB lossless\n",
              r.endToEndMs, r.endToEndKB);
}

// [SECTION] Report

// The cursor moving over a still screen for `seconds`: bytes a second of cursor messages (as
// encoded for the wire) and of tiles after the first image.
struct CursorResult {
  double cursorBytesPerSec = 0, messagesPerSec = 0, tileBytesPerSecAfterFirst = 0;
  std::string error;
};
CursorResult measureCursor(int w, int h, double seconds) {
  CursorResult r;
  std::atomic<std::uint64_t> cursorBytes{0}, messages{0}, tileBytes{0}, frames{0};
  cap::CaptureSettings s;
  s.fps = 60;
  s.sharpWhenStill = false;  // the still screen's one lossless refresh is part 5's figure; here, the cursor's cost
  cap::CapturePipeline pipeline(
      std::make_unique<cap::SyntheticSource>(w, h, cap::SceneMotion::Static, cap::SceneCursor::Moving), s, 1,
      [&](cap::EncodedUpdate&& u) {
        if (frames++ == 0) return;  // the first image
        for (const auto& t : u.tiles) tileBytes += huddle::wire::tileWireBytes(t);
      });
  pipeline.setCursorCallback([&](const cap::CursorUpdate& c) {
    if (c.shape) {
      huddle::wire::CursorShape m;
      m.image = *c.shape;
      cursorBytes += huddle::wire::encodeFrame(m)->size();
      ++messages;
    }
    huddle::wire::CursorPosition m;
    m.pos = c.pos;
    cursorBytes += huddle::wire::encodeFrame(m)->size();
    ++messages;
  });
  std::string error;
  if (!pipeline.start(error)) return r.error = error, r;
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  pipeline.stop();
  r.cursorBytesPerSec = double(cursorBytes.load()) / seconds;
  r.messagesPerSec = double(messages.load()) / seconds;
  r.tileBytesPerSecAfterFirst = double(tileBytes.load()) / seconds;
  return r;
}

struct Target {
  std::string what, measured;
  bool met = false;
};

// "12.3 unit" with `decimals` places.
std::string fmt(double v, int decimals, const std::string& unit) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf + (unit.empty() ? "" : " " + unit);
}

bool parseArgs(int argc, char** argv, BenchOptions& o) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&](std::string& v) {
      if (i + 1 >= argc) return false;
      v = argv[++i];
      return true;
    };
    std::string v;
    if (a == "--json" && next(v)) {
      o.jsonPath = v;
    } else if (a == "--binary" && next(v)) {
      o.binary = v;
    } else if (a == "--seconds" && next(v)) {
      o.watchSeconds = std::max(3.0, std::atof(v.c_str()));
      o.encodeSeconds = std::max(0.5, o.watchSeconds / 2);
      o.secondsGiven = true;
    } else if (a == "--cursor-only") {
      o.cursorOnly = true;
    } else if (a == "--only-sharp") {
      o.onlySharp = true;
    } else if (a == "--only-voice") {
      o.onlyVoice = true;
    } else if (a == "--only-tiers") {
      o.onlyTiers = true;
    } else if (a == "--only-viewers") {
      o.onlyViewers = true;
    } else if (a == "--only-scroll") {
      o.onlyScroll = true;
    } else if (a == "--only-files") {
      o.onlyFiles = true;
    } else if (a == "--only-window") {
      o.onlyWindow = true;
    } else if (a == "--only-x11") {
      o.onlyX11 = true;
    } else if (a == "--x11-load" && next(v)) {
      o.x11Load = v;
    } else if (a == "--no-x11") {
      o.x11 = false;
    } else if (a == "--smoke") {
      // A quick check that every part works (what the test suite runs): tiny scene, 1-2 viewers.
      o.widthPx = 320;
      o.heightPx = 200;
      o.encodeSeconds = 0.3;
      o.watchSeconds = 2;
      o.viewerCounts = {1, 2};
      o.voiceSeconds = 2;
      o.fileMiB = 16;
    } else {
      std::fprintf(stderr,
                   "usage: huddle-bench [--seconds N] [--json FILE] [--binary PATH] [--no-x11] [--smoke] [--cursor-only] [--only-sharp] [--only-voice] [--only-files] [--only-window] [--only-x11] [--only-scroll] [--only-tiers] [--only-viewers]\n"
                   "  --seconds N   viewers watch each scenario this long (default 6)\n"
                   "  --json FILE   where to write the figures (default huddle-bench.json)\n"
                   "  --only-sharp  measure sharp when still alone (a few seconds)\n"
                   "  --only-voice  measure voice alone (a few seconds)\n"
                   "  --only-scroll measure scrolls alone, with and without copy detection\n"
                   "  --only-viewers what many viewers cost the host: 10%% change to 1, 4 and 16 viewers (5 s each, three times)\n"
                   "  --only-files  measure files in the chat alone (with and without a screen streaming)\n"
                   "  --only-window measure the viewer's window alone, and beside TigerVNC's vncviewer (Xvfb; --seconds per view)\n"
                   "  --only-x11    Huddle, TigerVNC and the codec on a real X screen alone (Xvfb; --seconds per load)\n"
                   "  --x11-load K  only draw load K (document, terminal, video, drag, still) on $DISPLAY for --seconds;\n"
                   "                with --only-x11, compare on that load alone\n"
                   "  --no-x11      leave out what needs an X display (the real screen, the window)\n");
      return false;
    }
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  BenchOptions o;
  if (!parseArgs(argc, argv, o)) return 2;
  const std::string tmpDir =
      (std::filesystem::temp_directory_path() / ("huddle-bench-" + std::to_string(::getpid()))).string();
  std::filesystem::create_directories(tmpDir);
  const std::string size = std::to_string(o.widthPx) + "x" + std::to_string(o.heightPx);
  std::printf("huddle-bench: %s, quality 80, 4:2:0, 64-px tiles, %u cores\n\n", size.c_str(),
              std::thread::hardware_concurrency());

  if (o.onlyVoice) {
    const huddle::bench::VoiceBenchResult voice = huddle::bench::measureVoice(o.voiceSeconds);
    huddle::bench::printVoice(voice);
    std::filesystem::remove_all(tmpDir);
    return voice.error.empty() ? 0 : 1;
  }
  if (o.onlyFiles) {
    const huddle::bench::FileBenchResult files = huddle::bench::measureFiles(o.binary, tmpDir, o.fileMiB);
    huddle::bench::printFiles(files);
    std::filesystem::remove_all(tmpDir);
    const bool ok = files.error.empty() && files.alone.error.empty() && files.withStream.error.empty();
    return ok ? 0 : 1;
  }
  huddle::bench::X11LoadKind loadKind{};
  if (!o.x11Load.empty() && !huddle::bench::x11LoadFromName(o.x11Load, loadKind)) {
    std::fprintf(stderr, "huddle-bench: --x11-load needs document, terminal, video, drag or still\n");
    std::filesystem::remove_all(tmpDir);
    return 2;
  }
  if (!o.x11Load.empty() && !o.onlyX11) {
    const char* display = std::getenv("DISPLAY");
    huddle::bench::X11Load load;
    std::string error;
    if (!display || !load.start(display, loadKind, error)) {
      std::fprintf(stderr, "huddle-bench: --x11-load needs DISPLAY%s%s\n",
                   error.empty() ? "" : ": ", error.c_str());
      std::filesystem::remove_all(tmpDir);
      return 2;
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(o.watchSeconds));
    load.stop();
    std::printf("drew %llu frames\n", static_cast<unsigned long long>(load.framesDrawn()));
    std::filesystem::remove_all(tmpDir);
    return 0;
  }
  if (o.onlyX11) {
    const huddle::bench::X11CompareResult x11 = huddle::bench::measureX11Compare(
        o.binary, o.watchSeconds, tmpDir, o.x11Load.empty() ? std::nullopt : std::optional(loadKind));
    huddle::bench::printX11Compare(x11);
    std::filesystem::remove_all(tmpDir);
    return x11.error.empty() ? 0 : 1;
  }
  if (o.onlyWindow) {
    const huddle::bench::WindowBenchResult window = huddle::bench::measureWindow(o.binary, o.watchSeconds, tmpDir);
    huddle::bench::printWindow(window);
    const huddle::bench::ViewerCompareResult viewers = huddle::bench::measureViewerCompare(o.binary, o.watchSeconds, tmpDir);
    huddle::bench::printViewerCompare(viewers);
    std::filesystem::remove_all(tmpDir);
    return window.error.empty() && viewers.error.empty() ? 0 : 1;
  }
  if (o.onlyScroll) {
    const std::vector<ScrollResult> scrolls = measureScrolls(o);
    std::filesystem::remove_all(tmpDir);
    bool ok = true;
    for (const auto& r : scrolls) ok = ok && r.error.empty();
    return ok ? 0 : 1;
  }
  if (o.onlyTiers) {
    // Every viewer at its own pace: the throttled viewer's tier, fps and update size beside
    // the others', and the others' fps with no throttled viewer at all.
    bool ok = true;
    std::printf("Tiers: full motion at 60 fps to 3 viewers, alone, then with one more reading at 1 MB/s (8 Mbit/s) "
                "or 200 KB/s\n");
    for (int limit : {0, 1000, 200}) {
      const bool throttled = limit > 0;
      const ScenarioResult r = runScenario({!throttled ? "full, 60 fps, no throttled"
                                            : limit == 1000 ? "full, 60 fps, +1 at 1 MB/s" : "full, 60 fps, +1 at 200 KB/s",
                                            "full", 60, 3, throttled, throttled ? limit : 1000}, o, tmpDir);
      ok = ok && r.error.empty();
      if (!r.error.empty()) std::printf("  failed: %s\n", r.error.c_str());
      std::printf("  %-27s others: %5.1f fps mean, %5.1f min, %7.1f KB/update, tier %d\n", r.scenario.name.c_str(),
                  r.fpsMean, r.fpsMin, r.kbPerUpdate, r.viewers.empty() ? -1 : r.viewers.front().tier);
      if (throttled)
        std::printf("  %-27s throttled: %5.1f fps, %7.1f KB/update, tier %d (%.0f switches), latency p50 %.0f ms\n", "",
                    r.throttled.fps, r.throttled.kbPerUpdate, r.throttled.tier, r.throttled.tierSwitches,
                    r.throttled.latencyP50);
    }
    const ShapedResult shaped = measureShapedLinks(o, tmpDir);
    printShaped(shaped, o);
    ok = ok && shaped.error.empty();
    std::filesystem::remove_all(tmpDir);
    return ok ? 0 : 1;
  }
  if (o.onlyViewers) {
    if (!o.secondsGiven) o.watchSeconds = 5;
    const bool ok = measureViewers(o, tmpDir);
    std::filesystem::remove_all(tmpDir);
    return ok ? 0 : 1;
  }
  if (o.onlySharp) {
    const SharpResult sharp = measureSharp(o, tmpDir);
    printSharp(sharp);
    std::filesystem::remove_all(tmpDir);
    return sharp.error.empty() ? 0 : 1;
  }

  // 1. Throughput.
  std::vector<EncodeResult> encodes;
  struct Src {
    std::string name;
    std::function<std::unique_ptr<cap::ScreenSource>()> make;
  };
  std::vector<Src> sources = {
      {"synthetic full", [&] { return std::make_unique<cap::SyntheticSource>(o.widthPx, o.heightPx, cap::SceneMotion::Full); }},
      {"synthetic 10%", [&] { return std::make_unique<cap::SyntheticSource>(o.widthPx, o.heightPx, cap::SceneMotion::Partial); }},
      {"synthetic static", [&] { return std::make_unique<cap::SyntheticSource>(o.widthPx, o.heightPx, cap::SceneMotion::Static); }},
      {"static, no hints", [&] {
         return std::make_unique<WithoutHints>(
             std::make_unique<cap::SyntheticSource>(o.widthPx, o.heightPx, cap::SceneMotion::Static));
       }},
      {"10%, no hints", [&] {
         return std::make_unique<WithoutHints>(
             std::make_unique<cap::SyntheticSource>(o.widthPx, o.heightPx, cap::SceneMotion::Partial));
       }},
  };
  const char* display = std::getenv("DISPLAY");
  if (o.x11 && display && *display)
    sources.push_back({std::string("x11 ") + display, [] { return std::make_unique<cap::X11Source>("", cap::X11Region{}); }});
  std::printf("Host pipeline (capture + damage + encode, as fast as it goes)\n");
  std::printf("  %-18s %7s %8s %8s %11s %11s %9s %9s %9s\n", "source", "threads", "fps", "MPix/s", "KB/update",
              "CPU ms/frm", "capture", "damage", "encode");
  if (o.cursorOnly) sources.clear();
  for (const auto& src : sources)
    for (int threads : {1, 2}) {
      EncodeResult r = measureEncode(src.name, src.make(), threads, o.encodeSeconds);
      if (!r.error.empty()) std::printf("  %-18s %7d  failed: %s\n", r.source.c_str(), threads, r.error.c_str());
      else
        std::printf("  %-18s %7d %8.1f %8.1f %11.1f %11.2f %8.2fms %7.2fms %7.2fms\n", r.source.c_str(), threads,
                    r.fps, r.mpixPerSec, r.kbPerUpdate, r.cpuMsPerFrame, r.captureMs, r.damageMs, r.encodeMs);
      encodes.push_back(r);
    }

  // 2 and 3. End to end.
  std::vector<Scenario> scenarios;
  if (o.cursorOnly) o.viewerCounts.clear();
  for (int n : o.viewerCounts) scenarios.push_back({"full motion, 120 fps", "full", 120, n, false});
  for (int n : o.viewerCounts) scenarios.push_back({"10% changing, 60 fps", "partial", 60, n, false});
  // Static with sharp when still off: the first image and then nothing (with it on, the
  // still screen goes once more losslessly: section 4).
  scenarios.push_back({"static, 30 fps, sharp off", "static", 30, 1, false});
  const int others = o.viewerCounts.size() > 1 ? std::min(3, o.viewerCounts[1]) : 1;
  scenarios.push_back({"full, 60 fps, no throttled", "full", 60, others, false});
  scenarios.push_back({"full, 60 fps, +1 at 1 MB/s", "full", 60, others, true});
  if (o.cursorOnly) scenarios.clear();
  std::printf("\nLoopback end to end (host and viewers are separate processes on this machine)\n");
  std::printf("  %-27s %7s %9s %9s %8s %8s %8s %10s %9s %10s %9s\n", "scenario", "viewers", "fps mean", "fps min",
              "lat p50", "lat p95", "lat p99", "KB/update", "decode", "host CPU", "CPU/frm");
  std::vector<ScenarioResult> results;
  for (const auto& sc : scenarios) {
    ScenarioResult r = runScenario(sc, o, tmpDir);
    std::string viewersText = std::to_string(sc.viewers) + (sc.throttledExtra ? "+1" : "");
    if (!r.error.empty()) std::printf("  %-27s %7s  failed: %s\n", sc.name.c_str(), viewersText.c_str(), r.error.c_str());
    std::printf("  %-27s %7s %9.1f %9.1f %6.1fms %6.1fms %6.1fms %10.1f %7.2fms %9.0f%% %7.2fms\n", sc.name.c_str(),
                viewersText.c_str(), r.fpsMean, r.fpsMin, r.latencyP50, r.latencyP95, r.latencyP99, r.kbPerUpdate,
                r.decodeMs, r.hostCpuPerSec * 100, r.hostCpuMsPerFrame);
    if (sc.throttledExtra)
      std::printf("  %-27s %7s %9.1f %9s %6.1fms %6.1fms %6.1fms %10.1f   tier %d (%.0f switches; others' tier %d)\n",
                  "  (the throttled viewer)", "1", r.throttled.fps, "", r.throttled.latencyP50, r.throttled.latencyP95,
                  r.throttled.latencyP99, r.throttled.kbPerUpdate, r.throttled.tier, r.throttled.tierSwitches,
                  r.viewers.empty() ? -1 : r.viewers.front().tier);
    results.push_back(r);
  }
  double peakRss = 0;
  for (const auto& r : results) peakRss = std::max(peakRss, r.hostPeakRssMiB);
  std::printf("  host peak RSS over all scenarios: %.1f MiB\n", peakRss);
  printViewerRatio(viewerRatio(results));

  // 4. The cursor.
  const CursorResult cursor = measureCursor(o.widthPx, o.heightPx, std::max(1.0, o.encodeSeconds));
  std::printf("\nThe sharer's cursor moving over a still screen (60 fps capture)\n");
  if (!cursor.error.empty())
    std::printf("  failed: %s\n", cursor.error.c_str());
  else
    std::printf("  cursor %.0f B/s in %.1f messages/s; tiles after the first image %.0f B/s\n", cursor.cursorBytesPerSec,
                cursor.messagesPerSec, cursor.tileBytesPerSecAfterFirst);
  // 5. Sharp when still (not with --cursor-only).
  SharpResult sharp;
  if (!o.cursorOnly) {
    sharp = measureSharp(o, tmpDir);
    printSharp(sharp);
  }

  // 6. Scrolls, with copy detection off and on (not with --cursor-only).
  std::vector<ScrollResult> scrolls;
  if (!o.cursorOnly) scrolls = measureScrolls(o);

  // Targets (stated for 1920x1080 on this 2-core machine).
  auto find = [&](const std::string& motion, int viewers, bool throttled = false, int fps = 0) -> const ScenarioResult* {
    for (const auto& r : results)
      if (r.scenario.motion == motion && r.scenario.viewers == viewers && r.scenario.throttledExtra == throttled &&
          (fps == 0 || r.scenario.fps == fps))
        return &r;
    return nullptr;
  };
  std::vector<Target> targets;
  if (auto* full1 = find("full", 1, false, 120)) {
    targets.push_back({"full motion: >= 80 fps delivered to one viewer", fmt(full1->fpsMean, 1, "fps"),
                       full1->fpsMean >= 80});
    targets.push_back({"full motion: host CPU <= 9 ms per frame", fmt(full1->hostCpuMsPerFrame, 2, "ms"),
                       full1->hostCpuMsPerFrame > 0 && full1->hostCpuMsPerFrame <= 9});
  }
  if (auto* part1 = find("partial", 1)) {
    targets.push_back({"10%: every source frame delivered (60 fps)", fmt(part1->fpsMean, 1, "fps"),
                       part1->fpsMean >= 60 * 0.97});
    targets.push_back({"10%: <= 38 KB per update", fmt(part1->kbPerUpdate, 1, "KB"),
                       part1->kbPerUpdate > 0 && part1->kbPerUpdate <= 38});
    targets.push_back({"latency p50 <= 15 ms at 60 fps", fmt(part1->latencyP50, 1, "ms"),
                       part1->latencyP50 > 0 && part1->latencyP50 <= 15});
  }
  if (auto* st = find("static", 1)) {
    targets.push_back({"static: 0 tile bytes/s", fmt(st->bytesAfterFirstPerSec, 0, "B/s"), st->bytesAfterFirstPerSec == 0});
    targets.push_back({"static: < 1% host CPU", fmt(st->hostCpuPerSec * 100, 2, "%"), st->hostCpuPerSec < 0.01});
  }
  const int most = o.viewerCounts.empty() ? 1 : o.viewerCounts.back();
  if (auto* p1 = find("partial", 1); p1 && find("partial", most)) {
    auto* pn = find("partial", most);
    double ratio = p1->hostCpuPerSec > 0 ? pn->hostCpuPerSec / p1->hostCpuPerSec : 0;
    targets.push_back({std::to_string(most) + " viewers cost <= 1.15x the host CPU of 1 (10%)", fmt(ratio, 2, "x"),
                       ratio > 0 && ratio <= 1.15});
  }
  if (auto* f1 = find("full", 1, false, 120); f1 && find("full", most, false, 120)) {
    auto* fn = find("full", most, false, 120);
    // Full motion saturates the cores with the viewers' decoding, so per second the host gets
    // less CPU, not more: compare per delivered frame instead.
    double ratio = f1->hostCpuMsPerFrame > 0 ? fn->hostCpuMsPerFrame / f1->hostCpuMsPerFrame : 0;
    targets.push_back({std::to_string(most) + " viewers vs 1, host CPU per frame (full)", fmt(ratio, 2, "x"),
                       ratio > 0 && ratio <= 1.15});
  }
  if (auto* a = find("full", others, false, 60); a && find("full", others, true, 60)) {
    auto* b = find("full", others, true, 60);
    targets.push_back({"a 1 MB/s viewer leaves the others' fps alone", fmt(a->fpsMean, 1, "") + " -> " + fmt(b->fpsMean, 1, "fps"),
                       b->fpsMean >= a->fpsMean * 0.9});
  }
  if (cursor.error.empty())
    targets.push_back({"a moving cursor over a still screen: 0 tile bytes/s",
                       fmt(cursor.tileBytesPerSecAfterFirst, 0, "B/s") + ", cursor " + fmt(cursor.cursorBytesPerSec, 0, "B/s"),
                       cursor.tileBytesPerSecAfterFirst == 0 && cursor.cursorBytesPerSec > 0});
  if (!o.cursorOnly)
    targets.push_back({"sharp when still: a viewer exact within 1 s of going still", fmt(sharp.endToEndMs, 0, "ms"),
                       sharp.error.empty() && sharp.endToEndMs >= 0 && sharp.endToEndMs <= 1000});
  const huddle::bench::VoiceBenchResult voice =
      o.cursorOnly ? huddle::bench::VoiceBenchResult{} : huddle::bench::measureVoice(o.voiceSeconds);
  if (!o.cursorOnly) {
    huddle::bench::printVoice(voice);
    targets.push_back({"voice: mouth to ear under 50 ms median, 10 ms frames (loopback)",
                       fmt(voice.mouthToEarMedianMs, 1, "ms"),
                       voice.error.empty() && voice.mouthToEarMedianMs >= 0 && voice.mouthToEarMedianMs < 50});
  }
  const huddle::bench::FileBenchResult files =
      o.cursorOnly ? huddle::bench::FileBenchResult{} : huddle::bench::measureFiles(o.binary, tmpDir, o.fileMiB);
  if (!o.cursorOnly) {
    huddle::bench::printFiles(files);
    // The target: a screen's frame rate within 10% of without a transfer.
    const bool measured = files.viewerFpsWithout > 0 && files.withStream.viewerFps >= 0;
    targets.push_back({"files: a stream's fps within 10% while a file goes to 3",
                       fmt(files.withStream.viewerFps, 1, "fps") + " vs " + fmt(files.viewerFpsWithout, 1, "fps"),
                       measured && files.withStream.viewerFps >= 0.9 * files.viewerFpsWithout});
  }
  // The window: left out by --no-x11 (and so by the smoke run), measured where Xvfb is.
  huddle::bench::WindowBenchResult window;
  huddle::bench::ViewerCompareResult viewerWindows;
  huddle::bench::X11CompareResult x11;
  if (o.x11 && !o.cursorOnly) {
    x11 = huddle::bench::measureX11Compare(o.binary, o.watchSeconds, tmpDir);
    huddle::bench::printX11Compare(x11);
    window = huddle::bench::measureWindow(o.binary, o.watchSeconds, tmpDir);
    huddle::bench::printWindow(window);
    viewerWindows = huddle::bench::measureViewerCompare(o.binary, o.watchSeconds, tmpDir);
    huddle::bench::printViewerCompare(viewerWindows);
  }
  std::printf("\nTargets\n");
  for (const auto& t : targets) std::printf("  [%s] %-55s %s\n", t.met ? " met " : "MISSED", t.what.c_str(), t.measured.c_str());

  // JSON.
  std::FILE* f = std::fopen(o.jsonPath.c_str(), "w");
  if (!f) {
    std::fprintf(stderr, "huddle-bench: cannot write %s: %s\n", o.jsonPath.c_str(), std::strerror(errno));
    return 1;
  }
  std::fprintf(f, "{\n  \"size\": \"%s\", \"quality\": 80, \"subsampling\": \"420\", \"cores\": %u,\n  \"pipeline\": [\n",
               size.c_str(), std::thread::hardware_concurrency());
  for (std::size_t i = 0; i < encodes.size(); ++i) {
    const auto& r = encodes[i];
    std::fprintf(f,
                 "    {\"source\": \"%s\", \"threads\": %d, \"fps\": %.2f, \"mpix_per_sec\": %.2f, \"kb_per_update\": %.2f, "
                 "\"cpu_ms_per_frame\": %.3f, \"capture_ms\": %.3f, \"damage_ms\": %.3f, \"encode_ms\": %.3f, "
                 "\"error\": \"%s\"}%s\n",
                 r.source.c_str(), r.threads, r.fps, r.mpixPerSec, r.kbPerUpdate, r.cpuMsPerFrame, r.captureMs,
                 r.damageMs, r.encodeMs, r.error.empty() ? "" : "failed", i + 1 < encodes.size() ? "," : "");
  }
  std::fprintf(f, "  ],\n  \"end_to_end\": [\n");
  for (std::size_t i = 0; i < results.size(); ++i) {
    const auto& r = results[i];
    std::fprintf(f,
                 "    {\"scenario\": \"%s\", \"motion\": \"%s\", \"source_fps\": %d, \"viewers\": %d, \"throttled_viewer\": %s, "
                 "\"fps_mean\": %.2f, \"fps_min\": %.2f, \"latency_ms\": {\"p50\": %.2f, \"p95\": %.2f, \"p99\": %.2f}, "
                 "\"kb_per_update\": %.2f, \"decode_ms\": %.3f, \"tile_bytes_per_sec_after_first\": %.0f, "
                 "\"host_cpu_per_sec\": %.4f, \"host_cpu_ms_per_frame\": %.3f, \"host_peak_rss_mib\": %.1f, "
                 "\"throttled_fps\": %.2f, \"ok\": %s}%s\n",
                 r.scenario.name.c_str(), r.scenario.motion.c_str(), r.scenario.fps, r.scenario.viewers,
                 r.scenario.throttledExtra ? "true" : "false", r.fpsMean, r.fpsMin, r.latencyP50, r.latencyP95,
                 r.latencyP99, r.kbPerUpdate, r.decodeMs, r.bytesAfterFirstPerSec, r.hostCpuPerSec, r.hostCpuMsPerFrame,
                 r.hostPeakRssMiB, r.throttled.fps, r.error.empty() ? "true" : "false", i + 1 < results.size() ? "," : "");
  }
  std::fprintf(f,
               "  ],\n  \"cursor_over_still_screen\": {\"cursor_bytes_per_sec\": %.0f, \"messages_per_sec\": %.1f, "
               "\"tile_bytes_per_sec_after_first\": %.0f, \"ok\": %s},\n",
               cursor.cursorBytesPerSec, cursor.messagesPerSec, cursor.tileBytesPerSecAfterFirst,
               cursor.error.empty() ? "true" : "false");
  std::fprintf(f,
               "  \"sharp_when_still\": {\"still_screen_jpeg_kb\": %.1f, \"still_screen_lossless_kb\": %.1f, "
               "\"pipeline_ms_to_sharp\": %.1f, \"pipeline_refresh_kb\": %.1f, \"refresh_frames\": %d, "
               "\"viewer_ms_to_sharp\": %.1f, \"viewer_lossless_kb\": %.1f, \"ok\": %s},\n",
               sharp.jpegKB, sharp.losslessKB, sharp.pipelineMs, sharp.pipelineKB, sharp.refreshFrames, sharp.endToEndMs,
               sharp.endToEndKB, sharp.error.empty() ? "true" : "false");
  std::fprintf(f, "  \"scrolls\": [\n");
  for (std::size_t i = 0; i < scrolls.size(); ++i) {
    const ScrollResult& r = scrolls[i];
    std::fprintf(f,
                 "    {\"scene\": \"%s\", \"copy_detect\": %s, \"fps\": %.1f, \"updates\": %llu, "
                 "\"updates_with_copies\": %llu, \"kb_per_update\": %.2f, \"cpu_ms_per_update\": %.3f, "
                 "\"scene_draw_ms\": %.3f, \"ok\": %s}%s\n",
                 r.scene.c_str(), r.copies ? "true" : "false", r.fps, static_cast<unsigned long long>(r.updates),
                 static_cast<unsigned long long>(r.withCopies), r.kbPerUpdate, r.cpuMsPerUpdate, r.captureMs,
                 r.error.empty() ? "true" : "false", i + 1 < scrolls.size() ? "," : "");
  }
  std::fprintf(f, "  ],\n");
  if (!o.cursorOnly) {
    huddle::bench::writeVoiceJson(f, voice);
    std::fprintf(f, ",\n");
    huddle::bench::writeFilesJson(f, files);
    std::fprintf(f, ",\n");
  }
  if (o.x11 && !o.cursorOnly) {
    huddle::bench::writeX11CompareJson(f, x11);
    std::fprintf(f, ",\n");
    huddle::bench::writeWindowJson(f, window);
    std::fprintf(f, ",\n");
    huddle::bench::writeViewerCompareJson(f, viewerWindows);
    std::fprintf(f, ",\n");
  }
  std::fprintf(f, "  \"targets\": [\n");
  for (std::size_t i = 0; i < targets.size(); ++i)
    std::fprintf(f, "    {\"target\": \"%s\", \"measured\": \"%s\", \"met\": %s}%s\n", targets[i].what.c_str(),
                 targets[i].measured.c_str(), targets[i].met ? "true" : "false", i + 1 < targets.size() ? "," : "");
  std::fprintf(f, "  ]\n}\n");
  std::fclose(f);
  std::printf("\nWrote %s\n", o.jsonPath.c_str());
  std::filesystem::remove_all(tmpDir);
  bool allRan = true;
  for (const auto& r : encodes) allRan = allRan && r.error.empty();
  for (const auto& r : results) allRan = allRan && r.error.empty();
  allRan = allRan && cursor.error.empty() && sharp.error.empty() && voice.error.empty();
  for (const auto& r : scrolls) allRan = allRan && r.error.empty();
  return allRan ? 0 : 1;
}
