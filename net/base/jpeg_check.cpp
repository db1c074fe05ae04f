#include "net/base/jpeg_check.h"

#include <cstring>

namespace huddle::base {

namespace {
// The first 0xFF at or after `from` (scan.size() if none): memchr's word-wide search, since
// entropy-coded data holds one in a few hundred bytes (a restart scan ran byte by byte took 1%
// of the sender's CPU on video).
std::size_t nextFF(std::span<const std::uint8_t> scan, std::size_t from) {
  if (from >= scan.size()) return scan.size();
  const void* p = std::memchr(scan.data() + from, 0xFF, scan.size() - from);
  return p ? std::size_t(static_cast<const std::uint8_t*>(p) - scan.data()) : scan.size();
}
}  // namespace

// Walks the marker segments up to the first scan. Progressive (SOF2) and other frame types
// are refused: their multi-scan decoding is where "scan bomb" inputs spend unbounded CPU.
bool checkJpegTile(std::span<const std::uint8_t> j, std::uint32_t widthPx, std::uint32_t heightPx,
                   std::string& error) {
  const std::size_t n = j.size();
  if (n < 4 || j[0] != 0xFF || j[1] != 0xD8) return error = "not a JPEG (no SOI)", false;
  if (j[n - 2] != 0xFF || j[n - 1] != 0xD9) return error = "JPEG is truncated (no EOI)", false;
  std::size_t pos = 2;
  bool sawFrame = false;
  for (int markers = 0; markers < kMaxJpegMarkers; ++markers) {
    // Markers may be preceded by fill bytes (0xFF).
    if (pos >= n || j[pos] != 0xFF) return error = "JPEG marker expected", false;
    while (pos < n && j[pos] == 0xFF) ++pos;
    if (pos >= n) return error = "JPEG ends inside a marker", false;
    std::uint8_t m = j[pos++];
    if (m == 0xD8 || m == 0xD9 || (m >= 0xD0 && m <= 0xD7) || m == 0x01 || m == 0x00)
      return error = "unexpected JPEG marker before the scan", false;
    if (n - pos < 2) return error = "JPEG segment length missing", false;
    std::size_t len = std::size_t(j[pos]) << 8 | j[pos + 1];
    if (len < 2 || len > n - pos) return error = "JPEG segment overruns the tile", false;
    if (m == 0xC0 || m == 0xC1) {
      // SOFn: precision, height, width, components.
      if (sawFrame) return error = "two JPEG frame headers", false;
      if (len < 8) return error = "JPEG frame header too short", false;
      std::uint32_t precision = j[pos + 2];
      std::uint32_t h = std::uint32_t(j[pos + 3]) << 8 | j[pos + 4];
      std::uint32_t w = std::uint32_t(j[pos + 5]) << 8 | j[pos + 6];
      std::uint32_t comps = j[pos + 7];
      if (precision != 8) return error = "JPEG precision is not 8 bits", false;
      if (comps != 1 && comps != 3) return error = "JPEG has " + std::to_string(comps) + " components", false;
      if (len != 8 + 3 * comps) return error = "JPEG frame header size mismatch", false;
      if (w != widthPx || h != heightPx)
        return error = "JPEG is " + std::to_string(w) + "x" + std::to_string(h) + ", tile is " +
                       std::to_string(widthPx) + "x" + std::to_string(heightPx), false;
      sawFrame = true;
    } else if (m >= 0xC2 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) {
      return error = "JPEG is not baseline (SOF" + std::to_string(m - 0xC0) + ")", false;
    } else if (m == 0xDA) {
      if (!sawFrame) return error = "JPEG scan before its frame header", false;
      return true;  // entropy-coded data follows; TurboJPEG checks it when decoding
    }
    pos += len;
  }
  return error = "too many JPEG markers", false;
}

bool checkJpegScan(std::span<const std::uint8_t> scan, std::string& error) {
  if (scan.empty()) return error = "empty JPEG scan", false;
  for (std::size_t i = nextFF(scan, 0); i < scan.size(); i = nextFF(scan, i + 2)) {
    if (i + 1 == scan.size()) return error = "JPEG scan ends inside a marker", false;
    const std::uint8_t next = scan[i + 1];
    if (next != 0x00 && (next < 0xD0 || next > 0xD7)) return error = "marker inside a JPEG scan", false;
  }
  return true;
}

bool findRestarts(std::span<const std::uint8_t> scan, std::size_t maxMarkers, std::vector<std::size_t>& markers) {
  markers.clear();
  for (std::size_t i = nextFF(scan, 0); i < scan.size(); i = nextFF(scan, i + 2)) {
    if (i + 1 == scan.size()) return false;  // ends inside a marker
    const std::uint8_t next = scan[i + 1];
    if (next == 0x00) continue;  // a stuffed 0xFF byte of data
    if (next != 0xD0 + markers.size() % 8 || markers.size() >= maxMarkers) return false;
    markers.push_back(i);
  }
  return true;
}

}  // namespace huddle::base
