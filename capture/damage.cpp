#include "capture/damage.h"

#include <algorithm>
#include <cstring>

namespace huddle::capture {

void DamageTracker::setTileSize(int tileSizePx) {
  if (tileSizePx == m_tile) return;
  m_tile = tileSizePx;
  m_valid = false;
}

const std::vector<std::uint32_t>& DamageTracker::update(const Frame& f) {
  m_dirty.clear();
  m_rects.clear();
  const std::size_t rowBytes = std::size_t(f.widthPx) * kBytesPerPixel;
  std::vector<std::uint8_t> equal;
  equal.swap(m_equal);  // only for this frame
  if (!m_valid || f.widthPx != m_width || f.heightPx != m_height) {
    // Seed: copy the whole frame, everything is dirty.
    m_width = f.widthPx;
    m_height = f.heightPx;
    m_tilesX = (m_width + m_tile - 1) / m_tile;
    m_tilesY = (m_height + m_tile - 1) / m_tile;
    m_previous.resize(rowBytes * m_height);
    for (int y = 0; y < m_height; ++y)
      std::memcpy(m_previous.data() + y * rowBytes, f.pixels + std::size_t(y) * f.strideBytes, rowBytes);
    m_dirty.resize(std::size_t(m_tilesX) * m_tilesY);
    m_rects.resize(m_dirty.size());
    for (std::uint32_t i = 0; i < m_dirty.size(); ++i) {
      m_dirty[i] = i;
      const int x0 = int(i % std::uint32_t(m_tilesX)) * m_tile, y0 = int(i / std::uint32_t(m_tilesX)) * m_tile;
      m_rects[i] = {x0, y0, std::min(m_tile, m_width - x0), std::min(m_tile, m_height - y0)};
    }
    m_stats.tilesCompared += m_dirty.size();
    m_stats.tilesChanged += m_dirty.size();
    m_valid = true;
    return m_dirty;
  }
  // The source's hint narrows the comparison to tiles it may have touched.
  const bool hinted = f.changed != nullptr;
  std::size_t compared = 0;
  if (hinted) {
    m_hinted.assign(std::size_t(m_tilesX) * m_tilesY, 0);
    const base::Rect frameRect{0, 0, m_width, m_height};
    for (const base::Rect& raw : *f.changed) {
      const base::Rect r = raw.intersected(frameRect);
      if (r.empty()) continue;
      for (int ty = r.y / m_tile; ty <= (r.bottom() - 1) / m_tile; ++ty)
        for (int tx = r.x / m_tile; tx <= (r.right() - 1) / m_tile; ++tx) m_hinted[std::size_t(ty) * m_tilesX + tx] = 1;
    }
  }
  for (int ty = 0; ty < m_tilesY; ++ty) {
    const int y0 = ty * m_tile, h = std::min(m_tile, m_height - y0);
    for (int tx = 0; tx < m_tilesX; ++tx) {
      if (hinted && !m_hinted[std::size_t(ty) * m_tilesX + tx]) continue;
      if (!equal.empty() && equal[std::size_t(ty) * m_tilesX + tx]) continue;
      ++compared;
      const int x0 = tx * m_tile, w = std::min(m_tile, m_width - x0);
      const std::size_t off = std::size_t(x0) * kBytesPerPixel, bytes = std::size_t(w) * kBytesPerPixel;
      // Compare row by row and stop at the first difference; unchanged tiles cost one pass.
      int y = 0;
      for (; y < h; ++y) {
        if (std::memcmp(f.pixels + std::size_t(y0 + y) * f.strideBytes + off,
                        m_previous.data() + std::size_t(y0 + y) * rowBytes + off, bytes) != 0)
          break;
      }
      if (y == h) continue;
      // Rows above the first difference are equal already; below it, each row that differs is
      // copied, and the changed pixels' bounds kept (a scroll's new line dirties a few rows).
      int top = y, bottom = y, left = w, right = 0;
      for (; y < h; ++y) {
        const std::uint8_t* src = f.pixels + std::size_t(y0 + y) * f.strideBytes + off;
        std::uint8_t* ref = m_previous.data() + std::size_t(y0 + y) * rowBytes + off;
        if (std::memcmp(src, ref, bytes) == 0) continue;
        bottom = y;
        int l = 0, r = w;
        while (l < left && std::memcmp(src + l * kBytesPerPixel, ref + l * kBytesPerPixel, kBytesPerPixel) == 0) ++l;
        while (r > right && std::memcmp(src + (r - 1) * kBytesPerPixel, ref + (r - 1) * kBytesPerPixel,
                                        kBytesPerPixel) == 0)
          --r;
        left = std::min(left, l);
        right = std::max(right, r);
        std::memcpy(ref, src, bytes);
      }
      m_dirty.push_back(static_cast<std::uint32_t>(ty * m_tilesX + tx));
      m_rects.push_back({x0 + left, y0 + top, std::max(1, right - left), bottom - top + 1});
    }
  }
  m_stats.tilesCompared += compared;
  m_stats.tilesChanged += m_dirty.size();
  return m_dirty;
}

}  // namespace huddle::capture
