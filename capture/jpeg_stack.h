// Several JPEG tiles for the price of one JPEG. A restart marker resets what the entropy coder
// carries from one MCU to the next, so a JPEG cut at its restart markers gives pieces that
// are the scans of the parts between them, byte for byte. Two shapes:
// - A strip: tiles side by side in a row of the grid, compressed as one wide JPEG with a
//   restart after each tile's share of every row of MCUs. Tile k's scan is its pieces of
//   each MCU row, joined by the restart markers it would have alone with a restart interval
//   of one MCU row (base::EncodedTile::jpegRowRestarts). As wide as a frame, this costs what
//   one JPEG of the frame costs (1920x1024 full change: 3.5 ms in strips of 30 tiles, 5.2 ms
//   stacked eight at a time, 3.4 ms as one image, in one run); each tile pays 2 bytes for
//   each extra marker and its padding (64-px tiles: 3 markers at 4:2:0, 7 at 4:4:4). The
//   same columns changed in rows one under the other go as one strip of those rows: a tile's
//   pieces are the same bytes, and a frame changed all over is a few JPEGs, not one a row.
// - A stack: whole-size tiles from anywhere in the frame, one under the other, with a restart
//   after each tile's MCUs: each piece is the scan that tile has alone (no restarts), for
//   tiles with no changed neighbour in their row.
// What goes is libjpeg's per-image setup, about 10 us, as much as coding a 64x64 tile, and
// its per-row work on narrow images. The rows are read straight from the frame: nothing is
// copied.
// Thread: one object per thread.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "capture/screen_source.h"
#include "net/base/tile.h"

namespace huddle::capture {

class JpegHeaders;

class JpegStackEncoder {
 public:
  // The most tiles in one stack (bounds the row pointers and the output buffer).
  static constexpr int kMaxTiles = 16;

  JpegStackEncoder();
  ~JpegStackEncoder();
  JpegStackEncoder(const JpegStackEncoder&) = delete;
  JpegStackEncoder& operator=(const JpegStackEncoder&) = delete;

  // The most tiles side by side in one strip, and the most rows of them.
  static constexpr int kMaxStripTiles = 64;
  static constexpr int kMaxStripRows = 8;

  // Whether tiles of this size can be stacked or put in a strip at this subsampling (a whole
  // number of MCUs each way).
  static bool fits(int tileSizePx, bool chroma444);

  // Tiles at grid places `places` ((tx, ty), each whole: tileSizePx square inside the frame)
  // into `out` (as many). `headers` holds what a receiver rebuilds, to check that the stack's
  // tables are those (`compressor` is a TurboJPEG handle to build them with). False with
  // `error` if libjpeg fails or the scan cannot be cut as expected: the caller then encodes
  // the tiles one by one.
  bool encode(const Frame& f, std::span<const std::pair<int, int>> places, int tileSizePx, int quality, bool chroma444,
              JpegHeaders& headers, void* compressor, std::span<base::EncodedTile> out, std::string& error);
  // Tiles (tx0 .. tx0 + count - 1) of rows ty0 .. ty0 + rows - 1, each whole (the frame's
  // bottom may crop the last row), as one strip into `out` (count * rows, row by row): JpegScan
  // tiles with row restarts, each the bytes it has in a strip of one row. False with `error`
  // as encode().
  bool encodeStrip(const Frame& f, int tx0, int ty0, int count, int rows, int tileSizePx, int quality, bool chroma444,
                   JpegHeaders& headers, void* compressor, std::span<base::EncodedTile> out, std::string& error);

 private:
  struct State;
  State* m_state;
  std::vector<std::uint8_t> m_out;  // the stack's or strip's JPEG
  std::vector<std::size_t> m_markers;  // the restart markers of the stack's or strip's scan
  std::vector<std::uint32_t> m_starts;  // where each of a strip's tiles starts in their buffer
};

}  // namespace huddle::capture
