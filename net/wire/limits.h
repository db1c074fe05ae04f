// Every limit and timeout in one place (like ENet's protocol.h): the wire's, the sockets', and
// what the program reads or is told. Each is checked before anything is allocated or
// buffered, in forms that cannot overflow. Thread: constants only.
#pragma once
#include <cstddef>
#include <cstdint>

namespace huddle::wire {

inline constexpr std::uint32_t kMagic = 0x4C445548;  // "HUDL" little-endian
inline constexpr std::uint16_t kProtocolVersion = 8;  // 2: the screen login proves its seat over its own TLS session; 3: voice (Welcome.voicePort, VoiceDatagram); 4: files in the chat (FileOffer ... FileStatus); 5: scrolls as copies (CopyUpdate, PublishCopyTiles); 6: quality tiers per viewer (TierSwitch, TiersWanted, PublishTierTiles); 7: patches (sub-tile rectangles) in CopyUpdate and PublishCopyTiles; 8: JPEG scans with a restart every MCU row (tiles cut from strips)

inline constexpr std::size_t kFrameHeaderBytes = 6;  // u32 payload length, u16 type

// Where a host listens and a client knocks unless told otherwise.
inline constexpr std::uint16_t kDefaultChatPort = 9999;
inline constexpr std::uint16_t kDefaultScreenPort = 9998;
inline constexpr std::uint16_t kDefaultVoicePort = 9996;  // UDP (9997 is discovery's)

// Before the handshake completes only Hello/Welcome/Reject may cross, and they are small.
inline constexpr std::uint32_t kMaxPreHandshakePayload = 1024;
inline constexpr std::uint32_t kMaxChatPortPayload = 64 * 1024;

inline constexpr std::size_t kMaxNameBytes = 32;       // UTF-8 bytes of a user name
inline constexpr std::size_t kMaxChatTextBytes = 4096; // UTF-8 bytes of one chat message
inline constexpr std::size_t kMaxReasonBytes = 256;    // reject / session-end / notice text
inline constexpr std::size_t kMaxUsersInList = 256;

inline constexpr std::size_t kHistoryMessages = 500;   // replayed to a newcomer
// One record of the history file (a chat event and its framing): far above any event, so a
// larger length means the file is damaged there.
inline constexpr std::uint32_t kMaxHistoryRecordBytes = 64 * 1024;
// The history file (--keep-history): past this it is compacted to the kept history, which
// (kHistoryMessages events of at most ~4.2 KiB) fills well under half of it.
inline constexpr std::uint64_t kMaxHistoryFileBytes = 8ull * 1024 * 1024;
inline constexpr std::size_t kMinParticipants = 2;     // --max-participants: the host and one more
inline constexpr std::size_t kMaxParticipants = 64;    // hard cap per session
// Deadlines: connect to Welcome (TLS, Hello, password proof), and a frame begun but not finished.
inline constexpr std::int64_t kHandshakeTimeoutUs = 10'000'000;
inline constexpr std::int64_t kPartialFrameTimeoutUs = 5'000'000;
// Liveness (docs/SECURITY.md s.7.3): ping after 2 s of quiet; a peer silent for 6 s is gone.
inline constexpr std::int64_t kHeartbeatIntervalUs = 2'000'000;
inline constexpr std::int64_t kHeartbeatTimeoutUs = 6'000'000;
// TLS key update (RFC 8446 s.4.6.3): each side moves its sending keys on after this many
// bytes or this long on one connection, so a long session never encrypts too much under one
// key and a key taken from memory later opens only what followed the last update.
inline constexpr std::uint64_t kTlsKeyUpdateBytes = 1ull << 30;
inline constexpr std::int64_t kTlsKeyUpdateIntervalUs = 3600ll * 1'000'000;
// Voice datagrams (net/voice_seal.h): at most this large on the wire (well under a LAN's MTU:
// a 10 ms Opus frame at 510 kbit/s, Opus's top rate, is 638 bytes), and a receiver accepts a
// datagram up to kVoiceReplayWindow counters behind the highest it has seen (reordering on a
// LAN is a few packets; 64 is a one-word bitmap).
inline constexpr std::size_t kMaxVoiceDatagramBytes = 1200;
inline constexpr std::size_t kVoiceReplayWindow = 64;
// Inside a sealed voice datagram (app/voice/voice_frame.h): the Opus bytes of one 10 ms
// frame (638 is 10 ms at 510 kbit/s, Opus's top rate; speech uses ~30-200).
inline constexpr std::size_t kMaxVoiceOpusBytes = 638;
// A speaker's jitter buffer (app/voice/jitter_buffer.h) holds at most this many 10 ms frames
// (half a second: far beyond any LAN's jitter), and its playout delay target never exceeds
// kMaxVoiceJitterDelayUs (past that, talking over each other stops working).
inline constexpr std::size_t kMaxVoiceJitterFrames = 50;
inline constexpr std::int64_t kMaxVoiceJitterDelayUs = 200'000;
// The host's voice relay (net/voice_hub.h). A speaker sends one frame per 10 ms (100/s);
// the bucket allows 20% over that steadily and a burst of 50 (half a second of frames held
// up by the sender's scheduler); past it frames are dropped and counted. At most
// kMaxVoiceSpeakersForwarded speakers are forwarded at once (a speaker counts for
// kVoiceSpeakerActiveUs after its last frame): more people talking at once is noise, and it
// bounds the host's upload to listeners x this x 100 datagrams/s. A voice member that sends
// nothing (no frame, no keep-alive) for kVoiceMemberTimeoutUs is forgotten; clients send a
// keep-alive every kVoiceKeepAliveUs. Datagrams for seats the host does not know are looked
// up at most kVoiceLookupsPerSec times a second (the rest dropped and counted).
inline constexpr double kVoicePacketsPerSec = 120;
inline constexpr double kVoicePacketBurst = 50;
inline constexpr std::size_t kMaxVoiceSpeakersForwarded = 4;
inline constexpr std::int64_t kVoiceSpeakerActiveUs = 500'000;
inline constexpr std::int64_t kVoiceMemberTimeoutUs = 5'000'000;
inline constexpr std::int64_t kVoiceKeepAliveUs = 1'000'000;
inline constexpr double kVoiceLookupsPerSec = 50;
// A client gives up on the TCP connect (or a key probe) after this long.
inline constexpr int kConnectTimeoutMs = 10'000;
// A pong echoing a stamp of ours older than this is stale (or forged): not used for the clock.
inline constexpr std::int64_t kMaxPongAgeUs = 60'000'000;
inline constexpr std::size_t kDefaultParticipants = 16; // unless the host asks for more
// Connections not yet admitted (TLS handshake, Hello, password proof): in all and from one
// address; a full set evicts (stalled = pending for over kPendingGraceUs); see net::pendingVerdict().
inline constexpr std::size_t kMaxPendingConnections = 32;
inline constexpr std::size_t kMaxPendingPerAddress = 16;
inline constexpr std::int64_t kPendingGraceUs = 2'000'000;
// A connection refused before admission (told why) is closed hard this long after the refusal,
// whether or not it hung up; until then it still counts against its address's pending share.
inline constexpr std::int64_t kRefusedGraceUs = 500'000;
// Wrong passwords: each answered after the same delay; this many from one address lock it out
// for kLockoutUs, doubling up to kMaxLockoutUs; over kBusyFailuresPerMinute (counted per
// kBusyFailureWindowUs) from everywhere, every answer waits kBusyFailureExtraDelayUs more.
// Addresses remembered: kMaxLockoutEntries.
inline constexpr std::int64_t kAuthFailureDelayUs = 250'000;
inline constexpr int kMaxAuthFailures = 5;
inline constexpr std::int64_t kLockoutUs = 60'000'000;
inline constexpr std::int64_t kMaxLockoutUs = 3'600'000'000LL;
inline constexpr int kBusyFailuresPerMinute = 20;
inline constexpr std::int64_t kBusyFailureWindowUs = 60'000'000;
inline constexpr std::int64_t kBusyFailureExtraDelayUs = 2'000'000;
inline constexpr std::size_t kMaxLockoutEntries = 4096;
// Joins (admissions to the room), each a history replay and a join line: from one address,
// a burst of kJoinBurstPerAddress then kJoinsPerAddressPerMinute; into one seat (a token
// resuming it), a burst of kJoinBurstPerSeat then kJoinsPerSeatPerMinute. Over it the join is
// refused (try later). Addresses and seats remembered: kMaxJoinRateEntries each.
inline constexpr double kJoinBurstPerAddress = 20.0;
inline constexpr double kJoinsPerAddressPerMinute = 30.0;
inline constexpr double kJoinBurstPerSeat = 5.0;
inline constexpr double kJoinsPerSeatPerMinute = 6.0;
inline constexpr std::size_t kMaxJoinRateEntries = 4096;
// Someone who leaves within this long of joining was churn: both lines are shown live but
// neither stays in the history a newcomer is replayed.
inline constexpr std::int64_t kChurnWindowUs = 10'000'000;
// A room password's length in bytes, and the Argon2id cost a client accepts from a host
// (passes, memory): weaker is no protection, costlier would let a host exhaust the client.
inline constexpr std::size_t kMinRoomPasswordBytes = 8;
inline constexpr std::size_t kMaxRoomPasswordBytes = 128;
inline constexpr std::uint32_t kMinKdfOps = 2;
inline constexpr std::uint32_t kMaxKdfOps = 10;
inline constexpr std::uint32_t kMinKdfMemBytes = 19u << 20;
inline constexpr std::uint32_t kMaxKdfMemBytes = 256u << 20;

// Sockets one port holds at once (admitted or not); over it a new one is closed at accept.
// The listen backlog is what the kernel queues before we accept.
inline constexpr std::size_t kMaxConnectionsPerPort = 160;
inline constexpr int kListenBacklog = 128;
// The process keeps its descriptors below this (select() with fortify aborts above it).
inline constexpr unsigned kMaxOpenFiles = 1024;

// Per-connection outgoing queue; a peer that lets it fill is a slow consumer. A client's own
// connection may hold more (a publisher's frames, bounded by its acks), and so may the host's
// screen port (a few whole updates, bounded by credits).
inline constexpr std::size_t kMaxQueuedMessages = 4096;
inline constexpr std::size_t kMaxQueuedBytes = 4 * 1024 * 1024;
inline constexpr std::size_t kMaxClientQueuedBytes = 64 * 1024 * 1024;
inline constexpr std::size_t kMaxScreenQueuedBytes = 128 * 1024 * 1024;
// No send progress for this long: the peer is dropped. After a flush-and-close, the peer's
// EOF is waited for this long.
inline constexpr std::int64_t kSendStallUs = 10'000'000;
inline constexpr std::int64_t kLingerUs = 2'000'000;
// A host ending its session waits this long for the goodbyes to go out (they are small: a
// round trip, unless a peer stopped reading) before it closes what is left.
inline constexpr int kShutdownGraceMs = 1500;

// Chat rate per client: sustained rate and burst of a token bucket; messages over it are
// dropped with a notice. Over kFloodMessagesPerSec for a second the peer is disconnected.
inline constexpr double kChatRatePerSec = 50.0;
inline constexpr double kChatBurst = 100.0;
inline constexpr double kFloodMessagesPerSec = 500.0;
inline constexpr std::int64_t kRateNoticeIntervalUs = 1'000'000;  // "too fast" told at most this often

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
// Every viewer at its own pace: a stream is kept in at most this many quality/scale tiers
// (tier 0: the sharer's own settings), each encoded once for every viewer on it. A lower
// tier's grid may hold at most kMaxTierStreamBytes of tiles (they are smaller images).
inline constexpr std::uint8_t kMaxScreenTiers = 3;
inline constexpr std::size_t kMaxTierStreamBytes = 32 * 1024 * 1024;
// A viewer's updates waiting to be decoded, in bytes (credits bound their count): past this,
// an update is dropped and a full refresh asked for; an empty queue takes any one update.
inline constexpr std::uint64_t kMaxDecodeQueueBytes = 64ull * 1024 * 1024;
// Upper bound of tjBufSize(w, h, any subsampling) in libjpeg-turbo 2.1, which is
// PAD(w, mcuW) * PAD(h, mcuH) * (2 + chroma factor) + 2048: no valid tile is larger.
constexpr std::uint32_t maxJpegTileBytes(std::uint32_t w, std::uint32_t h) {
  return ((w + 15) / 16 * 16) * ((h + 15) / 16 * 16) * 6 + 2048;
}
// Lossless tiles (base::TileKind::Palette, ZstdPixels): a palette holds 2..256 colours; no
// valid lossless tile is larger than this (zstd's worst case, ZSTD_COMPRESSBOUND, for the
// tile's 3 bytes per pixel, plus a whole palette; tests/unit/capture_test.cpp checks it).
inline constexpr std::uint32_t kMaxPaletteColours = 256;
constexpr std::uint32_t maxLosslessTileBytes(std::uint32_t w, std::uint32_t h) {
  return w * h * 3 + w * h * 3 / 256 + 1024;
}
// Sharp when still: a tile last sent lossy (JPEG) and unchanged for the still time is sent
// again losslessly. The still time a sharer may set, in ms (default kDefaultStillMs). At most
// kSharpBytesPerTick of such tiles go out per captured frame, beside that frame's changed tiles
// (moving content never waits behind a refresh), and the sharer keeps its stream's tiles
// under kMaxSharpStreamBytes so lossless tiles never take it near the host's kMaxStreamBytes.
inline constexpr int kDefaultStillMs = 300;
inline constexpr int kMinStillMs = 50;
inline constexpr int kMaxStillMs = 10'000;
inline constexpr std::size_t kSharpBytesPerTick = 256 * 1024;
// Updates a stream keeps for viewers in step (one per starting version), serialised once.
inline constexpr std::size_t kUpdateCacheEntries = 8;
// What one stream may make the host hold: its tiles' bytes (each tile owns just its own), and
// separately its cache of serialised updates. A publisher that would take its stream over the
// budget is closed (E_SCREEN_BOUNDS). 64 MiB holds an 8K screen of ordinary content at high
// quality; only noise at quality 100 and 4:4:4 comes near it.
inline constexpr std::size_t kMaxStreamBytes = 64 * 1024 * 1024;
inline constexpr std::size_t kMaxUpdateCacheBytes = 2 * std::size_t(kMaxScreenPayload);
inline constexpr std::size_t kMaxSharpStreamBytes = kMaxStreamBytes / 2;
// A publisher's byte rate on the host (token bucket). 128 MiB/s is above what gigabit
// Ethernet carries (~118 MB/s), so no honest publisher on a LAN of today meets it; it bounds
// how much JPEG checking and tile churn one publisher can cause on loopback or 10 GbE. The
// bucket holds what Huddle's own publisher may have unacknowledged (kMaxPublishInFlight whole
// frames): while it is short, acks wait (the publisher merges its frames meanwhile); a
// publisher that sends another bucket's worth without its acks is closed (E_FLOOD).
inline constexpr std::uint64_t kPublishBytesPerSec = 128ull * 1024 * 1024;
inline constexpr std::uint64_t kPublishBurstBytes = 2ull * kMaxScreenPayload;
// Streams one participant publishes at once, and screen connections one participant holds
// (a client uses one; a reconnect may overlap its old one for a moment).
inline constexpr std::size_t kMaxStreamsPerParticipant = 2;
inline constexpr std::size_t kMaxScreenConnectionsPerParticipant = 4;
// Frames a publisher sends before the host acknowledges one; newer frames merge meanwhile.
inline constexpr int kMaxPublishInFlight = 2;
// Sessions on this network (net/discovery.h): a host announces on kDiscoveryPort every
// kAnnounceIntervalUs; a listener forgets a host not heard from for kAnnounceExpiryUs, and lists
// no announcement sent more than kMaxAnnounceClockSkewMs from its own clock. One datagram is at
// most kMaxAnnouncementBytes with at most kMaxAnnouncedAddresses addresses. A listener keeps
// kMaxNearbySessions sessions, at most kMaxNearbyPerAddress announced from one address, and the
// newest announcement of kMaxRememberedAnnouncers keys (so replays of one that left stay out).
inline constexpr std::uint16_t kDiscoveryPort = 9997;
static_assert(kDiscoveryPort != kDefaultVoicePort && kDiscoveryPort != kDefaultChatPort &&
                  kDiscoveryPort != kDefaultScreenPort,
              "discovery's UDP port is its own");
inline constexpr std::int64_t kAnnounceIntervalUs = 1'000'000;
inline constexpr std::int64_t kAnnounceExpiryUs = 3'500'000;
inline constexpr std::uint64_t kMaxAnnounceClockSkewMs = 60'000;
inline constexpr std::size_t kMaxAnnouncementBytes = 512;
inline constexpr std::size_t kMaxAnnounceHostNameBytes = 64;
inline constexpr std::size_t kMaxAnnouncedAddresses = 8;
inline constexpr std::size_t kMaxNearbySessions = 64;
inline constexpr std::size_t kMaxNearbyPerAddress = 4;
inline constexpr std::size_t kMaxRememberedAnnouncers = 256;
// A listener checks at most kMaxAnnouncementsPerSource datagrams a second from one source
// address and kMaxAnnouncementsPerSecond in all; the rest are dropped unread (net::DatagramGate).
// A full table's hosts send about 2 a second each (multicast and broadcast copies): 128; a
// check with its signature took 0.2-0.55 ms on a loaded 2-core machine, so a flood costs at
// most about a seventh of a core.
inline constexpr std::size_t kMaxAnnouncementsPerSource = 16;
inline constexpr std::size_t kMaxAnnouncementsPerSecond = 256;
// Frames a second a sharer may capture.
inline constexpr int kMaxCaptureFps = 120;
// The sharer's cursor, sent beside the tiles (net/wire/screen_messages.h). A shape is at most
// 256 x 256 RGBA (X cursors are 24-64 px; 256 covers large accessibility cursors); its message
// is that plus a 16-byte header. A position may lie at most one largest shape beyond the
// stream's edges (a cursor cannot be further out and still show a pixel); further out it is
// dropped. Each stream's host and each viewer cache this many shapes by id (oldest out).
inline constexpr std::uint16_t kMaxCursorSidePx = 256;
inline constexpr std::uint32_t kCursorShapeHeaderBytes = 16;
inline constexpr std::uint32_t kMaxCursorShapePayload =
    kCursorShapeHeaderBytes + std::uint32_t(kMaxCursorSidePx) * kMaxCursorSidePx * 4;
inline constexpr std::int32_t kCursorMarginPx = kMaxCursorSidePx;
inline constexpr std::size_t kMaxCursorShapesCached = 16;
// Cursor messages a publisher may send (token buckets on the host): positions at twice the
// fastest capture rate, shapes at what an animated cursor (a busy spinner) needs. Over it a
// message is dropped with a logged reason and the stream goes on.
inline constexpr double kCursorPositionsPerSec = 2.0 * kMaxCaptureFps;
inline constexpr double kCursorPositionBurst = 2.0 * kMaxCaptureFps;
inline constexpr double kCursorShapesPerSec = 30.0;
inline constexpr double kCursorShapeBurst = 30.0;
// Pointers (anyone watching points at a stream): positions the host relays per person, at
// most kPointerPositionsPerSec a second with a small burst (a bucket that starts full); more are
// dropped with a logged reason. A gone is never counted (it is sent once per press).
inline constexpr double kPointerPositionsPerSec = 60.0;
inline constexpr double kPointerBurst = 6.0;
// How long a viewer keeps drawing a pointer after its last news (a gone, or a position).
inline constexpr int kPointerFadeMs = 700;
inline constexpr int kPointerStaleMs = 3000;
// A held pointer that does not move is sent again this often, so it never turns stale.
inline constexpr int kPointerKeepAliveMs = 1000;
// Pointers one viewer keeps per stream (one per person who points; more are not shown).
inline constexpr std::size_t kMaxPointersPerStream = 64;
// The vanishing pen: a stroke goes in batches of at most kMaxPenPointsPerMessage points, and
// has at most kMaxPenPointsPerStroke (the host drops the rest of a longer one). The host relays
// at most kPenPointsPerSec points a second per person (a bucket of kPenPointsBurst that starts
// full; a batch costs its points, at least one). A viewer keeps at most kMaxPenStrokesPerPerson
// strokes of each person on a stream (the oldest goes first), each shown kPenHoldMs after it
// is finished, then fading out over kPenFadeMs.
inline constexpr std::size_t kMaxPenPointsPerMessage = 64;
inline constexpr std::size_t kMaxPenPointsPerStroke = 1024;
inline constexpr double kPenPointsPerSec = 240.0;
inline constexpr double kPenPointsBurst = 128.0;
inline constexpr std::size_t kMaxPenStrokesPerPerson = 8;
inline constexpr int kPenHoldMs = 3000;
inline constexpr int kPenFadeMs = 1000;
// A moving pointer's trail on a viewer: the positions of the last kPointerTrailMs, at most
// kPointerTrailPoints of them, fading with their age.
inline constexpr int kPointerTrailMs = 400;
inline constexpr std::size_t kPointerTrailPoints = 16;
// Command-line sanity: a duration in seconds (--seconds, --quit-after), and --read-limit.
inline constexpr int kMaxOptionSeconds = 86400;
inline constexpr int kMaxReadLimitKBps = 10'000'000;

// Files in the chat (net/file_hub.h, app/session/file_transfers.h). A file travels in pieces of
// at most kFileChunkBytes, each one asked for by its receiver: a receiver has at most
// kFileWindowChunks pieces asked for and not yet received (its credit), so the host holds at
// most that much of a file per receiver and a slow receiver slows nobody else. A sender keeps
// at most kFileSendQueueBytes of pieces queued on its chat connection (chat waits behind no
// more than that). The host refuses offers over its size cap (--max-file-size, default
// kDefaultMaxFileBytes, at most kMaxFileBytes), names over kMaxFileNameBytes, more than
// kMaxFileOffersPerPerson open offers from one person, more than kMaxFileReceivesPerPerson
// files one person receives at once, more than kMaxOpenFileOffers in all, and offers over a
// person's bucket (kFileOfferBurst, then kFileOffersPerMinute).
inline constexpr std::uint32_t kFileChunkBytes = 64 * 1024;
inline constexpr std::uint32_t kMaxFileChunkPayload = kFileChunkBytes + 32;  // FileChunk's header: 24 bytes
inline constexpr std::size_t kFileWindowChunks = 4;
inline constexpr std::size_t kFileSendQueueBytes = 256 * 1024;
inline constexpr std::size_t kMaxFileNameBytes = 255;
inline constexpr std::uint64_t kDefaultMaxFileBytes = 4ull << 30;
inline constexpr std::uint64_t kMaxFileBytes = 1ull << 40;
inline constexpr std::size_t kMaxFileOffersPerPerson = 8;
inline constexpr std::size_t kMaxFileReceivesPerPerson = 4;
inline constexpr std::size_t kMaxOpenFileOffers = 256;
inline constexpr double kFileOfferBurst = 5.0;
inline constexpr double kFileOffersPerMinute = 10.0;
// In a peer's flood window (kFloodMessagesPerSec) this many file pieces or piece requests
// count as one message: they are paced by credit, and 500 x 64 = 32000 pieces a second is
// 2 GiB/s.
inline constexpr std::uint32_t kFileFramesPerFloodMessage = 64;

// Files Huddle reads at start: larger ones are refused rather than read whole.
inline constexpr std::size_t kMaxKeyFileBytes = 64 * 1024;        // the host's key and certificate
inline constexpr std::size_t kMaxSettingsFileBytes = 64 * 1024;   // window settings and layout
inline constexpr std::size_t kMaxPasswordFileBytes = 4096;        // --password-file
inline constexpr std::size_t kMaxKnownHostsBytes = 1024 * 1024;   // known_hosts
inline constexpr std::size_t kMaxKnownHosts = 10000;              // its entries read

// Copies (scrolls and moved rectangles, issue 12): a frame carries at most kMaxCopiesPerBatch,
// each inside the stream and at least one pixel; anything else is refused where it is read.
inline constexpr std::size_t kMaxCopiesPerBatch = 16;
inline constexpr std::size_t kCopyRectWireBytes = 6 * 2;  // six u16: sides are at most kMaxStreamSidePx
// Patches (changed rectangles inside a tile, issue 12) ride a copy batch after its copies: at
// most kMaxPatchesPerBatch, one per tile at most and never for a tile the batch also sends
// whole, each at least one pixel and inside its tile; their bytes are capped like a tile's of
// the patch's size.
inline constexpr std::size_t kMaxPatchesPerBatch = 1024;
inline constexpr std::size_t kPatchHeaderWireBytes = 6 * 2;  // tx, ty, x, y, w, h (u16 each)
// The host keeps the last kCopyLogVersions batches (at most kMaxCopyLogBytes of tiles that the
// grid no longer holds) so a viewer a few frames behind is replayed the copies in order.
inline constexpr std::size_t kCopyLogVersions = 16;
inline constexpr std::size_t kMaxCopyLogBytes = 8 * 1024 * 1024;
// The sharer sends the tiles that copies changed (and it did not encode) again at least this
// often while it keeps copying, so the host's image is whole for viewers joining or behind.
inline constexpr int kCopyRefreshMs = 1000;

}  // namespace huddle::wire
