#include "app/ui/stream_texture.h"

#include <glad/gl.h>

#include "net/base/clock.h"

namespace huddle::ui {

namespace {
// A new texture, bound, edges clamped, filtered linearly (each user sets what else it needs).
GLuint newTexture() {
  GLuint texture = 0;
  glGenTextures(1, &texture);
  glBindTexture(GL_TEXTURE_2D, texture);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_LINEAR);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_LINEAR);
  return texture;
}
}  // namespace

StreamTexture::~StreamTexture() {
  if (m_texture) glDeleteTextures(1, &m_texture);
}

void StreamTexture::setNearest(bool nearest) {
  if (!m_texture || nearest == m_nearest) return;
  m_nearest = nearest;
  glBindTexture(GL_TEXTURE_2D, m_texture);
  const GLint filter = nearest ? GL_NEAREST : GL_LINEAR;
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, filter);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, filter);
}

bool StreamTexture::update(session::StreamView& view) {
  bool uploaded = false;
  view.consume([&](const capture::Framebuffer& fb, base::Rect dirty) {
    if (fb.widthPx() <= 0 || fb.heightPx() <= 0) return;
    const std::int64_t start = base::monoUs();
    if (!m_texture) {
      m_texture = newTexture();
      glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_SWIZZLE_A, GL_ONE);  // BGRX: the X byte is not alpha
      m_nearest = false;
    }
    glBindTexture(GL_TEXTURE_2D, m_texture);
    glPixelStorei(GL_UNPACK_ALIGNMENT, 4);
    if (fb.widthPx() != m_width || fb.heightPx() != m_height) {
      m_width = fb.widthPx();
      m_height = fb.heightPx();
      glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA8, m_width, m_height, 0, GL_BGRA, GL_UNSIGNED_BYTE, nullptr);
      dirty = {0, 0, m_width, m_height};
    }
    dirty = dirty.intersected({0, 0, m_width, m_height});
    if (dirty.empty()) return;
    glPixelStorei(GL_UNPACK_ROW_LENGTH, fb.widthPx());
    const std::uint8_t* from = fb.pixels() + std::size_t(dirty.y) * fb.strideBytes() + std::size_t(dirty.x) * 4;
    glTexSubImage2D(GL_TEXTURE_2D, 0, dirty.x, dirty.y, dirty.w, dirty.h, GL_BGRA, GL_UNSIGNED_BYTE, from);
    glPixelStorei(GL_UNPACK_ROW_LENGTH, 0);
    m_bytesUploaded += static_cast<std::uint64_t>(dirty.area()) * 4;
    ++m_uploads;
    m_lastUploadMs = static_cast<double>(base::monoUs() - start) / 1e3;
    uploaded = true;
  });
  return uploaded;
}

CursorTexture::~CursorTexture() {
  if (m_texture) glDeleteTextures(1, &m_texture);
}

unsigned CursorTexture::update(const std::shared_ptr<const base::CursorImage>& shape, bool nearest) {
  if (!shape) return 0;
  if (!m_texture) {
    m_texture = newTexture();
    m_nearest = !nearest;  // set below
  }
  glBindTexture(GL_TEXTURE_2D, m_texture);
  if (nearest != m_nearest) {
    m_nearest = nearest;
    const GLint filter = nearest ? GL_NEAREST : GL_LINEAR;
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, filter);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, filter);
  }
  if (shape != m_shape) {
    m_shape = shape;
    glPixelStorei(GL_UNPACK_ALIGNMENT, 4);
    glPixelStorei(GL_UNPACK_ROW_LENGTH, 0);
    glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA8, shape->widthPx, shape->heightPx, 0, GL_RGBA, GL_UNSIGNED_BYTE,
                 shape->rgba.data());
  }
  return m_texture;
}

ImageTexture::ImageTexture(int widthPx, int heightPx, const std::vector<std::uint8_t>& rgba) {
  if (widthPx <= 0 || heightPx <= 0 || rgba.size() != std::size_t(widthPx) * heightPx * 4) return;
  m_texture = newTexture();
  glPixelStorei(GL_UNPACK_ALIGNMENT, 4);
  glPixelStorei(GL_UNPACK_ROW_LENGTH, 0);
  glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA8, widthPx, heightPx, 0, GL_RGBA, GL_UNSIGNED_BYTE, rgba.data());
}

ImageTexture::~ImageTexture() {
  if (m_texture) glDeleteTextures(1, &m_texture);
}

}  // namespace huddle::ui
