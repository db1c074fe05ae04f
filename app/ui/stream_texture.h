// A shared screen as an OpenGL texture. Each UI frame uploads only the rectangles the decode
// thread changed since the last look (glTexSubImage2D with GL_UNPACK_ROW_LENGTH, straight
// from the BGRX framebuffer; no conversion, no copy). The X byte is ignored via an alpha
// swizzle. Thread: the UI (GL) thread only.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "app/session/stream_view.h"
#include "app/ui/present_plan.h"

struct ImVec2;

namespace huddle::ui {

// GL names let go this frame are deleted when the next begins: the frame's draw data may still
// name them (a viewer closed while it was drawn). The window calls this before each frame, and
// once after the last.
void deleteRetiredGlObjects();

class StreamTexture {
 public:
  StreamTexture() = default;
  ~StreamTexture();
  StreamTexture(const StreamTexture&) = delete;
  StreamTexture& operator=(const StreamTexture&) = delete;

  // Uploads what changed in `view`; true if anything did.
  bool update(session::StreamView& view);
  // Nearest at 1:1 and above (crisp text), linear when scaled down.
  void setNearest(bool nearest);
  // Draws the image over [a, b), opaque (blending every pixel of it is most of a frame's cost
  // in a software renderer): at 1:1 on whole pixels as a blit, else as a textured quad.
  void draw(ImDrawList* dl, const ImVec2& a, const ImVec2& b);

  unsigned id() const { return m_texture; }
  int widthPx() const { return m_width; }
  int heightPx() const { return m_height; }
  std::uint64_t bytesUploaded() const { return m_bytesUploaded; }
  std::uint64_t uploads() const { return m_uploads; }  // images that changed what it shows
  double lastUploadMs() const { return m_lastUploadMs; }

 private:
  unsigned m_texture = 0;
  unsigned m_framebuffer = 0;  // reads the texture, for blits
  bool m_noBlit = false;       // the GL cannot read it so
  int m_width = 0, m_height = 0;
  bool m_nearest = false;

  std::uint64_t m_bytesUploaded = 0;
  std::uint64_t m_uploads = 0;
  double m_lastUploadMs = 0;
};

// The sharer's cursor as a small RGBA texture, uploaded again only when its shape changes.
// Thread: the UI (GL) thread only.
class CursorTexture {
 public:
  CursorTexture() = default;
  ~CursorTexture();
  CursorTexture(const CursorTexture&) = delete;
  CursorTexture& operator=(const CursorTexture&) = delete;

  // Holds `shape` (uploading it if it is not the one held); returns the texture.
  unsigned update(const std::shared_ptr<const base::CursorImage>& shape, bool nearest);

 private:
  unsigned m_texture = 0;
  std::shared_ptr<const base::CursorImage> m_shape;
  bool m_nearest = false;
};

// A small RGBA picture as a texture (a window's icon in the Share panel's list), uploaded
// once when made. Thread: the UI (GL) thread only.
class ImageTexture {
 public:
  ImageTexture(int widthPx, int heightPx, const std::vector<std::uint8_t>& rgba);
  ~ImageTexture();
  ImageTexture(const ImageTexture&) = delete;
  ImageTexture& operator=(const ImageTexture&) = delete;
  unsigned texture() const { return m_texture; }

 private:
  unsigned m_texture = 0;
};

}  // namespace huddle::ui
