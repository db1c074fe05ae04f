// A voice relay under test: seats with known keys, and the client's side of each (its
// sealer up, its opener down), so tests build real datagrams and read what the hub sends.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "net/voice_hub.h"

namespace huddle::net::test {

inline VoiceKeys voiceKeysFor(std::uint32_t participantId) {
  VoiceKeys k;
  for (std::size_t i = 0; i < k.up.size(); ++i) {
    k.up[i] = static_cast<std::uint8_t>(participantId * 31 + i);
    k.down[i] = static_cast<std::uint8_t>(participantId * 57 + i * 3 + 1);
  }
  return k;
}

// One participant's end of voice.
struct VoiceClientEnd {
  VoiceClientEnd(std::uint32_t id, VoiceEndpoint at)
      : participantId(id), endpoint(at), sealer(voiceKeysFor(id).up, VoiceDirection::Up, id),
        opener(voiceKeysFor(id).down, VoiceDirection::Down) {}
  std::uint32_t participantId;
  VoiceEndpoint endpoint;
  VoiceSealer sealer;
  VoiceOpener opener;
};

// A frame's plaintext as app/voice/voice_frame.h lays it out.
inline base::ByteVec voiceFramePlain(std::uint32_t speaker, std::uint32_t seq, std::uint8_t flags = 0x01,
                                     std::size_t opusBytes = 40) {
  base::ByteVec p{1, flags};
  for (std::uint32_t v : {speaker, seq, seq})
    for (int i = 0; i < 4; ++i) p.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  p.push_back(static_cast<std::uint8_t>(opusBytes));
  p.push_back(static_cast<std::uint8_t>(opusBytes >> 8));
  for (std::size_t i = 0; i < opusBytes; ++i) p.push_back(static_cast<std::uint8_t>(0x80 + i));
  return p;
}

struct VoiceRig {
  static constexpr std::uint32_t kSeatIpv4 = 0x7F000001;  // every seat's chat connection
  explicit VoiceRig(VoiceHubConfig config = {}, std::uint32_t participants = 3)
      : hub(config, [this](std::uint32_t id, VoiceKeys& keys, std::uint32_t& ipv4) {
          ++lookups;
          if (id == 0 || id > seated) return false;
          keys = voiceKeysFor(id);
          ipv4 = kSeatIpv4;
          return true;
        }),
        seated(participants) {
    for (std::uint32_t id = 1; id <= participants; ++id)
      ends.emplace(id, std::make_unique<VoiceClientEnd>(id, VoiceEndpoint{kSeatIpv4, static_cast<std::uint16_t>(40000 + id)}));
  }
  VoiceClientEnd& end(std::uint32_t id) { return *ends.at(id); }
  // Seals `plain` as `id` and hands it to the hub from `from` (its own endpoint by default).
  std::vector<VoiceDatagram> send(std::uint32_t id, const base::ByteVec& plain, std::int64_t nowUs,
                                  const VoiceEndpoint* from = nullptr) {
    return deliver(end(id).sealer.seal(plain), from ? *from : end(id).endpoint, nowUs);
  }
  std::vector<VoiceDatagram> deliver(const base::ByteVec& datagram, const VoiceEndpoint& from, std::int64_t nowUs) {
    std::vector<VoiceDatagram> out;
    hub.receive(datagram, from, nowUs, out);
    return out;
  }
  std::vector<VoiceDatagram> join(std::uint32_t id, std::int64_t nowUs) { return send(id, base::ByteVec{kVoiceJoin}, nowUs); }

  VoiceHub hub;
  std::uint32_t seated;
  int lookups = 0;
  std::map<std::uint32_t, std::unique_ptr<VoiceClientEnd>> ends;
};

}  // namespace huddle::net::test
