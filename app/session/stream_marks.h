// What others show on one stream, as this participant keeps it for drawing: their pointers
// (with a short fading trail of where they were) and their pen strokes, and whether its
// sharer lets viewers point and draw. Bounded: at most kMaxPointersPerStream people pointing
// and as many drawing, kPointerTrailPoints trail points each, kMaxPenStrokesPerPerson strokes
// of kMaxPenPointsPerStroke points each. No clock of its
// own and no locking: ScreenSession holds one per stream under its lock and passes the time.
// Thread: whoever owns it.
#pragma once
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "net/wire/screen_messages.h"

namespace huddle::session {

// Where a pointer was a moment ago, and how strongly to draw it now (1 newest, fading to 0).
struct TrailPoint {
  std::int32_t x = 0, y = 0;
  std::int64_t atMonoUs = 0;
  float alpha = 1.f;
};

// Someone's pointer on a stream, as this participant shows it.
struct PointerMark {
  std::uint32_t participantId = 0;
  std::string name;
  std::int32_t x = 0, y = 0;  // stream pixels
  bool present = false;       // false: released (or stale), fading out
  std::int64_t atMonoUs = 0;  // its last news
  float alpha = 1.f;          // 1 while held, down to 0 over wire::kPointerFadeMs after
  // Where it was over the last kPointerTrailMs, oldest first, the current position last.
  std::vector<TrailPoint> trail;
};

// A pen stroke as this participant shows it: shown while drawn and kPenHoldMs after it is
// finished, then fading out over kPenFadeMs.
struct StrokeMark {
  std::uint32_t participantId = 0;
  std::string name;
  std::uint32_t strokeId = 0;
  std::vector<wire::PenPoint> points;  // stream pixels
  bool finished = false;
  std::int64_t atMonoUs = 0;  // its last news (when it was finished, once it is)
  float alpha = 1.f;
};

class StreamMarks {
 public:
  // A pointer as the host relayed it, at `nowUs`; false if it was not taken (outside the
  // w x h stream, or a new person past the cap).
  bool applyPointer(const wire::Pointer& m, std::uint32_t widthPx, std::uint32_t heightPx, std::int64_t nowUs);
  // Everyone's pointers still to be drawn at `nowUs` (held, or fading), trails faded.
  std::vector<PointerMark> pointers(std::int64_t nowUs) const;
  // A pen batch as the host relayed it (or a clear); false if not taken (a point outside the
  // stream, or a new person past the cap).
  bool applyPen(const wire::Pen& m, std::uint32_t widthPx, std::uint32_t heightPx, std::int64_t nowUs);
  // Everyone's strokes still to be drawn at `nowUs`, oldest first per person.
  std::vector<StrokeMark> strokes(std::int64_t nowUs) const;
  // The sharer's switch; off forgets what was shown.
  void setAllowed(bool allowed);
  bool allowed() const { return m_allowed; }
  bool empty() const { return m_pointers.empty() && m_pens.empty(); }

 private:
  // When a stroke starts fading at `nowUs` (finished, or no news for kPointerStaleMs), or -1.
  static std::int64_t fadeFromUs(const StrokeMark& s, std::int64_t nowUs);
  void dropFaded(std::int64_t nowUs);

  std::map<std::uint32_t, PointerMark> m_pointers;  // by participant
  std::map<std::uint32_t, std::deque<StrokeMark>> m_pens;  // by participant, oldest first
  bool m_allowed = true;
};

}  // namespace huddle::session
