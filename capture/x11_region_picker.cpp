#include "capture/x11_region_picker.h"

#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <X11/cursorfont.h>
#include <X11/extensions/shape.h>
#include <X11/keysym.h>
#include <poll.h>

#include <algorithm>
#include <array>
#include <chrono>
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

}  // namespace huddle::capture
