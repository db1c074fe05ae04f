// Our own pointer and pen on a stream: what to send the host, and when. The faces only say "pointing
// at X,Y" and "released"; this decides when a position goes (a move at most
// kPointerPositionsPerSec a second, the newest one waiting), sends a held pointer again every
// kPointerKeepAliveMs so nobody takes it for stale, and sends one gone on release. No clock
// and no network: the session controller asks it with the time and sends what it says.
// Thread: the owner's only.
#pragma once
#include <cstdint>
#include <optional>
#include <vector>

#include "net/wire/screen_messages.h"

namespace huddle::session {

class PointerPacer {
 public:
  struct Send {
    bool present = false;
    std::int32_t x = 0, y = 0;
  };

  // Pointing at stream pixel (x, y) now (called as often as the face likes).
  void hold(std::int32_t x, std::int32_t y) { m_held = true, m_x = x, m_y = y; }
  // Released: one gone goes next, if the host shows our pointer.
  void release() { m_held = false; }
  // What to send at `nowUs`, if anything; it counts as sent.
  std::optional<Send> next(std::int64_t nowUs);
  // The host no longer shows it (the send failed, or the screen port was lost): a held
  // pointer is sent again at the next chance.
  void lost() { m_shown = false; }
  bool held() const { return m_held; }
  // The host was sent our pointer and no gone since.
  bool shown() const { return m_shown; }
  // Nothing more to send: released, and the gone is out.
  bool idle() const { return !m_held && !m_shown; }

 private:
  bool m_held = false;
  std::int32_t m_x = 0, m_y = 0;
  bool m_shown = false;
  std::int32_t m_sentX = 0, m_sentY = 0;
  std::int64_t m_sentUs = 0;
};

// Our pen on a stream: the points of the stroke being drawn go in batches (at most
// kMaxPenPointsPerMessage, one batch every kPenBatchGapMs while drawing), under a budget a
// little below the host's kPenPointsPerSec so none is dropped there; a stroke has at most
// kMaxPenPointsPerStroke points (the rest are not kept); its end goes with its last batch.
class PenPacer {
 public:
  static constexpr int kPenBatchGapMs = 33;

  // Starts stroke `strokeId` at (x, y) (one still open is finished first).
  void down(std::uint32_t strokeId, std::uint16_t x, std::uint16_t y);
  // The pen moved to (x, y) while down (the same point again is skipped).
  void to(std::uint16_t x, std::uint16_t y);
  // The stroke is finished.
  void up();
  // The next batch to send at `nowUs` for stream `streamId`, if any; it counts as sent.
  std::optional<wire::PenStroke> next(std::uint32_t streamId, std::int64_t nowUs);
  // The host forgot our stroke (the screen port was lost): what was not sent is let go.
  void lost();
  bool drawing() const { return m_drawing; }
  // Nothing to send and no stroke open.
  bool idle() const { return !m_drawing && m_batches.empty(); }

 private:
  struct Batch {
    std::uint32_t strokeId = 0;
    std::vector<wire::PenPoint> points;
    bool end = false;
  };
  bool m_drawing = false;
  std::uint32_t m_strokeId = 0;
  std::size_t m_strokePoints = 0;
  wire::PenPoint m_last;
  std::vector<Batch> m_batches;  // waiting, oldest first (one per stroke at most, usually)
  double m_tokens = 0;
  std::int64_t m_refillUs = 0;
  std::int64_t m_sentUs = 0;
};

}  // namespace huddle::session
