// Downscales BGRX frames for sharing at 75% or 50%: 50% averages 2x2 blocks, 75% samples
// bilinearly. At 100% nothing is copied. When the source says where it changed, only those
// areas are scaled again (and the hint is passed on, scaled). Thread: one capture thread.
#pragma once
#include <cstdint>
#include <vector>

#include "capture/screen_source.h"

namespace huddle::capture {

class Scaler {
 public:
  // Returns `in` itself at 100%, else a frame pointing into this scaler's buffer (valid until
  // the next call). Timestamps and sequence numbers are kept.
  Frame scale(const Frame& in, int percent);

  static int scaledSize(int sizePx, int percent) { return std::max(1, sizePx * percent / 100); }

 private:
  void scaleArea(const Frame& in, const Frame& out, int percent, const base::Rect& area);

  std::vector<std::uint8_t> m_buffer;
  std::vector<base::Rect> m_changed;  // the output's hint
  int m_inWidth = 0, m_inHeight = 0, m_percent = 0;
  bool m_valid = false;
};

}  // namespace huddle::capture
