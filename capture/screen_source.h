// Where shared pixels come from: a screen source captures frames in its native layout,
// BGRX (4 bytes per pixel, blue first: X11's 24-bit TrueColor on little-endian), which is
// what the damage tracker compares and TurboJPEG encodes, with no conversion in between.
// Thread: a source is used by one capture thread at a time.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "net/base/cursor.h"
#include "net/base/rect.h"

namespace huddle::capture {

inline constexpr int kBytesPerPixel = 4;

struct Frame {
  int widthPx = 0, heightPx = 0;
  int strideBytes = 0;
  const std::uint8_t* pixels = nullptr;  // owned by the source: valid until its next capture()
  std::int64_t captureTimeUs = 0;        // wall clock when the pixels were taken
  std::uint64_t seq = 0;                 // the source's frame number
  // Where the source knows pixels may have changed since its previous frame (XDamage, or
  // the test scene's own drawing); null when it cannot tell. Damage tracking then compares
  // only there, so a still screen costs almost nothing. Owned by the source, like pixels.
  const std::vector<base::Rect>* changed = nullptr;
  // Non-null (the same memory as `pixels`, writable) when the source double-buffers and its
  // caller follows ScreenSource::keep(): the caller may then keep this buffer, and change
  // it, as long as it says so before the next capture(); the source fills its other one.
  std::uint8_t* keepable = nullptr;
};

enum class CaptureResult {
  Ok,      // `frame` holds a new image
  Reinit,  // the size changed: `frame` holds the first image at the new size
  Error,   // nothing captured; `error` says why (it may work next time)
  Ended,   // nothing more to capture, ever (the shared window closed); `error` says why
};

class ScreenSource {
 public:
  virtual ~ScreenSource() = default;
  // Prepares the source; false with a reason a person can act on. Opening it again once it
  // is open does nothing more (an owner may open it first, to learn its title).
  virtual bool open(std::string& error) = 0;
  virtual CaptureResult capture(Frame& frame, std::string& error) = 0;
  // What is being shared, for the stream's title ("Whole screen", "Test scene", a window's
  // title once open).
  virtual std::string title() const = 0;
  // The caller keeps the buffer of an earlier frame (its `keepable`; null: none) as its own:
  // no capture writes into it until keep() names another. Calling it at all, even with null,
  // says the caller follows this, and only then are frames keepable (the damage tracker's
  // reference is then the previous frame itself, not a copy). A source that cannot ignores it.
  virtual void keep(const std::uint8_t* pixels) { (void)pixels; }
  // Whether the source is told when its pixels change (XDamage): then waitForChange() says
  // so, and the pipeline captures as soon as a drawing comes instead of at its clock's next tick.
  virtual bool notifiesChanges() const { return false; }
  // Whether it is also told when the pointer moves (XInput2): then waitForChange() returns
  // for that too, and a still screen with a still pointer needs no frames at the frame rate.
  virtual bool notifiesPointer() const { return false; }
  // Waits up to `timeoutMs` for news since the last capture() (a drawing, or any event that
  // capture() reads); true as soon as there is some. Only where notifiesChanges().
  virtual bool waitForChange(int timeoutMs) {
    (void)timeoutMs;
    return false;
  }
  // Waits up to `timeoutMs` for a drawing inside the shared area (not a pointer's move, not a
  // drawing elsewhere on the screen); true as soon as one comes, and it is set aside for the
  // next capture() (as settle() does), so the drawing after it is news again. Used while
  // captures are held back to the frame rate, to learn when drawings land. Only where
  // notifiesChanges(); a source that cannot tell drawings apart waits `timeoutMs` and says no.
  virtual bool waitForDrawing(int timeoutMs) {
    std::this_thread::sleep_for(std::chrono::milliseconds(timeoutMs));
    return false;
  }
  // Any thread: a waitForChange() or waitForDrawing() under way returns at once (false), or
  // the next one does if none is: the owner has news of its own (a stop, new settings, a tier
  // wanted). A source that does not wait long between looks may ignore it.
  virtual void interrupt() {}
  // After waitForChange() said there was news (a drawing, a pointer's move): lets the rest of
  // that drawing land before the capture. Returns once `quietUs` pass with no more drawing, or
  // `maxUs` after the call. A source that cannot tell when drawing stops waits `quietUs`.
  virtual void settle(std::int64_t quietUs, std::int64_t maxUs) {
    (void)maxUs;
    std::this_thread::sleep_for(std::chrono::microseconds(quietUs));
  }
  // Polls the mouse cursor, once per captured frame, after capture(): where its hot spot is
  // in the last frame's pixels (`pos.visible` false when it is outside them) and its shape's
  // id; `shape` is filled, and `shapeChanged` set, when the shape differs from the one last
  // returned. False: this source has no cursor to show.
  virtual bool cursor(base::CursorPos& pos, base::CursorImage& shape, bool& shapeChanged) {
    (void)pos;
    (void)shape;
    (void)shapeChanged;
    return false;
  }
};

}  // namespace huddle::capture
