// Integer pixel rectangle used by capture (damage), net (tiles) and the window (dirty uploads).
#pragma once
#include <algorithm>
#include <cstdint>

namespace huddle::base {

struct Rect {
  int x = 0, y = 0, w = 0, h = 0;

  bool empty() const { return w <= 0 || h <= 0; }
  int right() const { return x + w; }
  int bottom() const { return y + h; }
  std::int64_t area() const { return empty() ? 0 : std::int64_t(w) * h; }

  // Smallest rectangle holding both; an empty side is ignored.
  Rect united(const Rect& o) const {
    if (empty()) return o;
    if (o.empty()) return *this;
    int l = std::min(x, o.x), t = std::min(y, o.y);
    return {l, t, std::max(right(), o.right()) - l, std::max(bottom(), o.bottom()) - t};
  }
  Rect intersected(const Rect& o) const {
    int l = std::max(x, o.x), t = std::max(y, o.y);
    int r = std::min(right(), o.right()), b = std::min(bottom(), o.bottom());
    if (r <= l || b <= t) return {};
    return {l, t, r - l, b - t};
  }
  bool operator==(const Rect&) const = default;
};

}  // namespace huddle::base
