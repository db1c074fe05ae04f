#include "net/voice_hub.h"

#include <algorithm>

namespace huddle::net {

namespace {
std::uint32_t le32(const std::uint8_t* p) {
  return std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 | std::uint32_t{p[2]} << 16 | std::uint32_t{p[3]} << 24;
}
}  // namespace

VoiceHub::VoiceHub(VoiceHubConfig config, SeatLookup lookup)
    : m_config(config), m_lookup(std::move(lookup)), m_lookupTokens(config.lookupsPerSec) {}

VoiceHub::Seat* VoiceHub::seatLocked(std::uint32_t channel, std::int64_t nowUs) {
  if (auto it = m_seats.find(channel); it != m_seats.end()) return it->second.get();
  // A channel never seen: ask the chat hub, at most lookupsPerSec times a second (a flood
  // of made-up channels must not turn into a flood of lookups under the chat hub's lock).
  m_lookupTokens = std::min(m_config.lookupsPerSec,
                            m_lookupTokens + m_config.lookupsPerSec * static_cast<double>(nowUs - m_lookupsAtUs) / 1e6);
  m_lookupsAtUs = nowUs;
  if (m_lookupTokens < 1) {
    ++m_stats.lookupLimited;
    return nullptr;
  }
  m_lookupTokens -= 1;
  VoiceKeys keys;
  std::uint32_t ipv4 = 0;
  if (!m_lookup || !m_lookup(channel, keys, ipv4)) {
    ++m_stats.unknownSeat;
    return nullptr;
  }
  auto seat = std::make_unique<Seat>(channel, keys, ipv4);
  seat->tokens = m_config.packetBurst;
  seat->tokensAtUs = nowUs;
  return m_seats.emplace(channel, std::move(seat)).first->second.get();
}

bool VoiceHub::takePacketLocked(Seat& seat, std::int64_t nowUs) {
  seat.tokens = std::min(m_config.packetBurst,
                         seat.tokens + m_config.packetsPerSec * static_cast<double>(nowUs - seat.tokensAtUs) / 1e6);
  seat.tokensAtUs = nowUs;
  if (seat.tokens < 1) return false;
  seat.tokens -= 1;
  return true;
}

bool VoiceHub::activeLocked(const Seat& seat, std::int64_t nowUs) const {
  return seat.joined && seat.lastSpokeUs >= 0 && nowUs - seat.lastSpokeUs < m_config.speakerActiveUs;
}

void VoiceHub::receive(std::span<const std::uint8_t> datagram, const VoiceEndpoint& from, std::int64_t nowUs,
                       std::vector<VoiceDatagram>& out, bool oversize) {
  std::lock_guard lock(m_mutex);
  ++m_stats.received;
  if (oversize || datagram.size() > wire::kMaxVoiceDatagramBytes) return void(++m_stats.oversize);
  VoiceHeader header;
  std::string why;
  if (!readVoiceHeader(datagram, header, why)) return void(++m_stats.malformed);
  // Over a chat connection the sender is known: it may only use its own seat.
  if (from.stream != 0 && from.stream != header.channel) return void(++m_stats.malformed);
  Seat* seat = seatLocked(header.channel, nowUs);
  if (!seat) return;
  if (from.stream == 0 && from.ipv4 != seat->ipv4) return void(++m_stats.wrongAddress);
  const bool newest = !seat->heard || header.counter > seat->up.highest();
  base::ByteVec plain;
  switch (seat->up.open(datagram, plain)) {
    case VoiceOpener::Result::Ok: break;
    case VoiceOpener::Result::Malformed: return void(++m_stats.malformed);
    case VoiceOpener::Result::BadTag: return void(++m_stats.badTag);
    case VoiceOpener::Result::Replayed:
    case VoiceOpener::Result::TooOld: return void(++m_stats.replayed);
  }
  // Authentic: only the seat's own participant holds this key. Its return port follows its
  // newest datagram (a client whose socket or NAT mapping changed keeps its voice).
  if (newest) seat->endpoint = from;
  seat->heard = true;
  seat->lastHeardUs = nowUs;
  if (plain.size() == 1 && plain[0] == kVoiceJoin) {
    seat->joined = true;
    if (base::ByteVec ack = seat->down.seal(std::span<const std::uint8_t>(&kVoiceJoinAck, 1)); !ack.empty()) {
      out.push_back({seat->endpoint, std::move(ack)});
      ++m_stats.forwarded;
    }
    return;
  }
  if (plain.size() == 1 && plain[0] == kVoiceLeave) {
    seat->joined = false;
    seat->lastSpokeUs = -1;
    return;
  }
  handleFrameLocked(header.channel, *seat, plain, nowUs, out);
}

void VoiceHub::handleFrameLocked(std::uint32_t speaker, Seat& seat, const base::ByteVec& plain, std::int64_t nowUs,
                                 std::vector<VoiceDatagram>& out) {
  // The frame's header only: the listeners parse it strictly; the host never decodes audio.
  if (plain.size() < kVoiceFrameHeaderSize + 1 || plain[0] != kVoiceFrameVersionByte ||
      (plain[1] & ~kVoiceFrameFlagsMask) != 0 || le32(plain.data() + 2) != speaker ||
      plain.size() - kVoiceFrameHeaderSize != (std::size_t{plain[14]} | std::size_t{plain[15]} << 8) ||
      plain.size() - kVoiceFrameHeaderSize > wire::kMaxVoiceOpusBytes)
    return void(++m_stats.badPayload);
  if (!seat.joined) return void(++m_stats.notJoined);
  if (!takePacketLocked(seat, nowUs)) return void(++m_stats.rateLimited);
  if (!(plain[1] & kVoiceFrameSpeakingFlag)) return void(++m_stats.silent);
  if (!activeLocked(seat, nowUs)) {
    std::size_t active = 0;
    for (const auto& [id, s] : m_seats) active += activeLocked(*s, nowUs);
    if (active >= m_config.maxSpeakers) return void(++m_stats.speakersCapped);
  }
  seat.lastSpokeUs = nowUs;
  ++m_stats.frames;
  for (auto& [id, listener] : m_seats) {
    if (id == speaker || !listener->joined || !listener->heard) continue;
    base::ByteVec sealed = listener->down.seal(plain);
    if (sealed.empty()) continue;
    out.push_back({listener->endpoint, std::move(sealed)});
    ++m_stats.forwarded;
  }
}

void VoiceHub::tick(std::int64_t nowUs) {
  std::lock_guard lock(m_mutex);
  for (auto& [id, seat] : m_seats)
    if (seat->joined && nowUs - seat->lastHeardUs > m_config.memberTimeoutUs) seat->joined = false;
}

void VoiceHub::dropParticipant(std::uint32_t participantId) {
  std::lock_guard lock(m_mutex);
  m_seats.erase(participantId);
}

VoiceHubStats VoiceHub::stats() const {
  std::lock_guard lock(m_mutex);
  VoiceHubStats s = m_stats;
  s.members = 0;
  for (const auto& [id, seat] : m_seats) s.members += seat->joined;
  return s;
}

std::vector<std::uint32_t> VoiceHub::members() const {
  std::lock_guard lock(m_mutex);
  std::vector<std::uint32_t> ids;
  for (const auto& [id, seat] : m_seats)
    if (seat->joined) ids.push_back(id);
  return ids;
}

bool VoiceHub::speaking(std::uint32_t participantId, std::int64_t nowUs) const {
  std::lock_guard lock(m_mutex);
  auto it = m_seats.find(participantId);
  return it != m_seats.end() && activeLocked(*it->second, nowUs);
}

}  // namespace huddle::net
