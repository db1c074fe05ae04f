#include "capture/synthetic_source.h"

#include <algorithm>
#include <cstring>

#include "net/base/clock.h"

namespace huddle::capture {

namespace {

// Where things are, in proportion to the screen so any size (even 1x1) works.
struct Layout {
  int w, h;
  int titleH;
  struct Box { int x, y, w, h; } winA, winB, panel;
};

Layout layoutFor(int w, int h) {
  Layout l{w, h, std::max(6, h / 40), {}, {}, {}};
  l.winA = {w * 5 / 100, h * 8 / 100, w * 45 / 100, h * 55 / 100};
  l.winB = {w * 54 / 100, h * 12 / 100, w * 42 / 100, h * 70 / 100};
  // 0.316^2 ~= 10% of the screen.
  l.panel = {l.winB.x + w * 4 / 100, l.winB.y + h * 20 / 100, w * 316 / 1000, h * 316 / 1000};
  return l;
}

inline std::uint32_t rgb(int r, int g, int b) {
  return 0xFF000000u | std::uint32_t(r & 255) << 16 | std::uint32_t(g & 255) << 8 | std::uint32_t(b & 255);
}

inline std::uint32_t hash32(std::uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352d;
  x ^= x >> 15;
  x *= 0x846ca68b;
  x ^= x >> 16;
  return x;
}

class Canvas {
 public:
  Canvas(std::uint8_t* p, int w, int h) : m_p(p), m_w(w), m_h(h) {}
  std::uint32_t* row(int y) { return reinterpret_cast<std::uint32_t*>(m_p + std::size_t(y) * m_w * kBytesPerPixel); }
  // Fills a rectangle clipped to `clip` (and the canvas).
  void fill(int x, int y, int w, int h, std::uint32_t c, const Layout::Box& clip) {
    int x0 = std::max({x, clip.x, 0}), y0 = std::max({y, clip.y, 0});
    int x1 = std::min({x + w, clip.x + clip.w, m_w}), y1 = std::min({y + h, clip.y + clip.h, m_h});
    if (x1 <= x0) return;
    for (int yy = y0; yy < y1; ++yy) std::fill(row(yy) + x0, row(yy) + x1, c);
  }
  int width() const { return m_w; }
  int height() const { return m_h; }

 private:
  std::uint8_t* m_p;
  int m_w, m_h;
};

// Lines of "words" made of glyph-sized blocks, like text in an editor; `scroll` moves them up.
void drawText(Canvas& c, const Layout::Box& area, int lineH, int scroll, std::uint32_t ink, std::uint32_t seed) {
  if (lineH < 3) return;
  int glyphW = std::max(1, lineH * 6 / 14), glyphH = std::max(1, lineH * 9 / 14);
  int firstLine = scroll / lineH;
  for (int line = firstLine;; ++line) {
    int y = area.y + line * lineH - scroll + lineH / 4;
    if (y >= area.y + area.h) break;
    std::uint32_t lh = hash32(static_cast<std::uint32_t>(line) * 2654435761u ^ seed);
    int x = area.x + glyphW + static_cast<int>(lh % 4) * glyphW * 2;  // indentation
    int words = 3 + static_cast<int>(lh % 9);
    for (int wd = 0; wd < words && x < area.x + area.w; ++wd) {
      int letters = 2 + static_cast<int>(hash32(lh + static_cast<std::uint32_t>(wd)) % 8);
      for (int k = 0; k < letters; ++k) {
        // Glyphs of varying height, as letters have ascenders and descenders.
        int gh = glyphH - static_cast<int>(hash32(lh ^ static_cast<std::uint32_t>(wd * 31 + k)) % 3) * glyphH / 5;
        c.fill(x, y + (glyphH - gh), glyphW - 1, gh, ink, area);
        x += glyphW;
      }
      x += glyphW;
    }
  }
}

// `pulse` (0 except in full motion) shifts the window's shades so every pixel changes.
void drawWindow(Canvas& c, const Layout& l, const Layout::Box& b, int scroll, std::uint32_t seed, int pulse) {
  Layout::Box screen{0, 0, l.w, l.h};
  c.fill(b.x - 1, b.y - 1, b.w + 2, b.h + 2, rgb(20 + pulse, 24, 30), screen);  // border
  c.fill(b.x, b.y, b.w, l.titleH, kSceneTitleBar - static_cast<std::uint32_t>(pulse), screen);
  Layout::Box body{b.x, b.y + l.titleH, b.w, b.h - l.titleH};
  c.fill(body.x, body.y, body.w, body.h, kSceneWindow - static_cast<std::uint32_t>(pulse) * 0x010101u, screen);
  // Text no smaller than a real screen's: sub-8-pixel "glyphs" would be noise, not text.
  drawText(c, body, std::max(12, l.h / 54), scroll, rgb(32, 32, 40), seed);
}

void drawBackground(Canvas& c, int phase) {
  int h = c.height();
  for (int y = 0; y < h; ++y) {
    int t = ((y + phase) % (2 * h + 1));
    if (t > h) t = 2 * h - t;  // a triangle wave: the gradient scrolls without a seam
    int k = h > 1 ? t * 255 / h : 0;
    std::uint32_t col = rgb(30 + k / 5, 50 + k / 4, 80 + k / 3);
    std::fill(c.row(y), c.row(y) + c.width(), col);
  }
}

// The "video": diagonal stripes sliding and a bouncing box, different every frame.
void drawPanel(Canvas& c, const Layout& l, std::uint64_t n) {
  const auto& p = l.panel;
  if (p.w <= 0 || p.h <= 0) return;
  for (int y = p.y; y < p.y + p.h && y < c.height(); ++y) {
    std::uint32_t* r = c.row(y);
    for (int x = p.x; x < p.x + p.w && x < c.width(); ++x) {
      int v = (x + y + static_cast<int>(n * 5)) & 63;
      r[x] = rgb(40 + v, 90 + v * 2, 60 + v);
    }
  }
  int box = std::max(1, std::min(p.w, p.h) / 5);
  int spanX = std::max(1, p.w - box), spanY = std::max(1, p.h - box);
  int bx = static_cast<int>((n * 7) % static_cast<std::uint64_t>(2 * spanX));
  int by = static_cast<int>((n * 5) % static_cast<std::uint64_t>(2 * spanY));
  if (bx > spanX) bx = 2 * spanX - bx;
  if (by > spanY) by = 2 * spanY - by;
  c.fill(p.x + bx, p.y + by, box, box, kSceneAccent, p);
}

// The scrolling scenes' areas: the document below a bar, or the terminal on the desktop.
Layout::Box scrollArea(int w, int h, SceneMotion motion) {
  if (motion == SceneMotion::Scroll || motion == SceneMotion::ScrollSettle) {
    const int bar = std::max(6, h / 40);
    return {0, bar, w, h - bar};
  }
  const int tw = std::min(kTerminalW, w * 8 / 10), th = std::min(kTerminalH, h * 6 / 10);
  return {w / 10, h * 3 / 10, tw, th};
}

bool isScrollScene(SceneMotion m) {
  return m == SceneMotion::Scroll || m == SceneMotion::Terminal || m == SceneMotion::ScrollSettle ||
         m == SceneMotion::TerminalSettle;
}

void drawScrollScene(Canvas& c, int w, int h, SceneMotion motion, std::uint64_t t) {
  const Layout::Box a = scrollArea(w, h, motion);
  if (motion == SceneMotion::Scroll || motion == SceneMotion::ScrollSettle) {
    Layout::Box screen{0, 0, w, h};
    c.fill(0, 0, w, a.y, kSceneTitleBar, screen);
    c.fill(a.x, a.y, a.w, a.h, kSceneWindow, screen);
    // A document: text lines with the odd coloured heading, scrolled kScrollStepPx a frame.
    drawText(c, a, std::max(12, h / 54), static_cast<int>(t) * kScrollStepPx, rgb(32, 32, 40), 31);
    return;
  }
  Layout::Box screen{0, 0, w, h};
  c.fill(a.x, a.y, a.w, a.h, rgb(16, 18, 22), screen);
  drawText(c, a, kTerminalLinePx, static_cast<int>(t) * kTerminalLinePx, rgb(200, 220, 200), 47);
}

bool isDragScene(SceneMotion m) { return m == SceneMotion::Drag || m == SceneMotion::DragSettle; }

// Where the dragged window is in frame `t`: from (w/20, h/10), (kDragStepX, kDragStepY) a frame,
// bouncing inside the screen.
Layout::Box dragBox(int w, int h, std::uint64_t t) {
  const int bw = std::min(kDragW, w * 6 / 10), bh = std::min(kDragH, h * 6 / 10);
  auto bounce = [](std::uint64_t v, int span) {
    if (span <= 0) return 0;
    const std::uint64_t s = std::uint64_t(span);
    v %= 2 * s;
    return static_cast<int>(v > s ? 2 * s - v : v);
  };
  const int x0 = w / 20, y0 = h / 10;
  return {bounce(std::uint64_t(x0) + t * kDragStepX, w - bw), bounce(std::uint64_t(y0) + t * kDragStepY, h - bh), bw, bh};
}

// The still desktop (the Static scene's first frame) with the dragged window over it.
void drawDragScene(Canvas& c, const Layout& l, std::uint64_t t) {
  drawBackground(c, 0);
  drawWindow(c, l, l.winA, 0, 11, 0);
  drawWindow(c, l, l.winB, 0, 23, 0);
  drawPanel(c, l, 0);
  const Layout::Box b = dragBox(l.w, l.h, t);
  Layout::Box inner{b.x + 1, b.y + 1, b.w - 2, b.h - 2};  // inside its border
  drawWindow(c, l, inner, 0, 37, 0);
}

}  // namespace

SyntheticSource::SyntheticSource(int widthPx, int heightPx, SceneMotion motion, SceneCursor cursor)
    : m_width(widthPx), m_height(heightPx), m_motion(motion), m_cursor(cursor) {}

base::CursorImage SyntheticSource::cursorShape() {
  base::CursorImage c;
  c.id = kSceneCursorShapeId;
  c.widthPx = 16;
  c.heightPx = 24;
  c.rgba.assign(std::size_t(c.widthPx) * c.heightPx * 4, 0);
  // An arrow: a triangle (the left edge upright, the right one at 45 degrees down to row 15)
  // and a tail; a dark one-pixel outline around a magenta body.
  auto inside = [](int x, int y) {
    if (x < 0 || y < 0) return false;
    if (y < 16) return x <= y * 2 / 3;
    return y < 23 && x >= 3 + (y - 16) / 2 && x <= 5 + (y - 16) / 2;
  };
  for (int y = 0; y < c.heightPx; ++y)
    for (int x = 0; x < c.widthPx; ++x) {
      if (!inside(x, y)) continue;
      const bool edge = !inside(x - 1, y) || !inside(x + 1, y) || !inside(x, y - 1) || !inside(x, y + 1);
      const std::uint32_t colour = edge ? 0xFF202020u : kSceneCursorFill;
      std::uint8_t* p = &c.rgba[(std::size_t(y) * c.widthPx + x) * 4];
      p[0] = static_cast<std::uint8_t>(colour >> 16);
      p[1] = static_cast<std::uint8_t>(colour >> 8);
      p[2] = static_cast<std::uint8_t>(colour);
      p[3] = 255;
    }
  return c;
}

base::CursorPos SyntheticSource::cursorAt(int w, int h, SceneCursor cursor, std::uint64_t n) {
  base::CursorPos pos;
  pos.shapeId = kSceneCursorShapeId;
  pos.visible = cursor != SceneCursor::None;
  if (cursor == SceneCursor::Still) {
    // Over the left window's text, where a presenter points.
    pos.x = w * 27 / 100;
    pos.y = h * 40 / 100;
    return pos;
  }
  // A bounce across the screen: 9 px a frame across, 5 px down.
  auto bounce = [](std::uint64_t t, int size) {
    const std::uint64_t span = std::uint64_t(std::max(1, size - 1));
    std::uint64_t v = t % (2 * span);
    return static_cast<std::int32_t>(v > span ? 2 * span - v : v);
  };
  pos.x = bounce(n * 9, w);
  pos.y = bounce(n * 5, h);
  return pos;
}

bool SyntheticSource::cursor(base::CursorPos& pos, base::CursorImage& shape, bool& shapeChanged) {
  if (m_cursor == SceneCursor::None || m_next == 0) return false;
  pos = cursorAt(m_width, m_height, m_cursor, m_next - 1);  // the frame just captured
  shapeChanged = !m_shapeGiven;
  if (shapeChanged) shape = cursorShape();
  m_shapeGiven = true;
  return true;
}

bool SyntheticSource::open(std::string& error) {
  if (m_width <= 0 || m_height <= 0) {
    error = "the test scene needs a positive size";
    return false;
  }
  m_pixels.assign(std::size_t(m_width) * m_height * kBytesPerPixel, 0);
  m_shapeGiven = false;
  return true;
}

void SyntheticSource::render(int w, int h, SceneMotion motion, std::uint64_t n, std::vector<std::uint8_t>& out) {
  out.resize(std::size_t(w) * h * kBytesPerPixel);
  Canvas c(out.data(), w, h);
  Layout l = layoutFor(w, h);
  if (isDragScene(motion)) {
    drawDragScene(c, l, motion == SceneMotion::DragSettle ? std::min(n, kScrollFrames - 1) : n);
    return;
  }
  if (isScrollScene(motion)) {
    const bool settle = motion == SceneMotion::ScrollSettle || motion == SceneMotion::TerminalSettle;
    const std::uint64_t t = settle ? std::min(n, kScrollFrames - 1) : n;
    if (motion == SceneMotion::Terminal || motion == SceneMotion::TerminalSettle) {
      drawBackground(c, 0);  // the still desktop of the Static scene
      drawWindow(c, l, l.winA, 0, 11, 0);
      drawWindow(c, l, l.winB, 0, 23, 0);
      drawPanel(c, l, 0);
    }
    drawScrollScene(c, w, h, motion, t);
    return;
  }
  std::uint64_t t = motion == SceneMotion::Static   ? 0
                    : motion == SceneMotion::Settle ? std::min(n, kSettleFrames - 1)
                                                    : n;
  bool full = motion == SceneMotion::Full || motion == SceneMotion::Settle;
  drawBackground(c, full ? static_cast<int>(t * 3) : 0);
  int pulse = full ? static_cast<int>(t % 2 + 1) : 0;  // alternates 1, 2: never equal twice
  drawWindow(c, l, l.winA, full ? static_cast<int>(t * 2) : 0, 11, pulse);
  drawWindow(c, l, l.winB, full ? static_cast<int>(t) : 0, 23, pulse);
  drawPanel(c, l, t);
}

CaptureResult SyntheticSource::capture(Frame& frame, std::string&) {
  std::uint64_t n = m_next++;
  Layout l = layoutFor(m_width, m_height);
  m_changed.clear();
  if (isDragScene(m_motion)) {
    if (n == 0) {
      render(m_width, m_height, m_motion, n, m_pixels);
      m_changed.push_back({0, 0, m_width, m_height});
    } else if (m_motion == SceneMotion::Drag || n < kScrollFrames) {
      // Where the window was and where it is, as a compositor's damage would say.
      render(m_width, m_height, m_motion, n, m_pixels);
      const Layout::Box a = dragBox(m_width, m_height, n - 1), b = dragBox(m_width, m_height, n);
      m_changed.push_back({a.x - 1, a.y - 1, a.w + 2, a.h + 2});
      m_changed.push_back({b.x - 1, b.y - 1, b.w + 2, b.h + 2});
    }
  } else if (isScrollScene(m_motion)) {
    const bool settle = m_motion == SceneMotion::ScrollSettle || m_motion == SceneMotion::TerminalSettle;
    if (n == 0) {
      render(m_width, m_height, m_motion, n, m_pixels);
      m_changed.push_back({0, 0, m_width, m_height});
    } else if (!settle || n < kScrollFrames) {
      // Only the scrolling area is drawn again, and said, as a compositor's damage would.
      Canvas c(m_pixels.data(), m_width, m_height);
      drawScrollScene(c, m_width, m_height, m_motion, n);
      const Layout::Box a = scrollArea(m_width, m_height, m_motion);
      m_changed.push_back({a.x, a.y, a.w, a.h});
    }
  } else if (n == 0 || m_motion == SceneMotion::Full || (m_motion == SceneMotion::Settle && n < kSettleFrames)) {
    render(m_width, m_height, m_motion, n, m_pixels);
    m_changed.push_back({0, 0, m_width, m_height});
  } else if (m_motion == SceneMotion::Partial) {
    // Only the panel moves: redraw just it, and say so, as a compositor's damage would.
    Canvas c(m_pixels.data(), m_width, m_height);
    drawPanel(c, l, n);
    m_changed.push_back({l.panel.x, l.panel.y, l.panel.w, l.panel.h});
  }
  frame.changed = &m_changed;
  frame.widthPx = m_width;
  frame.heightPx = m_height;
  frame.strideBytes = m_width * kBytesPerPixel;
  frame.pixels = m_pixels.data();
  frame.captureTimeUs = base::wallUs();
  frame.seq = n;
  return CaptureResult::Ok;
}

}  // namespace huddle::capture
