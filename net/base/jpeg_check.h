// Structural check of a JPEG tile before anyone decodes it: baseline only, 1 or 3
// components, frame size equal to the tile's, a bounded number of markers. The host runs it
// on every relayed tile (it never decodes), and viewers run it before TurboJPEG does.
// Thread: any (pure).
#pragma once
#include <cstdint>
#include <span>
#include <string>

namespace huddle::base {

inline constexpr int kMaxJpegMarkers = 64;

// True if `jpeg` is a baseline JPEG of exactly widthPx x heightPx; else false and `error`.
bool checkJpegTile(std::span<const std::uint8_t> jpeg, std::uint32_t widthPx, std::uint32_t heightPx,
                   std::string& error);

// True if `scan` is entropy-coded data only: every 0xFF is a stuffed 0xFF00 or a restart
// marker, so headers rebuilt in front of it and an EOI after it make the whole file.
bool checkJpegScan(std::span<const std::uint8_t> scan, std::string& error);

}  // namespace huddle::base
