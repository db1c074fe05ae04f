#include "net/chat_hub.h"

#include <algorithm>
#include <random>

#include "net/base/clock.h"
#include "net/base/log.h"
#include "net/base/log_throttle.h"
#include "net/base/utf8.h"

namespace huddle::net {

namespace {
constexpr const char* kTag = "net/chat";
}

// One connection's protocol state. The decoder and rate counters belong to the peer's
// reader thread; the fields marked (hub) are guarded by ChatHub::m_mutex.
struct ChatHub::Peer {
  Peer(PeerId i, std::shared_ptr<PeerLink> l, std::int64_t nowUs)
      : id(i), link(std::move(l)), guard(&wire::chatPortPayloadLimit, nowUs) {}

  const PeerId id;
  const std::shared_ptr<PeerLink> link;
  PeerGuard guard;
  std::atomic<bool> stopped{false};  // closing: ignore anything else it sent

  // Reader thread only: token bucket for chat.
  double chatTokens = 0;
  std::int64_t tokensUpdatedUs = 0;
  std::int64_t lastRateNoticeUs = 0;

  // (hub)
  PeerState state = PeerState::AwaitHello;
  std::uint32_t participantId = 0;
  std::string name;
  std::uint8_t flags = 0;
  std::uint64_t token = 0;
  wire::Hello hello;              // AwaitProof: what it asked for
  std::uint32_t keyGeneration = 0;  // AwaitProof: which room password its challenge was for
  std::int64_t authFailedAtUs = 0;  // a failed proof is answered at this time + the delay
};

ChatHub::ChatHub(ChatHubConfig config) : m_config(std::move(config)) {
  std::random_device rd;
  m_sessionId = (std::uint64_t(rd()) << 32 | rd()) | 1;
}
ChatHub::~ChatHub() = default;

std::shared_ptr<ChatHub::Peer> ChatHub::find(PeerId id) const {
  std::lock_guard lock(m_mutex);
  auto it = m_peers.find(id);
  return it == m_peers.end() ? nullptr : it->second;
}

PeerId ChatHub::attach(std::shared_ptr<PeerLink> link, std::int64_t nowUs) {
  std::lock_guard lock(m_mutex);
  const PendingVerdict verdict = pendingVerdict(
      m_peers, [](const Peer& p) { return p.state == PeerState::AwaitHello || p.state == PeerState::AwaitProof; },
      link->ipv4(), nowUs, m_config.guard);
  if (verdict.evict) dropPeer(*m_peers.at(verdict.evict), wire::Reason::Evicted, "oldest unfinished handshake, for a newcomer");
  PeerId id = m_nextPeerId++;
  auto peer = std::make_shared<Peer>(id, std::move(link), nowUs);
  peer->chatTokens = m_config.chatBurst;
  peer->tokensUpdatedUs = nowUs;
  if (verdict.refuse) dropPeer(*peer, wire::Reason::Busy, "too many unfinished handshakes");
  m_peers.emplace(id, std::move(peer));
  return id;
}

void ChatHub::dropPeer(Peer& peer, wire::Reason reason, const std::string& detail) {
  std::string note;
  if (m_logThrottle.allow(base::LogThrottle::key(peer.link->ipv4(), base::LogThrottle::Drop, unsigned(reason)), note))
    HLOG_WARN(kTag, "drop conn=#%llu peer=%s name=%s reason=%s detail=\"%s\"%s", static_cast<unsigned long long>(peer.id),
              peer.link->address().c_str(), peer.name.empty() ? "-" : peer.name.c_str(), wire::reasonName(reason),
              detail.c_str(), note.c_str());
  peer.stopped = true;
  peer.link->close(reason, detail);
}

void ChatHub::reject(Peer& peer, wire::RejectCode code, const std::string& text) {
  std::string note;
  if (m_logThrottle.allow(base::LogThrottle::key(peer.link->ipv4(), base::LogThrottle::Reject, unsigned(code)), note))
    HLOG_INFO(kTag, "reject conn=#%llu peer=%s code=%u: %s%s", static_cast<unsigned long long>(peer.id),
              peer.link->address().c_str(), static_cast<unsigned>(code), text.c_str(), note.c_str());
  wire::Reject r;
  r.code = code;
  r.text = text;
  peer.stopped = true;
  peer.link->sendFinal(wire::encodeFrame(r), wire::Reason::Rejected, text);
}

void ChatHub::receive(PeerId id, std::span<const std::uint8_t> bytes, std::int64_t nowUs) {
  std::shared_ptr<Peer> peer = find(id);
  if (!peer || peer->stopped) return;
  wire::Reason reason = wire::Reason::None;
  std::string detail;
  auto onFrame = [&](const wire::Frame& frame) {
    handleFrame(peer, frame, nowUs);
    return !peer->stopped.load();
  };
  if (!peer->guard.feed(bytes, nowUs, m_config.guard, onFrame, reason, detail)) dropPeer(*peer, reason, detail);
  std::vector<std::uint32_t> leaves;
  {
    std::lock_guard lock(m_mutex);
    leaves.swap(m_pendingLeaves);
  }
  for (std::uint32_t participant : leaves) m_config.onLeave(participant);
}

void ChatHub::handleFrame(const std::shared_ptr<Peer>& peer, const wire::Frame& frame, std::int64_t nowUs) {
  auto type = static_cast<wire::MsgType>(frame.type);
  PeerState state;
  {
    std::lock_guard lock(m_mutex);
    state = peer->state;
  }
  if (state == PeerState::Closed || state == PeerState::Removed) return;
  if (state == PeerState::AwaitHello) {
    if (type != wire::MsgType::Hello) return dropPeer(*peer, wire::Reason::ProtoState, "expected Hello first");
    return handleHello(peer, frame);
  }
  if (state == PeerState::AwaitProof) {
    if (type != wire::MsgType::AuthProof) return dropPeer(*peer, wire::Reason::ProtoState, "expected the password proof");
    return handleProof(peer, frame, nowUs);
  }
  switch (type) {
    case wire::MsgType::Say:
    case wire::MsgType::PrivateSay: {
      std::string to, text;
      if (type == wire::MsgType::Say) {
        wire::Say m;
        if (!wire::decodePayload(frame.payload, m)) return dropPeer(*peer, wire::Reason::ProtoMalformed, "bad Say");
        text = std::move(m.text);
      } else {
        wire::PrivateSay m;
        if (!wire::decodePayload(frame.payload, m)) return dropPeer(*peer, wire::Reason::ProtoMalformed, "bad PrivateSay");
        to = std::move(m.to);
        text = std::move(m.text);
      }
      if (!base::isValidUtf8(text) || !base::isValidUtf8(to))
        return dropPeer(*peer, wire::Reason::ChatEncoding, "text is not valid UTF-8");
      if (base::hasForbiddenControls(text, true) || base::hasForbiddenControls(to, false))
        return dropPeer(*peer, wire::Reason::ChatEncoding, "text holds control characters");
      // Token bucket: honest bursts pass, sustained spam is dropped with a notice.
      double elapsed = static_cast<double>(nowUs - peer->tokensUpdatedUs) / 1e6;
      peer->tokensUpdatedUs = nowUs;
      peer->chatTokens = std::min(m_config.chatBurst, peer->chatTokens + elapsed * m_config.chatRatePerSec);
      if (peer->chatTokens < 1.0) {
        if (nowUs - peer->lastRateNoticeUs > 1'000'000) {
          peer->lastRateNoticeUs = nowUs;
          wire::Notice n;
          n.text = "You are sending too fast: some messages were not delivered.";
          peer->link->send(wire::encodeFrame(n));
        }
        return;
      }
      peer->chatTokens -= 1.0;
      if (text.empty()) return;
      return handleSay(peer, to, text);
    }
    case wire::MsgType::Ping: {
      wire::Ping ping;
      if (!wire::decodePayload(frame.payload, ping)) return dropPeer(*peer, wire::Reason::ProtoMalformed, "bad Ping");
      peer->link->send(wire::pongFor(ping));
      return;
    }
    case wire::MsgType::Pong:
      return;  // liveness is already recorded by receive()
    case wire::MsgType::Bye:
      peer->stopped = true;
      peer->link->closeAfterFlush(wire::Reason::IoEof, "left");
      return;
    default:
      return dropPeer(*peer, wire::Reason::ProtoState, "message type " + std::to_string(frame.type) + " not expected from a client");
  }
}

std::string ChatHub::uniqueNameLocked(const std::string& wanted) const {
  auto taken = [&](const std::string& n) {
    for (const auto& [id, p] : m_peers)
      if (p->state == PeerState::Joined && p->name == n) return true;
    return false;
  };
  if (!taken(wanted)) return wanted;
  for (int i = 2;; ++i) {
    std::string suffix = "_" + std::to_string(i);
    std::string base = wanted;
    // Keep within the name limit, cutting only at a UTF-8 character boundary.
    while (base.size() + suffix.size() > wire::kMaxNameBytes) {
      base.pop_back();
      while (!base.empty() && (static_cast<unsigned char>(base.back()) & 0xC0) == 0x80) base.pop_back();
      if (!base.empty() && static_cast<unsigned char>(base.back()) >= 0xC0) base.pop_back();
    }
    if (!taken(base + suffix)) return base + suffix;
  }
}

void ChatHub::handleHello(const std::shared_ptr<Peer>& peer, const wire::Frame& frame) {
  wire::Hello hello;
  if (!wire::decodePayload(frame.payload, hello) && hello.magic != wire::kMagic)
    return dropPeer(*peer, wire::Reason::ProtoMalformed, "not a Huddle client (bad magic)");
  if (hello.version != wire::kProtocolVersion)
    return reject(*peer, wire::RejectCode::VersionMismatch,
                  "host speaks protocol " + std::to_string(wire::kProtocolVersion) + ", client speaks " +
                      std::to_string(hello.version));
  if (!wire::decodePayload(frame.payload, hello)) return dropPeer(*peer, wire::Reason::ProtoMalformed, "bad Hello");
  if (hello.port != wire::PortKind::Chat) return reject(*peer, wire::RejectCode::BadHello, "this is the chat port");
  if (std::string why = wire::validateName(hello.name); !why.empty())
    return reject(*peer, wire::RejectCode::BadName, "invalid name: " + why);

  std::lock_guard lock(m_mutex);
  const bool isHost = m_config.hostToken != 0 && hello.token == m_config.hostToken;
  if (!isHost && m_bannedIpv4.count(peer->link->ipv4()))
    return reject(*peer, wire::RejectCode::Banned, "the host has banned you from this session");
  // A participant still seated here who reconnects shows the token only it was told (over
  // TLS): that proves membership, so it is let back in even if the password changed since.
  if (!isHost && m_config.passwordRequired && !seatedTokenLocked(hello.token)) {
    const std::int64_t now = base::monoUs();
    if (auto it = m_lockouts.find(peer->link->ipv4()); it != m_lockouts.end() && it->second.lockedUntilUs > now)
      return reject(*peer, wire::RejectCode::LockedOut,
                    "too many wrong passwords from your address; try again in " +
                        std::to_string((it->second.lockedUntilUs - now) / 1'000'000 + 1) + " s");
    peer->hello = hello;
    peer->keyGeneration = m_keyGeneration;
    peer->state = PeerState::AwaitProof;
    wire::AuthChallenge c;
    c.ops = m_config.kdf.ops;
    c.memBytes = m_config.kdf.memBytes;
    c.salt = m_config.kdf.salt;
    peer->link->send(wire::encodeFrame(c));
    return;
  }
  admitLocked(peer, hello);
}

void ChatHub::handleProof(const std::shared_ptr<Peer>& peer, const wire::Frame& frame, std::int64_t nowUs) {
  wire::AuthProofMsg m;
  if (!wire::decodePayload(frame.payload, m)) return dropPeer(*peer, wire::Reason::ProtoMalformed, "bad password proof");
  // The proof is bound to this TLS session: a replayed or relayed one does not match.
  std::array<std::uint8_t, 32> exporter{};
  // Without TLS there is no session to bind to, and a proof could be replayed: never accept one.
  const bool bound = peer->link->exporter(kAuthExporterLabel, exporter);
  std::lock_guard lock(m_mutex);
  // Challenged for a password the host has replaced since: not a wrong guess, not counted.
  if (peer->keyGeneration != m_keyGeneration)
    return reject(*peer, wire::RejectCode::AuthFailed, "the room password changed just now; ask the host for the new one");
  // An address locked out meanwhile (proofs sent in parallel) gets no more guesses checked.
  auto lockout = m_lockouts.find(peer->link->ipv4());
  const bool locked = lockout != m_lockouts.end() && lockout->second.lockedUntilUs > base::monoUs();
  const bool ok = bound && !locked && proofsEqual(m.proof, authProof(m_config.roomKey, exporter, peer->hello.name));
  if (ok) {
    m_lockouts.erase(peer->link->ipv4());
    admitLocked(peer, peer->hello);
    return;
  }
  // Bounded memory however many addresses fail: forget those not locked out right now, and
  // with the table still full of live lockouts, do not count this failure.
  if (lockout == m_lockouts.end()) {
    if (m_lockouts.size() >= m_config.maxLockoutEntries) {
      const std::int64_t now = base::monoUs();
      std::erase_if(m_lockouts, [&](const auto& entry) { return entry.second.lockedUntilUs <= now; });
    }
    if (m_lockouts.size() < m_config.maxLockoutEntries) lockout = m_lockouts.emplace(peer->link->ipv4(), Lockout{}).first;
  }
  // Wrong: answered by tick() after the fixed delay, the same for every kind of failure.
  if (lockout != m_lockouts.end() && ++lockout->second.failures >= m_config.maxAuthFailures) {
    Lockout& l = lockout->second;
    l.nextLockUs = l.nextLockUs ? std::min(l.nextLockUs * 2, m_config.maxLockoutUs) : m_config.lockoutUs;
    l.lockedUntilUs = base::monoUs() + l.nextLockUs;
    l.failures = 0;
    HLOG_WARN(kTag, "lockout peer=%s for %lld s after repeated wrong passwords", peer->link->address().c_str(),
              static_cast<long long>(l.nextLockUs / 1'000'000));
  }
  std::string note;
  if (m_logThrottle.allow(base::LogThrottle::key(peer->link->ipv4(), base::LogThrottle::WrongPassword), note))
    HLOG_INFO(kTag, "wrong password conn=#%llu peer=%s%s", static_cast<unsigned long long>(peer->id),
              peer->link->address().c_str(), note.c_str());
  if (nowUs - m_failureWindowStartUs >= wire::kBusyFailureWindowUs) {
    m_failureWindowStartUs = nowUs;
    m_failuresInWindow = 0;
  }
  const bool underAttack = ++m_failuresInWindow > m_config.busyFailuresPerMinute;
  peer->authFailedAtUs = nowUs + (underAttack ? m_config.busyFailureExtraDelayUs : 0);
  peer->stopped = true;  // nothing more it says matters
}

void ChatHub::admitLocked(const std::shared_ptr<Peer>& peer, const wire::Hello& hello) {
  // A participant reconnecting (its old connection may not look dead yet): the old one goes,
  // so the name and seat are free for the new one. Only after any password proof.
  const bool isHost = m_config.hostToken != 0 && hello.token == m_config.hostToken;
  if (!isHost && hello.token != 0) {
    for (const auto& [id, p] : m_peers) {
      if (p == peer || p->state != PeerState::Joined || p->token != hello.token) continue;
      HLOG_INFO(kTag, "resume conn=#%llu replaces conn=#%llu name=%s", static_cast<unsigned long long>(peer->id),
                static_cast<unsigned long long>(p->id), p->name.c_str());
      p->stopped = true;
      p->link->close(wire::Reason::Shutdown, "replaced by a reconnect");
      if (const std::uint32_t left = leaveRoomLocked(*p, wire::Reason::Shutdown); left && m_config.onLeave)
        m_pendingLeaves.push_back(left);
      break;
    }
  }
  if (m_shuttingDown) return reject(*peer, wire::RejectCode::ShuttingDown, "the host is ending the session");
  std::size_t joined = 0;
  for (const auto& [id, p] : m_peers) joined += p->state == PeerState::Joined;
  if (joined >= m_config.maxParticipants)
    return reject(*peer, wire::RejectCode::SessionFull,
                  "the session is full (" + std::to_string(m_config.maxParticipants) + " participants)");
  peer->state = PeerState::Joined;
  peer->guard.setHandshakeDone();  // we are on this peer's reader thread
  peer->participantId = m_nextParticipantId++;
  peer->name = uniqueNameLocked(hello.name);
  peer->flags = (m_config.hostToken != 0 && hello.token == m_config.hostToken) ? wire::UserInfo::kFlagHost : 0;
  peer->token = randomToken();  // 64 unguessable bits: it lets a seated participant back in

  wire::Welcome welcome;
  welcome.participantId = peer->participantId;
  welcome.name = peer->name;
  welcome.hostName = m_config.hostName;
  welcome.serverTimeUs = base::wallUs();
  welcome.token = peer->token;
  welcome.screenPort = m_screenPort;
  welcome.sessionId = m_sessionId;
  peer->link->send(wire::encodeFrame(welcome));
  // History first, then the live join event: the newcomer sees one continuous order.
  for (wire::ChatEvent past : m_history) {
    past.flags |= wire::ChatEvent::kFlagHistory;
    peer->link->send(wire::encodeFrame(past));
  }
  HLOG_INFO(kTag, "join conn=#%llu peer=%s name=%s", static_cast<unsigned long long>(peer->id),
            peer->link->address().c_str(), peer->name.c_str());
  wire::ChatEvent join;
  join.kind = wire::ChatKind::Join;
  join.fromId = peer->participantId;
  join.from = peer->name;
  broadcastLocked(std::move(join));
  broadcastUsersLocked();
}

void ChatHub::handleSay(const std::shared_ptr<Peer>& peer, const std::string& to, const std::string& text) {
  std::lock_guard lock(m_mutex);
  if (peer->state != PeerState::Joined) return;
  wire::ChatEvent ev;
  ev.fromId = peer->participantId;
  ev.from = peer->name;
  ev.text = text;
  if (to.empty()) {
    ev.kind = wire::ChatKind::Public;
    broadcastLocked(std::move(ev));
    return;
  }
  std::shared_ptr<Peer> target;
  for (const auto& [id, p] : m_peers)
    if (p->state == PeerState::Joined && p->name == to) target = p;
  if (!target) {
    wire::Notice n;
    n.text = "No user named \"" + to + "\" is here.";
    peer->link->send(wire::encodeFrame(n));
    return;
  }
  // Private messages take a place in the one order but are not kept in history.
  ev.kind = wire::ChatKind::Private;
  ev.to = target->name;
  ev.seq = m_nextSeq++;
  ev.timeUs = base::wallUs();
  base::Bytes frame = wire::encodeFrame(ev);
  target->link->send(frame);
  if (target != peer) peer->link->send(frame);
  ++m_stats.messagesRelayed;
}

bool ChatHub::loadHistory(std::string& warning, std::string& error) {
  if (m_config.historyPath.empty()) return true;
  std::vector<wire::ChatEvent> events;
  if (!m_historyLog.open(m_config.historyPath, events, warning, error)) return false;
  std::lock_guard lock(m_mutex);
  for (auto& ev : events) {
    m_nextSeq = std::max(m_nextSeq, ev.seq + 1);  // one order across restarts
    m_history.push_back(std::move(ev));
    while (m_history.size() > m_config.historyMessages) m_history.pop_front();
  }
  return true;
}

void ChatHub::broadcastLocked(wire::ChatEvent event) {
  event.seq = m_nextSeq++;
  event.timeUs = base::wallUs();
  base::Bytes frame = wire::encodeFrame(event);  // encoded once, shared by every peer
  for (const auto& [id, p] : m_peers)
    if (p->state == PeerState::Joined) p->link->send(frame);
  ++m_stats.messagesRelayed;
  if (!m_config.historyPath.empty() && !m_historyLog.append(event))
    HLOG_WARN(kTag, "cannot append to the chat history %s", m_config.historyPath.c_str());
  m_history.push_back(std::move(event));
  while (m_history.size() > m_config.historyMessages) m_history.pop_front();
}

std::vector<wire::UserInfo> ChatHub::usersLocked() const {
  std::vector<wire::UserInfo> out;
  for (const auto& [id, p] : m_peers)
    if (p->state == PeerState::Joined) out.push_back({p->participantId, p->name, p->flags});
  return out;
}

void ChatHub::broadcastUsersLocked() {
  wire::UserList list;
  list.users = usersLocked();
  base::Bytes frame = wire::encodeFrame(list);
  for (const auto& [id, p] : m_peers)
    if (p->state == PeerState::Joined) p->link->send(frame);
}

void ChatHub::detach(PeerId id, wire::Reason reason, const std::string& detail) {
  std::unique_lock lock(m_mutex);
  auto it = m_peers.find(id);
  if (it == m_peers.end()) return;
  std::shared_ptr<Peer> peer = it->second;
  m_peers.erase(it);
  ++m_stats.closedByReason[static_cast<std::size_t>(reason)];
  std::string note;
  if (m_logThrottle.allow(base::LogThrottle::key(peer->link->ipv4(), base::LogThrottle::Closed, unsigned(reason)), note))
    HLOG_INFO(kTag, "closed conn=#%llu peer=%s name=%s reason=%s detail=\"%s\"%s", static_cast<unsigned long long>(id),
              peer->link->address().c_str(), peer->name.empty() ? "-" : peer->name.c_str(), wire::reasonName(reason),
              detail.c_str(), note.c_str());
  const std::uint32_t left = leaveRoomLocked(*peer, reason);
  peer->state = PeerState::Closed;
  lock.unlock();
  if (left && m_config.onLeave) m_config.onLeave(left);
}

std::uint32_t ChatHub::leaveRoomLocked(Peer& peer, wire::Reason reason) {
  if (peer.state != PeerState::Joined) return 0;
  peer.state = PeerState::Removed;
  if (!m_shuttingDown) {
    wire::ChatEvent leave;
    leave.kind = wire::ChatKind::Leave;
    leave.fromId = peer.participantId;
    leave.from = peer.name;
    if (reason == wire::Reason::Kicked) leave.text = "removed by the host";
    else if (reason != wire::Reason::IoEof) leave.text = wire::reasonName(reason);
    broadcastLocked(std::move(leave));
    broadcastUsersLocked();
  }
  return peer.participantId;
}

void ChatHub::tick(std::int64_t nowUs) {
  std::vector<std::pair<std::shared_ptr<Peer>, wire::Reason>> expired;
  std::vector<std::shared_ptr<Peer>> needPing;
  std::vector<std::shared_ptr<Peer>> authFailed;
  {
    std::lock_guard lock(m_mutex);
    for (const auto& [id, p] : m_peers) {
      if (p->authFailedAtUs && nowUs - p->authFailedAtUs >= m_config.authFailureDelayUs) {
        p->authFailedAtUs = 0;
        authFailed.push_back(p);
      }
      if (p->stopped) continue;
      PeerGuard::Watch w = p->guard.watch(nowUs, p->state == PeerState::Joined, m_config.guard);
      if (w.expired != wire::Reason::None) expired.emplace_back(p, w.expired);
      else if (w.pingDue) needPing.push_back(p);
    }
  }
  for (auto& p : authFailed) {
    wire::Reject r;
    r.code = wire::RejectCode::AuthFailed;
    r.text = "wrong password";
    p->link->sendFinal(wire::encodeFrame(r), wire::Reason::Rejected, r.text);
  }
  for (auto& [p, reason] : expired) dropPeer(*p, reason, "deadline passed");
  for (auto& p : needPing) p->link->send(wire::pingNow(static_cast<std::uint64_t>(nowUs)));
}

void ChatHub::shutdown(const std::string& reason) {
  std::lock_guard lock(m_mutex);
  m_shuttingDown = true;
  wire::SessionEnd end;
  end.reason = reason;
  base::Bytes frame = wire::encodeFrame(end);
  for (const auto& [id, p] : m_peers) {
    if (p->state == PeerState::Joined) p->link->sendFinal(frame, wire::Reason::Shutdown, reason);
    else p->link->closeAfterFlush(wire::Reason::Shutdown, reason);
  }
}

bool ChatHub::kick(const std::string& name, const std::string& why) { return removeByName(name, why, false); }

bool ChatHub::ban(const std::string& name, const std::string& why) { return removeByName(name, why, true); }

bool ChatHub::removeByName(const std::string& name, const std::string& why, bool banAddress) {
  std::uint32_t left = 0;
  {
    std::lock_guard lock(m_mutex);
    for (const auto& [id, p] : m_peers) {
      if (p->state != PeerState::Joined || p->name != name) continue;
      if (p->flags & wire::UserInfo::kFlagHost) return false;  // the host cannot remove itself
      wire::SessionEnd end;
      end.reason = !why.empty() ? why
                   : banAddress ? "You were banned from the session by the host."
                                : "You were removed from the session by the host.";
      p->link->sendFinal(wire::encodeFrame(end), wire::Reason::Kicked, end.reason);
      if (banAddress) m_bannedIpv4.insert(p->link->ipv4());
      HLOG_INFO(kTag, "%s conn=#%llu peer=%s name=%s", banAddress ? "ban" : "kick", static_cast<unsigned long long>(id),
                p->link->address().c_str(), p->name.c_str());
      left = leaveRoomLocked(*p, wire::Reason::Kicked);
      break;
    }
  }
  // Out of the room now, not when its socket finally closes: its screens go too.
  if (left && m_config.onLeave) m_config.onLeave(left);
  return left != 0;
}

void ChatHub::setRoomKey(bool required, const KdfParams& kdf, const RoomKey& key) {
  std::lock_guard lock(m_mutex);
  m_config.passwordRequired = required;
  m_config.kdf = kdf;
  m_config.roomKey = key;
  ++m_keyGeneration;
  HLOG_INFO(kTag, "room password %s", required ? "changed" : "removed");
}

void ChatHub::setSharing(std::uint32_t participantId, bool sharing) {
  std::lock_guard lock(m_mutex);
  for (const auto& [id, p] : m_peers) {
    if (p->participantId != participantId || p->state != PeerState::Joined) continue;
    std::uint8_t flags = sharing ? (p->flags | wire::UserInfo::kFlagSharing) : (p->flags & ~wire::UserInfo::kFlagSharing);
    if (flags == p->flags) return;
    p->flags = flags;
    broadcastUsersLocked();
    return;
  }
}

void ChatHub::setScreenPort(std::uint16_t port) {
  std::lock_guard lock(m_mutex);
  m_screenPort = port;
}

bool ChatHub::seatedTokenLocked(std::uint64_t token) const {
  if (token == 0) return false;
  for (const auto& [id, p] : m_peers)
    if (p->state == PeerState::Joined && p->token == token) return true;
  return false;
}

bool ChatHub::findByToken(std::uint64_t token, std::uint32_t& participantId, std::string& name) const {
  std::lock_guard lock(m_mutex);
  for (const auto& [id, p] : m_peers) {
    if (p->state == PeerState::Joined && token != 0 && p->token == token) {
      participantId = p->participantId;
      name = p->name;
      return true;
    }
  }
  return false;
}

std::vector<wire::UserInfo> ChatHub::users() const {
  std::lock_guard lock(m_mutex);
  return usersLocked();
}

ChatHubStats ChatHub::stats() const {
  std::lock_guard lock(m_mutex);
  ChatHubStats s = m_stats;
  for (const auto& [id, p] : m_peers) {
    if (p->state == PeerState::Joined) ++s.participants;
    else if (!p->stopped && (p->state == PeerState::AwaitHello || p->state == PeerState::AwaitProof)) ++s.pending;
  }
  return s;
}

}  // namespace huddle::net
