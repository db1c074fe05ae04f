#include "app/voice/voice_frame.h"

#include "net/wire/codec.h"

namespace huddle::voice {

std::vector<std::uint8_t> encodeVoiceFrame(const VoiceFrame& frame) {
  std::vector<std::uint8_t> out;
  if (frame.opus.empty() || frame.opus.size() > wire::kMaxVoiceOpusBytes || (frame.flags & ~kVoiceKnownFlags)) return out;
  out.reserve(kVoiceFrameHeaderBytes + frame.opus.size());
  wire::Writer w(out);
  w.u8(kVoiceFrameVersion);
  w.u8(frame.flags);
  w.u32(frame.speaker);
  w.u32(frame.sequence);
  w.u32(frame.timestamp);
  w.u16(static_cast<std::uint16_t>(frame.opus.size()));
  w.raw(frame.opus.data(), frame.opus.size());
  return out;
}

bool parseVoiceFrame(std::span<const std::uint8_t> bytes, VoiceFrame& out, std::string& why) {
  if (bytes.size() < kVoiceFrameHeaderBytes + 1) return why = "voice frame too short", false;
  if (bytes.size() > kMaxVoiceFrameBytes) return why = "voice frame too large", false;
  wire::Reader r(bytes);
  if (r.u8() != kVoiceFrameVersion) return why = "unknown voice frame version", false;
  const std::uint8_t flags = r.u8();
  if (flags & ~kVoiceKnownFlags) return why = "unknown voice frame flags", false;
  VoiceFrame f;
  f.flags = flags;
  f.speaker = r.u32();
  f.sequence = r.u32();
  f.timestamp = r.u32();
  const std::size_t n = r.u16();
  if (n == 0) return why = "voice frame without audio", false;
  if (n > wire::kMaxVoiceOpusBytes) return why = "voice frame's audio over its cap", false;
  if (n != r.remaining()) return why = "voice frame's audio length does not match its size", false;
  const auto opus = r.bytes(n);
  if (!r.done()) return why = "voice frame malformed", false;
  f.opus.assign(opus.begin(), opus.end());
  out = std::move(f);
  return true;
}

}  // namespace huddle::voice
