#include "app/voice/voice_mixer.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "net/wire/limits.h"

namespace huddle::voice {

namespace {
constexpr float kReleaseDbPerFrame = 1.5f;  // a level falls 150 dB/s: the meter settles in ~0.5 s

float frameDbfs(PcmFrame pcm) {
  double sum = 0;
  for (std::int16_t s : pcm) sum += static_cast<double>(s) * s;
  const double rms = std::sqrt(sum / static_cast<double>(pcm.size())) / 32768.0;
  return rms <= 0 ? kSilenceDbfs : std::max(kSilenceDbfs, static_cast<float>(20.0 * std::log10(rms)));
}
}  // namespace

float frameLevelDbfs(PcmFrame pcm) { return frameDbfs(pcm); }

float softClip(float x) {
  const float a = std::fabs(x);
  if (a <= kSoftClipKnee) return x;
  const float room = 1.f - kSoftClipKnee;
  const float y = kSoftClipKnee + room * std::tanh((a - kSoftClipKnee) / room);
  return std::copysign(y, x);
}

void VoiceMixer::setMasterVolume(float gain) { m_master = std::clamp(gain, 0.f, kMaxVoiceVolume); }

VoiceMixer::Speaker* VoiceMixer::track(std::uint32_t speaker) {
  auto it = m_speakers.find(speaker);
  if (it != m_speakers.end()) return &it->second;
  if (m_speakers.size() >= wire::kMaxParticipants) return nullptr;
  return &m_speakers[speaker];
}

bool VoiceMixer::setSpeakerVolume(std::uint32_t speaker, float gain) {
  Speaker* s = track(speaker);
  if (s) s->gain = std::clamp(gain, 0.f, kMaxVoiceVolume);
  return s != nullptr;
}

float VoiceMixer::speakerVolume(std::uint32_t speaker) const {
  auto it = m_speakers.find(speaker);
  return it == m_speakers.end() ? 1.f : it->second.gain;
}

void VoiceMixer::mix(std::span<const SpeakerAudio> inputs, PcmFrameOut out) {
  std::array<float, kFrameSamples> sum{};
  for (auto& [id, s] : m_speakers) {  // absent speakers fall silent
    s.levelDb = std::max(kSilenceDbfs, s.levelDb - kReleaseDbPerFrame);
    if (s.hangover > 0) --s.hangover;
  }
  for (const SpeakerAudio& in : inputs) {
    Speaker* tracked = track(in.speaker);
    Speaker untracked;  // past the cap: mixed at unit gain, no level kept
    Speaker& s = tracked ? *tracked : untracked;
    const float db = frameDbfs(in.pcm);
    s.levelDb = std::max(db, s.levelDb);  // attack at once (the decay above already ran)
    if (db > kSpeakingLevelDbfs) s.hangover = kSpeakingHangoverFrames;
    const float g = s.gain * m_master / 32768.f;
    if (g == 0.f) continue;
    for (std::size_t i = 0; i < kFrameSamples; ++i) sum[i] += static_cast<float>(in.pcm[i]) * g;
  }
  for (std::size_t i = 0; i < kFrameSamples; ++i) {
    out[i] = static_cast<std::int16_t>(std::lround(softClip(sum[i]) * 32767.f));
  }
}

float VoiceMixer::levelDbfs(std::uint32_t speaker) const {
  auto it = m_speakers.find(speaker);
  return it == m_speakers.end() ? kSilenceDbfs : it->second.levelDb;
}

bool VoiceMixer::speaking(std::uint32_t speaker) const {
  auto it = m_speakers.find(speaker);
  return it != m_speakers.end() && it->second.hangover > 0;
}

void VoiceMixer::forget(std::uint32_t speaker) { m_speakers.erase(speaker); }

}  // namespace huddle::voice
