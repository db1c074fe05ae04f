#include "net/base/dirty_rects.h"

#include <limits>

namespace huddle::base {

namespace {
// Overlapping, or side by side along an edge (not only at a corner).
bool meets(const Rect& a, const Rect& b) {
  const bool spanX = a.x < b.right() && b.x < a.right(), touchX = a.x <= b.right() && b.x <= a.right();
  const bool spanY = a.y < b.bottom() && b.y < a.bottom(), touchY = a.y <= b.bottom() && b.y <= a.bottom();
  return (spanX && touchY) || (spanY && touchX);
}
}  // namespace

void DirtyRects::add(Rect r) {
  if (r.empty()) return;
  for (std::size_t i = 0; i < m_rects.size();) {
    if (meets(m_rects[i], r)) {
      r = r.united(m_rects[i]);
      m_rects.erase(m_rects.begin() + static_cast<std::ptrdiff_t>(i));
      i = 0;  // the union may meet one looked at already
    } else {
      ++i;
    }
  }
  m_rects.push_back(r);
  if (m_rects.size() <= m_max) return;
  // Too many: join the two whose union adds the least area (then it may meet others).
  std::size_t bi = 0, bj = 1;
  std::int64_t best = std::numeric_limits<std::int64_t>::max();
  for (std::size_t i = 0; i < m_rects.size(); ++i)
    for (std::size_t j = i + 1; j < m_rects.size(); ++j) {
      const std::int64_t added = m_rects[i].united(m_rects[j]).area() - m_rects[i].area() - m_rects[j].area();
      if (added < best) best = added, bi = i, bj = j;
    }
  const Rect joined = m_rects[bi].united(m_rects[bj]);
  m_rects.erase(m_rects.begin() + static_cast<std::ptrdiff_t>(bj));
  m_rects.erase(m_rects.begin() + static_cast<std::ptrdiff_t>(bi));
  add(joined);
}

Rect DirtyRects::bounds() const {
  Rect b;
  for (const Rect& r : m_rects) b = b.united(r);
  return b;
}

std::int64_t DirtyRects::area() const {
  std::int64_t a = 0;
  for (const Rect& r : m_rects) a += r.area();
  return a;
}

}  // namespace huddle::base
