// The client side of what every port shares, with no socket inside: fed the host's bytes, it
// reassembles frames under the port's limits, runs the handshake (Welcome, Reject, password
// challenge), answers pings, takes pongs for the clock offset, notices SessionEnd, and hands
// the port's own messages on. ClientLink runs it on a Connection; tests/fuzz runs it on bytes.
// Thread: push()/processNext() on one reader thread; fail(), explainEnd() and the getters
// from any thread.
#pragma once
#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <string>

#include "net/base/bytes.h"
#include "net/room_auth.h"
#include "net/voice_seal.h"
#include "net/wire/frame_decoder.h"
#include "net/wire/messages.h"
#include "net/wire/reason.h"

namespace huddle::net {

// Why a client connection ended, in words for a person.
struct LinkEnd {
  std::string text;
  bool sessionEnded = false;  // the host ended the session or removed us
  bool neverJoined = false;   // connect or handshake failed
  bool hostKeyMismatch = false;  // the host's key is not the one pinned: a hard stop
  bool needsPassword = false;    // the room has a password and ours was missing or wrong
  // Closed by the host before even the secure handshake finished: how a busy host refuses
  // (too many unfinished handshakes). Worth trying again shortly.
  bool hostBusy = false;
  wire::Reason reason = wire::Reason::None;
};

// Who the client is; set before the first byte arrives.
struct ClientIdentity {
  std::string name;         // as sent in Hello; the password proof is bound to it
  std::uint64_t token = 0;  // Hello's token
  // Screen port: the seat key of our chat connection; Hello proves it over this connection.
  std::optional<SeatKey> seatKey;
  std::string password;     // the room password, if the host asks for one
  std::string where;        // "host:port", for messages
  // Derives the room key (Argon2id: 64 MiB and a few hundred milliseconds). A parameter so the fuzzer
  // can check what a hostile challenge gets it to run without paying for it.
  bool (*deriveKey)(const std::string& password, const KdfParams& params, RoomKey& out,
                    std::string& error) = &deriveRoomKey;
};

class ClientProtocol {
 public:
  // What the protocol needs around it. Called from inside processNext(), and fail().
  struct Peer {
    virtual ~Peer() = default;
    // Queues a whole frame for the host.
    virtual void sendToHost(base::Bytes frame) = 0;
    // The TLS exporter for `label`; false (and `out` untouched) without TLS.
    virtual bool exportKeyingMaterial(const std::string& label, std::span<std::uint8_t> out) = 0;
    // Ends the connection: at once, or (`flush`) after what is queued has been sent.
    virtual void closeLink(wire::Reason reason, const std::string& detail, bool flush) = 0;
    // The host let us in; joined() is true from now on.
    virtual void onJoined(const wire::Welcome& welcome) = 0;
    // Any message other than the handshake and ping/pong/goodbye, once joined.
    virtual void onPortFrame(const wire::Frame& frame) = 0;
  };

  ClientProtocol(wire::PayloadLimitFn limit, wire::PortKind port, Peer& peer);
  ClientProtocol(const ClientProtocol&) = delete;
  ClientProtocol& operator=(const ClientProtocol&) = delete;

  void setIdentity(ClientIdentity identity) { m_id = std::move(identity); }
  // The first frame to send: Hello for this port, with our name and token (and, on the
  // screen port, the seat proof: over TLS, call it once the handshake is done).
  base::Bytes hello();

  // Appends bytes from the host; call processNext() until it returns false before the next push.
  void push(std::span<const std::uint8_t> bytes) { m_decoder.push(bytes); }
  // Bytes of a frame not yet whole are buffered.
  bool hasPartial() const { return m_decoder.hasPartial(); }
  // Handles at most one whole frame: true if it did, false if it needs more bytes or the
  // stream cannot be read (then the link has been failed). `nowWallUs` is our wall clock.
  bool processNext(std::int64_t nowWallUs);

  // Ends the link with `text` as the reason the owner sees (unless one was given before).
  void fail(wire::Reason reason, const std::string& text);
  // Sets the reason the owner will see, unless one was given before (the first cause wins).
  void explainEnd(const std::string& text);
  // How the link ended, once the connection is closed; joined() is false from now on.
  LinkEnd ended(wire::Reason reason, const std::string& detail);

  bool joined() const { return m_joined.load(); }
  std::uint32_t participantId() const { return m_participantId.load(); }
  std::uint64_t token() const { return m_token.load(); }
  // Chat port, once joined over TLS: the seat key our screen logins prove.
  std::optional<SeatKey> seatKey() const {
    std::lock_guard lock(m_mutex);
    return m_seatKey;
  }
  // Chat port, once joined over TLS: the keys of our voice datagrams (net/voice_seal.h).
  std::optional<VoiceKeys> voiceKeys() const {
    std::lock_guard lock(m_mutex);
    return m_voiceKeys;
  }
  // Host wall clock minus ours, from the ping with the smallest round trip (microseconds).
  std::int64_t clockOffsetUs() const { return m_clockOffsetUs.load(); }
  std::int64_t roundTripUs() const { return m_rttUs.load(); }

 private:
  void handleFrame(const wire::Frame& frame, std::int64_t nowWallUs);
  void answerChallenge(const wire::Frame& frame);

  const wire::PortKind m_port;
  Peer& m_peer;
  ClientIdentity m_id;          // set before the reader starts
  wire::FrameDecoder m_decoder;  // reader thread only
  std::int64_t m_bestRttUs = 0;  // reader thread only
  // A challenge was answered on this connection (reader thread only): a second one is a host
  // making us run Argon2id again and again, so it ends the link.
  bool m_challengeAnswered = false;

  std::atomic<bool> m_joined{false};
  std::atomic<std::uint32_t> m_participantId{0};
  std::atomic<std::uint64_t> m_token{0};
  std::atomic<std::int64_t> m_clockOffsetUs{0};
  std::atomic<std::int64_t> m_rttUs{0};

  mutable std::mutex m_mutex;  // guards the end state below
  std::string m_endText;       // decided by the first cause seen
  bool m_sessionEnded = false;
  bool m_needsPassword = false;
  std::optional<SeatKey> m_seatKey;
  std::optional<VoiceKeys> m_voiceKeys;
};

}  // namespace huddle::net
