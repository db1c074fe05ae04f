// Screen tiles: an encoder turns one tile of a BGRX frame into a solid colour or a baseline
// JPEG with TurboJPEG, straight from the frame's memory, or, for sharp-when-still, into a
// lossless tile (capture/lossless_tile.h); a decoder checks a tile's structure and decodes
// any kind into a BGRX framebuffer in place. Each owns one TurboJPEG handle.
// Thread: one object per thread.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "capture/capture_settings.h"
#include "capture/jpeg_stack.h"
#include "capture/lossless_tile.h"
#include "capture/screen_source.h"
#include "net/base/tile.h"

namespace huddle::capture {

// The headers (SOI up to the end of SOS) TurboJPEG writes for a tile at given settings, so
// tiles can travel as scans only (base::TileKind::JpegScan). Built once per setting by
// compressing a tiny image; only SOF0's size differs between tiles.
class JpegHeaders {
 public:
  // The header for a w x h tile; null if TurboJPEG failed. Valid until the next call.
  // `restartMcus` > 0: with that restart interval (a DRI segment before SOS, where libjpeg
  // writes it).
  const std::vector<std::uint8_t>* get(void* compressor, int quality, bool chroma444, int w, int h,
                                       int restartMcus = 0);
  // Offset of the SOF0 segment in a header (its size fields follow at +5), where the scan's
  // data begins (after SOS) and, if asked, where the SOS segment begins.
  static bool parse(std::span<const std::uint8_t> jpeg, std::size_t& sofAt, std::size_t& scanAt,
                    std::size_t* sosAt = nullptr);
  // MCUs in a row of a w-pixel-wide image.
  static int mcusPerRow(int w, bool chroma444) { return (w + (chroma444 ? 7 : 15)) / (chroma444 ? 8 : 16); }

 private:
  struct Entry {
    int quality;
    bool chroma444;
    std::vector<std::uint8_t> header;
    std::size_t sofAt, sosAt;
  };
  std::vector<Entry> m_entries;  // one per setting seen (few; cleared if many)
  std::vector<std::uint8_t> m_sized;
};

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
  // Tiles `indices` of the grid (tilesX columns, in row-major order) into `out` (as many),
  // each as encode() would make it, but JPEG tiles side by side in a row come from one strip
  // (with row restarts, decoding to the same pixels; the same columns in the rows under it
  // from the same strip), and other whole-size JPEG tiles from one
  // stacked JPEG (the same bytes) (jpeg_stack.h). `paletteSkip`, if given, holds a byte per
  // tile of the grid: where it is not 0 the tile is not tried as a few-colour Palette tile this
  // time (it counts down); a tile that had too many colours for one is not tried again for
  // kPaletteSkipFrames (video: the try found nothing on every changed tile, every frame).
  bool encodeRun(const Frame& frame, std::span<const std::uint32_t> indices, int tilesX, int tileSizePx,
                 const CaptureSettings& settings, std::span<base::EncodedTile> out, std::string& error,
                 std::uint8_t* paletteSkip = nullptr);
  static constexpr std::uint8_t kPaletteSkipFrames = 8;
  // JPEG tiles made by stacks and by strips so far, and the strips (for tests and figures).
  std::uint64_t tilesStacked() const { return m_tilesStacked; }
  std::uint64_t tilesInStrips() const { return m_tilesInStrips; }
  std::uint64_t stripsMade() const { return m_stripsMade; }
  // The same tile, exactly: Solid, Palette or ZstdPixels, whichever is smallest. False with
  // `error` if zstd fails.
  bool encodeLossless(const Frame& frame, int tx, int ty, int tileSizePx, base::EncodedTile& out, std::string& error);

 private:
  // A Solid or (settings allowing, `tryPalette`) few-colour Palette tile; false if the tile
  // needs JPEG, with `manyColours` if a palette was tried and the tile had too many for it.
  bool encodeExact(const Frame& frame, int tx, int ty, int tileSizePx, const CaptureSettings& settings,
                   base::EncodedTile& out, bool tryPalette = true, bool* manyColours = nullptr);
  bool encodeJpeg(const Frame& frame, int tx, int ty, int tileSizePx, const CaptureSettings& settings,
                  base::EncodedTile& out, std::string& error);
  // encodeRun's stack so far (m_stacked, m_places) into `out`: one stacked JPEG, or tile by
  // tile if it cannot be made; empties it.
  bool encodeStacked(const Frame& frame, int tileSizePx, const CaptureSettings& settings,
                     std::span<base::EncodedTile> out, std::string& error);

  void* m_handle;
  JpegStackEncoder m_stack;
  // encodeRun's tiles that need JPEG; its stack: which of its tiles, their places, their
  // tiles as made (a strip's too).
  std::vector<std::size_t> m_needJpeg;
  std::vector<std::size_t> m_stacked;
  std::vector<std::pair<int, int>> m_places;
  // encodeRun's runs of tiles side by side: where the run starts in m_needJpeg, its first tile.
  struct StripRun {
    std::size_t at;
    int tx, ty, count;
  };
  std::vector<StripRun> m_stripRuns;
  std::vector<base::EncodedTile> m_stackOut;
  std::uint64_t m_tilesStacked = 0, m_tilesInStrips = 0, m_stripsMade = 0;
  LosslessTileEncoder m_lossless;
  std::vector<std::uint8_t> m_scratch;  // worst-case JPEG size for the largest tile
  JpegHeaders m_headers;
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
  // Tiles side by side in a row as one image (the strip they were cut from): each a JpegScan
  // with row restarts at the first one's settings, tileSizePx wide and `h` high, the k-th
  // painted at k * tileSizePx of `dst` (`strideBytes` a row). One JPEG decode instead of one a
  // tile. False with `error` if they do not make a strip or it does not decode (`dst` may
  // then be partly painted): the caller decodes them one by one.
  bool decodeStrip(std::span<const base::EncodedTile* const> tiles, int tileSizePx, int h, std::uint8_t* dst,
                   int strideBytes, std::string& error);
  // Strips decoded so far (for tests and figures).
  std::uint64_t stripsDecoded() const { return m_stripsDecoded; }

 private:
  // A JpegScan's whole file (its rebuilt header, the scan, EOI) in m_rebuilt.
  bool rebuild(const base::EncodedTile& t, int w, int h, std::string& error);

  void* m_handle;
  void* m_compressor = nullptr;  // builds header templates for JpegScan tiles (made on first use)
  JpegHeaders m_headers;
  std::vector<std::uint8_t> m_rebuilt;  // header + scan + EOI
  std::vector<std::size_t> m_cuts;      // decodeStrip: each tile's restart markers in turn
  std::vector<std::size_t> m_markers;   // decodeStrip: one tile's
  std::uint64_t m_stripsDecoded = 0;
  LosslessTileDecoder m_lossless;
};

// Paints a solid colour into a rectangle of a BGRX image.
void fillBgrx(std::uint8_t* dst, int strideBytes, int x, int y, int w, int h, std::uint32_t bgrx);

}  // namespace huddle::capture
