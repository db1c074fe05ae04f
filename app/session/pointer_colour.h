// A pointer's colour: the same for a participant on every screen (and in tests that look
// for it in a screenshot). Thread: pure.
#pragma once
#include <cstddef>
#include <cstdint>

namespace huddle::session {

inline constexpr std::uint32_t kPointerPalette[] = {0xE6194B, 0x3CB44B, 0x4363D8, 0xF58231, 0x911EB4,
                                                    0x42D4F4, 0xF032E6, 0x9A6324, 0x469990, 0xFFD700};
inline constexpr std::size_t kPointerPaletteSize = sizeof(kPointerPalette) / sizeof(kPointerPalette[0]);

// 0xRRGGBB for `participantId`.
inline constexpr std::uint32_t pointerColour(std::uint32_t participantId) {
  return kPointerPalette[participantId % kPointerPaletteSize];
}

}  // namespace huddle::session
