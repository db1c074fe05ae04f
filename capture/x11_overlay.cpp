#include "capture/x11_overlay.h"

#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <X11/cursorfont.h>
#include <X11/extensions/shape.h>
#include <X11/keysym.h>
#include <poll.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <chrono>
#include <map>
#include <string>
#include <thread>

#include "capture/x11_source.h"

namespace huddle::capture {

namespace {
constexpr int kMinPickedSidePx = 16;  // a click without a drag picks nothing
constexpr int kBorderPx = 3;
constexpr unsigned long kBorderColour = 0xFF8C1A;  // orange, like a recording light
constexpr unsigned long kBandColour = 0x3D9BFF;    // the frame being dragged

ScreenRect spanned(int x0, int y0, int x1, int y1) {
  return {std::min(x0, x1), std::min(y0, y1), std::abs(x1 - x0), std::abs(y1 - y0)};
}

// Four thin windows around a rectangle (just outside it) and, for the picker, a label with its
// size: real windows above the others, override-redirect (no frame, no focus) and with an
// empty input shape, so they never take a click. Windows, unlike drawing on the root, stay
// whole over programs that redraw themselves all the time (Huddle's own window among them).
struct FrameWindows {
  Display* dpy = nullptr;
  std::array<Window, 4> sides{};
  Window label = 0;

  Window make(const ScreenRect& at, unsigned long colour) {
    XSetWindowAttributes attrs{};
    attrs.override_redirect = True;
    attrs.background_pixel = colour;
    const Window w = XCreateWindow(dpy, DefaultRootWindow(dpy), at.x, at.y, static_cast<unsigned>(std::max(at.w, 1)),
                                   static_cast<unsigned>(std::max(at.h, 1)), 0, CopyFromParent, InputOutput,
                                   CopyFromParent, CWOverrideRedirect | CWBackPixel, &attrs);
    XShapeCombineRectangles(dpy, w, ShapeInput, 0, 0, nullptr, 0, ShapeSet, Unsorted);
    XStoreName(dpy, w, "Huddle: shared region");
    XMapRaised(dpy, w);
    return w;
  }
  // Frames `r` with sides `t` pixels thick in `colour` (moves the frame if it is there).
  void frame(const ScreenRect& r, int t, unsigned long colour) {
    const std::array<ScreenRect, 4> at = {ScreenRect{r.x - t, r.y - t, r.w + 2 * t, t},
                                          ScreenRect{r.x - t, r.y + r.h, r.w + 2 * t, t}, ScreenRect{r.x - t, r.y, t, r.h},
                                          ScreenRect{r.x + r.w, r.y, t, r.h}};
    for (std::size_t i = 0; i < at.size(); ++i) {
      if (!sides[i]) sides[i] = make(at[i], colour);
      else XMoveResizeWindow(dpy, sides[i], at[i].x, at[i].y, static_cast<unsigned>(std::max(at[i].w, 1)),
                             static_cast<unsigned>(std::max(at[i].h, 1)));
    }
  }
  // "WxH" in a small dark box just inside the frame's bottom-right corner.
  void sizeLabel(const ScreenRect& r) {
    const std::string text = std::to_string(r.w) + "x" + std::to_string(r.h);
    const ScreenRect at{r.x + r.w - 90, r.y + r.h - 22, 88, 20};
    if (!label) label = make(at, 0x202020);
    else XMoveWindow(dpy, label, at.x, at.y);
    XClearWindow(dpy, label);
    GC gc = DefaultGC(dpy, DefaultScreen(dpy));
    XSetForeground(dpy, gc, 0xFFFFFF);
    XDrawString(dpy, label, gc, 6, 14, text.c_str(), static_cast<int>(text.size()));
  }
  void clear() {
    for (Window& w : sides)
      if (w) XDestroyWindow(dpy, w), w = 0;
    if (label) XDestroyWindow(dpy, label), label = 0;
  }
};

// The pointer may be grabbed a moment longer by the program whose button started the pick.
bool grab(Display* dpy, Window root, Cursor cursor, const std::atomic<bool>& stop) {
  for (int i = 0; i < 100 && !stop.load(); ++i) {
    if (XGrabPointer(dpy, root, False, ButtonPressMask | ButtonReleaseMask | PointerMotionMask, GrabModeAsync,
                     GrabModeAsync, root, cursor, CurrentTime) == GrabSuccess) {
      if (XGrabKeyboard(dpy, root, False, GrabModeAsync, GrabModeAsync, CurrentTime) == GrabSuccess) return true;
      XUngrabPointer(dpy, CurrentTime);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}
}  // namespace

PickResult pickX11Region(const std::string& display, ScreenRect& out, std::string& error,
                         const std::atomic<bool>& stop) {
  installX11ErrorHandler();
  Display* dpy = XOpenDisplay(display.empty() ? nullptr : display.c_str());
  if (!dpy) return error = "cannot open the X display", PickResult::Failed;
  const Window root = DefaultRootWindow(dpy);
  const Cursor cross = XCreateFontCursor(dpy, XC_crosshair);
  if (!grab(dpy, root, cross, stop)) {
    XFreeCursor(dpy, cross);
    XCloseDisplay(dpy);
    if (stop.load()) return PickResult::Cancelled;
    return error = "another program holds the mouse; try again", PickResult::Failed;
  }
  FrameWindows band{dpy};
  PickResult result = PickResult::Cancelled;
  bool dragging = false, done = false;
  int startX = 0, startY = 0;
  while (!done && !stop.load()) {
    if (XPending(dpy) == 0) {
      XFlush(dpy);
      pollfd fd{ConnectionNumber(dpy), POLLIN, 0};
      poll(&fd, 1, 50);  // wakes for stop now and then
      continue;
    }
    XEvent ev;
    XNextEvent(dpy, &ev);
    if (ev.type == KeyPress && XLookupKeysym(&ev.xkey, 0) == XK_Escape) {
      done = true;
    } else if (ev.type == ButtonPress && ev.xbutton.button == Button1) {
      dragging = true;
      startX = ev.xbutton.x_root;
      startY = ev.xbutton.y_root;
    } else if (ev.type == ButtonPress && ev.xbutton.button == Button3) {
      done = true;  // the right button cancels, as in most pickers
    } else if (ev.type == MotionNotify && dragging) {
      while (XCheckTypedEvent(dpy, MotionNotify, &ev)) {}  // only the latest position matters
      const ScreenRect r = spanned(startX, startY, ev.xmotion.x_root, ev.xmotion.y_root);
      band.frame(r, 2, kBandColour);
      band.sizeLabel(r);
    } else if (ev.type == ButtonRelease && ev.xbutton.button == Button1 && dragging) {
      band.clear();
      dragging = false;
      const ScreenRect r = spanned(startX, startY, ev.xbutton.x_root, ev.xbutton.y_root);
      if (r.w >= kMinPickedSidePx && r.h >= kMinPickedSidePx) {
        out = r;
        result = PickResult::Picked;
        done = true;
      }
    }
  }
  band.clear();  // nothing left on the screen
  XUngrabKeyboard(dpy, CurrentTime);
  XUngrabPointer(dpy, CurrentTime);
  XFreeCursor(dpy, cross);
  XCloseDisplay(dpy);
  return result;
}

struct X11RegionBorder::Impl {
  std::string displayName;
  FrameWindows frame;

  void close() {
    if (!frame.dpy) return;
    frame.clear();
    XCloseDisplay(frame.dpy);
    frame.dpy = nullptr;
  }
};

X11RegionBorder::X11RegionBorder() : m_impl(std::make_unique<Impl>()) {}
X11RegionBorder::~X11RegionBorder() { hide(); }

bool X11RegionBorder::shown() const { return m_impl->frame.dpy != nullptr; }

void X11RegionBorder::hide() { m_impl->close(); }

bool X11RegionBorder::show(const std::string& display, const ScreenRect& r, std::string& error) {
  Impl& s = *m_impl;
  if (s.frame.dpy && s.displayName != display) s.close();
  if (!s.frame.dpy) {
    installX11ErrorHandler();
    s.frame.dpy = XOpenDisplay(display.empty() ? nullptr : display.c_str());
    if (!s.frame.dpy) return error = "cannot open the X display", false;
    s.displayName = display;
  }
  s.frame.frame(r, kBorderPx, kBorderColour);  // just outside the region: never in the shared pixels
  XSync(s.frame.dpy, False);
  return true;
}

// [SECTION] pointers on the sharer's screen

namespace {
constexpr int kDotPx = 18;  // the marker's diameter; its hot spot is its centre

// A round window: its bounding shape is a disc (rows of a circle), so no compositor is needed
// for it to look round; its input shape is empty like every overlay's.
void makeRound(Display* dpy, Window w, int d) {
  std::vector<XRectangle> rows;
  const double r = d / 2.0;
  for (int y = 0; y < d; ++y) {
    const double dy = y + 0.5 - r;
    const int half = static_cast<int>(std::sqrt(std::max(0.0, r * r - dy * dy)) + 0.5);
    if (half > 0) rows.push_back({static_cast<short>(d / 2 - half), static_cast<short>(y), static_cast<unsigned short>(2 * half), 1});
  }
  XShapeCombineRectangles(dpy, w, ShapeBounding, 0, 0, rows.data(), static_cast<int>(rows.size()), ShapeSet, YXBanded);
  XShapeCombineRectangles(dpy, w, ShapeInput, 0, 0, nullptr, 0, ShapeSet, Unsorted);
}
}  // namespace

struct X11PointerOverlay::Impl {
  struct Marker {
    Window dot = 0, tag = 0;
    std::string name;
    std::uint32_t rgb = 0;
  };
  Display* dpy = nullptr;
  std::string displayName;
  XFontSet fonts = nullptr;  // for names in any script the server has fonts for
  std::map<std::uint32_t, Marker> markers;
  // What is on the screen now: called every frame, an update that changes nothing costs no
  // request to the server.
  std::vector<ScreenPointer> placed;
  int placedX = 0, placedY = 0;
  // Where a compositor runs, markers are translucent: windows of a 32-bit visual whose pixels
  // carry alpha, which the compositor blends. Without one they are opaque.
  Visual* argbVisual = nullptr;
  Colormap argbColormap = 0;

  void findCompositor() {
    const int screen = DefaultScreen(dpy);
    const Atom cm = XInternAtom(dpy, ("_NET_WM_CM_S" + std::to_string(screen)).c_str(), False);
    XVisualInfo vi{};
    if (XGetSelectionOwner(dpy, cm) == None || !XMatchVisualInfo(dpy, screen, 32, TrueColor, &vi)) return;
    argbVisual = vi.visual;
    argbColormap = XCreateColormap(dpy, DefaultRootWindow(dpy), argbVisual, AllocNone);
  }
  bool translucent() const { return argbVisual != nullptr; }

  Window overlayWindow(int x, int y, int w, int h, unsigned long colour) {
    XSetWindowAttributes attrs{};
    attrs.override_redirect = True;
    unsigned long mask = CWOverrideRedirect | CWBackPixel;
    Visual* visual = CopyFromParent;
    int depth = CopyFromParent;
    if (argbVisual) {  // premultiplied, as a compositor blends it
      constexpr unsigned kAlpha = 0xC0;
      auto pre = [](unsigned long c) { return (c & 0xFF) * kAlpha / 0xFF; };
      colour = static_cast<unsigned long>(kAlpha) << 24 | pre(colour >> 16) << 16 | pre(colour >> 8) << 8 | pre(colour);
      attrs.colormap = argbColormap;
      attrs.border_pixel = 0;
      mask |= CWColormap | CWBorderPixel;
      visual = argbVisual;
      depth = 32;
    }
    attrs.background_pixel = colour;
    const Window win = XCreateWindow(dpy, DefaultRootWindow(dpy), x, y, static_cast<unsigned>(w),
                                     static_cast<unsigned>(h), 0, depth, InputOutput, visual, mask, &attrs);
    XShapeCombineRectangles(dpy, win, ShapeInput, 0, 0, nullptr, 0, ShapeSet, Unsorted);
    XStoreName(dpy, win, "Huddle: pointer");
    XMapRaised(dpy, win);
    return win;
  }
  int textWidth(const std::string& text) const {
    if (fonts) return Xutf8TextEscapement(fonts, text.c_str(), static_cast<int>(text.size()));
    return 7 * static_cast<int>(text.size());
  }
  void drawTag(const Marker& m) {
    XClearWindow(dpy, m.tag);
    // The default GC is the root's depth; a 32-bit tag needs one of its own.
    GC gc = XCreateGC(dpy, m.tag, 0, nullptr);
    XSetForeground(dpy, gc, translucent() ? 0xFFF0F0F0 : 0xF0F0F0);
    if (fonts) {
      Xutf8DrawString(dpy, m.tag, fonts, gc, 6, 14, m.name.c_str(), static_cast<int>(m.name.size()));
    } else {
      std::string ascii = m.name;  // the core font has Latin only
      for (char& c : ascii)
        if (static_cast<unsigned char>(c) >= 0x80) c = '?';
      XDrawString(dpy, m.tag, gc, 6, 14, ascii.c_str(), static_cast<int>(ascii.size()));
    }
    XFreeGC(dpy, gc);
  }
  void remove(Marker& m) {
    if (m.dot) XDestroyWindow(dpy, m.dot);
    if (m.tag) XDestroyWindow(dpy, m.tag);
  }
  void close() {
    if (!dpy) return;
    for (auto& [id, m] : markers) remove(m);
    markers.clear();
    placed.clear();
    if (fonts) XFreeFontSet(dpy, fonts);
    fonts = nullptr;
    if (argbColormap) XFreeColormap(dpy, argbColormap);
    argbColormap = 0;
    argbVisual = nullptr;
    XCloseDisplay(dpy);
    dpy = nullptr;
  }
};

X11PointerOverlay::X11PointerOverlay() : m_impl(std::make_unique<Impl>()) {}
X11PointerOverlay::~X11PointerOverlay() { m_impl->close(); }

std::size_t X11PointerOverlay::shown() const { return m_impl->markers.size(); }

bool X11PointerOverlay::translucent() const { return m_impl->dpy && m_impl->translucent(); }

bool X11PointerOverlay::update(const std::string& display, const std::vector<ScreenPointer>& pointers,
                               std::string& error, unsigned long window) {
  Impl& s = *m_impl;
  if (pointers.empty() || (s.dpy && s.displayName != display)) s.close();
  if (pointers.empty()) return true;
  if (!s.dpy) {
    installX11ErrorHandler();
    s.dpy = XOpenDisplay(display.empty() ? nullptr : display.c_str());
    if (!s.dpy) return error = "cannot open the X display", false;
    s.displayName = display;
    char** missing = nullptr;
    int missingCount = 0;
    char* fallback = nullptr;
    s.fonts = XCreateFontSet(s.dpy, "-*-*-medium-r-normal--14-*-*-*-*-*-*-*,fixed", &missing, &missingCount, &fallback);
    if (missing) XFreeStringList(missing);
    s.findCompositor();
  }
  int originX = 0, originY = 0;
  if (window) {  // where the shared window is now (it may have moved)
    Window child = 0;
    if (!XTranslateCoordinates(s.dpy, static_cast<Window>(window), DefaultRootWindow(s.dpy), 0, 0, &originX, &originY,
                               &child)) {
      return update(display, {}, error);  // gone: no markers
    }
  }
  auto same = [](const ScreenPointer& a, const ScreenPointer& b) {
    return a.id == b.id && a.x == b.x && a.y == b.y && a.rgb == b.rgb && a.name == b.name;
  };
  if (originX == s.placedX && originY == s.placedY &&
      std::equal(pointers.begin(), pointers.end(), s.placed.begin(), s.placed.end(), same))
    return true;
  s.placed = pointers;
  s.placedX = originX;
  s.placedY = originY;
  // Gone from the list: taken off the screen.
  for (auto it = s.markers.begin(); it != s.markers.end();) {
    const bool kept = std::any_of(pointers.begin(), pointers.end(), [&](const ScreenPointer& p) { return p.id == it->first; });
    if (kept) {
      ++it;
    } else {
      s.remove(it->second);
      it = s.markers.erase(it);
    }
  }
  for (const ScreenPointer& p : pointers) {
    Impl::Marker& m = s.markers[p.id];
    const int x = originX + p.x, y = originY + p.y;
    const int dotX = x - kDotPx / 2, dotY = y - kDotPx / 2;
    const int tagW = s.textWidth(p.name) + 12, tagX = x + kDotPx / 2 + 2, tagY = y + kDotPx / 2 - 4;
    if (m.dot && m.rgb != p.rgb) {  // another colour: made again
      s.remove(m);
      m = {};
    }
    if (!m.dot) {
      m.dot = s.overlayWindow(dotX, dotY, kDotPx, kDotPx, p.rgb);
      makeRound(s.dpy, m.dot, kDotPx);
      m.tag = s.overlayWindow(tagX, tagY, tagW, 20, 0x202020);
      m.rgb = p.rgb;
    } else {
      XMoveWindow(s.dpy, m.dot, dotX, dotY);
      XMoveResizeWindow(s.dpy, m.tag, tagX, tagY, static_cast<unsigned>(tagW), 20);
      XRaiseWindow(s.dpy, m.dot);
      XRaiseWindow(s.dpy, m.tag);
    }
    m.name = p.name;
    s.drawTag(m);
  }
  XSync(s.dpy, False);  // shown when this returns (a round trip; markers change at most once a frame)
  return true;
}

}  // namespace huddle::capture
