#include "capture/framebuffer.h"

#include "capture/copy_rect.h"

#include <stb_image_write.h>

#include <algorithm>
#include <cstring>
#include <utility>

namespace huddle::capture {

void Framebuffer::resize(int widthPx, int heightPx) {
  m_width = widthPx;
  m_height = heightPx;
  m_pixels.assign(std::size_t(widthPx) * heightPx * 4, 0);
  for (std::size_t i = 3; i < m_pixels.size(); i += 4) m_pixels[i] = 0xFF;
  m_dirty.clear();
  m_dirty.add({0, 0, widthPx, heightPx});
}

bool Framebuffer::apply(const std::vector<base::EncodedTile>& tiles, int tileSizePx, TileDecoder& decoder,
                        std::string& error) {
  bool ok = true;
  std::string tileError;
  for (const auto& t : tiles) {
    if (!decoder.decode(t, tileSizePx, m_width, m_height, m_pixels.data(), strideBytes(), tileError)) {
      if (ok) error = "tile (" + std::to_string(t.tx) + "," + std::to_string(t.ty) + "): " + tileError;
      ok = false;
      continue;
    }
    int x = t.tx * tileSizePx, y = t.ty * tileSizePx;
    m_dirty.add({x, y, std::min(tileSizePx, m_width - x), std::min(tileSizePx, m_height - y)});
  }
  return ok;
}

void Framebuffer::paint(const base::Rect& r, const std::uint8_t* src, int srcStrideBytes) {
  const base::Rect c = r.intersected({0, 0, m_width, m_height});
  if (c.empty()) return;
  src += std::size_t(c.y - r.y) * srcStrideBytes + std::size_t(c.x - r.x) * 4;
  for (int y = 0; y < c.h; ++y)
    std::memcpy(m_pixels.data() + std::size_t(c.y + y) * strideBytes() + std::size_t(c.x) * 4,
                src + std::size_t(y) * srcStrideBytes, std::size_t(c.w) * 4);
  m_dirty.add(c);
}

void Framebuffer::fill(const base::Rect& r, std::uint32_t bgrx) {
  const base::Rect c = r.intersected({0, 0, m_width, m_height});
  if (c.empty()) return;
  fillBgrx(m_pixels.data(), strideBytes(), c.x, c.y, c.w, c.h, bgrx);
  m_dirty.add(c);
}

void Framebuffer::copy(const base::CopyRect& c) {
  if (!c.inside(m_width, m_height)) return;
  applyCopy(m_pixels.data(), std::size_t(strideBytes()), c);
  m_dirty.add({c.dstX, c.dstY, c.w, c.h});
}

base::DirtyRects Framebuffer::takeDirty() { return std::exchange(m_dirty, base::DirtyRects{}); }

bool Framebuffer::savePng(const std::string& path, std::string& error) const {
  if (m_width <= 0 || m_height <= 0) return error = "there is no image yet", false;
  std::vector<std::uint8_t> rgb(std::size_t(m_width) * m_height * 3);
  for (std::size_t i = 0, j = 0; i < rgb.size(); i += 3, j += 4) {
    rgb[i] = m_pixels[j + 2];
    rgb[i + 1] = m_pixels[j + 1];
    rgb[i + 2] = m_pixels[j];
  }
  stbi_flip_vertically_on_write(0);
  if (!stbi_write_png(path.c_str(), m_width, m_height, 3, rgb.data(), m_width * 3))
    return error = "cannot write " + path, false;
  return true;
}

}  // namespace huddle::capture
