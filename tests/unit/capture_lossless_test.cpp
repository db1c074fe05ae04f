// Lossless tiles (sharp when still): palette and zstd pixel tiles come back bit for bit at
// every palette width and odd size, the smaller format is chosen, and malformed tiles (a size
// that is not the tile's, a palette index out of range, trailing or truncated data) are refused.
#include <gtest/gtest.h>
#include <zstd.h>

#include <cstring>
#include <random>

#include "capture/lossless_tile.h"
#include "capture/synthetic_source.h"
#include "capture/tile_codec.h"
#include "net/base/lossless_check.h"
#include "net/wire/limits.h"

using namespace huddle;
using namespace huddle::capture;

namespace {

// A w x h BGRX tile whose pixels take `colours` distinct values (X = 0xFF, as screens show).
std::vector<std::uint8_t> tileOfColours(int w, int h, int colours, std::uint32_t seed = 1) {
  std::vector<std::uint8_t> px(std::size_t(w) * h * 4);
  std::mt19937 rng(seed);
  auto* p = reinterpret_cast<std::uint32_t*>(px.data());
  for (int i = 0; i < w * h; ++i) {
    // Every colour appears (the first `colours` pixels), the rest at random.
    const int c = i < colours ? i : static_cast<int>(rng() % static_cast<unsigned>(colours));
    p[i] = 0xFF000000u | static_cast<std::uint32_t>(c * 2654435761u >> 8);
  }
  return px;
}

// Encodes then decodes a tile; the decoded pixels, or empty with a failure.
std::vector<std::uint8_t> roundTrip(const std::vector<std::uint8_t>& px, int w, int h, base::TileKind& kind) {
  LosslessTileEncoder enc;
  LosslessTileDecoder dec;
  base::EncodedTile t;
  std::string error;
  EXPECT_TRUE(enc.encode(px.data(), w * 4, w, h, t, error)) << error;
  kind = t.kind;
  std::vector<std::uint8_t> out(px.size(), 0);
  if (t.kind == base::TileKind::Solid) {
    fillBgrx(out.data(), w * 4, 0, 0, w, h, t.solidBgrx);
    return out;
  }
  EXPECT_LE(t.jpeg.size, wire::maxLosslessTileBytes(std::uint32_t(w), std::uint32_t(h)));
  if (!dec.decode(t.kind, t.jpeg.span(), w, h, out.data(), w * 4, error)) {
    ADD_FAILURE() << error;
    return {};
  }
  return out;
}

base::ByteVec zstdOf(const base::ByteVec& raw) {
  base::ByteVec out(ZSTD_compressBound(raw.size()));
  out.resize(ZSTD_compress(out.data(), out.size(), raw.data(), raw.size(), 3));
  return out;
}

// A palette tile made by hand: `colours` entries, then the zstd of `indices` (already packed).
base::ByteVec paletteTile(std::uint32_t colours, const base::ByteVec& packed) {
  base::ByteVec t{static_cast<std::uint8_t>(colours - 1)};
  for (std::uint32_t i = 0; i < colours; ++i) t.insert(t.end(), {std::uint8_t(i), std::uint8_t(i * 3), 0x40});
  base::ByteVec z = zstdOf(packed);
  t.insert(t.end(), z.begin(), z.end());
  return t;
}

}  // namespace

TEST(LosslessTile, PaletteTilesRoundTripExactlyAtEveryIndexWidth) {
  // 2 and 3 colours need 1 and 2 bits, 5 and 16 four, 17 and 256 eight; odd widths leave
  // padding bits at the end of each row.
  for (int colours : {2, 3, 4, 5, 16, 17, 200, 256})
    for (auto [w, h] : {std::pair{64, 64}, std::pair{37, 13}, std::pair{1, 256}, std::pair{255, 3}}) {
      if (colours > w * h) continue;
      auto px = tileOfColours(w, h, colours);
      base::TileKind kind{};
      EXPECT_EQ(roundTrip(px, w, h, kind), px) << colours << " colours, " << w << "x" << h;
      // Where the palette itself is most of the tile, zstd's pixels may win; else the palette.
      if (w * h >= 16 * colours) {
        EXPECT_EQ(kind, base::TileKind::Palette) << colours << " colours, " << w << "x" << h;
      }
    }
}

TEST(LosslessTile, ManyColourTilesAreZstdPixelsAndRoundTripExactly) {
  for (auto [w, h] : {std::pair{64, 64}, std::pair{256, 256}, std::pair{7, 61}}) {
    std::vector<std::uint8_t> px(std::size_t(w) * h * 4);
    std::mt19937 rng(7);
    for (std::size_t i = 0; i < px.size(); ++i) px[i] = i % 4 == 3 ? 0xFF : static_cast<std::uint8_t>(rng());
    base::TileKind kind{};
    EXPECT_EQ(roundTrip(px, w, h, kind), px) << w << "x" << h;
    EXPECT_EQ(kind, base::TileKind::ZstdPixels);
  }
  // The test scene's moving panel: a smooth ramp of many colours.
  std::vector<std::uint8_t> scene;
  SyntheticSource::render(640, 480, SceneMotion::Full, 3, scene);
  Frame f;
  f.widthPx = 640;
  f.heightPx = 480;
  f.strideBytes = 640 * 4;
  f.pixels = scene.data();
  TileEncoder enc;
  TileDecoder dec;
  std::vector<std::uint8_t> out(scene.size(), 0);
  std::string error;
  int kinds[6] = {};
  for (int ty = 0; ty < 480 / 64 + 1; ++ty)
    for (int tx = 0; tx < 640 / 64; ++tx) {
      base::EncodedTile t;
      ASSERT_TRUE(enc.encodeLossless(f, tx, ty, 64, t, error)) << error;
      ASSERT_TRUE(base::isExactKind(t.kind));
      ++kinds[static_cast<int>(t.kind)];
      ASSERT_TRUE(dec.decode(t, 64, 640, 480, out.data(), 640 * 4, error)) << error;
    }
  EXPECT_EQ(out, scene) << "every tile of the scene comes back exactly";
  EXPECT_GT(kinds[static_cast<int>(base::TileKind::Palette)], 0);
}

TEST(LosslessTile, OneColourIsSolidAndTheSmallerFormatIsChosen) {
  auto one = tileOfColours(64, 64, 1);
  base::TileKind kind{};
  EXPECT_EQ(roundTrip(one, 64, 64, kind), one);
  EXPECT_EQ(kind, base::TileKind::Solid);
  // Whichever format is smaller for the tile is the one sent: random text-like pixels of few
  // colours pack better as a palette; a short period repeats so well that zstd's pixels win.
  std::vector<std::uint8_t> text = tileOfColours(64, 64, 4, 9), periodic(64 * 64 * 4);
  auto* p = reinterpret_cast<std::uint32_t*>(periodic.data());
  for (int i = 0; i < 64 * 64; ++i) p[i] = (i / 3) % 5 == 0 ? 0xFF202028u : 0xFFF2F2EEu;
  for (const auto* px : {&text, &periodic}) {
    LosslessTileEncoder enc;
    base::EncodedTile t;
    std::string error;
    ASSERT_TRUE(enc.encode(px->data(), 256, 64, 64, t, error)) << error;
    base::ByteVec bgr;
    for (int i = 0; i < 64 * 64; ++i) bgr.insert(bgr.end(), {(*px)[i * 4], (*px)[i * 4 + 1], (*px)[i * 4 + 2]});
    const std::size_t pixelBytes = zstdOf(bgr).size();
    EXPECT_EQ(t.kind, px == &text ? base::TileKind::Palette : base::TileKind::ZstdPixels) << t.jpeg.size;
    EXPECT_LE(t.jpeg.size, pixelBytes);
  }
}

TEST(LosslessTile, TheLimitHoldsZstdsWorstCaseForEveryTileSize) {
  for (std::uint32_t w = 1; w <= 256; ++w)
    for (std::uint32_t h = 1; h <= 256; ++h) {
      const std::size_t palette = 1 + 3 * wire::kMaxPaletteColours + ZSTD_compressBound(std::size_t(w) * h);
      const std::size_t pixels = ZSTD_compressBound(std::size_t(w) * h * 3);
      ASSERT_GE(wire::maxLosslessTileBytes(w, h), std::max(palette, pixels)) << w << "x" << h;
    }
  // Noise, the worst content, stays under it in practice.
  std::vector<std::uint8_t> px(256 * 256 * 4);
  std::mt19937 rng(3);
  for (auto& b : px) b = static_cast<std::uint8_t>(rng());
  LosslessTileEncoder enc;
  base::EncodedTile t;
  std::string error;
  ASSERT_TRUE(enc.encode(px.data(), 1024, 256, 256, t, error));
  EXPECT_LE(t.jpeg.size, wire::maxLosslessTileBytes(256, 256));
}

TEST(LosslessTile, MalformedTilesAreRefused) {
  LosslessTileDecoder dec;
  std::vector<std::uint8_t> fb(64 * 64 * 4);
  std::string error;
  auto decodes = [&](base::TileKind kind, const base::ByteVec& bytes, int w = 16, int h = 8) {
    error.clear();
    const bool ok = dec.decode(kind, bytes, w, h, fb.data(), 256, error);
    if (!ok) {
      EXPECT_FALSE(error.empty());
    }
    return ok;
  };
  // Good ones first, so the refusals below are about what was changed.
  base::ByteVec pixels(16 * 8 * 3, 0x33);
  ASSERT_TRUE(decodes(base::TileKind::ZstdPixels, zstdOf(pixels))) << error;
  base::ByteVec packed2(2 * 8, 0x5A);  // 16 px of 1 bit: 2 bytes a row
  ASSERT_TRUE(decodes(base::TileKind::Palette, paletteTile(2, packed2))) << error;

  // A decompressed size that is not the tile's: one byte short, one long, another tile's.
  EXPECT_FALSE(decodes(base::TileKind::ZstdPixels, zstdOf(base::ByteVec(16 * 8 * 3 - 1, 1))));
  EXPECT_NE(error.find("for a tile of"), std::string::npos) << error;
  EXPECT_FALSE(decodes(base::TileKind::ZstdPixels, zstdOf(base::ByteVec(16 * 8 * 3 + 1, 1))));
  EXPECT_FALSE(decodes(base::TileKind::ZstdPixels, zstdOf(pixels), 16, 9));
  EXPECT_FALSE(decodes(base::TileKind::Palette, paletteTile(2, base::ByteVec(2 * 8 + 1, 0))));
  EXPECT_FALSE(decodes(base::TileKind::Palette, paletteTile(3, packed2)));  // 3 colours: 2 bits a pixel
  // A frame whose header says the right size but whose blocks hold less: zstd itself refuses
  // it (the header is patched from the 16x8x3-1 it was made for).
  base::ByteVec shortFrame = zstdOf(base::ByteVec(16 * 8 * 3 - 1, 7));
  {
    // Frame header descriptor after the 4-byte magic: single segment, 2-byte size (value - 256).
    ASSERT_EQ(shortFrame[4] & 0xE0, 0x60) << "layout this test patches";
    const unsigned declared = shortFrame[5] | shortFrame[6] << 8;
    ASSERT_EQ(declared + 256, 16u * 8 * 3 - 1);
    shortFrame[5] = static_cast<std::uint8_t>(declared + 1);
    shortFrame[6] = static_cast<std::uint8_t>((declared + 1) >> 8);
  }
  EXPECT_FALSE(decodes(base::TileKind::ZstdPixels, shortFrame));
  // A frame that does not say its size.
  {
    ZSTD_CCtx* c = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, 0);
    base::ByteVec out(ZSTD_compressBound(pixels.size()));
    ZSTD_outBuffer o{out.data(), out.size(), 0};
    ZSTD_inBuffer in{pixels.data(), pixels.size(), 0};
    ZSTD_compressStream2(c, &o, &in, ZSTD_e_end);
    out.resize(o.pos);
    ZSTD_freeCCtx(c);
    EXPECT_FALSE(decodes(base::TileKind::ZstdPixels, out));
    EXPECT_NE(error.find("without its size"), std::string::npos) << error;
  }
  // A palette index out of range: 3 colours, 2 bits a pixel, and an index 3.
  base::ByteVec packed3(4 * 8, 0x00);
  ASSERT_TRUE(decodes(base::TileKind::Palette, paletteTile(3, packed3))) << error;
  packed3[9] = 0x03;  // row 2, pixel 7
  EXPECT_FALSE(decodes(base::TileKind::Palette, paletteTile(3, packed3)));
  EXPECT_NE(error.find("palette index 3 of 3"), std::string::npos) << error;
  // 200 colours, 8 bits a pixel, an index 200.
  base::ByteVec packed200(16 * 8, 199);
  ASSERT_TRUE(decodes(base::TileKind::Palette, paletteTile(200, packed200))) << error;
  packed200[77] = 200;
  EXPECT_FALSE(decodes(base::TileKind::Palette, paletteTile(200, packed200)));
  // Structure: a palette of one colour, a palette cut short, bytes after the frame, a cut
  // frame, garbage, nothing.
  base::ByteVec oneColour = paletteTile(2, packed2);
  oneColour[0] = 0;
  EXPECT_FALSE(decodes(base::TileKind::Palette, oneColour));
  EXPECT_FALSE(decodes(base::TileKind::Palette, base::ByteVec{0xFF, 1, 2, 3}));
  base::ByteVec trailing = zstdOf(pixels);
  trailing.push_back(0);
  EXPECT_FALSE(decodes(base::TileKind::ZstdPixels, trailing));
  EXPECT_NE(error.find("after the zstd frame"), std::string::npos) << error;
  base::ByteVec cut = zstdOf(pixels);
  cut.resize(cut.size() - 1);
  EXPECT_FALSE(decodes(base::TileKind::ZstdPixels, cut));
  EXPECT_FALSE(decodes(base::TileKind::ZstdPixels, base::ByteVec(40, 0xAB)));
  EXPECT_FALSE(decodes(base::TileKind::ZstdPixels, {}));
  EXPECT_FALSE(decodes(base::TileKind::Palette, {}));
  EXPECT_FALSE(decodes(base::TileKind::Jpeg, zstdOf(pixels)));
}

TEST(LosslessTile, TheTileDecoderPlacesLosslessTilesAndRefusesThemOutsideTheImage) {
  auto px = tileOfColours(100, 70, 9);
  Frame f;
  f.widthPx = 100;
  f.heightPx = 70;
  f.strideBytes = 400;
  f.pixels = px.data();
  TileEncoder enc;
  TileDecoder dec;
  std::vector<std::uint8_t> out(px.size(), 0);
  std::string error;
  for (int ty = 0; ty < 2; ++ty)
    for (int tx = 0; tx < 2; ++tx) {
      base::EncodedTile t;
      ASSERT_TRUE(enc.encodeLossless(f, tx, ty, 64, t, error)) << error;
      ASSERT_TRUE(dec.decode(t, 64, 100, 70, out.data(), 400, error)) << error;
      if (tx == 1 && ty == 1) {
        // The cropped corner (36x6) decoded as a full tile of another image: wrong size.
        std::vector<std::uint8_t> big(128 * 128 * 4);
        EXPECT_FALSE(dec.decode(t, 64, 128, 128, big.data(), 512, error));
        t.tx = 2;
        EXPECT_FALSE(dec.decode(t, 64, 100, 70, out.data(), 400, error));
      }
    }
  EXPECT_EQ(out, px);
}
