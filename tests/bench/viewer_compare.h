// huddle-bench's viewer windows side by side (issue 12, "the viewer's window"): an X client
// draws a load on a private 1920x1080 Xvfb (x11_load.h); on a second 1920x1080 Xvfb, one
// after the other,
//   - Huddle's window watches Huddle's share of it (30 fps, JPEG 80 4:2:0), fullscreen,
//   - TigerVNC's `vncviewer` watches TigerVNC's scraping server of it (30 fps, Tight JPEG
//     at quality level 6: JPEG 79, 4:2:0), fullscreen,
// both under Mesa's software renderer / plain X as on a machine without a GPU. What each
// viewer shows is read off its display (the load's frame code, screen_stamp.h), so images
// shown a second and draw-to-screen latency are measured the same way for both; CPU is the
// whole viewer process's, from /proc.
#pragma once
#include <cstddef>
#include <cstdio>
#include <string>
#include <vector>

namespace huddle::bench {

struct ViewerFigures {
  double imagesPerSec = 0;   // distinct frame codes that reached the viewer's display
  double cpuPercent = 0;     // of one core, the whole viewer process
  double cpuMsPerImage = 0;
  // The X server the viewer draws on, over the same seconds, an image (its work putting images
  // on the screen: copies a viewer asks of it count here; what the bench's own reads of the
  // frame code cost it, measured with no viewer, is taken out).
  double serverCpuMsPerImage = 0;
  double latencyP50Ms = -1, latencyP95Ms = -1;  // the load's XSync of a frame to it on the viewer's display
  std::size_t latencySamples = 0;
  std::string error;
};

struct ViewerCompareRow {
  std::string load;
  ViewerFigures huddle, vnc;
};

struct ViewerCompareResult {
  std::vector<ViewerCompareRow> rows;
  std::string error;  // why nothing was measured
};

ViewerCompareResult measureViewerCompare(const std::string& binary, double seconds, const std::string& tmpDir);
void printViewerCompare(const ViewerCompareResult& r);
// The "viewer_side_by_side" member of the JSON report (no trailing comma).
void writeViewerCompareJson(std::FILE* f, const ViewerCompareResult& r);

}  // namespace huddle::bench
