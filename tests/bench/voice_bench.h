// huddle-bench's voice figures (issue 13): mouth-to-ear delay on loopback with 10 ms frames,
// bytes per second talking and silent, CPU per speaker on the host (1 and 8 listeners) and
// on a client.
#pragma once
#include <cstdint>
#include <cstdio>
#include <string>

namespace huddle::bench {

// One mouth-to-ear run and where its delay goes (means over the run, ms).
struct VoiceDelay {
  int bursts = 0;
  double medianMs = -1;
  double p95Ms = -1;
  double captureWaitMs = 0;  // a microphone period's last sample to the voice thread reading it
  double lookaheadMs = 0;    // Opus's encoder lookahead
  double jitterMs = 0;       // a frame's earliest arrival to the jitter buffer playing it
  double queueMs = 0;        // the mix handed to the speaker to its first sample sounding
  double rest = 0;           // the median less the frame and the parts above
  std::uint64_t underruns = 0;
  std::uint64_t concealed = 0;
};

struct VoiceBenchResult {
  VoiceDelay before, withAec, withoutAec;  // before: the settings before the delay work
  int bursts = 0;                     // talk spurts measured
  double mouthToEarMedianMs = -1;     // microphone sample to speaker sample, loopback, no devices
  double mouthToEarP95Ms = -1;
  double mouthToEarNoAecMedianMs = -1;  // the same with echo cancellation off
  double bytesPerSecTalking = 0;      // one speaker's datagrams, speech
  double bytesPerSecSilent = 0;       // ... in silence (keep-alives only)
  double clientSendUsPerFrame = 0;    // encode + seal, one 10 ms frame
  double clientReceiveUsPerFrame = 0; // open + parse + jitter + decode + mix, one speaker's frame
  double echoCancelUsPerFrame = 0;    // the microphone's echo canceller and noise suppressor
  double hostUsPerFrame1 = 0;         // the relay, one speaker's frame to 1 listener
  double hostUsPerFrame8 = 0;         // ... to 8 listeners
  std::string error;
};

VoiceBenchResult measureVoice(double seconds);
void printVoice(const VoiceBenchResult& r);
// The "voice" member of the JSON report (no trailing comma).
void writeVoiceJson(std::FILE* f, const VoiceBenchResult& r);

}  // namespace huddle::bench
