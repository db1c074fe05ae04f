// The voice datagram opener (net/voice_seal.h) against a sender that seals, and an attacker
// that replays, reorders, bends and forges. Input bytes are a script: each step seals a new
// datagram, resends an earlier one, sends a bent copy, or sends raw bytes. Checked on every
// step: a datagram opens at most once, opens to exactly what was sealed, and nothing forged,
// bent or raw ever opens.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "net/voice_seal.h"

using namespace huddle;
using namespace huddle::net;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  VoiceKey key;
  key.fill(0x5A);
  VoiceSealer sealer(key, VoiceDirection::Up, 9);
  VoiceOpener opener(key, VoiceDirection::Up);
  struct Sent {
    base::ByteVec datagram, plaintext;
    bool opened = false;
  };
  std::vector<Sent> sent;
  base::ByteVec out;
  std::size_t i = 0;
  auto next = [&]() -> std::uint8_t { return i < size ? data[i++] : 0; };
  while (i < size && sent.size() < 4096) {
    const std::uint8_t op = next();
    switch (op % 4) {
      case 0: {  // seal a new one (its counter may be skipped ahead: lost datagrams)
        for (std::uint8_t skip = next() % 80; skip > 0; --skip) sealer.seal({});
        base::ByteVec plain(next() * 5u % (kMaxVoicePlaintextBytes + 2));
        for (auto& b : plain) b = next();
        Sent s;
        s.datagram = sealer.seal(plain);
        if (s.datagram.empty()) {
          if (plain.size() <= kMaxVoicePlaintextBytes) std::abort();  // refused a size it must take
          break;
        }
        s.plaintext = std::move(plain);
        sent.push_back(std::move(s));
        [[fallthrough]];
      }
      case 1: {  // deliver one sent so far (the newest, or any: reordering and replays)
        if (sent.empty()) break;
        Sent& s = op % 4 == 0 ? sent.back() : sent[next() % sent.size()];
        const auto r = opener.open(s.datagram, out);
        if (r == VoiceOpener::Result::Ok) {
          if (s.opened || out != s.plaintext) std::abort();  // opened twice, or to other bytes
          s.opened = true;
        } else if (r == VoiceOpener::Result::BadTag || r == VoiceOpener::Result::Malformed) {
          std::abort();  // a genuine datagram must never fail its tag
        }
        break;
      }
      case 2: {  // a bent copy
        if (sent.empty()) break;
        base::ByteVec bent = sent[next() % sent.size()].datagram;
        bent[next() % bent.size()] ^= static_cast<std::uint8_t>(next() | 1);
        if (opener.open(bent, out) == VoiceOpener::Result::Ok) std::abort();
        break;
      }
      case 3: {  // raw bytes
        const std::size_t n = next() * 6u;
        base::ByteVec raw;
        while (raw.size() < n && i < size) raw.push_back(next());
        if (opener.open(raw, out) == VoiceOpener::Result::Ok) std::abort();
        break;
      }
    }
  }
  return 0;
}
