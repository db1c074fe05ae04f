#include "capture/tile_codec.h"

#include <turbojpeg.h>

#include <algorithm>
#include <cstring>

#include "net/base/jpeg_check.h"
#include "net/wire/limits.h"

namespace huddle::capture {

namespace {
// The largest tile size: tjBufSize for it at 4:4:4 bounds every JPEG we make.
constexpr int kMaxTile = *std::max_element(std::begin(wire::kTileSizes), std::end(wire::kTileSizes));
// A changed tile with at most this many colours is sent as a palette tile, not JPEG: a 5-bit
// palette of text and UI packs smaller than their JPEG at usual qualities.
constexpr std::size_t kExactWhenColoursAtMost = 32;

bool isUniform(const Frame& f, int x0, int y0, int w, int h, std::uint32_t& colour) {
  const auto* first = reinterpret_cast<const std::uint32_t*>(f.pixels + std::size_t(y0) * f.strideBytes) + x0;
  const std::uint32_t c = *first & 0x00FFFFFF;
  for (int y = 0; y < h; ++y) {
    const auto* row = reinterpret_cast<const std::uint32_t*>(f.pixels + std::size_t(y0 + y) * f.strideBytes) + x0;
    for (int x = 0; x < w; ++x)
      if ((row[x] & 0x00FFFFFF) != c) return false;
  }
  colour = c;
  return true;
}
}  // namespace

const std::vector<std::uint8_t>* JpegHeaders::get(void* compressor, int quality, bool chroma444, int w, int h,
                                                  int restartMcus) {
  Entry* found = nullptr;
  for (auto& e : m_entries)
    if (e.quality == quality && e.chroma444 == chroma444) found = &e;
  if (!found) {
    if (!compressor) return nullptr;
    if (m_entries.size() >= 16) m_entries.clear();
    // A tiny grey image: the tables depend only on quality and subsampling.
    std::vector<std::uint8_t> pixels(16 * 16 * kBytesPerPixel, 0x80);
    unsigned char* jpeg = nullptr;
    unsigned long size = 0;
    if (tjCompress2(static_cast<tjhandle>(compressor), pixels.data(), 16, 16 * kBytesPerPixel, 16, TJPF_BGRX, &jpeg,
                    &size, chroma444 ? TJSAMP_444 : TJSAMP_420, quality, TJFLAG_FASTDCT) != 0)
      return nullptr;
    std::size_t sofAt = 0, scanAt = 0, sosAt = 0;
    bool ok = parse({jpeg, size}, sofAt, scanAt, &sosAt);
    if (ok) m_entries.push_back({quality, chroma444, std::vector<std::uint8_t>(jpeg, jpeg + scanAt), sofAt, sosAt});
    tjFree(jpeg);
    if (!ok) return nullptr;
    found = &m_entries.back();
  }
  m_sized = found->header;
  m_sized[found->sofAt + 5] = static_cast<std::uint8_t>(h >> 8);
  m_sized[found->sofAt + 6] = static_cast<std::uint8_t>(h);
  m_sized[found->sofAt + 7] = static_cast<std::uint8_t>(w >> 8);
  m_sized[found->sofAt + 8] = static_cast<std::uint8_t>(w);
  if (restartMcus > 0) {
    const std::uint8_t dri[6] = {0xFF, 0xDD, 0x00, 0x04, static_cast<std::uint8_t>(restartMcus >> 8),
                                 static_cast<std::uint8_t>(restartMcus)};
    m_sized.insert(m_sized.begin() + static_cast<std::ptrdiff_t>(found->sosAt), std::begin(dri), std::end(dri));
  }
  return &m_sized;
}

bool JpegHeaders::parse(std::span<const std::uint8_t> jpeg, std::size_t& sofAt, std::size_t& scanAt, std::size_t* sosAt) {
  if (jpeg.size() < 4 || jpeg[0] != 0xFF || jpeg[1] != 0xD8) return false;
  bool sawSof = false;
  for (std::size_t at = 2; at + 4 <= jpeg.size();) {
    if (jpeg[at] != 0xFF) return false;
    const std::uint8_t marker = jpeg[at + 1];
    const std::size_t length = std::size_t(jpeg[at + 2]) << 8 | jpeg[at + 3];
    if (length < 2 || at + 2 + length > jpeg.size()) return false;
    if (marker == 0xC0) {
      if (length < 8) return false;
      sofAt = at;
      sawSof = true;
    }
    if (marker == 0xDA) {
      scanAt = at + 2 + length;
      if (sosAt) *sosAt = at;
      return sawSof;
    }
    at += 2 + length;
  }
  return false;
}

void fillBgrx(std::uint8_t* dst, int strideBytes, int x, int y, int w, int h, std::uint32_t bgrx) {
  for (int yy = 0; yy < h; ++yy) {
    auto* row = reinterpret_cast<std::uint32_t*>(dst + std::size_t(y + yy) * strideBytes) + x;
    std::fill(row, row + w, bgrx | 0xFF000000u);
  }
}

TileEncoder::TileEncoder() : m_handle(tjInitCompress()), m_scratch(tjBufSize(kMaxTile, kMaxTile, TJSAMP_444)) {}
TileEncoder::~TileEncoder() {
  if (m_handle) tjDestroy(static_cast<tjhandle>(m_handle));
}

bool TileEncoder::encode(const Frame& f, int tx, int ty, int tile, const CaptureSettings& s, base::EncodedTile& out,
                         std::string& error) {
  if (encodeExact(f, tx, ty, tile, s, out)) return true;
  return encodeJpeg(f, tx, ty, tile, s, out, error);
}

bool TileEncoder::encodeRun(const Frame& f, std::span<const std::uint32_t> indices, int tilesX, int tile,
                            const CaptureSettings& s, std::span<base::EncodedTile> out, std::string& error,
                            std::uint8_t* paletteSkip) {
  if (tilesX <= 0 || out.size() != indices.size()) return error = "bad tile run", false;
  const auto columns = static_cast<std::uint32_t>(tilesX);
  const bool chroma444 = s.subsampling == Subsampling::S444;
  const bool stackable = JpegStackEncoder::fits(tile, chroma444);
  m_needJpeg.clear();
  for (std::size_t i = 0; i < indices.size(); ++i) {
    const int tx = static_cast<int>(indices[i] % columns), ty = static_cast<int>(indices[i] / columns);
    std::uint8_t* skip = paletteSkip ? paletteSkip + indices[i] : nullptr;
    bool manyColours = false;
    if (encodeExact(f, tx, ty, tile, s, out[i], !skip || *skip == 0, &manyColours)) continue;
    m_needJpeg.push_back(i);
    if (skip) *skip = manyColours ? kPaletteSkipFrames : *skip > 0 ? std::uint8_t(*skip - 1) : 0;
  }
  m_stacked.clear();
  m_places.clear();
  m_stripRuns.clear();
  for (std::size_t a = 0; a < m_needJpeg.size();) {
    const std::uint32_t first = indices[m_needJpeg[a]];
    const int tx = static_cast<int>(first % columns), ty = static_cast<int>(first / columns);
    auto wholeWidth = [&](std::uint32_t index) { return int(index % columns + 1) * tile <= f.widthPx; };
    // Tiles side by side in the row (whole-width; the bottom edge may crop them) make a strip.
    std::size_t b = a + 1;
    if (stackable && wholeWidth(first))
      while (b < m_needJpeg.size() && b - a < std::size_t(JpegStackEncoder::kMaxStripTiles) &&
             indices[m_needJpeg[b]] == first + (b - a) && indices[m_needJpeg[b]] / columns == std::uint32_t(ty) &&
             wholeWidth(indices[m_needJpeg[b]]))
        ++b;
    const std::size_t run = b - a;
    if (run >= 2) {
      m_stripRuns.push_back({a, tx, ty, static_cast<int>(run)});
    } else if (stackable && wholeWidth(first) && (ty + 1) * tile <= f.heightPx) {
      // A whole tile alone in its row waits for the stack (a full stack goes, and another
      // starts); one cropped at an edge goes alone.
      m_stacked.push_back(m_needJpeg[a]);
      m_places.emplace_back(tx, ty);
      if (m_stacked.size() == std::size_t(JpegStackEncoder::kMaxTiles) && !encodeStacked(f, tile, s, out, error))
        return false;
    } else if (!encodeJpeg(f, tx, ty, tile, s, out[m_needJpeg[a]], error)) {
      return false;
    }
    a = b;
  }
  // Runs of the same columns in rows one under the other make one strip of those rows.
  for (std::size_t i = 0; i < m_stripRuns.size();) {
    const StripRun& top = m_stripRuns[i];
    std::size_t j = i + 1;
    while (j < m_stripRuns.size() && j - i < std::size_t(JpegStackEncoder::kMaxStripRows) && m_stripRuns[j].tx == top.tx &&
           m_stripRuns[j].count == top.count && m_stripRuns[j].ty == top.ty + static_cast<int>(j - i))
      ++j;
    const int rows = static_cast<int>(j - i);
    const auto count = static_cast<std::size_t>(top.count);
    auto place = [&](std::size_t row, std::size_t k) -> base::EncodedTile& {
      return out[m_needJpeg[m_stripRuns[i + row].at + k]];
    };
    m_stackOut.resize(count * std::size_t(rows));
    std::string why;  // a strip that cannot be made: its tiles go one by one
    if (m_stack.encodeStrip(f, top.tx, top.ty, top.count, rows, tile, s.quality, chroma444, m_headers, m_handle,
                            m_stackOut, why)) {
      for (std::size_t row = 0; row < std::size_t(rows); ++row)
        for (std::size_t k = 0; k < count; ++k) place(row, k) = std::move(m_stackOut[row * count + k]);
      m_tilesInStrips += count * std::size_t(rows);
      ++m_stripsMade;
    } else {
      for (std::size_t row = 0; row < std::size_t(rows); ++row)
        for (std::size_t k = 0; k < count; ++k)
          if (!encodeJpeg(f, top.tx + static_cast<int>(k), top.ty + static_cast<int>(row), tile, s, place(row, k), error))
            return false;
    }
    i = j;
  }
  return encodeStacked(f, tile, s, out, error);
}

bool TileEncoder::encodeStacked(const Frame& f, int tile, const CaptureSettings& s, std::span<base::EncodedTile> out,
                                std::string& error) {
  const bool chroma444 = s.subsampling == Subsampling::S444;
  bool ok = true;
  if (m_stacked.size() >= 2) {
    m_stackOut.resize(m_stacked.size());
    std::string why;  // a stack that cannot be made: its tiles go one by one, the same bytes
    if (m_stack.encode(f, m_places, tile, s.quality, chroma444, m_headers, m_handle, m_stackOut, why)) {
      for (std::size_t k = 0; k < m_stacked.size(); ++k) out[m_stacked[k]] = std::move(m_stackOut[k]);
      m_tilesStacked += m_stacked.size();
      m_stacked.clear();
      m_places.clear();
      return true;
    }
  }
  for (std::size_t k = 0; k < m_stacked.size() && ok; ++k)
    ok = encodeJpeg(f, m_places[k].first, m_places[k].second, tile, s, out[m_stacked[k]], error);
  m_stacked.clear();
  m_places.clear();
  return ok;
}

bool TileEncoder::encodeExact(const Frame& f, int tx, int ty, int tile, const CaptureSettings& s, base::EncodedTile& out,
                              bool tryPalette, bool* manyColours) {
  const int x0 = tx * tile, y0 = ty * tile;
  const int w = std::min(tile, f.widthPx - x0), h = std::min(tile, f.heightPx - y0);
  out.tx = static_cast<std::uint16_t>(tx);
  out.ty = static_cast<std::uint16_t>(ty);
  std::uint32_t colour = 0;
  if (isUniform(f, x0, y0, w, h, colour)) {
    out.kind = base::TileKind::Solid;
    out.solidBgrx = colour;
    out.jpeg = {};
    return true;
  }
  const unsigned char* src = f.pixels + std::size_t(y0) * f.strideBytes + std::size_t(x0) * kBytesPerPixel;
  // Text and flat UI (a few colours) go exact even while they change: their palette tile is
  // smaller than a JPEG of them and needs no sharp refresh later. With sharp when still off
  // the sharer asked for JPEG alone.
  if (!tryPalette || !s.sharpWhenStill || !s.exactFewColours) return false;
  if (m_lossless.encodeIfFewColours(src, f.strideBytes, w, h, kExactWhenColoursAtMost, out)) return true;
  if (manyColours) *manyColours = true;
  return false;
}

bool TileEncoder::encodeJpeg(const Frame& f, int tx, int ty, int tile, const CaptureSettings& s, base::EncodedTile& out,
                             std::string& error) {
  if (!m_handle) return error = "TurboJPEG could not start", false;
  const int x0 = tx * tile, y0 = ty * tile;
  const int w = std::min(tile, f.widthPx - x0), h = std::min(tile, f.heightPx - y0);
  out.tx = static_cast<std::uint16_t>(tx);
  out.ty = static_cast<std::uint16_t>(ty);
  const unsigned char* src = f.pixels + std::size_t(y0) * f.strideBytes + std::size_t(x0) * kBytesPerPixel;
  unsigned char* buf = m_scratch.data();
  unsigned long size = m_scratch.size();
  int subsamp = s.subsampling == Subsampling::S444 ? TJSAMP_444 : TJSAMP_420;
  // NOREALLOC: the scratch buffer is sized for the worst case, so TurboJPEG never allocates.
  if (tjCompress2(static_cast<tjhandle>(m_handle), src, w, f.strideBytes, h, TJPF_BGRX, &buf, &size, subsamp,
                  s.quality, TJFLAG_NOREALLOC | TJFLAG_FASTDCT) != 0)
    return error = std::string("JPEG encoding failed: ") + tjGetErrorStr2(static_cast<tjhandle>(m_handle)), false;
  // Send the scan alone when the headers are exactly what the receiver will rebuild.
  std::size_t sofAt = 0, scanAt = 0;
  const bool chroma444 = s.subsampling == Subsampling::S444;
  const std::span<const std::uint8_t> whole(buf, size);
  if (JpegHeaders::parse(whole, sofAt, scanAt) && size >= scanAt + 3 && buf[size - 2] == 0xFF && buf[size - 1] == 0xD9) {
    const auto* header = m_headers.get(m_handle, s.quality, chroma444, w, h);
    if (header && header->size() == scanAt && std::memcmp(header->data(), buf, scanAt) == 0) {
      out.kind = base::TileKind::JpegScan;
      out.jpegQuality = static_cast<std::uint8_t>(s.quality);
      out.jpeg444 = chroma444;
      out.jpegRowRestarts = false;
      out.jpeg = base::ByteSlice::whole(base::makeBytes(base::ByteVec(buf + scanAt, buf + size - 2)));
      return true;
    }
  }
  out.kind = base::TileKind::Jpeg;
  out.jpeg = base::ByteSlice::whole(base::makeBytes(base::ByteVec(buf, buf + size)));
  return true;
}

bool TileEncoder::encodeLossless(const Frame& f, int tx, int ty, int tile, base::EncodedTile& out,
                                 std::string& error) {
  const int x0 = tx * tile, y0 = ty * tile;
  const int w = std::min(tile, f.widthPx - x0), h = std::min(tile, f.heightPx - y0);
  if (w <= 0 || h <= 0) return error = "tile outside the frame", false;
  out.tx = static_cast<std::uint16_t>(tx);
  out.ty = static_cast<std::uint16_t>(ty);
  const std::uint8_t* src = f.pixels + std::size_t(y0) * f.strideBytes + std::size_t(x0) * kBytesPerPixel;
  return m_lossless.encode(src, f.strideBytes, w, h, out, error);
}

TileDecoder::TileDecoder() : m_handle(tjInitDecompress()) {}
TileDecoder::~TileDecoder() {
  if (m_handle) tjDestroy(static_cast<tjhandle>(m_handle));
  if (m_compressor) tjDestroy(static_cast<tjhandle>(m_compressor));
}

bool TileDecoder::decode(const base::EncodedTile& t, int tile, int widthPx, int heightPx, std::uint8_t* dst,
                         int strideBytes, std::string& error) {
  if (!m_handle) return error = "TurboJPEG could not start", false;
  if (tile <= 0 || widthPx <= 0 || heightPx <= 0) return error = "bad geometry", false;
  const long x0 = long(t.tx) * tile, y0 = long(t.ty) * tile;
  if (x0 >= widthPx || y0 >= heightPx) return error = "tile outside the image", false;
  const int w = static_cast<int>(std::min<long>(tile, widthPx - x0)), h = static_cast<int>(std::min<long>(tile, heightPx - y0));
  std::uint8_t* at = dst + std::size_t(y0) * strideBytes + std::size_t(x0) * kBytesPerPixel;
  if (t.kind == base::TileKind::Solid) {
    fillBgrx(dst, strideBytes, static_cast<int>(x0), static_cast<int>(y0), w, h, t.solidBgrx);
    return true;
  }
  if (base::isLosslessKind(t.kind)) return m_lossless.decode(t.kind, t.jpeg.span(), w, h, at, strideBytes, error);
  if (t.kind != base::TileKind::Jpeg && t.kind != base::TileKind::JpegScan) return error = "unknown tile kind", false;
  auto jpeg = t.jpeg.span();
  if (t.kind == base::TileKind::JpegScan) {
    if (!rebuild(t, w, h, error)) return false;
    jpeg = m_rebuilt;
  }
  if (!base::checkJpegTile(jpeg, static_cast<std::uint32_t>(w), static_cast<std::uint32_t>(h), error)) return false;
  // LIMITSCANS and STOPONWARNING: a hostile tile can cost neither unbounded time nor a
  // half-decoded result passed off as good.
  if (tjDecompress2(static_cast<tjhandle>(m_handle), jpeg.data(), jpeg.size(), at, w, strideBytes, h, TJPF_BGRX,
                    TJFLAG_FASTDCT | TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS) != 0)
    return error = std::string("JPEG decoding failed: ") + tjGetErrorStr2(static_cast<tjhandle>(m_handle)), false;
  return true;
}

bool TileDecoder::rebuild(const base::EncodedTile& t, int w, int h, std::string& error) {
  // Our own headers for these settings, the scan, EOI.
  if (t.jpegQuality < 1 || t.jpegQuality > 100) return error = "bad JPEG quality", false;
  if (!base::checkJpegScan(t.jpeg.span(), error)) return false;
  if (!m_compressor) m_compressor = tjInitCompress();
  const auto* header = m_headers.get(m_compressor, t.jpegQuality, t.jpeg444, w, h,
                                     t.jpegRowRestarts ? JpegHeaders::mcusPerRow(w, t.jpeg444) : 0);
  if (!header) return error = "cannot build JPEG headers", false;
  m_rebuilt.assign(header->begin(), header->end());
  m_rebuilt.insert(m_rebuilt.end(), t.jpeg.span().begin(), t.jpeg.span().end());
  m_rebuilt.push_back(0xFF);
  m_rebuilt.push_back(0xD9);
  return true;
}

bool TileDecoder::decodeStrip(std::span<const base::EncodedTile* const> tiles, int tile, int h, std::uint8_t* dst,
                              int strideBytes, std::string& error) {
  if (!m_handle) return error = "TurboJPEG could not start", false;
  const std::size_t count = tiles.size();
  if (count < 1 || count > std::size_t(JpegStackEncoder::kMaxStripTiles) || h < 1 || h > tile)
    return error = "not a strip", false;
  const base::EncodedTile& first = *tiles[0];
  const bool c444 = first.jpeg444;
  if (!JpegStackEncoder::fits(tile, c444)) return error = "tiles of this size make no strip", false;
  if (first.jpegQuality < 1 || first.jpegQuality > 100) return error = "bad JPEG quality", false;
  const int mcuRows = (h + (c444 ? 7 : 15)) / (c444 ? 8 : 16);
  // Each tile's scan: exactly mcuRows pieces, split at RST0, RST1, ... in order (which also
  // checks it is entropy-coded data only).
  m_cuts.clear();
  std::size_t scanBytes = 0;
  for (std::size_t k = 0; k < count; ++k) {
    const base::EncodedTile& t = *tiles[k];
    if (t.kind != base::TileKind::JpegScan || !t.jpegRowRestarts || t.jpeg444 != c444 ||
        t.jpegQuality != first.jpegQuality || std::size_t(t.tx) != std::size_t(first.tx) + k || t.ty != first.ty)
      return error = "tiles that make no strip", false;
    const auto scan = t.jpeg.span();
    if (scan.empty() || !base::findRestarts(scan, std::size_t(mcuRows - 1), m_markers) ||
        m_markers.size() != std::size_t(mcuRows - 1))
      return error = "a tile's restarts do not fit", false;
    m_cuts.insert(m_cuts.end(), m_markers.begin(), m_markers.end());
    scanBytes += scan.size();
  }
  // The strip: its header, then MCU row r of each tile in turn, numbered restarts between.
  if (!m_compressor) m_compressor = tjInitCompress();
  const int width = tile * static_cast<int>(count);
  const auto* header =
      m_headers.get(m_compressor, first.jpegQuality, c444, width, h, JpegHeaders::mcusPerRow(tile, c444));
  if (!header) return error = "cannot build JPEG headers", false;
  m_rebuilt.reserve(header->size() + scanBytes + 2 * count * std::size_t(mcuRows) + 2);
  m_rebuilt.assign(header->begin(), header->end());
  std::size_t restart = 0;
  for (int r = 0; r < mcuRows; ++r)
    for (std::size_t k = 0; k < count; ++k) {
      const auto scan = tiles[k]->jpeg.span();
      const std::span<const std::size_t> markers(m_cuts.data() + k * std::size_t(mcuRows - 1), std::size_t(mcuRows - 1));
      const auto [from, to] = base::restartPiece(markers, scan.size(), std::size_t(r));
      m_rebuilt.insert(m_rebuilt.end(), scan.begin() + static_cast<std::ptrdiff_t>(from),
                       scan.begin() + static_cast<std::ptrdiff_t>(to));
      if (r + 1 < mcuRows || k + 1 < count) {
        m_rebuilt.push_back(0xFF);
        m_rebuilt.push_back(static_cast<std::uint8_t>(0xD0 + restart++ % 8));
      }
    }
  m_rebuilt.push_back(0xFF);
  m_rebuilt.push_back(0xD9);
  if (!base::checkJpegTile(m_rebuilt, static_cast<std::uint32_t>(width), static_cast<std::uint32_t>(h), error))
    return false;
  if (tjDecompress2(static_cast<tjhandle>(m_handle), m_rebuilt.data(), m_rebuilt.size(), dst, width, strideBytes, h,
                    TJPF_BGRX, TJFLAG_FASTDCT | TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS) != 0)
    return error = std::string("JPEG decoding failed: ") + tjGetErrorStr2(static_cast<tjhandle>(m_handle)), false;
  ++m_stripsDecoded;
  return true;
}

}  // namespace huddle::capture
