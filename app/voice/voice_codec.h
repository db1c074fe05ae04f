// Opus for voice: 48 kHz mono, 10 ms frames (Mumble's low-delay choice), the VOIP
// application, in-band FEC (each packet carries a low-rate copy of the one before, for the
// receiver to recover a single loss) and DTX (silence sends a packet only every ~400 ms).
// Thread: one encoder per capturing thread, one decoder per speaker on the playing thread.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

struct OpusEncoder;
struct OpusDecoder;

namespace huddle::voice {

inline constexpr int kSampleRate = 48000;
inline constexpr std::size_t kFrameSamples = 480;  // 10 ms at 48 kHz
inline constexpr std::int64_t kFrameUs = 10'000;
// Bitrates the encoder accepts (bits/s): Opus's SILK floor for speech to well above what
// wideband speech needs.
inline constexpr int kMinVoiceBitrate = 6'000;
inline constexpr int kMaxVoiceBitrate = 128'000;
inline constexpr int kDefaultVoiceBitrate = 24'000;

using PcmFrame = std::span<const std::int16_t, kFrameSamples>;
using PcmFrameOut = std::span<std::int16_t, kFrameSamples>;

struct EncodedVoice {
  std::vector<std::uint8_t> opus;  // the packet (empty only on an encoder error)
  // DTX: the encoder judged the frame silence and the packet need not be sent (Opus
  // returns at most 2 bytes then); the receiver conceals the gap with comfort noise.
  bool silent = false;
};

class VoiceEncoder {
 public:
  explicit VoiceEncoder(int bitrate = kDefaultVoiceBitrate, int expectedLossPercent = 10);
  ~VoiceEncoder();
  VoiceEncoder(const VoiceEncoder&) = delete;
  VoiceEncoder& operator=(const VoiceEncoder&) = delete;

  bool ok() const { return m_enc != nullptr; }
  EncodedVoice encode(PcmFrame pcm);
  // Clamped to [kMinVoiceBitrate, kMaxVoiceBitrate]; returns what was set.
  int setBitrate(int bitsPerSecond);
  int bitrate() const { return m_bitrate; }
  // Loss the FEC is sized for, clamped to 0..100 %.
  void setExpectedLoss(int percent);
  // Samples of delay the encoder adds (its lookahead).
  int lookahead() const;

 private:
  OpusEncoder* m_enc = nullptr;
  int m_bitrate = kDefaultVoiceBitrate;
};

class VoiceDecoder {
 public:
  VoiceDecoder();
  ~VoiceDecoder();
  VoiceDecoder(const VoiceDecoder&) = delete;
  VoiceDecoder& operator=(const VoiceDecoder&) = delete;

  bool ok() const { return m_dec != nullptr; }
  // One received packet into 10 ms of audio. False (with `out` concealed) if Opus refuses it.
  bool decode(std::span<const std::uint8_t> opus, PcmFrameOut out);
  // A lost (or DTX-skipped) frame: Opus's packet-loss concealment, comfort noise after DTX.
  void conceal(PcmFrameOut out);
  // A lost frame rebuilt from the FEC copy inside the packet that follows it; `next` is then
  // decoded normally in its own turn. Falls back to concealment if `next` has no FEC data.
  bool recover(std::span<const std::uint8_t> next, PcmFrameOut out);

 private:
  OpusDecoder* m_dec = nullptr;
};

}  // namespace huddle::voice
