#include "capture/lossless_tile.h"

#include <zstd.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <span>

#include "net/base/lossless_check.h"
#include "net/wire/limits.h"

namespace huddle::capture {

namespace {
// zstd's level for tiles: 3 (its default) compresses screen content within a few percent of
// the higher levels at several times their speed.
constexpr int kZstdLevel = 3;
constexpr std::uint32_t kNoColour = 0xFFFFFFFFu;  // no 24-bit colour is this

// Colours of a tile in order of first appearance, up to kMaxPaletteColours; an open-addressed
// table twice as large as that keeps lookups short.
class ColourTable {
 public:
  static constexpr std::size_t kSlots = 2 * wire::kMaxPaletteColours;
  explicit ColourTable(std::size_t limit = wire::kMaxPaletteColours)
      : m_limit(std::min<std::size_t>(limit, wire::kMaxPaletteColours)) {
    m_keys.fill(kEmpty);
  }
  // The colour's index, adding it; -1 once the table holds `limit` colours and this one is new.
  int indexOf(std::uint32_t bgr) {
    std::size_t slot = (bgr * 2654435761u) >> 23;  // top 9 bits: 0..511
    while (m_keys[slot] != kEmpty) {
      if (m_keys[slot] == bgr) return m_values[slot];
      slot = (slot + 1) % kSlots;
    }
    if (m_count >= m_limit) return -1;
    m_keys[slot] = bgr;
    m_values[slot] = static_cast<std::uint8_t>(m_count);
    m_colours[m_count] = bgr;
    return static_cast<int>(m_count++);
  }
  std::span<const std::uint32_t> colours() const { return {m_colours.data(), m_count}; }

 private:
  static constexpr std::uint32_t kEmpty = 0xFFFFFFFFu;  // no 24-bit colour is this
  std::array<std::uint32_t, kSlots> m_keys;
  std::array<std::uint8_t, kSlots> m_values{};
  std::array<std::uint32_t, wire::kMaxPaletteColours> m_colours;  // no allocation per tile
  std::size_t m_count = 0;
  std::size_t m_limit;
};

// Each pixel's colour index into `indices` (w per row), the colours into `table`; false as
// soon as a colour does not fit.
bool indexColours(const std::uint8_t* src, int stride, int w, int h, ColourTable& table, std::vector<std::uint8_t>& indices) {
  indices.resize(std::size_t(w) * std::size_t(h));
  for (int y = 0; y < h; ++y) {
    const auto* row = reinterpret_cast<const std::uint32_t*>(src + std::size_t(y) * stride);
    std::uint8_t* idx = indices.data() + std::size_t(y) * w;
    std::uint32_t last = kNoColour;
    int lastIndex = 0;
    for (int x = 0; x < w; ++x) {
      const std::uint32_t c = row[x] & 0x00FFFFFF;
      if (c != last) {
        lastIndex = table.indexOf(c);
        if (lastIndex < 0) return false;
        last = c;
      }
      idx[x] = static_cast<std::uint8_t>(lastIndex);
    }
  }
  return true;
}

// The palette tile's header (colour count, colours) into `palette`, its packed indices into
// `raw` (to be compressed after the header).
void packPalette(const ColourTable& table, const std::vector<std::uint8_t>& indices, int w, int h,
                 std::vector<std::uint8_t>& raw, std::vector<std::uint8_t>& palette) {
  const auto colours = static_cast<std::uint32_t>(table.colours().size());
  const int bits = base::paletteIndexBits(colours);
  const std::size_t rowBytes = (std::size_t(w) * bits + 7) / 8;
  raw.assign(rowBytes * h, 0);
  for (int y = 0; y < h; ++y) {
    const std::uint8_t* idx = indices.data() + std::size_t(y) * w;
    std::uint8_t* packed = raw.data() + std::size_t(y) * rowBytes;
    // Most significant bits first: pixel 0 of a 1-bit row is bit 7 of its first byte.
    for (int x = 0; x < w; ++x) {
      const std::size_t bit = std::size_t(x) * bits;
      packed[bit / 8] |= static_cast<std::uint8_t>(idx[x] << (8 - bits - bit % 8));
    }
  }
  palette.clear();
  palette.push_back(static_cast<std::uint8_t>(colours - 1));
  for (std::uint32_t c : table.colours()) {
    palette.push_back(static_cast<std::uint8_t>(c));
    palette.push_back(static_cast<std::uint8_t>(c >> 8));
    palette.push_back(static_cast<std::uint8_t>(c >> 16));
  }
}
}  // namespace

static_assert(ColourTable::kSlots == 512, "the hash above yields 9 bits");

LosslessTileEncoder::LosslessTileEncoder() : m_cctx(ZSTD_createCCtx()) {}
LosslessTileEncoder::~LosslessTileEncoder() { ZSTD_freeCCtx(m_cctx); }

bool LosslessTileEncoder::compress(std::span<const std::uint8_t> raw, std::vector<std::uint8_t>& out,
                                   std::string& error) {
  if (!m_cctx) return error = "zstd could not start", false;
  const std::size_t at = out.size();
  out.resize(at + ZSTD_compressBound(raw.size()));
  // compressCCtx writes the content size into the frame header, which receivers check.
  const std::size_t n = ZSTD_compressCCtx(m_cctx, out.data() + at, out.size() - at, raw.data(), raw.size(), kZstdLevel);
  if (ZSTD_isError(n)) return error = std::string("zstd failed: ") + ZSTD_getErrorName(n), false;
  out.resize(at + n);
  return true;
}

bool LosslessTileEncoder::encode(const std::uint8_t* src, int stride, int w, int h, base::EncodedTile& out,
                                 std::string& error) {
  if (w <= 0 || h <= 0) return error = "empty tile", false;
  const std::size_t pixels = std::size_t(w) * std::size_t(h);
  // Colours, and each pixel's index while there are at most 256 of them.
  ColourTable table;
  const bool fits = indexColours(src, stride, w, h, table, m_indices);
  if (fits && table.colours().size() == 1) {
    out.kind = base::TileKind::Solid;
    out.solidBgrx = table.colours()[0];
    out.jpeg = {};
    return true;
  }
  m_palette.clear();
  if (fits) {
    packPalette(table, m_indices, w, h, m_raw, m_palette);
    if (!compress(m_raw, m_palette, error)) return false;
  }
  // The pixel tile too: zstd finds repeats in some patterns of pixels that the palette's
  // packing hides, so the smaller of the two is only known by making both.
  m_pixels.clear();
  m_raw.resize(pixels * 3);
  std::uint8_t* o = m_raw.data();
  for (int y = 0; y < h; ++y) {
    const std::uint8_t* p = src + std::size_t(y) * stride;
    for (int x = 0; x < w; ++x, p += 4, o += 3) o[0] = p[0], o[1] = p[1], o[2] = p[2];
  }
  if (!compress(m_raw, m_pixels, error)) return false;
  const bool palette = fits && m_palette.size() <= m_pixels.size();
  const auto& chosen = palette ? m_palette : m_pixels;
  out.kind = palette ? base::TileKind::Palette : base::TileKind::ZstdPixels;
  out.jpeg = base::ByteSlice::whole(base::makeBytes(base::ByteVec(chosen.begin(), chosen.end())));
  return true;
}

bool LosslessTileEncoder::encodeIfFewColours(const std::uint8_t* src, int stride, int w, int h, std::size_t maxColours,
                                             base::EncodedTile& out) {
  if (w <= 0 || h <= 0) return false;
  const std::size_t limit = std::min<std::size_t>(maxColours, wire::kMaxPaletteColours);
  {
    // A pixel in 16 first: video and photos show too many colours there already, so most
    // tiles that go JPEG cost a sixteenth of a scan (a smooth gradient only finds out late).
    ColourTable sample(limit);
    for (int y = 0; y < h; y += 4) {
      const auto* row = reinterpret_cast<const std::uint32_t*>(src + std::size_t(y) * stride);
      for (int x = 0; x < w; x += 4)
        if (sample.indexOf(row[x] & 0x00FFFFFF) < 0) return false;
    }
  }
  ColourTable table(limit);
  if (!indexColours(src, stride, w, h, table, m_indices)) return false;
  if (table.colours().size() == 1) {
    out.kind = base::TileKind::Solid;
    out.solidBgrx = table.colours()[0];
    out.jpeg = {};
    return true;
  }
  packPalette(table, m_indices, w, h, m_raw, m_palette);
  std::string ignored;  // a zstd failure: the caller sends JPEG instead
  if (!compress(m_raw, m_palette, ignored)) return false;
  out.kind = base::TileKind::Palette;
  out.jpeg = base::ByteSlice::whole(base::makeBytes(base::ByteVec(m_palette.begin(), m_palette.end())));
  return true;
}

LosslessTileDecoder::LosslessTileDecoder() : m_dctx(ZSTD_createDCtx()) {}
LosslessTileDecoder::~LosslessTileDecoder() { ZSTD_freeDCtx(m_dctx); }

bool LosslessTileDecoder::decode(base::TileKind kind, std::span<const std::uint8_t> bytes, int w, int h,
                                 std::uint8_t* dst, int stride, std::string& error) {
  if (!m_dctx) return error = "zstd could not start", false;
  if (w <= 0 || h <= 0) return error = "empty tile", false;
  std::size_t zstdAt = 0, raw = 0;
  if (!base::checkLosslessTile(kind, bytes, std::uint32_t(w), std::uint32_t(h), error, &zstdAt, &raw)) return false;
  // The header's size was checked; what the frame really holds is known only by decompressing
  // it into exactly that much room.
  m_raw.resize(raw);
  const std::size_t got =
      ZSTD_decompressDCtx(m_dctx, m_raw.data(), raw, bytes.data() + zstdAt, bytes.size() - zstdAt);
  if (ZSTD_isError(got)) return error = std::string("zstd: ") + ZSTD_getErrorName(got), false;
  if (got != raw)
    return error = "decompressed " + std::to_string(got) + " bytes for a tile of " + std::to_string(raw), false;
  if (kind == base::TileKind::ZstdPixels) {
    const std::uint8_t* p = m_raw.data();
    for (int y = 0; y < h; ++y) {
      std::uint8_t* o = dst + std::size_t(y) * stride;
      for (int x = 0; x < w; ++x, p += 3, o += 4) o[0] = p[0], o[1] = p[1], o[2] = p[2], o[3] = 0xFF;
    }
    return true;
  }
  const std::uint32_t colours = std::uint32_t(bytes[0]) + 1;
  const int bits = base::paletteIndexBits(colours);
  const std::size_t rowBytes = (std::size_t(w) * bits + 7) / 8;
  const std::uint32_t mask = (1u << bits) - 1;
  std::array<std::uint32_t, wire::kMaxPaletteColours> palette{};
  for (std::uint32_t i = 0; i < colours; ++i) {
    const std::uint8_t* c = bytes.data() + 1 + 3 * i;
    palette[i] = 0xFF000000u | std::uint32_t(c[2]) << 16 | std::uint32_t(c[1]) << 8 | c[0];
  }
  for (int y = 0; y < h; ++y) {
    const std::uint8_t* packed = m_raw.data() + std::size_t(y) * rowBytes;
    auto* o = reinterpret_cast<std::uint32_t*>(dst + std::size_t(y) * stride);
    for (int x = 0; x < w; ++x) {
      const std::size_t bit = std::size_t(x) * bits;
      const std::uint32_t index = (packed[bit / 8] >> (8 - bits - bit % 8)) & mask;
      if (index >= colours)
        return error = "palette index " + std::to_string(index) + " of " + std::to_string(colours) + " colours", false;
      o[x] = palette[index];
    }
  }
  return true;
}

}  // namespace huddle::capture
