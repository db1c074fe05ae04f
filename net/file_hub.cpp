#include "net/file_hub.h"

#include <algorithm>

#include "net/base/log.h"

namespace huddle::net {

namespace {
constexpr const char* kTag = "net/files";

template <typename Msg>
void queue(std::vector<std::pair<std::shared_ptr<PeerLink>, base::Bytes>>& out, const std::shared_ptr<PeerLink>& link,
           const Msg& msg) {
  if (link) out.emplace_back(link, wire::encodeFrame(msg));
}

wire::FileStatus status(std::uint64_t transferId, std::uint32_t peerId, wire::FileStatusCode code, std::string text) {
  wire::FileStatus s;
  s.transferId = transferId;
  s.peerId = peerId;
  s.code = code;
  s.text = wire::cutUtf8(std::move(text), wire::kMaxReasonBytes);
  return s;
}

std::string sizeText(std::uint64_t bytes) {
  if (bytes >= (1ull << 30)) return std::to_string(bytes >> 30) + " GiB";
  if (bytes >= (1ull << 20)) return std::to_string(bytes >> 20) + " MiB";
  return std::to_string(bytes) + " bytes";
}
}  // namespace

FileHub::FileHub(FileHubConfig config) : m_config(config) {}

bool FileHub::isFileMessage(std::uint16_t type) {
  switch (static_cast<wire::MsgType>(type)) {
    case wire::MsgType::FileOffer:
    case wire::MsgType::FileOffered:
    case wire::MsgType::FileRequest:
    case wire::MsgType::FileChunk:
    case wire::MsgType::FileStatus: return true;
    default: return false;
  }
}

void FileHub::flush(Sends& out) {
  for (auto& [link, frame] : out) link->send(std::move(frame));
}

std::string FileHub::handle(const Member& from, const wire::Frame& frame, const std::vector<Member>& room,
                            std::int64_t nowUs) {
  Sends out;
  std::string broken;
  switch (static_cast<wire::MsgType>(frame.type)) {
    case wire::MsgType::FileOffer: {
      wire::FileOffer m;
      if (!wire::decodePayload(frame.payload, m)) return "bad FileOffer";
      broken = handleOffer(from, m, room, nowUs, out);
      break;
    }
    case wire::MsgType::FileRequest: {
      wire::FileRequest m;
      if (!wire::decodePayload(frame.payload, m)) return "bad FileRequest";
      broken = handleRequest(from, m, out);
      break;
    }
    case wire::MsgType::FileChunk: {
      wire::FileChunk m;
      if (!wire::decodePayload(frame.payload, m)) return "bad FileChunk";
      broken = handleChunk(from, std::move(m), out);
      break;
    }
    case wire::MsgType::FileStatus: {
      wire::FileStatus m;
      if (!wire::decodePayload(frame.payload, m)) return "bad FileStatus";
      broken = handleStatus(from, m, out);
      break;
    }
    default: return "a file message the host does not take";
  }
  flush(out);  // after the lock: a full queue closes that link, never stalls this one
  return broken;
}

std::string FileHub::handleOffer(const Member& from, const wire::FileOffer& offer, const std::vector<Member>& room,
                                 std::int64_t nowUs, Sends& out) {
  const std::uint64_t id = wire::fileTransferId(from.id, offer.offerId);
  std::lock_guard lock(m_mutex);
  auto refuse = [&](const std::string& why) {
    ++m_stats.refused;
    queue(out, from.link, status(id, 0, wire::FileStatusCode::Refused, why));
    return std::string();
  };
  // Its sender left before this was handled (the chat hub calls us after its lock): nobody
  // is there to answer, and an offer kept now would never end.
  if (m_left.count(from.id)) return {};
  if (std::string why = wire::validateFileName(offer.name); !why.empty()) return refuse("Not offered: " + why + ".");
  if (offer.size > m_config.maxFileBytes)
    return refuse("Not offered: the host takes files up to " + sizeText(m_config.maxFileBytes) + ".");
  if (m_transfers.count(id)) return refuse("Not offered: that offer number is in use.");
  std::size_t mine = 0;
  for (const auto& [tid, t] : m_transfers) {
    mine += t.sender.id == from.id;
    // The same file to the same people twice: one offer is one transfer per receiver (two
    // would leave a receiver's line on one and the other waiting for it forever).
    if (t.sender.id == from.id && t.offer.name == offer.name && t.offer.size == offer.size &&
        t.offer.sha256 == offer.sha256 && t.offer.to == offer.to)
      return refuse("Not offered: you already offer " + offer.name + " to " + (offer.to.empty() ? "everyone" : offer.to) +
                    ".");
  }
  if (mine >= m_config.maxOffersPerPerson)
    return refuse("Not offered: you already offer " + std::to_string(mine) + " files; wait until they are taken.");
  if (m_transfers.size() >= m_config.maxOpenOffers) return refuse("Not offered: the host has too many files on offer.");
  // Offers per minute: a bucket per person that starts full.
  Bucket& b = m_offerBuckets.try_emplace(from.id, Bucket{m_config.offerBurst, nowUs}).first->second;
  b.tokens = std::min(m_config.offerBurst,
                      b.tokens + static_cast<double>(nowUs - b.updatedUs) / 60e6 * m_config.offersPerMinute);
  b.updatedUs = nowUs;
  if (b.tokens < 1.0) return refuse("Not offered: too many offers; wait a minute.");
  Transfer t;
  t.sender = from;
  for (const auto& m : room) {
    if (m.id == from.id || m_left.count(m.id) || (!offer.to.empty() && m.name != offer.to)) continue;
    t.receivers[m.id].receiver = m;
    t.toToken = offer.to.empty() ? 0 : m.token;  // names are unique among those here: one at most
  }
  if (t.receivers.empty())
    return refuse(offer.to.empty() ? "Not offered: nobody else is here." : "Not offered: nobody named \"" + offer.to + "\" is here.");
  b.tokens -= 1.0;
  t.offer.transferId = id;
  t.offer.fromId = from.id;
  t.offer.from = from.name;
  t.offer.to = offer.to;
  t.offer.name = offer.name;
  t.offer.size = offer.size;
  t.offer.sha256 = offer.sha256;
  queue(out, from.link, t.offer);  // the sender sees its offer as everyone does
  for (const auto& [rid, r] : t.receivers) queue(out, r.receiver.link, t.offer);
  ++m_stats.offers;
  HLOG_INFO(kTag, "offer id=%llx from=%s to=%s size=%llu", static_cast<unsigned long long>(id), from.name.c_str(),
            offer.to.empty() ? "*" : offer.to.c_str(), static_cast<unsigned long long>(offer.size));
  m_transfers.emplace(id, std::move(t));
  return {};
}

std::string FileHub::handleRequest(const Member& from, const wire::FileRequest& req, Sends& out) {
  std::lock_guard lock(m_mutex);
  auto it = m_transfers.find(req.transferId);
  // Gone meanwhile (cancelled, its sender left): the receiver has been or will be told.
  if (it == m_transfers.end()) return {};
  Transfer& t = it->second;
  auto rit = t.receivers.find(from.id);
  if (rit == t.receivers.end()) return "asked for a file not offered to it";
  Receive& r = rit->second;
  if (r.finished) return {};
  if (req.offset > t.offer.size || req.length > t.offer.size - req.offset) return "asked for a piece past the file's end";
  if (r.asked.size() >= m_config.windowChunks) return "asked for more file pieces than its credit";
  if (!r.fetching) {
    std::size_t receiving = 0;
    for (const auto& [tid, other] : m_transfers) {
      auto o = other.receivers.find(from.id);
      receiving += o != other.receivers.end() && o->second.fetching && !o->second.finished;
    }
    if (receiving >= m_config.maxReceivesPerPerson) {
      ++m_stats.refused;
      queue(out, from.link,
            status(req.transferId, t.sender.id, wire::FileStatusCode::Refused,
                   "You are receiving " + std::to_string(receiving) + " files already; accept this one when one is done."));
      return {};
    }
    r.fetching = true;
    queue(out, t.sender.link, status(req.transferId, from.id, wire::FileStatusCode::Accepted, from.name));
  }
  r.asked.push_back({req.offset, req.length});
  wire::FileRequest fwd = req;
  fwd.peerId = from.id;
  queue(out, t.sender.link, fwd);
  return {};
}

std::string FileHub::handleChunk(const Member& from, wire::FileChunk chunk, Sends& out) {
  std::lock_guard lock(m_mutex);
  auto it = m_transfers.find(chunk.transferId);
  if (it == m_transfers.end()) return {};  // cancelled while the piece was on its way
  Transfer& t = it->second;
  if (t.sender.id != from.id) return "sent a piece of a file it does not offer";
  auto rit = t.receivers.find(chunk.peerId);
  // A receiver who left may still have had pieces asked: they were on their way, not wrong.
  if (rit == t.receivers.end()) return {};
  Receive& r = rit->second;
  if (r.finished) return {};  // the receiver gave up meanwhile
  // Exactly the piece asked for, in order: never more than announced, never unasked.
  if (r.asked.empty() || r.asked.front().offset != chunk.offset || r.asked.front().length != chunk.data.size())
    return "sent a piece of a file that was not asked for";
  r.asked.erase(r.asked.begin());
  ++m_stats.chunksRelayed;
  m_stats.bytesRelayed += chunk.data.size();
  chunk.peerId = from.id;
  queue(out, r.receiver.link, chunk);
  return {};
}

std::string FileHub::handleStatus(const Member& from, const wire::FileStatus& st, Sends& out) {
  using Code = wire::FileStatusCode;
  std::lock_guard lock(m_mutex);
  auto it = m_transfers.find(st.transferId);
  if (it == m_transfers.end()) return {};
  Transfer& t = it->second;
  if (t.sender.id == from.id) {
    if (st.code != Code::Cancelled) return "sent a file status only a receiver sends";
    for (auto& [rid, r] : t.receivers)
      if (!r.finished) queue(out, r.receiver.link, status(st.transferId, from.id, Code::Cancelled, st.text));
    m_transfers.erase(it);
    return {};
  }
  auto rit = t.receivers.find(from.id);
  if (rit == t.receivers.end()) return {};  // not offered to it: nothing to change
  if (st.code != Code::Declined && st.code != Code::Done && st.code != Code::Failed)
    return "sent a file status only a sender sends";
  Receive& r = rit->second;
  if (r.finished) return {};
  r.finished = true;
  r.asked.clear();
  // The sender is told who, and why if there is a why.
  queue(out, t.sender.link, status(st.transferId, from.id, st.code, st.text.empty() ? from.name : from.name + ": " + st.text));
  closeIfFinishedLocked(it, out);
  return {};
}

void FileHub::closeIfFinishedLocked(std::map<std::uint64_t, Transfer>::iterator it, Sends& out) {
  Transfer& t = it->second;
  // Offered to everyone: it stays open while its sender is here, for whoever joins later.
  if (t.offer.to.empty()) return;
  for (const auto& [rid, r] : t.receivers)
    if (!r.finished) return;
  queue(out, t.sender.link, status(it->first, 0, wire::FileStatusCode::Closed, {}));
  m_transfers.erase(it);
}

void FileHub::joined(const Member& member, std::uint64_t resumedFrom) {
  Sends out;
  {
    std::lock_guard lock(m_mutex);
    for (auto& [id, t] : m_transfers) {
      if (t.sender.id == member.id) continue;
      if (!t.offer.to.empty()) {
        // Only for the seat it was offered to: its person back with the token it was given
        // (a token is unguessable and said only to it), never whoever has the name now.
        if (resumedFrom == 0 || resumedFrom != t.toToken || !t.receivers.empty()) continue;
        t.toToken = member.token;  // the seat's token from now on
      }
      // Already offered: an offer made between its join and this call (ids are never reused)
      // reached it then; a second one would reset what it may have asked already.
      if (t.receivers.count(member.id)) continue;
      Receive& r = t.receivers[member.id];
      r = Receive{};
      r.receiver = member;
      queue(out, member.link, t.offer);
    }
  }
  flush(out);
}

void FileHub::left(std::uint32_t participantId) {
  Sends out;
  {
    std::lock_guard lock(m_mutex);
    m_offerBuckets.erase(participantId);
    if (m_left.insert(participantId).second) {
      m_leftOrder.push_back(participantId);
      if (m_leftOrder.size() > kRecentlyLeft) m_left.erase(m_leftOrder.front()), m_leftOrder.pop_front();
    }
    for (auto it = m_transfers.begin(); it != m_transfers.end();) {
      Transfer& t = it->second;
      if (t.sender.id == participantId) {
        for (auto& [rid, r] : t.receivers)
          if (!r.finished)
            queue(out, r.receiver.link,
                  status(it->first, participantId, wire::FileStatusCode::Cancelled, t.sender.name + " left"));
        it = m_transfers.erase(it);
        continue;
      }
      auto rit = t.receivers.find(participantId);
      if (rit != t.receivers.end()) {
        const bool wasFetching = rit->second.fetching && !rit->second.finished;
        const std::string who = rit->second.receiver.name;
        t.receivers.erase(rit);
        if (wasFetching)
          queue(out, t.sender.link, status(it->first, participantId, wire::FileStatusCode::Failed, who + ": left"));
        // A one-person offer whose person left stays for its seat's reconnect (its token).
        if (t.offer.to.empty() || !t.receivers.empty()) {
          auto next = std::next(it);
          if (!t.offer.to.empty()) closeIfFinishedLocked(it, out);
          it = next;
          continue;
        }
      }
      ++it;
    }
  }
  flush(out);
}

FileHubStats FileHub::stats() const {
  std::lock_guard lock(m_mutex);
  FileHubStats s = m_stats;
  s.openOffers = m_transfers.size();
  s.piecesInFlight = 0;
  for (const auto& [id, t] : m_transfers)
    for (const auto& [rid, r] : t.receivers) s.piecesInFlight += r.asked.size();
  return s;
}

}  // namespace huddle::net
