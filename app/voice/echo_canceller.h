// Echo cancellation and noise suppression for the microphone (speexdsp): what the speaker
// plays comes back into the microphone a few tens of milliseconds later, and without this
// everyone would hear themselves. The speaker's frames go in as the far end (playback()),
// each captured frame comes out with that echo (and steady noise) taken out (capture()).
// speexdsp's buffered API lines the two up itself, within the filter's tail.
// Both run on half frames (kEchoBlockSamples, 5 ms): speexdsp's preprocessor delays what it
// outputs by its block (overlap-add), so 10 ms blocks put 10 ms on every word; 5 ms blocks
// halve that, with the same echo reduction (voice_echo_test) and about the same CPU.
// Thread: one thread (the voice thread).
#pragma once
#include <cstdint>

#include "app/voice/voice_codec.h"

struct SpeexEchoState_;
struct SpeexPreprocessState_;

namespace huddle::voice {

inline constexpr int kEchoTailMs = 200;
inline constexpr std::size_t kEchoBlockSamples = kFrameSamples / 2;  // the longest echo path it learns (room and devices)

// Automatic gain control (speexdsp's preprocessor, in the same pass): a quiet microphone or a
// speaker far from it is brought towards kAgcLevel (a sentence at about -22 dBFS RMS) by at most
// kAgcMaxGainDb, rising kAgcIncrementDbPerSec; it is cut at once on loud input. speexdsp's
// rather than WebRTC's: it is already here for the echo, runs in the same preprocess step
// (no extra delay, ~no extra CPU), and measured in voice_echo_test it brings a speaker
// 24 dB too quiet to within a few dB of a normal one.
inline constexpr float kAgcLevel = 16000.f;  // speexdsp's loudness target (its default 8000 left speech at -34 dBFS)
inline constexpr int kAgcMaxGainDb = 30;
inline constexpr int kAgcIncrementDbPerSec = 12;

struct MicProcessing {
  bool echo = true;     // take the speaker's echo out
  bool denoise = true;  // take steady noise out
  bool agc = false;     // automatic gain control
};

class EchoCanceller {
 public:
  explicit EchoCanceller(int tailMs = kEchoTailMs, bool denoise = true) : EchoCanceller(MicProcessing{true, denoise, false}, tailMs) {}
  explicit EchoCanceller(const MicProcessing& processing, int tailMs = kEchoTailMs);
  ~EchoCanceller();
  EchoCanceller(const EchoCanceller&) = delete;
  EchoCanceller& operator=(const EchoCanceller&) = delete;

  bool ok() const { return (m_echo != nullptr || !m_wantEcho) && m_pre != nullptr; }
  // One 10 ms frame handed to the speaker.
  void playback(PcmFrame far);
  // One 10 ms frame from the microphone, cleaned into `out`.
  void capture(PcmFrame in, PcmFrameOut out);

 private:
  bool m_wantEcho = true;
  SpeexEchoState_* m_echo = nullptr;
  SpeexPreprocessState_* m_pre = nullptr;
};

}  // namespace huddle::voice
