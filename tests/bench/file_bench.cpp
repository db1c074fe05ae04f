#include "tests/bench/file_bench.h"

#include <chrono>
#include <filesystem>
#include <functional>
#include <fstream>
#include <memory>
#include <random>
#include <regex>
#include <thread>
#include <vector>

#include "tests/support/host_output.h"
#include "tests/support/subprocess.h"

namespace huddle::bench {

namespace {

using test::Subprocess;

double jsonValue(const std::string& json, const std::string& key) {
  std::smatch m;
  if (!std::regex_search(json, m, std::regex("\"" + key + "\"\\s*:\\s*([-0-9.eE]+)"))) return -1;
  return std::stod(m[1]);
}

std::string readAll(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// The viewer's frame rate over `seconds` of watching (-1 with the reason in `error`).
double watchFps(const std::string& binary, const std::string& invite, const std::string& json, double seconds,
                std::string& error, const std::function<void()>& meanwhile) {
  std::filesystem::remove(json);
  Subprocess viewer({binary, "--join", invite, "--headless", "--name", "viewer", "--watch", "--seconds",
                     std::to_string(seconds), "--stats-json", json, "--log-level", "error"});
  if (!viewer.waitForOutput("* Watching stream", 20000)) {
    error = "the viewer did not start watching: " + viewer.output();
    return -1;
  }
  if (meanwhile) meanwhile();
  if (viewer.wait(static_cast<int>(seconds * 1000) + 30000) != 0) {
    error = "the viewer failed: " + viewer.output();
    return -1;
  }
  return jsonValue(readAll(json), "updates_per_sec");
}

// One transfer of `path` to `receivers` joined clients; the host is already running.
FileRun transfer(const std::string& binary, const std::string& invite, const std::string& tmpDir, const std::string& path,
                 std::size_t bytes, int receivers) {
  FileRun run;
  std::vector<std::unique_ptr<Subprocess>> rx;
  for (int i = 0; i < receivers; ++i) {
    const std::string dir = tmpDir + "/rx" + std::to_string(i);
    std::filesystem::remove_all(dir);
    rx.push_back(std::make_unique<Subprocess>(std::vector<std::string>{
        binary, "--join", invite, "--headless", "--name", "rx" + std::to_string(i), "--accept-files", dir, "--log-level",
        "error"}));
  }
  Subprocess sender({binary, "--join", invite, "--headless", "--name", "sender", "--log-level", "error"});
  for (int i = 0; i < receivers; ++i)
    if (!rx[static_cast<std::size_t>(i)]->waitForOutput(" as rx" + std::to_string(i) + ".", 20000)) {
      run.error = "a receiver did not join: " + rx[static_cast<std::size_t>(i)]->output();
      return run;
    }
  if (!sender.waitForOutput(" as sender.", 20000)) {
    run.error = "the sender did not join: " + sender.output();
    return run;
  }
  const auto t0 = std::chrono::steady_clock::now();
  sender.writeLine("/send " + path);
  const std::string name = std::filesystem::path(path).filename().string();
  if (!sender.waitForCount(" received " + name, static_cast<std::size_t>(receivers), 300000)) {
    run.error = "not every receiver got it: " + sender.output();
    return run;
  }
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  run.mibPerSec = static_cast<double>(bytes) * receivers / (1 << 20) / run.seconds;
  return run;
}

}  // namespace

FileBenchResult measureFiles(const std::string& binary, const std::string& tmpDir, std::size_t fileMiB) {
  FileBenchResult r;
  r.fileMiB = fileMiB;
  const std::string path = tmpDir + "/bench-file.bin";
  const std::size_t bytes = fileMiB << 20;
  {
    std::vector<std::uint8_t> data(1 << 20);
    std::mt19937 rng(1);
    std::ofstream out(path, std::ios::binary);
    for (std::size_t m = 0; m < fileMiB; ++m) {
      for (auto& b : data) b = static_cast<std::uint8_t>(rng());
      out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
    }
  }
  // Files alone.
  {
    Subprocess host({binary, "--host", "--headless", "--name", "bench", "--chat-port", "0", "--screen-port", "0",
                     "--voice-port", "0", "--log-level", "error"});
    if (!host.waitForOutput("Ctrl+C ends the session", 15000)) {
      r.error = "the host did not start: " + host.output();
      return r;
    }
    r.alone = transfer(binary, test::loopbackInvite(host.output()), tmpDir, path, bytes, r.receivers);
  }
  // With a live stream (the host shares the test scene, 1280x720 at 30 fps, one viewer).
  Subprocess host({binary, "--host", "--headless", "--name", "bench", "--chat-port", "0", "--screen-port", "0",
                   "--voice-port", "0", "--share", "synthetic", "--scene-size", "1280x720", "--scene-motion", "partial",
                   "--fps", "30", "--log-level", "error"});
  if (!host.waitForOutput("* Sharing: ", 15000)) {
    r.error = "the host did not start sharing: " + host.output();
    return r;
  }
  const std::string invite = test::loopbackInvite(host.output());
  const double watch = 4;
  r.viewerFpsWithout = watchFps(binary, invite, tmpDir + "/viewer-alone.json", watch, r.error, nullptr);
  r.withStream.viewerFps = watchFps(binary, invite, tmpDir + "/viewer-files.json", watch, r.error, [&] {
    r.withStream = transfer(binary, invite, tmpDir, path, bytes, r.receivers);
  });
  return r;
}

void printFiles(const FileBenchResult& r) {
  std::printf("\nFiles in the chat: one %zu MiB file to %d receivers through the host (separate processes, loopback)\n",
              r.fileMiB, r.receivers);
  auto line = [](const char* what, const FileRun& f) {
    if (!f.error.empty()) std::printf("  %-22s failed: %s\n", what, f.error.c_str());
    else std::printf("  %-22s %6.2f s, %7.1f MiB/s delivered in all\n", what, f.seconds, f.mibPerSec);
  };
  line("no screen shared", r.alone);
  line("a screen streaming", r.withStream);
  if (r.viewerFpsWithout >= 0 && r.withStream.viewerFps >= 0)
    std::printf("  the stream's viewer: %.1f fps without the transfer, %.1f fps over a 4 s watch the transfer began\n",
                r.viewerFpsWithout, r.withStream.viewerFps);
  if (!r.error.empty()) std::printf("  failed: %s\n", r.error.c_str());
}

void writeFilesJson(std::FILE* f, const FileBenchResult& r) {
  std::fprintf(f,
               "  \"files\": {\"file_mib\": %zu, \"receivers\": %d, \"alone_seconds\": %.3f, \"alone_mib_per_sec\": %.1f, "
               "\"with_stream_seconds\": %.3f, \"with_stream_mib_per_sec\": %.1f, \"viewer_fps_without\": %.1f, "
               "\"viewer_fps_with\": %.1f}",
               r.fileMiB, r.receivers, r.alone.seconds, r.alone.mibPerSec, r.withStream.seconds, r.withStream.mibPerSec,
               r.viewerFpsWithout, r.withStream.viewerFps);
}

}  // namespace huddle::bench
