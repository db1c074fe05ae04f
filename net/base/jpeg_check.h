// Structural check of a JPEG tile before anyone decodes it: baseline only, 1 or 3
// components, frame size equal to the tile's, a bounded number of markers. The host runs it
// on every relayed tile (it never decodes), and viewers run it before TurboJPEG does.
// Thread: any (pure).
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace huddle::base {

inline constexpr int kMaxJpegMarkers = 64;

// True if `jpeg` is a baseline JPEG of exactly widthPx x heightPx; else false and `error`.
bool checkJpegTile(std::span<const std::uint8_t> jpeg, std::uint32_t widthPx, std::uint32_t heightPx,
                   std::string& error);

// True if `scan` is entropy-coded data only: every 0xFF is a stuffed 0xFF00 or a restart
// marker, so headers rebuilt in front of it and an EOI after it make the whole file.
bool checkJpegScan(std::span<const std::uint8_t> scan, std::string& error);

// Where `scan`'s restart markers are (the offset of each one's 0xFF, into `markers`, cleared
// first), for cutting it into the pieces between them: true if every 0xFF is a stuffed 0xFF00
// or the next restart in order (RST0, RST1, ... RST7, RST0, ...), there are at most
// `maxMarkers`, and the scan does not end inside a marker.
bool findRestarts(std::span<const std::uint8_t> scan, std::size_t maxMarkers, std::vector<std::size_t>& markers);

// Piece k of a scan of `size` bytes cut at `markers` (as findRestarts gives them): [first, second).
inline std::pair<std::size_t, std::size_t> restartPiece(std::span<const std::size_t> markers, std::size_t size,
                                                        std::size_t k) {
  return {k == 0 ? 0 : markers[k - 1] + 2, k < markers.size() ? markers[k] : size};
}

}  // namespace huddle::base
