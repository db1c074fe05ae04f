#include "tests/bench/screen_stamp.h"

#include <algorithm>
#include <cmath>

namespace huddle::bench {

namespace {

// The mean brightness of a block's middle 8x8 (away from JPEG's ringing at its edges); -1
// where it is neither clearly black nor clearly white.
int blockBit(const std::uint8_t* bgrx, std::size_t strideBytes, int bx, int by) {
  const int inset = kStampBlockPx / 4;
  int sum = 0, n = 0;
  for (int y = by * kStampBlockPx + inset; y < (by + 1) * kStampBlockPx - inset; ++y)
    for (int x = bx * kStampBlockPx + inset; x < (bx + 1) * kStampBlockPx - inset; ++x) {
      const std::uint8_t* p = bgrx + std::size_t(y) * strideBytes + std::size_t(x) * 4;
      sum += (p[0] + 2 * p[1] + p[2]) / 4, ++n;
    }
  const int mean = sum / n;
  if (mean < 80) return 0;
  if (mean > 175) return 1;
  return -1;
}

}  // namespace

std::int64_t readStamp(const std::uint8_t* bgrx, std::size_t strideBytes) {
  std::uint32_t number = 0;
  for (int i = 0; i < kStampBits; ++i) {
    const int bit = blockBit(bgrx, strideBytes, i, 0), inverted = blockBit(bgrx, strideBytes, i, 1);
    if (bit < 0 || inverted < 0 || bit == inverted) return -1;
    number = number << 1 | static_cast<std::uint32_t>(bit);
  }
  return number;
}

double StampLatency::percentileMs(double p) const {
  if (m_ms.empty()) return -1;
  std::vector<double> v = m_ms;
  std::sort(v.begin(), v.end());
  const auto i = static_cast<std::size_t>(std::lround(p / 100.0 * static_cast<double>(v.size() - 1)));
  return v[std::min(i, v.size() - 1)];
}

}  // namespace huddle::bench
