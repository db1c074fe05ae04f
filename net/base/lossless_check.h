// Structural check of a lossless tile (base::TileKind::Palette or ZstdPixels) without
// decompressing it: the palette is whole, and the zstd data is exactly one frame that
// declares exactly the size the tile needs. The host runs it on every relayed lossless tile
// (it never decodes); a viewer's decoder runs it first, then checks what decompression
// actually gives (a frame can lie about its size) and every palette index.
// Thread: any (pure).
#pragma once
#include <cstdint>
#include <span>
#include <string>

#include "net/base/tile.h"

namespace huddle::base {

// Bytes of packed palette indices for a w x h tile of `colours` colours: 1, 2, 4 or 8 bits per
// pixel, each row starting on a byte.
int paletteIndexBits(std::uint32_t colours);
std::size_t paletteIndexBytes(std::uint32_t colours, std::uint32_t widthPx, std::uint32_t heightPx);

// True if `bytes` is a well-formed lossless tile of `kind` for a widthPx x heightPx tile; else
// false and `error`. On success `zstdAt` is where the zstd frame starts and `rawBytes` what
// it must decompress to (indices or pixels).
bool checkLosslessTile(TileKind kind, std::span<const std::uint8_t> bytes, std::uint32_t widthPx,
                       std::uint32_t heightPx, std::string& error, std::size_t* zstdAt = nullptr,
                       std::size_t* rawBytes = nullptr);

}  // namespace huddle::base
