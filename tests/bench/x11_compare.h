// huddle-bench's side-by-side run on a real X screen (issue 12): for each load an animated X
// client draws on a private 1920x1080 Xvfb (x11_load.h), and in the same run
//   - Huddle shares it (`--share x11`, 60 fps, JPEG 80 4:2:0) to one headless viewer,
//   - TigerVNC's scraping server (X0tigervnc) serves it to a small RFB viewer asking for
//     Tight JPEG at the same quality (rfb_client.h),
//   - TurboJPEG compresses one captured frame on one core (the codec's own cost).
// Sender CPU is the whole server process's, from /proc, per update delivered.
#pragma once
#include <cstdio>
#include <string>
#include <vector>

namespace huddle::bench {

struct SenderFigures {
  double updatesPerSec = 0;
  double cpuMsPerUpdate = 0;   // sender CPU (all threads) per update delivered
  double cpuPercent = 0;       // of one core
  double kbPerUpdate = 0;      // after the first (full) image
  double bytesPerSec = 0;
  double latencyP50Ms = -1;    // capture to decoded (Huddle's viewer); -1 where not known
  std::string error;
};

struct X11CompareRow {
  std::string load;
  SenderFigures huddle, vnc;
  double codecMsPerFrame = 0;  // one TurboJPEG compression of the whole frame, one core
  double loadFps = 0;          // frames the load generator drew a second
};

struct X11CompareResult {
  std::vector<X11CompareRow> rows;
  std::string error;  // why nothing was measured
};

X11CompareResult measureX11Compare(const std::string& binary, double seconds, const std::string& tmpDir);
void printX11Compare(const X11CompareResult& r);
void writeX11CompareJson(std::FILE* f, const X11CompareResult& r);

}  // namespace huddle::bench
