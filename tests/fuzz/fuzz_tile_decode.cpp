// A viewer's tile decoder given arbitrary tiles (JPEG and lossless): the first bytes choose the tile's kind,
// settings and place; the rest are its bytes. Decoding may fail, never crash or overrun.
// With bit 2 of the fourth byte, two JpegScan tiles side by side decode as a strip instead
// (TileDecoder::decodeStrip): two more bytes say where the first one's bytes end.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "capture/tile_codec.h"

using namespace huddle;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 4) return 0;
  static capture::TileDecoder decoder;
  constexpr int kW = 150, kH = 100, kTile = 64;  // 3x2 tiles, the last column and row cropped
  static std::vector<std::uint8_t> fb(std::size_t(kW) * kH * 4);
  base::EncodedTile t;
  // Every kind with bytes: Jpeg, JpegScan, and the lossless Palette and ZstdPixels.
  constexpr base::TileKind kKinds[] = {base::TileKind::Jpeg, base::TileKind::JpegScan, base::TileKind::Palette,
                                       base::TileKind::ZstdPixels};
  t.kind = kKinds[data[0] % 4];
  t.tx = data[1] % 3;
  t.ty = (data[1] >> 2) % 2;
  t.jpegQuality = static_cast<std::uint8_t>(data[2] % 101);
  t.jpeg444 = data[3] & 1;
  t.jpegRowRestarts = (data[3] & 2) != 0;
  std::string error;
  if (data[3] & 4) {
    // Tiles (0, row) and (1, row): 64 rows high, or 36 on the bottom row.
    if (size < 6) return 0;
    const std::size_t split = std::min<std::size_t>(size - 6, std::size_t(data[4]) << 8 | data[5]);
    base::EncodedTile a = t, b = t;
    a.kind = b.kind = base::TileKind::JpegScan;
    a.tx = 0;
    b.tx = 1;
    a.ty = b.ty = data[1] & 1;
    a.jpeg = base::ByteSlice::whole(base::makeBytes(base::ByteVec(data + 6, data + 6 + split)));
    b.jpeg = base::ByteSlice::whole(base::makeBytes(base::ByteVec(data + 6 + split, data + size)));
    const base::EncodedTile* strip[] = {&a, &b};
    decoder.decodeStrip(strip, kTile, a.ty == 0 ? kTile : kH - kTile, fb.data() + std::size_t(a.ty) * kTile * kW * 4,
                        kW * 4, error);
    return 0;
  }
  t.jpeg = base::ByteSlice::whole(base::makeBytes(base::ByteVec(data + 4, data + size)));
  decoder.decode(t, kTile, kW, kH, fb.data(), kW * 4, error);
  return 0;
}
