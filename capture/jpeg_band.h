// Several tiles of a row for the price of one JPEG: a run of adjacent changed tiles is
// compressed as one wide JPEG with a restart marker after each tile's width of MCUs, and its
// scan is then cut at those markers into one JpegScan tile each (restarts kept, so each one
// decodes alone: base::EncodedTile::jpegRestarts). The coefficients are those the tile would
// have alone, so a viewer sees the same pixels; what is saved is libjpeg's per-image setup and
// its per-row work on 64-pixel rows, which cost as much as the coding itself (1080p full
// change: 6.1 ms as 64x64 tiles, 3.9 ms as 512x64 bands, 3.6 ms as one frame).
// Thread: one object per thread.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "capture/screen_source.h"
#include "net/base/tile.h"

namespace huddle::capture {

class JpegHeaders;

class JpegBandEncoder {
 public:
  JpegBandEncoder();
  ~JpegBandEncoder();
  JpegBandEncoder(const JpegBandEncoder&) = delete;
  JpegBandEncoder& operator=(const JpegBandEncoder&) = delete;

  // Whether tiles of this size can be cut from a band at this subsampling (a whole number of
  // MCUs across).
  static bool fits(int tileSizePx, bool chroma444);

  // Tiles tx0 .. tx0 + out.size() - 1 of row `ty`, each a full tileSizePx wide (the caller
  // leaves a cropped right-edge tile out). `headers` holds what a receiver rebuilds, to check
  // that the band's tables are those (`compressor` is a TurboJPEG handle to build them with).
  // False with `error` if libjpeg fails or the scan cannot be cut as expected: the caller then
  // encodes the tiles one by one.
  bool encode(const Frame& f, int tx0, int ty, int tileSizePx, int quality, bool chroma444, JpegHeaders& headers,
              void* compressor, std::span<base::EncodedTile> out, std::string& error);

  // Tiles made so far (for tests and statistics).
  std::uint64_t tilesMade() const { return m_tilesMade; }

 private:
  struct State;
  State* m_state;
  std::vector<std::uint8_t> m_out;                     // the band's JPEG
  std::vector<std::pair<std::size_t, std::size_t>> m_segments;  // [begin, end) of each interval
  std::uint64_t m_tilesMade = 0;
};

}  // namespace huddle::capture
