// JPEG tiles with TurboJPEG: an encoder turns one tile of a BGRX frame into a solid colour
// or a baseline JPEG, straight from the frame's memory; a decoder checks a tile's structure
// and decodes it into a BGRX framebuffer in place. Each owns one TurboJPEG handle.
// Thread: one object per thread.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "capture/capture_settings.h"
#include "capture/screen_source.h"
#include "net/base/tile.h"

namespace huddle::capture {

class TileEncoder {
 public:
  TileEncoder();
  ~TileEncoder();
  TileEncoder(const TileEncoder&) = delete;
  TileEncoder& operator=(const TileEncoder&) = delete;

  // Encodes tile (tx, ty) of `frame` (tiles of `tileSizePx`, cropped at the edges). A tile
  // of one colour becomes a Solid tile. False with `error` if TurboJPEG fails.
  bool encode(const Frame& frame, int tx, int ty, int tileSizePx, const CaptureSettings& settings,
              base::EncodedTile& out, std::string& error);

 private:
  void* m_handle;
  std::vector<std::uint8_t> m_scratch;  // worst-case JPEG size for the largest tile
};

class TileDecoder {
 public:
  TileDecoder();
  ~TileDecoder();
  TileDecoder(const TileDecoder&) = delete;
  TileDecoder& operator=(const TileDecoder&) = delete;

  // Paints `tile` (of a grid of `tileSizePx` over a widthPx x heightPx image) into `dst`
  // (BGRX, `strideBytes` per row). Never trusts the tile: bounds and JPEG structure are
  // checked first. False with `error` on any problem; `dst` outside the tile is untouched.
  bool decode(const base::EncodedTile& tile, int tileSizePx, int widthPx, int heightPx, std::uint8_t* dst,
              int strideBytes, std::string& error);

 private:
  void* m_handle;
};

// Paints a solid colour into a rectangle of a BGRX image.
void fillBgrx(std::uint8_t* dst, int strideBytes, int x, int y, int w, int h, std::uint32_t bgrx);

}  // namespace huddle::capture
