// A viewer's tile decoder given arbitrary tiles (JPEG and lossless): the first bytes choose the tile's kind,
// settings and place; the rest are its bytes. Decoding may fail, never crash or overrun.
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
  t.jpeg = base::ByteSlice::whole(base::makeBytes(base::ByteVec(data + 4, data + size)));
  std::string error;
  decoder.decode(t, kTile, kW, kH, fb.data(), kW * 4, error);
  return 0;
}
