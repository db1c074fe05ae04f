// An encoded screen tile as capture makes it, the host relays it and a viewer decodes it.
// Bytes are shared, never copied per viewer: a slice keeps its whole buffer alive (a tile
// from the network points into the message it came in). Thread: immutable once built.
#pragma once
#include <cstdint>
#include <span>

#include "net/base/bytes.h"

namespace huddle::base {

// A read-only view into a shared buffer that keeps the buffer alive.
struct ByteSlice {
  Bytes owner;
  std::uint32_t offset = 0;
  std::uint32_t size = 0;

  static ByteSlice whole(Bytes b) {
    auto n = b ? static_cast<std::uint32_t>(b->size()) : 0u;
    return {std::move(b), 0, n};
  }
  std::span<const std::uint8_t> span() const {
    return owner ? std::span<const std::uint8_t>(owner->data() + offset, size) : std::span<const std::uint8_t>();
  }
};

enum class TileKind : std::uint8_t {
  Solid = 1,  // one colour: solidBgrx fills the tile
  Jpeg = 2,   // baseline JPEG of exactly the tile's pixels (cropped at the right/bottom edge)
  // The entropy-coded scan of such a JPEG without its ~620 bytes of headers, which the
  // receiver rebuilds from quality and subsampling (every tile at the same settings has the
  // same tables). Headers are most of a small tile's bytes, so this halves a typical update.
  JpegScan = 3,
  // Lossless (sharp-when-still resends still lossy tiles as one of these, chosen by size):
  // a palette of 2..256 BGR colours and the zstd-compressed indices (1, 2, 4 or 8 bits per
  // pixel by the palette's size, each row starting on a byte) for few-colour tiles (text, UI),
  Palette = 4,
  // or the tile's BGR pixels (3 bytes each, row after row) compressed with zstd.
  ZstdPixels = 5,
};

// Whether a viewer shows this kind exactly as captured (Solid and the lossless kinds).
inline bool isExactKind(TileKind k) { return k == TileKind::Solid || k == TileKind::Palette || k == TileKind::ZstdPixels; }
inline bool isLosslessKind(TileKind k) { return k == TileKind::Palette || k == TileKind::ZstdPixels; }

struct EncodedTile {
  std::uint16_t tx = 0, ty = 0;  // tile column and row in the stream's grid
  TileKind kind = TileKind::Solid;
  std::uint32_t solidBgrx = 0;   // Solid: B | G << 8 | R << 16
  // The encoded bytes of every kind but Solid (the name is older than the lossless kinds):
  // Jpeg: the whole file; JpegScan: the scan only; Palette, ZstdPixels: as described above.
  ByteSlice jpeg;
  std::uint8_t jpegQuality = 0;  // JpegScan: 1..100
  bool jpeg444 = false;          // JpegScan: 4:4:4 (else 4:2:0)
  // JpegScan: a restart marker ends each row of MCUs but the last (the rebuilt header has a
  // restart interval of one MCU row), as tiles cut from a strip of several are.
  bool jpegRowRestarts = false;
};

// A changed rectangle inside one tile (issue 12: the newly exposed line of a scroll dirties a
// few rows of a tile, not all of it): `tile` names the tile (tx, ty) and carries the encoded
// w x h pixels (any kind, encoded as a w x h image), placed at (x, y) inside the tile. Only in
// a batch with copies' order (CopyUpdate, PublishCopyTiles): applied after the copies, before
// the tiles. The host's grid keeps the tile's older whole bytes (it is "stale", as under a copy).
struct TilePatch {
  EncodedTile tile;
  std::uint16_t x = 0, y = 0, w = 0, h = 0;
};

// Part of the image moved (a scroll, a dragged window): the w x h pixels at (srcX, srcY) of
// the previous image are copied to (dstX, dstY), in stream pixels, as one block (source and
// destination may overlap). A frame's copies apply in order, before its tiles.
struct CopyRect {
  std::int32_t srcX = 0, srcY = 0, w = 0, h = 0, dstX = 0, dstY = 0;
  bool operator==(const CopyRect&) const = default;
  // Both rectangles non-empty and inside a widthPx x heightPx image.
  bool inside(std::int64_t widthPx, std::int64_t heightPx) const {
    return w > 0 && h > 0 && srcX >= 0 && srcY >= 0 && dstX >= 0 && dstY >= 0 && std::int64_t(srcX) + w <= widthPx &&
           std::int64_t(dstX) + w <= widthPx && std::int64_t(srcY) + h <= heightPx && std::int64_t(dstY) + h <= heightPx;
  }
};

}  // namespace huddle::base
