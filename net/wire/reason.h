// Reason codes for closing a connection: logged, counted per host, and shown in tests.
// Thread: constants only.
#pragma once
#include <cstdint>

namespace huddle::wire {

enum class Reason : std::uint8_t {
  None = 0,
  ProtoHeader,      // unknown message type
  ProtoOversize,    // length field over the cap for this type and phase
  ProtoMalformed,   // payload does not decode as its type
  ProtoState,       // message not allowed now (e.g. chat before the handshake)
  ChatEncoding,     // invalid UTF-8 or forbidden control characters
  Flood,            // far over the message rate
  HandshakeTimeout, // connected but never finished the handshake
  ProtoStall,       // a partial frame was never completed
  SendStall,        // the peer stopped reading: no send progress
  SlowConsumer,     // the outgoing queue overflowed
  IoEof,            // peer closed
  IoEofMidFrame,    // peer closed inside a frame
  IoError,          // recv/send failed
  HeartbeatTimeout, // nothing heard for too long
  Kicked,
  Shutdown,         // we are shutting down
  Rejected,         // handshake refused (version, name, full)
  Resource,         // fd/thread/allocation failure
  Internal,         // a bug caught at a thread boundary
  ScreenBounds,     // tiles outside the grid, duplicates, bad geometry
  ScreenJpeg,       // a tile that is not what its kind says (a baseline JPEG, a lossless tile) of the tile's size
  Tls,              // TLS handshake or record failure (includes a host key that does not match)
  Busy,             // refused on arrival: too many connections, or too many not yet admitted
  Evicted,          // the oldest of a full set of not-yet-admitted connections, for a newcomer
  Count
};

constexpr const char* reasonName(Reason r) {
  constexpr const char* kNames[] = {
      "E_NONE",          "E_PROTO_HEADER",      "E_PROTO_OVERSIZE", "E_PROTO_MALFORMED",
      "E_PROTO_STATE",   "E_CHAT_ENCODING",     "E_FLOOD",          "E_HANDSHAKE_TIMEOUT",
      "E_PROTO_STALL",   "E_SEND_STALL",        "E_SLOW_CONSUMER",  "E_IO_EOF",
      "E_IO_EOF_MIDFRAME", "E_IO_ERROR",        "E_HEARTBEAT",      "E_KICKED",
      "E_SHUTDOWN",      "E_REJECTED",          "E_RESOURCE",       "E_INTERNAL",
      "E_SCREEN_BOUNDS", "E_SCREEN_JPEG",       "E_TLS",            "E_BUSY",
      "E_EVICTED"};
  static_assert(sizeof(kNames) / sizeof(kNames[0]) == static_cast<int>(Reason::Count));
  return kNames[static_cast<int>(r)];
}

}  // namespace huddle::wire
