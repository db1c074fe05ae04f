// Real speech for the voice tests: espeak-ng speaks a sentence at test time (22.05 kHz WAV on
// its stdout), resampled to 48 kHz; and the measures the tests compare audio by: the 10 ms
// RMS envelope and its correlation with another's at the best alignment.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "app/voice/voice_codec.h"

namespace huddle::voice::test {

// `text` spoken by espeak-ng (at `amplitude`, its -a: 0-200), as 48 kHz mono int16; empty if
// espeak-ng is missing or fails.
inline std::vector<std::int16_t> speak(const std::string& text, int amplitude = 150) {
  const std::string cmd = "espeak-ng --stdout -s 150 -a " + std::to_string(amplitude) + " \"" + text + "\" 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return {};
  std::vector<std::uint8_t> wav;
  std::uint8_t buf[65536];
  for (std::size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) wav.insert(wav.end(), buf, buf + n);
  if (pclose(p) != 0 || wav.size() < 44) return {};
  // A canonical 44-byte header (espeak-ng streams it with an open-ended size): 16-bit mono.
  const std::uint32_t rate = wav[24] | wav[25] << 8 | wav[26] << 16 | static_cast<std::uint32_t>(wav[27]) << 24;
  if (wav[22] != 1 || wav[34] != 16 || rate == 0) return {};
  std::vector<double> in;
  for (std::size_t i = 44; i + 1 < wav.size(); i += 2) in.push_back(static_cast<std::int16_t>(wav[i] | wav[i + 1] << 8));
  // Linear interpolation to 48 kHz: enough for envelopes (espeak's content is under 11 kHz).
  std::vector<std::int16_t> out;
  const double step = static_cast<double>(rate) / kSampleRate;
  for (double pos = 0; pos + 1 < static_cast<double>(in.size()); pos += step) {
    const std::size_t i = static_cast<std::size_t>(pos);
    const double f = pos - static_cast<double>(i);
    out.push_back(static_cast<std::int16_t>(std::lround(in[i] * (1 - f) + in[i + 1] * f)));
  }
  out.resize((out.size() + kFrameSamples - 1) / kFrameSamples * kFrameSamples, 0);  // whole frames
  return out;
}

// The speech envelope: RMS over 30 ms windows every 10 ms (syllables come at 4-8 Hz; a
// window of a few frames makes the measure blind to Opus's 6.5 ms lookahead, which is not
// a whole frame, while a lost syllable still shows).
inline std::vector<double> envelope(const std::vector<std::int16_t>& pcm) {
  constexpr std::size_t kWindow = 3 * kFrameSamples;
  std::vector<double> env;
  for (std::size_t f = 0; f + kWindow <= pcm.size(); f += kFrameSamples) {
    double sum = 0;
    for (std::size_t i = 0; i < kWindow; ++i) sum += static_cast<double>(pcm[f + i]) * pcm[f + i];
    env.push_back(std::sqrt(sum / kWindow));
  }
  return env;
}

struct Alignment {
  double correlation = -1;
  int lagFrames = 0;  // the output is this many frames behind the input
};

// Pearson correlation of the input's envelope with the output's, the output shifted by
// 0..maxLag frames; the best shift wins.
inline Alignment bestAlignment(const std::vector<double>& in, const std::vector<double>& out, int maxLag) {
  Alignment best;
  for (int lag = 0; lag <= maxLag; ++lag) {
    const std::size_t n = std::min(in.size(), out.size() > static_cast<std::size_t>(lag) ? out.size() - lag : 0);
    if (n < 10) break;
    double ma = 0, mb = 0;
    for (std::size_t i = 0; i < n; ++i) ma += in[i], mb += out[i + lag];
    ma /= n, mb /= n;
    double sab = 0, saa = 0, sbb = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const double a = in[i] - ma, b = out[i + lag] - mb;
      sab += a * b, saa += a * a, sbb += b * b;
    }
    const double r = saa > 0 && sbb > 0 ? sab / std::sqrt(saa * sbb) : 0;
    if (r > best.correlation) best = {r, lag};
  }
  return best;
}

}  // namespace huddle::voice::test
