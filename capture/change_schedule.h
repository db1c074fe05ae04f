// When the capture thread may take a frame for a change it was told of (XDamage), so that
// drawings are captured as they come but no more often than the frame rate: a virtual
// schedule of when the next changed frame is due. A capture may come up to an interval
// before that (so captures find the drawings' phase: with no allowance, one capture late
// after a drawing would hold every later one just as late), and each one moves the schedule on.
//
// It moves on by kStep of an interval, not a whole one. Drawn at the frame rate itself (a
// 60 Hz video shared at 60 fps), a schedule that ran ahead once (two captures of one drawing,
// a stall) would otherwise stay ahead: each capture held to it, so taken just before the
// next drawing lands, a frame late, for good (seen: a video's latency 9 or 18 ms, run by run).
// This way the schedule falls back onto the drawings by 3% of an interval a frame, for at most
// 1/0.97, about 3.1%, more frames than the rate when drawings come faster than it.
//
// Drawings faster than the rate (a 60 Hz video shared at 30 fps) keep coming while captures
// are held back, so when one may come again, the drawing waiting may be most of a drawing's
// period old. The schedule keeps when news came while it held captures back; when that news
// is stale and the last capture was held back the same way, the capture lets it go by and
// takes the next drawing as it lands (due within the interval: drawings come faster than it;
// the pipeline waits no more than 50 ms for it), not the older one: on average half a
// drawing's period fresher, at the same rate.
// Thread: the capture thread's own.
#pragma once
#include <algorithm>
#include <chrono>
#include <optional>

namespace huddle::capture {

class ChangeSchedule {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr double kStep = 0.97;
  // News held back longer than this is stale: the next drawing is worth waiting for.
  static constexpr std::chrono::milliseconds kStale{3};

  explicit ChangeSchedule(Clock::time_point start) : m_due(start) {}
  // The earliest a capture for a change may begin, at the frame rate's `interval`.
  Clock::time_point earliest(Clock::duration interval) const { return m_due - interval; }
  // News (a drawing, a pointer's move) came at `at` while captures were held back (the first
  // such is kept, until the next capture).
  void heldNews(Clock::time_point at) {
    if (!m_heldNewsAt) m_heldNewsAt = at;
  }
  bool holdsNews() const { return m_heldNewsAt.has_value(); }
  // At `now`, the earliest a capture may come: whether to let the news held back go by and
  // capture the next drawing instead.
  bool waitForNextDrawing(Clock::time_point now) const {
    return m_heldNewsAt && now - *m_heldNewsAt > kStale && m_lastHeld;
  }
  // A frame was captured with no drawing in it: news held back before it is old news.
  void nothingDrawn() { m_heldNewsAt.reset(); }
  // A frame captured at `at` carried a change (or a pointer's move).
  void captured(Clock::time_point at, Clock::duration interval) {
    m_due = std::max(m_due, at) + std::chrono::duration_cast<Clock::duration>(interval * kStep);
    m_lastHeld = m_heldNewsAt.has_value();
    m_heldNewsAt.reset();
  }

 private:
  Clock::time_point m_due;
  std::optional<Clock::time_point> m_heldNewsAt;
  bool m_lastHeld = false;  // the last capture's news had been held back
};

}  // namespace huddle::capture
