// Sharp when still on the sharing side: tiles sent as JPEG that stay still are sent again
// losslessly (the image a viewer rebuilds is then exactly the screen), tiles that keep
// changing stay JPEG, a refresh never exceeds its per-frame budget, and the toggle turns it off.
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <mutex>
#include <set>
#include <thread>

#include "capture/capture_pipeline.h"
#include "capture/damage.h"
#include "capture/framebuffer.h"
#include "capture/still_tiles.h"
#include "capture/synthetic_source.h"
#include "net/wire/limits.h"

using namespace huddle;
using namespace huddle::capture;

namespace {

// A still screen of noise: about 3 bytes a pixel however it is compressed losslessly.
class NoiseSource : public ScreenSource {
 public:
  NoiseSource(int w, int h) : m_w(w), m_h(h) {}
  bool open(std::string&) override {
    m_pixels.resize(std::size_t(m_w) * m_h * 4);
    std::uint32_t x = 12345;
    for (auto& b : m_pixels) b = static_cast<std::uint8_t>((x = x * 1664525u + 1013904223u) >> 24);
    return true;
  }
  CaptureResult capture(Frame& f, std::string&) override {
    f.widthPx = m_w;
    f.heightPx = m_h;
    f.strideBytes = m_w * 4;
    f.pixels = m_pixels.data();
    f.seq = m_seq++;
    m_changed.clear();
    if (f.seq == 0) m_changed.push_back({0, 0, m_w, m_h});
    f.changed = &m_changed;
    return CaptureResult::Ok;
  }
  std::string title() const override { return "Noise"; }

 private:
  int m_w, m_h;
  std::uint64_t m_seq = 0;
  std::vector<std::uint8_t> m_pixels;
  std::vector<base::Rect> m_changed;
};

// Runs a pipeline over a source and keeps every update it makes.
class Recorder {
 public:
  Recorder(int w, int h, SceneMotion motion, CaptureSettings s)
      : Recorder(std::make_unique<SyntheticSource>(w, h, motion), s) {}
  Recorder(std::unique_ptr<ScreenSource> source, CaptureSettings s)
      : m_pipeline(std::move(source), s, 2, [this](EncodedUpdate&& u) {
          std::lock_guard lock(m_mutex);
          m_updates.push_back(std::move(u));
        }) {}
  bool start(std::string& error) { return m_pipeline.start(error); }
  void stop() { m_pipeline.stop(); }
  CapturePipeline& pipeline() { return m_pipeline; }
  // Waits (bounded) until `done(updates)` holds; true if it did.
  template <typename F>
  bool waitUntil(F done, int maxMs = 10000) {
    for (int waited = 0; waited < maxMs; waited += 10) {
      {
        std::lock_guard lock(m_mutex);
        if (done(m_updates)) return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }
  std::vector<EncodedUpdate> updates() {
    std::lock_guard lock(m_mutex);
    return m_updates;
  }

 private:
  std::mutex m_mutex;
  std::vector<EncodedUpdate> m_updates;
  CapturePipeline m_pipeline;
};

std::size_t losslessCount(const std::vector<EncodedUpdate>& updates) {
  std::size_t n = 0;
  for (const auto& u : updates)
    for (const auto& t : u.tiles) n += base::isLosslessKind(t.kind);
  return n;
}

// Tiles of the scene that differ between two frames: where it moves.
std::set<std::uint32_t> movingTiles(int w, int h, SceneMotion motion, int tile) {
  std::vector<std::uint8_t> a, b;
  SyntheticSource::render(w, h, motion, 1, a);
  SyntheticSource::render(w, h, motion, 2, b);
  const int cols = (w + tile - 1) / tile;
  std::set<std::uint32_t> moving;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const std::size_t at = (std::size_t(y) * w + x) * 4;
      if (std::memcmp(&a[at], &b[at], 3) != 0) moving.insert(std::uint32_t((y / tile) * cols + x / tile));
    }
  return moving;
}

}  // namespace

TEST(StillTiles, OnlyLossyTilesStillForTheStillTimeAreDue) {
  StillTiles still;
  still.reset(4);
  still.changed(0, base::TileKind::JpegScan, 100, 1000);
  still.changed(1, base::TileKind::Solid, 9, 1000);
  still.changed(2, base::TileKind::Jpeg, 100, 5000);
  still.changed(3, base::TileKind::Palette, 50, 1000);
  EXPECT_EQ(still.lossyTiles(), 2u);
  EXPECT_EQ(still.streamBytes(), 259u);
  std::vector<std::uint32_t> due;
  still.due(1000 + 299, 300, 10, due);
  EXPECT_TRUE(due.empty());
  still.due(1000 + 300, 300, 10, due);
  EXPECT_EQ(due, std::vector<std::uint32_t>{0});
  due.clear();
  still.due(5300, 300, 10, due);
  EXPECT_EQ(due.size(), 2u);
  EXPECT_TRUE(still.sendLossless(0, 120));
  EXPECT_FALSE(still.sendLossless(0, 120)) << "already exact";
  EXPECT_EQ(still.lossyTiles(), 1u);
  EXPECT_EQ(still.streamBytes(), 279u);
  // Changing again makes it lossy again, and it waits the still time anew.
  still.changed(0, base::TileKind::JpegScan, 90, 6000);
  due.clear();
  still.due(6100, 300, 10, due);
  EXPECT_EQ(due, std::vector<std::uint32_t>{2});
}

TEST(StillTiles, DueTakesAFewAtATimeFromWhereItStoppedAndResumesAtAPostponedTile) {
  StillTiles still;
  still.reset(10);
  for (std::uint32_t i = 0; i < 10; ++i) still.changed(i, base::TileKind::JpegScan, 10, 0);
  std::vector<std::uint32_t> due;
  still.due(1000, 300, 3, due);
  EXPECT_EQ(due, (std::vector<std::uint32_t>{0, 1, 2}));
  due.clear();
  still.due(1000, 300, 3, due);
  EXPECT_EQ(due, (std::vector<std::uint32_t>{3, 4, 5}));
  still.resumeAt(4);
  due.clear();
  still.due(1000, 300, 3, due);
  EXPECT_EQ(due, (std::vector<std::uint32_t>{4, 5, 6}));
}

TEST(StillTiles, ALosslessTileOverTheStreamBudgetIsNotSentNorTriedAgainUntilItChanges) {
  StillTiles still;
  still.reset(2);
  const std::size_t big = wire::kMaxSharpStreamBytes - 1000;
  still.changed(0, base::TileKind::JpegScan, big, 0);
  still.changed(1, base::TileKind::JpegScan, 500, 0);
  EXPECT_FALSE(still.sendLossless(1, 1501)) << "would take the stream over its budget";
  EXPECT_EQ(still.lossyTiles(), 2u) << "the viewer's image is still not exact there";
  std::vector<std::uint32_t> due;
  still.due(1'000'000, 300, 10, due);
  EXPECT_EQ(due, std::vector<std::uint32_t>{0});
  EXPECT_TRUE(still.sendLossless(1 - 1, big)) << "the same size fits";
  still.changed(1, base::TileKind::JpegScan, 400, 2'000'000);
  due.clear();
  still.due(3'000'000, 300, 10, due);
  EXPECT_EQ(due, std::vector<std::uint32_t>{1}) << "changed: due again";
}

TEST(SharpWhenStill, StillTilesTurnLosslessAndTheRebuiltImageIsExactWhileMovingTilesStayJpeg) {
  const int w = 640, h = 360;
  CaptureSettings s;
  s.exactFewColours = false;  // every changed tile JPEG first, as photo-like content is
  s.fps = 30;
  s.stillMs = wire::kMinStillMs;
  Recorder rec(w, h, SceneMotion::Partial, s);
  const std::set<std::uint32_t> moving = movingTiles(w, h, SceneMotion::Partial, 64);
  ASSERT_FALSE(moving.empty());
  const std::size_t total = std::size_t((w + 63) / 64) * ((h + 63) / 64);
  ASSERT_LT(moving.size(), total / 2);
  std::string error;
  ASSERT_TRUE(rec.start(error)) << error;
  // Until every still tile's latest version is exact (and then a few frames more).
  auto stillExact = [&](const std::vector<EncodedUpdate>& updates) {
    std::vector<base::TileKind> latest(total, base::TileKind::JpegScan);
    for (const auto& u : updates)
      for (const auto& t : u.tiles) latest[std::size_t(t.ty) * ((w + 63) / 64) + t.tx] = t.kind;
    for (std::size_t i = 0; i < total; ++i)
      if (!moving.count(std::uint32_t(i)) && !base::isExactKind(latest[i])) return false;
    return true;
  };
  ASSERT_TRUE(rec.waitUntil(stillExact));
  const std::size_t framesThen = rec.updates().size();
  ASSERT_TRUE(rec.waitUntil([&](const auto& u) { return u.size() >= framesThen + 10; }));
  rec.stop();
  const auto updates = rec.updates();
  EXPECT_GT(losslessCount(updates), 0u);
  // Moving tiles: JPEG in every update, never refreshed.
  for (const auto& u : updates)
    for (const auto& t : u.tiles)
      if (moving.count(std::uint32_t(t.ty) * ((w + 63) / 64) + t.tx)) {
        EXPECT_FALSE(base::isLosslessKind(t.kind)) << "moving tile (" << t.tx << "," << t.ty << ") in frame " << u.seq;
      }
  // Rebuilt as a viewer would: outside the moving tiles, byte for byte the scene.
  Framebuffer fb;
  fb.resize(w, h);
  TileDecoder decoder;
  for (const auto& u : updates) ASSERT_TRUE(fb.apply(u.tiles, 64, decoder, error)) << error;
  std::vector<std::uint8_t> expected;
  SyntheticSource::render(w, h, SceneMotion::Partial, updates.back().seq, expected);
  std::size_t differing = 0;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      if (moving.count(std::uint32_t((y / 64) * ((w + 63) / 64) + x / 64))) continue;
      const std::size_t at = (std::size_t(y) * w + x) * 4;
      differing += std::memcmp(fb.pixels() + at, expected.data() + at, 4) != 0;
    }
  EXPECT_EQ(differing, 0u);
  EXPECT_EQ(rec.pipeline().stats().lossyTiles, moving.size());
  EXPECT_GT(rec.pipeline().stats().sharpBytes, 0u);
}

TEST(SharpWhenStill, ARefreshIsSpreadOverFramesWithinItsBudget) {
  // 640x480 of noise: about 900 KB lossless, several frames' worth of the refresh budget.
  CaptureSettings s;
  s.fps = 30;
  s.stillMs = wire::kMinStillMs;
  Recorder rec(std::make_unique<NoiseSource>(640, 480), s);
  std::string error;
  ASSERT_TRUE(rec.start(error)) << error;
  const std::size_t total = 10 * 8;
  ASSERT_TRUE(rec.waitUntil([&](const auto& updates) {
    std::set<std::uint32_t> exact;
    for (std::size_t k = 1; k < updates.size(); ++k)
      for (const auto& t : updates[k].tiles) exact.insert(std::uint32_t(t.ty) * 10 + t.tx);
    return exact.size() >= total;
  }, 30000));
  rec.stop();
  const auto updates = rec.updates();
  std::size_t refreshUpdates = 0;
  for (std::size_t k = 1; k < updates.size(); ++k) {
    std::size_t bytes = 0;
    for (const auto& t : updates[k].tiles) {
      EXPECT_EQ(t.kind, base::TileKind::ZstdPixels);
      bytes += t.jpeg.size;
    }
    EXPECT_LE(bytes, wire::kSharpBytesPerTick) << "update " << k;
    ++refreshUpdates;
  }
  EXPECT_GE(refreshUpdates, 3u) << "the refresh took several frames";
  EXPECT_EQ(rec.pipeline().stats().lossyTiles, 0u);
}

TEST(SharpWhenStill, TurnedOffNothingIsSentAgain) {
  CaptureSettings s;
  s.fps = 60;
  s.stillMs = wire::kMinStillMs;
  s.sharpWhenStill = false;
  Recorder rec(320, 200, SceneMotion::Static, s);
  std::string error;
  ASSERT_TRUE(rec.start(error)) << error;
  // 30 frames at 60 fps: far past the still time.
  for (int i = 0; i < 500 && rec.pipeline().stats().framesCaptured < 30; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_GE(rec.pipeline().stats().framesCaptured, 30u);
  EXPECT_EQ(rec.updates().size(), 1u);
  EXPECT_GT(rec.pipeline().stats().lossyTiles, 0u);
  // Turned on live: the still tiles go now.
  s.sharpWhenStill = true;
  rec.pipeline().setSettings(s);
  for (int i = 0; i < 1000 && rec.pipeline().stats().lossyTiles > 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  rec.stop();
  EXPECT_GT(losslessCount(rec.updates()), 0u);
  EXPECT_EQ(rec.updates().front().tiles.size(), 20u);
  EXPECT_EQ(rec.pipeline().stats().lossyTiles, 0u);
}

TEST(SyntheticScene, TheSettlingSceneMovesEveryPixelThenGoesStill) {
  SyntheticSource src(320, 200, SceneMotion::Settle);
  std::string error;
  ASSERT_TRUE(src.open(error));
  DamageTracker damage(64);
  Frame f;
  std::vector<std::uint8_t> expected;
  for (std::uint64_t n = 0; n < kSettleFrames + 5; ++n) {
    ASSERT_EQ(src.capture(f, error), CaptureResult::Ok);
    const std::size_t dirty = damage.update(f).size();
    if (n > 0 && n < kSettleFrames) {
      EXPECT_EQ(dirty, 20u) << "frame " << n;
    }
    if (n >= kSettleFrames) {
      EXPECT_EQ(dirty, 0u) << "frame " << n;
    }
    // What it captured is what render() says for that frame number.
    SyntheticSource::render(320, 200, SceneMotion::Settle, n, expected);
    ASSERT_EQ(std::memcmp(f.pixels, expected.data(), expected.size()), 0) << "frame " << n;
  }
  std::vector<std::uint8_t> last, later;
  SyntheticSource::render(320, 200, SceneMotion::Settle, kSettleFrames - 1, last);
  SyntheticSource::render(320, 200, SceneMotion::Settle, 1000, later);
  EXPECT_EQ(last, later);
}
