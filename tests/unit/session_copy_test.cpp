// A viewer applies a frame's copies (scrolls, issue 12) to the image it shows before the
// frame's tiles, overlap-safe both ways; a copy reaching outside the stream is dropped with the
// reason, the tiles still apply, and the update counts as bad (the session then asks the host
// for every tile again).
#include <gtest/gtest.h>

#include <cstring>

#include "app/session/stream_view.h"
#include "capture/tile_codec.h"

using namespace huddle;
using namespace huddle::session;

namespace {

constexpr int kW = 128, kH = 128;

wire::StreamInfo info() {
  wire::StreamInfo i;
  i.streamId = 1;
  i.widthPx = kW;
  i.heightPx = kH;
  i.tileSizePx = 64;
  return i;
}

wire::TileBatch batch() {
  wire::TileBatch b;
  b.streamId = 1;
  b.widthPx = kW;
  b.heightPx = kH;
  b.tileSizePx = 64;
  return b;
}

base::EncodedTile solid(std::uint16_t tx, std::uint16_t ty, std::uint32_t c) {
  base::EncodedTile t;
  t.tx = tx;
  t.ty = ty;
  t.kind = base::TileKind::Solid;
  t.solidBgrx = c;
  return t;
}

std::uint32_t pixel(const BgrxImage& img, int x, int y) {
  std::uint32_t v;
  std::memcpy(&v, &img.pixels[(std::size_t(y) * img.widthPx + x) * 4], 4);
  return v & 0xFFFFFFu;
}

}  // namespace

TEST(StreamViewCopies, CopiesApplyBeforeTilesInBothDirections) {
  StreamView view(info());
  capture::TileDecoder decoder;
  std::string error;
  wire::TileBatch first = batch();
  first.tiles = {solid(0, 0, 0x110000), solid(1, 0, 0x220000), solid(0, 1, 0x330000), solid(1, 1, 0x440000)};
  ASSERT_TRUE(view.apply(first, decoder, error)) << error;
  EXPECT_TRUE(view.sharp());

  // Up by 10 (overlapping), then the bottom-right tile anew.
  wire::TileBatch up = batch();
  up.copies = {{0, 10, kW, kH - 10, 0, 0}};
  up.tiles = {solid(1, 1, 0x550000)};
  ASSERT_TRUE(view.apply(up, decoder, error)) << error;
  BgrxImage img;
  ASSERT_TRUE(view.copyImage(img, error)) << error;
  EXPECT_EQ(pixel(img, 0, 0), 0x110000u);
  EXPECT_EQ(pixel(img, 0, 53), 0x110000u);   // row 63 came up to 53
  EXPECT_EQ(pixel(img, 0, 54), 0x330000u);   // row 64 came up to 54
  EXPECT_EQ(pixel(img, 0, 117), 0x330000u);
  EXPECT_EQ(pixel(img, 0, 120), 0x330000u);  // exposed rows keep what was there
  EXPECT_EQ(pixel(img, 100, 54), 0x440000u);
  EXPECT_EQ(pixel(img, 100, 64), 0x550000u);  // the tile after the copy
  EXPECT_TRUE(view.sharp());  // exact pixels moved: still exact

  // Down by 20 over the same rows.
  wire::TileBatch down = batch();
  down.copies = {{0, 0, kW, kH - 20, 0, 20}};
  ASSERT_TRUE(view.apply(down, decoder, error)) << error;
  ASSERT_TRUE(view.copyImage(img, error)) << error;
  EXPECT_EQ(pixel(img, 0, 19), 0x110000u);  // not written
  EXPECT_EQ(pixel(img, 0, 73), 0x110000u);  // from 53
  EXPECT_EQ(pixel(img, 0, 74), 0x330000u);  // from 54
  EXPECT_EQ(pixel(img, 100, 84), 0x550000u);  // from 64
}

TEST(StreamViewCopies, ACopyOutsideTheStreamIsDroppedAndTheUpdateCountsAsBad) {
  StreamView view(info());
  capture::TileDecoder decoder;
  std::string error;
  wire::TileBatch first = batch();
  first.tiles = {solid(0, 0, 0x110000), solid(1, 0, 0x220000), solid(0, 1, 0x330000), solid(1, 1, 0x440000)};
  ASSERT_TRUE(view.apply(first, decoder, error)) << error;
  for (const base::CopyRect& bad : std::vector<base::CopyRect>{
           {0, 0, kW, kH, 0, 1}, {-1, 0, 10, 10, 0, 0}, {0, 0, 0, 5, 0, 0}, {0, 0, 5, 5, kW, 0}, {0, 0, 9000, 1, 0, 0}}) {
    wire::TileBatch b = batch();
    b.copies = {{0, 64, kW, 64, 0, 0}, bad};  // a good one too: none of them applies
    b.tiles = {solid(1, 1, 0x660000)};
    error.clear();
    EXPECT_FALSE(view.apply(b, decoder, error));
    EXPECT_NE(error.find("copy"), std::string::npos) << error;
    BgrxImage img;
    ASSERT_TRUE(view.copyImage(img, error)) << error;
    EXPECT_EQ(pixel(img, 0, 0), 0x110000u);    // no copy applied
    EXPECT_EQ(pixel(img, 100, 100), 0x660000u);  // the tile did
  }
}

// Patches (issue 12): after the copies, before the tiles, each at its place inside its tile;
// one that is bad (its bytes, or its place) is dropped and the update counts as bad.
TEST(StreamViewPatches, PatchesApplyAfterCopiesAtTheirPlace) {
  StreamView view(info());
  capture::TileDecoder decoder;
  std::string error;
  wire::TileBatch first = batch();
  first.tiles = {solid(0, 0, 0x110000), solid(1, 0, 0x220000), solid(0, 1, 0x330000), solid(1, 1, 0x440000)};
  ASSERT_TRUE(view.apply(first, decoder, error)) << error;
  // Up by 16; the newly exposed 16 rows at the bottom of the bottom-left tile patched.
  wire::TileBatch up = batch();
  up.copies = {{0, 16, kW, kH - 16, 0, 0}};
  base::TilePatch p;
  p.tile = solid(0, 1, 0x770000);
  p.x = 0;
  p.y = 48;
  p.w = 64;
  p.h = 16;
  up.patches = {p};
  ASSERT_TRUE(view.apply(up, decoder, error)) << error;
  BgrxImage img;
  ASSERT_TRUE(view.copyImage(img, error)) << error;
  EXPECT_EQ(pixel(img, 0, 47), 0x110000u);   // row 63 came up to 47
  EXPECT_EQ(pixel(img, 0, 48), 0x330000u);   // row 64 came up to 48
  EXPECT_EQ(pixel(img, 0, 111), 0x330000u);
  EXPECT_EQ(pixel(img, 0, 112), 0x770000u);  // the patch, after the copy
  EXPECT_EQ(pixel(img, 63, 127), 0x770000u);
  EXPECT_EQ(pixel(img, 64, 112), 0x440000u);  // not the next tile
  EXPECT_TRUE(view.sharp());  // an exact patch keeps the tile exact

  // A lossless patch of the top-right tile (a real encoded one, 16 x 8 of two colours).
  std::vector<std::uint8_t> px(16 * 8 * 4, 0);
  for (int i = 0; i < 16 * 8; ++i) px[std::size_t(i) * 4 + 2] = i % 3 ? 0x12 : 0x34;
  capture::LosslessTileEncoder enc;
  base::TilePatch q;
  q.tile.tx = 1;
  q.tile.ty = 0;
  ASSERT_TRUE(enc.encode(px.data(), 16 * 4, 16, 8, q.tile, error)) << error;
  q.x = 32;
  q.y = 8;
  q.w = 16;
  q.h = 8;
  wire::TileBatch more = batch();
  more.patches = {q};
  ASSERT_TRUE(view.apply(more, decoder, error)) << error;
  ASSERT_TRUE(view.copyImage(img, error)) << error;
  EXPECT_EQ(pixel(img, 96, 8), 0x340000u);
  EXPECT_EQ(pixel(img, 97, 8), 0x120000u);
  EXPECT_EQ(pixel(img, 95, 8), 0x220000u);  // beside it: untouched
  EXPECT_EQ(pixel(img, 96, 16), 0x220000u);

  // Bad bytes, and a place outside the tile: dropped, the update is bad, the rest applies.
  base::TilePatch bad = q;
  bad.tile.jpeg = base::ByteSlice::whole(base::makeBytes(base::ByteVec(5, 0xFF)));
  base::TilePatch outside = p;
  outside.tile.tx = 1;
  outside.x = 60;
  outside.w = 8;
  for (const base::TilePatch& b : {bad, outside}) {
    wire::TileBatch u = batch();
    u.patches = {b};
    u.tiles = {solid(0, 0, 0x990000)};
    error.clear();
    EXPECT_FALSE(view.apply(u, decoder, error));
    EXPECT_NE(error.find("patch"), std::string::npos) << error;
    ASSERT_TRUE(view.copyImage(img, error)) << error;
    EXPECT_EQ(pixel(img, 0, 0), 0x990000u);  // the tile did
  }
}
