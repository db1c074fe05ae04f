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

}  // namespace huddle::session
