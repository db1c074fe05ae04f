// Unit tests for huddle_capture: the test scene, damage, the JPEG tile codec (round trips
// with PSNR, hostile tiles), the encoder pool and the pipeline (also when their threads
// throw), scaling and PNG snapshots.
#include <gtest/gtest.h>

#include <stb_image.h>
#include <turbojpeg.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "capture/capture_pipeline.h"
#include "capture/change_schedule.h"
#include "capture/damage.h"
#include "capture/encoder_pool.h"
#include "capture/framebuffer.h"
#include "capture/scaler.h"
#include "capture/scroll_detector.h"
#include "capture/synthetic_source.h"
#include "capture/tile_codec.h"

using namespace huddle;
using namespace huddle::capture;

namespace {

Frame frameOf(const std::vector<std::uint8_t>& pixels, int w, int h, std::uint64_t seq = 0) {
  Frame f;
  f.widthPx = w;
  f.heightPx = h;
  f.strideBytes = w * 4;
  f.pixels = pixels.data();
  f.seq = seq;
  return f;
}

// PSNR over the R, G and B channels of two BGRX images of the same size.
double psnr(const std::uint8_t* a, const std::uint8_t* b, int w, int h) {
  double se = 0;
  for (std::size_t i = 0; i < std::size_t(w) * h * 4; ++i) {
    if (i % 4 == 3) continue;
    double d = double(a[i]) - double(b[i]);
    se += d * d;
  }
  double mse = se / (double(w) * h * 3);
  return mse == 0 ? 99.0 : 10.0 * std::log10(255.0 * 255.0 / mse);
}

// Encodes every tile of `pixels` and decodes them into a framebuffer.
Framebuffer roundTrip(const std::vector<std::uint8_t>& pixels, int w, int h, const CaptureSettings& s) {
  Frame f = frameOf(pixels, w, h);
  DamageTracker damage(s.tileSizePx);
  const auto& dirty = damage.update(f);
  EncoderPool pool(1);
  std::vector<base::EncodedTile> tiles;
  std::string error;
  EXPECT_TRUE(pool.encode(f, dirty, damage.tilesX(), s, tiles, error)) << error;
  Framebuffer fb;
  fb.resize(w, h);
  TileDecoder decoder;
  EXPECT_TRUE(fb.apply(tiles, s.tileSizePx, decoder, error)) << error;
  return fb;
}

}  // namespace

TEST(SyntheticScene, IsDeterministic) {
  std::vector<std::uint8_t> a, b;
  SyntheticSource::render(640, 360, SceneMotion::Full, 17, a);
  SyntheticSource::render(640, 360, SceneMotion::Full, 17, b);
  EXPECT_EQ(a, b);
  SyntheticSource src(640, 360, SceneMotion::Partial);
  std::string error;
  ASSERT_TRUE(src.open(error));
  Frame f;
  for (int i = 0; i <= 5; ++i) ASSERT_EQ(src.capture(f, error), CaptureResult::Ok);
  SyntheticSource::render(640, 360, SceneMotion::Partial, 5, a);
  EXPECT_EQ(0, std::memcmp(f.pixels, a.data(), a.size()));  // incremental == from scratch
}

TEST(SyntheticScene, ShowsItsKnownColours) {
  std::vector<std::uint8_t> px;
  SyntheticSource::render(1280, 720, SceneMotion::Partial, 3, px);
  auto count = [&](std::uint32_t c) {
    int n = 0;
    for (std::size_t i = 0; i < px.size(); i += 4) {
      std::uint32_t v = px[i] | px[i + 1] << 8 | px[i + 2] << 16 | 0xFF000000u;
      n += v == c;
    }
    return n;
  };
  EXPECT_GT(count(kSceneTitleBar), 1000);
  EXPECT_GT(count(kSceneWindow), 10000);
  EXPECT_GT(count(kSceneAccent), 100);
}

TEST(Damage, MotionModesChangeTheExpectedShare) {
  for (auto [motion, lo, hi] : {std::tuple{SceneMotion::Full, 0.95, 1.0}, std::tuple{SceneMotion::Partial, 0.05, 0.20},
                                std::tuple{SceneMotion::Static, 0.0, 0.0}}) {
    SyntheticSource src(1920, 1080, motion);
    std::string error;
    ASSERT_TRUE(src.open(error));
    DamageTracker damage(64);
    Frame f;
    src.capture(f, error);
    std::size_t seeded = damage.update(f).size();
    EXPECT_EQ(seeded, std::size_t(damage.tilesX()) * damage.tilesY());  // seeded: all dirty
    for (int i = 0; i < 5; ++i) {
      src.capture(f, error);
      double share = double(damage.update(f).size()) / (damage.tilesX() * damage.tilesY());
      EXPECT_GE(share, lo) << static_cast<int>(motion);
      EXPECT_LE(share, hi) << static_cast<int>(motion);
    }
  }
}

TEST(Damage, FindsExactlyTheChangedTilesIncludingCroppedEdges) {
  const int w = 130, h = 70;  // 3x2 tiles of 64, the last column and row cropped
  std::vector<std::uint8_t> px(std::size_t(w) * h * 4, 0);
  DamageTracker damage(64);
  damage.update(frameOf(px, w, h));
  EXPECT_TRUE(damage.update(frameOf(px, w, h)).empty());
  px[(std::size_t(69) * w + 129) * 4] = 1;  // bottom-right pixel: tile (2,1)
  px[(std::size_t(0) * w + 64) * 4 + 2] = 9;  // tile (1,0)
  auto dirty = damage.update(frameOf(px, w, h));
  EXPECT_EQ(dirty, (std::vector<std::uint32_t>{1, 5}));
  EXPECT_TRUE(damage.update(frameOf(px, w, h)).empty());
  damage.reset();
  EXPECT_EQ(damage.update(frameOf(px, w, h)).size(), 6u);
}

// Each dirty tile's changed pixels, bounded to the pixel (what a patch is cut from).
TEST(Damage, ReportsTheChangedRectangleOfEachDirtyTile) {
  const int w = 130, h = 70;
  std::vector<std::uint8_t> px(std::size_t(w) * h * 4, 0);
  DamageTracker damage(64);
  damage.update(frameOf(px, w, h));
  EXPECT_EQ(damage.changedRects().size(), 6u);  // the first frame: whole tiles
  EXPECT_EQ(damage.changedRects()[5].w, 2);
  EXPECT_EQ(damage.changedRects()[5].h, 6);
  damage.update(frameOf(px, w, h));
  px[(std::size_t(10) * w + 20) * 4] = 1;  // tile (0,0): (20,10) and (40,30)
  px[(std::size_t(30) * w + 40) * 4 + 1] = 1;
  px[(std::size_t(69) * w + 129) * 4] = 1;  // tile (2,1): its one bottom-right pixel
  for (int x = 64; x < 128; ++x) px[(std::size_t(63) * w + x) * 4 + 2] = 5;  // tile (1,0): its last row
  auto dirty = damage.update(frameOf(px, w, h));
  ASSERT_EQ(dirty, (std::vector<std::uint32_t>{0, 1, 5}));
  const auto& r = damage.changedRects();
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(std::tie(r[0].x, r[0].y, r[0].w, r[0].h), std::make_tuple(20, 10, 21, 21));
  EXPECT_EQ(std::tie(r[1].x, r[1].y, r[1].w, r[1].h), std::make_tuple(64, 63, 64, 1));
  EXPECT_EQ(std::tie(r[2].x, r[2].y, r[2].w, r[2].h), std::make_tuple(129, 69, 1, 1));
  EXPECT_TRUE(damage.update(frameOf(px, w, h)).empty());
  EXPECT_TRUE(damage.changedRects().empty());
}

// On random changes (one to a few pixels, or short runs, anywhere in a tile, several a tile)
// the changed rectangle is the exact bounding box of what changed, as a look at every pixel
// finds it; without the bounds asked for, it is the tile from its first changed row down.
TEST(Damage, TheChangedRectangleIsTheExactBoundsOfTheChangedPixels) {
  const int w = 200, h = 100, tile = 64;  // tiles of 64 and cropped ones of 8 px and 36 rows
  std::vector<std::uint8_t> px(std::size_t(w) * h * 4);
  for (std::size_t i = 0; i < px.size(); ++i) px[i] = std::uint8_t(i * 7 / 13);
  DamageTracker damage(tile), coarse(tile);
  damage.update(frameOf(px, w, h));
  coarse.update(frameOf(px, w, h), false);
  std::uint32_t seed = 12345;
  auto next = [&](int n) {
    seed = seed * 1103515245u + 12345u;
    return int((seed >> 8) % std::uint32_t(n));
  };
  for (int round = 0; round < 200; ++round) {
    const std::vector<std::uint8_t> before = px;
    const int changes = 1 + next(4);
    for (int k = 0; k < changes; ++k) {
      const int x = next(w), y = next(h), run = 1 + next(12);
      for (int i = x; i < std::min(w, x + run); ++i) px[(std::size_t(y) * w + i) * 4 + std::size_t(next(3))] ^= 0x40;
    }
    const std::vector<std::uint32_t> dirty = damage.update(frameOf(px, w, h));
    const std::vector<std::uint32_t> coarseDirty = coarse.update(frameOf(px, w, h), false);
    ASSERT_EQ(coarseDirty, dirty) << "round " << round;
    // Brute force: each tile's bounds of differing pixels.
    std::map<std::uint32_t, base::Rect> expected;
    const int tilesX = (w + tile - 1) / tile;
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        const std::size_t at = (std::size_t(y) * w + x) * 4;
        if (std::memcmp(&px[at], &before[at], 4) == 0) continue;
        const auto index = std::uint32_t((y / tile) * tilesX + x / tile);
        auto [it, fresh] = expected.try_emplace(index, base::Rect{x, y, 1, 1});
        if (!fresh) {
          base::Rect& r = it->second;
          const int right = std::max(r.right(), x + 1), bottom = std::max(r.bottom(), y + 1);
          r.x = std::min(r.x, x);
          r.y = std::min(r.y, y);
          r.w = right - r.x;
          r.h = bottom - r.y;
        }
      }
    ASSERT_EQ(dirty.size(), expected.size()) << "round " << round;
    for (std::size_t i = 0; i < dirty.size(); ++i) {
      const base::Rect& got = damage.changedRects()[i];
      const base::Rect& want = expected.at(dirty[i]);
      EXPECT_EQ(std::tie(got.x, got.y, got.w, got.h), std::tie(want.x, want.y, want.w, want.h))
          << "round " << round << ", tile " << dirty[i];
      const base::Rect& rough = coarse.changedRects()[i];
      const int x0 = int(dirty[i] % std::uint32_t(tilesX)) * tile, y1 = std::min(h, (int(dirty[i]) / tilesX + 1) * tile);
      EXPECT_EQ(std::make_tuple(rough.x, rough.y, rough.w, rough.bottom()),
                std::make_tuple(x0, want.y, std::min(tile, w - x0), y1))
          << "round " << round << ", tile " << dirty[i];
    }
  }
}

TEST(Damage, TheSourcesHintNarrowsTheComparison) {
  const int w = 256, h = 128;  // 4x2 tiles
  std::vector<std::uint8_t> px(std::size_t(w) * h * 4, 0);
  DamageTracker damage(64);
  damage.update(frameOf(px, w, h));
  const auto comparedBefore = damage.stats().tilesCompared;
  // Nothing changed, and the source says so: no tile is even compared.
  std::vector<base::Rect> hint;
  Frame f = frameOf(px, w, h);
  f.changed = &hint;
  EXPECT_TRUE(damage.update(f).empty());
  EXPECT_EQ(damage.stats().tilesCompared, comparedBefore);
  // A change in tile (1,0) and one in tile (3,1); the hint covers only the first, with a
  // rectangle spilling over into tile (2,0), which is compared but found equal.
  px[(std::size_t(10) * w + 70) * 4] = 5;
  px[(std::size_t(100) * w + 200) * 4] = 5;
  hint = {{66, 5, 70, 10}};
  f = frameOf(px, w, h);
  f.changed = &hint;
  EXPECT_EQ(damage.update(f), (std::vector<std::uint32_t>{1}));
  EXPECT_EQ(damage.stats().tilesCompared, comparedBefore + 2);
  // Without a hint everything is compared, and the unhinted change is found after all.
  EXPECT_EQ(damage.update(frameOf(px, w, h)), (std::vector<std::uint32_t>{7}));
}

TEST(Damage, HintedAndUnhintedTrackingAgreeOnTheTestScene) {
  for (SceneMotion motion : {SceneMotion::Full, SceneMotion::Partial, SceneMotion::Static}) {
    SyntheticSource src(700, 300, motion);
    std::string error;
    ASSERT_TRUE(src.open(error));
    DamageTracker withHint(64), without(64);
    for (int i = 0; i < 6; ++i) {
      Frame f;
      src.capture(f, error);
      ASSERT_NE(f.changed, nullptr);
      Frame bare = f;
      bare.changed = nullptr;
      EXPECT_EQ(withHint.update(f), without.update(bare)) << static_cast<int>(motion) << " frame " << i;
    }
  }
}

// A source that double-buffers as X11Source does with XShm (ScreenSource::keep): two buffers
// in turn, never filling the one its caller keeps.
struct TwoBuffers {
  int w, h;
  std::vector<std::uint8_t> buffers[2];
  int current = 1;
  TwoBuffers(int width, int height) : w(width), h(height) {
    for (auto& b : buffers) b.assign(std::size_t(w) * h * 4, 0);
  }
  Frame capture(const std::vector<std::uint8_t>& screen, const std::vector<base::Rect>* hint, const std::uint8_t* kept) {
    int into = current ^ 1;
    for (int i = 0; i < 2; ++i)
      if (kept == buffers[i].data()) into = i ^ 1;
    current = into;
    buffers[into] = screen;
    Frame f = frameOf(buffers[into], w, h);
    f.keepable = buffers[into].data();
    f.changed = hint;
    return f;
  }
};

// What the capture thread does with a frame before encoding: scrolls found and applied to
// the reference, the tiles they wrote whole taken as equal, then damage.
struct Tracking {
  DamageTracker damage{64};
  ScrollDetector scroll;
  std::vector<base::CopyRect> copies;
  std::vector<std::uint32_t> update(const Frame& f) {
    copies.clear();
    scroll.process(f, damage.reference(f.widthPx, f.heightPx), damage.referenceStrideBytes(), 4, copies);
    const int t = damage.tileSizePx();
    for (const base::CopyRect& c : copies)
      for (int ty = c.dstY / t; ty * t < c.dstY + c.h; ++ty)
        for (int tx = c.dstX / t; tx * t < c.dstX + c.w; ++tx)
          if (tx * t >= c.dstX && ty * t >= c.dstY && std::min((tx + 1) * t, f.widthPx) <= c.dstX + c.w &&
              std::min((ty + 1) * t, f.heightPx) <= c.dstY + c.h)
            damage.knownEqual(static_cast<std::uint32_t>(ty * damage.tilesX() + tx));
    return damage.update(f);
  }
  std::vector<std::uint8_t> reference(int w, int h) {
    std::vector<std::uint8_t> image(std::size_t(w) * h * 4);
    const std::uint8_t* ref = damage.reference(w, h);
    for (int y = 0; ref && y < h; ++y)
      std::memcpy(&image[std::size_t(y) * w * 4], ref + std::size_t(y) * damage.referenceStrideBytes(), std::size_t(w) * 4);
    return image;
  }
};

TEST(Damage, AKeptFrameAsTheReferenceFindsWhatTheCopyFindsAndAFullChangeCopiesNothing) {
  const int w = 320, h = 256;  // 5x4 tiles
  std::vector<std::uint8_t> screen(std::size_t(w) * h * 4);
  std::uint32_t content = 0;  // rows of distinct content, so scrolls are found
  auto paintRow = [&](int y) {
    ++content;
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c) screen[(std::size_t(y) * w + x) * 4 + c] = std::uint8_t((content * 131 + x * (c + 3)) >> c);
  };
  for (int y = 0; y < h; ++y) paintRow(y);
  TwoBuffers source(w, h);
  Tracking kept, copied;
  const std::vector<base::Rect> whole = {{0, 0, w, h}}, none;
  std::vector<base::Rect> hint;
  auto step = [&](const std::vector<base::Rect>* frameHint, const char* what) {
    SCOPED_TRACE(what);
    const Frame k = source.capture(screen, frameHint, kept.damage.kept());
    Frame c = frameOf(screen, w, h);
    c.changed = frameHint;
    const auto dirtyKept = kept.update(k), dirtyCopied = copied.update(c);
    EXPECT_EQ(dirtyKept, dirtyCopied);
    EXPECT_EQ(kept.copies.size(), copied.copies.size());
    // Both references are the image the viewers have after this frame.
    EXPECT_TRUE(kept.reference(w, h) == copied.reference(w, h));
    return dirtyKept;
  };
  step(nullptr, "first frame");
  EXPECT_NE(kept.damage.kept(), nullptr);
  // A full change: the new frame becomes the reference, without a byte copied.
  for (int i = 0; i < 3; ++i) {
    for (int y = 0; y < h; ++y) paintRow(y);
    const auto copiedBefore = kept.damage.stats().tilesCopied;
    EXPECT_EQ(step(&whole, "full change").size(), 20u);
    EXPECT_EQ(kept.damage.stats().tilesCopied, copiedBefore);
    EXPECT_EQ(kept.damage.kept(), source.buffers[source.current].data());
  }
  EXPECT_EQ(copied.damage.stats().framesKept, 0u);
  // A scroll of 7 rows with new rows below: found as a copy against either reference.
  std::memmove(screen.data(), screen.data() + std::size_t(7) * w * 4, std::size_t(h - 7) * w * 4);
  for (int y = h - 7; y < h; ++y) paintRow(y);
  step(&whole, "scroll");
  EXPECT_EQ(kept.copies.size(), 1u);
  // One small change: it is copied into the kept reference (cheaper than the rest).
  screen[(std::size_t(70) * w + 70) * 4] ^= 0xFF;
  hint = {{70, 70, 1, 1}};
  EXPECT_EQ(step(&hint, "one pixel"), (std::vector<std::uint32_t>{6}));
  // Drawn between the damage query and the fetch: in this frame's pixels, not its hint...
  screen[(std::size_t(200) * w + 300) * 4 + 1] ^= 0x55;
  EXPECT_TRUE(step(&none, "unhinted").empty());
  // ...then another full-ish change elsewhere makes the frame the reference, and the next
  // frame's hint names the pixel: it is still found, as the viewers do not have it.
  for (int y = 0; y < 128; ++y) paintRow(y);
  hint = {{0, 0, w, 128}};
  EXPECT_EQ(step(&hint, "top half").size(), 10u);
  hint = {{300, 200, 1, 1}};
  EXPECT_EQ(step(&hint, "the late hint"), (std::vector<std::uint32_t>{19}));
  EXPECT_TRUE(step(&none, "still").empty());
  EXPECT_GT(kept.damage.stats().framesKept, 4u);
}

TEST(Scaler, RescalingOnlyTheHintedAreaGivesTheSameImage) {
  for (int percent : {75, 50}) {
    std::vector<std::uint8_t> a, b;
    SyntheticSource::render(301, 163, SceneMotion::Full, 1, a);
    b = a;
    // Change a block, and say where.
    for (int y = 40; y < 77; ++y)
      for (int x = 101; x < 150; ++x) b[(std::size_t(y) * 301 + x) * 4 + 1] = static_cast<std::uint8_t>(x * y);
    std::vector<base::Rect> hint = {{101, 40, 49, 37}};
    Scaler incremental, fresh;
    Frame fa = frameOf(a, 301, 163);
    fa.changed = &hint;  // first frame: scaled whole, whatever the hint
    Frame first = incremental.scale(fa, percent);
    EXPECT_EQ(first.changed, nullptr);
    Frame fb = frameOf(b, 301, 163);
    fb.changed = &hint;
    Frame inc = incremental.scale(fb, percent);
    ASSERT_NE(inc.changed, nullptr);
    ASSERT_EQ(inc.changed->size(), 1u);
    Frame ref = fresh.scale(frameOf(b, 301, 163), percent);
    ASSERT_EQ(inc.widthPx, ref.widthPx);
    ASSERT_EQ(inc.heightPx, ref.heightPx);
    EXPECT_EQ(std::memcmp(inc.pixels, ref.pixels, std::size_t(ref.strideBytes) * ref.heightPx), 0) << percent;
    // The scaled hint covers the scaled change.
    const base::Rect r = (*inc.changed)[0];
    EXPECT_LE(r.x, 101 * percent / 100);
    EXPECT_GE(r.right(), 150 * percent / 100);
  }
}

TEST(TileCodec, RoundTripPsnrAtQuality90ForOddSizes) {
  // 4:4:4 everywhere. 4:2:0 halves colour resolution, which on slivers like 4099x17 (every
  // row near a coloured edge) costs more than 35 dB allows; it is checked on screen sizes.
  CaptureSettings s;
  s.quality = 90;
  s.subsampling = Subsampling::S444;
  for (auto [w, h] : {std::pair{1366, 768}, std::pair{1, 1}, std::pair{4099, 17}, std::pair{333, 111}}) {
    std::vector<std::uint8_t> px;
    SyntheticSource::render(w, h, SceneMotion::Full, 4, px);
    Framebuffer fb = roundTrip(px, w, h, s);
    double p = psnr(px.data(), fb.pixels(), w, h);
    EXPECT_GE(p, 35.0) << w << "x" << h;
    std::printf("[figure] PSNR %dx%d Q90 4:4:4: %.1f dB\n", w, h, p);
  }
  s.subsampling = Subsampling::S420;
  for (auto [w, h] : {std::pair{1366, 768}, std::pair{1920, 1080}}) {
    std::vector<std::uint8_t> px;
    SyntheticSource::render(w, h, SceneMotion::Full, 4, px);
    Framebuffer fb = roundTrip(px, w, h, s);
    double p = psnr(px.data(), fb.pixels(), w, h);
    EXPECT_GE(p, 35.0) << w << "x" << h << " 4:2:0";
    std::printf("[figure] PSNR %dx%d Q90 4:2:0: %.1f dB\n", w, h, p);
  }
}

TEST(TileCodec, UniformTilesAreSentAsAColour) {
  std::vector<std::uint8_t> px(64 * 64 * 4);
  for (std::size_t i = 0; i < px.size(); i += 4) px[i] = 10, px[i + 1] = 20, px[i + 2] = 30, px[i + 3] = 0;
  TileEncoder enc;
  base::EncodedTile t;
  std::string error;
  ASSERT_TRUE(enc.encode(frameOf(px, 64, 64), 0, 0, 64, CaptureSettings{}, t, error));
  EXPECT_EQ(t.kind, base::TileKind::Solid);
  EXPECT_EQ(t.solidBgrx, 0x1E140Au);
  std::vector<std::uint8_t> out(64 * 64 * 4, 0);
  TileDecoder dec;
  ASSERT_TRUE(dec.decode(t, 64, 64, 64, out.data(), 64 * 4, error));
  EXPECT_EQ(out[0], 10);
  EXPECT_EQ(out[2], 30);
}

// A changed tile of few colours (text, flat UI) goes exact at once as a palette tile, smaller
// than its JPEG; one more colour than the limit, or sharp when still off, and it is JPEG.
TEST(TileCodec, FewColourTilesGoExactAsPalettesAndOthersAsJpeg) {
  // `colours` colours scattered like glyphs over a 64x64 tile (each one used at least once).
  auto tileOf = [](std::uint32_t colours) {
    std::vector<std::uint8_t> px(64 * 64 * 4);
    std::uint32_t x = 12345;
    for (std::size_t i = 0; i < 64 * 64; ++i) {
      x = x * 1103515245u + 12345u;
      const std::uint32_t c = i < colours ? std::uint32_t(i) : (x >> 16) % 3 ? 0 : (x >> 8) % colours;
      const std::uint32_t ink = c * 220 / (colours - 1);  // dark glyphs on a light page, as text is
      px[i * 4] = static_cast<std::uint8_t>(250 - ink), px[i * 4 + 1] = static_cast<std::uint8_t>(245 - ink),
      px[i * 4 + 2] = static_cast<std::uint8_t>(240 - ink * 3 / 4);
    }
    return px;
  };
  TileEncoder enc;
  TileDecoder dec;
  std::string error;
  for (std::uint32_t colours : {2u, 32u}) {
    const auto px = tileOf(colours);
    base::EncodedTile exact, jpeg;
    ASSERT_TRUE(enc.encode(frameOf(px, 64, 64), 0, 0, 64, CaptureSettings{}, exact, error)) << error;
    EXPECT_EQ(exact.kind, base::TileKind::Palette) << colours << " colours";
    std::vector<std::uint8_t> out(64 * 64 * 4, 0);
    ASSERT_TRUE(dec.decode(exact, 64, 64, 64, out.data(), 64 * 4, error)) << error;
    for (std::size_t i = 0; i < 64 * 64; ++i) ASSERT_EQ(std::memcmp(&out[i * 4], &px[i * 4], 3), 0) << "pixel " << i;
    CaptureSettings jpegOnly;
    jpegOnly.exactFewColours = false;
    ASSERT_TRUE(enc.encode(frameOf(px, 64, 64), 0, 0, 64, jpegOnly, jpeg, error)) << error;
    EXPECT_EQ(jpeg.kind, base::TileKind::JpegScan);
    EXPECT_LT(exact.jpeg.size, jpeg.jpeg.size) << colours << " colours: the palette tile is the smaller";
    std::printf("[figure] a %u-colour 64x64 tile: palette %zu B, JPEG 80 %zu B\n", colours,
                static_cast<std::size_t>(exact.jpeg.size), static_cast<std::size_t>(jpeg.jpeg.size));
  }
  base::EncodedTile t;
  ASSERT_TRUE(enc.encode(frameOf(tileOf(33), 64, 64), 0, 0, 64, CaptureSettings{}, t, error)) << error;
  EXPECT_EQ(t.kind, base::TileKind::JpegScan) << "33 colours";
  CaptureSettings sharpOff;
  sharpOff.sharpWhenStill = false;
  ASSERT_TRUE(enc.encode(frameOf(tileOf(2), 64, 64), 0, 0, 64, sharpOff, t, error)) << error;
  EXPECT_EQ(t.kind, base::TileKind::JpegScan) << "sharp when still off: JPEG alone";
}

TEST(TileCodec, TilesTravelAsScansAndDecodeToTheSamePixelsAsWholeJpegs) {
  std::vector<std::uint8_t> px;
  SyntheticSource::render(200, 100, SceneMotion::Full, 3, px);
  TileEncoder enc;
  TileDecoder dec;
  std::string error;
  for (bool s444 : {false, true}) {
    CaptureSettings settings;
    settings.exactFewColours = false;  // the scene's few-colour tiles would go as palettes
    settings.quality = s444 ? 93 : 61;
    settings.subsampling = s444 ? Subsampling::S444 : Subsampling::S420;
    // The edge tile (136..199 x 64..99) is cropped: its rebuilt header carries its true size.
    base::EncodedTile scan;
    ASSERT_TRUE(enc.encode(frameOf(px, 200, 100), 2, 1, 64, settings, scan, error)) << error;
    ASSERT_EQ(scan.kind, base::TileKind::JpegScan);
    EXPECT_EQ(scan.jpegQuality, settings.quality);
    EXPECT_EQ(scan.jpeg444, s444);
    // The same tile as a whole JPEG from TurboJPEG itself.
    tjhandle h = tjInitCompress();
    unsigned char* whole = nullptr;
    unsigned long wholeSize = 0;
    ASSERT_EQ(tjCompress2(h, px.data() + (64 * 200 + 128) * 4, 64, 200 * 4, 36, TJPF_BGRX, &whole, &wholeSize,
                          s444 ? TJSAMP_444 : TJSAMP_420, settings.quality, TJFLAG_FASTDCT), 0);
    base::EncodedTile full;
    full.tx = 2;
    full.ty = 1;
    full.kind = base::TileKind::Jpeg;
    full.jpeg = base::ByteSlice::whole(base::makeBytes(base::ByteVec(whole, whole + wholeSize)));
    // Headers are most of a small tile: the scan is several hundred bytes smaller.
    EXPECT_LE(scan.jpeg.size + 500, full.jpeg.size);
    tjFree(whole);
    tjDestroy(h);
    std::vector<std::uint8_t> a(200 * 100 * 4, 0), b(200 * 100 * 4, 0);
    ASSERT_TRUE(dec.decode(scan, 64, 200, 100, a.data(), 800, error)) << error;
    ASSERT_TRUE(dec.decode(full, 64, 200, 100, b.data(), 800, error)) << error;
    EXPECT_EQ(a, b);
  }
}

// A tile with too many colours for a palette is not tried as one again for the next
// kPaletteSkipFrames runs that have it (video: the try found nothing, every tile, every frame),
// then it is; a tile of few colours keeps being tried; one colour is always Solid.
TEST(TileCodec, ATileOfManyColoursIsNotTriedAsAPaletteForAWhile) {
  const int w = 192, h = 64;  // 3 tiles: video, text-like, flat
  std::vector<std::uint8_t> video, text;
  SyntheticSource::render(w, h, SceneMotion::Full, 5, video);
  text.assign(std::size_t(w) * h * 4, 0);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const bool ink = (x / 3 + y / 5) % 4 == 0;
      std::memcpy(&text[(std::size_t(y) * w + x) * 4], ink ? "\x10\x10\x10\xff" : "\xf0\xf0\xf0\xff", 4);
    }
  // The video tile turns into text after the first frame; the second tile is text throughout.
  auto frameAt = [&](int n) {
    std::vector<std::uint8_t> px = text;
    if (n == 0)
      for (int y = 0; y < h; ++y) std::memcpy(&px[std::size_t(y) * w * 4], &video[std::size_t(y) * w * 4], 64 * 4);
    for (int y = 0; y < h; ++y)
      for (int x = 128; x < 192; ++x) std::memcpy(&px[(std::size_t(y) * w + x) * 4], "\x20\x40\x60\xff", 4);
    return px;
  };
  CaptureSettings settings;
  const std::vector<std::uint32_t> indices = {0, 1, 2};
  std::vector<std::uint8_t> skip(3, 0);
  TileEncoder enc;
  std::string error;
  for (int n = 0; n <= TileEncoder::kPaletteSkipFrames + 1; ++n) {
    const std::vector<std::uint8_t> px = frameAt(n);
    std::vector<base::EncodedTile> run(3);
    ASSERT_TRUE(enc.encodeRun(frameOf(px, w, h), indices, 3, 64, settings, run, error, skip.data())) << error;
    const bool skipped = n >= 1 && n <= TileEncoder::kPaletteSkipFrames;
    EXPECT_EQ(run[0].kind, n == 0 || skipped ? base::TileKind::JpegScan : base::TileKind::Palette) << "frame " << n;
    EXPECT_EQ(run[1].kind, base::TileKind::Palette) << "frame " << n;
    EXPECT_EQ(run[2].kind, base::TileKind::Solid) << "frame " << n;
  }
  // Without the hint (encode(), a run without one): tried every time.
  std::vector<base::EncodedTile> run(3);
  ASSERT_TRUE(enc.encodeRun(frameOf(frameAt(1), w, h), indices, 3, 64, settings, run, error)) << error;
  EXPECT_EQ(run[0].kind, base::TileKind::Palette);
}

// Whole JPEG tiles of a run with no changed neighbour in their row, from anywhere in the
// frame, come from one stacked JPEG (capture/jpeg_stack.h), each piece byte for byte the scan
// it has alone; exact tiles and tiles cropped at an edge are made as before.
TEST(TileCodec, StackedTilesAreTheSameBytesAsTilesEncodedAlone) {
  const int w = 600, h = 150;  // 10 x 3 tiles: column 9 and row 2 cropped
  std::vector<std::uint8_t> px;
  SyntheticSource::render(w, h, SceneMotion::Full, 5, px);
  for (int y = 0; y < 64; ++y)  // tile (3, 0): one colour
    for (int x = 192; x < 256; ++x) std::memcpy(&px[(std::size_t(y) * w + x) * 4], "\x20\x40\x60\xff", 4);
  const int tilesX = 10;
  const std::vector<std::uint32_t> indices = {0, 2, 3, 5, 12, 9, 14, 25, 7, 16, 18};
  for (bool s444 : {false, true}) {
    for (int quality : {75, 97}) {  // 97: TurboJPEG's accurate DCT
      CaptureSettings settings;
      settings.exactFewColours = false;
      settings.quality = quality;
      settings.subsampling = s444 ? Subsampling::S444 : Subsampling::S420;
      std::vector<base::EncodedTile> run(indices.size());
      TileEncoder enc, alone;
      std::string error;
      ASSERT_TRUE(enc.encodeRun(frameOf(px, w, h), indices, tilesX, 64, settings, run, error)) << error;
      EXPECT_EQ(enc.tilesStacked(), 8u) << "all but the solid tile and the two cropped ones";
      for (std::size_t i = 0; i < indices.size(); ++i) {
        base::EncodedTile single;
        const int tx = static_cast<int>(indices[i] % tilesX), ty = static_cast<int>(indices[i] / tilesX);
        ASSERT_TRUE(alone.encode(frameOf(px, w, h), tx, ty, 64, settings, single, error)) << error;
        EXPECT_EQ(run[i].tx, tx);
        EXPECT_EQ(run[i].ty, ty);
        ASSERT_EQ(run[i].kind, single.kind) << "tile " << indices[i];
        EXPECT_EQ(run[i].kind, indices[i] == 3 ? base::TileKind::Solid : base::TileKind::JpegScan);
        EXPECT_EQ(run[i].jpegQuality, single.jpegQuality);
        EXPECT_EQ(run[i].jpeg444, single.jpeg444);
        const auto a = run[i].jpeg.span(), b = single.jpeg.span();
        EXPECT_TRUE(std::equal(a.begin(), a.end(), b.begin(), b.end()))
            << "tile " << indices[i] << (s444 ? " 4:4:4" : " 4:2:0") << " q" << quality;
      }
    }
  }
}

// JPEG tiles side by side in a row come from one strip: scans with a restart every MCU row,
// each byte for byte what that tile has as a strip of its own, decoding to exactly the pixels
// of the tile encoded alone. Tiles cropped at the right edge go alone; at the bottom edge they
// go in strips too.
TEST(TileCodec, TilesSideBySideComeFromOneStripAndDecodeAsTheTilesAlone) {
  const int w = 600, h = 150, tilesX = 10;  // column 9 and row 2 cropped
  std::vector<std::uint8_t> px;
  SyntheticSource::render(w, h, SceneMotion::Full, 7, px);
  for (int y = 0; y < 64; ++y)  // tile (3, 0): one colour, which cuts row 0 in two runs
    for (int x = 192; x < 256; ++x) std::memcpy(&px[(std::size_t(y) * w + x) * 4], "\x20\x40\x60\xff", 4);
  std::vector<std::uint32_t> indices;
  for (std::uint32_t i = 0; i < 30; ++i)
    if (i != 19 && i != 23) indices.push_back(i);  // row 2: runs 20..22 and 24..28 (29 cropped)
  for (bool s444 : {false, true}) {
    CaptureSettings settings;
    settings.exactFewColours = false;
    settings.quality = s444 ? 90 : 70;
    settings.subsampling = s444 ? Subsampling::S444 : Subsampling::S420;
    std::vector<base::EncodedTile> run(indices.size());
    TileEncoder enc, alone;
    std::string error;
    ASSERT_TRUE(enc.encodeRun(frameOf(px, w, h), indices, tilesX, 64, settings, run, error)) << error;
    // Row 0: 0..2 and 4..8; row 1: 10..18; row 2: 20..22 and 24..28. Alone: 3 (solid), 9, 29.
    EXPECT_EQ(enc.tilesInStrips(), 3u + 5u + 9u + 3u + 5u);
    EXPECT_EQ(enc.stripsMade(), 5u);  // no two runs of the same columns one under the other
    EXPECT_EQ(enc.tilesStacked(), 0u);
    std::vector<std::uint8_t> a(std::size_t(w) * h * 4, 0), b(std::size_t(w) * h * 4, 0);
    TileDecoder dec;
    JpegStackEncoder oneStrip;
    JpegHeaders headers;
    tjhandle compressor = tjInitCompress();
    for (std::size_t i = 0; i < indices.size(); ++i) {
      const int tx = int(indices[i] % tilesX), ty = int(indices[i] / tilesX);
      EXPECT_EQ(run[i].tx, tx);
      EXPECT_EQ(run[i].ty, ty);
      const bool inStrip = indices[i] != 3 && tx != 9;
      EXPECT_EQ(run[i].jpegRowRestarts, inStrip) << "tile " << indices[i];
      if (inStrip) {
        ASSERT_EQ(run[i].kind, base::TileKind::JpegScan);
        base::EncodedTile own;
        ASSERT_TRUE(oneStrip.encodeStrip(frameOf(px, w, h), tx, ty, 1, 1, 64, settings.quality, s444, headers, compressor,
                                         std::span<base::EncodedTile>(&own, 1), error))
            << error;
        const auto x = run[i].jpeg.span(), y = own.jpeg.span();
        EXPECT_TRUE(std::equal(x.begin(), x.end(), y.begin(), y.end())) << "tile " << indices[i];
      }
      base::EncodedTile single;
      ASSERT_TRUE(alone.encode(frameOf(px, w, h), tx, ty, 64, settings, single, error)) << error;
      ASSERT_TRUE(dec.decode(run[i], 64, w, h, a.data(), w * 4, error)) << error;
      ASSERT_TRUE(dec.decode(single, 64, w, h, b.data(), w * 4, error)) << error;
    }
    tjDestroy(compressor);
    EXPECT_EQ(a, b) << (s444 ? "4:4:4" : "4:2:0");
  }
}

// The same columns changed in rows one under the other come from one strip of those rows (up
// to kMaxStripRows), each tile the bytes it has in a strip of its own; a column cropped at the
// right edge, going alone, does not split them, and a solid tile in a row ends the strip above
// it (that row is two runs). 32-px tiles at 4:4:4 have four MCU rows a tile: their markers
// count from each tile's top, not the strip's.
TEST(TileCodec, RowsOfTheSameColumnsComeFromOneStripEachTileItsOwnBytes) {
  const int w = 600, h = 620;
  struct Case {
    bool s444;
    int tile;
    std::uint64_t strips;
  };
  // 64 px: 10 x 10 tiles, column 9 and row 9 cropped; rows 0..3, then row 4 in two runs,
  // then 5..9. 32 px: 19 x 20 tiles, column 18 and row 19 cropped; 0..7, then row 8 in two
  // runs, 9..16, 17..19.
  for (const Case c : {Case{false, 64, 4}, Case{true, 64, 4}, Case{true, 32, 5}}) {
    const int tilesX = (w + c.tile - 1) / c.tile, tilesY = (h + c.tile - 1) / c.tile;
    const int solidTx = 3, solidTy = c.tile == 64 ? 4 : 8;
    std::vector<std::uint8_t> px;
    SyntheticSource::render(w, h, SceneMotion::Full, 3, px);
    for (int y = solidTy * c.tile; y < (solidTy + 1) * c.tile; ++y)
      for (int x = solidTx * c.tile; x < (solidTx + 1) * c.tile; ++x)
        std::memcpy(&px[(std::size_t(y) * w + x) * 4], "\x20\x40\x60\xff", 4);
    std::vector<std::uint32_t> indices(std::size_t(tilesX) * std::size_t(tilesY));
    for (std::uint32_t i = 0; i < indices.size(); ++i) indices[i] = i;
    CaptureSettings settings;
    settings.exactFewColours = false;
    settings.quality = c.s444 ? 90 : 75;
    settings.subsampling = c.s444 ? Subsampling::S444 : Subsampling::S420;
    std::vector<base::EncodedTile> run(indices.size());
    TileEncoder enc;
    std::string error;
    ASSERT_TRUE(enc.encodeRun(frameOf(px, w, h), indices, tilesX, c.tile, settings, run, error)) << error;
    EXPECT_EQ(enc.tilesInStrips(), std::uint64_t(tilesX - 1) * std::uint64_t(tilesY) - 1);
    EXPECT_EQ(enc.stripsMade(), c.strips) << c.tile << (c.s444 ? " 4:4:4" : " 4:2:0");
    JpegStackEncoder oneStrip;
    JpegHeaders headers;
    tjhandle compressor = tjInitCompress();
    for (std::size_t i = 0; i < indices.size(); ++i) {
      const int tx = int(i % std::size_t(tilesX)), ty = int(i / std::size_t(tilesX));
      EXPECT_EQ(run[i].tx, tx);
      EXPECT_EQ(run[i].ty, ty);
      if (tx == solidTx && ty == solidTy) {
        EXPECT_EQ(run[i].kind, base::TileKind::Solid);
        continue;
      }
      EXPECT_EQ(run[i].jpegRowRestarts, tx != tilesX - 1) << "tile " << i;
      if (tx == tilesX - 1) continue;
      base::EncodedTile own;
      ASSERT_TRUE(oneStrip.encodeStrip(frameOf(px, w, h), tx, ty, 1, 1, c.tile, settings.quality, c.s444, headers,
                                       compressor, std::span<base::EncodedTile>(&own, 1), error))
          << error;
      const auto x = run[i].jpeg.span(), y = own.jpeg.span();
      EXPECT_TRUE(std::equal(x.begin(), x.end(), y.begin(), y.end()))
          << "tile " << i << ", " << c.tile << (c.s444 ? " 4:4:4" : " 4:2:0");
    }
    tjDestroy(compressor);
  }
  // Asked of the strip encoder itself: rows past the frame, or too many, are refused.
  std::vector<std::uint8_t> px;
  SyntheticSource::render(w, h, SceneMotion::Full, 3, px);
  JpegStackEncoder strip;
  JpegHeaders headers;
  tjhandle compressor = tjInitCompress();
  std::vector<base::EncodedTile> out(9 * 11);
  std::string error;
  EXPECT_FALSE(strip.encodeStrip(frameOf(px, w, h), 0, 0, 9, 11, 64, 80, false, headers, compressor, out, error));
  out.resize(9 * 2);
  EXPECT_FALSE(strip.encodeStrip(frameOf(px, w, h), 0, 9, 9, 2, 64, 80, false, headers, compressor, out, error));
  EXPECT_TRUE(strip.encodeStrip(frameOf(px, w, h), 0, 8, 9, 2, 64, 80, false, headers, compressor, out, error)) << error;
  tjDestroy(compressor);
}

// More whole tiles alone in their rows than one stack holds: they go in several stacks, none
// alone, each the bytes it has encoded alone.
TEST(TileCodec, MoreLoneTilesThanAStackHoldsGoInSeveralStacks) {
  const int w = 1280, h = 640, tilesX = 20;
  std::vector<std::uint8_t> px;
  SyntheticSource::render(w, h, SceneMotion::Full, 9, px);
  std::vector<std::uint32_t> indices;  // every other tile of each row: none side by side
  for (std::uint32_t ty = 0; ty < 10; ++ty)
    for (std::uint32_t tx = ty % 2; tx < 20; tx += 2) indices.push_back(ty * tilesX + tx);
  CaptureSettings settings;
  settings.exactFewColours = false;
  std::vector<base::EncodedTile> run(indices.size());
  TileEncoder enc, alone;
  std::string error;
  ASSERT_TRUE(enc.encodeRun(frameOf(px, w, h), indices, tilesX, 64, settings, run, error)) << error;
  const auto jpegTiles = static_cast<std::uint64_t>(std::count_if(
      run.begin(), run.end(), [](const base::EncodedTile& t) { return t.kind == base::TileKind::JpegScan; }));
  EXPECT_GT(jpegTiles, 2u * JpegStackEncoder::kMaxTiles);  // the scene's flat tiles go as Solid
  EXPECT_EQ(enc.tilesStacked(), jpegTiles);
  EXPECT_EQ(enc.tilesInStrips(), 0u);
  for (std::size_t i = 0; i < indices.size(); ++i) {
    const int tx = int(indices[i] % tilesX), ty = int(indices[i] / tilesX);
    base::EncodedTile single;
    ASSERT_TRUE(alone.encode(frameOf(px, w, h), tx, ty, 64, settings, single, error)) << error;
    EXPECT_EQ(run[i].tx, tx);
    EXPECT_EQ(run[i].ty, ty);
    ASSERT_EQ(run[i].kind, single.kind) << "tile " << indices[i];
    const auto a = run[i].jpeg.span(), b = single.jpeg.span();
    EXPECT_TRUE(std::equal(a.begin(), a.end(), b.begin(), b.end())) << "tile " << indices[i];
  }
}

TEST(TileCodec, DecoderRefusesHostileTiles) {
  std::vector<std::uint8_t> px;
  SyntheticSource::render(64, 64, SceneMotion::Full, 1, px);
  TileEncoder enc;
  base::EncodedTile scan;
  std::string error;
  ASSERT_TRUE(enc.encode(frameOf(px, 64, 64), 0, 0, 64, CaptureSettings{}, scan, error));
  ASSERT_EQ(scan.kind, base::TileKind::JpegScan);
  std::vector<std::uint8_t> fb(64 * 64 * 4);
  TileDecoder dec;
  EXPECT_TRUE(dec.decode(scan, 64, 64, 64, fb.data(), 256, error)) << error;
  // Whole JPEGs are checked before TurboJPEG sees them.
  tjhandle h = tjInitCompress();
  unsigned char* jpeg = nullptr;
  unsigned long jpegSize = 0;
  ASSERT_EQ(tjCompress2(h, px.data(), 64, 256, 64, TJPF_BGRX, &jpeg, &jpegSize, TJSAMP_420, 80, 0), 0);
  base::EncodedTile good;
  good.kind = base::TileKind::Jpeg;
  good.jpeg = base::ByteSlice::whole(base::makeBytes(base::ByteVec(jpeg, jpeg + jpegSize)));
  tjFree(jpeg);
  EXPECT_TRUE(dec.decode(good, 64, 64, 64, fb.data(), 256, error)) << error;

  auto withBytes = [&](const base::EncodedTile& like, base::ByteVec bytes) {
    base::EncodedTile t = like;
    t.jpeg = base::ByteSlice::whole(base::makeBytes(std::move(bytes)));
    return t;
  };
  base::ByteVec orig(good.jpeg.span().begin(), good.jpeg.span().end());
  // Truncated, garbage, wrong size for the tile, outside the image.
  EXPECT_FALSE(dec.decode(withBytes(good, base::ByteVec(orig.begin(), orig.begin() + orig.size() / 2)), 64, 64, 64, fb.data(), 256, error));
  EXPECT_FALSE(dec.decode(withBytes(good, base::ByteVec(500, 0xAB)), 64, 64, 64, fb.data(), 256, error));
  EXPECT_FALSE(dec.decode(good, 64, 100, 50, fb.data(), 400, error));  // the tile would be 64x50
  base::EncodedTile far = good;
  far.tx = 9;
  EXPECT_FALSE(dec.decode(far, 64, 64, 64, fb.data(), 256, error));
  // Corrupt entropy data past the headers: TurboJPEG's warning stops it.
  base::ByteVec corrupt = orig;
  for (std::size_t i = corrupt.size() / 2; i < corrupt.size() - 2; ++i) corrupt[i] = 0xFF;
  EXPECT_FALSE(dec.decode(withBytes(good, corrupt), 64, 64, 64, fb.data(), 256, error));
  // A progressive JPEG of the right size is still refused.
  unsigned char* prog = nullptr;
  unsigned long progSize = 0;
  ASSERT_EQ(tjCompress2(h, px.data(), 64, 256, 64, TJPF_BGRX, &prog, &progSize, TJSAMP_420, 80, TJFLAG_PROGRESSIVE), 0);
  EXPECT_FALSE(dec.decode(withBytes(good, base::ByteVec(prog, prog + progSize)), 64, 64, 64, fb.data(), 256, error));
  EXPECT_NE(error.find("baseline"), std::string::npos) << error;
  tjFree(prog);
  tjDestroy(h);

  // Scans: markers smuggled into the scan, a bad quality, a truncated scan.
  base::ByteVec scanBytes(scan.jpeg.span().begin(), scan.jpeg.span().end());
  base::ByteVec withMarker = scanBytes;
  withMarker.insert(withMarker.begin() + 10, {0xFF, 0xC0});
  EXPECT_FALSE(dec.decode(withBytes(scan, withMarker), 64, 64, 64, fb.data(), 256, error));
  EXPECT_NE(error.find("marker"), std::string::npos) << error;
  base::ByteVec endsInFF = scanBytes;
  endsInFF.push_back(0xFF);
  EXPECT_FALSE(dec.decode(withBytes(scan, endsInFF), 64, 64, 64, fb.data(), 256, error));
  base::EncodedTile badQuality = scan;
  badQuality.jpegQuality = 0;
  EXPECT_FALSE(dec.decode(badQuality, 64, 64, 64, fb.data(), 256, error));
  // A scan without restarts said to have one every MCU row, and one with them said to have none.
  base::EncodedTile noRestarts = scan;
  noRestarts.jpegRowRestarts = true;
  EXPECT_FALSE(dec.decode(noRestarts, 64, 64, 64, fb.data(), 256, error));
  JpegStackEncoder strip;
  JpegHeaders headers;
  tjhandle compressor = tjInitCompress();
  base::EncodedTile restarted;
  ASSERT_TRUE(strip.encodeStrip(frameOf(px, 64, 64), 0, 0, 1, 1, 64, 80, false, headers, compressor,
                                std::span<base::EncodedTile>(&restarted, 1), error))
      << error;
  tjDestroy(compressor);
  EXPECT_TRUE(dec.decode(restarted, 64, 64, 64, fb.data(), 256, error)) << error;
  restarted.jpegRowRestarts = false;
  EXPECT_FALSE(dec.decode(restarted, 64, 64, 64, fb.data(), 256, error));
  EXPECT_FALSE(dec.decode(withBytes(scan, base::ByteVec(scanBytes.begin(), scanBytes.begin() + scanBytes.size() / 2)),
                          64, 64, 64, fb.data(), 256, error));
  EXPECT_FALSE(dec.decode(withBytes(scan, {}), 64, 64, 64, fb.data(), 256, error));
}

TEST(EncoderPool, SameOutputWithOneOrTwoThreads) {
  std::vector<std::uint8_t> px;
  SyntheticSource::render(800, 600, SceneMotion::Full, 2, px);
  Frame f = frameOf(px, 800, 600);
  DamageTracker damage(64);
  auto dirty = damage.update(f);
  std::vector<base::EncodedTile> one, two;
  std::string error;
  EncoderPool p1(1), p2(2);
  ASSERT_TRUE(p1.encode(f, dirty, damage.tilesX(), CaptureSettings{}, one, error));
  for (int round = 0; round < 20; ++round) {  // repeated: the handoff must never lose a tile
    ASSERT_TRUE(p2.encode(f, dirty, damage.tilesX(), CaptureSettings{}, two, error));
    ASSERT_EQ(one.size(), two.size());
    for (std::size_t i = 0; i < one.size(); ++i) {
      ASSERT_EQ(one[i].tx, two[i].tx);
      ASSERT_EQ(one[i].kind, two[i].kind);
      ASSERT_TRUE(std::equal(one[i].jpeg.span().begin(), one[i].jpeg.span().end(), two[i].jpeg.span().begin(),
                             two[i].jpeg.span().end()));
    }
  }
}

namespace {

// Runs `pool.forEach` over 64 items where the first item a worker thread (not the caller)
// gets throws `thrower()`. The caller's first item waits (bounded) until a worker has
// started, so a worker always gets an item. Returns forEach's result.
bool forEachWithAWorkerThatThrows(EncoderPool& pool, const std::function<void()>& thrower, std::string& error,
                                  std::atomic<int>& ran) {
  const auto caller = std::this_thread::get_id();
  std::atomic<bool> workerStarted{false}, thrown{false};
  return pool.forEach(
      64,
      [&](std::size_t, TileEncoder&, std::string&) {
        if (std::this_thread::get_id() == caller) {
          for (int i = 0; i < 500 && !workerStarted.load(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
        } else {
          workerStarted = true;
          if (!thrown.exchange(true)) thrower();
        }
        ++ran;
        return true;
      },
      error);
}

}  // namespace

TEST(EncoderPool, AWorkerThatThrowsFailsThatFrameOnlyAndIsStartedAgain) {
  EncoderPool pool(2);
  std::string error;
  std::atomic<int> ran{0};
  EXPECT_FALSE(forEachWithAWorkerThatThrows(pool, [] { throw std::runtime_error("tile bug"); }, error, ran));
  EXPECT_EQ(error, "an encoder thread stopped: tile bug");
  EXPECT_EQ(ran.load(), 63);  // the others finished every item but the one that threw
  // The next frame has its worker back, and a throw that is not a std::exception is no different.
  ran = 0;
  EXPECT_FALSE(forEachWithAWorkerThatThrows(pool, [] { throw 42; }, error, ran));
  EXPECT_EQ(error, "an encoder thread stopped: an exception that is not a std::exception");
  EXPECT_EQ(ran.load(), 63);
  EXPECT_EQ(pool.workersRestarted(), 1u);
  // And a frame after that encodes as usual, on both threads.
  std::vector<std::uint8_t> px;
  SyntheticSource::render(800, 600, SceneMotion::Full, 2, px);
  Frame f = frameOf(px, 800, 600);
  DamageTracker damage(64);
  const auto dirty = damage.update(f);
  std::vector<base::EncodedTile> tiles;
  EXPECT_TRUE(pool.encode(f, dirty, damage.tilesX(), CaptureSettings{}, tiles, error)) << error;
  EXPECT_EQ(tiles.size(), dirty.size());
  EXPECT_EQ(pool.workersRestarted(), 2u);
}

TEST(EncoderPool, AThrowOnTheCallersShareFailsTheFrameToo) {
  EncoderPool pool(2);
  const auto caller = std::this_thread::get_id();
  std::atomic<bool> thrown{false};
  std::string error;
  EXPECT_FALSE(pool.forEach(
      64,
      [&](std::size_t, TileEncoder&, std::string&) {
        if (std::this_thread::get_id() == caller) {
          if (!thrown.exchange(true)) throw std::runtime_error("caller bug");
          return true;
        }
        // The worker holds its first item until the caller has taken one, or it could drain all
        // 64 before the caller starts (seen under TSan). Bounded, so a broken pool fails, not hangs.
        const auto giveUp = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (!thrown.load() && std::chrono::steady_clock::now() < giveUp) std::this_thread::yield();
        return true;
      },
      error));
  EXPECT_EQ(error, "caller bug");
  EXPECT_EQ(pool.workersRestarted(), 0u);
  EXPECT_TRUE(pool.forEach(64, [](std::size_t, TileEncoder&, std::string&) { return true; }, error)) << error;
}

TEST(Scaler, SizesAndColours) {
  std::vector<std::uint8_t> px(std::size_t(200) * 100 * 4);
  for (std::size_t i = 0; i < px.size(); i += 4) px[i] = 50, px[i + 1] = 100, px[i + 2] = 150, px[i + 3] = 255;
  Scaler s;
  Frame in = frameOf(px, 200, 100);
  EXPECT_EQ(s.scale(in, 100).pixels, in.pixels);  // no copy at 100%
  Frame half = s.scale(in, 50);
  EXPECT_EQ(half.widthPx, 100);
  EXPECT_EQ(half.heightPx, 50);
  EXPECT_EQ(half.pixels[0], 50);
  EXPECT_EQ(half.pixels[2], 150);
  Frame threeQ = s.scale(in, 75);
  EXPECT_EQ(threeQ.widthPx, 150);
  EXPECT_EQ(threeQ.heightPx, 75);
  EXPECT_EQ(threeQ.pixels[(75 * 40 + 70) * 4 + 1], 100);
}

TEST(Pipeline, ProducesUpdatesAndStopsPromptly) {
  std::mutex m;
  std::vector<EncodedUpdate> updates;
  CaptureSettings s;
  s.fps = 60;
  CapturePipeline p(std::make_unique<SyntheticSource>(320, 200, SceneMotion::Partial), s, 2,
                    [&](EncodedUpdate&& u) {
                      std::lock_guard lock(m);
                      updates.push_back(std::move(u));
                    });
  std::string error;
  ASSERT_TRUE(p.start(error)) << error;
  for (int i = 0; i < 200; ++i) {
    {
      std::lock_guard lock(m);
      if (updates.size() >= 5) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  auto t0 = std::chrono::steady_clock::now();
  p.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
  std::lock_guard lock(m);
  ASSERT_GE(updates.size(), 5u);
  EXPECT_TRUE(updates[0].full);
  EXPECT_EQ(updates[0].tiles.size(), 5u * 4u);
  EXPECT_FALSE(updates[1].full);
  EXPECT_LT(updates[1].tiles.size(), 20u);
  EXPECT_GT(updates[1].seq, updates[0].seq);
}

TEST(Pipeline, QualityChangeResendsEverything) {
  std::mutex m;
  std::vector<EncodedUpdate> updates;
  CaptureSettings s;
  s.fps = 60;
  s.sharpWhenStill = false;  // only the re-encode: no lossless refresh of the still scene
  CapturePipeline p(std::make_unique<SyntheticSource>(256, 128, SceneMotion::Static), s, 1, [&](EncodedUpdate&& u) {
    std::lock_guard lock(m);
    updates.push_back(std::move(u));
  });
  std::string error;
  ASSERT_TRUE(p.start(error));
  // The change must come after the first frame, or that frame would already be at quality 40.
  auto count = [&] {
    std::lock_guard lock(m);
    return updates.size();
  };
  for (int i = 0; i < 200 && count() < 1; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_EQ(count(), 1u);
  s.quality = 40;
  p.setSettings(s);
  for (int i = 0; i < 200 && count() < 2; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  p.stop();
  std::lock_guard lock(m);
  ASSERT_EQ(updates.size(), 2u);  // static: the first frame, then only the re-encode
  EXPECT_TRUE(updates[1].full);
}

namespace {

// The test scene, until the display "goes away" after `frames` captures.
class SourceThatThrows : public ScreenSource {
 public:
  explicit SourceThatThrows(int frames) : m_left(frames) {}
  bool open(std::string& error) override { return m_scene.open(error); }
  CaptureResult capture(Frame& frame, std::string& error) override {
    if (m_left-- == 0) throw std::runtime_error("display gone");
    return m_scene.capture(frame, error);
  }
  std::string title() const override { return m_scene.title(); }

 private:
  SyntheticSource m_scene{256, 128, SceneMotion::Partial};
  int m_left;
};

}  // namespace

TEST(Pipeline, ACaptureThreadThatThrowsStopsAndTellsItsOwner) {
  CaptureSettings s;
  s.fps = 60;
  std::atomic<int> updates{0};
  std::mutex m;
  std::string told;
  CapturePipeline p(
      std::make_unique<SourceThatThrows>(3), s, 2, [&](EncodedUpdate&&) { ++updates; },
      [&](const std::string& what) {
        std::lock_guard lock(m);
        told = what;
      });
  std::string error;
  ASSERT_TRUE(p.start(error)) << error;
  for (int i = 0; i < 300 && p.running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_FALSE(p.running());
  EXPECT_EQ(p.failure(), "display gone");
  const PipelineStats stats = p.stats();
  EXPECT_EQ(stats.failure, "display gone");
  EXPECT_EQ(stats.lastError, "Sharing stopped: display gone");  // what the sharing panel shows
  EXPECT_EQ(stats.framesCaptured, 3u);
  EXPECT_GE(updates.load(), 1);
  {
    std::lock_guard lock(m);
    EXPECT_EQ(told, "display gone");
  }
  p.stop();
  EXPECT_FALSE(p.running());
}

TEST(Pipeline, AnUpdateCallbackThatThrowsStopsThePipelineNotTheProcess) {
  CaptureSettings s;
  s.fps = 60;
  CapturePipeline p(std::make_unique<SyntheticSource>(256, 128, SceneMotion::Partial), s, 1,
                    [](EncodedUpdate&&) { throw 42; });
  std::string error;
  ASSERT_TRUE(p.start(error)) << error;
  for (int i = 0; i < 300 && p.running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_FALSE(p.running());
  EXPECT_EQ(p.failure(), "an exception that is not a std::exception");
  // Started again, it runs (and stops the same way, as the callback still throws).
  ASSERT_TRUE(p.start(error)) << error;
  for (int i = 0; i < 300 && p.running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(p.stats().framesCaptured, 2u);
  p.stop();
}

namespace {

// A still scene that is told of its drawings, as X11 is by XDamage: draw() changes a pixel
// and wakes a waitForChange() or a waitForDrawing(); it counts the captures a waitForChange()
// wake began, and those of a drawing that a waitForDrawing() which waited saw land, and
// settle() then let finish: taken fresh (one seen while captures were held back is not
// settled, and the look for pieces before a capture does not wait).
class NotifyingSource : public ScreenSource {
 public:
  bool open(std::string&) override { return true; }
  CaptureResult capture(Frame& frame, std::string&) override {
    std::lock_guard lock(m_mutex);
    m_changed.clear();
    if (m_drawn || m_aside) m_changed.push_back({0, 0, 1, 1});
    if (m_woke) ++m_capturesOnWake;
    if (m_settledFresh) ++m_freshCaptures;
    m_drawingsCaptured = m_drawings;
    m_drawn = m_woke = m_aside = m_sawDrawing = m_settledFresh = false;
    m_frame = m_pixels;  // the pipeline reads its frame after this returns, while draw() may write
    frame.widthPx = kW;
    frame.heightPx = kH;
    frame.strideBytes = kW * kBytesPerPixel;
    frame.pixels = m_frame.data();
    frame.seq = ++m_seq;
    frame.changed = m_seq == 1 ? nullptr : &m_changed;
    ++m_captures;
    return CaptureResult::Ok;
  }
  std::string title() const override { return "Notifying"; }
  bool notifiesChanges() const override { return true; }
  bool waitForChange(int timeoutMs) override {
    std::unique_lock lock(m_mutex);
    m_cv.wait_for(lock, std::chrono::milliseconds(timeoutMs), [&] { return m_drawn; });
    if (m_drawn) m_woke = true;
    m_sawDrawing = false;
    return m_drawn;
  }
  bool waitForDrawing(int timeoutMs) override {
    std::unique_lock lock(m_mutex);
    m_cv.wait_for(lock, std::chrono::milliseconds(timeoutMs), [&] { return m_drawn; });
    m_sawDrawing = m_drawn && timeoutMs > 0;
    if (!m_drawn) return false;
    m_drawn = false;  // set aside for the next capture
    m_aside = true;
    return true;
  }
  void settle(std::int64_t quietUs, std::int64_t maxUs) override {
    {
      std::lock_guard lock(m_mutex);
      m_settledFresh = m_sawDrawing;
    }
    ScreenSource::settle(quietUs, maxUs);
  }
  void draw() {
    {
      std::lock_guard lock(m_mutex);
      m_pixels[0] ^= 0xFF;
      m_drawn = true;
      ++m_drawings;
    }
    m_cv.notify_all();
  }
  int drawings() { return locked(m_drawings); }
  // How many drawings the latest capture holds.
  int drawingsCaptured() { return locked(m_drawingsCaptured); }
  int freshCaptures() { return locked(m_freshCaptures); }
  int captures() { return locked(m_captures); }
  int capturesOnWake() { return locked(m_capturesOnWake); }

 private:
  int locked(const int& count) {
    std::lock_guard lock(m_mutex);
    return count;
  }

  static constexpr int kW = 64, kH = 64;
  std::mutex m_mutex;
  std::condition_variable m_cv;
  std::vector<std::uint8_t> m_pixels = std::vector<std::uint8_t>(kW * kH * kBytesPerPixel, 0);
  std::vector<std::uint8_t> m_frame;  // the capture thread's copy
  std::vector<base::Rect> m_changed;
  bool m_drawn = false, m_woke = false;
  bool m_aside = false;         // a drawing waitForDrawing() saw waits for the capture
  bool m_sawDrawing = false;    // ... and it was the last thing waited for
  bool m_settledFresh = false;  // settle() came right after it
  int m_captures = 0, m_capturesOnWake = 0, m_freshCaptures = 0;
  int m_drawings = 0, m_drawingsCaptured = 0;
  std::uint64_t m_seq = 0;
};

}  // namespace

// At one frame a second a drawing would wait up to a second for the clock; a source told of
// its drawings is captured when one comes, as the frame rate allows (after a changed frame,
// the next may come up to an interval early: here, at once).
TEST(Pipeline, ASourceToldOfADrawingIsCapturedWhenItComesNotAtTheClocksTick) {
  CaptureSettings s;
  s.fps = 1;
  auto owned = std::make_unique<NotifyingSource>();
  NotifyingSource& source = *owned;
  std::atomic<int> updates{0};
  CapturePipeline p(std::move(owned), s, 1, [&](EncodedUpdate&&) { ++updates; });
  std::string error;
  ASSERT_TRUE(p.start(error)) << error;
  auto waitForUpdates = [&](int n) {
    for (int i = 0; i < 500 && updates.load() < n; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return updates.load() == n;
  };
  ASSERT_TRUE(waitForUpdates(1));  // the first frame
  source.draw();
  ASSERT_TRUE(waitForUpdates(2));
  // Captured on the wake, not by the clock (which ticks once a second here).
  EXPECT_EQ(source.capturesOnWake(), 1);
  p.stop();
}

// Drawn at 60 Hz and shared at 10 fps, some captures wait for the next drawing and take it
// fresh rather than the one that waited while they were held back; when the drawings stop,
// the last one is captured all the same (it does not wait for a next that never comes).
TEST(Pipeline, DrawingsFasterThanTheRateAreTakenFreshAndTheLastOneStillGoes) {
  CaptureSettings s;
  s.fps = 10;
  auto owned = std::make_unique<NotifyingSource>();
  NotifyingSource& source = *owned;
  std::atomic<int> updates{0};
  CapturePipeline p(std::move(owned), s, 1, [&](EncodedUpdate&&) { ++updates; });
  std::string error;
  ASSERT_TRUE(p.start(error)) << error;
  for (int i = 0; i < 500 && updates.load() < 1; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_EQ(updates.load(), 1);
  // 1.5 s of drawings: about 15 captures, each with 6 drawings to choose from.
  const int capturesBefore = source.captures();
  const auto begun = std::chrono::steady_clock::now();
  for (int i = 0; i < 90; ++i) {
    source.draw();
    std::this_thread::sleep_for(std::chrono::microseconds(16667));
  }
  for (int i = 0; i < 500 && source.drawingsCaptured() < source.drawings(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - begun).count();
  const int captures = source.captures() - capturesBefore;
  p.stop();
  EXPECT_EQ(source.drawingsCaptured(), 90) << "the last drawing was never captured";
  // About half the captures (7 of 15) wait for a fresh drawing; none without HeldDrawings.
  EXPECT_GE(source.freshCaptures(), 2) << "captures did not wait for the next drawing";
  // Still the frame rate, not the drawings' (plus ChangeSchedule's 3%, and the clock's tick).
  EXPECT_LE(captures, int(seconds * s.fps * 1.1) + 3) << "in " << seconds << " s";
}

namespace {
using Micros = std::chrono::microseconds;
constexpr Micros kSixtyHz{16667}, kSettle{1500};
}  // namespace

// The capture thread's choice, simulated: drawings at 60 Hz shared at 30 fps for about 4 s,
// then they stop. Each capture either takes the drawing that waited while it was held back,
// or waits for the next and takes that (its age then is only the settle). Without
// HeldDrawings a capture takes a drawing up to a period old (8 ms on average); with it, never
// more than half a period. The last drawing, with no next to come, goes at most 3/4 of a
// period after captures may come. Run with every place the drawings can stop in a cycle.
TEST(HeldDrawings, CapturesTakeFreshDrawingsAndTheLastOneIsLateByAtMostThreeQuartersOfAPeriod) {
  using Clock = ChangeSchedule::Clock;
  const Clock::time_point t0{};
  const Micros interval{33333};
  int lastWaited = 0;
  for (int count = 220; count < 260; ++count) {
    ChangeSchedule schedule(t0);
    HeldDrawings held(Micros(3500));
    std::vector<Clock::time_point> drawn;
    for (int k = 0; k < count; ++k) drawn.push_back(t0 + Micros(5000) + k * kSixtyHz);
    std::size_t next = 0;  // the first drawing not yet seen
    std::vector<Micros> ages;
    Micros lastLate{-1};  // set when the last drawing waited for captures
    while (next < drawn.size() || held.waiting()) {
      const auto earliest = schedule.earliest(interval);
      // Held back: the drawings that land before captures may come again wait.
      while (next < drawn.size() && drawn[next] < earliest) held.drawn(drawn[next++], true);
      Clock::time_point at;
      std::size_t taken;
      if (held.waiting()) {
        const auto until = held.waitUntil(earliest, interval);
        if (until > earliest && next < drawn.size() && drawn[next] <= until) {
          held.drawn(drawn[next], false);
          taken = next++;
          at = drawn[taken] + kSettle;
        } else {
          taken = next - 1;
          at = until;
          if (next == drawn.size()) lastLate = std::chrono::duration_cast<Micros>(at - earliest);
        }
      } else {
        held.drawn(drawn[next], false);
        taken = next++;
        at = drawn[taken] + kSettle;
      }
      ages.push_back(std::chrono::duration_cast<Micros>(at - drawn[taken]));
      held.captured();
      schedule.captured(at, interval);
    }
    ASSERT_GE(ages.size(), std::size_t(count / 2));  // 30 fps, plus at most 3%
    ASSERT_LE(ages.size(), std::size_t(count / 2 * 1.04 + 2));
    // After the first captures (a stream is not yet known), none takes a drawing more than
    // half a period old, bar the last (when no next came).
    Micros sum{0};
    for (std::size_t i = 4; i + 1 < ages.size(); ++i) {
      EXPECT_LE(ages[i], kSixtyHz / 2 + kSettle) << count << " drawings, capture " << i;
      sum += ages[i];
    }
    EXPECT_LT(sum / (ages.size() - 5), Micros(4000)) << count << " drawings";
    EXPECT_LE(lastLate, kSixtyHz * 3 / 4) << count << " drawings";
    if (lastLate > Micros(0)) ++lastWaited;
  }
  EXPECT_GE(lastWaited, 5) << "the last drawing rarely waited: its bound was hardly tried";
}

// Lone drawings (not a stream), and drawings at about the rate or slower, are taken as they
// are; a stream clearly faster than the rate waits for the next drawing.
TEST(HeldDrawings, ALoneDrawingOrOneNotFasterThanTheRateIsTakenAtOnce) {
  using Clock = HeldDrawings::Clock;
  const Clock::time_point t0{};
  const Micros interval{33333};
  HeldDrawings held(Micros(3500));
  auto at = [&](int ms) { return t0 + Micros(ms * 1000); };
  held.drawn(at(0), false);
  held.captured();
  held.drawn(at(10), true);  // waited, but the capture before found none waiting
  EXPECT_EQ(held.waitUntil(at(30), interval), at(30));
  held.captured();
  held.drawn(at(30), true);  // a stream now, 20 ms apart: the next is due at 50, 1.25 periods at 55
  EXPECT_EQ(held.waitUntil(at(45), interval), at(55));
  EXPECT_EQ(held.waitUntil(at(38), interval), at(38)) << "the next is further off than this one is old";
  held.captured();
  held.drawn(at(60), true);  // 30 ms apart: about the rate's 33 (over 3/4 of it)
  EXPECT_EQ(held.waitUntil(at(80), interval), at(80));
  held.captured();
  held.drawn(at(100), true);  // 40 ms apart: slower than the rate
  EXPECT_EQ(held.waitUntil(at(120), interval), at(120));
  held.captured();
  EXPECT_FALSE(held.waiting());
}

// A picture drawn in pieces (XPutImage goes in 256 KB requests) is one drawing: its period
// runs from start to start, and its age from its last piece.
TEST(HeldDrawings, ADrawingInPiecesIsOneDrawing) {
  using Clock = HeldDrawings::Clock;
  const Clock::time_point t0{};
  const Micros interval{33333};
  HeldDrawings held(Micros(3500));
  auto drawInPieces = [&](Micros start, bool isHeld) {
    for (int i = 0; i < 3; ++i) held.drawn(t0 + start + i * Micros(2000), isHeld);
  };
  drawInPieces(Micros(0), false);
  held.captured();
  drawInPieces(kSixtyHz, true);
  held.captured();
  drawInPieces(kSixtyHz * 2, true);  // its last piece at 37.3 ms
  EXPECT_EQ(held.lastPieceAt(), t0 + kSixtyHz * 2 + Micros(4000));
  // At 46 ms the next is due in 4 ms, and this one is 8.7 ms old: wait, to 1.25 periods.
  const auto until = held.waitUntil(t0 + Micros(46000), interval);
  EXPECT_EQ(std::chrono::duration_cast<Micros>(until - t0), kSixtyHz * 3 + kSixtyHz / 4);
  // At 40 ms the next is due in 10 ms, and this one is only 2.7 ms old: taken now.
  EXPECT_EQ(held.waitUntil(t0 + Micros(40000), interval), t0 + Micros(40000));
}

// Drawn at the frame rate itself (a 60 Hz video shared at 60 fps), after the schedule ran
// ahead of the drawings (four captures of one drawing's pieces): each capture is held back at
// first, then the schedule falls back onto the drawings, and every one is captured as it
// lands. With a schedule moved on by whole intervals it would stay ahead for good.
TEST(ChangeSchedule, FallsBackOntoDrawingsAtTheRateAfterRunningAhead) {
  const ChangeSchedule::Clock::time_point t0{};
  ChangeSchedule schedule(t0);
  auto landsAt = [&](int k) { return t0 + k * kSixtyHz + Micros(5000); };
  for (int i = 0; i < 4; ++i) schedule.captured(landsAt(0) + kSettle + i * Micros(1000), kSixtyHz);
  std::vector<Micros> delays;  // from each drawing to its capture
  for (int k = 1; k <= 120; ++k) {
    const auto at = std::max(landsAt(k) + kSettle, schedule.earliest(kSixtyHz));
    delays.push_back(std::chrono::duration_cast<Micros>(at - landsAt(k)));
    schedule.captured(at, kSixtyHz);
  }
  EXPECT_GT(delays.front(), kSettle + Micros(8000)) << "the schedule did not start ahead";
  for (std::size_t i = 1; i < delays.size(); ++i) EXPECT_LE(delays[i], delays[i - 1]) << "frame " << i + 1;
  // After about a second (3% of an interval a frame, for the two intervals it was ahead: 64 frames).
  for (std::size_t i = 70; i < delays.size(); ++i) EXPECT_EQ(delays[i], kSettle) << "frame " << i + 1;
}

// Drawings twice as fast as the frame rate for 10 s: one capture an interval, plus at most
// 1/0.97 - 1 (3.1%).
TEST(ChangeSchedule, DrawingsFasterThanTheRateGetAtMostThreePercentMoreFrames) {
  const ChangeSchedule::Clock::time_point t0{};
  ChangeSchedule schedule(t0);
  const Micros every = kSixtyHz / 2;
  auto at = t0;
  int captures = 0;
  while (at < t0 + std::chrono::seconds(10)) {
    // The next drawing after the last capture, settled, as the schedule allows.
    const auto drawn = t0 + ((at - t0) / every + 1) * every;
    at = std::max(drawn + kSettle, schedule.earliest(kSixtyHz));
    schedule.captured(at, kSixtyHz);
    ++captures;
  }
  EXPECT_GE(captures, 600);
  EXPECT_LE(captures, 622);  // 600 / 0.97 = 618.6, and the first interval's allowance
}

TEST(Framebuffer, SavesAPngThatLoadsBack) {
  std::vector<std::uint8_t> px;
  SyntheticSource::render(96, 64, SceneMotion::Static, 0, px);
  CaptureSettings s;
  s.quality = 100;
  s.subsampling = Subsampling::S444;
  Framebuffer fb = roundTrip(px, 96, 64, s);
  EXPECT_EQ(fb.takeDirty().rects(), std::vector<base::Rect>({{0, 0, 96, 64}}));
  EXPECT_TRUE(fb.takeDirty().empty());
  std::string path = ::testing::TempDir() + "huddle_fb_test.png", error;
  ASSERT_TRUE(fb.savePng(path, error)) << error;
  int w = 0, h = 0, n = 0;
  unsigned char* rgb = stbi_load(path.c_str(), &w, &h, &n, 3);
  ASSERT_NE(rgb, nullptr);
  EXPECT_EQ(w, 96);
  EXPECT_EQ(h, 64);
  EXPECT_EQ(rgb[0], fb.pixels()[2]);  // R from BGRX
  EXPECT_EQ(rgb[2], fb.pixels()[0]);
  stbi_image_free(rgb);
  std::remove(path.c_str());
}

TEST(Figures, EncodeTimeOf1080pFullMotion) {
  // The time is a figure for the log (timing is the benchmark's job). What is checked: a
  // first 1080p frame is every tile, two encoder threads make exactly the bytes one makes,
  // and those bytes decode back to the scene.
  std::vector<std::uint8_t> px;
  SyntheticSource::render(1920, 1080, SceneMotion::Full, 1, px);
  Frame f = frameOf(px, 1920, 1080);
  DamageTracker damage(64);
  auto dirty = damage.update(f);
  ASSERT_EQ(dirty.size(), 30u * 17u);  // 64-px tiles; the last row is cropped to 56 px
  std::vector<std::vector<base::EncodedTile>> results;
  for (int threads : {1, 2}) {
    EncoderPool pool(threads);
    std::vector<base::EncodedTile> tiles;
    std::string error;
    ASSERT_TRUE(pool.encode(f, dirty, damage.tilesX(), CaptureSettings{}, tiles, error)) << error;
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(pool.encode(f, dirty, damage.tilesX(), CaptureSettings{}, tiles, error)) << error;
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() / 5;
    std::size_t bytes = 0;
    for (auto& t : tiles) bytes += t.jpeg.size;
    std::printf("[figure] 1080p Q80 4:2:0, %d thread(s): %.1f ms per frame, %zu KB\n", threads, ms, bytes / 1024);
    ASSERT_EQ(tiles.size(), dirty.size());
    results.push_back(std::move(tiles));
  }
  for (std::size_t i = 0; i < dirty.size(); ++i) {
    const base::EncodedTile &one = results[0][i], &two = results[1][i];
    ASSERT_EQ(one.tx, two.tx) << i;
    ASSERT_EQ(one.ty, two.ty) << i;
    ASSERT_EQ(one.kind, two.kind) << i;
    EXPECT_EQ(one.solidBgrx, two.solidBgrx) << i;
    EXPECT_TRUE(std::ranges::equal(one.jpeg.span(), two.jpeg.span())) << "tile " << i << " differs by thread count";
  }
  Framebuffer fb;
  fb.resize(1920, 1080);
  TileDecoder decoder;
  std::string error;
  ASSERT_TRUE(fb.apply(results[1], 64, decoder, error)) << error;
  const double p = psnr(px.data(), fb.pixels(), 1920, 1080);
  std::printf("[figure] 1080p Q80 4:2:0 round trip: %.1f dB\n", p);
  EXPECT_GE(p, 34.0);
}
