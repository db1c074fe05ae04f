#include "capture/x11_source.h"

#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <X11/Xatom.h>
#include <X11/extensions/XInput2.h>
#include <X11/extensions/XShm.h>
#include <X11/extensions/Xcomposite.h>
#include <X11/extensions/Xdamage.h>
#include <X11/extensions/Xfixes.h>
#include <X11/extensions/Xrandr.h>
#include <poll.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <chrono>
#include <cstring>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "net/base/clock.h"
#include "net/base/log.h"
#include "net/wire/limits.h"

namespace huddle::capture {

namespace {
constexpr const char* kTag = "capture/x11";
// With XInput2, a pointer that made no raw motion is asked where it is at least this often
// (a program may warp it without any).
constexpr std::int64_t kPointerAskedAtLeastUs = 200'000;
// waitForDrawing(): after a drawing outside the shared area, the pause before the next look.
constexpr std::int64_t kOutsidePauseUs = 2'000;

// Xlib reports protocol errors through a process-wide handler; without one it exits the
// process. Ours records the error for the call that caused it (captures are serialised).
std::mutex g_errorMutex;
std::atomic<int> g_lastXError{0};
int onXError(Display*, XErrorEvent* e) {
  g_lastXError = e->error_code;
  return 0;
}

// A window's title: _NET_WM_NAME (UTF-8) where the client sets it, else WM_NAME converted.
std::string windowTitle(Display* dpy, Window w) {
  std::string title;
  const Atom netName = XInternAtom(dpy, "_NET_WM_NAME", False), utf8 = XInternAtom(dpy, "UTF8_STRING", False);
  Atom type = 0;
  int format = 0;
  unsigned long count = 0, after = 0;
  unsigned char* data = nullptr;
  if (XGetWindowProperty(dpy, w, netName, 0, 1024, False, utf8, &type, &format, &count, &after, &data) == Success &&
      data && type == utf8 && format == 8)
    title.assign(reinterpret_cast<const char*>(data), count);
  if (data) XFree(data);
  if (!title.empty()) return title;
  XTextProperty prop{};
  if (XGetWMName(dpy, w, &prop) && prop.value) {
    char** list = nullptr;
    int n = 0;
    if (Xutf8TextPropertyToTextList(dpy, &prop, &list, &n) >= Success && list && n > 0 && list[0]) title = list[0];
    if (list) XFreeStringList(list);
    XFree(prop.value);
  }
  return title;
}

// The icon nearest 32x32 among those _NET_WM_ICON holds (width, height, then that many ARGB
// pixels, one per long, repeated), as straight RGBA. Sizes that do not fit the data are ignored.
void readWindowIcon(Display* dpy, Window w, X11Window& out) {
  constexpr long kMaxLongs = 64 * 1024;  // 256 KB of icons at most: more are not read
  constexpr unsigned long kMaxSide = 256;
  const Atom netIcon = XInternAtom(dpy, "_NET_WM_ICON", False);
  Atom type = 0;
  int format = 0;
  unsigned long count = 0, after = 0;
  unsigned char* data = nullptr;
  if (XGetWindowProperty(dpy, w, netIcon, 0, kMaxLongs, False, XA_CARDINAL, &type, &format, &count, &after, &data) !=
          Success ||
      !data || type != XA_CARDINAL || format != 32) {
    if (data) XFree(data);
    return;
  }
  const auto* v = reinterpret_cast<const unsigned long*>(data);  // format 32 is long in Xlib
  std::size_t best = 0, at = 0;
  unsigned long bestW = 0, bestH = 0;
  auto distance = [](unsigned long side) { return side > 32 ? side - 32 : 32 - side; };
  while (at + 2 <= count) {
    const unsigned long iw = v[at], ih = v[at + 1];
    if (iw == 0 || ih == 0 || iw > kMaxSide || ih > kMaxSide || iw * ih > count - at - 2) break;
    if (bestW == 0 || distance(iw) < distance(bestW)) best = at, bestW = iw, bestH = ih;
    at += 2 + iw * ih;
  }
  if (bestW) {
    out.iconW = static_cast<int>(bestW);
    out.iconH = static_cast<int>(bestH);
    out.iconRgba.resize(bestW * bestH * 4);
    for (std::size_t i = 0; i < bestW * bestH; ++i) {
      const unsigned long p = v[best + 2 + i];
      out.iconRgba[i * 4] = static_cast<std::uint8_t>(p >> 16);
      out.iconRgba[i * 4 + 1] = static_cast<std::uint8_t>(p >> 8);
      out.iconRgba[i * 4 + 2] = static_cast<std::uint8_t>(p);
      out.iconRgba[i * 4 + 3] = static_cast<std::uint8_t>(p >> 24);
    }
  }
  XFree(data);
}

std::string lowerAscii(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// "1234" or "0x4a0000c": a window id; false for anything else (a title).
bool parseWindowId(const std::string& text, unsigned long& id) {
  if (text.empty() || text.size() > 18) return false;
  const bool hex = text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X');
  const std::string digits = hex ? text.substr(2) : text;
  if (digits.empty()) return false;
  for (char c : digits)
    if (!(hex ? std::isxdigit(static_cast<unsigned char>(c)) : std::isdigit(static_cast<unsigned char>(c)))) return false;
  id = std::stoul(digits, nullptr, hex ? 16 : 10);
  return true;
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
  // One window (XComposite): the window, its off-screen pixmap (named again after a resize
  // or a map, when X gives the window a new one), and whether it is gone for good.
  Window target = 0;
  std::string targetTitle;
  Pixmap pixmap = 0;
  bool pixmapStale = true;
  bool windowGone = false;
  Visual* visual = nullptr;
  int depth = 0;
  // The pixel layout, from the visual: XShmGetImage on a pixmap (which has no visual)
  // clears the image's own masks.
  unsigned long redMask = 0, greenMask = 0, blueMask = 0;
  bool shm = false;
  // Two shared images, so the frame before the last can stay with the caller (keep()): the
  // damage tracker's reference is then the previous frame itself, never a copy of it.
  XShmSegmentInfo shmInfos[2]{};
  XImage* images[2] = {nullptr, nullptr};
  int current = 0;                     // the image of the last frame
  bool keeping = false;                // the caller follows keep(): frames are keepable
  const std::uint8_t* kept = nullptr;  // the image the caller keeps: never fetched into
  XImage* image = nullptr;             // the XGetImage path's image
  std::vector<std::uint8_t> copy;  // XGetImage path / non-BGRX layouts
  std::uint64_t seq = 0;
  // XDamage: the X server tells us which areas were drawn, so a still screen is neither
  // fetched nor compared. Without the extension every frame is fetched and compared whole.
  Damage damage = 0;
  XserverRegion damageRegion = 0;
  // What settle() took aside while a drawing went on, for the next takeDamage(); and the
  // region each piece is taken into on the way.
  XserverRegion pendingRegion = 0, pieceRegion = 0;
  bool pendingDamage = false;
  int damageEventBase = 0;
  // A DamageNotify came since the damage was last taken (XDamageReportNonEmpty sends one
  // each time it goes from none to some, so whoever reads the events keeps the news here).
  bool damageNews = false;
  // The cursor (XFixes): shape changes arrive as CursorNotify events; the image is fetched
  // only then, the position is polled each frame.
  int fixesEventBase = -1;
  // XInput2's raw motion events say the pointer moved, so a still pointer is not asked where
  // it is every frame (a round trip), only now and then (a warp makes no such event).
  int xiOpcode = -1;
  bool pointerNews = true;
  bool pointerWatched = false;  // cursor() was called: pointer news end waitForChange()
  std::int64_t pointerAskedUs = 0;
  int pointerX = 0, pointerY = 0;  // on the root, as last asked
  bool cursorShapeDirty = true;
  unsigned long cursorSerial = 0;
  bool cursorGiven = false;
  // The root window's size as ConfigureNotify last told it (-1: not known: asked for). Not
  // asked for every frame: a round trip to the server that changes nothing on a still screen.
  int screenW = -1, screenH = -1;
  bool haveFrame = false;            // `image` holds a frame taken since the last resize
  std::vector<base::Rect> changed;   // this frame's damage, relative to the captured area

  ~Impl() {
    releaseImage();
    if (dpy) {
      std::lock_guard lock(g_errorMutex);  // the window may be gone: its errors are expected
      if (damage) XDamageDestroy(dpy, damage);
      if (damageRegion) XFixesDestroyRegion(dpy, damageRegion);
      if (pendingRegion) XFixesDestroyRegion(dpy, pendingRegion);
      if (pieceRegion) XFixesDestroyRegion(dpy, pieceRegion);
      if (pixmap) XFreePixmap(dpy, pixmap);
      if (target && !windowGone) XCompositeUnredirectWindow(dpy, target, CompositeRedirectAutomatic);
      XSync(dpy, False);
      XCloseDisplay(dpy);
    }
  }

  bool sharingWindow() const { return region.kind == X11Region::Kind::Window; }
  // What pixels are read from, and where in it the shared area starts.
  Drawable source() const { return sharingWindow() ? pixmap : root; }
  int sourceX() const { return sharingWindow() ? 0 : geo.x; }
  int sourceY() const { return sharingWindow() ? 0 : geo.y; }

  // Finds the window `region.window` names and starts redirecting it off screen.
  bool openWindow(std::string& error) {
    int eventBase = 0, errorBase = 0, major = 0, minor = 0;
    if (!XCompositeQueryExtension(dpy, &eventBase, &errorBase) || !XCompositeQueryVersion(dpy, &major, &minor) ||
        (major == 0 && minor < 2))
      return error = "this X server has no Composite extension (0.2 or later), which sharing one window needs", false;
    std::string listError;
    const std::vector<X11Window> windows = listX11Windows(displayName, listError);
    X11Window found;
    if (!findX11Window(windows, region.window, found, error)) return false;
    target = static_cast<Window>(found.id);
    targetTitle = found.title;
    std::lock_guard lock(g_errorMutex);
    g_lastXError = 0;
    // Automatic redirection: X keeps drawing the window on screen as before, and also keeps
    // its contents in a pixmap of its own, which is what is read, covered or not.
    XCompositeRedirectWindow(dpy, target, CompositeRedirectAutomatic);
    XSelectInput(dpy, target, StructureNotifyMask);
    XSync(dpy, False);
    if (g_lastXError != 0) return error = "the window \"" + targetTitle + "\" closed before sharing began", false;
    return true;
  }

  // Names the window's pixmap again (after a resize or a map, the old one is stale).
  bool namePixmap(std::string& error) {
    if (pixmap) XFreePixmap(dpy, pixmap);
    g_lastXError = 0;
    pixmap = XCompositeNameWindowPixmap(dpy, target);
    XSync(dpy, False);
    if (g_lastXError != 0) {
      pixmap = 0;
      return error = "the shared window is not shown (minimised or on another desktop?)", false;
    }
    pixmapStale = false;
    return true;
  }

  void startDamage() {
    int errorBase = 0, major = 0, minor = 0;
    if (!XDamageQueryExtension(dpy, &damageEventBase, &errorBase) || !XFixesQueryExtension(dpy, &major, &errorBase)) {
      HLOG_INFO(kTag, "no XDamage: comparing whole frames for changes");
      return;
    }
    XFixesQueryVersion(dpy, &major, &minor);
    // A window's damage is reported in its own coordinates, which are the pixmap's.
    damage = XDamageCreate(dpy, sharingWindow() ? target : root, XDamageReportNonEmpty);
    damageRegion = XFixesCreateRegion(dpy, nullptr, 0);
    pendingRegion = XFixesCreateRegion(dpy, nullptr, 0);
    pieceRegion = XFixesCreateRegion(dpy, nullptr, 0);
  }

  // The damage so far goes into pendingRegion, on the server (no round trip): the damage is
  // empty again, so the next drawing sends a DamageNotify.
  void setDamageAside() {
    damageNews = false;
    XDamageSubtract(dpy, damage, None, pieceRegion);
    XFixesUnionRegion(dpy, pendingRegion, pendingRegion, pieceRegion);
    pendingDamage = true;
    XFlush(dpy);
  }

  // A rectangle of the source's damage, relative to the shared area and clipped to it.
  base::Rect inArea(const XRectangle& r) const {
    return base::Rect{r.x - sourceX(), r.y - sourceY(), r.width, r.height}.intersected({0, 0, geo.w, geo.h});
  }

  // Whether the piece setDamageAside() last took touches the shared area. Sharing part of the
  // root, that is asked of the server (a round trip); a window or the whole screen is all inside.
  bool pieceInside() {
    if (region.kind != X11Region::Kind::Monitor && region.kind != X11Region::Kind::Rect) return true;
    int n = 0;
    XRectangle* rects = XFixesFetchRegion(dpy, pieceRegion, &n);
    bool inside = false;
    for (int i = 0; i < n && !inside; ++i) inside = !inArea(rects[i]).empty();
    if (rects) XFree(rects);
    return inside;
  }

  // Takes the damage reported since the last call into `changed` (relative to geo), and
  // drains the damage events. Called before the image is fetched, so nothing drawn after
  // it is lost: it shows up in the next frame's damage.
  void takeDamage() {
    changed.clear();
    drainEvents();
    // No DamageNotify since the last take and nothing set aside by settle(): nothing was
    // drawn, and no round trip is needed to learn that (news of a drawing that lands in this
    // take may come after it: the next take then finds nothing).
    if (!damageNews && !pendingDamage && haveFrame) return;
    damageNews = false;  // taken now: the next drawing sends a new DamageNotify
    XDamageSubtract(dpy, damage, None, damageRegion);
    if (pendingDamage) {
      XFixesUnionRegion(dpy, damageRegion, damageRegion, pendingRegion);
      XFixesSetRegion(dpy, pendingRegion, nullptr, 0);
      pendingDamage = false;
    }
    int n = 0;
    XRectangle* rects = XFixesFetchRegion(dpy, damageRegion, &n);
    for (int i = 0; i < n; ++i)
      if (base::Rect r = inArea(rects[i]); !r.empty()) changed.push_back(r);
    if (rects) XFree(rects);
  }

  // Reads every pending event: DamageNotify (the damage region itself is fetched), XFixes
  // CursorNotify (the cursor changed shape), and the shared window's own: destroyed (the
  // stream ends), mapped again or resized (its pixmap is a new one).
  void drainEvents() {
    while (XPending(dpy) > 0) {
      XEvent ev;
      XNextEvent(dpy, &ev);
      if (damage && ev.type == damageEventBase + XDamageNotify) damageNews = true;
      if (fixesEventBase >= 0 && ev.type == fixesEventBase + XFixesCursorNotify) cursorShapeDirty = true;
      if (xiOpcode >= 0 && ev.type == GenericEvent && ev.xcookie.extension == xiOpcode) {
        pointerNews = true;  // a raw motion: its data is not needed (never fetched, nothing to free)
        continue;
      }
      if (ev.type == ConfigureNotify && ev.xconfigure.window == root) {
        screenW = ev.xconfigure.width;
        screenH = ev.xconfigure.height;
        continue;
      }
      if (!target || ev.xany.window != target) continue;
      if (ev.type == DestroyNotify) windowGone = true;
      else if (ev.type == MapNotify || ev.type == UnmapNotify) pixmapStale = true;
      else if (ev.type == ConfigureNotify && (ev.xconfigure.width != geo.w || ev.xconfigure.height != geo.h))
        pixmapStale = true;
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
    // 2.1 or later: a 2.0 client gets no raw events while the pointer is grabbed (a button
    // held, a window dragged, a menu open), just when it moves most.
    int event = 0, error = 0, major = 2, minor = 2;
    if (!XQueryExtension(dpy, "XInputExtension", &xiOpcode, &event, &error) ||
        XIQueryVersion(dpy, &major, &minor) != Success || (major == 2 && minor < 1)) {
      xiOpcode = -1;
      HLOG_INFO(kTag, "no XInput 2.1: the pointer's place is asked every frame");
      return;
    }
    unsigned char bits[XIMaskLen(XI_LASTEVENT)] = {};
    XISetMask(bits, XI_RawMotion);
    XIEventMask mask{XIAllMasterDevices, static_cast<int>(sizeof bits), bits};
    XISelectEvents(dpy, root, &mask, 1);
  }

  void releaseImage() {
    kept = nullptr;
    current = 0;
    if (image) XDestroyImage(image);
    image = nullptr;
    for (int i = 0; i < 2; ++i) {
      if (!images[i]) continue;
      XShmDetach(dpy, &shmInfos[i]);
      XSync(dpy, False);
      images[i]->data = nullptr;  // the shared segment is not Xlib's to free
      XDestroyImage(images[i]);
      images[i] = nullptr;
      if (shmInfos[i].shmaddr) shmdt(shmInfos[i].shmaddr);
      shmInfos[i] = {};
    }
  }

  // One shared image and its 0600 segment; false (nothing left behind) when it cannot be
  // made or attached.
  bool createShmImage(XImage*& out, XShmSegmentInfo& info, std::string& error) {
    out = XShmCreateImage(dpy, visual, static_cast<unsigned>(depth), ZPixmap, nullptr, &info,
                          static_cast<unsigned>(geo.w), static_cast<unsigned>(geo.h));
    if (!out) return error = "cannot create a shared-memory image", false;
    // 0600: only this user may read the pixels of the screen.
    info.shmid = shmget(IPC_PRIVATE, static_cast<std::size_t>(out->bytes_per_line) * out->height, IPC_CREAT | 0600);
    if (info.shmid < 0) {
      XDestroyImage(out);
      out = nullptr;
      info = {};
      return error = std::string("cannot create a shared memory segment: ") + std::strerror(errno), false;
    }
    info.shmaddr = out->data = static_cast<char*>(shmat(info.shmid, nullptr, 0));
    info.readOnly = False;
    std::lock_guard lock(g_errorMutex);
    g_lastXError = 0;
    bool attached = XShmAttach(dpy, &info);
    XSync(dpy, False);
    // Marked for removal at once: the segment disappears when both sides detach, even if
    // this process dies.
    shmctl(info.shmid, IPC_RMID, nullptr);
    if (!attached || g_lastXError != 0) {
      HLOG_WARN(kTag, "XShmAttach failed (X error %d): using XGetImage", g_lastXError.load());
      shmdt(info.shmaddr);
      out->data = nullptr;
      XDestroyImage(out);
      out = nullptr;
      info = {};
      return error = "XShmAttach failed", false;
    }
    return true;
  }

  // The shared window's size now; false when it is gone (windowGone) or not shown.
  bool windowGeometry(Geometry& out, std::string& error) {
    std::lock_guard lock(g_errorMutex);
    g_lastXError = 0;
    XWindowAttributes attrs{};
    if (windowGone || !XGetWindowAttributes(dpy, target, &attrs) || g_lastXError != 0) {
      windowGone = true;
      return error = "the shared window \"" + targetTitle + "\" closed", false;
    }
    if (attrs.map_state != IsViewable) return error = "the shared window is not shown (minimised?)", false;
    visual = attrs.visual;
    depth = attrs.depth;
    out = {0, 0, attrs.width, attrs.height};
    return true;
  }

  // The area to capture now (the screen, monitor or window may have changed size).
  bool currentGeometry(Geometry& out, std::string& error) {
    if (sharingWindow()) return windowGeometry(out, error);
    {
      std::lock_guard lock(g_errorMutex);  // an X error read here is expected like capture()'s
      drainEvents();                       // a ConfigureNotify of the root: the screen's new size
    }
    if (screenW < 0) {
      XWindowAttributes attrs{};
      if (!XGetWindowAttributes(dpy, root, &attrs)) return error = "cannot read the X screen's size", false;
      screenW = attrs.width;
      screenH = attrs.height;
    }
    Geometry screen{0, 0, screenW, screenH};
    if (region.kind == X11Region::Kind::WholeScreen) {
      out = screen;
    } else if (region.kind == X11Region::Kind::Monitor) {
      int n = 0;
      XRRMonitorInfo* mons = XRRGetMonitors(dpy, root, True, &n);
      int which = region.monitor;
      if (mons && !region.monitorName.empty()) {
        which = -1;
        for (int i = 0; i < n && which < 0; ++i) {
          char* name = mons[i].name ? XGetAtomName(dpy, mons[i].name) : nullptr;
          if (name && region.monitorName == name) which = i;
          if (name) XFree(name);
        }
      }
      if (!mons || which < 0 || which >= n) {
        if (mons) XRRFreeMonitors(mons);
        const std::string named = region.monitorName.empty() ? std::to_string(region.monitor) : region.monitorName;
        return error = "there is no monitor " + named + " (the screen has " + std::to_string(n) + ")", false;
      }
      out = {mons[which].x, mons[which].y, mons[which].width, mons[which].height};
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
    if (!sharingWindow()) {  // a window's own visual and depth come from windowGeometry()
      visual = DefaultVisual(dpy, DefaultScreen(dpy));
      depth = DefaultDepth(dpy, DefaultScreen(dpy));
    }
    redMask = visual->red_mask;
    greenMask = visual->green_mask;
    blueMask = visual->blue_mask;
    if (depth != 24 && depth != 32) return error = "the X screen has depth " + std::to_string(depth) + "; Huddle captures 24/32-bit TrueColor", false;
    if (shm) {
      std::string shmError;
      for (int i = 0; i < 2 && shm; ++i)
        if (!createShmImage(images[i], shmInfos[i], shmError)) {
          if (shmError != "XShmAttach failed") {
            releaseImage();
            return error = shmError, false;
          }
          releaseImage();
          shm = false;
        }
    }
    return true;
  }
};

void installX11ErrorHandler() {
  static std::once_flag once;
  std::call_once(once, [] { XSetErrorHandler(onXError); });
}

std::vector<X11Window> listX11Windows(const std::string& display, std::string& error) {
  std::vector<X11Window> out;
  installX11ErrorHandler();
  Display* dpy = XOpenDisplay(display.empty() ? nullptr : display.c_str());
  if (!dpy) {
    error = "cannot open the X display";
    return out;
  }
  std::lock_guard lock(g_errorMutex);  // windows may close while we look: their errors are expected
  const Window root = DefaultRootWindow(dpy);
  std::vector<Window> candidates;
  const Atom clientList = XInternAtom(dpy, "_NET_CLIENT_LIST", True);
  Atom type = 0;
  int format = 0;
  unsigned long count = 0, after = 0;
  unsigned char* data = nullptr;
  if (clientList != None &&
      XGetWindowProperty(dpy, root, clientList, 0, 4096, False, XA_WINDOW, &type, &format, &count, &after, &data) ==
          Success &&
      data && type == XA_WINDOW && format == 32) {
    const auto* ids = reinterpret_cast<const unsigned long*>(data);  // format 32 is long in Xlib
    candidates.assign(ids, ids + count);
  }
  if (data) XFree(data);
  const bool fromManager = !candidates.empty();
  if (!fromManager) {
    // No window manager: the mapped top-level windows, bottom first.
    Window rootReturn = 0, parent = 0, *children = nullptr;
    unsigned n = 0;
    if (XQueryTree(dpy, root, &rootReturn, &parent, &children, &n) && children) candidates.assign(children, children + n);
    if (children) XFree(children);
  }
  for (Window w : candidates) {
    g_lastXError = 0;
    XWindowAttributes attrs{};
    if (!XGetWindowAttributes(dpy, w, &attrs) || g_lastXError != 0) continue;
    if (!fromManager && (attrs.map_state != IsViewable || attrs.override_redirect || attrs.c_class != InputOutput))
      continue;
    X11Window win;
    win.id = w;
    win.title = windowTitle(dpy, w);
    readWindowIcon(dpy, w, win);
    win.w = attrs.width;
    win.h = attrs.height;
    if (g_lastXError == 0 && !win.title.empty() && attrs.width > 0 && attrs.height > 0) out.push_back(std::move(win));
  }
  XCloseDisplay(dpy);
  return out;
}

bool findX11Window(const std::vector<X11Window>& windows, const std::string& query, X11Window& found,
                   std::string& error) {
  if (query.empty()) return error = "choose a window to share", false;
  unsigned long id = 0;
  if (parseWindowId(query, id))
    for (const X11Window& w : windows)
      if (w.id == id) return found = w, true;
  for (const X11Window& w : windows)
    if (w.title == query) return found = w, true;
  std::vector<const X11Window*> matches;
  const std::string needle = lowerAscii(query);
  for (const X11Window& w : windows)
    if (!needle.empty() && lowerAscii(w.title).find(needle) != std::string::npos) matches.push_back(&w);
  if (matches.size() == 1) return found = *matches.front(), true;
  auto names = [](const std::vector<const X11Window*>& ws) {
    std::string text;
    for (std::size_t i = 0; i < ws.size() && i < 8; ++i) {
      char idText[24];
      std::snprintf(idText, sizeof idText, "0x%lx", ws[i]->id);
      text += (i ? ", \"" : "\"") + ws[i]->title + "\" (" + idText + ")";
    }
    if (ws.size() > 8) text += ", ...";
    return text;
  };
  if (!matches.empty()) {
    error = "several windows match \"" + query + "\": " + names(matches) + "; give more of the title, or the id";
    return false;
  }
  std::vector<const X11Window*> all;
  for (const X11Window& w : windows) all.push_back(&w);
  error = "no window matches \"" + query + "\"" + (all.empty() ? std::string(" (no windows are shown)") : "; windows: " + names(all));
  return false;
}

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

X11Source::X11Source(std::string display, X11Region region)
    : m_impl(std::make_unique<Impl>()) {
  m_impl->displayName = std::move(display);
  m_impl->region = region;
}

X11Source::~X11Source() = default;

void X11Source::interrupt() { m_interrupt.ring(); }

int X11Source::pollX(int timeoutMs) {
  pollfd p[2] = {{ConnectionNumber(m_impl->dpy), POLLIN, 0}, {m_interrupt.fd(), POLLIN, 0}};
  const int n = ::poll(p, m_interrupt.fd() >= 0 ? 2 : 1, timeoutMs);
  if (n > 0 && (p[1].revents & POLLIN)) {
    m_interrupt.take();
    return 0;
  }
  return n;
}

bool X11Source::usingShm() const { return m_impl->shm; }

bool X11Source::notifiesChanges() const { return m_impl->dpy && m_impl->damage; }

bool X11Source::notifiesPointer() const { return notifiesChanges() && m_impl->xiOpcode >= 0; }

bool X11Source::waitForChange(int timeoutMs) {
  Impl& s = *m_impl;
  if (!s.dpy || !s.damage) return false;
  // A drawing or a pointer's move ends the wait: other events (a window moved, the cursor's
  // shape) are read and kept for capture(), and the wait goes on. Events Xlib already queued
  // (while the cursor was polled, say) are read first: the socket would not wake us for them.
  // The shared window's end is news too (a quiet screen is looked at only now and then). The
  // cursor's new shape is not: it waits for the next frame, as XFixes may keep telling of a
  // shape it will not give (a root cursor whose client left), which would end every wait.
  auto news = [&] {
    std::lock_guard lock(g_errorMutex);  // an X error read here is expected like capture()'s
    s.drainEvents();
    return s.damageNews || (s.xiOpcode >= 0 && s.pointerWatched && s.pointerNews) || s.windowGone;
  };
  if (news()) return true;
  return pollX(timeoutMs) > 0 && news();
}

bool X11Source::waitForDrawing(int timeoutMs) {
  Impl& s = *m_impl;
  if (!s.dpy || !s.damage) return false;
  const std::int64_t endUs = base::monoUs() + std::int64_t(timeoutMs) * 1000;
  for (;;) {
    bool outside = false;
    {
      std::lock_guard lock(g_errorMutex);  // as in waitForChange()
      s.drainEvents();
      if (s.damageNews) {
        s.setDamageAside();  // the next drawing sends news again; this one waits for capture()
        if (s.pieceInside()) return true;
        outside = true;
      }
    }
    if (outside) {
      // A drawing elsewhere (a busy other monitor): its round trip is not made again at once
      // (and the pause holds no lock). The events that came with the reply are in Xlib's
      // queue, which poll() does not see: they are read after the pause.
      const std::int64_t pauseUs = std::min<std::int64_t>(kOutsidePauseUs, endUs - base::monoUs());
      if (pauseUs <= 0) return false;
      std::this_thread::sleep_for(std::chrono::microseconds(pauseUs));
      continue;
    }
    // Pointer moves and other events wake the poll too: they are read and kept, and the wait
    // goes on until its end.
    const std::int64_t leftUs = endUs - base::monoUs();
    if (leftUs <= 0) return false;
    if (pollX(int((leftUs + 999) / 1000)) <= 0) return false;
  }
}

void X11Source::settle(std::int64_t quietUs, std::int64_t maxUs) {
  Impl& s = *m_impl;
  if (!s.dpy || !s.damage) return ScreenSource::settle(quietUs, maxUs);
  const std::int64_t endUs = base::monoUs() + maxUs;
  // Each drawing so far is set aside (under the X error lock, as in waitForChange(): an error
  // read here is expected like capture()'s); whether there was one says if drawing goes on.
  auto setDrawingAside = [&] {
    std::lock_guard lock(g_errorMutex);
    s.drainEvents();
    if (!s.damageNews) return false;
    s.setDamageAside();
    return true;
  };
  // Woken by the pointer alone, one quiet window still passes: what the move makes drawn (a
  // hover, a dragged window) then goes with it.
  for (bool waited = false;; waited = true) {
    if (!setDrawingAside() && waited) return;
    const std::int64_t waitUs = std::min(quietUs, endUs - base::monoUs());
    if (waitUs <= 0) return;
    // A quiet window: news in it (read at its end, once) means the drawing goes on.
    std::this_thread::sleep_for(std::chrono::microseconds(waitUs));
  }
}

void X11Source::keep(const std::uint8_t* pixels) {
  m_impl->keeping = true;
  m_impl->kept = pixels;
}

std::string X11Source::title() const {
  switch (m_impl->region.kind) {
    case X11Region::Kind::WholeScreen: return "Whole screen";
    case X11Region::Kind::Monitor:
      return m_impl->region.monitorName.empty() ? "Monitor " + std::to_string(m_impl->region.monitor + 1)
                                                : "Monitor " + m_impl->region.monitorName;
    case X11Region::Kind::Rect: return "Screen region";
    case X11Region::Kind::Window: return m_impl->targetTitle.empty() ? "One window" : m_impl->targetTitle;
  }
  return "Screen";
}

bool X11Source::open(std::string& error) {
  installX11ErrorHandler();
  if (m_impl->dpy) return true;  // open already (its owner opened it to learn its title)
  if (!openDisplay(error)) {
    // Nothing half-open stays behind: the next open() starts again.
    auto fresh = std::make_unique<Impl>();
    fresh->displayName = m_impl->displayName;
    fresh->region = m_impl->region;
    m_impl = std::move(fresh);
    return false;
  }
  return true;
}

bool X11Source::openDisplay(std::string& error) {
  Impl& s = *m_impl;
  const char* name = s.displayName.empty() ? nullptr : s.displayName.c_str();
  s.dpy = XOpenDisplay(name);
  if (!s.dpy) {
    error = "cannot open the X display " + std::string(name ? name : (std::getenv("DISPLAY") ? std::getenv("DISPLAY") : "(DISPLAY is not set)"));
    return false;
  }
  s.root = DefaultRootWindow(s.dpy);
  // The screen's size changes (RandR) come as the root's ConfigureNotify.
  if (!s.sharingWindow()) XSelectInput(s.dpy, s.root, StructureNotifyMask);
  s.shm = XShmQueryExtension(s.dpy);
  if (!s.shm) HLOG_WARN(kTag, "XShm not available: capturing with XGetImage (slower)");
  if (s.sharingWindow() && !s.openWindow(error)) return false;
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
  s.pointerWatched = true;
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
  } else if (s.xiOpcode < 0 || s.pointerNews || base::monoUs() - s.pointerAskedUs >= kPointerAskedAtLeastUs) {
    Window rootReturn = 0, child = 0;
    int winX = 0, winY = 0;
    unsigned mask = 0;
    s.pointerNews = false;
    s.pointerAskedUs = base::monoUs();
    if (!XQueryPointer(s.dpy, s.root, &rootReturn, &child, &rootX, &rootY, &winX, &winY, &mask)) {
      pos.visible = false;  // on another screen of this display
      pos.shapeId = static_cast<std::uint32_t>(s.cursorSerial);
      s.pointerX = s.pointerY = -1'000'000;
      return true;
    }
  } else {
    rootX = s.pointerX;  // not moved since it was asked
    rootY = s.pointerY;
  }
  s.pointerX = rootX;
  s.pointerY = rootY;
  pos.shapeId = static_cast<std::uint32_t>(s.cursorSerial);
  int originX = s.geo.x, originY = s.geo.y;
  if (s.sharingWindow()) {  // where the window is on the screen now (it may have moved)
    Window child = 0;
    if (!XTranslateCoordinates(s.dpy, s.target, s.root, 0, 0, &originX, &originY, &child) || g_lastXError != 0) {
      pos.visible = false;
      return true;
    }
  }
  pos.x = rootX - originX;
  pos.y = rootY - originY;
  pos.visible = pos.x >= 0 && pos.y >= 0 && pos.x < s.geo.w && pos.y < s.geo.h;
  return true;
}

CaptureResult X11Source::capture(Frame& frame, std::string& error) {
  Impl& s = *m_impl;
  if (!s.dpy) return error = "the X source is not open", CaptureResult::Error;
  Geometry now;
  if (!s.currentGeometry(now, error)) {
    if (s.windowGone) return CaptureResult::Ended;
    s.haveFrame = false;  // shown again: the next frame is whole
    return CaptureResult::Error;
  }
  bool resized = now != s.geo;
  if (resized) {
    s.geo = now;
    s.haveFrame = false;
    s.pixmapStale = true;
    if (!s.createImage(error)) return CaptureResult::Error;
  }
  std::lock_guard lock(g_errorMutex);
  g_lastXError = 0;
  std::int64_t stamp = base::wallUs();
  if (s.damage) s.takeDamage();
  if (s.windowGone) return error = "the shared window \"" + s.targetTitle + "\" closed", CaptureResult::Ended;
  if (s.sharingWindow() && s.pixmapStale) {
    s.haveFrame = false;
    if (!s.namePixmap(error)) return CaptureResult::Error;
  }
  // Nothing drawn since the last frame: the image we hold is still the screen.
  const bool unchanged = s.damage && s.haveFrame && s.changed.empty() && s.copy.empty();
  if (!unchanged) {
    bool fetched = false;
    if (s.shm) {
      // Into the image the caller does not keep (with nothing kept, the one not just returned).
      int into = s.current ^ 1;
      for (int i = 0; i < 2; ++i)
        if (s.kept == reinterpret_cast<const std::uint8_t*>(s.images[i]->data)) into = i ^ 1;
      fetched = XShmGetImage(s.dpy, s.source(), s.images[into], s.sourceX(), s.sourceY(), AllPlanes) &&
                g_lastXError == 0;
      s.current = into;
    } else {
      if (s.image) XDestroyImage(s.image);
      s.image = XGetImage(s.dpy, s.source(), s.sourceX(), s.sourceY(), static_cast<unsigned>(s.geo.w),
                          static_cast<unsigned>(s.geo.h), AllPlanes, ZPixmap);
      fetched = s.image && g_lastXError == 0;
    }
    if (!fetched) {
      s.haveFrame = false;  // the damage taken above is gone: the next frame is whole
      s.pixmapStale = true;
      s.screenW = s.screenH = -1;  // asked again, in case the screen changed size unannounced
      return error = s.shm ? "XShmGetImage failed" : "XGetImage failed", CaptureResult::Error;
    }
  }
  XImage* im = s.shm ? s.images[s.current] : s.image;
  frame.keepable = nullptr;
  const bool bgrx = im->bits_per_pixel == 32 && s.redMask == 0xFF0000 && s.greenMask == 0xFF00 &&
                    s.blueMask == 0xFF && im->byte_order == LSBFirst;
  if (bgrx) {
    frame.pixels = reinterpret_cast<const std::uint8_t*>(im->data);  // zero copy
    frame.strideBytes = im->bytes_per_line;
    if (s.shm && s.keeping) frame.keepable = reinterpret_cast<std::uint8_t*>(im->data);
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
        dst[x] = 0xFF000000u | channel(s.redMask) << 16 | channel(s.greenMask) << 8 | channel(s.blueMask);
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
