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
// HeldDrawings, below, decides what a capture takes when drawings come faster than the rate.
// Thread: the capture thread's own.
#pragma once
#include <algorithm>
#include <chrono>
#include <cstdint>

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

// Drawings faster than the frame rate (a 60 Hz scroll or video shared at 30 fps) land while
// captures are held back to the rate, so when a capture may come again the drawing that
// waited can be up to a drawing period old. In a steady stream of them it is better to wait
// for the next drawing, due soon, and take it fresh (it holds the one that waited too). It
// waits only when the next is due no later than the one waiting is old, and when the capture
// before also found one waiting (a stream, not a lone drawing); and at most to 1.25 periods
// after the one waiting began: when the drawings stop (the end of a scroll, a paused video),
// the last one is late by at most 3/4 of their period, never an interval. The period is the
// time between the starts of the last two drawings, and it must be under 3/4 of an interval:
// drawn at about the frame rate itself (a 60 Hz video at 60 fps), waiting would drop a frame
// for a jitter. News that comes within `pieces` of the last is more of the same drawing (a
// picture drawn in pieces). A held drawing must be a drawing inside the shared area, not a
// pointer's move (the source's job); news that a capture takes at once may be a move, which
// at worst makes one period look shorter, and breaks no stream (that capture held nothing).
class HeldDrawings {
 public:
  using Clock = std::chrono::steady_clock;

  explicit HeldDrawings(Clock::duration pieces) : m_pieces(pieces) {}
  // News of a drawing came at `at`: `held` while captures were held back to the rate (it now
  // waits for the next capture), else one the capture about to be taken holds.
  void drawn(Clock::time_point at, bool held) {
    if (m_drawings == 0 || at - m_lastPiece > m_pieces) {
      m_before = m_start;
      m_start = at;
      ++m_drawings;
    }
    m_lastPiece = at;
    if (held) m_waiting = true;
  }
  // A drawing waits for the next capture.
  bool waiting() const { return m_waiting; }
  // When the latest news of a drawing came.
  Clock::time_point lastPieceAt() const { return m_lastPiece; }
  // Captures may come again at `now` and a drawing waits: until when to wait for the next
  // drawing instead of taking the one waiting (`now` or earlier: take it now).
  Clock::time_point waitUntil(Clock::time_point now, Clock::duration interval) const {
    if (!m_waiting || !m_streak || m_drawings < 2) return now;
    const Clock::duration gap = m_start - m_before;
    if (gap <= Clock::duration::zero() || gap * 4 >= interval * 3) return now;
    if (m_start + gap - now > now - m_lastPiece) return now;  // the next is further off than this is old
    return std::max(now, m_start + gap + gap / 4);
  }
  // A capture was taken: whatever waited is in it.
  void captured() {
    m_streak = m_waiting;
    m_waiting = false;
  }

 private:
  Clock::duration m_pieces;
  // The starts of the last two drawings, and the latest news of the last one.
  Clock::time_point m_start{}, m_before{}, m_lastPiece{};
  std::uint64_t m_drawings = 0;
  bool m_waiting = false;
  bool m_streak = false;  // the last capture found a drawing waiting
};

}  // namespace huddle::capture
