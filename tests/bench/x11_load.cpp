#include "tests/bench/x11_load.h"

#include <X11/Xlib.h>
#include <X11/Xutil.h>

#include <chrono>
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "net/base/clock.h"
#include "tests/bench/screen_stamp.h"

namespace huddle::bench {

namespace {

constexpr int kLineHeight = 14;  // the core "fixed" font is 13 px high
constexpr int kDocumentScrollPx = 7;
constexpr int kTermX = 400, kTermY = 300, kTermW = 720, kTermH = 288;
constexpr int kDragW = 640, kDragH = 420, kDragStepX = 6, kDragStepY = 3, kDragTitleH = 22;

// Line n of an endless document: words of varying length, the same text for the same n.
std::string documentLine(std::uint64_t n) {
  static const char* words[] = {"screen", "share", "the", "of", "latency", "tile", "a", "viewer", "host",
                                "copy", "scroll", "frame", "encode", "pixel", "and", "JPEG", "to", "update"};
  std::uint64_t x = n * 0x9E3779B97F4A7C15ull + 1;
  std::string line = std::to_string(n) + "  ";
  const int count = 6 + static_cast<int>(x % 14);
  for (int i = 0; i < count; ++i) {
    x ^= x >> 12, x ^= x << 25, x ^= x >> 27;
    line += words[(x * 0x2545F4914F6CDD1Dull >> 33) % (sizeof words / sizeof *words)];
    line += ' ';
  }
  return line;
}

// Document rows [top, top + h) of the document drawn at window row y (clipped to that band, and
// to columns [clipX, clipX + widthPx)).
void drawDocumentBand(Display* d, Window w, GC gc, int widthPx, int y, int h, std::uint64_t top, int x0 = 8,
                      int clipX = 0) {
  XRectangle clip{static_cast<short>(clipX), static_cast<short>(y), static_cast<unsigned short>(widthPx), static_cast<unsigned short>(h)};
  XSetClipRectangles(d, gc, 0, 0, &clip, 1, Unsorted);
  const std::uint64_t first = top / kLineHeight, last = (top + h + kLineHeight - 1) / kLineHeight;
  for (std::uint64_t n = first; n <= last; ++n) {
    const std::string text = documentLine(n);
    const int baseline = y + static_cast<int>(static_cast<std::int64_t>(n * kLineHeight) - static_cast<std::int64_t>(top)) + 11;
    XDrawString(d, w, gc, x0, baseline, text.c_str(), static_cast<int>(text.size()));
  }
  XSetClipMask(d, gc, None);
}

// Frame `number`'s code: white, then its black blocks.
void drawStamp(Display* d, Window w, GC gc, int screenHeightPx, std::uint32_t number, unsigned long black, unsigned long white) {
  const int y0 = stampY(screenHeightPx);
  XSetForeground(d, gc, white);
  XFillRectangle(d, w, gc, kStampX, y0, kStampW, kStampH);
  XRectangle blocks[2 * kStampBits];
  int n = 0;
  for (int by = 0; by < 2; ++by)
    for (int bx = 0; bx < kStampBits; ++bx)
      if (!stampWhite(number, bx * kStampBlockPx, by * kStampBlockPx))
        blocks[n++] = XRectangle{static_cast<short>(kStampX + bx * kStampBlockPx), static_cast<short>(y0 + by * kStampBlockPx),
                                 kStampBlockPx, kStampBlockPx};
  XSetForeground(d, gc, black);
  XFillRectangles(d, w, gc, blocks, n);
}

// The dragged window's look, into `p` (kDragW x kDragH): a border, a title bar with its name
// and buttons, a toolbar, and a body of text and small UI marks (fine detail, little flat).
void drawDraggedWindow(Display* d, Drawable p, GC gc, unsigned long black, unsigned long white) {
  XSetForeground(d, gc, 0x303540);
  XFillRectangle(d, p, gc, 0, 0, kDragW, kDragH);
  XSetForeground(d, gc, 0x2D5FAA);
  XFillRectangle(d, p, gc, 1, 1, kDragW - 2, kDragTitleH);
  XSetForeground(d, gc, white);
  const std::string title = "notes.txt - Editor";
  XDrawString(d, p, gc, 10, 16, title.c_str(), static_cast<int>(title.size()));
  for (int i = 0; i < 3; ++i) {
    XSetForeground(d, gc, i == 2 ? 0xE0452F : 0xC8CCD4);
    XFillArc(d, p, gc, kDragW - 22 - i * 20, 5, 13, 13, 0, 360 * 64);
  }
  XSetForeground(d, gc, 0xE4E6EA);
  XFillRectangle(d, p, gc, 1, kDragTitleH + 1, kDragW - 2, 26);
  for (int i = 0; i < 14; ++i) {
    XSetForeground(d, gc, 0x606878 + static_cast<unsigned long>(i) * 0x0A0604);
    XDrawRectangle(d, p, gc, 6 + i * 26, kDragTitleH + 5, 19, 17);
    XDrawLine(d, p, gc, 10 + i * 26, kDragTitleH + 9 + i % 5, 21 + i * 26, kDragTitleH + 18 - i % 4);
  }
  const int bodyY = kDragTitleH + 28;
  XSetForeground(d, gc, 0xFAFAF7);
  XFillRectangle(d, p, gc, 1, bodyY, kDragW - 2, kDragH - bodyY - 1);
  XSetForeground(d, gc, 0xDDE0E6);
  XFillRectangle(d, p, gc, 1, bodyY, 34, kDragH - bodyY - 1);  // a gutter
  for (int n = 0; bodyY + 4 + n * kLineHeight + 11 < kDragH - 2; ++n) {
    const int baseline = bodyY + 4 + n * kLineHeight + 11;
    XSetForeground(d, gc, 0x707884);
    const std::string number = std::to_string(n + 1);
    XDrawString(d, p, gc, 4, baseline, number.c_str(), static_cast<int>(number.size()));
    XSetForeground(d, gc, n % 7 == 3 ? 0x1F5FBF : n % 5 == 1 ? 0xA0306A : black);
    const std::string text = documentLine(std::uint64_t(n) * 13 + 5);
    XDrawString(d, p, gc, 42, baseline, text.c_str(), static_cast<int>(text.size()));
  }
}

constexpr std::size_t kCodes = std::size_t(1) << kStampBits;

}  // namespace

const char* x11LoadName(X11LoadKind kind) {
  switch (kind) {
    case X11LoadKind::ScrollDocument: return "document scrolls";
    case X11LoadKind::ScrollTerminal: return "720x288 terminal scrolls";
    case X11LoadKind::Video: return "video (all changes)";
    case X11LoadKind::DragWindow: return "640x420 window dragged";
    case X11LoadKind::Still: return "still";
  }
  return "?";
}

bool x11LoadFromName(const std::string& name, X11LoadKind& kind) {
  static const std::pair<const char*, X11LoadKind> kNames[] = {{"document", X11LoadKind::ScrollDocument},
                                                               {"terminal", X11LoadKind::ScrollTerminal},
                                                               {"video", X11LoadKind::Video},
                                                               {"drag", X11LoadKind::DragWindow},
                                                               {"still", X11LoadKind::Still}};
  for (const auto& [n, k] : kNames)
    if (name == n) return kind = k, true;
  return false;
}

bool X11Load::start(const std::string& display, X11LoadKind kind, std::string& error) {
  stop();
  Display* d = XOpenDisplay(display.c_str());
  if (!d) {
    error = "cannot open display " + display;
    return false;
  }
  m_stop = false;
  m_frames = 0;
  m_drawnUs.reset(new std::atomic<std::int64_t>[kCodes]);
  for (std::size_t i = 0; i < kCodes; ++i) m_drawnUs[i] = 0;
  m_thread = std::thread([this, d, kind] { run(d, kind); });
  return true;
}

void X11Load::stop() {
  m_stop = true;
  if (m_thread.joinable()) m_thread.join();
}

std::int64_t X11Load::drawnAtUs(std::uint32_t code) const {
  return m_drawnUs && code < kCodes ? m_drawnUs[code].load() : 0;
}

void X11Load::run(void* displayPtr, X11LoadKind kind) {
  Display* d = static_cast<Display*>(displayPtr);
  const int screen = DefaultScreen(d);
  const int W = DisplayWidth(d, screen), H = DisplayHeight(d, screen);
  XSetWindowAttributes a{};
  a.override_redirect = True;
  a.background_pixel = WhitePixel(d, screen);
  const Window w = XCreateWindow(d, RootWindow(d, screen), 0, 0, static_cast<unsigned>(W), static_cast<unsigned>(H), 0,
                                 CopyFromParent, InputOutput, CopyFromParent, CWOverrideRedirect | CWBackPixel, &a);
  XMapRaised(d, w);
  GC gc = XCreateGC(d, w, 0, nullptr);
  if (Font font = XLoadFont(d, "fixed")) XSetFont(d, gc, font);
  XSetGraphicsExposures(d, gc, False);  // copies within a visible window: no exposures to wait for
  const unsigned long black = BlackPixel(d, screen), white = WhitePixel(d, screen), green = 0x33DD66;
  XSync(d, False);

  // The page: a document everywhere, and for the terminal load a dark box over it.
  std::uint64_t docTop = 0;
  XSetForeground(d, gc, black);
  drawDocumentBand(d, w, gc, W, 0, H, docTop);
  // Under the dragged window the page is text all across (more columns of other lines), so
  // what it uncovers has detail everywhere, as a desktop of windows has.
  auto pageColumns = [&](int clipX, int clipW, int y, int h) {
    for (int col = 1; col < 3; ++col)
      drawDocumentBand(d, w, gc, clipW, y, h, static_cast<std::uint64_t>(y + col * 7000 * kLineHeight), 8 + col * 640, clipX);
  };
  if (kind == X11LoadKind::DragWindow) pageColumns(0, W, 0, H);
  std::uint64_t termLine = 0;
  if (kind == X11LoadKind::ScrollTerminal) {
    XSetForeground(d, gc, 0x101418);
    XFillRectangle(d, w, gc, kTermX, kTermY, kTermW, kTermH);
  }
  // The dragged window: drawn once into a pixmap, and each move copies it to its new place and
  // draws the page back where it left, as a compositing window manager's scene does.
  Pixmap dragged = None;
  int dragX = 200, dragY = 150;
  if (kind == X11LoadKind::DragWindow) {
    dragged = XCreatePixmap(d, w, kDragW, kDragH, static_cast<unsigned>(DefaultDepth(d, screen)));
    drawDraggedWindow(d, dragged, gc, black, white);
    XCopyArea(d, dragged, w, gc, 0, 0, kDragW, kDragH, dragX, dragY);
  }
  XImage* image = nullptr;
  std::vector<float> sine(1024);
  if (kind == X11LoadKind::Video) {
    for (int i = 0; i < 1024; ++i) sine[std::size_t(i)] = std::sin(static_cast<float>(i) * 2.f * 3.14159265f / 1024.f);
    char* data = static_cast<char*>(std::malloc(std::size_t(W) * H * 4));
    image = XCreateImage(d, DefaultVisual(d, screen), 24, ZPixmap, 0, data, static_cast<unsigned>(W),
                         static_cast<unsigned>(H), 32, 0);
  }
  XSync(d, False);

  int dragDx = kDragStepX, dragDy = kDragStepY;
  auto next = std::chrono::steady_clock::now();
  for (std::uint64_t t = 1; !m_stop.load(); ++t) {
    switch (kind) {
      case X11LoadKind::ScrollDocument:
        XCopyArea(d, w, w, gc, 0, kDocumentScrollPx, static_cast<unsigned>(W), static_cast<unsigned>(H - kDocumentScrollPx), 0, 0);
        docTop += kDocumentScrollPx;
        XSetForeground(d, gc, white);
        XFillRectangle(d, w, gc, 0, H - kDocumentScrollPx, static_cast<unsigned>(W), kDocumentScrollPx);
        XSetForeground(d, gc, black);
        drawDocumentBand(d, w, gc, W, H - kDocumentScrollPx, kDocumentScrollPx, docTop + static_cast<std::uint64_t>(H - kDocumentScrollPx));
        break;
      case X11LoadKind::ScrollTerminal: {
        XCopyArea(d, w, w, gc, kTermX, kTermY + kLineHeight, kTermW, kTermH - kLineHeight, kTermX, kTermY);
        XSetForeground(d, gc, 0x101418);
        XFillRectangle(d, w, gc, kTermX, kTermY + kTermH - kLineHeight, kTermW, kLineHeight);
        XSetForeground(d, gc, green);
        const std::string text = "$ " + documentLine(termLine++ * 7 + 3);
        XRectangle clip{kTermX, kTermY, kTermW, kTermH};
        XSetClipRectangles(d, gc, 0, 0, &clip, 1, Unsorted);
        XDrawString(d, w, gc, kTermX + 6, kTermY + kTermH - 3, text.c_str(), static_cast<int>(text.size()));
        XSetClipMask(d, gc, None);
        break;
      }
      case X11LoadKind::Video: {
        // Smooth moving colour fields: every pixel changes, nothing is a copy of the last frame.
        auto* px = reinterpret_cast<std::uint32_t*>(image->data);
        const int stride = image->bytes_per_line / 4;
        for (int y = 0; y < H; ++y) {
          const float sy = sine[std::size_t((y * 2 + t * 3) & 1023)];
          for (int x = 0; x < W; ++x) {
            const float v = sine[std::size_t((x + t * 4) & 1023)] + sy + sine[std::size_t((x + y + t * 5) & 1023)];
            const auto r = static_cast<std::uint32_t>(127.f + 40.f * v), g = static_cast<std::uint32_t>(127.f - 35.f * v);
            px[std::size_t(y) * stride + x] = r << 16 | g << 8 | static_cast<std::uint32_t>((x + y) >> 4 & 0xFF);
          }
        }
        XPutImage(d, w, gc, image, 0, 0, 0, 0, static_cast<unsigned>(W), static_cast<unsigned>(H));
        break;
      }
      case X11LoadKind::DragWindow: {
        // Bounce inside the screen (the frame code's corner kept clear); the window goes to its
        // new place first, then the page is drawn back where it left (the old place less the
        // new: a band across and a band down), so a capture in between never lacks the window.
        int nx = dragX + dragDx, ny = dragY + dragDy;
        if (nx < 0 || nx + kDragW > W) dragDx = -dragDx, nx = dragX + dragDx;
        if (ny < 0 || ny + kDragH > H - kStampH - 8) dragDy = -dragDy, ny = dragY + dragDy;
        XCopyArea(d, dragged, w, gc, 0, 0, kDragW, kDragH, nx, ny);
        const int across = std::abs(ny - dragY), down = std::abs(nx - dragX);
        const int bandY = ny > dragY ? dragY : ny + kDragH, bandX = nx > dragX ? dragX : nx + kDragW;
        const int downY = std::max(dragY, ny), downH = kDragH - across;
        XSetForeground(d, gc, white);
        if (across > 0) XFillRectangle(d, w, gc, dragX, bandY, kDragW, static_cast<unsigned>(across));
        if (down > 0 && downH > 0) XFillRectangle(d, w, gc, bandX, downY, static_cast<unsigned>(down), static_cast<unsigned>(downH));
        XSetForeground(d, gc, black);
        if (across > 0) {
          drawDocumentBand(d, w, gc, kDragW, bandY, across, static_cast<std::uint64_t>(bandY), 8, dragX);
          pageColumns(dragX, kDragW, bandY, across);
        }
        if (down > 0 && downH > 0) {
          drawDocumentBand(d, w, gc, down, downY, downH, static_cast<std::uint64_t>(downY), 8, bandX);
          pageColumns(bandX, down, downY, downH);
        }
        dragX = nx, dragY = ny;
        break;
      }
      case X11LoadKind::Still:
        break;
    }
    const auto code = static_cast<std::uint32_t>(t % kCodes);
    if (kind != X11LoadKind::Still) drawStamp(d, w, gc, H, code, black, white);
    XSync(d, False);
    if (kind != X11LoadKind::Still) m_drawnUs[code] = base::monoUs();
    ++m_frames;
    next += std::chrono::microseconds(16667);
    const auto now = std::chrono::steady_clock::now();
    if (next < now) next = now;  // behind: no catching up in a burst
    std::this_thread::sleep_until(next);
  }
  if (image) XDestroyImage(image);  // frees the pixels too
  if (dragged != None) XFreePixmap(d, dragged);
  XFreeGC(d, gc);
  XDestroyWindow(d, w);
  XCloseDisplay(d);
}

}  // namespace huddle::bench
