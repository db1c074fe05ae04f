#include "net/base/lossless_check.h"

#include <zstd.h>

namespace huddle::base {

int paletteIndexBits(std::uint32_t colours) { return colours <= 2 ? 1 : colours <= 4 ? 2 : colours <= 16 ? 4 : 8; }

std::size_t paletteIndexBytes(std::uint32_t colours, std::uint32_t w, std::uint32_t h) {
  const std::size_t rowBytes = (std::size_t(w) * paletteIndexBits(colours) + 7) / 8;
  return rowBytes * h;
}

bool checkLosslessTile(TileKind kind, std::span<const std::uint8_t> b, std::uint32_t w, std::uint32_t h,
                       std::string& error, std::size_t* zstdAt, std::size_t* rawBytes) {
  if (w == 0 || h == 0) return error = "empty tile", false;
  std::size_t at = 0, raw = 0;
  if (kind == TileKind::Palette) {
    if (b.empty()) return error = "palette tile without a palette", false;
    const std::uint32_t colours = std::uint32_t(b[0]) + 1;  // 2..256 (one colour is a Solid tile)
    if (colours < 2) return error = "palette of one colour", false;
    at = 1 + std::size_t(colours) * 3;
    if (b.size() < at) return error = "palette tile shorter than its palette", false;
    raw = paletteIndexBytes(colours, w, h);
  } else if (kind == TileKind::ZstdPixels) {
    raw = std::size_t(w) * h * 3;
  } else {
    return error = "not a lossless tile", false;
  }
  const auto frame = b.subspan(at);
  // One whole frame, nothing after it: trailing data would be bytes nobody checked.
  const std::size_t frameBytes = ZSTD_findFrameCompressedSize(frame.data(), frame.size());
  if (ZSTD_isError(frameBytes)) return error = std::string("bad zstd frame: ") + ZSTD_getErrorName(frameBytes), false;
  if (frameBytes != frame.size()) return error = "bytes after the zstd frame", false;
  const unsigned long long declared = ZSTD_getFrameContentSize(frame.data(), frame.size());
  if (declared == ZSTD_CONTENTSIZE_UNKNOWN || declared == ZSTD_CONTENTSIZE_ERROR)
    return error = "zstd frame without its size", false;
  if (declared != raw)
    return error = "zstd frame of " + std::to_string(declared) + " bytes for a tile of " + std::to_string(raw), false;
  if (zstdAt) *zstdAt = at;
  if (rawBytes) *rawBytes = raw;
  return true;
}

}  // namespace huddle::base
