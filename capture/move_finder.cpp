#include "capture/move_finder.h"

#include <algorithm>
#include <cstring>

#include "capture/copy_rect.h"

namespace huddle::capture {

namespace {
constexpr std::size_t kMinVotes = 8;
constexpr int kMaxOffsets = 2;  // offsets tried per frame, best voted first
constexpr int kMaxTries = 6;    // anchors grown from per offset that gave nothing
constexpr int kMaxPredictedTries = 48;  // seeds tried for last frame's move that gave nothing
constexpr int kMaxSkip = 32;    // frames skipped after searches that found little, at most
constexpr std::uint32_t kMaxRepeats = 4;  // places a key may have and still vote
// Bounds on one search's work (a 4K screen of fine texture three-quarters changed would give
// about 400 K anchors a side): past kMaxAnchors only keys of one residue in `thin` are kept, on
// both sides alike, so the same content still meets itself; votes stop at kMaxVotes.
constexpr std::size_t kMaxAnchors = 64 * 1024;
constexpr std::size_t kMaxVotes = 4 * kMaxAnchors;

inline std::uint32_t pixelAt(const std::uint8_t* row, int x) {
  std::uint32_t v;
  std::memcpy(&v, row + std::size_t(x) * kBytesPerPixel, 4);
  return v;
}

// Calls each(x, y, key) for the anchors of `img` in `box`: `key` is a rolling hash of the
// kRunPx pixels that end at (x, y), and an anchor is where that run's hash is one in 16 and its
// last pixel unlike the one before (not inside a flat run). Content, not place, chooses them.
template <typename Each>
void anchorsIn(const std::uint8_t* img, std::size_t stride, int x0, int y0, int x1, int y1, int widthPx, Each&& each) {
  constexpr int K = MoveFinder::kRunPx;
  constexpr std::uint64_t B = 0x100000001B3ull;
  std::uint64_t bk = 1;  // B^K
  for (int i = 0; i < K; ++i) bk *= B;
  x1 = std::min(x1, widthPx);
  if (x1 - x0 < K) return;
  for (int y = y0; y < y1; ++y) {
    const std::uint8_t* row = img + std::size_t(y) * stride;
    std::uint64_t h = 0;
    for (int x = x0; x < x0 + K; ++x) h = h * B + pixelAt(row, x);
    std::uint32_t prev = pixelAt(row, x0 + K - 2);
    for (int x = x0 + K - 1;;) {
      const std::uint32_t p = pixelAt(row, x);
      if (p != prev) {
        std::uint64_t k = h ^ h >> 29;
        k *= 0xBF58476D1CE4E5B9ull;
        k ^= k >> 32;
        if ((k & 15) == 0) each(x, y, k);
      }
      prev = p;
      if (++x >= x1) break;
      h = h * B + pixelAt(row, x) - bk * pixelAt(row, x - K);
    }
  }
}
}  // namespace

void MoveFinder::find(const Frame& f, std::uint8_t* ref, std::size_t refStride, const std::vector<std::uint8_t>& changed,
                      int cellsX, int cellsY, int cellW, int cellH, std::size_t maxCopies,
                      std::vector<base::CopyRect>& out) {
  if (out.size() >= maxCopies || cellsX <= 0 || cellsY <= 0) return;
  if (m_skip > 0) {
    --m_skip;
    return;
  }
  const std::size_t cells = std::size_t(cellsX) * cellsY;
  std::size_t count = 0;
  for (std::size_t i = 0; i < cells && i < changed.size(); ++i) count += changed[i] != 0;
  if (count == 0 || count * 4 > cells * kMaxChangedQuarters) return;
  // The changed cells' connected parts (8 neighbours), as boxes of pixels.
  m_seen.assign(cells, 0);
  std::vector<Box> boxes;
  for (std::size_t start = 0; start < cells; ++start) {
    if (!changed[start] || m_seen[start]) continue;
    int cx0 = cellsX, cy0 = cellsY, cx1 = -1, cy1 = -1;
    m_stack.assign(1, std::int32_t(start));
    m_seen[start] = 1;
    while (!m_stack.empty()) {
      const int i = m_stack.back();
      m_stack.pop_back();
      const int cx = i % cellsX, cy = i / cellsX;
      cx0 = std::min(cx0, cx), cx1 = std::max(cx1, cx), cy0 = std::min(cy0, cy), cy1 = std::max(cy1, cy);
      for (int ny = std::max(0, cy - 1); ny <= std::min(cellsY - 1, cy + 1); ++ny)
        for (int nx = std::max(0, cx - 1); nx <= std::min(cellsX - 1, cx + 1); ++nx) {
          const std::size_t k = std::size_t(ny) * cellsX + nx;
          if (changed[k] && !m_seen[k]) m_seen[k] = 1, m_stack.push_back(std::int32_t(k));
        }
    }
    Box b{cx0 * cellW, cy0 * cellH, std::min((cx1 + 1) * cellW, f.widthPx), std::min((cy1 + 1) * cellH, f.heightPx)};
    if (b.x1 - b.x0 >= kMinMoveW && b.y1 - b.y0 >= kMinMoveH) boxes.push_back(b);
  }
  if (boxes.empty()) return;
  const std::size_t before = out.size();
  // A window being dragged moves about as it did last frame: that move is tried first, from
  // seeds across the changed areas, with no anchors to find; the search runs if it fails.
  if (m_predicted) {
    m_seeds.clear();
    for (std::size_t bi = 0; bi < boxes.size(); ++bi)
      for (int y = boxes[bi].y0 + cellH / 2; y < boxes[bi].y1; y += cellH)
        for (int x = boxes[bi].x0; x + kRunPx <= boxes[bi].x1; x += cellW / 2) m_seeds.push_back({x, y, std::int32_t(bi)});
    place(f, ref, refStride, boxes, m_lastDx, m_lastDy, false, kMaxPredictedTries, maxCopies, out);
  }
  // Unless it explained most of what changed (a frame the capture skipped moves twice as far,
  // and blank parts match any move), the anchors are searched as well.
  std::int64_t changedArea = 0, copiedArea = 0;
  for (const Box& b : boxes) changedArea += std::int64_t(b.x1 - b.x0) * (b.y1 - b.y0);
  for (std::size_t k = before; k < out.size(); ++k) copiedArea += std::int64_t(out[k].w) * out[k].h;
  if (copiedArea * 2 < changedArea && out.size() < maxCopies) {
    ++m_stats.searched;
    search(f, ref, refStride, boxes, maxCopies, out);
  }
  // The move that explained the most is the next frame's guess.
  m_predicted = out.size() > before;
  std::int64_t best = 0;
  for (std::size_t k = before; k < out.size(); ++k)
    if (std::int64_t(out[k].w) * out[k].h > best) {
      best = std::int64_t(out[k].w) * out[k].h;
      m_lastDx = out[k].dstX - out[k].srcX;
      m_lastDy = out[k].dstY - out[k].srcY;
    }
  // Changes that moves explain little of (video in a window, typing, a gradient that scrolls
  // under a changing picture) are looked at less and less often.
  copiedArea = 0;
  for (std::size_t k = before; k < out.size(); ++k) copiedArea += std::int64_t(out[k].w) * out[k].h;
  if (copiedArea * 4 < changedArea) m_skip = m_backoff = std::min(kMaxSkip, std::max(1, m_backoff * 2));
  else m_backoff = 0;
}

void MoveFinder::search(const Frame& f, std::uint8_t* ref, std::size_t refStride, const std::vector<Box>& boxes,
                        std::size_t maxCopies, std::vector<base::CopyRect>& out) {
  // The reference's anchors, grouped by key, and a table from each key to its group. A key
  // seen a few times (rows repeat down a line of text, a word along a page) votes for each of
  // its places: the true move gathers the votes, the others scatter. One seen more often is
  // no guide at all.
  m_anchors.clear();
  for (const Box& b : boxes)
    anchorsIn(ref, refStride, b.x0, b.y0, b.x1, b.y1, f.widthPx,
              [&](int x, int y, std::uint64_t key) { m_anchors.push_back({key, x, y}); });
  if (m_anchors.size() < kMinVotes) return;
  const std::uint64_t thin = (m_anchors.size() + kMaxAnchors - 1) / kMaxAnchors;
  auto kept = [thin](std::uint64_t key) { return thin == 1 || (key >> 32) % thin == 0; };
  if (thin > 1)
    m_anchors.erase(std::remove_if(m_anchors.begin(), m_anchors.end(), [&](const Anchor& a) { return !kept(a.key); }),
                    m_anchors.end());
  std::sort(m_anchors.begin(), m_anchors.end(), [](const Anchor& a, const Anchor& b) { return a.key < b.key; });
  std::size_t size = 64;
  while (size < m_anchors.size() * 2) size <<= 1;
  m_table.assign(size, Slot{0, 0, 0});
  for (std::size_t i = 0; i < m_anchors.size();) {
    std::size_t j = i;
    while (j < m_anchors.size() && m_anchors[j].key == m_anchors[i].key) ++j;
    for (std::size_t k = m_anchors[i].key & (size - 1);; k = (k + 1) & (size - 1))
      if (m_table[k].count == 0) {
        m_table[k] = {m_anchors[i].key, std::uint32_t(i), std::uint32_t(j - i)};
        break;
      }
    i = j;
  }
  // The frame's anchors found there vote for where they came from.
  m_votes.clear();
  for (std::size_t bi = 0; bi < boxes.size(); ++bi) {
    const Box& b = boxes[bi];
    anchorsIn(f.pixels, std::size_t(f.strideBytes), b.x0, b.y0, b.x1, b.y1, f.widthPx, [&](int x, int y, std::uint64_t key) {
      if (!kept(key) || m_votes.size() >= kMaxVotes) return;
      for (std::size_t k = key & (size - 1);; k = (k + 1) & (size - 1)) {
        const Slot& s = m_table[k];
        if (s.count == 0) return;
        if (s.key != key) continue;
        if (s.count > kMaxRepeats) return;
        for (std::uint32_t i = s.first; i < s.first + s.count; ++i) {
          const Anchor& a = m_anchors[i];
          if (a.x != x || a.y != y) m_votes.push_back({x - a.x, y - a.y, x, y, std::int32_t(bi)});
        }
        return;
      }
    });
  }
  if (m_votes.size() < kMinVotes) return;
  std::stable_sort(m_votes.begin(), m_votes.end(),
                   [](const Vote& a, const Vote& b) { return a.dx != b.dx ? a.dx < b.dx : a.dy < b.dy; });
  struct Group {
    std::size_t begin, end;
  };
  std::vector<Group> groups;
  for (std::size_t i = 0; i < m_votes.size();) {
    std::size_t j = i;
    while (j < m_votes.size() && m_votes[j].dx == m_votes[i].dx && m_votes[j].dy == m_votes[i].dy) ++j;
    // Straight up or down is the scroll detector's: here it would only match flat rows it left.
    if (j - i >= kMinVotes && m_votes[i].dx != 0) groups.push_back({i, j});
    i = j;
  }
  std::sort(groups.begin(), groups.end(), [](const Group& a, const Group& b) { return a.end - a.begin > b.end - b.begin; });
  if (groups.size() > std::size_t(kMaxOffsets)) groups.resize(kMaxOffsets);
  for (const Group& g : groups) {
    m_seeds.clear();
    for (std::size_t i = g.begin; i < g.end; ++i)
      m_seeds.push_back({m_votes[i].x - kRunPx + 1, m_votes[i].y, m_votes[i].box});
    place(f, ref, refStride, boxes, m_votes[g.begin].dx, m_votes[g.begin].dy, true, kMaxTries, maxCopies, out);
  }
}

void MoveFinder::place(const Frame& f, std::uint8_t* ref, std::size_t refStride, const std::vector<Box>& boxes, int dx,
                       int dy, bool voted, int maxTries, std::size_t maxCopies, std::vector<base::CopyRect>& out) {
  // Rectangles of this move, found against the reference as it is, none over another.
  m_found.clear();
  int tries = 0;
  std::size_t sending = 0;
  for (std::size_t i = 0; i < m_seeds.size() && tries < maxTries && out.size() + sending < maxCopies; ++i) {
    const Seed& v = m_seeds[i];
    bool covered = false;
    for (const Found& o : m_found) {
      const base::CopyRect& c = o.rect;
      covered = covered || (v.x + kRunPx > c.dstX && v.x < c.dstX + c.w && v.y >= c.dstY && v.y < c.dstY + c.h);
    }
    if (covered) continue;
    base::CopyRect c;
    bool seedMatched = false;
    if (!grow(f, ref, refStride, boxes[std::size_t(v.box)], v.x, v.y, dx, dy, c, seedMatched) || c.w < kMinMoveW ||
        c.h < kMinMoveH) {
      if (voted && !seedMatched) ++m_stats.rejected;  // its hash matched, its pixels did not
      ++tries;
      continue;
    }
    // Where the frame equals the reference already (a blank page, matching itself moved), a
    // copy would change nothing; it would only cost the viewers a move and a refresh.
    base::CopyRect still = c;
    still.srcX = c.dstX, still.srcY = c.dstY;
    if (copyMatches(f.pixels, std::size_t(f.strideBytes), ref, refStride, still)) {
      m_found.push_back({c, false});  // kept clear of by other seeds, but not sent
      ++tries;
      continue;
    }
    m_found.push_back({c, true});
    ++sending;
  }
  // Applied in order along the move (the one furthest ahead first), so none reads pixels an
  // earlier one wrote; one whose source an earlier one wrote after all is checked again
  // against the reference as it is by then.
  std::sort(m_found.begin(), m_found.end(), [dx, dy](const Found& a, const Found& b) {
    const std::int64_t pa = std::int64_t(a.rect.dstY) * dy + std::int64_t(a.rect.dstX) * dx;
    const std::int64_t pb = std::int64_t(b.rect.dstY) * dy + std::int64_t(b.rect.dstX) * dx;
    return pa > pb;
  });
  const std::size_t first = out.size();
  for (const Found& found : m_found) {
    if (!found.send) continue;
    const base::CopyRect& c = found.rect;
    bool written = false;
    for (std::size_t k = first; k < out.size() && !written; ++k) {
      const base::CopyRect& o = out[k];
      written = c.srcX < o.dstX + o.w && o.dstX < c.srcX + c.w && c.srcY < o.dstY + o.h && o.dstY < c.srcY + c.h;
    }
    if (written && !copyMatches(f.pixels, std::size_t(f.strideBytes), ref, refStride, c)) {
      ++m_stats.rejected;
      continue;
    }
    applyCopy(ref, refStride, c);
    out.push_back(c);
    ++m_stats.found;
  }
}

bool MoveFinder::grow(const Frame& f, const std::uint8_t* ref, std::size_t refStride, const Box& box, int x, int y,
                      int dx, int dy, base::CopyRect& c, bool& seedMatched) {
  const int W = f.widthPx, H = f.heightPx;
  base::CopyRect seed{x - dx, y - dy, kRunPx, 1, x, y};
  // A strip matches if it is clear of the rectangles found already and its pixels match.
  auto matches = [&](const base::CopyRect& r) {
    for (const Found& found : m_found)
      if (const base::CopyRect& o = found.rect; r.dstX < o.dstX + o.w && o.dstX < r.dstX + r.w && r.dstY < o.dstY + o.h && o.dstY < r.dstY + r.h) return false;
    return copyMatches(f.pixels, std::size_t(f.strideBytes), ref, refStride, r);
  };
  seedMatched = true;  // a seed outside the image is no collision
  if (!seed.inside(W, H)) return false;
  seedMatched = copyMatches(f.pixels, std::size_t(f.strideBytes), ref, refStride, seed);
  if (!seedMatched) return false;
  // Sides: 0 left, 1 right, 2 up, 3 down. How far `r` may grow on one: its source inside the
  // image, its destination inside the area that changed (beyond it, a copy would only move
  // pixels that match by chance, as a blank page matches itself moved).
  auto room = [&](const base::CopyRect& r, int side) {
    switch (side) {
      case 0: return std::min(r.dstX - box.x0, r.srcX);
      case 1: return std::min(box.x1 - r.dstX, W - r.srcX) - r.w;
      case 2: return std::min(r.dstY - box.y0, r.srcY);
      default: return std::min(box.y1 - r.dstY, H - r.srcY) - r.h;
    }
  };
  auto strip = [](const base::CopyRect& r, int side, int s) {
    base::CopyRect t = r;
    switch (side) {
      case 0: t.dstX -= s, t.srcX -= s, t.w = s; break;
      case 1: t.dstX += r.w, t.srcX += r.w, t.w = s; break;
      case 2: t.dstY -= s, t.srcY -= s, t.h = s; break;
      default: t.dstY += r.h, t.srcY += r.h, t.h = s; break;
    }
    return t;
  };
  // Grows one side in strips that double while they match and halve when one does not.
  auto extend = [&](base::CopyRect& r, int side) {
    bool grew = false;
    for (int step = 16;;) {
      const int s = std::min(step, room(r, side));
      if (s <= 0) return grew;
      if (matches(strip(r, side, s))) {
        if (side == 0) r.dstX -= s, r.srcX -= s;
        if (side == 2) r.dstY -= s, r.srcY -= s;
        (side < 2 ? r.w : r.h) += s;
        grew = true;
        step = s * 2;
      } else if (s == 1) {
        return grew;
      } else {
        step = s / 2;
      }
    }
  };
  // Along the row first, then up and down; and the other way round, for content whose rows
  // or columns match beyond the window by chance (a flat background): the larger wins.
  auto around = [&](base::CopyRect r, const int (&order)[4]) {
    for (int pass = 0; pass < 3; ++pass) {
      bool grew = false;
      for (int side : order) grew = extend(r, side) || grew;
      if (!grew) break;
    }
    return r;
  };
  const base::CopyRect a = around(seed, {0, 1, 2, 3});
  const base::CopyRect b = around(seed, {2, 3, 0, 1});
  c = std::int64_t(b.w) * b.h > std::int64_t(a.w) * a.h ? b : a;
  return true;
}

}  // namespace huddle::capture
