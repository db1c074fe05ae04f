// Echo cancellation (app/voice/echo_canceller.h), measured: what the speaker plays comes back
// into the microphone 30 ms later at half its level (a laptop's speaker and microphone); the
// canceller must take most of it out once it has learnt the path, and leave a near-end voice
// alone.
#include <gtest/gtest.h>

#include <cmath>

#include "app/voice/echo_canceller.h"
#include "voice_support.h"

using namespace huddle::voice;
using namespace huddle::voice::test;

namespace {

double energy(const std::vector<std::int16_t>& pcm, std::size_t from, std::size_t to) {
  double e = 0;
  for (std::size_t i = from; i < to && i < pcm.size(); ++i) e += static_cast<double>(pcm[i]) * pcm[i];
  return e;
}

// Runs `far` through the speaker and `near` (same length or empty) into the microphone with
// the echo of the far end; returns what the canceller let through.
std::vector<std::int16_t> run(EchoCanceller* aec, const std::vector<std::int16_t>& far,
                              const std::vector<std::int16_t>& near, std::vector<std::int16_t>& mic) {
  constexpr std::size_t kDelay = 3 * kFrameSamples;  // 30 ms
  mic.assign(far.size(), 0);
  for (std::size_t i = 0; i < far.size(); ++i) {
    const double echo = i >= kDelay ? 0.5 * far[i - kDelay] : 0.0;
    mic[i] = static_cast<std::int16_t>(std::clamp(echo + (near.empty() ? 0 : near[i]), -32768.0, 32767.0));
  }
  std::vector<std::int16_t> out(far.size());
  for (std::size_t f = 0; f + kFrameSamples <= far.size(); f += kFrameSamples) {
    if (!aec) {
      std::copy_n(mic.begin() + f, kFrameSamples, out.begin() + f);
      continue;
    }
    aec->playback(PcmFrame(far.data() + f, kFrameSamples));
    aec->capture(PcmFrame(mic.data() + f, kFrameSamples), PcmFrameOut(out.data() + f, kFrameSamples));
  }
  return out;
}

std::vector<std::int16_t> repeated(const std::vector<std::int16_t>& s, int times) {
  std::vector<std::int16_t> out;
  for (int i = 0; i < times; ++i) out.insert(out.end(), s.begin(), s.end());
  return out;
}

TEST(EchoCanceller, TakesTheSpeakersEchoOutOfTheMicrophone) {
  const auto far = repeated(speak("The quick brown fox jumps over the lazy dog near the river bank."), 3);
  ASSERT_GT(far.size(), 4u * kSampleRate) << "espeak-ng is needed (third_party/install_deps.sh)";
  EchoCanceller aec;
  ASSERT_TRUE(aec.ok());
  std::vector<std::int16_t> mic;
  const auto out = run(&aec, far, {}, mic);
  // Echo return loss enhancement over the last third, once the filter has learnt the path.
  const std::size_t from = far.size() * 2 / 3;
  const double erleDb = 10 * std::log10(energy(mic, from, far.size()) / std::max(1.0, energy(out, from, far.size())));
  std::printf("[figures] echo cancellation: %.1f dB less echo after learning (speexdsp, 200 ms tail)\n", erleDb);
  EXPECT_GT(erleDb, 15.0);
}

TEST(EchoCanceller, LeavesANearEndVoiceThrough) {
  const auto near = speak("Hello, can you hear me now?");
  ASSERT_GT(near.size(), kSampleRate) << "espeak-ng is needed (third_party/install_deps.sh)";
  EchoCanceller aec;
  std::vector<std::int16_t> silence(near.size(), 0), mic;
  const auto out = run(&aec, silence, near, mic);
  // Nothing played: the voice goes through, the same words at about the same level.
  const Alignment a = bestAlignment(envelope(near), envelope(out), 5);
  const double lossDb = 10 * std::log10(energy(near, 0, near.size()) / std::max(1.0, energy(out, 0, out.size())));
  std::printf("[figures] near-end voice through the canceller: r=%.3f, %.1f dB quieter\n", a.correlation, lossDb);
  EXPECT_GT(a.correlation, 0.9);
  EXPECT_LT(lossDb, 6.0);
}

double rmsDbfs(const std::vector<std::int16_t>& pcm, std::size_t from, std::size_t to) {
  return 10 * std::log10(std::max(1e-9, energy(pcm, from, to) / static_cast<double>(to - from) / (32768.0 * 32768.0)));
}

// The microphone's gain control (speexdsp AGC): a speaker espeak-ng makes 24 dB quiet (-a 10
// against the tests' usual -a 150) comes out near the level a normal one does, once the AGC
// has had the sentence three times to rise; without it the quiet one stays quiet.
TEST(EchoCanceller, GainControlBringsAQuietSpeakerUp) {
  const std::string text = "Voice keeps going while screens stream and chat flows.";
  const auto quiet = repeated(speak(text, 10), 4), normal = repeated(speak(text, 150), 4);
  ASSERT_GT(quiet.size(), 4u * kSampleRate) << "espeak-ng is needed (third_party/install_deps.sh)";
  auto through = [](const std::vector<std::int16_t>& in, bool agc) {
    EchoCanceller mic(MicProcessing{true, true, agc});
    std::vector<std::int16_t> silence(in.size(), 0), heard;
    return run(&mic, silence, in, heard);
  };
  const std::size_t from = quiet.size() * 3 / 4;  // the last repetition
  const double quietIn = rmsDbfs(quiet, from, quiet.size()), normalIn = rmsDbfs(normal, from, normal.size());
  const auto quietOut = through(quiet, true), normalOut = through(normal, true), quietOff = through(quiet, false);
  const double qo = rmsDbfs(quietOut, from, quietOut.size()), no = rmsDbfs(normalOut, from, normalOut.size()),
               off = rmsDbfs(quietOff, from, quietOff.size());
  const auto lastOf = [&](const std::vector<std::int16_t>& v) { return std::vector<std::int16_t>(v.begin() + static_cast<std::ptrdiff_t>(from), v.end()); };
  const Alignment a = bestAlignment(envelope(lastOf(quiet)), envelope(lastOf(quietOut)), 5);
  std::printf("[figures] gain control: quiet speaker %.1f dBFS in, %.1f out (%.1f without AGC); normal speaker %.1f in, "
              "%.1f out; envelope r=%.3f\n",
              quietIn, qo, off, normalIn, no, a.correlation);
  EXPECT_LT(quietIn, normalIn - 20);  // the quiet one really is quiet
  EXPECT_GT(qo, no - 6);              // ... and reaches within 6 dB of a normal one
  EXPECT_GT(qo, off + 15);            // which without AGC it does not
  EXPECT_LT(no, normalIn + 3);        // nor a normal one pushed up towards clipping
  EXPECT_GT(a.correlation, 0.9);      // the same words
}

}  // namespace
