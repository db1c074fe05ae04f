// huddle-bench's window figures (issue 12, "the viewer's window"): a real client window under
// a private Xvfb (Mesa's software renderer, as on a machine without a GPU) watching a 1080p
// 30 fps share, its CPU per stream image shown and its redraws a second, in a small view and
// fullscreen. The window reports its own counts when sent SIGUSR1.
#pragma once
#include <cstdio>
#include <string>
#include <vector>

namespace huddle::bench {

struct WindowBenchRow {
  std::string view;             // "in its panel", "fullscreen"
  double redrawsPerSec = 0;     // frames the window drew
  double imagesPerSec = 0;      // stream images that reached the screen
  double cpuPercent = 0;        // of one core, the whole client process (renderer threads too)
  double cpuMsPerImage = 0;
  std::string error;
};

struct WindowBenchResult {
  std::vector<WindowBenchRow> rows;
  std::string error;  // why nothing was measured (no Xvfb, ...)
};

WindowBenchResult measureWindow(const std::string& binary, double seconds, const std::string& tmpDir);
void printWindow(const WindowBenchResult& r);
// The "window" member of the JSON report (no trailing comma).
void writeWindowJson(std::FILE* f, const WindowBenchResult& r);

}  // namespace huddle::bench
