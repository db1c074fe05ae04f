// A small RFB 3.8 viewer for huddle-bench, to measure a VNC server side by side with Huddle:
// it asks for Tight with JPEG (quality and subsampling as Huddle's), CopyRect and LastRect,
// and counts updates and bytes. It reads each rectangle's length from the stream (no pixels
// are decoded), and asks for the next incremental update as soon as one has arrived, as a
// viewer on a fast link would.
#pragma once
#include <cstdint>
#include <string>

namespace huddle::bench {

struct RfbFigures {
  std::uint64_t updates = 0;      // FramebufferUpdate messages after the first (full) one
  std::uint64_t bytes = 0;        // their bytes
  std::uint64_t rects = 0;
  std::uint64_t copyRects = 0;
  std::uint64_t jpegRects = 0;
  double seconds = 0;             // from the end of the first update
  int widthPx = 0, heightPx = 0;
  std::string error;
};

// Connects to 127.0.0.1:`port` (security type None), and watches for `seconds` after the first
// full update.
RfbFigures watchRfb(std::uint16_t port, double seconds, int jpegQuality);

}  // namespace huddle::bench
