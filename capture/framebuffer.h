// A viewer's copy of a shared screen: a BGRX image that tiles are decoded into, with the
// rectangles changed since the window last uploaded it. Saves itself as a PNG (snapshots).
// Thread: written by the decode thread (a viewer decodes elsewhere and paints in under its
// lock); the UI reads through that lock, held only for copies (see session::StreamView).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "capture/tile_codec.h"
#include "net/base/dirty_rects.h"
#include "net/base/rect.h"

namespace huddle::capture {

class Framebuffer {
 public:
  // Makes the image widthPx x heightPx (black) and marks it all dirty.
  void resize(int widthPx, int heightPx);
  // Decodes `tiles` (a grid of tileSizePx) into the image. Returns false if any tile was
  // bad (the others are applied); `error` names the first problem.
  bool apply(const std::vector<base::EncodedTile>& tiles, int tileSizePx, TileDecoder& decoder, std::string& error);
  // Copies an already decoded BGRX block (`srcStrideBytes` per row) to `r`, or fills `r`
  // with one colour, and marks it dirty: how a viewer that decodes elsewhere publishes.
  // `r` is clipped to the image.
  void paint(const base::Rect& r, const std::uint8_t* src, int srcStrideBytes);
  void fill(const base::Rect& r, std::uint32_t bgrx);
  // Moves a block of the image (a scroll), overlap-safe, and marks its destination dirty.
  // Ignored unless `c` is inside the image.
  void copy(const base::CopyRect& c);

  int widthPx() const { return m_width; }
  int heightPx() const { return m_height; }
  int strideBytes() const { return m_width * 4; }
  const std::uint8_t* pixels() const { return m_pixels.data(); }
  // The rectangles changed since the last takeDirty(), and resets them.
  base::DirtyRects takeDirty();
  const base::DirtyRects& dirty() const { return m_dirty; }

  // Writes the image as an RGB PNG; false with `error`.
  bool savePng(const std::string& path, std::string& error) const;

 private:
  int m_width = 0, m_height = 0;
  std::vector<std::uint8_t> m_pixels;
  base::DirtyRects m_dirty;
};

}  // namespace huddle::capture
