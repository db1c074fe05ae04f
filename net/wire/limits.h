// Every wire limit in one place (like ENet's protocol.h). Each is checked before anything is
// allocated or buffered, in forms that cannot overflow. Thread: constants only.
#pragma once
#include <cstddef>
#include <cstdint>

namespace huddle::wire {

inline constexpr std::uint32_t kMagic = 0x4C445548;  // "HUDL" little-endian
inline constexpr std::uint16_t kProtocolVersion = 1;

// Where a host listens unless told otherwise.
inline constexpr std::uint16_t kDefaultChatPort = 9999;
inline constexpr std::uint16_t kDefaultScreenPort = 9998;

inline constexpr std::size_t kFrameHeaderBytes = 6;  // u32 payload length, u16 type

// Before the handshake completes only Hello/Welcome/Reject may cross, and they are small.
inline constexpr std::uint32_t kMaxPreHandshakePayload = 1024;
inline constexpr std::uint32_t kMaxChatPortPayload = 64 * 1024;

inline constexpr std::size_t kMaxNameBytes = 32;       // UTF-8 bytes of a user name
inline constexpr std::size_t kMaxChatTextBytes = 4096; // UTF-8 bytes of one chat message
inline constexpr std::size_t kMaxReasonBytes = 256;    // reject / session-end / notice text
inline constexpr std::size_t kMaxUsersInList = 256;

inline constexpr std::size_t kHistoryMessages = 500;   // replayed to a newcomer
inline constexpr std::size_t kMaxParticipants = 64;    // hard cap per session
// Deadlines: connect to Welcome (TLS, Hello, password proof), and a frame begun but not finished.
inline constexpr std::int64_t kHandshakeTimeoutUs = 10'000'000;
inline constexpr std::int64_t kPartialFrameTimeoutUs = 5'000'000;
// Liveness (docs/SECURITY.md s.7.3): ping after 2 s of quiet; a peer silent for 6 s is gone.
inline constexpr std::int64_t kHeartbeatIntervalUs = 2'000'000;
inline constexpr std::int64_t kHeartbeatTimeoutUs = 6'000'000;
inline constexpr std::size_t kDefaultParticipants = 16; // unless the host asks for more
// Connections not yet admitted (TLS handshake, Hello, password proof): in all and from one
// address; a full set evicts (stalled = pending for over kPendingGraceUs); see net::pendingVerdict().
inline constexpr std::size_t kMaxPendingConnections = 32;
inline constexpr std::size_t kMaxPendingPerAddress = 16;
inline constexpr std::int64_t kPendingGraceUs = 2'000'000;
// Wrong passwords: each answered after the same delay; this many from one address lock it out
// for kLockoutUs, doubling up to kMaxLockoutUs; over kBusyFailuresPerMinute from everywhere,
// every answer waits kBusyFailureExtraDelayUs more. Addresses remembered: kMaxLockoutEntries.
inline constexpr std::int64_t kAuthFailureDelayUs = 250'000;
inline constexpr int kMaxAuthFailures = 5;
inline constexpr std::int64_t kLockoutUs = 60'000'000;
inline constexpr std::int64_t kMaxLockoutUs = 3'600'000'000LL;
inline constexpr int kBusyFailuresPerMinute = 20;
inline constexpr std::int64_t kBusyFailureExtraDelayUs = 2'000'000;
inline constexpr std::size_t kMaxLockoutEntries = 4096;

// Per-connection outgoing control queue; a peer that lets it fill is a slow consumer.
inline constexpr std::size_t kMaxQueuedMessages = 4096;
inline constexpr std::size_t kMaxQueuedBytes = 4 * 1024 * 1024;

// Chat rate per client: sustained rate and burst of a token bucket; messages over it are
// dropped with a notice. Over kFloodMessagesPerSec for a second the peer is disconnected.
inline constexpr double kChatRatePerSec = 50.0;
inline constexpr double kChatBurst = 100.0;
inline constexpr double kFloodMessagesPerSec = 500.0;

// Screen streams. Dimensions: each side <= 8192 and the area <= 36 MP (fits 7680x4320), so a
// viewer's BGRX framebuffer stays under 144 MB.
inline constexpr std::uint32_t kMaxStreamSidePx = 8192;
inline constexpr std::uint64_t kMaxStreamPixels = 36ull * 1000 * 1000;
inline constexpr std::uint16_t kTileSizes[] = {64, 128, 256};
inline constexpr std::size_t kMaxStreamsPerSession = 16;
inline constexpr std::size_t kMaxTitleBytes = 128;
// One update carries every changed tile of one frame; the grid bounds its tile count.
inline constexpr std::uint32_t kMaxScreenPayload = 24 * 1024 * 1024;
inline constexpr std::uint32_t kMaxScreenControlPayload = 4096;
inline constexpr std::uint8_t kMaxCredits = 4;  // updates a viewer may have outstanding
// Upper bound of tjBufSize(w, h, any subsampling) in libjpeg-turbo 2.1, which is
// PAD(w, mcuW) * PAD(h, mcuH) * (2 + chroma factor) + 2048: no valid tile is larger.
constexpr std::uint32_t maxJpegTileBytes(std::uint32_t w, std::uint32_t h) {
  return ((w + 15) / 16 * 16) * ((h + 15) / 16 * 16) * 6 + 2048;
}

}  // namespace huddle::wire
