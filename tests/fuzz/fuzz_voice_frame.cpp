// The voice frame parser (app/voice/voice_frame.h) on arbitrary bytes: it never reads out of
// bounds, and what it accepts is within the caps and encodes back to exactly the input.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>

#include "app/voice/voice_frame.h"

using namespace huddle;
using namespace huddle::voice;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> in(data, size);
  VoiceFrame f;
  std::string why;
  if (!parseVoiceFrame(in, f, why)) {
    if (why.empty()) std::abort();  // a refusal always says why
    return 0;
  }
  if (f.opus.empty() || f.opus.size() > wire::kMaxVoiceOpusBytes || (f.flags & ~kVoiceKnownFlags)) std::abort();
  const auto again = encodeVoiceFrame(f);
  if (again.size() != size || !std::equal(again.begin(), again.end(), data)) std::abort();
  return 0;
}
