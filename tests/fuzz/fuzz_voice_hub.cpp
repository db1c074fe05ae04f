// The host's voice relay (net/voice_hub.h) against three seats that speak and an attacker
// that replays, bends, forges and sprays raw bytes from its own address. Input bytes are a
// script: each step has a seat seal a plaintext of the script's choosing (a join, a leave, a
// frame, any bytes) and send it, or the attacker send something. Checked on every step:
// nothing is ever sent to the attacker's address, everything sent opens under its
// listener's key, and what it carries is an ack or exactly a frame another seat sealed.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <vector>

#include "net/voice_hub.h"

using namespace huddle;
using namespace huddle::net;

namespace {
VoiceKeys keysOf(std::uint32_t id) {
  VoiceKeys k;
  k.up.fill(static_cast<std::uint8_t>(id * 3));
  k.down.fill(static_cast<std::uint8_t>(id * 3 + 1));
  return k;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  VoiceHubConfig config;
  config.packetBurst = 8;  // small caps so scripts reach them
  config.maxSpeakers = 2;
  VoiceHub hub(config, [](std::uint32_t id, VoiceKeys& keys, std::uint32_t& ipv4) {
    if (id < 1 || id > 3) return false;
    keys = keysOf(id);
    ipv4 = 0x7F000001;  // the seats' chat connections
    return true;
  });
  struct Seat {
    explicit Seat(std::uint32_t id)
        : sealer(keysOf(id).up, VoiceDirection::Up, id), opener(keysOf(id).down, VoiceDirection::Down) {}
    VoiceSealer sealer;
    VoiceOpener opener;
    VoiceEndpoint at;
  };
  std::vector<Seat> seats{Seat(1), Seat(2), Seat(3)};
  for (std::uint32_t k = 0; k < 3; ++k) seats[k].at = {0x7F000001, static_cast<std::uint16_t>(1000 + k)};
  const VoiceEndpoint attacker{0x0A000066, 6666};
  std::set<base::ByteVec> framesSealed;
  std::vector<base::ByteVec> seen;  // every datagram sent so far (for replays)
  std::vector<VoiceDatagram> out;
  base::ByteVec plain;
  std::int64_t now = 0;
  std::size_t i = 0;
  auto next = [&]() -> std::uint8_t { return i < size ? data[i++] : 0; };
  while (i < size && seen.size() < 2048) {
    const std::uint8_t op = next();
    now += (op >> 4) * 3'000;
    out.clear();
    switch (op % 4) {
      case 0: {  // a seat sends
        Seat& s = seats[next() % 3];
        const std::uint8_t kind = next();
        base::ByteVec p;
        if (kind % 4 == 0) {
          p = {kVoiceJoin};
        } else if (kind % 4 == 1) {
          p = {kVoiceLeave};
        } else if (kind % 4 == 2) {  // a frame, its speaker and flags from the script
          const std::size_t opus = 1 + next() % 40;
          const std::uint32_t speaker = next() % 4;
          p = {1, static_cast<std::uint8_t>(next() % 4)};
          for (std::uint32_t v : {speaker, std::uint32_t{next()}, std::uint32_t{next()}})
            for (int b = 0; b < 4; ++b) p.push_back(static_cast<std::uint8_t>(v >> (8 * b)));
          p.push_back(static_cast<std::uint8_t>(opus));
          p.push_back(0);
          for (std::size_t b = 0; b < opus; ++b) p.push_back(next());
          framesSealed.insert(p);
        } else {
          for (std::size_t n = next() % 48; n > 0; --n) p.push_back(next());
          // Any bytes a seat sealed may happen to be a well-formed frame: then the host may
          // forward them as they are, and that is not making one up.
          framesSealed.insert(p);
        }
        base::ByteVec d = s.sealer.seal(p);
        seen.push_back(d);
        hub.receive(d, s.at, now, out);
        break;
      }
      case 1: {  // the attacker replays something seen
        if (seen.empty()) break;
        hub.receive(seen[next() % seen.size()], attacker, now, out);
        break;
      }
      case 2: {  // a bent copy
        if (seen.empty()) break;
        base::ByteVec bent = seen[next() % seen.size()];
        bent[next() % bent.size()] ^= static_cast<std::uint8_t>(next() | 1);
        hub.receive(bent, attacker, now, out);
        break;
      }
      case 3: {  // raw bytes
        base::ByteVec raw;
        for (std::size_t n = next() * 5u; n > 0 && i < size; --n) raw.push_back(next());
        hub.receive(raw, attacker, now, out, raw.size() > wire::kMaxVoiceDatagramBytes);
        break;
      }
    }
    for (const auto& d : out) {
      if (d.to == attacker) std::abort();  // the attacker took a seat's return address
      Seat* to = nullptr;
      for (auto& s : seats)
        if (s.at == d.to) to = &s;
      if (!to) std::abort();
      if (to->opener.open(d.bytes, plain) != VoiceOpener::Result::Ok) std::abort();
      if (plain == base::ByteVec{kVoiceJoinAck}) continue;
      if (!framesSealed.count(plain)) std::abort();  // the host made up or changed a frame
      const std::uint32_t speaker = plain[2] | plain[3] << 8 | plain[4] << 16 | std::uint32_t{plain[5]} << 24;
      if (speaker == static_cast<std::uint32_t>(to - seats.data()) + 1) std::abort();  // echoed to its speaker
    }
    hub.tick(now);
  }
  const VoiceHubStats s = hub.stats();
  if (s.frames > s.received) std::abort();
  return 0;
}
