#include "capture/scaler.h"

#include <algorithm>

namespace huddle::capture {

Frame Scaler::scale(const Frame& in, int percent) {
  if (percent >= 100) return in;
  Frame out = in;
  out.keepable = nullptr;  // our own buffer, rewritten in place next time
  out.widthPx = scaledSize(in.widthPx, percent);
  out.heightPx = scaledSize(in.heightPx, percent);
  out.strideBytes = out.widthPx * kBytesPerPixel;
  // With the source's hint and last frame's output still here, only the hinted areas (grown
  // by a pixel for the filters' reach) are scaled again.
  const bool incremental = in.changed && m_valid && m_inWidth == in.widthPx && m_inHeight == in.heightPx &&
                           m_percent == percent;
  m_buffer.resize(std::size_t(out.strideBytes) * out.heightPx);
  m_inWidth = in.widthPx;
  m_inHeight = in.heightPx;
  m_percent = percent;
  m_valid = true;
  out.pixels = m_buffer.data();
  m_changed.clear();
  const base::Rect whole{0, 0, out.widthPx, out.heightPx};
  if (!incremental) {
    scaleArea(in, out, percent, whole);
    out.changed = nullptr;
    return out;
  }
  for (const base::Rect& r : *in.changed) {
    const int x0 = r.x * percent / 100 - 1, y0 = r.y * percent / 100 - 1;
    const int x1 = (r.right() * percent + 99) / 100 + 1, y1 = (r.bottom() * percent + 99) / 100 + 1;
    const base::Rect area = base::Rect{x0, y0, x1 - x0, y1 - y0}.intersected(whole);
    if (area.empty()) continue;
    scaleArea(in, out, percent, area);
    m_changed.push_back(area);
  }
  out.changed = &m_changed;
  return out;
}

void Scaler::scaleArea(const Frame& in, const Frame& out, int percent, const base::Rect& area) {
  auto px = [&](int x, int y) { return in.pixels + std::size_t(y) * in.strideBytes + std::size_t(x) * kBytesPerPixel; };
  if (percent == 50) {
    // Averages 2x2 blocks.
    for (int y = area.y; y < area.bottom(); ++y) {
      std::uint8_t* d = m_buffer.data() + std::size_t(y) * out.strideBytes + std::size_t(area.x) * kBytesPerPixel;
      int sy0 = std::min(2 * y, in.heightPx - 1), sy1 = std::min(2 * y + 1, in.heightPx - 1);
      for (int x = area.x; x < area.right(); ++x, d += 4) {
        int sx0 = std::min(2 * x, in.widthPx - 1), sx1 = std::min(2 * x + 1, in.widthPx - 1);
        const std::uint8_t *a = px(sx0, sy0), *b = px(sx1, sy0), *c = px(sx0, sy1), *e = px(sx1, sy1);
        for (int k = 0; k < 3; ++k) d[k] = static_cast<std::uint8_t>((a[k] + b[k] + c[k] + e[k] + 2) >> 2);
        d[3] = 0xFF;
      }
    }
    return;
  }
  // Bilinear, 8-bit fixed-point weights; source positions at pixel centres.
  const std::int64_t stepX = (std::int64_t(in.widthPx) << 16) / out.widthPx;
  const std::int64_t stepY = (std::int64_t(in.heightPx) << 16) / out.heightPx;
  for (int y = area.y; y < area.bottom(); ++y) {
    std::int64_t fy = std::max<std::int64_t>(0, y * stepY + stepY / 2 - (1 << 15));
    int y0 = std::min(static_cast<int>(fy >> 16), in.heightPx - 1), y1 = std::min(y0 + 1, in.heightPx - 1);
    int wy = static_cast<int>((fy >> 8) & 255);
    std::uint8_t* d = m_buffer.data() + std::size_t(y) * out.strideBytes + std::size_t(area.x) * kBytesPerPixel;
    for (int x = area.x; x < area.right(); ++x, d += 4) {
      std::int64_t fx = std::max<std::int64_t>(0, x * stepX + stepX / 2 - (1 << 15));
      int x0 = std::min(static_cast<int>(fx >> 16), in.widthPx - 1), x1 = std::min(x0 + 1, in.widthPx - 1);
      int wx = static_cast<int>((fx >> 8) & 255);
      const std::uint8_t *a = px(x0, y0), *b = px(x1, y0), *c = px(x0, y1), *e = px(x1, y1);
      for (int k = 0; k < 3; ++k) {
        int top = a[k] * (256 - wx) + b[k] * wx, bottom = c[k] * (256 - wx) + e[k] * wx;
        d[k] = static_cast<std::uint8_t>((top * (256 - wy) + bottom * wy + (1 << 15)) >> 16);
      }
      d[3] = 0xFF;
    }
  }
}

}  // namespace huddle::capture
