// Per-connection bookkeeping every protocol hub needs, whatever the port: frame
// reassembly, liveness, a partial-frame timer and a flood window. The hub owns one per
// peer; feed() runs on the peer's reader thread, expired() on the watchdog.
#pragma once
#include <algorithm>
#include <atomic>
#include <map>
#include <cstdint>
#include <span>
#include <string>

#include "net/peer_link.h"
#include "net/wire/frame_decoder.h"
#include "net/wire/limits.h"
#include "net/wire/messages.h"
#include "net/wire/reason.h"

namespace huddle::net {

struct GuardLimits {
  std::int64_t handshakeTimeoutUs = wire::kHandshakeTimeoutUs;
  std::int64_t partialFrameTimeoutUs = wire::kPartialFrameTimeoutUs;
  std::int64_t heartbeatTimeoutUs = wire::kHeartbeatTimeoutUs;
  double floodMessagesPerSec = wire::kFloodMessagesPerSec;
  std::int64_t heartbeatIntervalUs = wire::kHeartbeatIntervalUs;  // ping a quiet peer this often
  // Not-yet-admitted connections (docs/SECURITY.md s.7.1): see pendingVerdict().
  std::size_t maxPending = wire::kMaxPendingConnections;
  std::size_t maxPendingPerAddress = wire::kMaxPendingPerAddress;
  std::int64_t pendingGraceUs = wire::kPendingGraceUs;
  std::int64_t refusedGraceUs = wire::kRefusedGraceUs;
};

class PeerGuard {
 public:
  PeerGuard(wire::PayloadLimitFn limit, std::int64_t nowUs) : m_decoder(limit), m_attachedUs(nowUs), m_lastRecvUs(nowUs) {}

  // Feeds received bytes and calls onFrame(frame) for each whole frame until it returns
  // false (the peer is being closed). On a framing or flood error returns false with the
  // reason; the caller closes the peer.
  template <typename OnFrame>
  bool feed(std::span<const std::uint8_t> bytes, std::int64_t nowUs, const GuardLimits& limits, OnFrame&& onFrame,
            wire::Reason& reason, std::string& detail) {
    m_lastRecvUs = nowUs;
    m_decoder.push(bytes);
    bool completed = false;  // a frame ended in these bytes: any partial one began in them
    while (true) {
      // Admitted (perhaps by the watchdog): the decoder takes the larger limits from this frame on.
      if (!m_decoderOpen && m_handshakeDone.load()) {
        m_decoder.setHandshakeDone(true);
        m_decoderOpen = true;
      }
      wire::Frame frame;
      auto status = m_decoder.next(frame);
      if (status == wire::FrameDecoder::Status::NeedMore) break;
      if (status == wire::FrameDecoder::Status::Error) {
        reason = m_decoder.reason();
        detail = m_decoder.detail();
        return false;
      }
      // Flood: far more frames in one second than any honest peer sends.
      if (nowUs - m_windowStartUs >= 1'000'000) {
        m_windowStartUs = nowUs;
        m_framesInWindow = 0;
        m_bulkInWindow = 0;
      }
      // A file's pieces and their requests are paced by the receiver's credit (each piece
      // is asked for), not by this window: they count kFileFramesPerFloodMessage to one.
      const bool bulk = frame.type == static_cast<std::uint16_t>(wire::MsgType::FileChunk) ||
                        frame.type == static_cast<std::uint16_t>(wire::MsgType::FileRequest);
      if (bulk ? ++m_bulkInWindow % wire::kFileFramesPerFloodMessage == 0 : true) ++m_framesInWindow;
      if (m_framesInWindow > limits.floodMessagesPerSec) {
        reason = wire::Reason::Flood;
        detail = "over " + std::to_string(static_cast<int>(limits.floodMessagesPerSec)) + " messages in one second";
        return false;
      }
      completed = true;
      if (!onFrame(frame)) return true;
    }
    // A stall is one frame that stops coming, not a stream of frames where each read ends in
    // the next one (a large share on a slow link).
    std::int64_t since = m_partialSinceUs.load();
    m_partialSinceUs = m_decoder.hasPartial() ? (since && !completed ? since : nowUs) : 0;
    return true;
  }

  struct Watch {
    wire::Reason expired = wire::Reason::None;  // the deadline this peer missed
    bool pingDue = false;                       // time to ping it (the caller sends)
  };
  // The watchdog's look at this peer; `handshakeDone` selects the rules. Watchdog only.
  Watch watch(std::int64_t nowUs, bool handshakeDone, const GuardLimits& limits) {
    Watch w;
    std::int64_t since = m_partialSinceUs.load();
    if (!handshakeDone && nowUs - m_attachedUs > limits.handshakeTimeoutUs) w.expired = wire::Reason::HandshakeTimeout;
    else if (since && nowUs - since > limits.partialFrameTimeoutUs) w.expired = wire::Reason::ProtoStall;
    else if (handshakeDone && nowUs - m_lastRecvUs.load() > limits.heartbeatTimeoutUs) w.expired = wire::Reason::HeartbeatTimeout;
    else if (handshakeDone && nowUs - m_lastPingSentUs > limits.heartbeatIntervalUs) {
      m_lastPingSentUs = nowUs;
      w.pingDue = true;
    }
    return w;
  }

  // When watch() next has something to do for an admitted peer that is not mid-frame (a
  // ping, the heartbeat deadline); 0 while a handshake or a frame is under way: those are
  // looked at every tick. Watchdog only.
  std::int64_t quietDueUs(bool handshakeDone, const GuardLimits& limits) const {
    if (!handshakeDone || m_partialSinceUs.load()) return 0;
    // watch() compares with >: one microsecond past each.
    return std::min(m_lastRecvUs.load() + limits.heartbeatTimeoutUs, m_lastPingSentUs + limits.heartbeatIntervalUs) + 1;
  }
  // Reader thread: since when a frame has been coming in part (0: none is).
  std::int64_t partialSinceUs() const { return m_partialSinceUs.load(); }

  // Any thread (the hub lock held): the next frame fed is read with the admitted limits; the
  // decoder itself is touched only by the reader thread, in feed().
  void setHandshakeDone() { m_handshakeDone = true; }
  std::int64_t attachedUs() const { return m_attachedUs; }
  // Reader thread only: the type of a frame read in part (the rest is on its way), or -1.
  int partialType() const { return m_decoder.partialType(); }

 private:
  wire::FrameDecoder m_decoder;       // reader thread only
  std::atomic<bool> m_handshakeDone{false};
  bool m_decoderOpen = false;         // reader thread only: the decoder was told
  const std::int64_t m_attachedUs;
  std::atomic<std::int64_t> m_lastRecvUs;
  std::atomic<std::int64_t> m_partialSinceUs{0};
  std::int64_t m_lastPingSentUs = 0;  // watchdog only
  std::int64_t m_windowStartUs = 0;   // reader thread only
  std::uint32_t m_framesInWindow = 0;
  std::uint32_t m_bulkInWindow = 0;    // file pieces and requests in this window
};

// What to do with a connection that just arrived, given those not yet admitted (docs/SECURITY.md
// s.7.1): a slowloris that opens connections and never finishes its handshake must not keep
// honest people out. One address may hold maxPendingPerAddress; beyond that its newcomers
// are refused. With the whole set full, room is made by evicting, in this order: the oldest
// stalled member (pending for over pendingGraceUs, while an honest handshake takes
// milliseconds); else the oldest member of the address holding the most, unless that is the
// newcomer's own address or holds just one. Only when the set is full of young connections from distinct
// addresses is the newcomer refused; it tries again (a busy refusal is retried).
struct PendingVerdict {
  bool refuse = false;  // close the newcomer: E_BUSY
  PeerId evict = 0;     // close this pending peer first: E_EVICTED
};

// A connection refused before admission but still open (its refusal flushing) counts against
// its address's share, not the whole set: one address cannot hold sockets by being refused.
// `peers` maps PeerId (ascending = oldest first) to peers with `guard`, `link`, `stopped` and
// `refused`; `isPending(peer)` says whether one is not yet admitted. Hub lock held.
template <typename PeerMap, typename IsPending>
PendingVerdict pendingVerdict(const PeerMap& peers, IsPending&& isPending, std::uint32_t ipv4, std::int64_t nowUs,
                              const GuardLimits& limits) {
  struct Address {
    std::size_t count = 0;
    PeerId oldest = 0;
  };
  std::map<std::uint32_t, Address> byAddress;
  std::size_t total = 0;
  PeerId oldestStalled = 0;
  for (const auto& [id, p] : peers) {
    if (!isPending(*p)) continue;
    if (p->stopped) {
      if (p->refused) ++byAddress[p->link->ipv4()].count;
      continue;
    }
    ++total;
    Address& a = byAddress[p->link->ipv4()];
    ++a.count;
    if (!a.oldest) a.oldest = id;
    if (!oldestStalled && nowUs - p->guard.attachedUs() >= limits.pendingGraceUs) oldestStalled = id;
  }
  PendingVerdict v;
  if (byAddress[ipv4].count >= limits.maxPendingPerAddress) {
    v.refuse = true;
  } else if (total >= limits.maxPending) {
    std::uint32_t mostAddress = 0;
    const Address* most = nullptr;
    for (const auto& [addr, a] : byAddress)
      if (a.oldest && (!most || a.count > most->count || (a.count == most->count && a.oldest < most->oldest))) {
        most = &a;
        mostAddress = addr;
      }
    if (oldestStalled) v.evict = oldestStalled;
    else if (most && mostAddress != ipv4 && most->count >= 2) v.evict = most->oldest;
    else v.refuse = true;
  }
  return v;
}

}  // namespace huddle::net
