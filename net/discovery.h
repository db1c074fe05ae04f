// Sessions on this network, without sockets: what a host announces (signed with its host key,
// the one its TLS certificate carries), how a listener checks an announcement, and the bounded
// table of sessions nearby. The UDP side (multicast on the LAN) lives elsewhere; everything
// here is pure so it can be tested and fuzzed byte by byte. See docs/SECURITY.md.
//
// Why an announcement cannot send anyone to an impostor: it is signed with the host's Ed25519
// key and carries the public key, whose fingerprint is what a joiner pins (exactly as an invite
// link's key code), so a forged one either fails the signature or names a key the impostor
// cannot prove in the TLS handshake. Replays: the signed part names the host's addresses (a
// copy sent from elsewhere is not listed), its send time (one far from the listener's clock is
// not listed) and a run id with a sequence (one older than what was seen is not listed).
// Thread: AnnouncementTable is not synchronised; the codec functions are pure.
#pragma once
#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "net/tls_engine.h"

namespace huddle::net {

using Ed25519PublicKey = std::array<std::uint8_t, 32>;

struct Announcement {
  std::string sessionName;       // the host's name in the session (wire::validateName)
  std::string hostName;          // the machine's name, for people to tell hosts apart
  std::uint16_t chatPort = 0;
  std::uint16_t screenPort = 0;
  bool passwordNeeded = false;
  bool leaving = false;          // a goodbye: take it off the list now
  std::vector<std::uint32_t> addresses;  // IPv4, host byte order: where it may be sent from
  std::uint64_t sentAtMs = 0;    // the host's wall clock, Unix milliseconds
  std::uint64_t runId = 0;       // random per host run
  std::uint64_t sequence = 0;    // counts up within a run
};

// The signed datagram for `a`, signed with `identity`'s key; empty (with `error`) if `a` breaks
// a limit or signing fails.
std::vector<std::uint8_t> encodeAnnouncement(const Announcement& a, const HostIdentity& identity, std::string& error);

// Parses and verifies a datagram: true only if it is well formed, within every limit and
// signed by the key it carries; `key` is that key's fingerprint (what the TLS handshake pins).
bool decodeAnnouncement(std::span<const std::uint8_t> datagram, Announcement& out, Fingerprint& key,
                        std::string& error);

// A session nearby, as a listener keeps it.
struct NearbySession {
  Announcement announcement;
  Fingerprint key{};
  std::uint32_t fromAddress = 0;  // where the last announcement came from (one of its addresses)
  std::int64_t firstSeenUs = 0;
  std::int64_t lastSeenUs = 0;
};

// The sessions nearby: at most wire::kMaxNearbySessions, of which at most
// wire::kMaxNearbyPerAddress announced from one address; one entry per key.
class AnnouncementTable {
 public:
  enum class Verdict { Listed, Updated, Removed, Refused };
  // Offers a datagram received from `fromAddress` (IPv4, host byte order) at `nowUs`
  // (steady clock), the listener's wall clock being `wallMs`. `why` says why it was refused.
  Verdict offer(std::span<const std::uint8_t> datagram, std::uint32_t fromAddress, std::int64_t nowUs,
                std::uint64_t wallMs, std::string& why);
  // Forgets sessions not heard from for wire::kAnnounceExpiryUs.
  void expire(std::int64_t nowUs);
  // Newest first (by when each was first seen).
  std::vector<NearbySession> sessions() const;
  std::size_t size() const { return m_entries.size(); }
  // Whether a listed session was last heard from `address`.
  bool lists(std::uint32_t address) const;

 private:
  struct Seen {  // the newest announcement of a key, kept after it leaves so replays stay out
    Fingerprint key{};
    std::uint64_t runId = 0, sequence = 0, sentAtMs = 0;
  };
  bool isReplay(const Fingerprint& key, const Announcement& a) const;
  void remember(const Fingerprint& key, const Announcement& a);
  std::vector<NearbySession> m_entries;
  std::vector<Seen> m_seen;  // bounded: wire::kMaxRememberedAnnouncers, oldest dropped
};

// Which datagrams a listener checks at all, before any signature work: at most
// wire::kMaxAnnouncementsPerSource a second from one source address (a host sends one or two
// per interface a second) and wire::kMaxAnnouncementsPerSecond in all, so a flood costs bounded
// time and memory and one flooding address does not spend the share of the others. A source
// that a listed session announced from (`known`) is not held to the overall cap, so a flood
// from many spoofed addresses does not hide the sessions already listed.
class DatagramGate {
 public:
  bool admit(std::uint32_t fromAddress, std::int64_t nowUs, bool known = false);

 private:
  std::int64_t m_windowStartUs = 0;
  bool m_started = false;
  std::size_t m_total = 0;
  std::vector<std::pair<std::uint32_t, std::size_t>> m_perSource;  // at most kMaxAnnouncementsPerSecond
};

}  // namespace huddle::net
