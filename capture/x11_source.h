// Captures an X11 screen with MIT-SHM (XShmGetImage into a 0600 shared segment), falling
// back to XGetImage where SHM is missing. Shares the whole screen, one XRandR monitor, or a
// rectangle. Every Xlib call of the project lives in x11_source.cpp.
// Thread: one capture thread (it owns the Display connection).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "capture/screen_source.h"

namespace huddle::capture {

struct X11Region {
  enum class Kind { WholeScreen, Monitor, Rect };
  Kind kind = Kind::WholeScreen;
  int monitor = 0;                // Monitor: XRandR index
  int x = 0, y = 0, w = 0, h = 0;  // Rect
};

struct X11Monitor {
  std::string name;  // "DP-1", ...
  int x = 0, y = 0, w = 0, h = 0;
};
// The monitors of an X display (XRandR), in the order X11Region::monitor counts them.
// `display` empty: $DISPLAY. Empty with `error` if the display cannot be opened.
std::vector<X11Monitor> listX11Monitors(const std::string& display, std::string& error);

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
  // True if frames come through shared memory (false: the slower XGetImage path).
  bool usingShm() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

}  // namespace huddle::capture
