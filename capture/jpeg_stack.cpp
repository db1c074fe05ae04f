#include "capture/jpeg_stack.h"

// jpeglib.h needs FILE and size_t declared first.
#include <algorithm>
#include <csetjmp>
#include <cstddef>
#include <cstdio>
#include <cstring>

#include <jpeglib.h>

#include "capture/tile_codec.h"
#include "net/base/jpeg_check.h"

namespace huddle::capture {

namespace {
constexpr int kMaxTileSide = 256;  // the largest tile size

// libjpeg reports errors through error_exit, which must not return: back to compressStack().
struct ErrorManager {
  jpeg_error_mgr pub;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void onError(j_common_ptr cinfo) {
  auto* e = reinterpret_cast<ErrorManager*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, e->message);
  std::longjmp(e->jump, 1);
}

void onMessage(j_common_ptr, int) {}  // warnings: a compressor has none worth a log line

// Writes into a std::vector, growing it when full.
struct VectorDestination {
  jpeg_destination_mgr pub;
  std::vector<std::uint8_t>* out;
};

void initDestination(j_compress_ptr cinfo) {
  auto* d = reinterpret_cast<VectorDestination*>(cinfo->dest);
  d->pub.next_output_byte = d->out->data();
  d->pub.free_in_buffer = d->out->size();
}

boolean emptyOutputBuffer(j_compress_ptr cinfo) {
  auto* d = reinterpret_cast<VectorDestination*>(cinfo->dest);
  const std::size_t used = d->out->size();
  d->out->resize(used * 2);
  d->pub.next_output_byte = d->out->data() + used;
  d->pub.free_in_buffer = used;
  return TRUE;
}

void termDestination(j_compress_ptr) {}

}  // namespace

struct JpegStackEncoder::State {
  jpeg_compress_struct cinfo;
  ErrorManager errors;
  VectorDestination dest;
  int quality = -1;
  bool chroma444 = false;
  bool created = false;
  std::vector<JSAMPROW> rows;  // each row of the stack, pointing into the frame
};

JpegStackEncoder::JpegStackEncoder() : m_state(new State), m_out(64 * 1024) {
  State& s = *m_state;
  s.cinfo.err = jpeg_std_error(&s.errors.pub);
  s.errors.pub.error_exit = onError;
  s.errors.pub.emit_message = onMessage;
  if (setjmp(s.errors.jump) == 0) {
    jpeg_create_compress(&s.cinfo);
    s.created = true;
  }
  s.dest.pub.init_destination = initDestination;
  s.dest.pub.empty_output_buffer = emptyOutputBuffer;
  s.dest.pub.term_destination = termDestination;
  s.dest.out = &m_out;
}

JpegStackEncoder::~JpegStackEncoder() {
  if (m_state->created) jpeg_destroy_compress(&m_state->cinfo);
  delete m_state;
}

bool JpegStackEncoder::fits(int tileSizePx, bool chroma444) {
  const int mcu = chroma444 ? 8 : 16;
  return tileSizePx > 0 && tileSizePx % mcu == 0 && tileSizePx <= kMaxTileSide;
}

namespace {

// The stack through libjpeg, with the same settings as TurboJPEG's tjCompress2 (quality,
// subsampling, its DCT choice), plus the restart interval. Only plain data between setjmp and
// a longjmp back to it.
bool compressStack(jpeg_compress_struct& c, ErrorManager& errors, int& cachedQuality, bool& cached444, JSAMPROW* rows,
                   int w, int h, int quality, bool chroma444, unsigned restartMcus, std::string& error) {
  if (setjmp(errors.jump) != 0) {
    jpeg_abort_compress(&c);
    cachedQuality = -1;
    error = std::string("JPEG stack encoding failed: ") + errors.message;
    return false;
  }
  c.image_width = static_cast<JDIMENSION>(w);
  c.image_height = static_cast<JDIMENSION>(h);
  c.input_components = 4;
  c.in_color_space = JCS_EXT_BGRX;
  if (quality != cachedQuality || chroma444 != cached444) {
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, quality, TRUE);
    c.comp_info[0].h_samp_factor = c.comp_info[0].v_samp_factor = chroma444 ? 1 : 2;
    for (int i = 1; i < 3; ++i) c.comp_info[i].h_samp_factor = c.comp_info[i].v_samp_factor = 1;
    cachedQuality = quality;
    cached444 = chroma444;
  }
  // TurboJPEG's TJFLAG_FASTDCT, which it overrides with the accurate DCT from quality 96 up.
  c.dct_method = quality >= 96 ? JDCT_ISLOW : JDCT_IFAST;
  c.restart_interval = restartMcus;
  jpeg_start_compress(&c, TRUE);
  while (c.next_scanline < c.image_height)
    jpeg_write_scanlines(&c, rows + c.next_scanline, c.image_height - c.next_scanline);
  jpeg_finish_compress(&c);
  return true;
}

// A JpegScan tile at grid place (tx, ty) holding `scan`.
base::EncodedTile scanTile(int tx, int ty, int quality, bool chroma444, bool rowRestarts, base::ByteSlice scan) {
  base::EncodedTile t;
  t.tx = static_cast<std::uint16_t>(tx);
  t.ty = static_cast<std::uint16_t>(ty);
  t.kind = base::TileKind::JpegScan;
  t.jpegQuality = static_cast<std::uint8_t>(quality);
  t.jpeg444 = chroma444;
  t.jpegRowRestarts = rowRestarts;
  t.jpeg = std::move(scan);
  return t;
}

// Where the segment starting at `at` (after SOI) with marker `marker` is, or npos.
std::size_t findSegment(std::span<const std::uint8_t> jpeg, std::uint8_t marker, std::size_t& length) {
  for (std::size_t at = 2; at + 4 <= jpeg.size();) {
    if (jpeg[at] != 0xFF) return std::string::npos;
    const std::size_t len = std::size_t(jpeg[at + 2]) << 8 | jpeg[at + 3];
    if (jpeg[at + 1] == marker) return length = len, at;
    if (jpeg[at + 1] == 0xDA) return std::string::npos;  // the scan: no more headers
    at += 2 + len;
  }
  return std::string::npos;
}

}  // namespace

bool JpegStackEncoder::encode(const Frame& f, std::span<const std::pair<int, int>> places, int tile, int quality,
                              bool chroma444, JpegHeaders& headers, void* compressor, std::span<base::EncodedTile> out,
                              std::string& error) {
  State& s = *m_state;
  if (!s.created) return error = "libjpeg could not start", false;
  const std::size_t count = places.size();
  if (count < 1 || count > std::size_t(kMaxTiles) || out.size() != count || !fits(tile, chroma444))
    return error = "these tiles cannot be stacked", false;
  s.rows.resize(count * std::size_t(tile));
  for (std::size_t k = 0; k < count; ++k) {
    const int x0 = places[k].first * tile, y0 = places[k].second * tile;
    if (x0 < 0 || y0 < 0 || x0 + tile > f.widthPx || y0 + tile > f.heightPx) return error = "a tile outside the frame", false;
    for (int y = 0; y < tile; ++y)
      s.rows[k * std::size_t(tile) + std::size_t(y)] =
          const_cast<JSAMPROW>(f.pixels + std::size_t(y0 + y) * f.strideBytes + std::size_t(x0) * kBytesPerPixel);
  }
  const int mcu = chroma444 ? 8 : 16;
  const unsigned mcusPerTile = static_cast<unsigned>((tile / mcu) * (tile / mcu));
  s.cinfo.dest = &s.dest.pub;
  if (!compressStack(s.cinfo, s.errors, s.quality, s.chroma444, s.rows.data(), tile, tile * static_cast<int>(count),
                     quality, chroma444, mcusPerTile, error))
    return false;
  const std::size_t size = m_out.size() - s.dest.pub.free_in_buffer;
  const std::span<const std::uint8_t> jpeg(m_out.data(), size);

  // The tables must be those a receiver rebuilds: the stack's headers without DRI, sized as
  // one tile, equal the template.
  std::size_t sofAt = 0, scanAt = 0, driLength = 0;
  if (!JpegHeaders::parse(jpeg, sofAt, scanAt) || size < scanAt + 2 || jpeg[size - 2] != 0xFF || jpeg[size - 1] != 0xD9)
    return error = "the stack's JPEG has an unexpected layout", false;
  const std::size_t driAt = findSegment(jpeg, 0xDD, driLength);
  if (driAt == std::string::npos || driLength != 4 || driAt < sofAt + 9)
    return error = "the stack's JPEG has no restart interval", false;
  const auto* header = headers.get(compressor, quality, chroma444, tile, tile);
  if (!header || header->size() != scanAt - (2 + driLength) || std::memcmp(header->data(), jpeg.data(), sofAt + 5) != 0 ||
      std::memcmp(header->data() + sofAt + 9, jpeg.data() + sofAt + 9, driAt - (sofAt + 9)) != 0 ||
      std::memcmp(header->data() + driAt, jpeg.data() + driAt + 2 + driLength, scanAt - (driAt + 2 + driLength)) != 0)
    return error = "the stack's JPEG tables differ from a tile's", false;

  // Cut the scan at its restart markers: piece k is tile k's whole scan.
  const std::span<const std::uint8_t> scan = jpeg.subspan(scanAt, size - 2 - scanAt);
  if (!base::findRestarts(scan, count - 1, m_markers) || m_markers.size() != count - 1)
    return error = "the stack's scan is not cut in one piece a tile", false;
  // One copy of the scan the tiles share, each its piece of it.
  const base::Bytes shared = base::makeBytes(base::ByteVec(scan.begin(), scan.end()));
  for (std::size_t k = 0; k < count; ++k) {
    const auto [from, to] = base::restartPiece(m_markers, scan.size(), k);
    out[k] = scanTile(places[k].first, places[k].second, quality, chroma444, false,
                      base::ByteSlice{shared, static_cast<std::uint32_t>(from), static_cast<std::uint32_t>(to - from)});
  }
  return true;
}

bool JpegStackEncoder::encodeStrip(const Frame& f, int tx0, int ty0, int count, int rows, int tile, int quality,
                                   bool chroma444, JpegHeaders& headers, void* compressor,
                                   std::span<base::EncodedTile> out, std::string& error) {
  State& s = *m_state;
  if (!s.created) return error = "libjpeg could not start", false;
  if (count < 1 || count > kMaxStripTiles || rows < 1 || rows > kMaxStripRows ||
      out.size() != std::size_t(count) * std::size_t(rows) || !fits(tile, chroma444))
    return error = "these tiles cannot go in a strip", false;
  // Every row of tiles but the last whole; the frame's bottom may crop the last.
  const int x0 = tx0 * tile, y0 = ty0 * tile;
  if (x0 < 0 || y0 < 0 || x0 + count * tile > f.widthPx || y0 + (rows - 1) * tile >= f.heightPx)
    return error = "a strip outside the frame", false;
  const int h = std::min(rows * tile, f.heightPx - y0);
  s.rows.resize(std::size_t(h));
  for (int y = 0; y < h; ++y)
    s.rows[std::size_t(y)] =
        const_cast<JSAMPROW>(f.pixels + std::size_t(y0 + y) * f.strideBytes + std::size_t(x0) * kBytesPerPixel);
  const int mcusPerTile = JpegHeaders::mcusPerRow(tile, chroma444);
  s.cinfo.dest = &s.dest.pub;
  if (!compressStack(s.cinfo, s.errors, s.quality, s.chroma444, s.rows.data(), tile * count, h, quality, chroma444,
                     static_cast<unsigned>(mcusPerTile), error))
    return false;
  const std::size_t size = m_out.size() - s.dest.pub.free_in_buffer;
  const std::span<const std::uint8_t> jpeg(m_out.data(), size);

  // The headers must be those a receiver rebuilds for one tile with row restarts, but for the
  // size in SOF.
  std::size_t sofAt = 0, scanAt = 0;
  if (!JpegHeaders::parse(jpeg, sofAt, scanAt) || size < scanAt + 2 || jpeg[size - 2] != 0xFF || jpeg[size - 1] != 0xD9)
    return error = "the strip's JPEG has an unexpected layout", false;
  const auto* header = headers.get(compressor, quality, chroma444, tile, tile, mcusPerTile);
  if (!header || header->size() != scanAt || std::memcmp(header->data(), jpeg.data(), sofAt + 5) != 0 ||
      std::memcmp(header->data() + sofAt + 9, jpeg.data() + sofAt + 9, scanAt - (sofAt + 9)) != 0)
    return error = "the strip's JPEG headers differ from a tile's", false;

  // The scan between its restart markers: MCU row r of the strip, tile k, is piece
  // r * count + k; a tile's MCU rows are its row of tiles' share of them.
  const int mcu = chroma444 ? 8 : 16;
  const int mcuRows = (h + mcu - 1) / mcu, mcuRowsPerTile = tile / mcu;
  const std::size_t pieces = std::size_t(mcuRows) * std::size_t(count);
  const std::span<const std::uint8_t> scan = jpeg.subspan(scanAt, size - 2 - scanAt);
  if (!base::findRestarts(scan, pieces - 1, m_markers) || m_markers.size() != pieces - 1)
    return error = "the strip's scan is not cut in one piece a tile and MCU row", false;
  // Each tile's scan is its pieces joined by RST0, RST1, ...; all of them go in one buffer the
  // tiles share (one allocation a strip, not one a tile): the pieces, without the strip's
  // markers, plus two bytes for each of a tile's own.
  const std::size_t tiles = std::size_t(count) * std::size_t(rows);
  const std::size_t ownMarkers = std::size_t(mcuRows) * std::size_t(count) - tiles;
  base::ByteVec all(scan.size() - 2 * (pieces - 1) + 2 * ownMarkers);
  std::uint8_t* to = all.data();
  m_starts.resize(tiles + 1);
  for (int row = 0; row < rows; ++row) {
    const int firstMcuRow = row * mcuRowsPerTile, lastMcuRow = std::min(mcuRows, firstMcuRow + mcuRowsPerTile);
    for (int k = 0; k < count; ++k) {
      m_starts[std::size_t(row) * std::size_t(count) + std::size_t(k)] = static_cast<std::uint32_t>(to - all.data());
      for (int r = firstMcuRow; r < lastMcuRow; ++r) {
        const auto [from, end] =
            base::restartPiece(m_markers, scan.size(), std::size_t(r) * std::size_t(count) + std::size_t(k));
        const std::size_t marker = r + 1 < lastMcuRow ? 2 : 0;
        if (end - from + marker > std::size_t(all.data() + all.size() - to))
          return error = "the strip's pieces do not add up", false;
        std::memcpy(to, scan.data() + from, end - from);
        to += end - from;
        if (marker) {
          *to++ = 0xFF;
          *to++ = static_cast<std::uint8_t>(0xD0 + (r - firstMcuRow) % 8);
        }
      }
    }
  }
  if (to != all.data() + all.size()) return error = "the strip's pieces do not add up", false;
  m_starts[tiles] = static_cast<std::uint32_t>(all.size());
  const base::Bytes shared = base::makeBytes(std::move(all));
  for (std::size_t i = 0; i < tiles; ++i) {
    const int tx = tx0 + int(i % std::size_t(count)), ty = ty0 + int(i / std::size_t(count));
    const std::uint32_t at = m_starts[i];
    out[i] = scanTile(tx, ty, quality, chroma444, true, base::ByteSlice{shared, at, m_starts[i + 1] - at});
  }
  return true;
}

}  // namespace huddle::capture
