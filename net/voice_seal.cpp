#include "net/voice_seal.h"

#include <sodium.h>

#include <algorithm>
#include <cstring>

#include "net/wire/limits.h"

namespace huddle::net {

namespace {

static_assert(crypto_aead_chacha20poly1305_ietf_NPUBBYTES == 12);
static_assert(crypto_aead_chacha20poly1305_ietf_KEYBYTES == 32);
static_assert(crypto_aead_chacha20poly1305_ietf_ABYTES == kVoiceTagBytes);
static_assert(wire::kVoiceReplayWindow == 64, "the window is one 64-bit word");

// libsodium picks its fastest implementations once; every entry point here asks first.
bool sodiumStarted() {
  static const bool ready = sodium_init() >= 0;
  return ready;
}

void putLe(std::uint8_t* out, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
std::uint64_t getLe(const std::uint8_t* in, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= std::uint64_t{in[i]} << (8 * i);
  return v;
}

std::array<std::uint8_t, 12> nonceFor(VoiceDirection direction, std::uint64_t counter) {
  std::array<std::uint8_t, 12> nonce{};
  putLe(nonce.data(), static_cast<std::uint32_t>(direction), 4);
  putLe(nonce.data() + 4, counter, 8);
  return nonce;
}

}  // namespace

VoiceKeys voiceKeysFromExporter(std::span<const std::uint8_t, 64> exporter) {
  VoiceKeys k;
  std::copy_n(exporter.begin(), 32, k.up.begin());
  std::copy_n(exporter.begin() + 32, 32, k.down.begin());
  return k;
}

VoiceSealer::VoiceSealer(const VoiceKey& key, VoiceDirection direction, std::uint32_t channel)
    : m_key(key), m_direction(direction), m_channel(channel) {
  sodiumStarted();
}

base::ByteVec VoiceSealer::seal(std::span<const std::uint8_t> plaintext) {
  if (plaintext.size() > kMaxVoicePlaintextBytes || m_counter == UINT64_MAX) return {};
  const std::uint64_t counter = m_counter++;
  base::ByteVec out(kVoiceHeaderBytes + plaintext.size() + kVoiceTagBytes);
  out[0] = kVoiceKindSealed;
  putLe(out.data() + 1, m_channel, 4);
  putLe(out.data() + 5, counter, 8);
  const auto nonce = nonceFor(m_direction, counter);
  unsigned long long sealed = 0;
  crypto_aead_chacha20poly1305_ietf_encrypt(out.data() + kVoiceHeaderBytes, &sealed, plaintext.data(), plaintext.size(),
                                            out.data(), kVoiceHeaderBytes, nullptr, nonce.data(), m_key.data());
  out.resize(kVoiceHeaderBytes + sealed);
  return out;
}

bool readVoiceHeader(std::span<const std::uint8_t> datagram, VoiceHeader& out, std::string& why) {
  if (datagram.size() < kVoiceHeaderBytes + kVoiceTagBytes) return why = "shorter than a sealed datagram", false;
  if (datagram.size() > wire::kMaxVoiceDatagramBytes) return why = "larger than a voice datagram may be", false;
  if (datagram[0] != kVoiceKindSealed) return why = "not a sealed voice datagram", false;
  out.channel = static_cast<std::uint32_t>(getLe(datagram.data() + 1, 4));
  out.counter = getLe(datagram.data() + 5, 8);
  return true;
}

VoiceOpener::VoiceOpener(const VoiceKey& key, VoiceDirection direction) : m_key(key), m_direction(direction) {
  sodiumStarted();
}

VoiceOpener::Result VoiceOpener::open(std::span<const std::uint8_t> datagram, base::ByteVec& plaintext) {
  VoiceHeader h;
  std::string why;
  if (!readVoiceHeader(datagram, h, why)) return Result::Malformed;
  // Replay checks first (cheap), but the window moves only after the tag holds.
  if (m_any && h.counter <= m_highest) {
    const std::uint64_t behind = m_highest - h.counter;
    if (behind >= wire::kVoiceReplayWindow) return Result::TooOld;
    if (m_seen & (std::uint64_t{1} << behind)) return Result::Replayed;
  }
  const auto nonce = nonceFor(m_direction, h.counter);
  plaintext.resize(datagram.size() - kVoiceHeaderBytes - kVoiceTagBytes);
  unsigned long long opened = 0;
  if (crypto_aead_chacha20poly1305_ietf_decrypt(plaintext.data(), &opened, nullptr, datagram.data() + kVoiceHeaderBytes,
                                                datagram.size() - kVoiceHeaderBytes, datagram.data(), kVoiceHeaderBytes,
                                                nonce.data(), m_key.data()) != 0) {
    plaintext.clear();
    return Result::BadTag;
  }
  plaintext.resize(opened);
  if (!m_any || h.counter > m_highest) {
    const std::uint64_t ahead = m_any ? h.counter - m_highest : 0;
    m_seen = ahead >= wire::kVoiceReplayWindow ? 0 : m_seen << ahead;
    m_seen |= 1;
    m_highest = h.counter;
    m_any = true;
  } else {
    m_seen |= std::uint64_t{1} << (m_highest - h.counter);
  }
  return Result::Ok;
}

const char* voiceResultName(VoiceOpener::Result r) {
  switch (r) {
    case VoiceOpener::Result::Ok: return "ok";
    case VoiceOpener::Result::Malformed: return "malformed";
    case VoiceOpener::Result::BadTag: return "bad tag";
    case VoiceOpener::Result::Replayed: return "replayed";
    case VoiceOpener::Result::TooOld: return "too old";
  }
  return "?";
}

}  // namespace huddle::net
