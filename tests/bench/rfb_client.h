// A small RFB 3.8 viewer for huddle-bench, to measure a VNC server side by side with Huddle:
// it asks for Tight with JPEG (quality and subsampling as Huddle's), CopyRect and LastRect,
// and counts updates and bytes. It frames every rectangle, inflates every zlib one (the four
// streams of Tight keep their state) and decodes every JPEG one, as a viewer would, but keeps
// pixels only for the frame code's area (screen_stamp.h): at the end of each update it reads
// the code there, for the draw-to-decoded latency. It asks for the next incremental update as
// soon as one has arrived, as a viewer on a fast link would.
#pragma once
#include <cstdint>
#include <functional>
#include <string>

#include "tests/bench/screen_stamp.h"

namespace huddle::bench {

struct RfbFigures {
  std::uint64_t updates = 0;      // FramebufferUpdate messages after the first (full) one
  std::uint64_t bytes = 0;        // their bytes
  std::uint64_t rects = 0;
  std::uint64_t copyRects = 0;
  std::uint64_t jpegRects = 0;
  double seconds = 0;             // from the end of the first update
  int widthPx = 0, heightPx = 0;
  StampLatency latency;           // draw to decoded, per frame code first shown
  std::string error;
};

// Connects to 127.0.0.1:`port` (security type None), and watches for `seconds` after the first
// full update. `drawnAtUs` (when the frame with a code was drawn, 0: unknown) gives the
// latency; none is measured without it.
RfbFigures watchRfb(std::uint16_t port, double seconds, int jpegQuality,
                    const std::function<std::int64_t(std::uint32_t)>& drawnAtUs = {});

}  // namespace huddle::bench
