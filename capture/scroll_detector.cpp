#include "capture/scroll_detector.h"

#include <algorithm>
#include <cstring>

#include "capture/copy_rect.h"

namespace huddle::capture {

namespace {
constexpr std::uint64_t kMul = 0x9E3779B97F4A7C15ull;
constexpr int kMaxOffsets = 3;   // offsets tried per frame, best voted first
constexpr std::uint32_t kMinVotes = 8;
constexpr int kMinChangedRows = 4;  // a block must bring some change, not only match itself
constexpr int kMoveCellRows = 16;  // rows of a cell of the grid the move finder is given
constexpr int kWindowRows = 8;  // rows hashed together to vote

inline std::uint64_t rotl(std::uint64_t v, int r) { return v << r | v >> (64 - r); }
inline std::uint64_t mix(std::uint64_t v) {
  v ^= v >> 31;
  v *= 0xBF58476D1CE4E5B9ull;
  return v ^ v >> 29;
}
}  // namespace

std::uint64_t ScrollDetector::hashRow(const std::uint8_t* p, std::size_t bytes) {
  // Four independent lanes over 8-byte words, so the multiplies overlap. Each word is loaded
  // on its own: one 32-byte copy went through the stack (two vector stores, four loads back),
  // a quarter of the time of a frame's hashing.
  std::uint64_t a = 0x243F6A8885A308D3ull, b = 0x13198A2E03707344ull, c = 0xA4093822299F31D0ull,
                d = 0x082EFA98EC4E6C89ull;
  auto word = [p](std::size_t at) {
    std::uint64_t w;
    std::memcpy(&w, p + at, 8);
    return w;
  };
  std::size_t i = 0;
  for (; i + 32 <= bytes; i += 32) {
    a = rotl((a ^ word(i)) * kMul, 29);
    b = rotl((b ^ word(i + 8)) * kMul, 29);
    c = rotl((c ^ word(i + 16)) * kMul, 29);
    d = rotl((d ^ word(i + 24)) * kMul, 29);
  }
  for (; i + 4 <= bytes; i += 4) {
    std::uint32_t w;
    std::memcpy(&w, p + i, 4);
    a = rotl((a ^ w) * kMul, 29);
  }
  return mix(a ^ rotl(b, 17) ^ rotl(c, 34) ^ rotl(d, 51) ^ bytes);
}

void ScrollDetector::hash(const Frame& f) {
  const bool fresh = !m_valid || f.widthPx != m_width || f.heightPx != m_height;
  if (fresh) {
    m_width = f.widthPx;
    m_height = f.heightPx;
    m_cols = (m_width + kSegmentPx - 1) / kSegmentPx;
    m_old.assign(std::size_t(m_cols) * m_height, 0);
  }
  m_new.resize(std::size_t(m_cols) * m_height);
  auto segment = [&](int y, int col) {
    const int x0 = col * kSegmentPx, w = std::min(kSegmentPx, m_width - x0);
    m_new[std::size_t(col) * m_height + std::size_t(y)] =
        hashRow(f.pixels + std::size_t(y) * f.strideBytes + std::size_t(x0) * kBytesPerPixel, std::size_t(w) * 4);
  };
  if (fresh || f.changed == nullptr) {
    for (int y = 0; y < m_height; ++y)
      for (int col = 0; col < m_cols; ++col) segment(y, col);
    return;
  }
  // Only where the source says pixels may have changed; elsewhere the previous hash stands.
  std::memcpy(m_new.data(), m_old.data(), m_old.size() * sizeof(std::uint64_t));
  const base::Rect frameRect{0, 0, m_width, m_height};
  for (const base::Rect& raw : *f.changed) {
    const base::Rect r = raw.intersected(frameRect);
    if (r.empty()) continue;
    for (int y = r.y; y < r.bottom(); ++y)
      for (int col = r.x / kSegmentPx; col <= (r.right() - 1) / kSegmentPx; ++col) segment(y, col);
  }
}

bool ScrollDetector::mostChanged(const Frame& f) {
  const int cols = (f.widthPx + kCoverCellPx - 1) / kCoverCellPx, rows = (f.heightPx + kCoverCellPx - 1) / kCoverCellPx;
  const std::size_t cells = std::size_t(std::max(cols, 0)) * std::size_t(std::max(rows, 0));
  const std::int64_t area = std::int64_t(std::max(f.widthPx, 0)) * std::max(f.heightPx, 0);
  // Pixels changed in each cell (capped at the cell's size: rectangles may overlap).
  m_coverNew.assign(cells, 0);
  const base::Rect frameRect{0, 0, f.widthPx, f.heightPx};
  auto cellRect = [&](int cx, int cy) {
    return base::Rect{cx * kCoverCellPx, cy * kCoverCellPx, kCoverCellPx, kCoverCellPx}.intersected(frameRect);
  };
  if (f.changed == nullptr) {  // no word from the source: all of it
    for (int cy = 0; cy < rows; ++cy)
      for (int cx = 0; cx < cols; ++cx) {
        const base::Rect c = cellRect(cx, cy);
        m_coverNew[std::size_t(cy) * std::size_t(cols) + std::size_t(cx)] = std::uint16_t(c.w * c.h);
      }
  } else {
    for (const base::Rect& raw : *f.changed) {
      const base::Rect r = raw.intersected(frameRect);
      if (r.empty()) continue;
      for (int cy = r.y / kCoverCellPx; cy <= (r.bottom() - 1) / kCoverCellPx; ++cy)
        for (int cx = r.x / kCoverCellPx; cx <= (r.right() - 1) / kCoverCellPx; ++cx) {
          const base::Rect c = cellRect(cx, cy), in = r.intersected(c);
          std::uint16_t& n = m_coverNew[std::size_t(cy) * std::size_t(cols) + std::size_t(cx)];
          n = std::uint16_t(std::min(c.w * c.h, int(n) + in.w * in.h));
        }
    }
  }
  // With the frame before's (same size only), cell by cell the larger: damage that stays is
  // counted once, and never more than the union of the two.
  const bool withBefore = m_cover.size() == cells && m_coverCols == cols;
  std::int64_t covered = 0;
  for (std::size_t i = 0; i < cells; ++i) covered += withBefore ? std::max(m_coverNew[i], m_cover[i]) : m_coverNew[i];
  m_cover.swap(m_coverNew);
  m_coverCols = cols;
  return area > 0 && covered * 4 >= area * 3;
}

void ScrollDetector::process(const Frame& f, std::uint8_t* ref, std::size_t refStride, std::size_t maxCopies,
                             std::vector<base::CopyRect>& out) {
  const bool most = mostChanged(f);  // called for every frame: it keeps each frame's damage
  // The source says nothing changed: the hashes we hold are this frame's, and nothing moved.
  if (m_valid && f.changed != nullptr && f.changed->empty() && f.widthPx == m_width && f.heightPx == m_height) return;
  if (m_skip > 0 && most) {
    // Not hashed: the next frame looked at starts afresh (hashed whole, compared with nothing).
    --m_skip;
    m_valid = false;
    ++m_stats.framesSkipped;
    return;
  }
  const bool comparable = m_valid && f.widthPx == m_width && f.heightPx == m_height;
  hash(f);
  ++m_stats.framesHashed;
  if (comparable && ref != nullptr && maxCopies > 0 && m_height >= kMinCopyRows) {
    const std::size_t before = out.size();
    bool hashedMost = false;
    detect(f, ref, refStride, maxCopies, out, hashedMost);
    // A scroll, or the full changes stopped: by the hashes, and by the source's word (with the
    // frame before's damage: a picture captured in two parts, each part less than most of the
    // screen, is still a full change).
    const bool stillMost = hashedMost || (f.changed != nullptr && most);
    if (out.size() > before || !stillMost) m_backoff = m_skip = 0;
    else m_skip = m_backoff = std::min(kMaxSkip, std::max(1, m_backoff * 2));
  }
  m_old.swap(m_new);
  m_valid = true;
}

void ScrollDetector::detect(const Frame& f, std::uint8_t* ref, std::size_t refStride, std::size_t maxCopies,
                            std::vector<base::CopyRect>& out, bool& mostChanged) {
  const int H = m_height, C = m_cols;
  // A few rows together: text repeats single rows (the middle of a line of glyphs), rarely
  // a window of rows. Window y mixes rows y..y+7, each rotated by 7 per row after it; the next
  // window rolls on from it (rotate once, take out row y, add row y+8) instead of mixing eight.
  auto windows = [&](const std::vector<std::uint64_t>& hashes, int col, std::vector<std::uint64_t>& into) {
    into.resize(std::size_t(H - kWindowRows + 1));
    std::uint64_t h = 0;
    const std::uint64_t* rows = hashes.data() + std::size_t(col) * H;
    for (int k = 0; k < kWindowRows; ++k) h = rotl(h, 7) ^ rows[k];
    for (int y = 0;; ++y) {
      into[std::size_t(y)] = mix(h);
      if (y + kWindowRows >= H) break;
      h = rotl(h, 7) ^ rotl(rows[y], 7 * kWindowRows) ^ rows[y + kWindowRows];
    }
  };
  // Votes: each changed segment whose rows were somewhere else in its column before.
  m_votes.assign(std::size_t(2 * H + 1), 0);
  std::size_t tableSize = 64;
  while (tableSize < std::size_t(H) * 2) tableSize <<= 1;
  if (m_table.size() != tableSize) {
    m_table.assign(tableSize, Slot{});
    m_generation = 0;
  }
  bool anyChange = false;
  std::size_t changedSegments = 0;
  for (int col = 0; col < C; ++col) {
    const std::uint64_t* newRows = m_new.data() + std::size_t(col) * H;
    const std::uint64_t* oldRows = m_old.data() + std::size_t(col) * H;
    bool changed = false;
    for (int y = 0; y < H && !changed; ++y) changed = newRows[y] != oldRows[y];
    if (!changed) continue;
    anyChange = true;
    // A new generation empties the table without touching it (wrapping round: cleared).
    if (++m_generation == 0) {
      m_table.assign(tableSize, Slot{});
      m_generation = 1;
    }
    windows(m_old, col, m_oldWindows);
    windows(m_new, col, m_newWindows);
    for (int y = 0; y + kWindowRows <= H; ++y) {
      const std::uint64_t h = m_oldWindows[std::size_t(y)];
      for (std::size_t k = h & (tableSize - 1);; k = (k + 1) & (tableSize - 1)) {
        Slot& s = m_table[k];
        if (s.generation != m_generation) {
          s = {h, y, m_generation};
          break;
        }
        if (s.hash == h) {
          s.y = -2;
          break;
        }
      }
    }
    for (int y = 0; y + kWindowRows <= H; ++y) {
      if (newRows[y] == oldRows[y]) continue;
      ++changedSegments;
      const std::uint64_t h = m_newWindows[std::size_t(y)];
      for (std::size_t k = h & (tableSize - 1);; k = (k + 1) & (tableSize - 1)) {
        const Slot& s = m_table[k];
        if (s.generation != m_generation) break;
        if (s.hash != h) continue;
        if (s.y >= 0) ++m_votes[std::size_t(y - s.y + H)];
        break;
      }
    }
  }
  mostChanged = changedSegments * 4 >= std::size_t(C) * std::size_t(H - kWindowRows + 1) * 3;
  if (!anyChange) return;
  m_claimed.assign(std::size_t(C) * H, 0);
  for (int round = 0; round < kMaxOffsets && out.size() < maxCopies; ++round) {
    std::size_t best = 0;
    for (std::size_t i = 1; i < m_votes.size(); ++i)
      if (m_votes[i] > m_votes[best]) best = i;
    if (m_votes[best] < kMinVotes) break;
    m_votes[best] = 0;
    const int dy = int(best) - H;
    if (dy == 0) continue;
    extract(f, ref, refStride, dy, maxCopies, out);
  }
  // What changed and no scroll took, in cells of a segment by kMoveCellRows rows: moves?
  if (out.size() >= maxCopies) return;
  const int bands = (H + kMoveCellRows - 1) / kMoveCellRows;
  m_changedCells.assign(std::size_t(C) * bands, 0);
  for (int col = 0; col < C; ++col) {
    const std::uint64_t* newRows = m_new.data() + std::size_t(col) * H;
    const std::uint64_t* oldRows = m_old.data() + std::size_t(col) * H;
    for (int y = 0; y < H; ++y)
      if (newRows[y] != oldRows[y] && !m_claimed[std::size_t(y) * C + col]) {
        m_changedCells[std::size_t(y / kMoveCellRows) * C + col] = 1;
        y = (y / kMoveCellRows + 1) * kMoveCellRows - 1;  // on to the next cell
      }
  }
  m_moves.find(f, ref, refStride, m_changedCells, C, bands, kSegmentPx, kMoveCellRows, maxCopies, out);
}

void ScrollDetector::extract(const Frame& f, std::uint8_t* ref, std::size_t refStride, int dy, std::size_t maxCopies,
                             std::vector<base::CopyRect>& out) {
  const int H = m_height, C = m_cols;
  auto match = [&](int y, int col) {
    const int ys = y - dy;
    return ys >= 0 && ys < H && !m_claimed[std::size_t(y) * C + col] &&
           m_new[std::size_t(col) * H + std::size_t(y)] == m_old[std::size_t(col) * H + std::size_t(ys)];
  };
  auto changed = [&](int y, int col) {
    return m_new[std::size_t(col) * H + std::size_t(y)] != m_old[std::size_t(col) * H + std::size_t(y)];
  };
  // Blocks of rows matching across one run of columns (the widest run where a block opens).
  struct Block {
    int x0, x1, y0, y1, changedRows;
  };
  std::vector<Block> blocks;
  bool open = false;
  Block cur{};
  auto close = [&](int y) {
    cur.y1 = y;
    if (cur.y1 - cur.y0 >= kMinCopyRows && cur.changedRows >= kMinChangedRows) blocks.push_back(cur);
    open = false;
  };
  for (int y = 0; y < H; ++y) {
    if (open) {
      bool all = true;
      for (int col = cur.x0; col < cur.x1 && all; ++col) all = match(y, col);
      // Past a small change beside the block (a clock at the top of a scrolling page), the
      // columns it held out may move with the block again: then the block ends here and a wider
      // one opens, so the change costs its own tiles, not a strip of columns down the page.
      // Only columns that moved count (most of them changed): a still blank page beside a
      // terminal matches any scroll too, and must not cut the terminal's block at every line;
      int l = cur.x0, r = cur.x1;
      while (all && l > 0 && match(y, l - 1)) --l;
      while (all && r < C && match(y, r)) ++r;
      int moved = 0;
      for (int col = l; col < r; ++col) moved += (col < cur.x0 || col >= cur.x1) && changed(y, col);
      const int extra = r - l - (cur.x1 - cur.x0);  // a column more is the moving area's edge
      bool widens = extra >= 2 && moved * 4 >= extra * 3;
      // ... and for long enough to be a block of its own (not the edge of the moving area,
      // matching at a blank row now and then).
      for (int k = 1; k < kMinCopyRows && widens; ++k)
        for (int col = l; col < r && widens; ++col) widens = y + k < H && match(y + k, col);
      if (all && !widens) {
        bool ch = false;
        for (int col = cur.x0; col < cur.x1 && !ch; ++col) ch = changed(y, col);
        cur.changedRows += ch;
        continue;
      }
      close(y);
    }
    // A block opens only on a run that moved somewhere (some column of it changed): still
    // content that happens to match at dy too (a blank page beside a terminal) would otherwise
    // hold the one open block down the frame, and the moving band beside it never get one.
    int bestX0 = 0, bestLen = 0;
    for (int col = 0; col < C;) {
      if (!match(y, col)) {
        ++col;
        continue;
      }
      int end = col;
      bool moved = false;
      for (; end < C && match(y, end); ++end) moved = moved || changed(y, end);
      if (moved && end - col > bestLen) bestLen = end - col, bestX0 = col;
      col = end;
    }
    if (bestLen == 0) continue;
    cur = {bestX0, bestX0 + bestLen, y, 0, 0};
    for (int col = cur.x0; col < cur.x1 && !cur.changedRows; ++col) cur.changedRows = changed(y, col);
    open = true;
  }
  if (open) close(H);
  // Applied away from the overlap: moving up, the top block first, so no block reads pixels an
  // earlier one wrote.
  if (dy > 0) std::reverse(blocks.begin(), blocks.end());
  for (const Block& b : blocks) {
    if (out.size() >= maxCopies) break;
    // Columns at the block's edges where no row changed in place (a still blank page beside a
    // scrolling terminal matches any scroll, and the block's run took it in) are left out: a
    // copy over them moves nothing, and costs every viewer a copy, an upload and a redraw.
    auto columnChanged = [&](int col) {
      for (int y = b.y0; y < b.y1; ++y)
        if (changed(y, col)) return true;
      return false;
    };
    int x0 = b.x0, x1 = b.x1;
    while (x0 < x1 && !columnChanged(x0)) ++x0;
    while (x1 > x0 && !columnChanged(x1 - 1)) --x1;
    if (x0 == x1) continue;
    base::CopyRect c;
    c.dstX = c.srcX = x0 * kSegmentPx;
    c.w = std::min(x1 * kSegmentPx, m_width) - c.dstX;
    c.dstY = b.y0;
    c.srcY = b.y0 - dy;
    c.h = b.y1 - b.y0;
    if (!verify(f, ref, refStride, c)) {
      ++m_stats.copiesRejected;
      continue;
    }
    // Widened only toward a segment that changed beside it (a page's still margin matches any
    // scroll too: widening into it would take a look down every row of its columns for nothing).
    widen(f, ref, refStride, c, x0 > 0 && columnChanged(x0 - 1), x1 < C && columnChanged(x1));
    trimStill(f, ref, refStride, c);
    applyCopy(ref, refStride, c);
    for (int y = b.y0; y < b.y1; ++y)
      for (int col = b.x0; col < b.x1; ++col) m_claimed[std::size_t(y) * C + col] = 1;
    out.push_back(c);
    ++m_stats.copiesFound;
  }
}

bool ScrollDetector::verify(const Frame& f, const std::uint8_t* ref, std::size_t refStride,
                            const base::CopyRect& c) const {
  return copyMatches(f.pixels, std::size_t(f.strideBytes), ref, refStride, c);
}

void ScrollDetector::widen(const Frame& f, const std::uint8_t* ref, std::size_t refStride, base::CopyRect& c, bool left,
                           bool right) const {
  auto column = [&](int x) {
    for (int i = 0; i < c.h; ++i)
      if (std::memcmp(f.pixels + std::size_t(c.dstY + i) * f.strideBytes + std::size_t(x) * kBytesPerPixel,
                      ref + std::size_t(c.srcY + i) * refStride + std::size_t(x) * kBytesPerPixel, kBytesPerPixel) != 0)
        return false;
    return true;
  };
  // At most a segment each way: beyond that, the segment's hash would have matched.
  for (int k = 0; left && k < kSegmentPx && c.dstX > 0 && column(c.dstX - 1); ++k) --c.dstX, --c.srcX, ++c.w;
  for (int k = 0; right && k < kSegmentPx && c.dstX + c.w < m_width && column(c.dstX + c.w); ++k) ++c.w;
}

void ScrollDetector::trimStill(const Frame& f, const std::uint8_t* ref, std::size_t refStride, base::CopyRect& c) const {
  // Row by row (the rows are what lies together in memory), within the two segments at each
  // edge (the block's still segments are left out already, widening adds at most one more):
  // the columns there that no row changed in place. Each row is looked at only out to the
  // bounds found so far.
  auto equal = [](const std::uint8_t* a, const std::uint8_t* b, int x, int n) {
    return std::memcmp(a + std::size_t(x) * kBytesPerPixel, b + std::size_t(x) * kBytesPerPixel,
                       std::size_t(n) * kBytesPerPixel) == 0;
  };
  const int edge = 2 * kSegmentPx;
  int left = std::min(edge, c.w), right = std::max(c.w - edge, 0);
  for (int i = 0; i < c.h && (left > 0 || right < c.w); ++i) {
    const std::size_t y = std::size_t(c.dstY + i), at = std::size_t(c.dstX) * kBytesPerPixel;
    const std::uint8_t* a = f.pixels + y * f.strideBytes + at;
    const std::uint8_t* b = ref + y * refStride + at;
    // Sixteen pixels a step while they agree (a still margin), then one at a time.
    int l = 0, r = c.w;
    while (l + 16 <= left && equal(a, b, l, 16)) l += 16;
    while (l < left && equal(a, b, l, 1)) ++l;
    while (r - 16 >= right && equal(a, b, r - 16, 16)) r -= 16;
    while (r > right && equal(a, b, r - 1, 1)) --r;
    left = l;
    right = r;
  }
  if (right <= left) return;  // nothing changed in place: as it is (a block holds changed rows)
  c.dstX += left;
  c.srcX += left;
  c.w = right - left;
}

}  // namespace huddle::capture
