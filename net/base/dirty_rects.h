// A changed area as a few rectangles: what a viewer's image changed since the window last
// uploaded it, and which parts of the window a frame draws again. One bounding rectangle
// would make a change in two corners cost the whole screen between them; a list without a
// bound would cost a call per tile. Rectangles that meet or overlap become one, and past
// `maxRects` the two whose union adds the least area are joined.
#pragma once
#include <cstddef>
#include <vector>

#include "net/base/rect.h"

namespace huddle::base {

class DirtyRects {
 public:
  explicit DirtyRects(std::size_t maxRects = 8) : m_max(maxRects < 1 ? 1 : maxRects) {}

  void add(Rect r);
  void add(const DirtyRects& other) {
    for (const Rect& r : other.m_rects) add(r);
  }
  void clear() { m_rects.clear(); }
  bool empty() const { return m_rects.empty(); }
  const std::vector<Rect>& rects() const { return m_rects; }
  // The smallest rectangle holding them all.
  Rect bounds() const;
  std::int64_t area() const;  // of the rectangles (they do not overlap)

 private:
  std::size_t m_max;
  std::vector<Rect> m_rects;  // disjoint, none touching another
};

}  // namespace huddle::base
