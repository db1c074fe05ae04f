// Captures an X11 screen with MIT-SHM (XShmGetImage into a 0600 shared segment), falling
// back to XGetImage where SHM is missing. Shares the whole screen, one XRandR monitor, a
// rectangle, or one window: that one through XComposite, from the window's own off-screen
// pixmap, so it keeps streaming its own pixels while other windows cover it, follows its
// resizes, and ends when the window closes. Every Xlib call of the project lives here and in
// x11_overlay.cpp (windows drawn over the screen: picking a region, its border, pointers).
// Thread: one capture thread (it owns the Display connection).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "capture/screen_source.h"
#include "net/base/wake_fd.h"

namespace huddle::capture {

struct X11Region {
  enum class Kind { WholeScreen, Monitor, Rect, Window };
  Kind kind = Kind::WholeScreen;
  int monitor = 0;                // Monitor: XRandR index, when monitorName is empty
  std::string monitorName;        // Monitor: its XRandR name ("DP-1"), found when opened
  int x = 0, y = 0, w = 0, h = 0;  // Rect
  std::string window;             // Window: its id (decimal or 0x hex) or its title, found when opened
};

// Makes an X protocol error recorded rather than fatal (Xlib's default handler exits the
// process): called, once for all, before any X connection of ours is used.
void installX11ErrorHandler();

struct X11Monitor {
  std::string name;  // "DP-1", ...
  int x = 0, y = 0, w = 0, h = 0;
};
// The monitors of an X display (XRandR), in the order X11Region::monitor counts them.
// `display` empty: $DISPLAY. Empty with `error` if the display cannot be opened.
std::vector<X11Monitor> listX11Monitors(const std::string& display, std::string& error);

// A top-level window people could share: what the window manager lists as its clients
// (_NET_CLIENT_LIST), or without one, the mapped windows with a title directly under the root.
struct X11Window {
  unsigned long id = 0;  // the X window id
  std::string title;     // _NET_WM_NAME (UTF-8), else WM_NAME
  int w = 0, h = 0;
  // Its application icon where the program gives one (_NET_WM_ICON): the size nearest 32x32,
  // straight RGBA, R first; empty when there is none.
  int iconW = 0, iconH = 0;
  std::vector<std::uint8_t> iconRgba;
};
// Those windows, in the window manager's order (or stacking order, bottom first).
// `display` empty: $DISPLAY. Empty with `error` if the display cannot be opened.
std::vector<X11Window> listX11Windows(const std::string& display, std::string& error);

// Which window `query` names among `windows`: an id (decimal or 0x hex) of one of them, else
// a title equal to `query`, else the one title that contains it (ignoring ASCII case).
// False with `error` naming the candidates when none or several match.
bool findX11Window(const std::vector<X11Window>& windows, const std::string& query, X11Window& found,
                   std::string& error);

class X11Source : public ScreenSource {
 public:
  // `display` empty: $DISPLAY.
  X11Source(std::string display, X11Region region);
  ~X11Source() override;

  bool open(std::string& error) override;
  CaptureResult capture(Frame& frame, std::string& error) override;
  std::string title() const override;
  // The cursor through XFixes: its image once per shape change (CursorNotify), its position
  // (XQueryPointer) every frame.
  bool cursor(base::CursorPos& pos, base::CursorImage& shape, bool& shapeChanged) override;
  // Frames through shared memory are keepable: two images take turns, and the one kept is
  // never fetched into.
  void keep(const std::uint8_t* pixels) override;
  // With XDamage: a DamageNotify (one each time the damage goes from none to some) ends the
  // wait, whoever read it; other events are kept for capture().
  bool notifiesChanges() const override;
  bool notifiesPointer() const override;
  bool waitForChange(int timeoutMs) override;
  void interrupt() override;
  // Sharing part of the screen (a monitor, a rectangle), a drawing's place is asked of the
  // server (a round trip) to tell whether it is inside.
  bool waitForDrawing(int timeoutMs) override;
  // Takes the damage so far aside (so the next drawing sends a DamageNotify again) and waits
  // for one in each window of `quietUs`: an application that draws a frame as many requests
  // (XPutImage goes in 256 KB pieces, a page in tiles) is captured once it is done, not part
  // way. Woken by the pointer alone, it waits one window.
  void settle(std::int64_t quietUs, std::int64_t maxUs) override;
  // True if frames come through shared memory (false: the slower XGetImage path).
  bool usingShm() const;

 private:
  bool openDisplay(std::string& error);
  // Polls the X connection and the interrupt's eventfd: >0 X has something, 0 timed out or
  // interrupted (the interrupt is taken), <0 error.
  int pollX(int timeoutMs);
  struct Impl;
  std::unique_ptr<Impl> m_impl;
  base::WakeFd m_interrupt;
};

}  // namespace huddle::capture
