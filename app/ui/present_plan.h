// Which parts of the window a frame draws and shows. A software renderer (Mesa's llvmpipe on a
// machine without a GPU) pays for every pixel it shades and every pixel it hands to the X
// server, and a stream's image is most of the window. So a frame is compared with the last
// one, command by command of its draw data: where the commands are the same ones (textures,
// clips, counts), the parts are where a command's vertices changed (its old place and its new
// one: the sharer's cursor moved, a figure in the overlay changed) and where a stream's
// changed texels are drawn; a frame where nothing changed draws nothing. A frame with other
// commands, and anything the draw data cannot tell (a texture's whole content replaced, the
// window exposed or resized, a screenshot), is drawn whole. Thread: the UI (GL) thread only.
#pragma once
#include <cstdint>
#include <deque>
#include <vector>

#include "net/base/dirty_rects.h"
#include "net/base/rect.h"

struct ImDrawData;
struct ImDrawList;
struct ImDrawCmd;

namespace huddle::ui {

// A stream's image drawn at 1:1 by a framebuffer blit instead of a textured quad: a software
// renderer copies the rows (a tenth of the cost of shading them). A draw command whose
// callback is drawImageBlit (stream_texture.cpp) and whose data is one of these; the plan
// reads where it lands from it.
struct ImageBlit {
  unsigned texture = 0;      // what is drawn
  unsigned framebuffer = 0;  // a read framebuffer holding the texture
  int widthPx = 0, heightPx = 0;
  float x = 0, y = 0;        // where the texture's top left lands, in the draw data's coordinates
};
void drawImageBlit(const ImDrawList* list, const ImDrawCmd* cmd);

struct PresentPlan {
  enum class Kind { Nothing, Parts, Whole };
  Kind kind = Kind::Whole;
  // Parts: in framebuffer pixels, from the top left; a few, apart from one another.
  std::vector<base::Rect> parts;
  // Parts: whether they need clearing first. Not where an image's blit covers them all (a
  // clear cut to a part is a shaded quad to a software renderer, not a fill).
  bool clearParts = true;
};

class PresentPlanner {
 public:
  // `texels` of a `widthPx` x `heightPx` texture changed since the last plan.
  void textureChanged(unsigned texture, int widthPx, int heightPx, base::Rect texels);
  // The next frame is drawn and shown whole.
  void wholeFrame() { m_whole = true; }
  // A new frame begins: the last one's blits are let go (it has been drawn).
  void startFrame() { m_blits.clear(); }
  // Keeps `blit` until the next frame begins, for a draw command to point at: whatever drew
  // it (a viewer closed in this frame) may be gone before the frame is drawn.
  const ImageBlit* keep(const ImageBlit& blit) { return &m_blits.emplace_back(blit); }

  // The plan for this frame's draw data. `partsAllowed`: the window can show parts of its back
  // buffer; without it a changed frame is whole.
  PresentPlan plan(const ImDrawData& data, bool partsAllowed);
  // Narrows every command of the planned draw data to `part`, one of the plan's: the renderer
  // then draws nothing outside it. Draw once per part.
  void narrowTo(ImDrawData& data, base::Rect part) const;

  // One draw command as planned: what it draws with and where it may draw (key), its vertices
  // (content), and the box they reach, clipped, in the draw data's coordinates.
  struct Command {
    std::uint64_t key = 0, content = 0;
    float x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  };

 private:
  struct Changed {
    unsigned texture;
    int widthPx, heightPx;
    base::DirtyRects texels;
  };
  std::vector<Changed> m_changed;
  std::deque<ImageBlit> m_blits;  // this frame's (a deque: the draw data points at them)
  std::vector<float> m_clips;  // the planned draw data's clip rectangles, before narrowing
  bool m_whole = true;
  std::uint64_t m_lastFrame = 0;   // the display's place, size and scale
  std::vector<Command> m_last;     // the last frame's commands
};

// The UI thread's planner: the textures report to it, the window's loop asks it.
PresentPlanner& presentPlanner();

}  // namespace huddle::ui
