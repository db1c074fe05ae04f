// Sealed voice datagrams (docs/SECURITY.md s.3): voice travels as UDP datagrams beside the
// TLS streams, so it gets its own AEAD. Keys are never sent: both ends take them from the
// participant's chat connection's TLS exporter (label kVoiceExporterLabel), one key per
// direction. Each datagram is
//
//   u8 kind | u32 channel | u64 counter | ChaCha20-Poly1305-IETF(plaintext), 16-byte tag
//
// with the nonce = direction (4 bytes) | counter (8 bytes, little-endian) and the header as
// associated data. The sender's counter only grows (a nonce is never reused under a key);
// the receiver keeps the highest counter seen and a window of the kVoiceReplayWindow before
// it, so a datagram replayed, or older than the window, is refused. `channel` names the
// sending participant's keys on the host (cleartext: the host needs it to pick the key).
// Thread: one VoiceSealer per sending thread, one VoiceOpener per receiving thread.
#pragma once
#include <array>
#include <cstdint>
#include <span>
#include <string>

#include "net/base/bytes.h"
#include "net/wire/limits.h"

namespace huddle::net {

inline constexpr const char* kVoiceExporterLabel = "EXPORTER-huddle-voice-v1";
inline constexpr std::size_t kVoiceHeaderBytes = 1 + 4 + 8;
inline constexpr std::size_t kVoiceTagBytes = 16;
inline constexpr std::uint8_t kVoiceKindSealed = 0x56;  // 'V'
inline constexpr std::size_t kMaxVoicePlaintextBytes = wire::kMaxVoiceDatagramBytes - kVoiceHeaderBytes - kVoiceTagBytes;

using VoiceKey = std::array<std::uint8_t, 32>;

// The two keys of one participant's voice, from 64 bytes of its chat connection's exporter:
// what the participant sends the host, and what the host sends it.
struct VoiceKeys {
  VoiceKey up{};    // participant -> host
  VoiceKey down{};  // host -> participant
};
VoiceKeys voiceKeysFromExporter(std::span<const std::uint8_t, 64> exporter);

enum class VoiceDirection : std::uint32_t { Up = 0x55505550, Down = 0x444F574E };

class VoiceSealer {
 public:
  VoiceSealer(const VoiceKey& key, VoiceDirection direction, std::uint32_t channel);
  // One datagram for `plaintext` (at most kMaxVoicePlaintextBytes); empty if it is larger,
  // or once the counter would wrap (a new key is needed: never in practice).
  base::ByteVec seal(std::span<const std::uint8_t> plaintext);
  std::uint64_t counter() const { return m_counter; }

 private:
  VoiceKey m_key;
  VoiceDirection m_direction;
  std::uint32_t m_channel;
  std::uint64_t m_counter = 0;
};

// The header of a datagram, read without the key (the host looks up the channel's key).
struct VoiceHeader {
  std::uint32_t channel = 0;
  std::uint64_t counter = 0;
};
// False (with why) if `datagram` cannot be a sealed voice datagram: size out of bounds, or
// not the sealed kind.
bool readVoiceHeader(std::span<const std::uint8_t> datagram, VoiceHeader& out, std::string& why);

class VoiceOpener {
 public:
  enum class Result { Ok, Malformed, BadTag, Replayed, TooOld };
  VoiceOpener(const VoiceKey& key, VoiceDirection direction);
  // Checks and decrypts; on Ok `plaintext` holds the bytes and the counter is marked seen.
  // A datagram that fails the tag leaves the window as it was (a forger cannot move it).
  Result open(std::span<const std::uint8_t> datagram, base::ByteVec& plaintext);
  std::uint64_t highest() const { return m_highest; }

 private:
  VoiceKey m_key;
  VoiceDirection m_direction;
  bool m_any = false;           // a datagram has been accepted
  std::uint64_t m_highest = 0;  // highest counter accepted
  std::uint64_t m_seen = 0;     // bit i: counter m_highest - i accepted
};

const char* voiceResultName(VoiceOpener::Result r);

}  // namespace huddle::net
