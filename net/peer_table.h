// What every protocol hub does with its connections, whatever the port: a table of peers under
// one mutex; attach (with the verdict on unfinished handshakes), receive (framing, flood, then
// each whole frame to the hub), drop, detach, deadlines and pings, the Hello checks and the
// messages every port speaks (Ping, Pong, Bye). What a hub decides under its lock (frames to
// send, lines to log, calls out to its owner) is queued and done once the lock is released,
// in the order decided: nothing is serialised, logged or handed to a link under it.
// Thread: as ServerHub. The queue is worked by whichever thread released the lock, one thread
// at a time; a thread that finds it being worked leaves its steps to that one.
#pragma once
#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <exception>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "net/base/clock.h"
#include "net/base/log.h"
#include "net/base/log_throttle.h"
#include "net/peer_guard.h"
#include "net/peer_link.h"
#include "net/wire/limits.h"
#include "net/wire/messages.h"
#include "net/wire/reason.h"

namespace huddle::net {

// What a hub keeps of every connection; each hub's own peer adds its state to this.
struct HubPeer {
  HubPeer(PeerId i, std::shared_ptr<PeerLink> l, wire::PayloadLimitFn limit, std::int64_t nowUs)
      : id(i), link(std::move(l)), guard(limit, nowUs) {}

  const PeerId id;
  const std::shared_ptr<PeerLink> link;
  PeerGuard guard;                   // see PeerGuard for which thread uses what
  std::atomic<bool> stopped{false};  // closing: ignore anything else it sends
  std::string name;                  // (hub lock) who it said it is, for logs; empty before
  bool refused = false;              // (hub lock) refused before admission, its refusal flushing
  std::int64_t refusedSeenUs = 0;    // (hub lock) when tick() first saw it refused; -1 once closed
};

// `Peer` derives from HubPeer.
template <typename Peer>
class PeerTable : public ServerHub {
 public:
  PeerId attach(std::shared_ptr<PeerLink> link, std::int64_t nowUs) final;
  void receive(PeerId id, std::span<const std::uint8_t> bytes, std::int64_t nowUs) final;
  void detach(PeerId id, wire::Reason reason, const std::string& detail) final;
  std::int64_t tick(std::int64_t nowUs) final;

 protected:
  PeerTable(const char* logTag, const GuardLimits& guard) : m_tag(logTag), m_guard(guard) {}
  ~PeerTable() override = default;

  // [SECTION] the hub's part ("Locked": called with m_mutex held)

  virtual std::shared_ptr<Peer> makePeerLocked(PeerId id, std::shared_ptr<PeerLink> link, std::int64_t nowUs) = 0;
  // Not admitted yet: a handshake under way, counted against the pending caps.
  virtual bool pendingLocked(const Peer& peer) const = 0;
  // Admitted: heartbeats apply instead of the handshake deadline; shutdown says goodbye.
  virtual bool admittedLocked(const Peer& peer) const = 0;
  // One whole frame from `peer`, on its reader thread, without the lock.
  virtual void handleFrame(const std::shared_ptr<Peer>& peer, const wire::Frame& frame, std::int64_t nowUs) = 0;
  // After the frames of one receive() from `peer` (a chunk of its bytes), without the lock.
  virtual void afterReceive(const std::shared_ptr<Peer>& peer, std::int64_t nowUs) { (void)peer, (void)nowUs; }
  // `peer` has just left the table (its connection is gone): let go of what it held.
  virtual void detachedLocked(Peer& peer, wire::Reason reason) {
    (void)peer;
    (void)reason;
  }
  // The watchdog's look at `peer` before its deadlines (stopped peers included); returns when
  // the hub next has something timed for it (kNoTickDue: nothing).
  virtual std::int64_t tickLocked(Peer& peer, std::int64_t nowUs) {
    (void)peer;
    (void)nowUs;
    return kNoTickDue;
  }
  static constexpr std::int64_t kNoTickDue = std::numeric_limits<std::int64_t>::max();

  // [SECTION] for the hub

  // Holds m_mutex for one decision; leaving it releases the lock, then does what was queued.
  class Section {
   public:
    explicit Section(PeerTable& table) : m_table(table), m_lock(table.m_mutex), m_throwing(std::uncaught_exceptions()) {}
    ~Section() noexcept(false) {
      m_lock.unlock();
      // Leaving by a throw: the next section does the queue (a second throw would terminate).
      if (std::uncaught_exceptions() == m_throwing) m_table.runQueue();
    }
    Section(const Section&) = delete;
    Section& operator=(const Section&) = delete;

   private:
    PeerTable& m_table;
    std::unique_lock<std::mutex> m_lock;
    const int m_throwing;
  };

  // Queued under the lock, done after it in order (the hub's calls out to its owner, too).
  void laterLocked(std::function<void()> step) { m_queue.push_back(std::move(step)); }
  // `msg` to one link, serialised after the lock.
  template <typename Msg>
  void sendLocked(const std::shared_ptr<PeerLink>& link, Msg msg) {
    laterLocked([link, msg = std::move(msg)] { link->send(wire::encodeFrame(msg)); });
  }
  // `msg` to every link, serialised once after the lock and shared.
  template <typename Msg>
  void sendEachLocked(std::vector<std::shared_ptr<PeerLink>> links, Msg msg) {
    if (links.empty()) return;
    laterLocked([links = std::move(links), msg = std::move(msg)] {
      base::Bytes frame = wire::encodeFrame(msg);
      for (const auto& link : links) link->send(frame);
    });
  }
  // `msg` as the last frame to `peer`, which then closes (its reason recorded at once).
  template <typename Msg>
  void sendFinalLocked(Peer& peer, Msg msg, wire::Reason reason, const std::string& detail) {
    peer.stopped = true;
    wakeBy(base::monoUs() + kServerTickUs);  // its linger is timed
    laterLocked([link = peer.link, msg = std::move(msg), reason, detail] {
      link->sendFinal(wire::encodeFrame(msg), reason, detail);
    });
  }
  void closeAfterFlushLocked(Peer& peer, wire::Reason reason, const std::string& detail) {
    peer.stopped = true;
    wakeBy(base::monoUs() + kServerTickUs);
    laterLocked([link = peer.link, reason, detail] { link->closeAfterFlush(reason, detail); });
  }
  // Closes `peer` at once; the line in the log says why.
  void dropLocked(Peer& peer, wire::Reason reason, const std::string& detail);
  void drop(Peer& peer, wire::Reason reason, const std::string& detail) {
    Section section(*this);
    dropLocked(peer, reason, detail);
  }
  // Refuses `peer` with a Reject it reads before the close.
  void rejectLocked(Peer& peer, wire::RejectCode code, const std::string& text);
  void reject(Peer& peer, wire::RejectCode code, const std::string& text) {
    Section section(*this);
    rejectLocked(peer, code, text);
  }
  // Ends the session: the admitted are told `reason` (SessionEnd), the rest just closed;
  // newcomers are refused from now on (m_shuttingDown).
  void shutdownLocked(const std::string& reason);
  // The links of the peers `pick` chooses.
  template <typename Pick>
  std::vector<std::shared_ptr<PeerLink>> linksLocked(Pick&& pick) const {
    std::vector<std::shared_ptr<PeerLink>> out;
    for (const auto& [id, p] : m_peers)
      if (pick(*p)) out.push_back(p->link);
    return out;
  }
  std::shared_ptr<Peer> find(PeerId id) const {
    std::lock_guard lock(m_mutex);
    auto it = m_peers.find(id);
    return it == m_peers.end() ? nullptr : it->second;
  }

  // Reader thread, no lock. The Hello checks every port makes, in this order: a Huddle
  // client at all (else dropped), our protocol version, a well-formed Hello for this port
  // (else refused, saying why). False if `peer` was dropped or refused.
  bool readHello(Peer& peer, const wire::Frame& frame, wire::PortKind port, wire::Hello& hello);
  // Ping, Pong and Bye, the same on every port: true if `frame` was one of them.
  bool handleCommon(Peer& peer, const wire::Frame& frame);
  // A message a client never sends: the peer is dropped.
  void unexpected(Peer& peer, const wire::Frame& frame) {
    drop(peer, wire::Reason::ProtoState, "message type " + std::to_string(frame.type) + " not expected from a client");
  }

  // Outside the lock: whether a line about `ipv4` may be logged now (docs/SECURITY.md s.8.3); `note` ends it.
  bool logAllowed(std::uint32_t ipv4, base::LogThrottle::Kind kind, unsigned code, std::string& note) {
    return m_logThrottle.allow(base::LogThrottle::key(ipv4, kind, code), note);
  }

  const char* const m_tag;  // for log lines: "net/chat", "net/screen"
  mutable std::mutex m_mutex;
  std::map<PeerId, std::shared_ptr<Peer>> m_peers;  // (m_mutex) ascending id: oldest first
  bool m_shuttingDown = false;                       // (m_mutex)
  std::array<std::uint64_t, static_cast<std::size_t>(wire::Reason::Count)> m_closedByReason{};  // (m_mutex)

 private:
  // Does the queued steps unless another thread is at it (it takes ours after its own).
  void runQueue();

  const GuardLimits m_guard;
  PeerId m_nextPeerId = 1;                     // (m_mutex)
  std::vector<std::function<void()>> m_queue;  // (m_mutex)
  bool m_queueBusy = false;                    // (m_mutex) a thread is doing the queue
  base::LogThrottle m_logThrottle;             // its own lock
};

// [SECTION] implementation

template <typename Peer>
PeerId PeerTable<Peer>::attach(std::shared_ptr<PeerLink> link, std::int64_t nowUs) {
  Section section(*this);
  const PendingVerdict verdict = pendingVerdict(
      m_peers, [this](const Peer& p) { return pendingLocked(p); }, link->ipv4(), nowUs, m_guard);
  if (verdict.evict) dropLocked(*m_peers.at(verdict.evict), wire::Reason::Evicted, "oldest unfinished handshake, for a newcomer");
  const PeerId id = m_nextPeerId++;
  std::shared_ptr<Peer> peer = makePeerLocked(id, std::move(link), nowUs);
  if (verdict.refuse) dropLocked(*peer, wire::Reason::Busy, "too many unfinished handshakes");
  m_peers.emplace(id, std::move(peer));
  return id;
}

template <typename Peer>
void PeerTable<Peer>::receive(PeerId id, std::span<const std::uint8_t> bytes, std::int64_t nowUs) {
  std::shared_ptr<Peer> peer = find(id);
  if (!peer || peer->stopped) return;
  wire::Reason reason = wire::Reason::None;
  std::string detail;
  auto onFrame = [&](const wire::Frame& frame) {
    handleFrame(peer, frame, nowUs);
    return !peer->stopped.load();
  };
  if (!peer->guard.feed(bytes, nowUs, m_guard, onFrame, reason, detail)) drop(*peer, reason, detail);
  else if (peer->guard.partialSinceUs()) wakeBy(nowUs + kServerTickUs);  // its stall is timed
  afterReceive(peer, nowUs);
}

template <typename Peer>
void PeerTable<Peer>::detach(PeerId id, wire::Reason reason, const std::string& detail) {
  Section section(*this);
  auto it = m_peers.find(id);
  if (it == m_peers.end()) return;
  std::shared_ptr<Peer> peer = std::move(it->second);
  m_peers.erase(it);
  ++m_closedByReason[static_cast<std::size_t>(reason)];
  laterLocked([this, id, link = peer->link, name = peer->name.empty() ? std::string("-") : peer->name, reason, detail] {
    std::string note;
    if (logAllowed(link->ipv4(), base::LogThrottle::Closed, unsigned(reason), note))
      HLOG_INFO(m_tag, "closed conn=#%llu peer=%s name=%s reason=%s detail=\"%s\"%s", static_cast<unsigned long long>(id),
                link->address().c_str(), name.c_str(), wire::reasonName(reason), detail.c_str(), note.c_str());
  });
  detachedLocked(*peer, reason);
}

template <typename Peer>
std::int64_t PeerTable<Peer>::tick(std::int64_t nowUs) {
  Section section(*this);
  std::int64_t due = kNoTickDue;
  for (const auto& [id, p] : m_peers) {
    due = std::min(due, tickLocked(*p, nowUs));
    // A refused connection is told why, then closed hard after a short grace even if it never
    // hangs up: refusals cannot be used to hold sockets (docs/SECURITY.md s.7.1).
    if (p->refused && p->refusedSeenUs >= 0) {
      if (!p->refusedSeenUs) {
        p->refusedSeenUs = nowUs;
      } else if (nowUs - p->refusedSeenUs >= m_guard.refusedGraceUs) {
        p->refusedSeenUs = -1;  // closed once
        laterLocked([link = p->link] { link->close(wire::Reason::Rejected, "refused: grace over"); });
      }
      if (p->refusedSeenUs >= 0) due = std::min(due, nowUs + kServerTickUs);  // its grace is timed
    }
    if (p->stopped) continue;
    const bool admitted = admittedLocked(*p);
    PeerGuard::Watch w = p->guard.watch(nowUs, admitted, m_guard);
    if (w.expired != wire::Reason::None) {
      dropLocked(*p, w.expired, "deadline passed");
    } else if (w.pingDue) {
      laterLocked([link = p->link, nowUs] { link->send(wire::pingNow(static_cast<std::uint64_t>(nowUs))); });
    }
    const std::int64_t quiet = p->guard.quietDueUs(admitted, m_guard);
    due = std::min(due, quiet ? quiet : nowUs + kServerTickUs);
  }
  return due;
}

template <typename Peer>
void PeerTable<Peer>::dropLocked(Peer& peer, wire::Reason reason, const std::string& detail) {
  peer.stopped = true;
  laterLocked([this, link = peer.link, id = peer.id, name = peer.name.empty() ? std::string("-") : peer.name, reason,
               detail] {
    std::string note;
    if (logAllowed(link->ipv4(), base::LogThrottle::Drop, unsigned(reason), note))
      HLOG_WARN(m_tag, "drop conn=#%llu peer=%s name=%s reason=%s detail=\"%s\"%s", static_cast<unsigned long long>(id),
                link->address().c_str(), name.c_str(), wire::reasonName(reason), detail.c_str(), note.c_str());
    link->close(reason, detail);
  });
}

template <typename Peer>
void PeerTable<Peer>::rejectLocked(Peer& peer, wire::RejectCode code, const std::string& text) {
  laterLocked([this, link = peer.link, id = peer.id, code, text] {
    std::string note;
    if (logAllowed(link->ipv4(), base::LogThrottle::Reject, unsigned(code), note))
      HLOG_INFO(m_tag, "reject conn=#%llu peer=%s code=%u: %s%s", static_cast<unsigned long long>(id),
                link->address().c_str(), static_cast<unsigned>(code), text.c_str(), note.c_str());
  });
  wire::Reject r;
  r.code = code;
  r.text = text;
  peer.refused = true;
  sendFinalLocked(peer, std::move(r), wire::Reason::Rejected, text);
}

template <typename Peer>
void PeerTable<Peer>::shutdownLocked(const std::string& reason) {
  m_shuttingDown = true;
  wakeBy(base::monoUs() + kServerTickUs);  // goodbyes linger, timed
  std::vector<std::shared_ptr<PeerLink>> admitted, others;
  for (const auto& [id, p] : m_peers) {
    (admittedLocked(*p) ? admitted : others).push_back(p->link);
    p->stopped = true;
  }
  laterLocked([toTell = std::move(admitted), toClose = std::move(others), reason] {
    wire::SessionEnd end;
    end.reason = reason;
    base::Bytes frame = wire::encodeFrame(end);  // once, for everyone
    for (const auto& link : toTell) link->sendFinal(frame, wire::Reason::Shutdown, reason);
    for (const auto& link : toClose) link->closeAfterFlush(wire::Reason::Shutdown, reason);
  });
}

template <typename Peer>
bool PeerTable<Peer>::readHello(Peer& peer, const wire::Frame& frame, wire::PortKind port, wire::Hello& hello) {
  if (!wire::decodePayload(frame.payload, hello) && hello.magic != wire::kMagic) {
    drop(peer, wire::Reason::ProtoMalformed, "not a Huddle client (bad magic)");
    return false;
  }
  if (hello.version != wire::kProtocolVersion) {
    reject(peer, wire::RejectCode::VersionMismatch,
           "host speaks protocol " + std::to_string(wire::kProtocolVersion) + ", client speaks " +
               std::to_string(hello.version));
    return false;
  }
  if (!wire::decodePayload(frame.payload, hello)) {
    drop(peer, wire::Reason::ProtoMalformed, "bad Hello");
    return false;
  }
  if (hello.port != port) {
    reject(peer, wire::RejectCode::BadHello, port == wire::PortKind::Chat ? "this is the chat port" : "this is the screen port");
    return false;
  }
  return true;
}

template <typename Peer>
bool PeerTable<Peer>::handleCommon(Peer& peer, const wire::Frame& frame) {
  switch (static_cast<wire::MsgType>(frame.type)) {
    case wire::MsgType::Ping: {
      wire::Ping ping;
      if (!wire::decodePayload(frame.payload, ping)) drop(peer, wire::Reason::ProtoMalformed, "bad Ping");
      else peer.link->send(wire::pongFor(ping));  // no lock held: straight to the link
      return true;
    }
    case wire::MsgType::Pong:
      return true;  // liveness is already recorded by receive()
    case wire::MsgType::Bye: {
      Section section(*this);
      closeAfterFlushLocked(peer, wire::Reason::IoEof, "left");
      return true;
    }
    default:
      return false;
  }
}

template <typename Peer>
void PeerTable<Peer>::runQueue() {
  std::unique_lock lock(m_mutex);
  if (m_queueBusy) return;
  m_queueBusy = true;
  std::vector<std::function<void()>> steps;
  try {
    while (!m_queue.empty()) {
      steps.swap(m_queue);
      lock.unlock();
      for (auto& step : steps) step();
      steps.clear();  // the links they held go here, outside the lock
      lock.lock();
    }
  } catch (...) {
    if (!lock.owns_lock()) lock.lock();
    m_queueBusy = false;
    throw;
  }
  m_queueBusy = false;
}

}  // namespace huddle::net
