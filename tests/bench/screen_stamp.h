// A frame's number drawn into the screen, so that a viewer can tell from its decoded pixels
// which frame it shows (huddle-bench's draw-to-decoded latency, the same for every sender).
// The code is a row of 16 blocks of 16x16 px, black or white for the bits of the number
// (most significant first), over a row of the same bits inverted: big flat blocks survive
// JPEG 4:2:0 at any usual quality, and the inverted row tells a torn or smudged code from a
// real one.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace huddle::bench {

constexpr int kStampBlockPx = 16;
constexpr int kStampBits = 16;
constexpr int kStampW = kStampBlockPx * kStampBits, kStampH = 2 * kStampBlockPx;
// The code sits in the bottom left corner: there a scrolling page's newly exposed rows are
// sent anyway, while a change at its top would cut a whole-height strip out of the scroll
// Huddle finds (a copy is one run of columns from the top down), and cost it far more.
constexpr int kStampX = 0;
inline int stampY(int screenHeightPx) { return screenHeightPx - kStampH; }

// Whether the code of `number` is white at (x, y) within the code's area.
inline bool stampWhite(std::uint32_t number, int x, int y) {
  const bool bit = (number >> (kStampBits - 1 - x / kStampBlockPx)) & 1u;
  return y < kStampBlockPx ? bit : !bit;
}

// Reads the code from BGRX pixels of the code's area (its top left at `bgrx`, `strideBytes`
// a row); -1 if it is not a clean code.
std::int64_t readStamp(const std::uint8_t* bgrx, std::size_t strideBytes);

// The first time each code shows, the latency from its frame's drawing to now: `drawnAtUs`
// is when the frame with that code was drawn (0: unknown).
class StampLatency {
 public:
  // A decoded image read at `nowUs` (monotonic) shows `code` (-1: none readable).
  template <typename DrawnAt>
  void shown(std::int64_t code, std::int64_t nowUs, DrawnAt&& drawnAtUs) {
    if (code < 0 || code == m_last) return;
    m_last = code;
    const std::int64_t drawn = drawnAtUs(static_cast<std::uint32_t>(code));
    if (drawn <= 0 || nowUs < drawn || nowUs - drawn > 10'000'000) return;  // not one of this run's frames
    m_ms.push_back(static_cast<double>(nowUs - drawn) / 1e3);
  }
  // A code shown before measuring started (a first full image): not a sample, and not one later.
  void baseline(std::int64_t code) {
    if (code >= 0) m_last = code;
  }
  // The p-th percentile in ms; -1 without samples.
  double percentileMs(double p) const;
  std::size_t samples() const { return m_ms.size(); }

 private:
  std::int64_t m_last = -1;
  std::vector<double> m_ms;
};

}  // namespace huddle::bench
