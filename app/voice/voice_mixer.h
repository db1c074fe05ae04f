// Mixes the speakers' decoded 10 ms frames into what the speaker plays: each speaker at its
// own volume, all at the master volume, summed in float and soft-clipped (a smooth knee
// above kSoftClipKnee of full scale rather than the hard wrap or flat top of int16), so
// several loud voices at once distort gently. It also keeps each speaker's level (RMS in
// dBFS, before volume: fast attack, slow release) and a "speaking" mark with a hangover so
// the mark does not flicker between words. Thread: one thread (the playback's).
#pragma once
#include <cstdint>
#include <span>
#include <unordered_map>

#include "app/voice/voice_codec.h"

namespace huddle::voice {

inline constexpr float kSoftClipKnee = 0.7f;
inline constexpr float kMaxVoiceVolume = 4.0f;     // +12 dB
inline constexpr float kSpeakingLevelDbfs = -45.f; // above this a speaker is talking
inline constexpr float kSilenceDbfs = -96.f;
inline constexpr int kSpeakingHangoverFrames = 30; // 300 ms

struct SpeakerAudio {
  std::uint32_t speaker = 0;
  PcmFrame pcm;
};

class VoiceMixer {
 public:
  // Volumes are linear gains clamped to [0, kMaxVoiceVolume]; 1 is as sent.
  void setMasterVolume(float gain);
  // False if `speaker` is new and wire::kMaxParticipants are already known (a session has no
  // more; the table cannot be grown by made-up ids).
  bool setSpeakerVolume(std::uint32_t speaker, float gain);
  float speakerVolume(std::uint32_t speaker) const;
  // Mixes `inputs` (one frame each, any number) into `out`. Speakers absent this round
  // decay towards silence in level().
  void mix(std::span<const SpeakerAudio> inputs, PcmFrameOut out);
  float levelDbfs(std::uint32_t speaker) const;
  bool speaking(std::uint32_t speaker) const;
  void forget(std::uint32_t speaker);

 private:
  struct Speaker {
    float gain = 1.f;
    float levelDb = kSilenceDbfs;
    int hangover = 0;
  };
  Speaker* track(std::uint32_t speaker);  // null past the cap

  float m_master = 1.f;
  std::unordered_map<std::uint32_t, Speaker> m_speakers;
};

// One frame's RMS level in dBFS (kSilenceDbfs for digital silence): the microphone's meter.
float frameLevelDbfs(PcmFrame pcm);

// The soft clipper alone: identity below the knee, a tanh curve to +-1 above it.
float softClip(float x);

}  // namespace huddle::voice
