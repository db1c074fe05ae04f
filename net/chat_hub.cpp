#include "net/chat_hub.h"

#include <algorithm>
#include <optional>
#include <random>

#include "net/base/clock.h"
#include "net/base/log.h"
#include "net/base/utf8.h"
#include "net/screen_hub.h"

namespace huddle::net {

namespace {
constexpr const char* kTag = "net/chat";
}

// One connection's protocol state. The token bucket belongs to the peer's reader thread; the
// fields marked (hub) are guarded by the hub's lock.
struct ChatPeer : HubPeer {
  // Removed: kicked or banned; out of the room at once, its connection still flushing.
  enum class State { AwaitHello, AwaitProof, Joined, Removed, Closed };
  using HubPeer::HubPeer;

  // Reader thread only: token bucket for chat.
  double chatTokens = 0;
  std::int64_t tokensUpdatedUs = 0;
  std::int64_t lastRateNoticeUs = 0;

  // (hub)
  State state = State::AwaitHello;
  std::uint32_t participantId = 0;
  std::uint8_t flags = 0;
  std::uint64_t token = 0;
  std::optional<SeatKey> seatKey;   // its screen logins prove this (none without TLS)
  std::optional<VoiceKeys> voiceKeys;  // its voice datagrams are sealed with these (none without TLS)
  wire::Hello hello;                // AwaitProof: what it asked for
  std::uint32_t keyGeneration = 0;  // AwaitProof: which room password its challenge was for
  std::int64_t authFailedAtUs = 0;  // a failed proof is answered at this time + the delay
  std::int64_t authOkAtUs = 0;      // a right proof while the global limiter is active: the same
  std::int64_t joinedAtUs = 0;      // Joined: when (monotonic), and its join line's number
  std::uint64_t joinSeq = 0;
};

using State = ChatPeer::State;

template class PeerTable<ChatPeer>;

ChatHub::ChatHub(ChatHubConfig config)
    : PeerTable(kTag, config.guard), m_config(std::move(config)), m_files(m_config.files) {
  std::random_device rd;
  m_sessionId = (std::uint64_t(rd()) << 32 | rd()) | 1;
}
ChatHub::~ChatHub() = default;

// [SECTION] PeerTable's hooks

ChatHub::PeerPtr ChatHub::makePeerLocked(PeerId id, std::shared_ptr<PeerLink> link, std::int64_t nowUs) {
  auto peer = std::make_shared<ChatPeer>(id, std::move(link), &wire::chatPortPayloadLimit, nowUs);
  peer->chatTokens = m_config.chatBurst;
  peer->tokensUpdatedUs = nowUs;
  return peer;
}

bool ChatHub::pendingLocked(const ChatPeer& peer) const {
  return peer.state == State::AwaitHello || peer.state == State::AwaitProof;
}

bool ChatHub::admittedLocked(const ChatPeer& peer) const { return peer.state == State::Joined; }

void ChatHub::detachedLocked(ChatPeer& peer, wire::Reason reason) {
  leaveRoomLocked(peer, reason);
  peer.state = State::Closed;
}

std::int64_t ChatHub::tickLocked(ChatPeer& peer, std::int64_t nowUs) {
  // While the global limiter is active a right proof waits as long as a wrong one would.
  if (peer.authOkAtUs && nowUs - peer.authOkAtUs >= m_config.authFailureDelayUs) {
    peer.authOkAtUs = 0;
    if (peer.state == State::AwaitProof && !peer.stopped) admitLocked(m_peers.at(peer.id), peer.hello);
    return kNoTickDue;
  }
  // A wrong password is answered after the same delay, whatever was wrong. Both wait on a peer
  // not admitted yet, which the table ticks at the busy pace: nothing of ours to add.
  if (!peer.authFailedAtUs || nowUs - peer.authFailedAtUs < m_config.authFailureDelayUs) return kNoTickDue;
  peer.authFailedAtUs = 0;
  wire::Reject r;
  r.code = wire::RejectCode::AuthFailed;
  r.text = "wrong password";
  peer.refused = true;
  sendFinalLocked(peer, std::move(r), wire::Reason::Rejected, "wrong password");
  return kNoTickDue;  // refused: the table ticks it until it is closed
}

// [SECTION] frames (reader thread)

void ChatHub::handleFrame(const PeerPtr& peer, const wire::Frame& frame, std::int64_t nowUs) {
  auto type = static_cast<wire::MsgType>(frame.type);
  State state;
  {
    std::lock_guard lock(m_mutex);
    state = peer->state;
  }
  if (state == State::Closed || state == State::Removed) return;
  if (state == State::AwaitHello) {
    if (type != wire::MsgType::Hello) return drop(*peer, wire::Reason::ProtoState, "expected Hello first");
    return handleHello(peer, frame);
  }
  if (state == State::AwaitProof) {
    if (type != wire::MsgType::AuthProof) return drop(*peer, wire::Reason::ProtoState, "expected the password proof");
    return handleProof(peer, frame, nowUs);
  }
  if (handleCommon(*peer, frame)) return;
  if (type == wire::MsgType::VoiceDatagram) {
    wire::VoiceDatagram v;
    if (!wire::decodePayload(frame.payload, v)) return drop(*peer, wire::Reason::ProtoMalformed, "bad VoiceDatagram");
    std::uint32_t id = 0;
    {
      std::lock_guard lock(m_mutex);
      id = peer->participantId;
    }
    // Checked by the voice relay like any datagram (its key, its counter, its rate).
    if (m_config.onVoice) m_config.onVoice(id, std::move(v.datagram));
    return;
  }
  if (FileHub::isFileMessage(frame.type)) return handleFile(peer, frame, nowUs);
  if (type != wire::MsgType::Say && type != wire::MsgType::PrivateSay) return unexpected(*peer, frame);
  std::string to, text;
  if (type == wire::MsgType::Say) {
    wire::Say m;
    if (!wire::decodePayload(frame.payload, m)) return drop(*peer, wire::Reason::ProtoMalformed, "bad Say");
    text = std::move(m.text);
  } else {
    wire::PrivateSay m;
    if (!wire::decodePayload(frame.payload, m)) return drop(*peer, wire::Reason::ProtoMalformed, "bad PrivateSay");
    to = std::move(m.to);
    text = std::move(m.text);
  }
  if (!base::isValidUtf8(text) || !base::isValidUtf8(to))
    return drop(*peer, wire::Reason::ChatEncoding, "text is not valid UTF-8");
  if (base::hasForbiddenControls(text, true) || base::hasForbiddenControls(to, false))
    return drop(*peer, wire::Reason::ChatEncoding, "text holds control characters");
  // Token bucket: honest bursts pass, sustained spam is dropped with a notice.
  double elapsed = static_cast<double>(nowUs - peer->tokensUpdatedUs) / 1e6;
  peer->tokensUpdatedUs = nowUs;
  peer->chatTokens = std::min(m_config.chatBurst, peer->chatTokens + elapsed * m_config.chatRatePerSec);
  if (peer->chatTokens < 1.0) {
    if (nowUs - peer->lastRateNoticeUs > wire::kRateNoticeIntervalUs) {
      peer->lastRateNoticeUs = nowUs;
      wire::Notice n;
      n.text = "You are sending too fast: some messages were not delivered.";
      peer->link->send(wire::encodeFrame(n));  // no lock held: straight to the link
    }
    return;
  }
  peer->chatTokens -= 1.0;
  if (text.empty()) return;
  handleSay(peer, to, text);
}

void ChatHub::handleFile(const PeerPtr& peer, const wire::Frame& frame, std::int64_t nowUs) {
  FileHub::Member from;
  std::vector<FileHub::Member> room;
  {
    std::lock_guard lock(m_mutex);
    if (peer->state != State::Joined) return;
    from = fileMemberLocked(*peer);
    // Only an offer needs to know who is here.
    if (static_cast<wire::MsgType>(frame.type) == wire::MsgType::FileOffer)
      for (const auto& [id, p] : m_peers)
        if (p->state == State::Joined) room.push_back(fileMemberLocked(*p));
  }
  if (std::string broken = m_files.handle(from, frame, room, nowUs); !broken.empty())
    drop(*peer, wire::Reason::ProtoState, broken);
}

FileHub::Member ChatHub::fileMemberLocked(const ChatPeer& peer) const {
  // Its seat: the token its Welcome carried (the host's own user: the host token it shows).
  const bool host = (peer.flags & wire::UserInfo::kFlagHost) != 0;
  return {peer.participantId, peer.name, peer.link, host ? m_config.hostToken : peer.token};
}

std::string ChatHub::uniqueNameLocked(const std::string& wanted) const {
  auto taken = [&](const std::string& n) {
    for (const auto& [id, p] : m_peers)
      if (p->state == State::Joined && p->name == n) return true;
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

void ChatHub::handleHello(const PeerPtr& peer, const wire::Frame& frame) {
  wire::Hello hello;
  if (!readHello(*peer, frame, wire::PortKind::Chat, hello)) return;
  if (std::string why = wire::validateName(hello.name); !why.empty())
    return reject(*peer, wire::RejectCode::BadName, "invalid name: " + why);
  // Derived outside our lock (it takes the connection's TLS lock); kept once admitted.
  SeatKey seat{};
  const bool secured = peer->link->exporter(kSeatExporterLabel, seat);
  std::array<std::uint8_t, 64> voiceExporter{};
  const bool voiceSecured = secured && peer->link->exporter(kVoiceExporterLabel, voiceExporter);

  Section section(*this);
  if (secured) peer->seatKey = seat;
  if (voiceSecured) peer->voiceKeys = voiceKeysFromExporter(voiceExporter);
  const bool isHost = m_config.hostToken != 0 && hello.token == m_config.hostToken;
  if (!isHost && m_bannedIpv4.count(peer->link->ipv4()))
    return rejectLocked(*peer, wire::RejectCode::Banned, "the host has banned you from this session");
  // A participant still seated here who reconnects shows the token only it was told (over
  // TLS): that proves membership, so it is let back in even if the password changed since.
  if (!isHost && m_config.passwordRequired && !seatedTokenLocked(hello.token)) {
    const std::int64_t now = m_config.monoClock();
    if (auto it = m_lockouts.find(peer->link->ipv4()); it != m_lockouts.end() && it->second.lockedUntilUs > now)
      return rejectLocked(*peer, wire::RejectCode::LockedOut,
                          "too many wrong passwords from your address; try again in " +
                              std::to_string((it->second.lockedUntilUs - now) / 1'000'000 + 1) + " s");
    peer->hello = hello;
    peer->keyGeneration = m_keyGeneration;
    peer->state = State::AwaitProof;
    wire::AuthChallenge c;
    c.ops = m_config.kdf.ops;
    c.memBytes = m_config.kdf.memBytes;
    c.salt = m_config.kdf.salt;
    sendLocked(peer->link, std::move(c));
    return;
  }
  admitLocked(peer, hello);
}

void ChatHub::handleProof(const PeerPtr& peer, const wire::Frame& frame, std::int64_t nowUs) {
  wire::AuthProofMsg m;
  if (!wire::decodePayload(frame.payload, m)) return drop(*peer, wire::Reason::ProtoMalformed, "bad password proof");
  // The proof is bound to this TLS session: a replayed or relayed one does not match.
  std::array<std::uint8_t, 32> exporter{};
  // Without TLS there is no session to bind to, and a proof could be replayed: never accept one.
  const bool bound = peer->link->exporter(kAuthExporterLabel, exporter);
  Section section(*this);
  // Challenged for a password the host has replaced since: not a wrong guess, not counted.
  if (peer->keyGeneration != m_keyGeneration)
    return rejectLocked(*peer, wire::RejectCode::AuthFailed,
                        "the room password changed just now; ask the host for the new one");
  // An address locked out meanwhile (proofs sent in parallel) gets no more guesses checked.
  auto lockout = m_lockouts.find(peer->link->ipv4());
  const bool locked = lockout != m_lockouts.end() && lockout->second.lockedUntilUs > m_config.monoClock();
  const bool ok = bound && !locked && proofsEqual(m.proof, authProof(m_config.roomKey, exporter, peer->hello.name));
  // Many failures from everywhere (a distributed guesser): the global limiter is active.
  if (nowUs - m_failureWindowStartUs >= wire::kBusyFailureWindowUs) {
    m_failureWindowStartUs = nowUs;
    m_failuresInWindow = 0;
  }
  if (ok) {
    m_lockouts.erase(peer->link->ipv4());
    // Under the limiter a right proof is answered as late as a wrong one (by tick()), so a
    // guesser cannot learn it was right sooner than it learns a failure.
    if (m_failuresInWindow > m_config.busyFailuresPerMinute) {
      peer->authOkAtUs = nowUs + m_config.busyFailureExtraDelayUs;
      return;
    }
    admitLocked(peer, peer->hello);
    return;
  }
  // Bounded memory however many addresses fail: forget those not locked out right now; with
  // the table still full of live lockouts, the entry failed longest ago makes room, so a
  // failure from a new address is always counted.
  if (lockout == m_lockouts.end()) {
    if (m_lockouts.size() >= m_config.maxLockoutEntries) {
      const std::int64_t now = m_config.monoClock();
      std::erase_if(m_lockouts, [&](const auto& entry) { return entry.second.lockedUntilUs <= now; });
    }
    if (!m_lockouts.empty() && m_lockouts.size() >= m_config.maxLockoutEntries)
      m_lockouts.erase(std::min_element(m_lockouts.begin(), m_lockouts.end(), [](const auto& a, const auto& b) {
        return a.second.lastFailure < b.second.lastFailure;
      }));
    lockout = m_lockouts.emplace(peer->link->ipv4(), Lockout{}).first;
  }
  lockout->second.lastFailure = ++m_failureSerial;
  // Wrong: answered by tick() after the fixed delay, the same for every kind of failure.
  if (++lockout->second.failures >= m_config.maxAuthFailures) {
    Lockout& l = lockout->second;
    l.nextLockUs = l.nextLockUs ? std::min(l.nextLockUs * 2, m_config.maxLockoutUs) : m_config.lockoutUs;
    l.lockedUntilUs = m_config.monoClock() + l.nextLockUs;
    l.failures = 0;
    laterLocked([link = peer->link, seconds = l.nextLockUs / 1'000'000] {
      HLOG_WARN(kTag, "lockout peer=%s for %lld s after repeated wrong passwords", link->address().c_str(),
                static_cast<long long>(seconds));
    });
  }
  laterLocked([this, link = peer->link, id = peer->id] {
    std::string note;
    if (logAllowed(link->ipv4(), base::LogThrottle::WrongPassword, 0, note))
      HLOG_INFO(kTag, "wrong password conn=#%llu peer=%s%s", static_cast<unsigned long long>(id), link->address().c_str(),
                note.c_str());
  });
  const bool underAttack = ++m_failuresInWindow > m_config.busyFailuresPerMinute;
  peer->authFailedAtUs = nowUs + (underAttack ? m_config.busyFailureExtraDelayUs : 0);
  peer->stopped = true;  // nothing more it says matters
}

bool ChatHub::takeJoin(std::map<std::uint64_t, JoinBucket>& buckets, std::uint64_t key, double burst, double perMinute,
                       std::int64_t nowUs) {
  auto refilled = [&](const JoinBucket& b) {
    return std::min(burst, b.tokens + static_cast<double>(nowUs - b.updatedUs) / 60e6 * perMinute);
  };
  auto it = buckets.find(key);
  if (it == buckets.end()) {
    // Bounded memory: forget the buckets that are full again, else the one used longest ago.
    if (buckets.size() >= wire::kMaxJoinRateEntries) std::erase_if(buckets, [&](const auto& e) { return refilled(e.second) >= burst; });
    if (buckets.size() >= wire::kMaxJoinRateEntries)
      buckets.erase(std::min_element(buckets.begin(), buckets.end(),
                                     [](const auto& a, const auto& b) { return a.second.updatedUs < b.second.updatedUs; }));
    it = buckets.emplace(key, JoinBucket{burst, nowUs}).first;
  }
  JoinBucket& b = it->second;
  b.tokens = refilled(b);
  b.updatedUs = nowUs;
  if (b.tokens < 1.0) return false;
  b.tokens -= 1.0;
  return true;
}

void ChatHub::admitLocked(const PeerPtr& peer, const wire::Hello& hello) {
  const bool isHost = m_config.hostToken != 0 && hello.token == m_config.hostToken;
  // Join churn (each join replays the history and adds a line): limited per address, and per
  // seat for a token resuming one, before anything (a refused resume leaves the seat alone).
  const bool resume = !isHost && seatedTokenLocked(hello.token);
  if (!isHost && !m_shuttingDown) {
    const std::int64_t now = m_config.monoClock();
    if (!takeJoin(m_joinsByAddress, peer->link->ipv4(), m_config.joinBurstPerAddress, m_config.joinsPerAddressPerMinute, now) ||
        (resume && !takeJoin(m_joinsBySeat, hello.token, m_config.joinBurstPerSeat, m_config.joinsPerSeatPerMinute, now)))
      return rejectLocked(*peer, wire::RejectCode::LockedOut, "too many joins from your address; try again in a minute");
  }
  // A participant reconnecting (its old connection may not look dead yet): the old one goes,
  // so the name and seat are free for the new one. Only after any password proof.
  if (!isHost && hello.token != 0) {
    for (const auto& [id, p] : m_peers) {
      if (p == peer || p->state != State::Joined || p->token != hello.token) continue;
      laterLocked([newId = peer->id, oldId = p->id, name = p->name] {
        HLOG_INFO(kTag, "resume conn=#%llu replaces conn=#%llu name=%s", static_cast<unsigned long long>(newId),
                  static_cast<unsigned long long>(oldId), name.c_str());
      });
      p->stopped = true;
      laterLocked([link = p->link] { link->close(wire::Reason::Shutdown, "replaced by a reconnect"); });
      leaveRoomLocked(*p, wire::Reason::Shutdown);
      break;
    }
  }
  if (m_shuttingDown) return rejectLocked(*peer, wire::RejectCode::ShuttingDown, "the host is ending the session");
  std::size_t joined = 0;
  for (const auto& [id, p] : m_peers) joined += p->state == State::Joined;
  if (joined >= m_config.maxParticipants)
    return rejectLocked(*peer, wire::RejectCode::SessionFull,
                        "the session is full (" + std::to_string(m_config.maxParticipants) + " participants)");
  peer->state = State::Joined;
  peer->guard.setHandshakeDone();  // its reader reads the next frame with the admitted limits
  peer->participantId = m_nextParticipantId++;
  peer->name = uniqueNameLocked(hello.name);
  peer->flags = isHost ? wire::UserInfo::kFlagHost : 0;
  peer->token = randomToken();  // 64 unguessable bits: it lets a seated participant back in
  // The seat's join budget follows it to its new token.
  if (auto seat = m_joinsBySeat.find(hello.token); resume && seat != m_joinsBySeat.end()) {
    m_joinsBySeat.emplace(peer->token, seat->second);
    m_joinsBySeat.erase(seat);
  }

  wire::Welcome welcome;
  welcome.participantId = peer->participantId;
  welcome.name = peer->name;
  welcome.hostName = m_config.hostName;
  welcome.serverTimeUs = base::wallUs();
  welcome.token = peer->token;
  welcome.screenPort = m_screenPort;
  welcome.sessionId = m_sessionId;
  welcome.voicePort = m_voicePort;
  sendLocked(peer->link, std::move(welcome));
  // History first, then the live join event: the newcomer sees one continuous order.
  if (!m_history.empty()) {
    laterLocked([link = peer->link, past = std::vector(m_history.begin(), m_history.end())] {
      for (const auto& event : past) {
        wire::ChatEvent replay = *event;
        replay.flags |= wire::ChatEvent::kFlagHistory;
        link->send(wire::encodeFrame(replay));
      }
    });
  }
  laterLocked([link = peer->link, id = peer->id, name = peer->name] {
    HLOG_INFO(kTag, "join conn=#%llu peer=%s name=%s", static_cast<unsigned long long>(id), link->address().c_str(),
              name.c_str());
  });
  // Open offers meant for it (a receiver back from a reconnect resumes from them).
  // A token back from its previous connection says which seat it is (files offered to it alone).
  laterLocked([this, member = fileMemberLocked(*peer), resumedFrom = hello.token] { m_files.joined(member, resumedFrom); });
  wire::ChatEvent join;
  join.kind = wire::ChatKind::Join;
  join.fromId = peer->participantId;
  join.from = peer->name;
  peer->joinedAtUs = m_config.monoClock();
  peer->joinSeq = m_nextSeq;
  broadcastLocked(std::move(join));
  broadcastUsersLocked();
}

void ChatHub::handleSay(const PeerPtr& peer, const std::string& to, const std::string& text) {
  Section section(*this);
  if (peer->state != State::Joined) return;
  wire::ChatEvent ev;
  ev.fromId = peer->participantId;
  ev.from = peer->name;
  ev.text = text;
  if (to.empty()) {
    ev.kind = wire::ChatKind::Public;
    broadcastLocked(std::move(ev));
    return;
  }
  std::shared_ptr<ChatPeer> target;
  for (const auto& [id, p] : m_peers)
    if (p->state == State::Joined && p->name == to) target = p;
  if (!target) {
    wire::Notice n;
    n.text = "No user named \"" + to + "\" is here.";
    sendLocked(peer->link, std::move(n));
    return;
  }
  // Private messages take a place in the one order but are not kept in history.
  ev.kind = wire::ChatKind::Private;
  ev.to = target->name;
  ev.seq = m_nextSeq++;
  ev.timeUs = base::wallUs();
  std::vector<std::shared_ptr<PeerLink>> links{target->link};
  if (target != peer) links.push_back(peer->link);
  sendEachLocked(std::move(links), std::move(ev));
  ++m_stats.messagesRelayed;
}

// [SECTION] the room (hub lock held)

bool ChatHub::loadHistory(std::string& warning, std::string& error) {
  if (m_config.historyPath.empty()) return true;
  std::vector<wire::ChatEvent> events;
  if (!m_historyLog.open(m_config.historyPath, m_config.historyMessages, events, warning, error)) return false;
  std::lock_guard lock(m_mutex);
  for (auto& ev : events) {
    m_nextSeq = std::max(m_nextSeq, ev.seq + 1);  // one order across restarts
    m_history.push_back(std::make_shared<const wire::ChatEvent>(std::move(ev)));
    while (m_history.size() > m_config.historyMessages) m_history.pop_front();
  }
  return true;
}

void ChatHub::broadcastLocked(wire::ChatEvent event, bool keep) {
  event.seq = m_nextSeq++;
  event.timeUs = base::wallUs();
  auto shared = std::make_shared<const wire::ChatEvent>(std::move(event));
  ++m_stats.messagesRelayed;
  if (keep) m_history.push_back(shared);
  while (m_history.size() > m_config.historyMessages) m_history.pop_front();
  // Encoded once for everyone; the history file gets events in the same order, since queued
  // steps run one at a time.
  laterLocked([this, shared, keep, links = linksLocked([](const ChatPeer& p) { return p.state == State::Joined; })] {
    base::Bytes frame = wire::encodeFrame(*shared);
    for (const auto& link : links) link->send(frame);
    if (keep && !m_config.historyPath.empty() && !m_historyLog.append(*shared))
      HLOG_WARN(kTag, "cannot append to the chat history %s", m_config.historyPath.c_str());
  });
}

std::vector<wire::UserInfo> ChatHub::usersLocked() const {
  std::vector<wire::UserInfo> out;
  for (const auto& [id, p] : m_peers)
    if (p->state == State::Joined) out.push_back({p->participantId, p->name, p->flags});
  return out;
}

void ChatHub::broadcastUsersLocked() {
  wire::UserList list;
  list.users = usersLocked();
  sendEachLocked(linksLocked([](const ChatPeer& p) { return p.state == State::Joined; }), std::move(list));
}

void ChatHub::leaveRoomLocked(ChatPeer& peer, wire::Reason reason) {
  if (peer.state != State::Joined) return;
  peer.state = State::Removed;
  if (!m_shuttingDown) {
    wire::ChatEvent leave;
    leave.kind = wire::ChatKind::Leave;
    leave.fromId = peer.participantId;
    leave.from = peer.name;
    if (reason == wire::Reason::Kicked) leave.text = "removed by the host";
    else if (reason != wire::Reason::IoEof) leave.text = wire::reasonName(reason);
    // Churn (gone within kChurnWindowUs): its join line leaves the history and this leave line
    // never enters it, so coming and going cannot flush what a newcomer is replayed.
    const bool churn = m_config.monoClock() - peer.joinedAtUs < wire::kChurnWindowUs;
    if (churn)
      std::erase_if(m_history, [&](const auto& ev) { return ev->seq == peer.joinSeq && ev->kind == wire::ChatKind::Join; });
    broadcastLocked(std::move(leave), !churn);
    broadcastUsersLocked();
  }
  laterLocked([this, id = peer.participantId] { m_files.left(id); });
  if (m_config.onLeave) laterLocked([this, id = peer.participantId] { m_config.onLeave(id); });
}

// [SECTION] the host's commands

void ChatHub::shutdown(const std::string& reason) {
  Section section(*this);
  shutdownLocked(reason);
}

bool ChatHub::kick(const std::string& name, const std::string& why) { return removeByName(name, why, false); }

bool ChatHub::ban(const std::string& name, const std::string& why) { return removeByName(name, why, true); }

bool ChatHub::removeByName(const std::string& name, const std::string& why, bool banAddress) {
  Section section(*this);
  for (const auto& [id, p] : m_peers) {
    if (p->state != State::Joined || p->name != name) continue;
    if (p->flags & wire::UserInfo::kFlagHost) return false;  // the host cannot remove itself
    wire::SessionEnd end;
    end.reason = !why.empty() ? why
                 : banAddress ? "You were banned from the session by the host."
                              : "You were removed from the session by the host.";
    const std::string detail = end.reason;
    if (banAddress) m_bannedIpv4.insert(p->link->ipv4());
    laterLocked([banAddress, id = p->id, link = p->link, who = p->name] {
      HLOG_INFO(kTag, "%s conn=#%llu peer=%s name=%s", banAddress ? "ban" : "kick", static_cast<unsigned long long>(id),
                link->address().c_str(), who.c_str());
    });
    sendFinalLocked(*p, std::move(end), wire::Reason::Kicked, detail);
    // Out of the room now, not when its socket finally closes: its screens go too.
    leaveRoomLocked(*p, wire::Reason::Kicked);
    return true;
  }
  return false;
}

void ChatHub::setRoomKey(bool required, const KdfParams& kdf, const RoomKey& key) {
  Section section(*this);
  m_config.passwordRequired = required;
  m_config.kdf = kdf;
  m_config.roomKey = key;
  ++m_keyGeneration;
  laterLocked([required] { HLOG_INFO(kTag, "room password %s", required ? "changed" : "removed"); });
}

void ChatHub::setSharing(std::uint32_t participantId, bool sharing) {
  Section section(*this);
  for (const auto& [id, p] : m_peers) {
    if (p->participantId != participantId || p->state != State::Joined) continue;
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

// [SECTION] questions

bool ChatHub::seatedTokenLocked(std::uint64_t token) const {
  if (token == 0) return false;
  for (const auto& [id, p] : m_peers)
    if (p->state == State::Joined && p->token == token) return true;
  return false;
}

bool ChatHub::findVoiceKeys(std::uint32_t participantId, VoiceKeys& keys, std::uint32_t& ipv4) const {
  std::lock_guard lock(m_mutex);
  for (const auto& [id, p] : m_peers) {
    if (p->state == State::Joined && p->participantId == participantId && p->voiceKeys) {
      keys = *p->voiceKeys;
      ipv4 = p->link->ipv4();
      return true;
    }
  }
  return false;
}

bool ChatHub::sendVoice(std::uint32_t participantId, std::vector<std::uint8_t> datagram) {
  Section section(*this);
  for (const auto& [id, p] : m_peers) {
    if (p->state != State::Joined || p->participantId != participantId) continue;
    wire::VoiceDatagram v;
    v.datagram = std::move(datagram);
    sendLocked(p->link, std::move(v));
    return true;
  }
  return false;
}

void ChatHub::setVoicePort(std::uint16_t port) {
  std::lock_guard lock(m_mutex);
  m_voicePort = port;
}

bool ChatHub::findByToken(std::uint64_t token, ScreenSeat& seat) const {
  std::lock_guard lock(m_mutex);
  for (const auto& [id, p] : m_peers) {
    if (p->state == State::Joined && token != 0 && p->token == token) {
      seat.participantId = p->participantId;
      seat.name = p->name;
      seat.key = p->seatKey;
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
  s.closedByReason = m_closedByReason;
  s.joinRateEntries = m_joinsByAddress.size() + m_joinsBySeat.size();
  for (const auto& [id, p] : m_peers) {
    if (p->state == State::Joined) ++s.participants;
    else if (!p->stopped && pendingLocked(*p)) ++s.pending;
  }
  return s;
}

}  // namespace huddle::net
