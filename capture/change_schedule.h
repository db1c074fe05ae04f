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
// Thread: the capture thread's own.
#pragma once
#include <algorithm>
#include <chrono>

namespace huddle::capture {

class ChangeSchedule {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr double kStep = 0.97;

  explicit ChangeSchedule(Clock::time_point start) : m_due(start) {}
  // The earliest a capture for a change may begin, at the frame rate's `interval`.
  Clock::time_point earliest(Clock::duration interval) const { return m_due - interval; }
  // A frame captured at `at` carried a change (or a pointer's move).
  void captured(Clock::time_point at, Clock::duration interval) {
    m_due = std::max(m_due, at) + std::chrono::duration_cast<Clock::duration>(interval * kStep);
  }

 private:
  Clock::time_point m_due;
};

}  // namespace huddle::capture
