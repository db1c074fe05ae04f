#include "net/discovery.h"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include <algorithm>
#include <memory>

#include "net/base/utf8.h"
#include "net/wire/codec.h"
#include "net/wire/limits.h"
#include "net/wire/messages.h"

namespace huddle::net {

namespace {

// "HUDA" little-endian, then a version byte: a datagram of anything else is not ours.
constexpr std::uint32_t kAnnounceMagic = 0x41445548;
constexpr std::uint8_t kAnnounceVersion = 1;
constexpr std::uint8_t kFlagPassword = 1, kFlagLeaving = 2;
constexpr std::size_t kSignatureBytes = 64;

using PkeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;

// The fingerprint a TLS handshake with this key would report: SHA-256 of its DER SubjectPublicKeyInfo.
bool fingerprintOfKey(EVP_PKEY* key, Fingerprint& out) {
  unsigned char* der = nullptr;
  const int len = i2d_PUBKEY(key, &der);
  if (len <= 0) return false;
  SHA256(der, static_cast<std::size_t>(len), out.data());
  OPENSSL_free(der);
  return true;
}

std::string checkLimits(const Announcement& a) {
  if (std::string why = wire::validateName(a.sessionName); !why.empty()) return "session name: " + why;
  if (a.hostName.size() > wire::kMaxAnnounceHostNameBytes || !base::isValidUtf8(a.hostName) ||
      base::hasForbiddenControls(a.hostName, false))
    return "the host name is too long, not UTF-8 or holds control characters";
  if (a.addresses.empty() || a.addresses.size() > wire::kMaxAnnouncedAddresses) return "no addresses, or too many";
  if (a.chatPort == 0 || a.screenPort == 0) return "port 0";
  return "";
}

}  // namespace

std::vector<std::uint8_t> encodeAnnouncement(const Announcement& a, const HostIdentity& identity, std::string& error) {
  if (error = checkLimits(a); !error.empty()) return {};
  Ed25519PublicKey pub{};
  std::size_t pubLen = pub.size();
  if (EVP_PKEY_get_raw_public_key(identity.key(), pub.data(), &pubLen) != 1 || pubLen != pub.size())
    return error = "the host key is not an Ed25519 key", std::vector<std::uint8_t>{};
  base::ByteVec out;
  wire::Writer w(out);
  w.u32(kAnnounceMagic);
  w.u8(kAnnounceVersion);
  w.u8(static_cast<std::uint8_t>((a.passwordNeeded ? kFlagPassword : 0) | (a.leaving ? kFlagLeaving : 0)));
  w.u16(a.chatPort);
  w.u16(a.screenPort);
  w.u64(a.sentAtMs);
  w.u64(a.runId);
  w.u64(a.sequence);
  w.str(a.sessionName);
  w.str(a.hostName);
  w.u8(static_cast<std::uint8_t>(a.addresses.size()));
  for (std::uint32_t addr : a.addresses) w.u32(addr);
  w.raw(pub.data(), pub.size());
  MdCtxPtr ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  std::array<std::uint8_t, kSignatureBytes> sig{};
  std::size_t sigLen = sig.size();
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, identity.key()) != 1 ||
      EVP_DigestSign(ctx.get(), sig.data(), &sigLen, out.data(), out.size()) != 1 || sigLen != sig.size())
    return error = "cannot sign the announcement", std::vector<std::uint8_t>{};
  w.raw(sig.data(), sig.size());
  if (out.size() > wire::kMaxAnnouncementBytes) return error = "the announcement is too long", std::vector<std::uint8_t>{};
  return std::vector<std::uint8_t>(out.begin(), out.end());
}

bool decodeAnnouncement(std::span<const std::uint8_t> datagram, Announcement& out, Fingerprint& key, std::string& error) {
  out = Announcement{};
  if (datagram.size() > wire::kMaxAnnouncementBytes) return error = "too long", false;
  if (datagram.size() < kSignatureBytes) return error = "too short", false;
  const auto signedPart = datagram.first(datagram.size() - kSignatureBytes);
  const auto signature = datagram.last(kSignatureBytes);
  wire::Reader r(signedPart);
  if (r.u32() != kAnnounceMagic || !r.ok()) return error = "not an announcement", false;
  if (r.u8() != kAnnounceVersion) return error = "another version", false;
  const std::uint8_t flags = r.u8();
  out.passwordNeeded = flags & kFlagPassword;
  out.leaving = flags & kFlagLeaving;
  out.chatPort = r.u16();
  out.screenPort = r.u16();
  out.sentAtMs = r.u64();
  out.runId = r.u64();
  out.sequence = r.u64();
  out.sessionName = r.str(wire::kMaxNameBytes);
  out.hostName = r.str(wire::kMaxAnnounceHostNameBytes);
  const std::size_t count = r.u8();
  if (!r.ok() || count > wire::kMaxAnnouncedAddresses || count * 4 > r.remaining()) return error = "malformed", false;
  for (std::size_t i = 0; i < count; ++i) out.addresses.push_back(r.u32());
  Ed25519PublicKey pub{};
  for (auto& b : pub) b = r.u8();
  if (!r.done() || (flags & ~(kFlagPassword | kFlagLeaving)) != 0) return error = "malformed", false;
  if (error = checkLimits(out); !error.empty()) return false;
  PkeyPtr pkey(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, pub.data(), pub.size()), EVP_PKEY_free);
  MdCtxPtr ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!pkey || !ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, pkey.get()) != 1 ||
      EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), signedPart.data(), signedPart.size()) != 1)
    return error = "bad signature", false;
  if (!fingerprintOfKey(pkey.get(), key)) return error = "cannot hash the key", false;
  return true;
}

// [SECTION] AnnouncementTable

bool AnnouncementTable::isReplay(const Fingerprint& key, const Announcement& a) const {
  for (const Seen& s : m_seen) {
    if (s.key != key) continue;
    // Within one run the sequence counts up; a new run is newer only if sent later.
    if (a.runId == s.runId) return a.sequence <= s.sequence;
    return a.sentAtMs <= s.sentAtMs;
  }
  return false;
}

void AnnouncementTable::remember(const Fingerprint& key, const Announcement& a) {
  auto it = std::find_if(m_seen.begin(), m_seen.end(), [&](const Seen& s) { return s.key == key; });
  if (it != m_seen.end()) m_seen.erase(it);
  if (m_seen.size() >= wire::kMaxRememberedAnnouncers) m_seen.erase(m_seen.begin());
  m_seen.push_back(Seen{key, a.runId, a.sequence, a.sentAtMs});
}

AnnouncementTable::Verdict AnnouncementTable::offer(std::span<const std::uint8_t> datagram, std::uint32_t fromAddress,
                                                    std::int64_t nowUs, std::uint64_t wallMs, std::string& why) {
  Announcement a;
  Fingerprint key{};
  if (!decodeAnnouncement(datagram, a, key, why)) return Verdict::Refused;
  if (std::find(a.addresses.begin(), a.addresses.end(), fromAddress) == a.addresses.end())
    return why = "sent from an address it does not name", Verdict::Refused;
  const std::uint64_t skew = a.sentAtMs > wallMs ? a.sentAtMs - wallMs : wallMs - a.sentAtMs;
  if (skew > wire::kMaxAnnounceClockSkewMs) return why = "sent too far from this clock", Verdict::Refused;
  if (isReplay(key, a)) return why = "older than one already seen", Verdict::Refused;
  remember(key, a);
  auto it = std::find_if(m_entries.begin(), m_entries.end(), [&](const NearbySession& s) { return s.key == key; });
  if (a.leaving) {
    if (it == m_entries.end()) return why = "a goodbye from a session not listed", Verdict::Refused;
    m_entries.erase(it);
    return Verdict::Removed;
  }
  if (it != m_entries.end()) {
    it->announcement = std::move(a);
    it->fromAddress = fromAddress;
    it->lastSeenUs = nowUs;
    return Verdict::Updated;
  }
  // A new key. One address may hold only its share: past it, its own stalest entry makes room,
  // so a flood from one place cannot push out sessions announced from elsewhere.
  const auto stalest = [&](auto pred) {
    auto best = m_entries.end();
    for (auto e = m_entries.begin(); e != m_entries.end(); ++e)
      if (pred(*e) && (best == m_entries.end() || e->lastSeenUs < best->lastSeenUs)) best = e;
    return best;
  };
  const std::size_t fromHere = static_cast<std::size_t>(
      std::count_if(m_entries.begin(), m_entries.end(), [&](const NearbySession& s) { return s.fromAddress == fromAddress; }));
  if (fromHere >= wire::kMaxNearbyPerAddress) {
    m_entries.erase(stalest([&](const NearbySession& s) { return s.fromAddress == fromAddress; }));
  } else if (m_entries.size() >= wire::kMaxNearbySessions) {
    // Full: the address holding the most gives up its stalest entry (among equals, the
    // stalest of all). Someone spoofing many source addresses can still crowd the table;
    // joins stay safe (the key is pinned), the list is what suffers.
    std::size_t most = 0;
    for (const auto& e : m_entries)
      most = std::max(most, static_cast<std::size_t>(std::count_if(
                                m_entries.begin(), m_entries.end(), [&](const NearbySession& s) { return s.fromAddress == e.fromAddress; })));
    m_entries.erase(stalest([&](const NearbySession& s) {
      return static_cast<std::size_t>(std::count_if(m_entries.begin(), m_entries.end(), [&](const NearbySession& o) {
               return o.fromAddress == s.fromAddress;
             })) == most;
    }));
  }
  m_entries.push_back(NearbySession{std::move(a), key, fromAddress, nowUs, nowUs});
  return Verdict::Listed;
}

void AnnouncementTable::expire(std::int64_t nowUs) {
  std::erase_if(m_entries, [&](const NearbySession& s) { return nowUs - s.lastSeenUs > wire::kAnnounceExpiryUs; });
}

bool AnnouncementTable::lists(std::uint32_t address) const {
  return std::any_of(m_entries.begin(), m_entries.end(), [&](const NearbySession& s) { return s.fromAddress == address; });
}

std::vector<NearbySession> AnnouncementTable::sessions() const {
  std::vector<NearbySession> out = m_entries;
  std::stable_sort(out.begin(), out.end(), [](const NearbySession& a, const NearbySession& b) { return a.firstSeenUs > b.firstSeenUs; });
  return out;
}

// [SECTION] DatagramGate

bool DatagramGate::admit(std::uint32_t fromAddress, std::int64_t nowUs, bool known) {
  if (!m_started || nowUs - m_windowStartUs >= 1'000'000 || nowUs < m_windowStartUs) {
    m_started = true;
    m_windowStartUs = nowUs;
    m_total = 0;
    m_perSource.clear();
  }
  if (m_total >= wire::kMaxAnnouncementsPerSecond && !known) return false;
  auto it = std::find_if(m_perSource.begin(), m_perSource.end(), [&](const auto& p) { return p.first == fromAddress; });
  if (it == m_perSource.end()) {
    // Bounded even for known sources: they are at most the table's sessions.
    if (m_perSource.size() >= wire::kMaxAnnouncementsPerSecond + wire::kMaxNearbySessions) return false;
    m_perSource.emplace_back(fromAddress, 0);
    it = m_perSource.end() - 1;
  }
  if (it->second >= wire::kMaxAnnouncementsPerSource) return false;
  ++it->second;
  ++m_total;
  return true;
}

}  // namespace huddle::net
