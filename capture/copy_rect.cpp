#include "capture/copy_rect.h"

#include <algorithm>
#include <cstring>

namespace huddle::capture {

void applyCopy(std::uint8_t* pixels, std::size_t strideBytes, const base::CopyRect& c) {
  const std::size_t bytes = std::size_t(c.w) * 4;
  auto row = [&](int srcRow, int dstRow) {
    std::memmove(pixels + std::size_t(dstRow) * strideBytes + std::size_t(c.dstX) * 4,
                 pixels + std::size_t(srcRow) * strideBytes + std::size_t(c.srcX) * 4, bytes);
  };
  if (c.dstY > c.srcY) {
    for (int i = c.h - 1; i >= 0; --i) row(c.srcY + i, c.dstY + i);  // moving down: bottom row first
  } else {
    for (int i = 0; i < c.h; ++i) row(c.srcY + i, c.dstY + i);
  }
}

bool copyMatches(const std::uint8_t* frame, std::size_t frameStride, const std::uint8_t* ref, std::size_t refStride,
                 const base::CopyRect& c) {
  const std::size_t bytes = std::size_t(c.w) * 4;
  for (int i = 0; i < c.h; ++i)
    if (std::memcmp(frame + std::size_t(c.dstY + i) * frameStride + std::size_t(c.dstX) * 4,
                    ref + std::size_t(c.srcY + i) * refStride + std::size_t(c.srcX) * 4, bytes) != 0)
      return false;
  return true;
}

void copyTouchedTiles(const base::CopyRect& c, int tile, int tilesX, std::vector<std::uint32_t>& out) {
  if (c.w <= 0 || c.h <= 0 || tile <= 0) return;
  for (int ty = c.dstY / tile; ty <= (c.dstY + c.h - 1) / tile; ++ty)
    for (int tx = c.dstX / tile; tx <= (c.dstX + c.w - 1) / tile; ++tx)
      out.push_back(static_cast<std::uint32_t>(ty * tilesX + tx));
}

void moveExactness(std::vector<std::uint8_t>& exact, const base::CopyRect& c, int tile, int tilesX, int tilesY,
                   std::vector<std::uint32_t>& touched) {
  const std::size_t first = touched.size();
  copyTouchedTiles(c, tile, tilesX, touched);
  const std::vector<std::uint8_t> before = exact;  // every source reads the state before the copy
  for (std::size_t k = first; k < touched.size(); ++k) {
    const std::uint32_t i = touched[k];
    if (i >= exact.size()) continue;
    const int tx = int(i) % tilesX, ty = int(i) / tilesX;
    // The part of this tile the copy writes, and where those pixels came from.
    const int x0 = std::max(tx * tile, c.dstX), x1 = std::min(tx * tile + tile, c.dstX + c.w);
    const int y0 = std::max(ty * tile, c.dstY), y1 = std::min(ty * tile + tile, c.dstY + c.h);
    const bool whole = x0 == tx * tile && y0 == ty * tile && x1 - x0 == tile && y1 - y0 == tile;
    bool ok = whole || before[i] != 0;
    const int sx0 = x0 - c.dstX + c.srcX, sx1 = x1 - 1 - c.dstX + c.srcX;
    const int sy0 = y0 - c.dstY + c.srcY, sy1 = y1 - 1 - c.dstY + c.srcY;
    for (int sy = sy0 / tile; ok && sy <= sy1 / tile && sy < tilesY; ++sy)
      for (int sx = sx0 / tile; ok && sx <= sx1 / tile && sx < tilesX; ++sx)
        ok = before[std::size_t(sy) * tilesX + sx] != 0;
    exact[i] = ok ? 1 : 0;
  }
}

}  // namespace huddle::capture
