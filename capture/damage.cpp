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
    for (std::uint32_t i = 0; i < m_dirty.size(); ++i) m_dirty[i] = i;
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
      for (; y < h; ++y)  // rows above the first difference are equal already
        std::memcpy(m_previous.data() + std::size_t(y0 + y) * rowBytes + off,
                    f.pixels + std::size_t(y0 + y) * f.strideBytes + off, bytes);
      m_dirty.push_back(static_cast<std::uint32_t>(ty * m_tilesX + tx));
    }
  }
  m_stats.tilesCompared += compared;
  m_stats.tilesChanged += m_dirty.size();
  return m_dirty;
}

}  // namespace huddle::capture
