// Applying a CopyRect (a scroll or a moved rectangle): to pixels, as the sharer's reference
// and every viewer's image do it identically, and to per-tile state (which tiles it touched,
// whether the pixels it brings are exact). Thread: pure functions.
#pragma once
#include <cstdint>
#include <vector>

#include "net/base/tile.h"

namespace huddle::capture {

// Copies `c` inside a BGRX image (`strideBytes` per row) as one block: rows are walked away
// from the overlap and each row moves with memmove, so any overlap in either direction is
// safe. `c` must be inside the image (CopyRect::inside).
void applyCopy(std::uint8_t* pixels, std::size_t strideBytes, const base::CopyRect& c);

// Whether applying `c` to `ref` (`refStride` bytes a row) would make its destination equal
// `frame`'s pixels there (`frameStride` bytes a row), compared row by row with memcmp: how a
// copy found by hashes is checked before use. `c` must be inside both images.
bool copyMatches(const std::uint8_t* frame, std::size_t frameStride, const std::uint8_t* ref, std::size_t refStride,
                 const base::CopyRect& c);

// The tiles (row-major indices in a tilesX-wide grid of tileSizePx) the copy's destination
// touches, appended to `out`.
void copyTouchedTiles(const base::CopyRect& c, int tileSizePx, int tilesX, std::vector<std::uint32_t>& out);

// Moves per-tile exactness with the pixels: after the copy, a touched tile is exact (1) only
// if every tile its new pixels came from was exact, and (when the copy covers it only in
// part) it was exact itself. `exact` is a tilesX x tilesY grid; the touched tiles are
// appended to `touched`.
void moveExactness(std::vector<std::uint8_t>& exact, const base::CopyRect& c, int tileSizePx, int tilesX, int tilesY,
                   std::vector<std::uint32_t>& touched);

}  // namespace huddle::capture
