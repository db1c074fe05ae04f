#include "app/ui/present_plan.h"

#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <utility>

namespace huddle::ui {

namespace {

// Texels are mapped to the screen with linear filtering when scaled down: a texel reaches a
// pixel beyond its own footprint. Two pixels of margin cover it.
constexpr float kFilterMarginPx = 2;
// Antialiased edges reach a little past their vertices.
constexpr float kEdgeMarginPx = 1;
// A frame's parts: few, since the renderer goes through the whole draw data once per part.
constexpr std::size_t kMaxParts = 4;

std::uint64_t mix(std::uint64_t h, std::uint64_t v) { return (h ^ v) * 0x100000001B3ull + (h >> 29); }

std::uint64_t mixFloat(std::uint64_t h, float f) {
  std::uint32_t bits = 0;
  static_assert(sizeof bits == sizeof f);
  std::memcpy(&bits, &f, sizeof f);
  return mix(h, bits);
}

std::uint64_t mixPointer(std::uint64_t h, const void* p) {
  return mix(h, static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(p)));
}

struct Box {
  float x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  bool empty() const { return x1 <= x0 || y1 <= y0; }
  Box clipped(const Box& o) const { return {std::max(x0, o.x0), std::max(y0, o.y0), std::min(x1, o.x1), std::min(y1, o.y1)}; }
  Box grown(float by) const { return {x0 - by, y0 - by, x1 + by, y1 + by}; }
};

Box clipOf(const ImDrawCmd& c) { return {c.ClipRect.x, c.ClipRect.y, c.ClipRect.z, c.ClipRect.w}; }

// The vertices command `c` of `list` draws, in index order; false if an index is out of range.
template <typename F>
bool forEachVertex(const ImDrawList& list, const ImDrawCmd& c, F&& f) {
  for (unsigned i = 0; i < c.ElemCount; ++i) {
    const unsigned at = c.IdxOffset + i;
    if (at >= static_cast<unsigned>(list.IdxBuffer.Size)) return false;
    const unsigned v = c.VtxOffset + list.IdxBuffer[static_cast<int>(at)];
    if (v >= static_cast<unsigned>(list.VtxBuffer.Size)) return false;
    f(list.VtxBuffer[static_cast<int>(v)]);
  }
  return true;
}

const ImageBlit* blitOf(const ImDrawCmd& c) {
  return c.UserCallback == drawImageBlit ? static_cast<const ImageBlit*>(c.UserCallbackData) : nullptr;
}

PresentPlanner::Command describe(const ImDrawList& list, const ImDrawCmd& c) {
  PresentPlanner::Command out;
  std::uint64_t key = 0xCBF29CE484222325ull;
  for (float f : {c.ClipRect.x, c.ClipRect.y, c.ClipRect.z, c.ClipRect.w}) key = mixFloat(key, f);
  key = mixPointer(key, c.TextureId);
  key = mixPointer(key, reinterpret_cast<const void*>(c.UserCallback));
  if (const ImageBlit* b = blitOf(c)) {
    // A blit's data lives for one frame: what it draws is the key, where it lands the content.
    out.key = mix(key, b->texture);
    const std::uint64_t size = static_cast<std::uint64_t>(b->widthPx) << 32 | static_cast<std::uint32_t>(b->heightPx);
    out.content = mixFloat(mixFloat(mix(mix(0x84222325CBF29CE4ull, size), b->framebuffer), b->x), b->y);
    const Box image{b->x, b->y, b->x + static_cast<float>(b->widthPx), b->y + static_cast<float>(b->heightPx)};
    const Box box = image.clipped(clipOf(c));
    if (!box.empty()) out.x0 = box.x0, out.y0 = box.y0, out.x1 = box.x1, out.y1 = box.y1;
    return out;
  }
  key = mixPointer(key, c.UserCallbackData);
  out.key = mix(key, c.ElemCount);
  if (c.UserCallback) return out;
  std::uint64_t content = 0x84222325CBF29CE4ull;
  Box box{1e30f, 1e30f, -1e30f, -1e30f};
  const bool whole = forEachVertex(list, c, [&](const ImDrawVert& v) {
    for (float f : {v.pos.x, v.pos.y, v.uv.x, v.uv.y}) content = mixFloat(content, f);
    content = mix(content, v.col);
    box = {std::min(box.x0, v.pos.x), std::min(box.y0, v.pos.y), std::max(box.x1, v.pos.x), std::max(box.y1, v.pos.y)};
  });
  if (!whole) box = clipOf(c);  // not what the renderer would draw either: count all it may reach
  out.content = content;
  const Box b = box.grown(kEdgeMarginPx).clipped(clipOf(c));
  if (!b.empty()) out.x0 = b.x0, out.y0 = b.y0, out.x1 = b.x1, out.y1 = b.y1;
  return out;
}

// Where `texels` of a texture land on the screen when command `c` of `list` draws it as one
// quad (ImGui::Image: six indices); false if it draws it some other way.
bool texelsOnScreen(const ImDrawList& list, const ImDrawCmd& c, base::Rect texels, int texW, int texH, Box& out) {
  if (c.ElemCount != 6 || texW <= 0 || texH <= 0) return false;
  // The quad's corners with the least and the most x + y: opposite corners of an upright quad.
  const ImDrawVert* a = nullptr;
  const ImDrawVert* b = nullptr;
  if (!forEachVertex(list, c, [&](const ImDrawVert& v) {
        if (!a || v.pos.x + v.pos.y < a->pos.x + a->pos.y) a = &v;
        if (!b || v.pos.x + v.pos.y > b->pos.x + b->pos.y) b = &v;
      }))
    return false;
  const float du = b->uv.x - a->uv.x, dv = b->uv.y - a->uv.y;
  if (du == 0 || dv == 0) return false;
  auto sx = [&](float u) { return a->pos.x + (u - a->uv.x) * (b->pos.x - a->pos.x) / du; };
  auto sy = [&](float v) { return a->pos.y + (v - a->uv.y) * (b->pos.y - a->pos.y) / dv; };
  const float x0 = sx(static_cast<float>(texels.x) / static_cast<float>(texW));
  const float x1 = sx(static_cast<float>(texels.right()) / static_cast<float>(texW));
  const float y0 = sy(static_cast<float>(texels.y) / static_cast<float>(texH));
  const float y1 = sy(static_cast<float>(texels.bottom()) / static_cast<float>(texH));
  out = Box{std::min(x0, x1), std::min(y0, y1), std::max(x0, x1), std::max(y0, y1)}.grown(kFilterMarginPx).clipped(clipOf(c));
  return true;
}

}  // namespace

void PresentPlanner::textureChanged(unsigned texture, int widthPx, int heightPx, base::Rect texels) {
  if (texels.empty()) return;
  for (Changed& c : m_changed)
    if (c.texture == texture && c.widthPx == widthPx && c.heightPx == heightPx) {
      c.texels.add(texels);
      return;
    }
  m_changed.push_back({texture, widthPx, heightPx, base::DirtyRects()});
  m_changed.back().texels.add(texels);
}

PresentPlan PresentPlanner::plan(const ImDrawData& data, bool partsAllowed) {
  std::uint64_t frame = 0xCBF29CE484222325ull;
  for (float f : {data.DisplayPos.x, data.DisplayPos.y, data.DisplaySize.x, data.DisplaySize.y, data.FramebufferScale.x,
                  data.FramebufferScale.y})
    frame = mixFloat(frame, f);
  std::vector<Command> now;
  for (int i = 0; i < data.CmdListsCount; ++i)
    for (const ImDrawCmd& c : data.CmdLists[i]->CmdBuffer) now.push_back(describe(*data.CmdLists[i], c));
  std::vector<Changed> changed;
  changed.swap(m_changed);
  bool same = !m_whole && frame == m_lastFrame && now.size() == m_last.size();
  for (std::size_t i = 0; same && i < now.size(); ++i) same = now[i].key == m_last[i].key;
  const std::vector<Command> last = std::exchange(m_last, now);
  m_lastFrame = frame;
  m_whole = false;
  PresentPlan whole;
  if (!same) return whole;

  // The same commands: the parts are where vertices changed and where changed texels show, in
  // framebuffer pixels.
  const ImVec2 scale = data.FramebufferScale, origin = data.DisplayPos;
  const int fbW = static_cast<int>(data.DisplaySize.x * scale.x), fbH = static_cast<int>(data.DisplaySize.y * scale.y);
  base::DirtyRects parts(kMaxParts);
  auto pixels = [&](const Box& box) {
    const int x0 = static_cast<int>(std::floor((box.x0 - origin.x) * scale.x));
    const int y0 = static_cast<int>(std::floor((box.y0 - origin.y) * scale.y));
    const int x1 = static_cast<int>(std::ceil((box.x1 - origin.x) * scale.x));
    const int y1 = static_cast<int>(std::ceil((box.y1 - origin.y) * scale.y));
    return base::Rect{x0, y0, x1 - x0, y1 - y0}.intersected({0, 0, fbW, fbH});
  };
  auto addPart = [&](const Box& box) {
    if (!box.empty()) parts.add(pixels(box));
  };
  for (std::size_t i = 0; i < now.size(); ++i)
    if (now[i].content != last[i].content) {
      addPart({last[i].x0, last[i].y0, last[i].x1, last[i].y1});
      addPart({now[i].x0, now[i].y0, now[i].x1, now[i].y1});
    }
  for (int i = 0; i < data.CmdListsCount && !changed.empty(); ++i) {
    const ImDrawList& list = *data.CmdLists[i];
    for (const ImDrawCmd& c : list.CmdBuffer) {
      const ImageBlit* blit = blitOf(c);
      if (c.UserCallback && !blit) continue;
      const auto texture = blit ? blit->texture : static_cast<unsigned>(reinterpret_cast<std::uintptr_t>(c.TextureId));
      for (const Changed& ch : changed) {
        if (ch.texture != texture) continue;
        for (const base::Rect& texels : ch.texels.rects()) {
          Box box;
          if (blit) {
            box = Box{blit->x + static_cast<float>(texels.x), blit->y + static_cast<float>(texels.y),
                      blit->x + static_cast<float>(texels.right()), blit->y + static_cast<float>(texels.bottom())}
                      .clipped(clipOf(c));
          } else if (!texelsOnScreen(list, c, texels, ch.widthPx, ch.heightPx, box)) {
            return whole;
          }
          addPart(box);
        }
      }
    }
  }
  if (parts.empty()) return {PresentPlan::Kind::Nothing, {}};
  if (!partsAllowed || parts.area() >= std::int64_t(fbW) * fbH) return whole;
  m_clips.clear();
  std::vector<base::Rect> blits;  // where images are copied in, whole pixels inside
  for (int i = 0; i < data.CmdListsCount; ++i)
    for (const ImDrawCmd& c : data.CmdLists[i]->CmdBuffer) {
      m_clips.insert(m_clips.end(), {c.ClipRect.x, c.ClipRect.y, c.ClipRect.z, c.ClipRect.w});
      if (const ImageBlit* b = blitOf(c)) {
        const Box box = Box{b->x, b->y, b->x + static_cast<float>(b->widthPx), b->y + static_cast<float>(b->heightPx)}.clipped(clipOf(c));
        const Box inner{std::ceil(box.x0), std::ceil(box.y0), std::floor(box.x1), std::floor(box.y1)};
        if (!inner.empty()) blits.push_back(pixels(inner));
      }
    }
  PresentPlan plan{PresentPlan::Kind::Parts, parts.rects()};
  plan.clearParts = false;
  for (const base::Rect& part : plan.parts) {
    bool covered = false;
    for (const base::Rect& b : blits) covered = covered || b.intersected(part) == part;
    plan.clearParts = plan.clearParts || !covered;
  }
  return plan;
}

void PresentPlanner::narrowTo(ImDrawData& data, base::Rect part) const {
  const ImVec2 scale = data.FramebufferScale, origin = data.DisplayPos;
  const int fbH = static_cast<int>(data.DisplaySize.y * scale.y);
  std::size_t at = 0;
  for (int i = 0; i < data.CmdListsCount; ++i)
    for (ImDrawCmd& c : data.CmdLists[i]->CmdBuffer) {
      if (at + 4 > m_clips.size()) return;  // not the planned draw data
      // The pixels the renderer's scissor gives the original clip (ImGui's OpenGL backend
      // truncates its corner and size), cut to the part: whole pixels, so the part draws them
      // exactly as the whole frame would.
      const float minX = (m_clips[at] - origin.x) * scale.x, minY = (m_clips[at + 1] - origin.y) * scale.y;
      const float maxX = (m_clips[at + 2] - origin.x) * scale.x, maxY = (m_clips[at + 3] - origin.y) * scale.y;
      at += 4;
      const int x0 = static_cast<int>(minX), w = static_cast<int>(maxX - minX);
      const int glY = static_cast<int>(static_cast<float>(fbH) - maxY), h = static_cast<int>(maxY - minY);
      const base::Rect scissor{x0, fbH - glY - h, w, h};
      const base::Rect r = w > 0 && h > 0 ? scissor.intersected(part) : base::Rect{};
      if (r.empty()) {
        c.ClipRect = ImVec4(origin.x, origin.y, origin.x, origin.y);  // the renderer skips it
        continue;
      }
      c.ClipRect = ImVec4(origin.x + static_cast<float>(r.x) / scale.x, origin.y + static_cast<float>(r.y) / scale.y,
                          origin.x + static_cast<float>(r.right()) / scale.x, origin.y + static_cast<float>(r.bottom()) / scale.y);
    }
}

PresentPlanner& presentPlanner() {
  static PresentPlanner planner;
  return planner;
}

}  // namespace huddle::ui
