#include "app/ui/stream_texture.h"

#include <glad/gl.h>
#include <imgui.h>

#include <cmath>

#include "app/ui/present_plan.h"
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

std::vector<GLuint> g_retiredTextures, g_retiredFramebuffers;  // the UI thread's

void retire(GLuint texture, GLuint framebuffer) {
  if (texture) g_retiredTextures.push_back(texture);
  if (framebuffer) g_retiredFramebuffers.push_back(framebuffer);
}

// The quad of `texture` over [a, b) with blending off.
void addOpaqueImage(ImDrawList* dl, unsigned texture, const ImVec2& a, const ImVec2& b) {
  dl->AddCallback([](const ImDrawList*, const ImDrawCmd*) { glDisable(GL_BLEND); }, nullptr);
  dl->AddImage(reinterpret_cast<ImTextureID>(static_cast<std::intptr_t>(texture)), a, b);
  dl->AddCallback(ImDrawCallback_ResetRenderState, nullptr);  // the backend turns blending back on
}
}  // namespace

void deleteRetiredGlObjects() {
  if (!g_retiredFramebuffers.empty())
    glDeleteFramebuffers(static_cast<GLsizei>(g_retiredFramebuffers.size()), g_retiredFramebuffers.data());
  if (!g_retiredTextures.empty()) glDeleteTextures(static_cast<GLsizei>(g_retiredTextures.size()), g_retiredTextures.data());
  g_retiredFramebuffers.clear();
  g_retiredTextures.clear();
}

void drawImageBlit(const ImDrawList*, const ImDrawCmd* cmd) {
  const auto* b = static_cast<const ImageBlit*>(cmd->UserCallbackData);
  const ImDrawData* data = ImGui::GetDrawData();
  if (!b || !data || !b->framebuffer) return;
  // In framebuffer pixels (the blit is only made where they are the draw data's units): the
  // image, cut to the command's clip and the framebuffer. The cut is made here, not by the
  // scissor: a blit under a scissor is no longer a plain copy of rows.
  const float ox = data->DisplayPos.x, oy = data->DisplayPos.y;
  const int fbW = static_cast<int>(data->DisplaySize.x), fbH = static_cast<int>(data->DisplaySize.y);
  const base::Rect image{static_cast<int>(b->x - ox), static_cast<int>(b->y - oy), b->widthPx, b->heightPx};
  const int cx0 = static_cast<int>(std::ceil(cmd->ClipRect.x - ox)), cy0 = static_cast<int>(std::ceil(cmd->ClipRect.y - oy));
  const int cx1 = static_cast<int>(std::floor(cmd->ClipRect.z - ox)), cy1 = static_cast<int>(std::floor(cmd->ClipRect.w - oy));
  const base::Rect dst = image.intersected({cx0, cy0, cx1 - cx0, cy1 - cy0}).intersected({0, 0, fbW, fbH});
  if (dst.empty()) return;
  const int sx = dst.x - image.x, sy = dst.y - image.y;
  GLint drawFb = 0, readFb = 0;
  glGetIntegerv(GL_DRAW_FRAMEBUFFER_BINDING, &drawFb);
  glGetIntegerv(GL_READ_FRAMEBUFFER_BINDING, &readFb);
  const GLboolean scissor = glIsEnabled(GL_SCISSOR_TEST);
  glDisable(GL_SCISSOR_TEST);
  glBindFramebuffer(GL_READ_FRAMEBUFFER, b->framebuffer);
  // The texture's rows go down from its top, the window's up from its bottom: flipped.
  glBlitFramebuffer(sx, sy, sx + dst.w, sy + dst.h, dst.x, fbH - dst.y, dst.right(), fbH - dst.bottom(),
                    GL_COLOR_BUFFER_BIT, GL_NEAREST);
  glBindFramebuffer(GL_READ_FRAMEBUFFER, static_cast<GLuint>(readFb));
  glBindFramebuffer(GL_DRAW_FRAMEBUFFER, static_cast<GLuint>(drawFb));
  if (scissor) glEnable(GL_SCISSOR_TEST);
}

StreamTexture::~StreamTexture() {
  retire(m_texture, m_framebuffer);
}

void StreamTexture::setNearest(bool nearest) {
  if (!m_texture || nearest == m_nearest) return;
  m_nearest = nearest;
  glBindTexture(GL_TEXTURE_2D, m_texture);
  const GLint filter = nearest ? GL_NEAREST : GL_LINEAR;
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, filter);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, filter);
  presentPlanner().wholeFrame();  // drawn differently, from the same draw data
}

void StreamTexture::draw(ImDrawList* dl, const ImVec2& a, const ImVec2& b) {
  const ImGuiIO& io = ImGui::GetIO();
  const bool oneToOne = b.x - a.x == static_cast<float>(m_width) && b.y - a.y == static_cast<float>(m_height) &&
                        a.x == std::floor(a.x) && a.y == std::floor(a.y) && io.DisplayFramebufferScale.x == 1.0f &&
                        io.DisplayFramebufferScale.y == 1.0f;
  if (oneToOne && !m_framebuffer && m_texture && !m_noBlit) {
    glGenFramebuffers(1, &m_framebuffer);
    GLint readFb = 0;
    glGetIntegerv(GL_READ_FRAMEBUFFER_BINDING, &readFb);
    glBindFramebuffer(GL_READ_FRAMEBUFFER, m_framebuffer);
    glFramebufferTexture2D(GL_READ_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_TEXTURE_2D, m_texture, 0);
    GLint samples = 0;
    glGetIntegerv(GL_SAMPLE_BUFFERS, &samples);  // of the window's framebuffer: a blit to it must not resolve
    if (glCheckFramebufferStatus(GL_READ_FRAMEBUFFER) != GL_FRAMEBUFFER_COMPLETE || samples != 0) {
      glDeleteFramebuffers(1, &m_framebuffer);
      m_framebuffer = 0;
      m_noBlit = true;  // this GL cannot read the texture so: quads from now on
    }
    glBindFramebuffer(GL_READ_FRAMEBUFFER, static_cast<GLuint>(readFb));
  }
  if (!oneToOne || !m_framebuffer) {
    addOpaqueImage(dl, m_texture, a, b);
    return;
  }
  const ImageBlit* blit = presentPlanner().keep({m_texture, m_framebuffer, m_width, m_height, a.x, a.y});
  dl->AddCallback(drawImageBlit, const_cast<ImageBlit*>(blit));
}

bool StreamTexture::update(session::StreamView& view) {
  bool uploaded = false;
  view.consume([&](const capture::Framebuffer& fb, const base::DirtyRects& changed) {
    if (fb.widthPx() <= 0 || fb.heightPx() <= 0) return;
    const std::int64_t start = base::monoUs();
    if (!m_texture) {
      m_texture = newTexture();
      glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_SWIZZLE_A, GL_ONE);  // BGRX: the X byte is not alpha
      m_nearest = false;
    }
    glBindTexture(GL_TEXTURE_2D, m_texture);
    glPixelStorei(GL_UNPACK_ALIGNMENT, 4);
    base::DirtyRects dirty;
    if (fb.widthPx() != m_width || fb.heightPx() != m_height) {
      m_width = fb.widthPx();
      m_height = fb.heightPx();
      // Unsized GL_RGBA: the driver may then store the texels as they come (BGRA), and an
      // upload is a copy, not a conversion of every pixel (Mesa's software renderer does so).
      glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA, m_width, m_height, 0, GL_BGRA, GL_UNSIGNED_BYTE, nullptr);
      dirty.add({0, 0, m_width, m_height});
    } else {
      for (const base::Rect& r : changed.rects()) dirty.add(r.intersected({0, 0, m_width, m_height}));
    }
    if (dirty.empty()) return;
    glPixelStorei(GL_UNPACK_ROW_LENGTH, fb.widthPx());
    for (const base::Rect& r : dirty.rects()) {
      const std::uint8_t* from = fb.pixels() + std::size_t(r.y) * fb.strideBytes() + std::size_t(r.x) * 4;
      glTexSubImage2D(GL_TEXTURE_2D, 0, r.x, r.y, r.w, r.h, GL_BGRA, GL_UNSIGNED_BYTE, from);
      presentPlanner().textureChanged(m_texture, m_width, m_height, r);
    }
    glPixelStorei(GL_UNPACK_ROW_LENGTH, 0);
    m_bytesUploaded += static_cast<std::uint64_t>(dirty.area()) * 4;
    ++m_uploads;
    m_lastUploadMs = static_cast<double>(base::monoUs() - start) / 1e3;
    uploaded = true;
  });
  return uploaded;
}

CursorTexture::~CursorTexture() { retire(m_texture, 0); }

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
    presentPlanner().wholeFrame();
  }
  if (shape != m_shape) {
    m_shape = shape;
    glPixelStorei(GL_UNPACK_ALIGNMENT, 4);
    glPixelStorei(GL_UNPACK_ROW_LENGTH, 0);
    glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA8, shape->widthPx, shape->heightPx, 0, GL_RGBA, GL_UNSIGNED_BYTE,
                 shape->rgba.data());
    presentPlanner().wholeFrame();  // the same quad may now show another shape
  }
  return m_texture;
}

ImageTexture::ImageTexture(int widthPx, int heightPx, const std::vector<std::uint8_t>& rgba) {
  if (widthPx <= 0 || heightPx <= 0 || rgba.size() != std::size_t(widthPx) * heightPx * 4) return;
  m_texture = newTexture();
  glPixelStorei(GL_UNPACK_ALIGNMENT, 4);
  glPixelStorei(GL_UNPACK_ROW_LENGTH, 0);
  glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA8, widthPx, heightPx, 0, GL_RGBA, GL_UNSIGNED_BYTE, rgba.data());
  presentPlanner().wholeFrame();  // a texture name may be used again, for other content
}

ImageTexture::~ImageTexture() { retire(m_texture, 0); }

}  // namespace huddle::ui
