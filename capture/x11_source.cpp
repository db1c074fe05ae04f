#include "capture/x11_source.h"

#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <X11/extensions/XShm.h>
#include <X11/extensions/Xdamage.h>
#include <X11/extensions/Xfixes.h>
#include <X11/extensions/Xrandr.h>
#include <sys/ipc.h>
#include <sys/shm.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <vector>

#include "net/base/clock.h"
#include "net/base/log.h"
#include "net/wire/limits.h"

namespace huddle::capture {

namespace {
constexpr const char* kTag = "capture/x11";

// Xlib reports protocol errors through a process-wide handler; without one it exits the
// process. Ours records the error for the call that caused it (captures are serialised).
std::mutex g_errorMutex;
std::atomic<int> g_lastXError{0};
int onXError(Display*, XErrorEvent* e) {
  g_lastXError = e->error_code;
  return 0;
}

struct Geometry {
  int x = 0, y = 0, w = 0, h = 0;
  bool operator!=(const Geometry& o) const { return x != o.x || y != o.y || w != o.w || h != o.h; }
};
}  // namespace

struct X11Source::Impl {
  std::string displayName;
  X11Region region;
  Display* dpy = nullptr;
  Window root = 0;
  Geometry geo;
  bool shm = false;
  XShmSegmentInfo shmInfo{};
  XImage* image = nullptr;
  std::vector<std::uint8_t> copy;  // XGetImage path / non-BGRX layouts
  std::uint64_t seq = 0;
  // XDamage: the X server tells us which areas were drawn, so a still screen is neither
  // fetched nor compared. Without the extension every frame is fetched and compared whole.
  Damage damage = 0;
  XserverRegion damageRegion = 0;
  int damageEventBase = 0;
  // The cursor (XFixes): shape changes arrive as CursorNotify events; the image is fetched
  // only then, the position is polled each frame.
  int fixesEventBase = -1;
  bool cursorShapeDirty = true;
  unsigned long cursorSerial = 0;
  bool cursorGiven = false;
  bool haveFrame = false;            // `image` holds a frame taken since the last resize
  std::vector<base::Rect> changed;   // this frame's damage, relative to the captured area

  ~Impl() {
    releaseImage();
    if (dpy) {
      if (damage) XDamageDestroy(dpy, damage);
      if (damageRegion) XFixesDestroyRegion(dpy, damageRegion);
      XCloseDisplay(dpy);
    }
  }

  void startDamage() {
    int errorBase = 0, major = 0, minor = 0;
    if (!XDamageQueryExtension(dpy, &damageEventBase, &errorBase) || !XFixesQueryExtension(dpy, &major, &errorBase)) {
      HLOG_INFO(kTag, "no XDamage: comparing whole frames for changes");
      return;
    }
    XFixesQueryVersion(dpy, &major, &minor);
    damage = XDamageCreate(dpy, root, XDamageReportNonEmpty);
    damageRegion = XFixesCreateRegion(dpy, nullptr, 0);
  }

  // Takes the damage reported since the last call into `changed` (relative to geo), and
  // drains the damage events. Called before the image is fetched, so nothing drawn after
  // it is lost: it shows up in the next frame's damage.
  void takeDamage() {
    changed.clear();
    drainEvents();
    XDamageSubtract(dpy, damage, None, damageRegion);
    int n = 0;
    XRectangle* rects = XFixesFetchRegion(dpy, damageRegion, &n);
    const base::Rect area{0, 0, geo.w, geo.h};
    for (int i = 0; i < n; ++i) {
      base::Rect r = base::Rect{rects[i].x - geo.x, rects[i].y - geo.y, rects[i].width, rects[i].height}.intersected(area);
      if (!r.empty()) changed.push_back(r);
    }
    if (rects) XFree(rects);
  }

  // Reads every pending event: DamageNotify (the damage region itself is fetched) and
  // XFixes CursorNotify (the cursor changed shape).
  void drainEvents() {
    while (XPending(dpy) > 0) {
      XEvent ev;
      XNextEvent(dpy, &ev);
      if (fixesEventBase >= 0 && ev.type == fixesEventBase + XFixesCursorNotify) cursorShapeDirty = true;
    }
  }

  void startCursor() {
    int errorBase = 0;
    if (!XFixesQueryExtension(dpy, &fixesEventBase, &errorBase)) {
      fixesEventBase = -1;
      HLOG_INFO(kTag, "no XFixes: the cursor is not shared");
      return;
    }
    XFixesSelectCursorInput(dpy, root, XFixesDisplayCursorNotifyMask);
    cursorShapeDirty = true;
  }

  void releaseImage() {
    if (!image) return;
    if (shm) {
      XShmDetach(dpy, &shmInfo);
      XSync(dpy, False);
      image->data = nullptr;  // the shared segment is not Xlib's to free
    }
    XDestroyImage(image);
    image = nullptr;
    if (shm && shmInfo.shmaddr) shmdt(shmInfo.shmaddr);
    shmInfo = {};
  }

  // The area to capture now (the screen or monitor may have changed size).
  bool currentGeometry(Geometry& out, std::string& error) {
    XWindowAttributes attrs{};
    if (!XGetWindowAttributes(dpy, root, &attrs)) return error = "cannot read the X screen's size", false;
    Geometry screen{0, 0, attrs.width, attrs.height};
    if (region.kind == X11Region::Kind::WholeScreen) {
      out = screen;
    } else if (region.kind == X11Region::Kind::Monitor) {
      int n = 0;
      XRRMonitorInfo* mons = XRRGetMonitors(dpy, root, True, &n);
      if (!mons || region.monitor < 0 || region.monitor >= n) {
        if (mons) XRRFreeMonitors(mons);
        return error = "there is no monitor " + std::to_string(region.monitor) + " (the screen has " + std::to_string(n) + ")", false;
      }
      out = {mons[region.monitor].x, mons[region.monitor].y, mons[region.monitor].width, mons[region.monitor].height};
      XRRFreeMonitors(mons);
    } else {
      out = {region.x, region.y, region.w, region.h};
    }
    // Clip to the screen: XGetImage fails on areas outside it.
    int x1 = std::min(out.x + out.w, screen.w), y1 = std::min(out.y + out.h, screen.h);
    out.x = std::max(out.x, 0);
    out.y = std::max(out.y, 0);
    out.w = x1 - out.x;
    out.h = y1 - out.y;
    if (out.w <= 0 || out.h <= 0) return error = "the region to share is outside the screen", false;
    return true;
  }

  bool createImage(std::string& error) {
    releaseImage();
    Visual* visual = DefaultVisual(dpy, DefaultScreen(dpy));
    int depth = DefaultDepth(dpy, DefaultScreen(dpy));
    if (depth != 24 && depth != 32) return error = "the X screen has depth " + std::to_string(depth) + "; Huddle captures 24/32-bit TrueColor", false;
    if (shm) {
      image = XShmCreateImage(dpy, visual, static_cast<unsigned>(depth), ZPixmap, nullptr, &shmInfo,
                              static_cast<unsigned>(geo.w), static_cast<unsigned>(geo.h));
      if (!image) return error = "cannot create a shared-memory image", false;
      // 0600: only this user may read the pixels of the screen.
      shmInfo.shmid = shmget(IPC_PRIVATE, static_cast<std::size_t>(image->bytes_per_line) * image->height, IPC_CREAT | 0600);
      if (shmInfo.shmid < 0) {
        XDestroyImage(image);
        image = nullptr;
        return error = std::string("cannot create a shared memory segment: ") + std::strerror(errno), false;
      }
      shmInfo.shmaddr = image->data = static_cast<char*>(shmat(shmInfo.shmid, nullptr, 0));
      shmInfo.readOnly = False;
      std::lock_guard lock(g_errorMutex);
      g_lastXError = 0;
      bool attached = XShmAttach(dpy, &shmInfo);
      XSync(dpy, False);
      // Marked for removal at once: the segment disappears when both sides detach, even if
      // this process dies.
      shmctl(shmInfo.shmid, IPC_RMID, nullptr);
      if (!attached || g_lastXError != 0) {
        HLOG_WARN(kTag, "XShmAttach failed (X error %d): using XGetImage", g_lastXError.load());
        shmdt(shmInfo.shmaddr);
        image->data = nullptr;
        XDestroyImage(image);
        image = nullptr;
        shmInfo = {};
        shm = false;
      }
    }
    return true;
  }
};

std::vector<X11Monitor> listX11Monitors(const std::string& display, std::string& error) {
  std::vector<X11Monitor> out;
  Display* dpy = XOpenDisplay(display.empty() ? nullptr : display.c_str());
  if (!dpy) {
    error = "cannot open the X display";
    return out;
  }
  int n = 0;
  if (XRRMonitorInfo* mons = XRRGetMonitors(dpy, DefaultRootWindow(dpy), True, &n)) {
    for (int i = 0; i < n; ++i) {
      X11Monitor m;
      if (char* name = mons[i].name ? XGetAtomName(dpy, mons[i].name) : nullptr) {
        m.name = name;
        XFree(name);
      }
      m.x = mons[i].x;
      m.y = mons[i].y;
      m.w = mons[i].width;
      m.h = mons[i].height;
      out.push_back(m);
    }
    XRRFreeMonitors(mons);
  }
  XCloseDisplay(dpy);
  return out;
}

X11Source::X11Source(std::string display, X11Region region) : m_impl(std::make_unique<Impl>()) {
  m_impl->displayName = std::move(display);
  m_impl->region = region;
}

X11Source::~X11Source() = default;

bool X11Source::usingShm() const { return m_impl->shm; }

std::string X11Source::title() const {
  switch (m_impl->region.kind) {
    case X11Region::Kind::WholeScreen: return "Whole screen";
    case X11Region::Kind::Monitor: return "Monitor " + std::to_string(m_impl->region.monitor + 1);
    case X11Region::Kind::Rect: return "Screen region";
  }
  return "Screen";
}

bool X11Source::open(std::string& error) {
  static std::once_flag once;
  std::call_once(once, [] { XSetErrorHandler(onXError); });
  Impl& s = *m_impl;
  const char* name = s.displayName.empty() ? nullptr : s.displayName.c_str();
  s.dpy = XOpenDisplay(name);
  if (!s.dpy) {
    error = "cannot open the X display " + std::string(name ? name : (std::getenv("DISPLAY") ? std::getenv("DISPLAY") : "(DISPLAY is not set)"));
    return false;
  }
  s.root = DefaultRootWindow(s.dpy);
  s.shm = XShmQueryExtension(s.dpy);
  if (!s.shm) HLOG_WARN(kTag, "XShm not available: capturing with XGetImage (slower)");
  if (!s.currentGeometry(s.geo, error)) return false;
  if (!s.createImage(error)) return false;
  s.startDamage();
  s.startCursor();
  return true;
}

bool X11Source::cursor(base::CursorPos& pos, base::CursorImage& shape, bool& shapeChanged) {
  Impl& s = *m_impl;
  if (!s.dpy || s.fixesEventBase < 0) return false;
  std::lock_guard lock(g_errorMutex);
  g_lastXError = 0;
  s.drainEvents();
  shapeChanged = false;
  int rootX = 0, rootY = 0;
  XFixesCursorImage* ci = nullptr;
  if (s.cursorShapeDirty || !s.cursorGiven) {
    ci = XFixesGetCursorImage(s.dpy);
    // It can fail just as a cursor is freed (its client exited): the last shape holds, and
    // it is asked for again next frame.
    if (ci && g_lastXError != 0) {
      XFree(ci);
      ci = nullptr;
    }
    if (!ci && !s.cursorGiven) return false;
  }
  if (ci) {
    s.cursorShapeDirty = false;
    rootX = ci->x;
    rootY = ci->y;
    if (!s.cursorGiven || ci->cursor_serial != s.cursorSerial) {
      // XFixes gives premultiplied ARGB in longs; ours is straight RGBA, cropped to the
      // largest shape the wire carries (the hot spot kept inside).
      const int w = std::min<int>(ci->width, wire::kMaxCursorSidePx), h = std::min<int>(ci->height, wire::kMaxCursorSidePx);
      if (w > 0 && h > 0) {
        shape.id = static_cast<std::uint32_t>(ci->cursor_serial);
        shape.widthPx = static_cast<std::uint16_t>(w);
        shape.heightPx = static_cast<std::uint16_t>(h);
        shape.hotX = static_cast<std::uint16_t>(std::min<int>(ci->xhot, w - 1));
        shape.hotY = static_cast<std::uint16_t>(std::min<int>(ci->yhot, h - 1));
        shape.rgba.resize(std::size_t(w) * h * 4);
        for (int y = 0; y < h; ++y)
          for (int x = 0; x < w; ++x) {
            const unsigned long p = ci->pixels[std::size_t(y) * ci->width + x];
            const unsigned a = (p >> 24) & 0xFF;
            auto straight = [a](unsigned long c) { return a ? std::min<unsigned>(255, unsigned(c & 0xFF) * 255 / a) : 0u; };
            std::uint8_t* d = &shape.rgba[(std::size_t(y) * w + x) * 4];
            d[0] = static_cast<std::uint8_t>(straight(p >> 16));
            d[1] = static_cast<std::uint8_t>(straight(p >> 8));
            d[2] = static_cast<std::uint8_t>(straight(p));
            d[3] = static_cast<std::uint8_t>(a);
          }
        s.cursorSerial = ci->cursor_serial;
        s.cursorGiven = true;
        shapeChanged = true;
      }
    }
    XFree(ci);
    if (!s.cursorGiven) return false;
  } else {
    Window rootReturn = 0, child = 0;
    int winX = 0, winY = 0;
    unsigned mask = 0;
    if (!XQueryPointer(s.dpy, s.root, &rootReturn, &child, &rootX, &rootY, &winX, &winY, &mask)) {
      pos.visible = false;  // on another screen of this display
      pos.shapeId = static_cast<std::uint32_t>(s.cursorSerial);
      return true;
    }
  }
  pos.shapeId = static_cast<std::uint32_t>(s.cursorSerial);
  pos.x = rootX - s.geo.x;
  pos.y = rootY - s.geo.y;
  pos.visible = pos.x >= 0 && pos.y >= 0 && pos.x < s.geo.w && pos.y < s.geo.h;
  return true;
}

CaptureResult X11Source::capture(Frame& frame, std::string& error) {
  Impl& s = *m_impl;
  if (!s.dpy) return error = "the X source is not open", CaptureResult::Error;
  Geometry now;
  if (!s.currentGeometry(now, error)) return CaptureResult::Error;
  bool resized = now != s.geo;
  if (resized) {
    s.geo = now;
    s.haveFrame = false;
    if (!s.createImage(error)) return CaptureResult::Error;
  }
  std::lock_guard lock(g_errorMutex);
  g_lastXError = 0;
  std::int64_t stamp = base::wallUs();
  if (s.damage) s.takeDamage();
  // Nothing drawn since the last frame: the image we hold is still the screen.
  const bool unchanged = s.damage && s.haveFrame && s.changed.empty() && s.copy.empty();
  if (!unchanged) {
    bool fetched = false;
    if (s.shm) {
      fetched = XShmGetImage(s.dpy, s.root, s.image, s.geo.x, s.geo.y, AllPlanes) && g_lastXError == 0;
    } else {
      if (s.image) XDestroyImage(s.image);
      s.image = XGetImage(s.dpy, s.root, s.geo.x, s.geo.y, static_cast<unsigned>(s.geo.w),
                          static_cast<unsigned>(s.geo.h), AllPlanes, ZPixmap);
      fetched = s.image && g_lastXError == 0;
    }
    if (!fetched) {
      s.haveFrame = false;  // the damage taken above is gone: the next frame is whole
      return error = s.shm ? "XShmGetImage failed" : "XGetImage failed", CaptureResult::Error;
    }
  }
  XImage* im = s.image;
  const bool bgrx = im->bits_per_pixel == 32 && im->red_mask == 0xFF0000 && im->green_mask == 0xFF00 &&
                    im->blue_mask == 0xFF && im->byte_order == LSBFirst;
  if (bgrx) {
    frame.pixels = reinterpret_cast<const std::uint8_t*>(im->data);  // zero copy
    frame.strideBytes = im->bytes_per_line;
  } else {
    // Other TrueColor layouts: convert once into BGRX.
    s.copy.resize(std::size_t(s.geo.w) * s.geo.h * kBytesPerPixel);
    for (int y = 0; y < s.geo.h; ++y) {
      auto* dst = reinterpret_cast<std::uint32_t*>(s.copy.data() + std::size_t(y) * s.geo.w * kBytesPerPixel);
      for (int x = 0; x < s.geo.w; ++x) {
        unsigned long p = XGetPixel(im, x, y);
        auto channel = [&](unsigned long mask) {
          if (!mask) return 0u;
          int shift = __builtin_ctzl(mask);
          unsigned long v = (p & mask) >> shift, max = mask >> shift;
          return static_cast<unsigned>(v * 255 / max);
        };
        dst[x] = 0xFF000000u | channel(im->red_mask) << 16 | channel(im->green_mask) << 8 | channel(im->blue_mask);
      }
    }
    frame.pixels = s.copy.data();
    frame.strideBytes = s.geo.w * kBytesPerPixel;
  }
  frame.widthPx = s.geo.w;
  frame.heightPx = s.geo.h;
  frame.captureTimeUs = stamp;
  frame.seq = s.seq++;
  // The first frame after (re)opening is whole; after it, the damage says where to look.
  frame.changed = s.damage && s.haveFrame ? &s.changed : nullptr;
  s.haveFrame = true;
  return resized ? CaptureResult::Reinit : CaptureResult::Ok;
}

}  // namespace huddle::capture
