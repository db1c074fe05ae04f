// The mixer (app/voice/voice_mixer.h): volumes, soft clipping, levels and the speaking mark,
// on a decoded spoken sentence and on tones.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>

#include "app/voice/voice_mixer.h"
#include "net/wire/limits.h"
#include "tests/unit/voice_support.h"

using namespace huddle::voice;

namespace {

std::array<std::int16_t, kFrameSamples> tone(double amplitude, double hz) {
  std::array<std::int16_t, kFrameSamples> t{};
  for (std::size_t i = 0; i < t.size(); ++i) {
    t[i] = static_cast<std::int16_t>(std::lround(amplitude * 32767 * std::sin(i * 2 * 3.14159265358979 * hz / kSampleRate)));
  }
  return t;
}

}  // namespace

TEST(VoiceMixer, SumsSpeakersAtTheirVolumes) {
  VoiceMixer mixer;
  const auto a = tone(0.2, 200), b = tone(0.2, 300);
  std::array<std::int16_t, kFrameSamples> out{};
  mixer.setSpeakerVolume(2, 0.5f);
  const SpeakerAudio in[] = {{1, a}, {2, b}};
  mixer.mix(in, out);
  for (std::size_t i = 0; i < kFrameSamples; ++i) EXPECT_NEAR(out[i], a[i] + 0.5 * b[i], 2) << i;  // below the knee: exact
  mixer.setMasterVolume(0.f);
  mixer.mix(in, out);
  for (std::int16_t s : out) EXPECT_EQ(s, 0);
  EXPECT_FLOAT_EQ(mixer.speakerVolume(2), 0.5f);
  mixer.setSpeakerVolume(3, 100.f);
  EXPECT_FLOAT_EQ(mixer.speakerVolume(3), kMaxVoiceVolume);
}

TEST(VoiceMixer, LoudSpeakersAreSoftClippedNotWrapped) {
  VoiceMixer mixer;
  const auto loud = tone(0.9, 250);
  std::array<std::int16_t, kFrameSamples> out{};
  const SpeakerAudio in[] = {{1, loud}, {2, loud}, {3, loud}};  // 2.7x full scale
  mixer.mix(in, out);
  for (std::size_t i = 0; i < kFrameSamples; ++i) {
    // Same sign as the sum (no wrap-around), bounded, and monotone in the input.
    if (loud[i] > 0) {
      EXPECT_GT(out[i], 0);
    } else if (loud[i] < 0) {
      EXPECT_LT(out[i], 0);
    }
  }
  EXPECT_LT(softClip(0.5f), 0.5001f);
  EXPECT_GT(softClip(0.5f), 0.4999f);
  EXPECT_LE(softClip(10.f), 1.f);
  EXPECT_GT(softClip(10.f), 0.99f);
  EXPECT_LT(softClip(0.8f), softClip(0.9f));
  EXPECT_FLOAT_EQ(softClip(-3.f), -softClip(3.f));
}

TEST(VoiceMixer, LevelAndSpeakingMarkFollowRealSpeech) {
  const auto speech = test::speak("Hello, can you hear me now?");
  ASSERT_GT(speech.size(), kSampleRate / 2u) << "espeak-ng is needed (third_party/install_deps.sh)";
  VoiceMixer mixer;
  std::array<std::int16_t, kFrameSamples> out{};
  const std::array<std::int16_t, kFrameSamples> quiet{};
  int speakingFrames = 0;
  float loudest = kSilenceDbfs;
  for (std::size_t f = 0; f + kFrameSamples <= speech.size(); f += kFrameSamples) {
    const SpeakerAudio in[] = {{5, PcmFrame(speech.data() + f, kFrameSamples)}, {6, quiet}};
    mixer.mix(in, out);
    speakingFrames += mixer.speaking(5);
    loudest = std::max(loudest, mixer.levelDbfs(5));
    EXPECT_FALSE(mixer.speaking(6));
  }
  EXPECT_GT(speakingFrames, static_cast<int>(speech.size() / kFrameSamples / 2));
  EXPECT_GT(loudest, -30.f);  // espeak-ng at amplitude 150 peaks well above -30 dBFS
  EXPECT_EQ(mixer.levelDbfs(6), kSilenceDbfs);
  // The speaker stops: after the hangover the mark goes, and the level falls.
  for (int k = 0; k < kSpeakingHangoverFrames + 1; ++k) mixer.mix({}, out);
  EXPECT_FALSE(mixer.speaking(5));
  EXPECT_LT(mixer.levelDbfs(5), kSpeakingLevelDbfs);
}

TEST(Limits, VoiceMixerSpeakersAtTheirCap) {
  // One per participant at most; a speaker past the cap is still heard, not tracked.
  VoiceMixer mixer;
  const std::size_t cap = huddle::wire::kMaxParticipants;
  for (std::size_t i = 0; i < cap + 1; ++i) {
    EXPECT_EQ(mixer.setSpeakerVolume(static_cast<std::uint32_t>(i), 2.f), i < cap) << i;
  }
  EXPECT_TRUE(mixer.setSpeakerVolume(static_cast<std::uint32_t>(cap - 1), 1.f));  // known: still set
  const auto t = tone(0.2, 200);
  std::array<std::int16_t, kFrameSamples> out{};
  const SpeakerAudio in[] = {{static_cast<std::uint32_t>(cap), t}};
  mixer.mix(in, out);
  EXPECT_NEAR(out[10], t[10], 2);
  EXPECT_EQ(mixer.levelDbfs(static_cast<std::uint32_t>(cap)), kSilenceDbfs);
  EXPECT_FLOAT_EQ(mixer.speakerVolume(static_cast<std::uint32_t>(cap)), 1.f);
}
