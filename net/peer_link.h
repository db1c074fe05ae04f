// The seam between sockets and protocol cores. A PeerLink is what a core sees of one
// connection (send a frame, close it); a ServerHub is a socket-free core of one port that a
// TcpServer feeds. Tests and fuzzers drive hubs through these with no sockets at all.
// Thread: PeerLink methods may be called from any thread.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "net/base/bytes.h"
#include "net/base/tick_alarm.h"
#include "net/wire/reason.h"

namespace huddle::net {

class PeerLink {
 public:
  virtual ~PeerLink() = default;
  // Queues a whole frame; false if the link is closing or its queue is full.
  virtual bool send(base::Bytes frame) = 0;
  // As send(), and ServerHub::drained() counts the frame once it has gone to the kernel.
  virtual bool sendTracked(base::Bytes frame) { return send(std::move(frame)); }
  // Queues a small frame ahead of everything not yet being sent (a cursor position must not
  // wait behind a screen update). A nonzero `replaceKey` makes it latest-wins: it takes the
  // place of a frame with that key still waiting. Frames sent this way keep their own order.
  virtual bool sendUrgent(base::Bytes frame, std::uint64_t replaceKey) {
    (void)replaceKey;
    return send(std::move(frame));
  }
  // sendUrgent(first, replaceKey) then sendTracked(frame), in one write where the link can (a
  // cursor position with the update of the same frame: one send and one wake of the peer).
  virtual bool sendTrackedAfter(base::Bytes first, std::uint64_t replaceKey, base::Bytes frame) {
    const bool urgentQueued = sendUrgent(std::move(first), replaceKey);
    return sendTracked(std::move(frame)) && urgentQueued;  // the update whatever became of the other
  }
  virtual void close(wire::Reason reason, const std::string& detail) = 0;
  // Delivers what is queued, then closes (reject, session end).
  virtual void closeAfterFlush(wire::Reason reason, const std::string& detail) = 0;
  // Queues `frame` as the last one and closes after it, recording `reason` at once: the peer
  // may hang up the moment it reads the frame, and that must not become the reason.
  virtual void sendFinal(base::Bytes frame, wire::Reason reason, const std::string& detail) {
    send(std::move(frame));
    closeAfterFlush(reason, detail);
  }
  virtual std::string address() const = 0;
  virtual std::uint32_t ipv4() const = 0;
  // The TLS session's exporter (RFC 8446 s.7.5) for `label`; false without TLS. Binds a
  // password proof to this very connection.
  virtual bool exporter(const std::string& label, std::span<std::uint8_t> out) const {
    (void)label;
    (void)out;
    return false;
  }
};

using PeerId = std::uint64_t;

// A server's watchdog ticks this often while anything is under way (a handshake, a send, an
// update in flight), and at least this often (kServerIdleTickUs) while all is quiet: each
// wake is a context switch, all day long, and a missed wakeBy() costs at most that.
inline constexpr std::int64_t kServerTickUs = 100'000;
inline constexpr std::int64_t kServerIdleTickUs = 1'000'000;

class ServerHub {
 public:
  virtual ~ServerHub() = default;
  // A connection arrived; the returned id comes back with its bytes and its close.
  virtual PeerId attach(std::shared_ptr<PeerLink> link, std::int64_t nowUs) = 0;
  // Bytes from that peer, on its reader thread (one thread per peer, never concurrently).
  virtual void receive(PeerId id, std::span<const std::uint8_t> bytes, std::int64_t nowUs) = 0;
  // The connection is gone (after its threads stopped sending).
  virtual void detach(PeerId id, wire::Reason reason, const std::string& detail) = 0;
  // From the server's watchdog: deadlines, heartbeats. Returns when it wants the next tick
  // (monotonic us): nowUs + kServerTickUs while anything is under way, the next ping or
  // deadline while all is quiet. The watchdog ticks by then (and by kServerIdleTickUs), or sooner.
  virtual std::int64_t tick(std::int64_t nowUs) = 0;
  // What the server's watchdog sleeps on between ticks. The hub wakes it sooner (wakeBy) when
  // work on another thread starts something timed (an update in flight, a held reply).
  base::TickAlarm& tickAlarm() const { return m_tickAlarm; }
  // `tracked` (never 0) frames sent to that peer with sendTracked() have been handed to the
  // kernel since the last call, and nothing else was queued to it then; on its writer thread
  // or on the thread that sent at once (net/connection.h). Frames sent with send() alone
  // never call it: a hub that waits for a frame of its own is not told of others'.
  virtual void drained(PeerId id, std::size_t tracked) {
    (void)id;
    (void)tracked;
  }

 protected:
  void wakeBy(std::int64_t dueUs) const { m_tickAlarm.wakeBy(dueUs); }

 private:
  mutable base::TickAlarm m_tickAlarm;
};

}  // namespace huddle::net
