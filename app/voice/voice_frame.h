// The voice frame: what a sealed voice datagram (net/voice_seal.h) carries, one 10 ms Opus
// frame of one speaker. Little-endian:
//
//   u8 version (1) | u8 flags | u32 speaker | u32 sequence | u32 timestamp | u16 opus length | opus
//
// `sequence` counts the frames the speaker sent (a gap is a loss); `timestamp` counts 10 ms
// frames of the speaker's clock, including those DTX did not send (a gap there with no
// sequence gap is silence). The host forwards frames unchanged; the parser is strict: a
// frame is exactly its fields, with known flags and 1..kMaxVoiceOpusBytes of Opus.
// Thread: any (no shared state).
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "net/wire/limits.h"

namespace huddle::voice {

inline constexpr std::uint8_t kVoiceFrameVersion = 1;
inline constexpr std::size_t kVoiceFrameHeaderBytes = 1 + 1 + 4 + 4 + 4 + 2;
inline constexpr std::size_t kMaxVoiceFrameBytes = kVoiceFrameHeaderBytes + wire::kMaxVoiceOpusBytes;

enum VoiceFlag : std::uint8_t {
  kVoiceSpeaking = 0x01,   // the encoder heard voice (not DTX comfort noise)
  kVoiceTalkStart = 0x02,  // first frame after silence: the receiver may resync its playout
};
inline constexpr std::uint8_t kVoiceKnownFlags = kVoiceSpeaking | kVoiceTalkStart;

struct VoiceFrame {
  std::uint32_t speaker = 0;
  std::uint32_t sequence = 0;
  std::uint32_t timestamp = 0;  // in 10 ms frames
  std::uint8_t flags = 0;
  std::vector<std::uint8_t> opus;
};

// The bytes of `frame`; empty if its Opus bytes are empty or over kMaxVoiceOpusBytes, or
// it has unknown flags.
std::vector<std::uint8_t> encodeVoiceFrame(const VoiceFrame& frame);
// False (with why) unless `bytes` is exactly one well-formed frame.
bool parseVoiceFrame(std::span<const std::uint8_t> bytes, VoiceFrame& out, std::string& why);

}  // namespace huddle::voice
