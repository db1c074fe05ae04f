// The host's voice relay, with no socket (docs/SECURITY.md s.3): sealed datagrams in, sealed
// datagrams out. Each participant's voice seat is bound to its chat seat: the keys come from
// that participant's chat connection's TLS exporter (net/voice_seal.h), looked up by the
// channel (its participant id) in the datagram's cleartext header. A datagram proves its
// seat by opening under that seat's up key, so nobody without the key (anyone but the
// participant and the host) can speak for a seat, join it, or move it: the seat's return
// address is where its newest authentic datagram came from (a replay, or an older counter,
// never moves it). A seat takes UDP only from its chat connection's IPv4 address: a copy of
// a datagram the host never opened (lost, or dropped over the lookup rate), sent again from
// another machine, is authentic and newest, and would otherwise take the seat's return
// traffic there until its participant's next datagram. What a seat sends, once opened (its plaintext):
//
//   voice frame   u8 version (1) | ... (app/voice/voice_frame.h); the speaker field must be
//                 the seat's own participant id
//   join          u8 'J': joins voice, or keeps the membership alive (answered with 'A')
//   leave         u8 'L': leaves voice
//
// and what the host sends a member: the frames of the others, each sealed again under the
// listener's down key, unchanged inside (the host never decodes audio), and 'A' after each
// join. Frames not flagged speaking are not forwarded (silence costs nothing), nor frames
// over a speaker's rate, nor frames of a speaker past kMaxVoiceSpeakersForwarded at once.
// Every datagram dropped is counted by why.
// Thread: any; one mutex inside (receive() runs on the relay's thread, dropParticipant() on
// the chat hub's).
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "net/base/bytes.h"
#include "net/voice_seal.h"
#include "net/voice_socket.h"
#include "net/wire/limits.h"

namespace huddle::net {

inline constexpr std::uint8_t kVoiceJoin = 'J';
inline constexpr std::uint8_t kVoiceLeave = 'L';
inline constexpr std::uint8_t kVoiceJoinAck = 'A';
// The voice frame's header as the relay reads it (app/voice/voice_frame.h is the format).
inline constexpr std::uint8_t kVoiceFrameVersionByte = 1;
inline constexpr std::size_t kVoiceFrameHeaderSize = 16;
inline constexpr std::uint8_t kVoiceFrameSpeakingFlag = 0x01;
inline constexpr std::uint8_t kVoiceFrameFlagsMask = 0x03;

struct VoiceHubConfig {
  double packetsPerSec = wire::kVoicePacketsPerSec;
  double packetBurst = wire::kVoicePacketBurst;
  std::size_t maxSpeakers = wire::kMaxVoiceSpeakersForwarded;
  std::int64_t speakerActiveUs = wire::kVoiceSpeakerActiveUs;
  std::int64_t memberTimeoutUs = wire::kVoiceMemberTimeoutUs;
  double lookupsPerSec = wire::kVoiceLookupsPerSec;
};

struct VoiceHubStats {
  std::uint64_t received = 0;   // datagrams in
  std::uint64_t frames = 0;     // voice frames accepted from speakers
  std::uint64_t forwarded = 0;  // datagrams out (frames to listeners, acks)
  // Dropped, by why:
  std::uint64_t malformed = 0;      // not a sealed voice datagram (size, kind)
  std::uint64_t oversize = 0;       // larger than a voice datagram may be
  std::uint64_t unknownSeat = 0;    // no participant with that channel (or no TLS)
  std::uint64_t lookupLimited = 0;  // unknown channels over the lookup rate
  std::uint64_t wrongAddress = 0;   // UDP from an address other than the seat's chat connection's
  std::uint64_t badTag = 0;         // not sealed with the seat's key (forged, bent)
  std::uint64_t replayed = 0;       // seen before, or older than the replay window
  std::uint64_t badPayload = 0;     // opened, but not a frame, join or leave; or another's speaker id
  std::uint64_t notJoined = 0;      // a frame from a seat that has not joined voice
  std::uint64_t silent = 0;         // a frame not flagged speaking
  std::uint64_t rateLimited = 0;    // over the speaker's packet rate
  std::uint64_t speakersCapped = 0; // over the speakers forwarded at once
  std::size_t members = 0;          // joined voice now
  std::uint64_t dropped() const {
    return malformed + oversize + unknownSeat + lookupLimited + wrongAddress + badTag + replayed + badPayload + notJoined + silent +
           rateLimited + speakersCapped;
  }
};

struct VoiceDatagram {
  VoiceEndpoint to;
  base::ByteVec bytes;
};

class VoiceHub {
 public:
  // The voice keys of the joined participant `participantId` and its chat connection's IPv4
  // address (host order); false if there is none (or its chat connection has no TLS).
  using SeatLookup = std::function<bool(std::uint32_t participantId, VoiceKeys& keys, std::uint32_t& ipv4)>;

  VoiceHub(VoiceHubConfig config, SeatLookup lookup);

  // One datagram from `from` at `nowUs` (monotonic); what to send because of it (forwarded
  // frames, an ack) is appended to `out`. `oversize`: it was cut off at the cap (dropped).
  void receive(std::span<const std::uint8_t> datagram, const VoiceEndpoint& from, std::int64_t nowUs,
               std::vector<VoiceDatagram>& out, bool oversize = false);
  // Forgets members silent for longer than the timeout.
  void tick(std::int64_t nowUs);
  // The participant left the chat (or was kicked): its seat goes at once.
  void dropParticipant(std::uint32_t participantId);

  VoiceHubStats stats() const;
  // Participant ids joined to voice, and which of them are speaking now.
  std::vector<std::uint32_t> members() const;
  bool speaking(std::uint32_t participantId, std::int64_t nowUs) const;

 private:
  struct Seat {
    Seat(std::uint32_t id, const VoiceKeys& keys, std::uint32_t chatIpv4)
        : up(keys.up, VoiceDirection::Up), down(keys.down, VoiceDirection::Down, id), ipv4(chatIpv4) {}
    VoiceOpener up;
    VoiceSealer down;
    std::uint32_t ipv4;     // its chat connection's address: the only one its UDP may come from
    bool heard = false;     // a datagram has opened: `endpoint` is where the newest came from
    bool joined = false;
    VoiceEndpoint endpoint;
    std::int64_t lastHeardUs = 0;
    std::int64_t lastSpokeUs = -1;  // last frame forwarded (-1: never)
    double tokens = 0;
    std::int64_t tokensAtUs = 0;
  };
  Seat* seatLocked(std::uint32_t channel, std::int64_t nowUs);
  bool takePacketLocked(Seat& seat, std::int64_t nowUs);
  bool activeLocked(const Seat& seat, std::int64_t nowUs) const;
  void handleFrameLocked(std::uint32_t speaker, Seat& seat, const base::ByteVec& plain, std::int64_t nowUs,
                         std::vector<VoiceDatagram>& out);

  const VoiceHubConfig m_config;
  const SeatLookup m_lookup;
  mutable std::mutex m_mutex;
  std::map<std::uint32_t, std::unique_ptr<Seat>> m_seats;  // by participant id
  double m_lookupTokens = 0;
  std::int64_t m_lookupsAtUs = 0;
  VoiceHubStats m_stats;
};

}  // namespace huddle::net
