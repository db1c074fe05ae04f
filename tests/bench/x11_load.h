// An animated X client for huddle-bench: it draws a load on a display at 60 Hz the way real
// programs do (XCopyArea to scroll, text for the newly exposed lines, XPutImage for video, a
// window dragged over the page as a window manager moves one), so
// screen senders are measured on a real X screen, not on a synthetic scene. Every frame of a
// moving load also carries its number in the top left corner (screen_stamp.h), and the load
// keeps when each frame was on the X server, so a viewer's latency is read from its pixels.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

namespace huddle::bench {

enum class X11LoadKind {
  ScrollDocument,  // the whole screen is a document that scrolls 7 px a frame
  ScrollTerminal,  // a 720x288 terminal in a window scrolls a text line a frame
  Video,           // every pixel changes every frame
  DragWindow,      // a 640x420 window moves (+6, +3) a frame over a still page, bouncing
  Still,           // a document that does not change
};
const char* x11LoadName(X11LoadKind kind);
// The load a short name (document, terminal, video, drag, still) stands for; false if none.
bool x11LoadFromName(const std::string& name, X11LoadKind& kind);

class X11Load {
 public:
  X11Load() = default;
  ~X11Load() { stop(); }
  X11Load(const X11Load&) = delete;
  X11Load& operator=(const X11Load&) = delete;

  // Opens `display` and starts drawing; false with `error` if the display cannot be opened.
  bool start(const std::string& display, X11LoadKind kind, std::string& error);
  void stop();
  // Frames drawn so far (the X server has them: each frame ends with XSync).
  std::uint64_t framesDrawn() const { return m_frames.load(); }
  // When (base::monoUs) the frame whose code is `code` was drawn and XSync'ed; 0 if none was
  // (the still load draws no code).
  std::int64_t drawnAtUs(std::uint32_t code) const;

 private:
  void run(void* display, X11LoadKind kind);

  std::thread m_thread;
  std::atomic<bool> m_stop{false};
  std::atomic<std::uint64_t> m_frames{0};
  // Per code (the frame number's low 16 bits), when that frame was drawn.
  std::unique_ptr<std::atomic<std::int64_t>[]> m_drawnUs;
};

}  // namespace huddle::bench
