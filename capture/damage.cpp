#include "capture/damage.h"

#include <algorithm>
#include <cstring>

namespace huddle::capture {

void DamageTracker::setTileSize(int tileSizePx) {
  if (tileSizePx == m_tile) return;
  m_tile = tileSizePx;
  m_valid = false;
}

namespace {
// Copies rows [y0, y1) of a tile's columns from one BGRX image to another.
void copyTileRows(const std::uint8_t* from, std::size_t fromStride, std::uint8_t* to, std::size_t toStride,
                  std::size_t offBytes, std::size_t bytes, int y0, int y1) {
  for (int y = y0; y < y1; ++y)
    std::memcpy(to + std::size_t(y) * toStride + offBytes, from + std::size_t(y) * fromStride + offBytes, bytes);
}
}  // namespace

const std::vector<std::uint32_t>& DamageTracker::update(const Frame& f, bool changedBounds) {
  m_dirty.clear();
  m_firstRow.clear();
  m_uncompared.clear();
  m_rects.clear();
  const std::size_t rowBytes = std::size_t(f.widthPx) * kBytesPerPixel;
  std::vector<std::uint8_t> equal;
  equal.swap(m_equal);  // only for this frame
  // A kept reference needs keepable frames (a source that stopped double-buffering starts over).
  if (!m_valid || f.widthPx != m_width || f.heightPx != m_height || (m_kept && f.keepable == nullptr)) {
    // Seed: everything is dirty; the frame becomes the reference (kept, or copied).
    m_width = f.widthPx;
    m_height = f.heightPx;
    m_tilesX = (m_width + m_tile - 1) / m_tile;
    m_tilesY = (m_height + m_tile - 1) / m_tile;
    if (f.keepable != nullptr) {
      m_ref = f.keepable;
      m_refStride = std::size_t(f.strideBytes);
      m_kept = true;
      ++m_stats.framesKept;
      std::vector<std::uint8_t>().swap(m_previous);
    } else {
      m_previous.resize(rowBytes * m_height);
      for (int y = 0; y < m_height; ++y)
        std::memcpy(m_previous.data() + y * rowBytes, f.pixels + std::size_t(y) * f.strideBytes, rowBytes);
      m_ref = m_previous.data();
      m_refStride = rowBytes;
      m_kept = false;
    }
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
  // The very buffer that is the reference: the source fetched nothing since.
  if (f.pixels == m_ref) return m_dirty;
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
  const std::size_t stride = std::size_t(f.strideBytes);
  for (int ty = 0; ty < m_tilesY; ++ty) {
    const int y0 = ty * m_tile, h = std::min(m_tile, m_height - y0);
    for (int tx = 0; tx < m_tilesX; ++tx) {
      const auto index = static_cast<std::uint32_t>(ty * m_tilesX + tx);
      if (!equal.empty() && equal[index]) continue;  // equal already, in the frame and the reference
      if (hinted && !m_hinted[index]) {
        m_uncompared.push_back(index);
        continue;
      }
      ++compared;
      const int x0 = tx * m_tile, w = std::min(m_tile, m_width - x0);
      const std::size_t off = std::size_t(x0) * kBytesPerPixel, bytes = std::size_t(w) * kBytesPerPixel;
      // Compare row by row and stop at the first difference; unchanged tiles cost one pass.
      const std::uint8_t* a = f.pixels + std::size_t(y0) * stride + off;
      const std::uint8_t* b = m_ref + std::size_t(y0) * m_refStride + off;
      int y = 0;
      for (; y < h && std::memcmp(a, b, bytes) == 0; ++y, a += stride, b += m_refStride) {
      }
      if (y == h) continue;
      // Rows above the first difference are equal already; the changed pixels' bounds are kept
      // (a scroll's new line dirties a few rows). The last changed row is found from the
      // bottom, and the columns only until they span the tile, so a full change costs about
      // one compare of each tile. The reference is brought up to the frame further down.
      const int top = y;
      if (!changedBounds) {
        m_dirty.push_back(index);
        m_firstRow.push_back(static_cast<std::uint16_t>(top));
        m_rects.push_back({x0, y0 + top, w, h - top});
        continue;
      }
      int bottom = h - 1;
      const std::uint8_t* fa = f.pixels + std::size_t(y0) * stride + off;
      const std::uint8_t* fb = m_ref + std::size_t(y0) * m_refStride + off;
      while (bottom > top && std::memcmp(fa + std::size_t(bottom) * stride, fb + std::size_t(bottom) * m_refStride, bytes) == 0)
        --bottom;
      int left = w, right = 0;
      for (; y <= bottom && (left > 0 || right < w); ++y, a += stride, b += m_refStride) {
        int l = 0, r = w;
        while (l < left && std::memcmp(a + l * kBytesPerPixel, b + l * kBytesPerPixel, kBytesPerPixel) == 0) ++l;
        if (l == w) continue;  // this row is equal
        while (r > right && std::memcmp(a + (r - 1) * kBytesPerPixel, b + (r - 1) * kBytesPerPixel, kBytesPerPixel) == 0)
          --r;
        left = std::min(left, l);
        right = std::max(right, r);
      }
      m_dirty.push_back(index);
      m_firstRow.push_back(static_cast<std::uint16_t>(top));
      m_rects.push_back({x0 + left, y0 + top, std::max(1, right - left), bottom - top + 1});
    }
  }
  // Bring the reference up to the frame: the frame's own buffer when that copies less (only
  // the uncompared tiles, from the old reference, so it stays the image the viewers have),
  // else the changed rows into the reference.
  if (f.keepable != nullptr && m_uncompared.size() <= m_dirty.size()) {
    for (std::uint32_t index : m_uncompared) {
      const int tx = int(index) % m_tilesX, ty = int(index) / m_tilesX;
      const int x0 = tx * m_tile, y0 = ty * m_tile;
      copyTileRows(m_ref, m_refStride, f.keepable, stride, std::size_t(x0) * kBytesPerPixel,
                   std::size_t(std::min(m_tile, m_width - x0)) * kBytesPerPixel, y0, std::min(y0 + m_tile, m_height));
    }
    m_stats.tilesCopied += m_uncompared.size();
    m_ref = f.keepable;
    m_refStride = stride;
    m_kept = true;
    ++m_stats.framesKept;
    std::vector<std::uint8_t>().swap(m_previous);
  } else {
    for (std::size_t i = 0; i < m_dirty.size(); ++i) {
      const int tx = int(m_dirty[i]) % m_tilesX, ty = int(m_dirty[i]) / m_tilesX;
      const int x0 = tx * m_tile, y0 = ty * m_tile;
      copyTileRows(f.pixels, stride, m_ref, m_refStride, std::size_t(x0) * kBytesPerPixel,
                   std::size_t(std::min(m_tile, m_width - x0)) * kBytesPerPixel, y0 + m_firstRow[i],
                   std::min(y0 + m_tile, m_height));
    }
    m_stats.tilesCopied += m_dirty.size();
  }
  m_stats.tilesCompared += compared;
  m_stats.tilesChanged += m_dirty.size();
  return m_dirty;
}

}  // namespace huddle::capture
