// The sharer's mouse cursor as it travels beside the tiles: its shape (straight-alpha RGBA,
// a hot spot) under an id that names that shape for as long as it is cached, and where it is.
// Thread: plain values.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

namespace huddle::base {

struct CursorImage {
  std::uint32_t id = 0;  // names this shape (an X cursor serial, or the test scene's arrow)
  std::uint16_t widthPx = 0, heightPx = 0;
  std::uint16_t hotX = 0, hotY = 0;  // the pixel of the shape that is "the" position
  std::vector<std::uint8_t> rgba;    // widthPx * heightPx * 4, R first, not premultiplied
};

struct CursorPos {
  std::uint32_t shapeId = 0;
  std::int32_t x = 0, y = 0;  // the hot spot, in stream pixels
  bool visible = false;       // false: hidden, or outside what is shared
  bool operator==(const CursorPos&) const = default;
};

// `in` at `percent` of its size (nearest pixel, so edges stay crisp), under an id that
// differs per scale so a viewer never shows a shape at the wrong size.
inline CursorImage scaledCursor(const CursorImage& in, int percent) {
  if (percent >= 100 || percent <= 0) return in;
  CursorImage out;
  out.id = (in.id & 0x00FFFFFFu) | std::uint32_t(percent) << 24;
  out.widthPx = static_cast<std::uint16_t>(std::max(1, in.widthPx * percent / 100));
  out.heightPx = static_cast<std::uint16_t>(std::max(1, in.heightPx * percent / 100));
  out.hotX = static_cast<std::uint16_t>(std::min<int>(in.hotX * percent / 100, out.widthPx - 1));
  out.hotY = static_cast<std::uint16_t>(std::min<int>(in.hotY * percent / 100, out.heightPx - 1));
  out.rgba.resize(std::size_t(out.widthPx) * out.heightPx * 4);
  for (int y = 0; y < out.heightPx; ++y)
    for (int x = 0; x < out.widthPx; ++x) {
      const int sx = std::min<int>(in.widthPx - 1, x * 100 / percent), sy = std::min<int>(in.heightPx - 1, y * 100 / percent);
      std::memcpy(&out.rgba[(std::size_t(y) * out.widthPx + x) * 4], &in.rgba[(std::size_t(sy) * in.widthPx + sx) * 4], 4);
    }
  return out;
}

// Draws `shape` with its hot spot at (x, y) over a BGRX image of w x h (stride w*4), alpha
// blended and clipped: the one compositing rule for snapshots and tests.
inline void blendCursor(std::uint8_t* bgrx, int w, int h, const CursorImage& shape, int x, int y) {
  const int x0 = x - shape.hotX, y0 = y - shape.hotY;
  for (int sy = 0; sy < shape.heightPx; ++sy) {
    const int dy = y0 + sy;
    if (dy < 0 || dy >= h) continue;
    for (int sx = 0; sx < shape.widthPx; ++sx) {
      const int dx = x0 + sx;
      if (dx < 0 || dx >= w) continue;
      const std::uint8_t* s = &shape.rgba[(std::size_t(sy) * shape.widthPx + sx) * 4];
      std::uint8_t* d = bgrx + (std::size_t(dy) * w + dx) * 4;
      const unsigned a = s[3];
      d[0] = static_cast<std::uint8_t>((s[2] * a + d[0] * (255 - a) + 127) / 255);
      d[1] = static_cast<std::uint8_t>((s[1] * a + d[1] * (255 - a) + 127) / 255);
      d[2] = static_cast<std::uint8_t>((s[0] * a + d[2] * (255 - a) + 127) / 255);
    }
  }
}

}  // namespace huddle::base
