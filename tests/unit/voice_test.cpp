// The Opus wrapper (app/voice/voice_codec.h) on real speech: a sentence espeak-ng speaks,
// encoded in 10 ms frames and decoded, keeps its envelope; DTX makes silence nearly free;
// concealment and FEC fill a lost frame.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>

#include "app/voice/voice_codec.h"
#include "net/wire/limits.h"
#include "tests/unit/voice_support.h"

using namespace huddle::voice;
using namespace huddle::voice::test;

namespace {

const char* kSentence = "Voice keeps going while screens stream and chat flows. The quick brown fox jumps over the lazy dog.";

PcmFrame frameAt(const std::vector<std::int16_t>& pcm, std::size_t f) {
  return PcmFrame(pcm.data() + f * kFrameSamples, kFrameSamples);
}

}  // namespace

TEST(VoiceCodec, SpeechRoundTripKeepsItsEnvelope) {
  const auto speech = speak(kSentence);
  ASSERT_GT(speech.size(), 2u * kSampleRate) << "espeak-ng is needed (third_party/install_deps.sh)";
  VoiceEncoder enc;
  VoiceDecoder dec;
  ASSERT_TRUE(enc.ok());
  ASSERT_TRUE(dec.ok());
  std::vector<std::int16_t> out(speech.size());
  std::size_t sent = 0, bytes = 0;
  const std::size_t frames = speech.size() / kFrameSamples;
  for (std::size_t f = 0; f < frames; ++f) {
    EncodedVoice e = enc.encode(frameAt(speech, f));
    ASSERT_FALSE(e.opus.empty());
    PcmFrameOut o(out.data() + f * kFrameSamples, kFrameSamples);
    if (e.silent) {
      dec.conceal(o);
    } else {
      ++sent, bytes += e.opus.size();
      ASSERT_TRUE(dec.decode(e.opus, o));
    }
  }
  const Alignment a = bestAlignment(envelope(speech), envelope(out), 5);
  std::printf("[figures] speech %.2f s, %zu/%zu frames sent, %.0f Opus bytes/s at %d bit/s, envelope r=%.3f lag %d frames\n",
              frames / 100.0, sent, frames, bytes * 100.0 / frames, enc.bitrate(), a.correlation, a.lagFrames);
  // Measured r 0.965 (DTX's comfort noise in the pauses costs a little); 0.93 leaves room
  // for another Opus build while a broken path fails: another sentence's envelope scores
  // under 0.5 (checked below).
  EXPECT_GT(a.correlation, 0.93);
  const Alignment other = bestAlignment(envelope(speak("Nobody expects a different sentence to match this one at all.")), envelope(out), 5);
  std::printf("[figures] a different sentence against the decoded one: r=%.3f\n", other.correlation);
  EXPECT_LT(other.correlation, 0.5);
  EXPECT_LE(a.lagFrames, 1);  // Opus's lookahead is 6.5 ms at most
}

TEST(VoiceCodec, SilenceCostsAlmostNothingWithDtx) {
  VoiceEncoder enc;
  const std::vector<std::int16_t> silence(3 * kSampleRate, 0);
  std::size_t bytes = 0, sent = 0, steadyBytes = 0, steadySent = 0;
  const std::size_t frames = silence.size() / kFrameSamples, settle = 50;
  for (std::size_t f = 0; f < frames; ++f) {
    EncodedVoice e = enc.encode(frameAt(silence, f));
    if (e.silent) continue;
    bytes += e.opus.size(), ++sent;
    if (f >= settle) steadyBytes += e.opus.size(), ++steadySent;
  }
  const double perSecond = bytes * 100.0 / frames;
  const double steadyPerSecond = steadyBytes * 100.0 / (frames - settle);
  std::printf("[figures] silence: %zu/%zu frames sent, %.1f Opus bytes/s over 3 s; after the first 0.5 s %zu frames, %.1f B/s\n",
              sent, frames, perSecond, steadySent, steadyPerSecond);
  // Once DTX has engaged (Opus waits ~200 ms of silence) it sends one comfort-noise update
  // every ~400 ms, a few bytes (measured ~29 B/s): under 40 B/s, where speech at 24 kbit/s
  // is ~2700 B/s. The whole 3 s, with the frames before DTX engages (~66 B/s), under 100 B/s.
  EXPECT_LT(steadyPerSecond, 40.0);
  EXPECT_LT(perSecond, 100.0);
}

TEST(VoiceCodec, BitrateSetterClampsAndChangesTheRate) {
  const auto speech = speak(kSentence);
  ASSERT_FALSE(speech.empty());
  auto rate = [&](int bitrate) {
    VoiceEncoder enc;
    EXPECT_EQ(enc.setBitrate(bitrate), bitrate);
    std::size_t bytes = 0;
    for (std::size_t f = 0; f < speech.size() / kFrameSamples; ++f) {
      EncodedVoice e = enc.encode(frameAt(speech, f));
      if (!e.silent) bytes += e.opus.size();
    }
    return bytes;
  };
  EXPECT_LT(rate(12000) * 2, rate(48000));
  VoiceEncoder enc;
  EXPECT_EQ(enc.setBitrate(1), kMinVoiceBitrate);
  EXPECT_EQ(enc.setBitrate(10'000'000), kMaxVoiceBitrate);
}

TEST(VoiceCodec, FecRecoversALostFrameBetterThanConcealment) {
  const auto speech = speak(kSentence);
  ASSERT_FALSE(speech.empty());
  // Lose every 10th frame; rebuild it once from the next frame's FEC, once by PLC alone.
  auto errorEnergy = [&](bool useFec) {
    VoiceEncoder enc(kDefaultVoiceBitrate, 20);
    VoiceDecoder dec;
    std::vector<EncodedVoice> packets;
    const std::size_t frames = speech.size() / kFrameSamples;
    for (std::size_t f = 0; f < frames; ++f) packets.push_back(enc.encode(frameAt(speech, f)));
    VoiceDecoder clean;
    std::vector<std::int16_t> ref(speech.size()), out(speech.size());
    double err = 0;
    for (std::size_t f = 0; f < frames; ++f) {
      PcmFrameOut r(ref.data() + f * kFrameSamples, kFrameSamples), o(out.data() + f * kFrameSamples, kFrameSamples);
      if (packets[f].silent) clean.conceal(r); else clean.decode(packets[f].opus, r);
      const bool lost = f % 10 == 5 && !packets[f].silent;
      if (lost && useFec && f + 1 < frames && !packets[f + 1].silent) {
        EXPECT_TRUE(dec.recover(packets[f + 1].opus, o));
      } else if (lost || packets[f].silent) {
        dec.conceal(o);
      } else {
        dec.decode(packets[f].opus, o);
      }
      if (f % 10 == 5) {
        for (std::size_t i = 0; i < kFrameSamples; ++i) {
          const double d = static_cast<double>(o[i]) - r[i];
          err += d * d;
        }
      }
    }
    return err;
  };
  const double fec = errorEnergy(true), plc = errorEnergy(false);
  std::printf("[figures] lost-frame error energy: FEC %.3g, PLC %.3g (ratio %.2f)\n", fec, plc, fec / plc);
  EXPECT_LT(fec, plc);
}

TEST(VoiceCodec, GarbageIsConcealedNotPlayed) {
  VoiceDecoder dec;
  std::array<std::int16_t, kFrameSamples> out{};
  const std::vector<std::uint8_t> garbage(100, 0xFF);
  // 0xFF's TOC is a 20 ms CELT code-3 packet: not 10 ms, refused.
  EXPECT_FALSE(dec.decode(garbage, out));
  EXPECT_FALSE(dec.decode({}, out));
  const std::vector<std::uint8_t> huge(huddle::wire::kMaxVoiceOpusBytes + 1, 0x08);
  EXPECT_FALSE(dec.decode(huge, out));
}
