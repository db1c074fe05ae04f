// Scrolls cost a copy, not a re-encode (issue 12): the detector finds exact vertical scrolls
// of the whole screen or of a band (verified pixel for pixel, never on random data), copies
// apply overlap-safe in both directions and carry tiles' exactness with them, and a pipeline
// sharing a scroll that goes still rebuilds, as a viewer would, exactly the screen. Moved
// windows too: found to the pixel when dragged both ways or sideways, in parts when partly
// covered, never where nothing moved or where a near match does not match in full.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <mutex>
#include <random>
#include <thread>

#include "capture/capture_pipeline.h"
#include "capture/copy_rect.h"
#include "capture/framebuffer.h"
#include "capture/scroll_detector.h"
#include "capture/synthetic_source.h"
#include "net/wire/limits.h"

using namespace huddle;
using namespace huddle::capture;

namespace {

std::vector<std::uint8_t> noise(int w, int h, std::uint32_t seed) {
  std::vector<std::uint8_t> p(std::size_t(w) * h * 4);
  std::mt19937 rng(seed);
  for (auto& b : p) b = static_cast<std::uint8_t>(rng());
  return p;
}

Frame frameOf(const std::vector<std::uint8_t>& p, int w, int h, std::uint64_t seq = 0) {
  Frame f;
  f.widthPx = w;
  f.heightPx = h;
  f.strideBytes = w * 4;
  f.pixels = p.data();
  f.seq = seq;
  return f;
}

// `next` is `prev` with the block (x, y, bw, bh) scrolled by dy (negative: content moves up)
// and the exposed rows filled with fresh noise.
std::vector<std::uint8_t> scrolled(const std::vector<std::uint8_t>& prev, int w, int x, int y, int bw, int bh, int dy,
                                   std::uint32_t seed) {
  std::vector<std::uint8_t> next = prev;
  std::mt19937 rng(seed);
  for (int r = 0; r < bh; ++r) {
    const int from = r - dy;
    std::uint8_t* dst = &next[(std::size_t(y + r) * w + x) * 4];
    if (from >= 0 && from < bh) std::memcpy(dst, &prev[(std::size_t(y + from) * w + x) * 4], std::size_t(bw) * 4);
    else
      for (int k = 0; k < bw * 4; ++k) dst[k] = static_cast<std::uint8_t>(rng());
  }
  return next;
}

// Runs the detector over prev then next; `ref` (prev as viewers have it) gets the copies.
std::vector<base::CopyRect> detect(const std::vector<std::uint8_t>& prev, const std::vector<std::uint8_t>& next,
                                   int w, int h, std::vector<std::uint8_t>& ref, ScrollDetector& d) {
  std::vector<base::CopyRect> copies;
  d.process(frameOf(prev, w, h, 0), nullptr, std::size_t(w) * 4, wire::kMaxCopiesPerBatch, copies);
  ref = prev;
  d.process(frameOf(next, w, h, 1), ref.data(), std::size_t(w) * 4, wire::kMaxCopiesPerBatch, copies);
  return copies;
}

bool rowsEqual(const std::vector<std::uint8_t>& a, const std::vector<std::uint8_t>& b, int w, const base::CopyRect& r) {
  for (int y = r.dstY; y < r.dstY + r.h; ++y)
    if (std::memcmp(&a[(std::size_t(y) * w + r.dstX) * 4], &b[(std::size_t(y) * w + r.dstX) * 4], std::size_t(r.w) * 4))
      return false;
  return true;
}

}  // namespace

TEST(ScrollDetector, FindsAnExactWholeScreenScroll) {
  const int w = 640, h = 360;
  for (int dy : {-7, 7, -64, 33}) {
    const auto prev = noise(w, h, 1);
    const auto next = scrolled(prev, w, 0, 0, w, h, dy, 2);
    std::vector<std::uint8_t> ref;
    ScrollDetector d;
    const auto copies = detect(prev, next, w, h, ref, d);
    ASSERT_EQ(copies.size(), 1u) << "dy " << dy;
    const base::CopyRect& c = copies[0];
    EXPECT_EQ(c.dstY - c.srcY, dy);
    EXPECT_EQ(c.dstX, 0);
    EXPECT_EQ(c.w, w);
    EXPECT_EQ(c.h, h - std::abs(dy));
    EXPECT_EQ(c.dstY, dy > 0 ? dy : 0);
    // Applied to the reference already: there it is the new frame.
    EXPECT_TRUE(rowsEqual(ref, next, w, c));
  }
}

// A terminal scrolling on a still blank page: the page beside it matches the scroll too, but a
// copy over it would move nothing, so the copy is the terminal's columns to the pixel (off the
// 64-px segments on both sides), and the reference still ends as the new frame.
TEST(ScrollDetector, ACopyLeavesOutTheStillPageBesideWhatScrolled) {
  const int w = 640, h = 240, x = 100, bw = 300;  // the pane: 100..400, segments 64..448
  std::vector<std::uint8_t> prev(std::size_t(w) * h * 4, 230);
  const std::vector<std::uint8_t> detail = noise(w, h, 21);
  for (int y = 20; y < 220; ++y)
    std::memcpy(&prev[(std::size_t(y) * w + x) * 4], &detail[(std::size_t(y) * w + x) * 4], std::size_t(bw) * 4);
  const std::vector<std::uint8_t> next = scrolled(prev, w, x, 20, bw, 200, -6, 22);
  std::vector<std::uint8_t> ref;
  ScrollDetector d;
  const auto copies = detect(prev, next, w, h, ref, d);
  ASSERT_EQ(copies.size(), 1u);
  const base::CopyRect& c = copies[0];
  EXPECT_EQ(c.dstY - c.srcY, -6);
  EXPECT_EQ(c.dstX, x);
  EXPECT_EQ(c.w, bw);
  EXPECT_EQ(c.srcX, c.dstX);
  // The copy's rows, the page beside included, are the new frame's in the reference.
  EXPECT_TRUE(rowsEqual(ref, next, w, {0, c.dstY, w, c.h, 0, c.dstY}));
}

// Two panes on a still page, one scrolling up and one down, each off the segment grid: two
// copies, each exactly its pane's columns, and the reference ends as the new frame in their rows.
TEST(ScrollDetector, TwoPanesScrollingBothWaysOnAStillPageGoAsTheirOwnColumns) {
  const int w = 640, h = 240;
  struct Pane {
    int x, bw, dy;
  };
  const Pane panes[] = {{70, 180, -6}, {330, 250, 9}};
  std::vector<std::uint8_t> prev(std::size_t(w) * h * 4, 230);
  const std::vector<std::uint8_t> detail = noise(w, h, 31);
  for (const Pane& p : panes)
    for (int y = 20; y < 220; ++y)
      std::memcpy(&prev[(std::size_t(y) * w + p.x) * 4], &detail[(std::size_t(y) * w + p.x) * 4], std::size_t(p.bw) * 4);
  std::vector<std::uint8_t> next = prev;
  std::uint32_t seed = 32;
  for (const Pane& p : panes) next = scrolled(next, w, p.x, 20, p.bw, 200, p.dy, seed++);
  std::vector<std::uint8_t> ref;
  ScrollDetector d;
  auto copies = detect(prev, next, w, h, ref, d);
  ASSERT_EQ(copies.size(), 2u);
  std::sort(copies.begin(), copies.end(), [](const base::CopyRect& a, const base::CopyRect& b) { return a.dstX < b.dstX; });
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(copies[i].dstX, panes[i].x) << i;
    EXPECT_EQ(copies[i].w, panes[i].bw) << i;
    EXPECT_EQ(copies[i].dstY - copies[i].srcY, panes[i].dy) << i;
    EXPECT_TRUE(rowsEqual(ref, next, w, copies[i])) << i;
  }
}

TEST(ScrollDetector, NoCopyOnRandomOrStillData) {
  const int w = 320, h = 240;
  ScrollDetector d;
  std::vector<std::uint8_t> ref;
  EXPECT_TRUE(detect(noise(w, h, 3), noise(w, h, 4), w, h, ref, d).empty());
  const auto same = noise(w, h, 5);
  EXPECT_TRUE(detect(same, same, w, h, ref, d).empty());
  // Rows that repeat (a blank screen that turns another colour) give no offset to vote for.
  std::vector<std::uint8_t> white(std::size_t(w) * h * 4, 255), grey(std::size_t(w) * h * 4, 128);
  EXPECT_TRUE(detect(white, grey, w, h, ref, d).empty());
  EXPECT_EQ(d.stats().copiesFound, 0u);
}

TEST(ScrollDetector, FindsAScrollingBandToThePixelAndLeavesTheRestAlone) {
  // A terminal-like area, not on the 64-pixel grid, scrolls one 16-pixel line; the rest is still.
  const int w = 1280, h = 720, x = 100, y = 200, bw = 720, bh = 288;
  const auto prev = noise(w, h, 6);
  const auto next = scrolled(prev, w, x, y, bw, bh, -16, 7);
  std::vector<std::uint8_t> ref;
  ScrollDetector d;
  const auto copies = detect(prev, next, w, h, ref, d);
  ASSERT_EQ(copies.size(), 1u);
  const base::CopyRect& c = copies[0];
  EXPECT_EQ(c.dstX, x);
  EXPECT_EQ(c.srcX, x);
  EXPECT_EQ(c.w, bw);
  EXPECT_EQ(c.dstY, y);
  EXPECT_EQ(c.srcY, y + 16);
  EXPECT_EQ(c.h, bh - 16);
  EXPECT_TRUE(rowsEqual(ref, next, w, c));
}

TEST(ScrollDetector, AChangeAtTheTopOfAScrollingPageCutsOnlyItsOwnRows) {
  // The page scrolls up 7 px while a small area near its top (a clock) changes as well: below
  // that area the copies cover every column again, not all but a whole-height strip.
  const int w = 1280, h = 720, dy = -7;
  const auto prev = noise(w, h, 30);
  auto next = scrolled(prev, w, 0, 0, w, h, dy, 31);
  const base::Rect clock{330, 20, 100, 30};
  std::mt19937 rng(32);
  for (int y = clock.y; y < clock.bottom(); ++y)
    for (int k = clock.x * 4; k < clock.right() * 4; ++k) next[std::size_t(y) * w * 4 + std::size_t(k)] = std::uint8_t(rng());
  std::vector<std::uint8_t> ref;
  ScrollDetector d;
  const auto copies = detect(prev, next, w, h, ref, d);
  ASSERT_FALSE(copies.empty());
  for (const base::CopyRect& c : copies) EXPECT_TRUE(rowsEqual(ref, next, w, c));
  std::size_t uncovered = 0;
  for (int y = clock.bottom() + 16; y < h + dy; y += 4)
    for (int x = 0; x < w; x += 8) {
      bool in = false;
      for (const base::CopyRect& c : copies) in = in || (x >= c.dstX && x < c.dstX + c.w && y >= c.dstY && y < c.dstY + c.h);
      uncovered += !in;
    }
  EXPECT_EQ(uncovered, 0u);
}

TEST(ScrollDetector, AHashCollisionNeverBecomesACopy) {
  // Same hashes, other pixels: a reference that differs from the hashed previous frame in one
  // byte of the moved block stands in for a collision; the memcmp check refuses it.
  const int w = 256, h = 256;
  const auto prev = noise(w, h, 8);
  const auto next = scrolled(prev, w, 0, 0, w, h, -9, 9);
  ScrollDetector d;
  std::vector<base::CopyRect> copies;
  d.process(frameOf(prev, w, h), nullptr, std::size_t(w) * 4, wire::kMaxCopiesPerBatch, copies);
  std::vector<std::uint8_t> ref = prev;
  ref[(std::size_t(100) * w + 10) * 4] ^= 1;
  d.process(frameOf(next, w, h, 1), ref.data(), std::size_t(w) * 4, wire::kMaxCopiesPerBatch, copies);
  EXPECT_TRUE(copies.empty());
  EXPECT_GE(d.stats().copiesRejected, 1u);
}

// Video (every pixel new, nothing scrolled) is looked at less and less often, but a scroll
// that starts is found within kMaxSkip frames and from then on in every frame; a frame where
// the source says little changed is always looked at.
TEST(ScrollDetector, AfterFullChangesWithoutScrollsItLooksLessOftenYetFindsTheNextScroll) {
  const int w = 320, h = 240;
  ScrollDetector d;
  std::vector<base::CopyRect> copies;
  std::vector<std::uint8_t> ref, frame;
  std::uint64_t seq = 0;
  // One frame through the detector, the reference being the last frame as viewers have it.
  auto step = [&](const std::vector<std::uint8_t>& next, const std::vector<base::Rect>* changed = nullptr) {
    copies.clear();
    Frame f = frameOf(next, w, h, seq++);
    f.changed = changed;
    d.process(f, ref.empty() ? nullptr : ref.data(), std::size_t(w) * 4, wire::kMaxCopiesPerBatch, copies);
    ref = next;  // what damage then sends makes the viewers' image the frame
    return copies.size();
  };
  for (int i = 0; i < 60; ++i) EXPECT_EQ(step(noise(w, h, 100 + i)), 0u);
  const std::uint64_t skipped = d.stats().framesSkipped;
  // Looked at 1 frame in 2, then 3, 5, 9, up to kMaxSkip + 2 (one to hash, one to compare).
  EXPECT_GE(skipped, 40u);
  EXPECT_LE(skipped, 50u);
  // A small change the source names is looked at even now (hashed, if nothing to compare
  // with), from the second on: the first, with the full change before it, may be the rest of
  // a picture captured in two parts.
  const std::vector<base::Rect> small{{0, 0, 64, 16}};
  frame = noise(w, h, 200);
  step(frame, &small);
  const std::uint64_t hashed = d.stats().framesHashed;
  step(frame, &small);
  EXPECT_EQ(d.stats().framesHashed, hashed + 1);
  // Now the page scrolls 5 px a frame: found within the longest skip, then every frame.
  int firstFound = -1;
  for (int i = 0; i < ScrollDetector::kMaxSkip + 8; ++i) {
    frame = scrolled(frame, w, 0, 0, w, h, -5, 300 + std::uint32_t(i));
    const std::size_t found = step(frame);
    if (firstFound < 0 && found > 0) firstFound = i;
    if (firstFound >= 0) {
      EXPECT_EQ(found, 1u) << "frame " << i;
    }
  }
  ASSERT_GE(firstFound, 0);
  EXPECT_LE(firstFound, ScrollDetector::kMaxSkip + 1);
}

namespace {

// A detailed background with a detailed window (ww x wh) at (x, y); `cover` (if non-empty) is
// another window of noise on top of it.
std::vector<std::uint8_t> withWindow(const std::vector<std::uint8_t>& background, const std::vector<std::uint8_t>& window,
                                     int w, int x, int y, int ww, int wh, base::Rect cover = {}) {
  std::vector<std::uint8_t> img = background;
  for (int r = 0; r < wh; ++r)
    std::memcpy(&img[(std::size_t(y + r) * w + x) * 4], &window[std::size_t(r) * ww * 4], std::size_t(ww) * 4);
  std::mt19937 rng(99);
  for (int r = cover.y; r < cover.bottom(); ++r)
    for (int k = cover.x * 4; k < cover.right() * 4; ++k) img[std::size_t(r) * w * 4 + std::size_t(k)] = std::uint8_t(rng());
  return img;
}

// Every copy, applied to the reference already, holds the new frame's pixels there.
void expectCopiesExact(const std::vector<base::CopyRect>& copies, const std::vector<std::uint8_t>& ref,
                       const std::vector<std::uint8_t>& next, int w) {
  for (const base::CopyRect& c : copies) EXPECT_TRUE(rowsEqual(ref, next, w, c)) << c.dstX << "," << c.dstY;
}

}  // namespace

// Moved windows (issue 12): a window dragged both ways, or sideways only, is found to the pixel
// (a copy of the whole window, applied to the reference already).
TEST(MoveFinder, FindsAWindowMovedBothWaysToThePixel) {
  const int w = 1280, h = 720, ww = 400, wh = 260, x = 300, y = 200;
  const auto background = noise(w, h, 20), window = noise(ww, wh, 21);
  for (auto [dx, dy] : std::vector<std::pair<int, int>>{{6, 3}, {-6, 3}, {13, -5}, {40, 0}, {-3, -9}, {-1, 0}, {90, 70}}) {
    const auto prev = withWindow(background, window, w, x, y, ww, wh);
    const auto next = withWindow(background, window, w, x + dx, y + dy, ww, wh);
    std::vector<std::uint8_t> ref;
    ScrollDetector d;
    const auto copies = detect(prev, next, w, h, ref, d);
    ASSERT_EQ(copies.size(), 1u) << dx << "," << dy;
    const base::CopyRect& c = copies[0];
    EXPECT_EQ(c, (base::CopyRect{x, y, ww, wh, x + dx, y + dy})) << dx << "," << dy << ": " << c.srcX << "," << c.srcY
                                                                 << " " << c.w << "x" << c.h;
    expectCopiesExact(copies, ref, next, w);
    EXPECT_EQ(d.moveStats().found, 1u);
  }
}

// A big window of fine texture (more anchors than one search may take: they are thinned by
// key, on both sides alike) is still found whole.
TEST(MoveFinder, ABigWindowOfFineTextureIsFoundWithThinnedAnchors) {
  const int w = 2560, h = 1440, ww = 2000, wh = 1100, x = 200, y = 150, dx = 6, dy = 3;
  const auto background = noise(w, h, 30), window = noise(ww, wh, 31);
  const auto prev = withWindow(background, window, w, x, y, ww, wh);
  const auto next = withWindow(background, window, w, x + dx, y + dy, ww, wh);
  std::vector<std::uint8_t> ref;
  ScrollDetector d;
  const auto copies = detect(prev, next, w, h, ref, d);
  ASSERT_EQ(copies.size(), 1u);
  EXPECT_EQ(copies[0], (base::CopyRect{x, y, ww, wh, x + dx, y + dy}));
  expectCopiesExact(copies, ref, next, w);
}

TEST(MoveFinder, AMovedWindowPartlyCoveredGoesAsCopiesOfWhatShows) {
  // Moved by (8, 4), then another window covers its lower right corner: the copies hold only
  // pixels that match, and they cover most of what shows of the window.
  const int w = 1024, h = 640, ww = 400, wh = 260, x = 200, y = 150, dx = 8, dy = 4;
  const auto background = noise(w, h, 22), window = noise(ww, wh, 23);
  const base::Rect cover{x + dx + 250, y + dy + 150, 300, 200};
  const auto prev = withWindow(background, window, w, x, y, ww, wh);
  const auto next = withWindow(background, window, w, x + dx, y + dy, ww, wh, cover);
  std::vector<std::uint8_t> ref;
  ScrollDetector d;
  const auto copies = detect(prev, next, w, h, ref, d);
  ASSERT_FALSE(copies.empty());
  expectCopiesExact(copies, ref, next, w);
  std::int64_t area = 0;
  for (const base::CopyRect& c : copies) {
    EXPECT_EQ(c.dstX - c.srcX, dx);
    EXPECT_EQ(c.dstY - c.srcY, dy);
    area += std::int64_t(c.w) * c.h;
  }
  const std::int64_t showing = std::int64_t(ww) * wh - std::int64_t(ww - 250) * (wh - 150);
  EXPECT_GE(area * 10, showing * 8) << area << " of " << showing << " pixels as copies";
}

TEST(MoveFinder, NoMoveNoneFound) {
  const int w = 1024, h = 640;
  const auto prev = noise(w, h, 24);
  std::vector<std::uint8_t> ref;
  // A part of the screen changes to other content (a video in a window, a new page).
  {
    ScrollDetector d;
    const auto next = withWindow(prev, noise(400, 300, 25), w, 100, 100, 400, 300);
    EXPECT_TRUE(detect(prev, next, w, h, ref, d).empty());
    EXPECT_EQ(d.moveStats().searched, 1u);
    EXPECT_EQ(d.moveStats().found, 0u);
  }
  // Everything changes: not even searched.
  {
    ScrollDetector d;
    EXPECT_TRUE(detect(prev, noise(w, h, 26), w, h, ref, d).empty());
    EXPECT_EQ(d.moveStats().searched, 0u);
  }
  // Nothing changes.
  {
    ScrollDetector d;
    EXPECT_TRUE(detect(prev, prev, w, h, ref, d).empty());
    EXPECT_EQ(d.moveStats().searched, 0u);
  }
}

TEST(MoveFinder, ANearMatchIsRefusedByTheCheck) {
  // The window moved, but one pixel in every 12 rows of it changed as well (every 40 columns):
  // anchors between them match and vote, but no rectangle of a useful size matches in full.
  const int w = 1024, h = 640, ww = 400, wh = 260, x = 200, y = 150, dx = 6, dy = 3;
  const auto background = noise(w, h, 27), window = noise(ww, wh, 28);
  const auto prev = withWindow(background, window, w, x, y, ww, wh);
  auto next = withWindow(background, window, w, x + dx, y + dy, ww, wh);
  for (int r = 5; r < wh; r += 12)
    for (int k = (r * 7) % 40; k < ww; k += 40) next[(std::size_t(y + dy + r) * w + x + dx + k) * 4] ^= 0x40;
  std::vector<std::uint8_t> ref;
  ScrollDetector d;
  const auto copies = detect(prev, next, w, h, ref, d);
  expectCopiesExact(copies, ref, next, w);
  EXPECT_TRUE(copies.empty());
  // A reference that is not what was hashed (a stand-in for a collision): the moved window in
  // the reference differs in one byte; the copies keep clear of it, every pixel still exact.
  ScrollDetector e;
  std::vector<base::CopyRect> more;
  const auto clean = withWindow(background, window, w, x + dx, y + dy, ww, wh);
  e.process(frameOf(prev, w, h), nullptr, std::size_t(w) * 4, wire::kMaxCopiesPerBatch, more);
  ref = prev;
  ref[(std::size_t(y + 100) * w + x + 200) * 4] ^= 1;
  e.process(frameOf(clean, w, h, 1), ref.data(), std::size_t(w) * 4, wire::kMaxCopiesPerBatch, more);
  ASSERT_FALSE(more.empty());
  expectCopiesExact(more, ref, clean, w);
}

TEST(CopyRect, AppliesOverlappingBlocksInBothDirections) {
  const int w = 50, h = 40;
  for (int dy : {-5, 5, -1, 1}) {
    for (int dx : {0, 3, -3}) {
      auto img = noise(w, h, 10);
      const auto before = img;
      base::CopyRect c{10, 10, 30, 20, 10 + dx, 10 + dy};
      Framebuffer fb;
      fb.resize(w, h);
      fb.paint({0, 0, w, h}, before.data(), w * 4);
      fb.copy(c);
      applyCopy(img.data(), std::size_t(w) * 4, c);
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
          const bool inDst = x >= c.dstX && x < c.dstX + c.w && y >= c.dstY && y < c.dstY + c.h;
          const int sx = inDst ? x - c.dstX + c.srcX : x, sy = inDst ? y - c.dstY + c.srcY : y;
          const std::size_t at = (std::size_t(y) * w + x) * 4, from = (std::size_t(sy) * w + sx) * 4;
          ASSERT_EQ(std::memcmp(&img[at], &before[from], 4), 0) << dx << "," << dy << " at " << x << "," << y;
          ASSERT_EQ(std::memcmp(fb.pixels() + at, &before[from], 4), 0);
        }
    }
  }
  // Outside the image: the framebuffer ignores it.
  Framebuffer fb;
  fb.resize(8, 8);
  fb.takeDirty();
  fb.copy({0, 0, 8, 8, 0, 1});
  EXPECT_TRUE(fb.takeDirty().empty());
}

TEST(CopyRect, ExactnessMovesWithThePixels) {
  // A 4x4 grid of 64-pixel tiles; column 1 lossy, the rest exact.
  std::vector<std::uint8_t> exact(16, 1);
  for (int ty = 0; ty < 4; ++ty) exact[std::size_t(ty) * 4 + 1] = 0;
  std::vector<std::uint32_t> touched;
  // Everything moves up a whole tile: rows 0..2 take rows 1..3's states (the same), row 3 untouched.
  moveExactness(exact, {0, 64, 256, 192, 0, 0}, 64, 4, 4, touched);
  EXPECT_EQ(touched.size(), 12u);
  for (int ty = 0; ty < 4; ++ty)
    for (int tx = 0; tx < 4; ++tx) EXPECT_EQ(exact[std::size_t(ty) * 4 + tx], tx == 1 ? 0 : 1);
  // Moved right by 10 pixels: columns 1 and 2 now hold pixels of column 1 (lossy); column 0
  // (partly written, from itself) and column 3 (from columns 2 and 3, as they were) stay exact.
  touched.clear();
  moveExactness(exact, {0, 0, 246, 256, 10, 0}, 64, 4, 4, touched);
  for (int ty = 0; ty < 4; ++ty) {
    EXPECT_EQ(exact[std::size_t(ty) * 4 + 0], 1);
    EXPECT_EQ(exact[std::size_t(ty) * 4 + 1], 0);
    EXPECT_EQ(exact[std::size_t(ty) * 4 + 2], 0);
    EXPECT_EQ(exact[std::size_t(ty) * 4 + 3], 1);
  }
}

namespace {

// Keeps every update of a pipeline, applies them as a viewer does (copies, then tiles).
struct Viewer {
  std::mutex mutex;
  std::vector<EncodedUpdate> updates;
  bool rebuild(int w, int h, Framebuffer& fb, std::string& error) {
    std::lock_guard lock(mutex);
    fb.resize(w, h);
    TileDecoder decoder;
    for (const auto& u : updates)
      if (!applyOne(u, fb, decoder, error)) return false;
    return true;
  }
  // Copies, then patches (each decoded as an image of its size), then tiles.
  static bool applyOne(const EncodedUpdate& u, Framebuffer& fb, TileDecoder& decoder, std::string& error) {
    for (const auto& c : u.copies) fb.copy(c);
    for (const auto& p : u.patches) {
      std::vector<std::uint8_t> px(std::size_t(p.w) * p.h * 4);
      base::EncodedTile alone = p.tile;
      alone.tx = alone.ty = 0;
      if (!decoder.decode(alone, u.tileSizePx, p.w, p.h, px.data(), p.w * 4, error)) return false;
      fb.paint({p.tile.tx * u.tileSizePx + p.x, p.tile.ty * u.tileSizePx + p.y, p.w, p.h}, px.data(), p.w * 4);
    }
    return fb.apply(u.tiles, u.tileSizePx, decoder, error);
  }
};

void shareScrollThenStill(SceneMotion motion, int w, int h) {
  CaptureSettings s;
  s.fps = 60;
  s.stillMs = wire::kMinStillMs;
  Viewer viewer;
  CapturePipeline pipeline(std::make_unique<SyntheticSource>(w, h, motion, SceneCursor::None), s, 2,
                           [&](EncodedUpdate&& u) {
                             std::lock_guard lock(viewer.mutex);
                             viewer.updates.push_back(std::move(u));
                           });
  std::string error;
  ASSERT_TRUE(pipeline.start(error)) << error;
  // Until the scroll is over and every tile is exact again (bounded far above the second or
  // two it takes: the drag at 1280x720 is the heaviest scene, and runs under TSan too).
  for (int waited = 0; waited < 60000; waited += 10) {
    const PipelineStats st = pipeline.stats();
    if (st.framesCaptured > kScrollFrames + 5 && st.lossyTiles == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  pipeline.stop();
  const PipelineStats st = pipeline.stats();
  EXPECT_EQ(st.lossyTiles, 0u);
  EXPECT_GT(st.copies, 0u);
  std::size_t withCopies = 0, withMoves = 0;
  {
    std::lock_guard lock(viewer.mutex);
    for (const auto& u : viewer.updates) {
      withCopies += !u.copies.empty();
      bool sideways = false;
      for (const auto& c : u.copies) sideways = sideways || c.dstX != c.srcX;
      withMoves += sideways;
    }
  }
  EXPECT_GE(withCopies, kScrollFrames / 2);
  // A dragged window goes as moves (sideways and down), not only the vertical scrolls of it
  // that flat parts of it may match as well: 35 of the 60 frames here. Fewer under TSan (28
  // seen in CI, 14 with the machine's other core busy compiling): a frame where the hub's stale
  // tiles are due their refresh (kCopyRefreshMs, a time) carries no copies, and slow frames
  // make more of those. How many go as moves is the benchmark's to tell; here, that they do.
  if (motion == SceneMotion::DragSettle) {
    EXPECT_GE(withMoves, kScrollFrames / 6);
  }
  Framebuffer fb;
  ASSERT_TRUE(viewer.rebuild(w, h, fb, error)) << error;
  std::vector<std::uint8_t> expected;
  SyntheticSource::render(w, h, motion, kScrollFrames - 1, expected);  // where it went still
  std::size_t differing = 0;
  for (std::size_t i = 0; i < expected.size(); i += 4) differing += std::memcmp(fb.pixels() + i, &expected[i], 3) != 0;
  EXPECT_EQ(differing, 0u);
}

}  // namespace

TEST(ScrollPipeline, AScrollGoesAsCopiesAndSharpWhenStillEndsExact) { shareScrollThenStill(SceneMotion::ScrollSettle, 640, 360); }

TEST(ScrollPipeline, ATerminalScrollGoesAsCopiesAndEndsExact) { shareScrollThenStill(SceneMotion::TerminalSettle, 1024, 576); }

TEST(ScrollPipeline, ADraggedWindowGoesAsCopiesAndEndsExact) { shareScrollThenStill(SceneMotion::DragSettle, 1280, 720); }

TEST(ScrollPipeline, TurnedOffNoCopyIsMade) {
  CaptureSettings s;
  s.fps = 60;
  s.copyDetect = false;
  std::mutex m;
  std::size_t updates = 0, copies = 0;
  CapturePipeline pipeline(std::make_unique<SyntheticSource>(320, 240, SceneMotion::Scroll, SceneCursor::None), s, 1,
                           [&](EncodedUpdate&& u) {
                             std::lock_guard lock(m);
                             ++updates;
                             copies += u.copies.size();
                           });
  std::string error;
  ASSERT_TRUE(pipeline.start(error)) << error;
  for (int waited = 0; waited < 5000 && pipeline.stats().framesCaptured < 8; waited += 10)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  pipeline.stop();
  std::lock_guard lock(m);
  EXPECT_GE(updates, 5u);
  EXPECT_EQ(copies, 0u);
}

// Patches (issue 12): a terminal's scroll sends its newly exposed line as patches of the tiles it
// dirties, not whole tiles, and after every update the viewer's terminal is the frame's exactly
// (text goes as exact palette patches), long before the refresh makes the tiles whole again.
TEST(ScrollPipeline, ATerminalsNewLineGoesAsPatchesAndEachFrameIsExact) {
  const int w = kTerminalW, h = kTerminalH;
  CaptureSettings s;
  s.fps = 60;
  Viewer viewer;
  CapturePipeline pipeline(std::make_unique<SyntheticSource>(w, h, SceneMotion::TerminalSettle, SceneCursor::None), s, 2,
                           [&](EncodedUpdate&& u) {
                             std::lock_guard lock(viewer.mutex);
                             viewer.updates.push_back(std::move(u));
                           });
  std::string error;
  ASSERT_TRUE(pipeline.start(error)) << error;
  for (int waited = 0; waited < 10000 && pipeline.stats().framesCaptured < kScrollFrames + 5; waited += 10)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  pipeline.stop();
  EXPECT_GT(pipeline.stats().patches, 0u);
  std::lock_guard lock(viewer.mutex);
  Framebuffer fb;
  fb.resize(w, h);
  TileDecoder decoder;
  std::size_t withPatches = 0, checked = 0;
  std::vector<std::uint8_t> expected;
  for (const auto& u : viewer.updates) {
    ASSERT_TRUE(Viewer::applyOne(u, fb, decoder, error)) << error;
    if (u.patches.empty()) continue;
    ++withPatches;
    EXPECT_FALSE(u.copies.empty()) << "patches only ride a batch with copies";
    for (const auto& p : u.patches) {
      if (!base::isExactKind(p.tile.kind)) continue;
      // The patch's rectangle is the frame's exactly.
      SyntheticSource::render(w, h, SceneMotion::TerminalSettle, u.seq, expected);
      const int x0 = p.tile.tx * u.tileSizePx + p.x, y0 = p.tile.ty * u.tileSizePx + p.y;
      std::size_t differing = 0;
      for (int y = y0; y < y0 + p.h; ++y)
        for (int x = x0; x < x0 + p.w; ++x) {
          const std::size_t i = (std::size_t(y) * w + x) * 4;
          differing += std::memcmp(fb.pixels() + i, &expected[i], 3) != 0;
        }
      EXPECT_EQ(differing, 0u) << "frame " << u.seq << " patch of tile (" << p.tile.tx << "," << p.tile.ty << ")";
      ++checked;
    }
  }
  EXPECT_GT(withPatches, 0u);
  EXPECT_GT(checked, 0u);
}

namespace {

// The benchmark's X terminal, off the tile grid: a dark 720 x 288 box at (400, 300) on a page
// of text, scrolled one 14-px line a frame, its new bottom line two-colour "text".
class OffGridTerminal : public ScreenSource {
 public:
  static constexpr int kW = 1280, kH = 720, kX = 400, kY = 300, kBoxW = 720, kBoxH = 288, kLine = 14;
  bool open(std::string&) override {
    m_px.assign(std::size_t(kW) * kH * 4, 0xFF);
    for (std::size_t i = 0; i < m_px.size(); i += 4) m_px[i] = std::uint8_t((i / 4 * 2654435761u) >> 29 ? 0xFF : 0);
    for (int y = kY; y < kY + kBoxH; ++y)
      for (int x = kX; x < kX + kBoxW; ++x) set(x, y, 0x101418);
    return true;
  }
  CaptureResult capture(Frame& f, std::string&) override {
    if (m_n > 0) {
      for (int y = kY; y < kY + kBoxH - kLine; ++y)
        std::memmove(&m_px[(std::size_t(y) * kW + kX) * 4], &m_px[(std::size_t(y + kLine) * kW + kX) * 4], kBoxW * 4);
      for (int y = kY + kBoxH - kLine; y < kY + kBoxH; ++y)
        for (int x = kX; x < kX + kBoxW; ++x) {
          const bool ink = y > kY + kBoxH - kLine + 2 && y < kY + kBoxH - 2 && x > kX + 5 && x < kX + 500 &&
                           ((std::uint32_t(x / 2 * 7919 + y * 104729) ^ std::uint32_t(m_n * 2654435761u)) * 2246822519u) >>
                                   30 ==
                               0;
          set(x, y, ink ? 0x33DD66 : 0x101418);
        }
    }
    f.widthPx = kW;
    f.heightPx = kH;
    f.strideBytes = kW * 4;
    f.pixels = m_px.data();
    f.seq = m_n++;
    return CaptureResult::Ok;
  }
  std::string title() const override { return "terminal"; }

 private:
  void set(int x, int y, std::uint32_t bgr) { std::memcpy(&m_px[(std::size_t(y) * kW + x) * 4], &bgr, 4); }
  std::vector<std::uint8_t> m_px;
  std::uint64_t m_n = 0;
};

}  // namespace

// Off the grid (the benchmark's terminal, on a still page): the scroll still goes as a copy
// (the still page beside it matches the scroll's offset too, and must not hide it), and the new
// line as patches of the two rows of tiles it touches.
TEST(ScrollPipeline, AnOffGridTerminalsScrollGoesAsACopyAndPatches) {
  CaptureSettings s;
  s.fps = 60;
  std::mutex m;
  std::size_t updates = 0, copies = 0, patches = 0, tiles = 0, bytes = 0;
  CapturePipeline pipeline(std::make_unique<OffGridTerminal>(), s, 2, [&](EncodedUpdate&& u) {
    std::lock_guard lock(m);
    if (u.seq < 3) return;
    ++updates;
    copies += u.copies.size();
    patches += u.patches.size();
    tiles += u.tiles.size();
    for (const auto& p : u.patches) bytes += 13 + p.tile.jpeg.size;
    for (const auto& t : u.tiles) bytes += 9 + t.jpeg.size;
  });
  std::string error;
  ASSERT_TRUE(pipeline.start(error)) << error;
  for (int waited = 0; waited < 5000 && pipeline.stats().framesCaptured < 30; waited += 10)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  pipeline.stop();
  std::lock_guard lock(m);
  EXPECT_GE(copies, updates / 2);
  EXPECT_GT(patches, 0u);
  EXPECT_LT(tiles, patches) << "the new line goes as patches, not whole tiles";
  EXPECT_LT(bytes, updates * 4000) << bytes / std::max<std::size_t>(updates, 1) << " bytes an update";
}

// Video whose pictures are each captured in two parts (the drawing paused part way: the top
// 40%, then the rest): each part alone is less than most of the screen, but with the part
// before it is the full change it is, so the detector still backs off.
TEST(ScrollDetector, APictureCapturedInTwoPartsIsStillAFullChange) {
  const int w = 320, h = 240, split = 96;
  ScrollDetector d;
  std::vector<base::CopyRect> copies;
  std::vector<std::uint8_t> ref;
  const std::vector<base::Rect> top{{0, 0, w, split}}, bottom{{0, split, w, h - split}};
  for (int i = 0; i < 60; ++i) {
    const std::vector<std::uint8_t> next = noise(w, h, 500 + std::uint32_t(i));
    Frame f = frameOf(next, w, h, std::uint64_t(i));
    if (i > 0) f.changed = i % 2 ? &top : &bottom;
    copies.clear();
    d.process(f, ref.empty() ? nullptr : ref.data(), std::size_t(w) * 4, wire::kMaxCopiesPerBatch, copies);
    EXPECT_TRUE(copies.empty());
    ref = next;
  }
  // Looked at 1 frame in 2, then 3, 5, 9, up to kMaxSkip + 2, as with whole pictures.
  EXPECT_GE(d.stats().framesSkipped, 40u) << d.stats().framesHashed << " hashed";
}

// The same damage frame after frame counts once: a pane of 37.5% of the screen that scrolls
// after a video has stopped is not "most of the screen" (twice 37.5% would be), so the back-off
// ends and the scroll goes as copies within a few frames.
// (Also a pane of 73% at an uneven place: counted in whole cells it would be over 75%.)
class ScrollingPane : public ::testing::TestWithParam<std::pair<int, int>> {};

TEST_P(ScrollingPane, AfterAVideoEndsTheBackOff) {
  const int w = 960, h = 320, px = GetParam().first, pw = GetParam().second;
  ScrollDetector d;
  std::vector<base::CopyRect> copies;
  std::vector<std::uint8_t> ref;
  const std::vector<base::Rect> pane{{px, 0, pw, h}};
  auto step = [&](const std::vector<std::uint8_t>& next, const std::vector<base::Rect>* changed, std::uint64_t seq) {
    Frame f = frameOf(next, w, h, seq);
    f.changed = changed;
    copies.clear();
    d.process(f, ref.empty() ? nullptr : ref.data(), std::size_t(w) * 4, wire::kMaxCopiesPerBatch, copies);
    ref = next;
    return copies.size();
  };
  std::uint64_t seq = 0;
  std::vector<std::uint8_t> frame;
  for (int i = 0; i < 30; ++i) step(frame = noise(w, h, 700 + std::uint32_t(i)), nullptr, seq++);
  ASSERT_GT(d.stats().framesSkipped, 0u) << "the video did not start a back-off";
  int firstFound = -1;
  for (int i = 0; i < 40 && firstFound < 0; ++i) {
    frame = scrolled(frame, w, px, 0, pw, h, -6, 800 + std::uint32_t(i));
    if (step(frame, &pane, seq++) > 0) firstFound = i;
  }
  ASSERT_GE(firstFound, 0) << "the pane's scroll was never found";
  EXPECT_LE(firstFound, 4);
}

INSTANTIATE_TEST_SUITE_P(ScrollDetector, ScrollingPane, ::testing::Values(std::pair{460, 360}, std::pair{16, 700}));
