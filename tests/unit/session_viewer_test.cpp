// A viewer's image, stats and screenshots: the window never waits for a decode (the decoder
// takes no lock while it decodes), stats are copies, and screenshots are written by a
// worker into the XDG pictures folder, saying where (or why not).
#include <gtest/gtest.h>
#include <stb_image.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include "app/session/image_saver.h"
#include "app/session/stream_stats.h"
#include "app/session/stream_view.h"
#include "capture/synthetic_source.h"
#include "capture/tile_codec.h"
#include "net/base/clock.h"

namespace huddle {
namespace {

// Frame `frame` of a synthetic w x h scene (full motion), its pixels in `pixels`.
capture::Frame sceneFrame(int w, int h, std::uint64_t frame, std::vector<std::uint8_t>& pixels) {
  capture::SyntheticSource::render(w, h, capture::SceneMotion::Full, frame, pixels);
  capture::Frame f;
  f.widthPx = w;
  f.heightPx = h;
  f.strideBytes = w * 4;
  f.pixels = pixels.data();
  return f;
}

// Every tile of a synthetic w x h scene, encoded as a sharer would.
wire::TileBatch sceneBatch(int w, int h, std::uint64_t frame, std::vector<std::uint8_t>& pixels) {
  const capture::Frame f = sceneFrame(w, h, frame, pixels);
  capture::CaptureSettings s;
  wire::TileBatch b;
  b.seq = frame;
  b.widthPx = static_cast<std::uint32_t>(w);
  b.heightPx = static_cast<std::uint32_t>(h);
  b.tileSizePx = static_cast<std::uint16_t>(s.tileSizePx);
  capture::TileEncoder encoder;
  std::string error;
  for (int ty = 0; ty * s.tileSizePx < h; ++ty)
    for (int tx = 0; tx * s.tileSizePx < w; ++tx) {
      base::EncodedTile t;
      EXPECT_TRUE(encoder.encode(f, tx, ty, s.tileSizePx, s, t, error)) << error;
      b.tiles.push_back(std::move(t));
    }
  return b;
}

wire::StreamInfo infoOf(const wire::TileBatch& b, const std::string& owner = "alice") {
  wire::StreamInfo info;
  info.streamId = 1;
  info.ownerName = owner;
  info.widthPx = b.widthPx;
  info.heightPx = b.heightPx;
  info.tileSizePx = b.tileSizePx;
  return info;
}

base::EncodedTile solid(std::uint16_t tx, std::uint16_t ty, std::uint32_t bgrx) {
  base::EncodedTile t;
  t.tx = tx;
  t.ty = ty;
  t.kind = base::TileKind::Solid;
  t.solidBgrx = bgrx;
  return t;
}

std::uint32_t pixelAt(const capture::Framebuffer& fb, int x, int y) {
  const std::uint8_t* p = fb.pixels() + std::size_t(y) * fb.strideBytes() + std::size_t(x) * 4;
  return p[0] | p[1] << 8 | p[2] << 16;
}

// A scratch folder, removed at the end even if the test fails.
struct TempDir {
  std::string path;
  TempDir() {
    std::string tmpl = ::testing::TempDir() + "huddle-viewer-XXXXXX";
    path = ::mkdtemp(tmpl.data()) ? tmpl : "";
  }
  ~TempDir() {
    std::error_code ec;
    if (!path.empty()) std::filesystem::remove_all(path, ec);
  }
};

// Sets an environment variable for one test and puts the old value back.
struct EnvVar {
  std::string name, old;
  bool had;
  EnvVar(const char* n, const std::string& value) : name(n) {
    const char* v = std::getenv(n);
    had = v != nullptr;
    if (had) old = v;
    ::setenv(n, value.c_str(), 1);
  }
  ~EnvVar() {
    if (had) ::setenv(name.c_str(), old.c_str(), 1);
    else ::unsetenv(name.c_str());
  }
};

// Polls like the window does, once a frame, until there is a result (at most 30 s).
std::optional<session::SaveResult> waitForSave(const std::function<std::optional<session::SaveResult>()>& poll) {
  for (int i = 0; i < 30'000 / 5; ++i) {
    if (auto r = poll()) return r;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return std::nullopt;
}

}  // namespace

TEST(StreamView, AWholeUpdateDecodesWhileTheWindowHoldsTheImage) {
  // A 4K update of 2040 JPEG tiles. The window holds the image lock (inside consume()) for
  // as long as the decode takes: the decode must finish anyway, so it never needs that
  // lock, and so the window never waits for a decode. (When the image lock was held for the
  // whole decode, this waited out its 60 s and failed.)
  std::vector<std::uint8_t> pixels;
  const wire::TileBatch big = sceneBatch(3840, 2160, 7, pixels);
  session::StreamView view(infoOf(big));
  std::mutex m;
  std::condition_variable cv;
  bool decoded = false, decodedOk = false, decodedWhileHeld = false;
  std::int64_t decodeUs = 0;
  std::string error;
  std::thread decoder;
  view.consume([&](const capture::Framebuffer& fb, const base::DirtyRects& dirty) {
    EXPECT_EQ(fb.widthPx(), 0);
    EXPECT_TRUE(dirty.empty());
    decoder = std::thread([&] {
      capture::TileDecoder d;
      const std::int64_t t0 = base::monoUs();
      const bool ok = view.decode(big, d, error);
      decodeUs = base::monoUs() - t0;
      {
        std::lock_guard lock(m);
        decoded = true;
        decodedOk = ok;
      }
      cv.notify_all();
    });
    std::unique_lock lock(m);
    decodedWhileHeld = cv.wait_for(lock, std::chrono::seconds(60), [&] { return decoded; });
    // Not shown yet: readers see whole updates, never half of one.
    EXPECT_EQ(view.updatesApplied(), 0u);
  });
  decoder.join();
  EXPECT_TRUE(decodedWhileHeld) << "the decode waited for the window's lock";
  ASSERT_TRUE(decodedOk) << error;
  view.publish();  // the decode thread's other half (joined: it happens after)
  EXPECT_EQ(view.updatesApplied(), 1u);
  EXPECT_EQ(view.lastSeq(), 7u);
  EXPECT_GT(view.quality(), 0);

  // Exactly what decoding in place gives, all of it marked for upload.
  capture::Framebuffer expected;
  expected.resize(3840, 2160);
  capture::TileDecoder d;
  ASSERT_TRUE(expected.apply(big.tiles, big.tileSizePx, d, error)) << error;
  view.consume([&](const capture::Framebuffer& fb, const base::DirtyRects& dirty) {
    ASSERT_EQ(fb.widthPx(), 3840);
    ASSERT_EQ(fb.heightPx(), 2160);
    EXPECT_EQ(dirty.rects(), std::vector<base::Rect>({{0, 0, 3840, 2160}}));
    EXPECT_EQ(std::memcmp(fb.pixels(), expected.pixels(), std::size_t(3840) * 2160 * 4), 0);
  });
  EXPECT_EQ(view.stats().snapshot(0).widthPx, 3840u);

  // A figure for the log, not a pass/fail: a whole 4K update again, now that the image is
  // that size; publish() is all the image lock is held for.
  ASSERT_TRUE(view.decode(big, d, error)) << error;
  const std::int64_t t0 = base::monoUs();
  view.publish();
  std::printf("[figure] 4K full update: decode %.1f ms without the image lock, then %.1f ms under it\n",
              static_cast<double>(decodeUs) / 1e3, static_cast<double>(base::monoUs() - t0) / 1e3);
  view.consume([](const capture::Framebuffer&, const base::DirtyRects&) {});

  // The next, small update: only its tile is marked; the rest stays as it was.
  wire::TileBatch small = big;
  small.seq = 8;
  small.tiles = {solid(59, 33, 0x00123456)};  // the bottom-right corner, cropped to 64x48
  ASSERT_TRUE(view.apply(small, d, error)) << error;
  view.consume([&](const capture::Framebuffer& fb, const base::DirtyRects& dirty) {
    EXPECT_EQ(dirty.rects(), std::vector<base::Rect>({{3776, 2112, 64, 48}}));
    EXPECT_EQ(pixelAt(fb, 3839, 2159), 0x123456u);
    EXPECT_EQ(pixelAt(fb, 0, 0), pixelAt(expected, 0, 0));
  });
}

TEST(StreamView, BadTilesAreLeftOutAndTheRestShownInOrder) {
  wire::TileBatch b;
  b.seq = 1;
  b.widthPx = 100;
  b.heightPx = 70;
  b.tileSizePx = 64;
  b.tiles = {solid(0, 0, 0x000000FF), solid(5, 0, 0x0000FF00), solid(1, 1, 0x00FF0000), solid(0, 0, 0x00ABCDEF)};
  base::EncodedTile junk;
  junk.tx = 1;
  junk.kind = base::TileKind::Jpeg;  // no bytes at all
  b.tiles.push_back(junk);
  session::StreamView view(infoOf(b));
  capture::TileDecoder d;
  std::string error;
  EXPECT_FALSE(view.apply(b, d, error));
  EXPECT_NE(error.find("tile (5,0): tile outside the image"), std::string::npos) << error;
  EXPECT_EQ(view.updatesApplied(), 1u);
  view.consume([&](const capture::Framebuffer& fb, const base::DirtyRects& dirty) {
    EXPECT_EQ(dirty.rects(), std::vector<base::Rect>({{0, 0, 100, 70}}));  // a new size: all of it
    EXPECT_EQ(pixelAt(fb, 10, 10), 0xABCDEFu);      // the tile's last copy
    EXPECT_EQ(pixelAt(fb, 99, 69), 0xFF0000u);
    EXPECT_EQ(pixelAt(fb, 70, 10), 0u);             // the bad tile left nothing
  });
}

// Whether `a` shows `b`'s pixels in the rectangle, but for the columns either side of a seam
// between 64-pixel tiles: decoded as a strip, their chroma is smoothed with the next tile's
// (libjpeg's fancy upsampling), decoded alone with their own edge. There a channel may differ
// a little.
::testing::AssertionResult sameButAtSeams(const capture::Framebuffer& a, const capture::Framebuffer& b, base::Rect r) {
  for (int y = r.y; y < r.bottom(); ++y)
    for (int x = r.x; x < r.right(); ++x) {
      const std::uint32_t p = pixelAt(a, x, y), q = pixelAt(b, x, y);
      const bool seam = x % 64 == 0 || x % 64 == 63;
      for (int c = 0; c < 24; c += 8) {
        const int d = std::abs(int(p >> c & 0xFF) - int(q >> c & 0xFF));
        if (d > (seam ? 12 : 0))
          return ::testing::AssertionFailure() << "at (" << x << "," << y << "): " << std::hex << p << " against " << q;
      }
    }
  return ::testing::AssertionSuccess();
}

// Tiles a sharer cut from strips (side by side in a row) decode as those strips, to the pixels
// of decoding them one by one (but where a tile meets the next); a bad tile in a strip is left
// out alone (named in the error), and the rest of its strip still shows.
TEST(StreamView, TilesCutFromAStripDecodeAsItAndABadOneIsLeftOutAlone) {
  const int w = 600, h = 150, tile = 64, tilesX = 10;  // 10 x 3 tiles, column 9 and row 2 cropped
  std::vector<std::uint8_t> pixels;
  capture::Frame f = sceneFrame(w, h, 3, pixels);
  capture::CaptureSettings s;
  s.exactFewColours = false;
  std::vector<std::uint32_t> all(30);
  for (std::uint32_t i = 0; i < 30; ++i) all[i] = i;
  wire::TileBatch b;
  b.seq = 1;
  b.widthPx = w;
  b.heightPx = h;
  b.tileSizePx = tile;
  b.tiles.resize(all.size());
  capture::TileEncoder encoder;
  std::string error;
  ASSERT_TRUE(encoder.encodeRun(f, all, tilesX, tile, s, b.tiles, error)) << error;
  ASSERT_EQ(encoder.tilesInStrips(), 27u);  // every row but its cropped last column
  capture::Framebuffer expected;
  expected.resize(w, h);
  capture::TileDecoder one;
  ASSERT_TRUE(expected.apply(b.tiles, tile, one, error)) << error;

  session::StreamView view(infoOf(b));
  capture::TileDecoder d;
  ASSERT_TRUE(view.apply(b, d, error)) << error;
  EXPECT_EQ(d.stripsDecoded(), 3u);
  view.consume([&](const capture::Framebuffer& fb, const base::DirtyRects&) { EXPECT_TRUE(sameButAtSeams(fb, expected, {0, 0, w, h})); });

  // The next update: row 1 from another frame, but (4,1) is a scan without its restarts that
  // says it has them. Row 1 but that tile shows the other frame; that tile stays as it was.
  wire::TileBatch next = b;
  next.seq = 2;
  std::vector<std::uint8_t> other;
  f = sceneFrame(w, h, 40, other);
  std::vector<base::EncodedTile> row(9);
  ASSERT_TRUE(encoder.encodeRun(f, std::span<const std::uint32_t>(all).subspan(10, 9), tilesX, tile, s, row, error))
      << error;
  for (int k = 0; k < 9; ++k) next.tiles[std::size_t(10 + k)] = row[std::size_t(k)];
  capture::Framebuffer otherExpected;
  otherExpected.resize(w, h);
  ASSERT_TRUE(otherExpected.apply(row, tile, one, error)) << error;
  base::EncodedTile plain;
  ASSERT_TRUE(encoder.encode(f, 4, 1, tile, s, plain, error)) << error;
  ASSERT_EQ(plain.kind, base::TileKind::JpegScan);
  ASSERT_FALSE(plain.jpegRowRestarts);
  plain.jpegRowRestarts = true;  // what it is not
  next.tiles[14] = plain;
  EXPECT_FALSE(view.apply(next, d, error));
  EXPECT_NE(error.find("tile (4,1)"), std::string::npos) << error;
  view.consume([&](const capture::Framebuffer& fb, const base::DirtyRects&) {
    EXPECT_TRUE(sameButAtSeams(fb, otherExpected, {0, tile, 4 * tile, tile}));
    EXPECT_TRUE(sameButAtSeams(fb, expected, {4 * tile, tile, tile, tile}));
    EXPECT_TRUE(sameButAtSeams(fb, otherExpected, {5 * tile, tile, 4 * tile, tile}));
    EXPECT_TRUE(sameButAtSeams(fb, expected, {0, 0, w, tile}));  // row 0 as before
  });
}

// A viewer on a lower tier holds a smaller image than the stream, while the cursor comes in
// the stream's pixels: a snapshot with the cursor puts it where the window shows it, at
// the image's scale.
TEST(StreamView, TheCursorInASnapshotOfALowerTierIsAtThatTiersScale) {
  wire::TileBatch half;  // tier 2: half of a 200x140 stream
  half.seq = 1;
  half.widthPx = 100;
  half.heightPx = 70;
  half.tileSizePx = 64;
  half.tiles = {solid(0, 0, 0x00FFFFFF), solid(1, 0, 0x00FFFFFF), solid(0, 1, 0x00FFFFFF), solid(1, 1, 0x00FFFFFF)};
  wire::StreamInfo info = infoOf(half);
  info.widthPx = 200;
  info.heightPx = 140;
  session::StreamView view(info);
  capture::TileDecoder d;
  std::string error;
  ASSERT_TRUE(view.apply(half, d, error)) << error;
  base::CursorImage arrow;
  arrow.id = 7;
  arrow.widthPx = arrow.heightPx = 8;
  arrow.rgba.resize(8 * 8 * 4);
  for (std::size_t i = 0; i < arrow.rgba.size(); i += 4) arrow.rgba[i] = arrow.rgba[i + 3] = 255;  // opaque red
  ASSERT_TRUE(view.setCursorShape(std::move(arrow), error)) << error;
  ASSERT_TRUE(view.setCursorPosition({7, 100, 60, true}, error)) << error;  // the stream's middle
  session::BgrxImage image;
  ASSERT_TRUE(view.copyImage(image, error)) << error;
  view.drawCursorInto(image);
  auto at = [&](int x, int y) {
    const std::uint8_t* p = &image.pixels[(std::size_t(y) * image.widthPx + x) * 4];
    return std::uint32_t(p[0] | p[1] << 8 | p[2] << 16);
  };
  EXPECT_EQ(at(50, 30), 0xFF0000u);  // the hot spot, at half the stream's coordinates
  EXPECT_EQ(at(53, 33), 0xFF0000u);  // the shape at half its size: 4x4
  EXPECT_EQ(at(54, 34), 0xFFFFFFu);
  EXPECT_EQ(at(49, 29), 0xFFFFFFu);
}

TEST(StreamStats, ASnapshotIsACopyThatLeavesTheWindowAlone) {
  session::StreamStats stats(1'000'000);
  for (int i = 0; i < 100; ++i) stats.record(10'000'000 + i * 10'000, 1000, 2, 1.0, static_cast<double>(i + 1));
  const auto later = stats.snapshot(13'000'000);  // everything aged out of the window
  EXPECT_EQ(later.updatesPerSec, 0.0);
  EXPECT_EQ(later.updates, 100u);
  // Reading did not change what others read (it used to drop the samples it found old).
  const auto now = stats.snapshot(10'990'000);
  EXPECT_NEAR(now.updatesPerSec, 100.0, 0.01);
  EXPECT_DOUBLE_EQ(now.latencyMsP99, 99.0);
}

TEST(StreamStats, SnapshotsTakenWhileRecordingAreWhole) {
  // Each snapshot is one moment: totals that belong together stay together.
  session::StreamStats stats(1'000'000);
  constexpr int kUpdates = 20'000;
  std::thread writer([&] {
    for (int i = 0; i < kUpdates; ++i) stats.record(i * 100, 300, 3, 0.5, 10.0);
  });
  std::uint64_t seen = 0;
  bool whole = true;
  while (seen < kUpdates) {
    const auto s = stats.snapshot(std::int64_t(seen) * 100);
    whole = whole && s.bytes == s.updates * 300 && s.tiles == s.updates * 3 && s.updates >= seen;
    seen = s.updates;
  }
  writer.join();
  EXPECT_TRUE(whole);
  EXPECT_EQ(stats.snapshot(kUpdates * 100).updates, std::uint64_t(kUpdates));
}

TEST(ImageSaver, PicturesFolderFollowsXdgUserDirs) {
  TempDir tmp;
  ASSERT_FALSE(tmp.path.empty());
  EnvVar home("HOME", tmp.path + "/home");
  EnvVar config("XDG_CONFIG_HOME", tmp.path + "/config");
  // No user-dirs.dirs: ~/Pictures.
  EXPECT_EQ(session::picturesDir(), tmp.path + "/home/Pictures");
  std::filesystem::create_directories(tmp.path + "/config");
  auto write = [&](const std::string& text) { std::ofstream(tmp.path + "/config/user-dirs.dirs") << text; };
  write("# written by xdg-user-dirs-update\nXDG_DESKTOP_DIR=\"$HOME/Desktop\"\nXDG_PICTURES_DIR=\"$HOME/Bilder\"\n");
  EXPECT_EQ(session::picturesDir(), tmp.path + "/home/Bilder");
  write("  XDG_PICTURES_DIR=\"/srv/shots/with \\\"quotes\\\"\"\n");
  EXPECT_EQ(session::picturesDir(), "/srv/shots/with \"quotes\"");
  write("XDG_PICTURES_DIR=\"Pictures\"\n");  // neither absolute nor under $HOME: not believed
  EXPECT_EQ(session::picturesDir(), tmp.path + "/home/Pictures");
  {
    EnvVar noXdg("XDG_CONFIG_HOME", "");  // then ~/.config/user-dirs.dirs
    std::filesystem::create_directories(tmp.path + "/home/.config");
    std::ofstream(tmp.path + "/home/.config/user-dirs.dirs") << "XDG_PICTURES_DIR=\"$HOME/Fotos\"\n";
    EXPECT_EQ(session::picturesDir(), tmp.path + "/home/Fotos");
  }
}

TEST(ImageSaver, WritesAPngIntoTheFolderItCreatedAndSaysWhere) {
  TempDir tmp;
  ASSERT_FALSE(tmp.path.empty());
  EnvVar home("HOME", tmp.path + "/home");
  EnvVar config("XDG_CONFIG_HOME", tmp.path + "/config");
  std::filesystem::create_directories(tmp.path + "/config");
  std::ofstream(tmp.path + "/config/user-dirs.dirs") << "XDG_PICTURES_DIR=\"$HOME/Shots\"\n";
  const std::string folder = tmp.path + "/home/Shots";
  ASSERT_FALSE(std::filesystem::exists(folder));

  session::BgrxImage image;
  image.widthPx = 37;
  image.heightPx = 23;
  for (int y = 0; y < 23; ++y)
    for (int x = 0; x < 37; ++x)
      image.pixels.insert(image.pixels.end(), {std::uint8_t(x * 6), std::uint8_t(y * 11), std::uint8_t(x + y), 0xFF});
  const session::BgrxImage original = image;

  session::ImageSaver saver;
  EXPECT_FALSE(saver.poll());
  ASSERT_TRUE(saver.start(image, "shot"));
  auto r = waitForSave([&] { return saver.poll(); });
  ASSERT_TRUE(r);
  ASSERT_TRUE(r->ok) << r->error;
  EXPECT_EQ(r->path, folder + "/shot.png");
  EXPECT_FALSE(saver.poll()) << "a result is given once";
  int w = 0, h = 0, n = 0;
  unsigned char* rgb = stbi_load(r->path.c_str(), &w, &h, &n, 3);
  ASSERT_NE(rgb, nullptr);
  EXPECT_EQ(w, 37);
  EXPECT_EQ(h, 23);
  bool same = true;
  for (std::size_t i = 0; i < std::size_t(37) * 23; ++i)
    same = same && rgb[i * 3] == original.pixels[i * 4 + 2] && rgb[i * 3 + 1] == original.pixels[i * 4 + 1] &&
           rgb[i * 3 + 2] == original.pixels[i * 4];
  stbi_image_free(rgb);
  EXPECT_TRUE(same) << "the PNG's pixels are not the image's";

  // The same name again: a new file beside it, the first one kept.
  ASSERT_TRUE(saver.start(original, "shot"));
  r = waitForSave([&] { return saver.poll(); });
  ASSERT_TRUE(r && r->ok) << (r ? r->error : "no result");
  EXPECT_EQ(r->path, folder + "/shot-2.png");
  EXPECT_TRUE(std::filesystem::exists(folder + "/shot.png"));
}

TEST(ImageSaver, ABadFolderIsAnErrorResult) {
  TempDir tmp;
  ASSERT_FALSE(tmp.path.empty());
  std::ofstream(tmp.path + "/file") << "not a folder";
  session::BgrxImage image;
  image.widthPx = image.heightPx = 2;
  image.pixels.assign(16, 0x80);
  session::ImageSaver saver;
  ASSERT_TRUE(saver.start(image, "shot", tmp.path + "/file/pictures"));
  auto r = waitForSave([&] { return saver.poll(); });
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->ok);
  EXPECT_NE(r->error.find("cannot create the folder " + tmp.path + "/file/pictures"), std::string::npos) << r->error;
  // Nowhere to go at all: said, not guessed.
  EXPECT_FALSE(session::saveImage(image, "", "shot").ok);
  EXPECT_FALSE(session::saveImage({}, tmp.path, "empty").ok);
}

TEST(StreamView, AScreenshotGoesToThePicturesFolderOffTheCallersThread) {
  TempDir tmp;
  ASSERT_FALSE(tmp.path.empty());
  EnvVar home("HOME", tmp.path);
  EnvVar config("XDG_CONFIG_HOME", tmp.path + "/nothing-here");
  wire::TileBatch b;
  b.seq = 1;
  b.widthPx = 80;
  b.heightPx = 40;
  b.tileSizePx = 64;
  b.tiles = {solid(0, 0, 0x00102030), solid(1, 0, 0x00405060)};
  session::StreamView view(infoOf(b, "bob the builder"));
  std::string error;
  session::BgrxImage image;
  EXPECT_FALSE(view.copyImage(image, error));
  EXPECT_EQ(error, "no image has arrived yet");
  capture::TileDecoder d;
  ASSERT_TRUE(view.apply(b, d, error)) << error;
  // What the window's Save screenshot does: copy on its thread, write on the saver's.
  ASSERT_TRUE(view.copyImage(image, error)) << error;
  session::ImageSaver saver;
  ASSERT_TRUE(saver.start(std::move(image), session::screenshotStem(view.info().ownerName, base::wallUs())));
  auto r = waitForSave([&] { return saver.poll(); });
  ASSERT_TRUE(r);
  ASSERT_TRUE(r->ok) << r->error;
  EXPECT_EQ(r->path.rfind(tmp.path + "/Pictures/huddle-bob_the_builder-", 0), 0u) << r->path;
  int w = 0, h = 0, n = 0;
  unsigned char* rgb = stbi_load(r->path.c_str(), &w, &h, &n, 3);
  ASSERT_NE(rgb, nullptr);
  EXPECT_EQ(w, 80);
  EXPECT_EQ(rgb[0], 0x10);  // R of 0x00102030 (a BGRX word: R is bits 16..23)
  EXPECT_EQ(rgb[2], 0x30);
  EXPECT_EQ(rgb[79 * 3], 0x40);
  stbi_image_free(rgb);
}

}  // namespace huddle
