// What every client connection to a host does, whatever the port: connect off the caller's
// thread, send Hello, wait for Welcome or Reject, answer and send pings (liveness and the
// host clock offset), notice a silent host, leave politely, and say in plain words why the
// connection ended. The per-frame logic is the socket-free ClientProtocol; this class is
// its socket, threads and timers. ChatClient and ScreenClient add their port's messages on top.
// The link's own thread ("chat-link", "screen-link") connects and keeps time; if it throws,
// the connection closes with Reason::Internal, the owner hears of it through onEnded() (once,
// as always) unless that hook was what threw, and failure() says what it was.
// Thread: public methods from the owner; hooks run on the connection's reader thread (and
// onEnded() on the link's thread when the connection never started).
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "net/base/tick_alarm.h"
#include "net/base/worker.h"
#include "net/client_protocol.h"
#include "net/connection.h"
#include "net/wire/frame_decoder.h"
#include "net/wire/limits.h"
#include "net/wire/messages.h"

namespace huddle::net {

struct ClientLinkSettings {
  std::string host = "127.0.0.1";
  std::uint16_t port = wire::kDefaultChatPort;
  int connectTimeoutMs = wire::kConnectTimeoutMs;
  std::int64_t handshakeTimeoutUs = wire::kHandshakeTimeoutUs;
  std::int64_t heartbeatIntervalUs = wire::kHeartbeatIntervalUs;
  std::int64_t heartbeatTimeoutUs = wire::kHeartbeatTimeoutUs;
  // Called on a network thread whenever there is news for the owner (the window wakes).
  std::function<void()> wake;
  // TLS with this trust (a pinned host key); without it the connection is plaintext.
  std::optional<TlsEngine::ClientTrust> tls;
  // Read no faster than this (0: unlimited); see Connection::Options.
  std::int64_t readLimitBytesPerSec = 0;
  // Frames up to this size sent while nothing waits go out on the sending thread
  // (Connection::Options::inlineSends; 0: never): a viewer's credits without waking the writer
  // thread each time. Only for a link whose onDrained() may run on a sender's thread (not the
  // chat link's file sink).
  std::size_t inlineSendMaxBytes = 0;
  // The room password, if the host asks for one (it never leaves this process: only a
  // proof bound to this TLS session does; see net/room_auth.h).
  std::string password;
};

class ClientLink : protected Connection::Handler, private ClientProtocol::Peer {
 public:
  ClientLink(wire::PayloadLimitFn limit, wire::PortKind port);
  ~ClientLink() override;
  ClientLink(const ClientLink&) = delete;
  ClientLink& operator=(const ClientLink&) = delete;

  bool connected() const { return m_protocol.joined(); }
  bool finished() const { return m_finished.load(); }
  // What the link's thread threw, if it did ("" otherwise); the link has ended then.
  std::string failure() const { return m_thread.failure(); }
  std::uint32_t participantId() const { return m_protocol.participantId(); }
  std::uint64_t token() const { return m_protocol.token(); }
  // Once joined over TLS: the seat key this participant's screen logins prove.
  std::optional<SeatKey> seatKey() const { return m_protocol.seatKey(); }
  std::optional<VoiceKeys> voiceKeys() const { return m_protocol.voiceKeys(); }
  // The host's key, once the secure handshake is done (to pin the screen port to it and
  // remember it in known_hosts); false before, or without TLS.
  bool hostKey(Fingerprint& out) const;
  // Host wall clock minus ours, from the ping with the smallest round trip (microseconds).
  std::int64_t clockOffsetUs() const { return m_protocol.clockOffsetUs(); }
  std::int64_t roundTripUs() const { return m_protocol.roundTripUs(); }
  // Leaves politely (the host sees "left") and waits until the connection is closed.
  void leave();
  // Bytes queued to the host and not yet handed to the kernel (0 when not joined).
  std::size_t queuedBytes() const { return m_protocol.joined() && m_conn ? m_conn->queuedBytes() : 0; }
  // While a frame is handled (on the reader thread, e.g. in a listener's callback): when its
  // first bytes came (monotonic). With when its last came, how long the link took to carry it.
  std::int64_t frameStartedUs() const { return m_frameStartedUs; }

 protected:
  // Starts connecting; call once from the subclass.
  // `seatKey`: a screen link's proof of its seat (from the chat link's seatKey()).
  void startLink(ClientLinkSettings settings, std::string name, std::uint64_t token,
                 std::optional<SeatKey> seatKey = std::nullopt);
  // Queues a frame once joined; false otherwise.
  bool sendFrame(base::Bytes frame);
  // Sends ahead of queued frames; latest-wins by a nonzero `replaceKey` (PeerLink::sendUrgent).
  bool sendUrgentFrame(base::Bytes frame, std::uint64_t replaceKey);
  // sendUrgentFrame(first, replaceKey) then sendFrame(frame), in one write (Connection::sendAfterUrgent).
  bool sendFrameAfterUrgent(base::Bytes first, std::uint64_t replaceKey, base::Bytes frame);
  // Ends the connection with `text` as the reason the owner sees.
  void fail(wire::Reason reason, const std::string& text);
  void wake() const;
  const ClientLinkSettings& settings() const { return m_settings; }
  std::string where() const { return m_settings.host + ":" + std::to_string(m_settings.port); }
  // Stops the thread; subclasses call it first in their destructor (hooks are virtual).
  void stopLink();

  // Hooks, on the reader thread.
  virtual void onWelcome(const wire::Welcome& welcome) = 0;
  // Any message other than the handshake and ping/pong/goodbye, once joined.
  virtual void onFrame(const wire::Frame& frame) = 0;
  virtual void onEnded(const LinkEnd& end) = 0;

 private:
  void run();
  // The link's thread threw: close what is open and make sure the owner hears the end.
  void runFailed(const std::string& what);
  // Tells the owner how the link ended (onEnded, then wake), once whatever the path.
  void endOnce(const LinkEnd& end);
  // Connection::Handler: bytes and events from the socket's reader thread.
  void onReceive(std::span<const std::uint8_t> bytes) override;
  void onClosed(wire::Reason reason, const std::string& detail) override;
  void onSecured() override;
  // ClientProtocol::Peer: what the protocol asks of the connection and of the subclass.
  void sendToHost(base::Bytes frame) override;
  bool exportKeyingMaterial(const std::string& label, std::span<std::uint8_t> out) override;
  void closeLink(wire::Reason reason, const std::string& detail, bool flush) override;
  void onJoined(const wire::Welcome& welcome) override;
  void onPortFrame(const wire::Frame& frame) override;
  void sendPing();

  ClientLinkSettings m_settings;
  const char* m_threadName;            // "chat-link" or "screen-link"
  base::Worker m_thread;
  std::unique_ptr<Connection> m_conn;  // set once by run(); used by others only after joining
  bool m_connStarted = false;          // run() thread only: its reader will report the end
  ClientProtocol m_protocol;           // frames on the reader thread; state read from any

  std::atomic<bool> m_stop{false};
  // run()'s wait between its checks (deadlines, pings, heartbeats): ended early by stopLink()
  // and by the connection's end, so it need not wake often to notice them.
  base::TickAlarm m_wake;
  void nudge();
  std::atomic<bool> m_finished{false};
  std::atomic<bool> m_endReported{false};
  std::atomic<std::int64_t> m_lastRecvUs{0};
  // Reader thread only: when the bytes of the frame not yet whole began, and of the frame
  // being handled.
  std::int64_t m_partialStartedUs = 0;
  std::int64_t m_frameStartedUs = 0;
  int m_pingsSent = 0;  // run() thread only

  mutable std::mutex m_mutex;  // guards the host key below
  Fingerprint m_hostKey{};
  bool m_haveHostKey = false;
};

}  // namespace huddle::net
