#include "app/voice/echo_canceller.h"

#include <speex/speex_echo.h>
#include <speex/speex_preprocess.h>

#include <algorithm>

namespace huddle::voice {

EchoCanceller::EchoCanceller(const MicProcessing& processing, int tailMs) : m_wantEcho(processing.echo) {
  if (m_wantEcho) m_echo = speex_echo_state_init(static_cast<int>(kEchoBlockSamples), kSampleRate / 1000 * tailMs);
  m_pre = speex_preprocess_state_init(static_cast<int>(kEchoBlockSamples), kSampleRate);
  if (!ok()) return;
  int rate = kSampleRate;
  // The preprocessor takes out what the filter left of the echo, and steady noise.
  if (m_echo) {
    speex_echo_ctl(m_echo, SPEEX_ECHO_SET_SAMPLING_RATE, &rate);
    speex_preprocess_ctl(m_pre, SPEEX_PREPROCESS_SET_ECHO_STATE, m_echo);
  }
  int on = processing.denoise ? 1 : 0;
  speex_preprocess_ctl(m_pre, SPEEX_PREPROCESS_SET_DENOISE, &on);
  on = processing.agc ? 1 : 0;
  speex_preprocess_ctl(m_pre, SPEEX_PREPROCESS_SET_AGC, &on);
  if (processing.agc) {
    float level = kAgcLevel;
    int maxGain = kAgcMaxGainDb, increment = kAgcIncrementDbPerSec;
    speex_preprocess_ctl(m_pre, SPEEX_PREPROCESS_SET_AGC_LEVEL, &level);
    speex_preprocess_ctl(m_pre, SPEEX_PREPROCESS_SET_AGC_MAX_GAIN, &maxGain);
    speex_preprocess_ctl(m_pre, SPEEX_PREPROCESS_SET_AGC_INCREMENT, &increment);
  }
}

EchoCanceller::~EchoCanceller() {
  if (m_pre) speex_preprocess_state_destroy(m_pre);
  if (m_echo) speex_echo_state_destroy(m_echo);
}

void EchoCanceller::playback(PcmFrame far) {
  if (!ok() || !m_echo) return;
  for (std::size_t at = 0; at < kFrameSamples; at += kEchoBlockSamples) speex_echo_playback(m_echo, far.data() + at);
}

void EchoCanceller::capture(PcmFrame in, PcmFrameOut out) {
  if (!ok()) {
    std::copy(in.begin(), in.end(), out.begin());
    return;
  }
  for (std::size_t at = 0; at < kFrameSamples; at += kEchoBlockSamples) {
    if (m_echo) speex_echo_capture(m_echo, in.data() + at, out.data() + at);
    else std::copy(in.begin() + static_cast<std::ptrdiff_t>(at), in.begin() + static_cast<std::ptrdiff_t>(at + kEchoBlockSamples), out.begin() + static_cast<std::ptrdiff_t>(at));
    speex_preprocess_run(m_pre, out.data() + at);
  }
}

}  // namespace huddle::voice
