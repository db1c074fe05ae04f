// huddle-bench's side-by-side run on a real X screen (issue 12): for each load an animated X
// client draws on a private 1920x1080 Xvfb (x11_load.h), and in the same run
//   - Huddle shares it (`--share x11`, 60 fps, JPEG 80 4:2:0) to one headless viewer,
//   - TigerVNC's scraping server (X0tigervnc) serves it to a small RFB viewer asking for
//     Tight JPEG at the same quality (rfb_client.h),
//   - both viewers read the load's frame code back from their decoded pixels, for the
//     draw-to-decoded latency (Huddle's is its real viewer path, a JoinController in this
//     process decoding into a StreamView as the window's does),
//   - TurboJPEG compresses one captured frame on one core (the codec's own cost).
// Sender CPU is the whole server process's, from /proc, per update delivered.
#pragma once
#include <cstddef>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "tests/bench/x11_load.h"

namespace huddle::bench {

struct SenderFigures {
  double updatesPerSec = 0;
  double cpuMsPerUpdate = 0;   // sender CPU (all threads) per update delivered
  double cpuPercent = 0;       // of one core
  double kbPerUpdate = 0;      // after the first (full) image
  double bytesPerSec = 0;
  // Draw to decoded: from the load's XSync of a frame to its code (screen_stamp.h) read back
  // from the viewer's decoded image, per frame code first shown; -1 where not known (the still
  // load draws no code).
  double latencyP50Ms = -1, latencyP95Ms = -1;
  std::size_t latencySamples = 0;
  std::string error;
};

struct X11CompareRow {
  std::string load;
  SenderFigures huddle, vnc;
  double codecMsPerFrame = 0;  // one TurboJPEG compression of the whole frame, one core (the
                               // mean of samples through Huddle's measured window)
  double codecMedianMs = 0;    // those samples' median
  std::size_t codecSamples = 0;
  double loadFps = 0;          // frames the load generator drew a second
};

struct X11CompareResult {
  std::vector<X11CompareRow> rows;
  std::string error;  // why nothing was measured
};

// Every load in turn, or only `only` if set.
X11CompareResult measureX11Compare(const std::string& binary, double seconds, const std::string& tmpDir,
                                   std::optional<X11LoadKind> only = std::nullopt);
void printX11Compare(const X11CompareResult& r);
void writeX11CompareJson(std::FILE* f, const X11CompareResult& r);

}  // namespace huddle::bench
