#include "capture/tile_codec.h"

#include <turbojpeg.h>

#include <algorithm>
#include <cstring>

#include "net/base/jpeg_check.h"

namespace huddle::capture {

namespace {
// Largest tile: 256x256. tjBufSize for it at 4:4:4 bounds every JPEG we make.
constexpr int kMaxTile = 256;

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
  if (!m_handle) return error = "TurboJPEG could not start", false;
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
  unsigned char* buf = m_scratch.data();
  unsigned long size = m_scratch.size();
  const unsigned char* src = f.pixels + std::size_t(y0) * f.strideBytes + std::size_t(x0) * kBytesPerPixel;
  int subsamp = s.subsampling == Subsampling::S444 ? TJSAMP_444 : TJSAMP_420;
  // NOREALLOC: the scratch buffer is sized for the worst case, so TurboJPEG never allocates.
  if (tjCompress2(static_cast<tjhandle>(m_handle), src, w, f.strideBytes, h, TJPF_BGRX, &buf, &size, subsamp,
                  s.quality, TJFLAG_NOREALLOC | TJFLAG_FASTDCT) != 0)
    return error = std::string("JPEG encoding failed: ") + tjGetErrorStr2(static_cast<tjhandle>(m_handle)), false;
  out.kind = base::TileKind::Jpeg;
  out.jpeg = base::ByteSlice::whole(base::makeBytes(base::ByteVec(buf, buf + size)));
  return true;
}

TileDecoder::TileDecoder() : m_handle(tjInitDecompress()) {}
TileDecoder::~TileDecoder() {
  if (m_handle) tjDestroy(static_cast<tjhandle>(m_handle));
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
  if (t.kind != base::TileKind::Jpeg) return error = "unknown tile kind", false;
  auto jpeg = t.jpeg.span();
  if (!base::checkJpegTile(jpeg, static_cast<std::uint32_t>(w), static_cast<std::uint32_t>(h), error)) return false;
  // LIMITSCANS and STOPONWARNING: a hostile tile can cost neither unbounded time nor a
  // half-decoded result passed off as good.
  if (tjDecompress2(static_cast<tjhandle>(m_handle), jpeg.data(), jpeg.size(), at, w, strideBytes, h, TJPF_BGRX,
                    TJFLAG_FASTDCT | TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS) != 0)
    return error = std::string("JPEG decoding failed: ") + tjGetErrorStr2(static_cast<tjhandle>(m_handle)), false;
  return true;
}

}  // namespace huddle::capture
