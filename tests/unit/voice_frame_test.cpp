// The voice frame (app/voice/voice_frame.h): round trip, the strict parser's refusals, and
// the catalogue rows for kMaxVoiceOpusBytes (and the frame's fit in a sealed datagram).
#include <gtest/gtest.h>

#include "app/voice/voice_frame.h"
#include "net/wire/limits.h"

using namespace huddle;
using namespace huddle::voice;

namespace {

VoiceFrame sample(std::size_t opusBytes = 40) {
  VoiceFrame f;
  f.speaker = 0x01020304;
  f.sequence = 77;
  f.timestamp = 123456;
  f.flags = kVoiceSpeaking;
  f.opus.assign(opusBytes, 0x5A);
  return f;
}

bool parses(const std::vector<std::uint8_t>& bytes, std::string& why) {
  VoiceFrame out;
  return parseVoiceFrame(bytes, out, why);
}

}  // namespace

TEST(VoiceFrame, RoundTrips) {
  const VoiceFrame f = sample();
  const auto bytes = encodeVoiceFrame(f);
  ASSERT_EQ(bytes.size(), kVoiceFrameHeaderBytes + 40);
  VoiceFrame out;
  std::string why;
  ASSERT_TRUE(parseVoiceFrame(bytes, out, why)) << why;
  EXPECT_EQ(out.speaker, f.speaker);
  EXPECT_EQ(out.sequence, f.sequence);
  EXPECT_EQ(out.timestamp, f.timestamp);
  EXPECT_EQ(out.flags, f.flags);
  EXPECT_EQ(out.opus, f.opus);
}

TEST(VoiceFrame, ParserRejectsMalformedFrames) {
  const auto good = encodeVoiceFrame(sample());
  std::string why;
  ASSERT_TRUE(parses(good, why));
  // Every truncation, and one byte too many.
  for (std::size_t n = 0; n < good.size(); ++n) {
    EXPECT_FALSE(parses({good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n)}, why)) << n;
  }
  auto longer = good;
  longer.push_back(0);
  EXPECT_FALSE(parses(longer, why));
  EXPECT_NE(why.find("length"), std::string::npos) << why;
  auto bad = good;
  bad[0] = 2;  // version
  EXPECT_FALSE(parses(bad, why));
  bad = good;
  bad[1] = 0x80;  // unknown flag
  EXPECT_FALSE(parses(bad, why));
  bad = good;
  bad[14] = 0, bad[15] = 0;  // no audio (and 40 bytes that are then too many)
  EXPECT_FALSE(parses(bad, why));
  bad = good;
  bad[14] = 0xFF, bad[15] = 0xFF;  // a length past the cap and the bytes
  EXPECT_FALSE(parses(bad, why));
  EXPECT_FALSE(parses(std::vector<std::uint8_t>(kMaxVoiceFrameBytes + 1, 0x01), why));
  // The encoder refuses what the parser would.
  EXPECT_TRUE(encodeVoiceFrame(sample(0)).empty());
  VoiceFrame odd = sample();
  odd.flags = 0x10;
  EXPECT_TRUE(encodeVoiceFrame(odd).empty());
}

TEST(Limits, VoiceOpusBytesAtItsCap) {
  for (std::size_t n : {wire::kMaxVoiceOpusBytes - 1, wire::kMaxVoiceOpusBytes, wire::kMaxVoiceOpusBytes + 1}) {
    const bool fits = n <= wire::kMaxVoiceOpusBytes;
    const auto bytes = encodeVoiceFrame(sample(n));
    EXPECT_EQ(!bytes.empty(), fits) << n;
    // A frame built by hand at that size, past the encoder's own check.
    std::vector<std::uint8_t> raw = encodeVoiceFrame(sample(1));
    raw.resize(kVoiceFrameHeaderBytes);
    raw[14] = static_cast<std::uint8_t>(n), raw[15] = static_cast<std::uint8_t>(n >> 8);
    raw.resize(kVoiceFrameHeaderBytes + n, 0x33);
    std::string why;
    EXPECT_EQ(parses(raw, why), fits) << n << " " << why;
  }
  // The largest frame fits a sealed voice datagram (net/voice_seal.h: 13-byte header, 16-byte tag).
  static_assert(kMaxVoiceFrameBytes + 13 + 16 <= wire::kMaxVoiceDatagramBytes);
}
