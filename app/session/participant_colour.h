// A participant's colour: the same for a person on every screen and everywhere in the window
// (the user list, chat names, their pointer and pen), from the participant id the host gives.
// Light enough to read as text on the window's dark panels; a pointer or stroke drawn on any
// picture gets a dark outline. Tests look for these colours in screenshots. Thread: pure.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace huddle::session {

inline constexpr std::uint32_t kParticipantPalette[] = {0xFF6B6B, 0x51CF66, 0x4DABF7, 0xFFA94D, 0xCC5DE8,
                                                        0x3BC9DB, 0xF783AC, 0xFFD43B, 0x94D82D, 0x9775FA};
inline constexpr std::size_t kParticipantPaletteSize = sizeof(kParticipantPalette) / sizeof(kParticipantPalette[0]);

// 0xRRGGBB for `participantId`.
inline constexpr std::uint32_t participantColour(std::uint32_t participantId) {
  return kParticipantPalette[participantId % kParticipantPaletteSize];
}

// For a name with no participant known (a chat line from someone who has left): a palette
// colour from the name, stable across runs.
inline std::uint32_t colourForName(const std::string& name) {
  std::uint32_t h = 2166136261u;
  for (unsigned char c : name) h = (h ^ c) * 16777619u;
  return kParticipantPalette[h % kParticipantPaletteSize];
}

}  // namespace huddle::session
