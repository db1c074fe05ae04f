#include "app/session/stream_marks.h"

#include <algorithm>

#include "net/wire/limits.h"

namespace huddle::session {

namespace {
constexpr std::int64_t kTrailUs = std::int64_t(wire::kPointerTrailMs) * 1000;
}  // namespace

bool StreamMarks::applyPointer(const wire::Pointer& m, std::uint32_t widthPx, std::uint32_t heightPx,
                               std::int64_t nowUs) {
  // The host checks bounds; a host that does not is not believed either.
  if (m.present && !wire::validatePointer(m.x, m.y, widthPx, heightPx).empty()) return false;
  if (!m_pointers.count(m.participantId) && m_pointers.size() >= wire::kMaxPointersPerStream) {
    std::erase_if(m_pointers, [](const auto& e) { return !e.second.present; });  // released ones make room
    if (m_pointers.size() >= wire::kMaxPointersPerStream) return false;
  }
  PointerMark& p = m_pointers[m.participantId];
  p.participantId = m.participantId;
  p.name = m.name;
  if (m.present) {
    if (!p.present) p.trail.clear();  // a new press starts its own trail
    p.x = m.x, p.y = m.y;
    p.trail.push_back(TrailPoint{m.x, m.y, nowUs, 1.f});
    // Only the recent past, and never more than the cap.
    std::erase_if(p.trail, [&](const TrailPoint& t) { return nowUs - t.atMonoUs > kTrailUs; });
    if (p.trail.size() > wire::kPointerTrailPoints)
      p.trail.erase(p.trail.begin(), p.trail.end() - std::ptrdiff_t(wire::kPointerTrailPoints));
  }
  p.present = m.present;
  p.atMonoUs = nowUs;
  return true;
}

std::vector<PointerMark> StreamMarks::pointers(std::int64_t nowUs) const {
  std::vector<PointerMark> out;
  for (const auto& [id, p] : m_pointers) {
    PointerMark mark = p;
    // Held with no news for a while (its sharer's link lost the gone): fades like a release.
    std::int64_t fadeFromUs = p.atMonoUs;
    if (p.present && nowUs - p.atMonoUs > std::int64_t(wire::kPointerStaleMs) * 1000) {
      mark.present = false;
      fadeFromUs = p.atMonoUs + std::int64_t(wire::kPointerStaleMs) * 1000;
    }
    if (!mark.present) {
      const double t = double(nowUs - fadeFromUs) / (wire::kPointerFadeMs * 1000.0);
      if (t >= 1) continue;
      mark.alpha = float(1 - std::max(0.0, t));
    }
    // The trail fades with its age (the newest point, where the dot is, is the strongest).
    std::erase_if(mark.trail, [&](const TrailPoint& t) { return nowUs - t.atMonoUs >= kTrailUs; });
    for (TrailPoint& t : mark.trail) t.alpha = mark.alpha * float(1 - double(nowUs - t.atMonoUs) / double(kTrailUs));
    out.push_back(std::move(mark));
  }
  return out;
}

std::int64_t StreamMarks::fadeFromUs(const StrokeMark& s, std::int64_t nowUs) {
  if (s.finished) return s.atMonoUs + std::int64_t(wire::kPenHoldMs) * 1000;
  // Left open with no news (its drawer's link went): it counts as finished at its last news.
  const std::int64_t staleUs = std::int64_t(wire::kPointerStaleMs) * 1000;
  return nowUs - s.atMonoUs > staleUs ? s.atMonoUs + std::max(staleUs, std::int64_t(wire::kPenHoldMs) * 1000) : -1;
}

void StreamMarks::dropFaded(std::int64_t nowUs) {
  const std::int64_t fadeUs = std::int64_t(wire::kPenFadeMs) * 1000;
  for (auto it = m_pens.begin(); it != m_pens.end();) {
    std::erase_if(it->second, [&](const StrokeMark& s) {
      const std::int64_t from = fadeFromUs(s, nowUs);
      return from >= 0 && nowUs - from >= fadeUs;
    });
    it = it->second.empty() ? m_pens.erase(it) : std::next(it);
  }
}

bool StreamMarks::applyPen(const wire::Pen& m, std::uint32_t widthPx, std::uint32_t heightPx, std::int64_t nowUs) {
  if (m.clear) {
    m_pens.erase(m.participantId);
    return true;
  }
  if (!wire::validatePenPoints(m.points, widthPx, heightPx).empty()) return false;
  if (!m_pens.count(m.participantId) && m_pens.size() >= wire::kMaxPointersPerStream) {
    dropFaded(nowUs);  // strokes gone from view make room
    if (m_pens.size() >= wire::kMaxPointersPerStream) return false;
  }
  std::deque<StrokeMark>& mine = m_pens[m.participantId];
  auto it = std::find_if(mine.begin(), mine.end(), [&](const StrokeMark& s) { return s.strokeId == m.strokeId; });
  if (it == mine.end()) {
    StrokeMark s;
    s.participantId = m.participantId;
    s.name = m.name;
    s.strokeId = m.strokeId;
    mine.push_back(std::move(s));
    if (mine.size() > wire::kMaxPenStrokesPerPerson) mine.pop_front();  // the oldest goes first
    it = std::prev(mine.end());
  }
  if (it->finished) return true;  // a finished stroke takes no more
  const std::size_t room = wire::kMaxPenPointsPerStroke - std::min(wire::kMaxPenPointsPerStroke, it->points.size());
  it->points.insert(it->points.end(), m.points.begin(), m.points.begin() + std::ptrdiff_t(std::min(room, m.points.size())));
  it->finished = m.end;
  it->atMonoUs = nowUs;
  return true;
}

std::vector<StrokeMark> StreamMarks::strokes(std::int64_t nowUs) const {
  std::vector<StrokeMark> out;
  const double fadeUs = wire::kPenFadeMs * 1000.0;
  for (const auto& [id, mine] : m_pens)
    for (const StrokeMark& s : mine) {
      const std::int64_t from = fadeFromUs(s, nowUs);
      const double t = from < 0 ? 0 : double(nowUs - from) / fadeUs;
      if (t >= 1) continue;
      StrokeMark shown = s;
      shown.alpha = float(1 - std::max(0.0, t));
      out.push_back(std::move(shown));
    }
  return out;
}

void StreamMarks::setAllowed(bool allowed) {
  m_allowed = allowed;
  if (allowed) return;
  m_pointers.clear();
  m_pens.clear();
}

}  // namespace huddle::session
