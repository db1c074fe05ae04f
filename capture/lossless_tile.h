// Lossless tiles for sharp-when-still: a still tile that was sent as JPEG goes again exactly
// as captured. Two formats, chosen per tile by measured size: a palette (2..256 colours, the
// indices packed and zstd-compressed), which text and UI tiles fit, and zstd-compressed BGR
// pixels for everything else (see base::TileKind). The decoder trusts nothing: structure
// first (base::checkLosslessTile), then the decompressed size and every palette index.
// Thread: one object per thread (each owns a zstd context).
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "net/base/tile.h"

struct ZSTD_CCtx_s;
struct ZSTD_DCtx_s;

namespace huddle::capture {

class LosslessTileEncoder {
 public:
  LosslessTileEncoder();
  ~LosslessTileEncoder();
  LosslessTileEncoder(const LosslessTileEncoder&) = delete;
  LosslessTileEncoder& operator=(const LosslessTileEncoder&) = delete;

  // Encodes the w x h BGRX pixels at `src` (`strideBytes` per row): Solid for one colour, else
  // the smaller of a Palette tile (when it has at most 256 colours) and a ZstdPixels tile.
  // Sets kind and bytes of `out` (not its place). False with `error` if zstd fails.
  bool encode(const std::uint8_t* src, int strideBytes, int w, int h, base::EncodedTile& out, std::string& error);
  // For a tile that changed: a Palette (or Solid) tile if it has at most `maxColours` colours,
  // counted with an early exit (a photo-like tile costs a few pixels); false, `out` untouched,
  // if it has more (or zstd failed). Text and flat UI fit, and their palette tile is smaller
  // than JPEG and exact. No pixel variant is tried: this runs for every changed tile.
  bool encodeIfFewColours(const std::uint8_t* src, int strideBytes, int w, int h, std::size_t maxColours,
                          base::EncodedTile& out);

 private:
  // Compresses `raw` to the end of `out`; false with `error`.
  bool compress(std::span<const std::uint8_t> raw, std::vector<std::uint8_t>& out, std::string& error);

  ZSTD_CCtx_s* m_cctx;
  std::vector<std::uint8_t> m_indices;  // one byte per pixel while counting colours
  std::vector<std::uint8_t> m_raw;      // packed indices, or BGR pixels
  std::vector<std::uint8_t> m_palette;  // the palette tile being built
  std::vector<std::uint8_t> m_pixels;   // the pixel tile being built
};

class LosslessTileDecoder {
 public:
  LosslessTileDecoder();
  ~LosslessTileDecoder();
  LosslessTileDecoder(const LosslessTileDecoder&) = delete;
  LosslessTileDecoder& operator=(const LosslessTileDecoder&) = delete;

  // Paints a Palette or ZstdPixels tile of w x h into `dst` (BGRX, `strideBytes` per row). False
  // with `error` for anything malformed: then `dst` may hold part of the tile.
  bool decode(base::TileKind kind, std::span<const std::uint8_t> bytes, int w, int h, std::uint8_t* dst,
              int strideBytes, std::string& error);

 private:
  ZSTD_DCtx_s* m_dctx;
  std::vector<std::uint8_t> m_raw;
};

}  // namespace huddle::capture
