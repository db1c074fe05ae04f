// Windows drawn over the X screen: picking a region of it by hand, the border that keeps a
// shared region visible, and viewers' pointers shown on the sharer's real screen.
//
// The picker grabs the pointer and keyboard and shows the frame being dragged, with its size;
// Esc or the right button cancels. Frames are four thin windows (no compositor needed), and the
// border shown while a region is shared sits just outside it (so it is never captured); both
// are override-redirect (no window manager frames them) with an empty input shape, so clicks
// go through to whatever is under them.
// Pointers are small markers (a round dot in the person's colour and a name tag), the same
// override-redirect, click-through windows: translucent where a compositor runs, opaque where
// none does.
// Thread: each object is used by one thread; they open X connections of their own.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace huddle::capture {

struct ScreenRect {
  int x = 0, y = 0, w = 0, h = 0;
};

enum class PickResult { Picked, Cancelled, Failed };

// Blocks until the person has dragged a frame (Picked, `out` set, at least 16x16 pixels),
// pressed Esc or the right button (Cancelled), or `stop` turned true; Failed with `error` when
// the display cannot be opened or grabbed. `display` empty: $DISPLAY.
PickResult pickX11Region(const std::string& display, ScreenRect& out, std::string& error,
                         const std::atomic<bool>& stop);

class X11RegionBorder {
 public:
  X11RegionBorder();
  ~X11RegionBorder();
  X11RegionBorder(const X11RegionBorder&) = delete;
  X11RegionBorder& operator=(const X11RegionBorder&) = delete;
  // Shows the border around `r` (moves it if shown); false with `error` if X says no.
  bool show(const std::string& display, const ScreenRect& r, std::string& error);
  void hide();
  bool shown() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

// A viewer's pointer where the sharer's screen shows it.
struct ScreenPointer {
  std::uint32_t id = 0;     // the person
  int x = 0, y = 0;         // screen pixels (or the window's, see update())
  std::uint32_t rgb = 0;    // their colour, 0xRRGGBB
  std::string name;         // UTF-8
};

class X11PointerOverlay {
 public:
  X11PointerOverlay();
  ~X11PointerOverlay();
  X11PointerOverlay(const X11PointerOverlay&) = delete;
  X11PointerOverlay& operator=(const X11PointerOverlay&) = delete;
  // Shows exactly these pointers (moving the markers of those already shown, removing the
  // others); false with `error` if the display cannot be opened. An empty list closes it.
  // With `window` (an X window id), positions are relative to that window's top-left corner
  // wherever it is now; none are shown while it cannot be found.
  bool update(const std::string& display, const std::vector<ScreenPointer>& pointers, std::string& error,
              unsigned long window = 0);
  std::size_t shown() const;
  // True while shown with a compositor running: the markers are translucent.
  bool translucent() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

}  // namespace huddle::capture
