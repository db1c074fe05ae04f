// The screen port's protocol core, with no sockets: logins by chat-session token, stream
// announcements, publishing (remote publishers and the host's own pipeline), and the relay.
//
// Why it is shaped like this: each stream keeps only the latest encoded bytes of every tile,
// stamped with the stream version that last changed it. A viewer holds credits (it asks for
// updates, as in VNC) and remembers the version it has seen; when it has credit and its
// connection is idle, it gets every tile newer than that version in one update. So a slow
// viewer gets fewer, fresher updates and never a backlog, static screens send nothing, and a
// tile is encoded once however many viewers there are. Viewers in step share one serialized
// update (cached per starting version). An update larger than a viewer accepts (kMaxScreenPayload)
// goes in parts, a credit each.
// Every viewer at its own pace: a stream keeps up to kScreenTiers grids (tier 0: the sharer's
// settings; lower tiers: smaller or coarser images the publisher encodes as well), each
// encoded once and shared by its viewers. Each subscription has a TierPolicy fed with its
// credits' round trips (net/screen_tiers.h); a viewer moves to the tier it wants once that
// grid holds a whole image (TierSwitch, then a full update: never a mixed image), and the
// publisher is told which tiers anyone is on or moving to (TiersWanted); a tier nobody wants
// is let go and not encoded. Pointers, pens and the cursor stay in tier 0's coordinates.
// Thread: receive() on each peer's reader thread, drained() on whichever thread finished its
// connection's sends (its writer, or the thread that sent at once: net/connection.h), tick() on
// the watchdog, publishLocal() on the host's capture thread; state is under one mutex
// (PeerTable's), and updates are serialised, like everything sent or logged, after it.
#pragma once
#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "net/base/log_throttle.h"
#include "net/peer_table.h"
#include "net/room_auth.h"
#include "net/screen_tiers.h"
#include "net/wire/reason.h"
#include "net/wire/screen_messages.h"

namespace huddle::net {

struct ScreenHubConfig {
  std::string hostName = "host";
  GuardLimits guard;
  std::size_t maxStreams = wire::kMaxStreamsPerSession;
  // Tier moves: the policy's thresholds, and its clock (empty: base::monoUs; tests give a fake).
  TierPolicyConfig tiers;
  std::function<std::int64_t()> clock;
  // The host's own share: the tiers its viewers want changed (its pipeline asks wantedTiersOf()
  // at its next frame, a quarter of a second away on a quiet screen). After the hub's lock.
  std::function<void()> localTiersChanged;
};

struct ScreenPeer;  // one connection's state (screen_hub.cpp)
extern template class PeerTable<ScreenPeer>;  // instantiated in screen_hub.cpp, where ScreenPeer is known

struct ScreenHubStats {
  std::size_t peers = 0, viewers = 0, streams = 0;
  std::uint64_t framesPublished = 0;   // batches applied to streams
  std::uint64_t updatesSent = 0;       // updates queued to viewers
  std::uint64_t updateBytesSent = 0;   // their total size
  std::uint64_t tileBytesSent = 0;     // JPEG bytes inside them
  std::uint64_t updatesShared = 0;     // updates reused from the cache (serialised once)
  // Update bytes queued to viewers and not yet handed to the kernel (on their way to a
  // connection, or in its queue, until drained() counts them gone), summed over every update
  // of every viewer; and the most there were at once. A viewer's next update waits until its
  // last one drained, so this stays within one update per viewer: at most the viewers times
  // the largest update queued to one (largestUpdateBytes).
  std::uint64_t updateBytesQueued = 0, maxUpdateBytesQueued = 0, largestUpdateBytes = 0;
  // Copies (scrolls): updates carrying them, and times a viewer behind the copies had to
  // wait for the sharer's refresh (it could not be replayed them).
  std::uint64_t copyUpdatesSent = 0;
  std::uint64_t copyWaits = 0;
  // The sharers' cursors, beside the tiles: messages and bytes queued to viewers, and
  // messages from publishers dropped (malformed, out of range, over the rate).
  std::uint64_t cursorMessagesSent = 0;
  std::uint64_t cursorBytesSent = 0;
  std::uint64_t cursorDropped = 0;
  // Pointers: relayed (one per recipient) and dropped (out of bounds, over the rate, not watching).
  std::uint64_t pointersRelayed = 0;
  std::uint64_t pointersDropped = 0;
  // Pen batches: relayed (one per recipient) and dropped (out of bounds, over the rate or a
  // stroke's cap, not watching, pens off on that stream).
  std::uint64_t pensRelayed = 0;
  std::uint64_t pensDropped = 0;
  // Tiers: viewers moved to another tier (each a full refresh), and subscriptions on each now.
  std::uint64_t tierSwitches = 0;
  std::array<std::size_t, kScreenTiers> viewersOnTier{};
  std::array<std::uint64_t, static_cast<std::size_t>(wire::Reason::Count)> closedByReason{};
};

// What the chat hub knows of a seat, for a screen-port login.
struct ScreenSeat {
  std::uint32_t participantId = 0;
  std::string name;
  // The seat key of its chat connection (net/room_auth.h); none when that one has no TLS.
  std::optional<SeatKey> key;
};

class ScreenHub : public PeerTable<ScreenPeer> {
 public:
  // Resolves a chat-session token to the seat it belongs to.
  using TokenCheck = std::function<bool(std::uint64_t token, ScreenSeat& seat)>;
  // Told when a participant starts or stops sharing (the chat's user list shows it).
  using SharingChanged = std::function<void(std::uint32_t participantId, bool sharing)>;

  ScreenHub(ScreenHubConfig config, TokenCheck tokenCheck, SharingChanged sharingChanged);
  ~ScreenHub() override;

  void drained(PeerId id, std::size_t tracked) override;

  // The host's own capture pipeline publishes here directly. Returns the stream id, or 0
  // with `error` (too many streams, bad geometry).
  std::uint32_t startLocalStream(std::uint32_t ownerId, const std::string& ownerName, const std::string& title,
                                 std::uint32_t widthPx, std::uint32_t heightPx, std::uint16_t tileSizePx,
                                 std::string& error);
  // Applies one frame's tiles of tier `tier` (trusted: they come from our own encoder). A
  // tier nobody wants is ignored; a lower tier's geometry is the batch's.
  // With `cursorPos` (the host's cursor moved in this frame; `cursorShape` its new shape, if
  // any), as publishLocalCursor() but sent to each viewer in the same write as its update.
  void publishLocal(std::uint32_t streamId, wire::TileBatch batch, int tier = 0,
                    const base::CursorImage* cursorShape = nullptr, const base::CursorPos* cursorPos = nullptr);
  // The tiers of a stream anyone watches or moves to (bit t: tier t); the host's pipeline
  // encodes these only, and a tier whose bit comes on whole first. 0 for no such stream.
  std::uint8_t wantedTiers(std::uint32_t streamId) const;
  // The same with how many times each tier was let go: what the host's pipeline polls
  // (through a TierGate), so a tier let go and wanted again between two frames is sent whole.
  WantedTiers wantedTiersOf(std::uint32_t streamId) const;
  // The host's own cursor: `shape` (null: unchanged) and where it is now (trusted, as above).
  void publishLocalCursor(std::uint32_t streamId, const base::CursorImage* shape, const base::CursorPos& pos);
  void endStream(std::uint32_t streamId, const std::string& reason);
  // The sharer's switch for viewers' pointers and pens on its stream (the host's own share;
  // a client's sharer sends ViewerMarks). Off: everything shown goes at once and no more is
  // relayed; its watchers are told.
  void setViewerMarks(std::uint32_t streamId, bool allowed);
  bool viewerMarks(std::uint32_t streamId) const;
  // Closes every screen connection of a participant who left the chat.
  void dropParticipant(std::uint32_t participantId, wire::Reason reason);
  // Says goodbye to everyone and refuses newcomers.
  void shutdown(const std::string& reason);

  std::vector<wire::StreamInfo> streams() const;
  ScreenHubStats stats() const;
  // Bytes a stream keeps alive: every distinct buffer its tiles point into, and its cached
  // updates. 0 for no such stream. Walks the grid (for tests and the host's statistics).
  std::uint64_t streamBytesHeld(std::uint32_t streamId) const;

 private:
  struct Stream;
  struct Update;
  using PeerPtr = std::shared_ptr<ScreenPeer>;

  // PeerTable's hooks.
  PeerPtr makePeerLocked(PeerId id, std::shared_ptr<PeerLink> link, std::int64_t nowUs) override;
  bool pendingLocked(const ScreenPeer& peer) const override;
  bool admittedLocked(const ScreenPeer& peer) const override;
  void handleFrame(const PeerPtr& peer, const wire::Frame& frame, std::int64_t nowUs) override;
  void detachedLocked(ScreenPeer& peer, wire::Reason reason) override;
  void afterReceive(const std::shared_ptr<ScreenPeer>& peer, std::int64_t nowUs) override;
  // An update of `bytes` queued to `peer`, sent tracked (counted until drained() or detach).
  void queuedLocked(ScreenPeer& peer, std::size_t bytes);
  std::int64_t tickLocked(ScreenPeer& peer, std::int64_t nowUs) override;

  void handleHello(const PeerPtr& peer, const wire::Frame& frame);
  // Admits a peer whose token was checked, unless a participant left since (false: ask again).
  bool attachChecked(const PeerPtr& peer, std::uint32_t participantId, const std::string& name, std::uint64_t leaves);
  void handlePublishStart(const PeerPtr& peer, const wire::Frame& frame);
  void handlePublishTiles(const PeerPtr& peer, const wire::Frame& frame, std::int64_t nowUs);
  // CursorShape / CursorPosition from a publisher: rate-limited, checked, relayed.
  void handleCursor(const PeerPtr& peer, const wire::Frame& frame, std::int64_t nowUs);
  // PointAt from a viewer: rate-limited, checked, relayed to the stream's watchers and sharer.
  void handlePointAt(const PeerPtr& peer, const wire::Frame& frame, std::int64_t nowUs);
  // PenStroke from a viewer: the same checks, plus each stroke's point cap.
  void handlePenStroke(const PeerPtr& peer, const wire::Frame& frame, std::int64_t nowUs);
  // ViewerMarks from a sharer: its stream's switch.
  void handleViewerMarks(const PeerPtr& peer, const wire::Frame& frame);

  // The rest must hold m_mutex.
  // Why `ownerId` may not start another stream now (session or participant cap), or empty.
  std::string streamRefusalLocked(std::uint32_t ownerId) const;
  // Tops up a publisher's byte bucket for the time since it was last topped up.
  void refillLocked(ScreenPeer& peer, std::int64_t nowUs);
  std::uint32_t createStreamLocked(PeerId publisher, std::uint32_t ownerId, const std::string& ownerName,
                                   const std::string& title, std::uint32_t w, std::uint32_t h, std::uint16_t tile);
  void resizeStreamLocked(Stream& s, const std::string& title, std::uint32_t w, std::uint32_t h, std::uint16_t tile);
  void applyBatchLocked(Stream& s, wire::TileBatch& batch);
  // Tier `tier` of stream `top`'s grids, made (empty) if it is not yet.
  Stream& tierLocked(Stream& top, int tier);
  // Every slot of `g` holds a tile: a viewer may be moved onto it.
  static bool wholeLocked(const Stream& g);
  // Lets go of every tile of `g` (a tier nobody wants), keeping its geometry.
  void clearGridLocked(Stream& g);
  // Asks each of `peer`'s policies for its tier, and moves the wanted tiers of its streams.
  void tiersLocked(ScreenPeer& peer);
  // Recomputes which tiers of `top` are wanted; lets go of the others and tells the publisher.
  void updateWantedLocked(Stream& top);
  std::int64_t nowLocked() const;
  // Keeps a shape (its H->C frame, encoded before the lock) in the stream's cache by id.
  void storeCursorShapeLocked(Stream& s, std::uint32_t shapeId, base::Bytes frame);
  // Sets the stream's cursor and relays it to every viewer of the stream.
  void setCursorLocked(Stream& s, const base::CursorPos& pos);
  // Sends `peer` the stream's cursor: its shape first if that viewer may not have it cached,
  // then the position, latest-wins, ahead of any update waiting to be sent. While the stream's
  // cursor is held (Stream::cursorHeld: its frame's tiles are on their way into the hub) the
  // position waits instead (`positionDue`), to go in the same write as the update that viewer
  // is sent next; releaseCursorLocked() sends those no update took.
  void sendCursorLocked(ScreenPeer& peer, std::deque<std::uint32_t>& shapesSent, bool& positionDue, Stream& s);
  void releaseCursorLocked(Stream& s);
  void cursorDroppedLocked(ScreenPeer& peer, const std::string& why);
  // The host's own cursor: its shape's frame (null: none new) and position, as a publisher's.
  void applyLocalBatchLocked(Stream& top, wire::TileBatch& batch, int tier);
  // Gives grid `s` (of stream `top`) the host's batch's geometry, if it has another.
  void fitLocalLocked(const Stream& top, Stream& s, const wire::TileBatch& batch);
  static base::Bytes encodeCursorShape(std::uint32_t streamId, const base::CursorImage* shape);
  void setLocalCursorLocked(Stream& s, base::Bytes shapeFrame, const base::CursorImage* shape,
                            const base::CursorPos& pos);
  void pointerDroppedLocked(ScreenPeer& peer, const std::string& why, bool pen = false);
  // Sends `frame` (a pointer, pen or switch of `s`) through the urgent lane to each of its
  // watchers and to its sharer's connections; `key` nonzero: latest-wins. How many it went to.
  std::size_t relayToStreamLocked(Stream& s, const base::Bytes& frame, std::uint64_t key);
  void relayPointerLocked(Stream& s, const wire::Pointer& m);
  // Whether `peer` may point or draw on `s` now (watches it or shares it, and the sharer's
  // switch is on); if not, the drop is counted and logged.
  bool mayMarkLocked(ScreenPeer& peer, const Stream& s, bool pen);
  // Removes every pointer and pen stroke `peer` shows (or those on `streamId`, if nonzero)
  // and relays their gone at once.
  void clearMarksLocked(const ScreenPeer& peer, std::uint32_t streamId = 0);
  // Removes everyone's pointers and strokes from `s` (its sharer turned them off).
  void clearStreamMarksLocked(Stream& s);
  void setViewerMarksLocked(Stream& s, bool allowed);
  void endStreamLocked(std::uint32_t streamId, const std::string& reason);
  // Everyone logged in (viewers learn of streams this way).
  std::vector<std::shared_ptr<PeerLink>> readyLinksLocked() const;
  // Tells the owner, after the lock.
  void sharingChangedLocked(std::uint32_t participantId, bool sharing);
  // Sends `peer` its next update if it has credit, a newer version and an idle connection.
  void pumpLocked(ScreenPeer& peer);
  // Queues `update` of stream `top` to `peer`, with the cursor position if `cursorDue` (its
  // subscription's flag, cleared).
  void sendUpdateLocked(ScreenPeer& peer, bool& cursorDue, const Stream& top, std::shared_ptr<Update> update);
  // Tiles newer than `fromVersion` from grid index `from` on, as much as one frame holds.
  std::shared_ptr<Update> updateForLocked(Stream& s, std::uint64_t fromVersion, std::size_t from);
  // From the log: the next batch with copies after `fromVersion` and the tiles up to the one
  // after it; null if the log does not reach back that far.
  std::shared_ptr<Update> replayForLocked(Stream& s, std::uint64_t fromVersion);
  // An empty update of the stream as it is now (header only).
  static std::shared_ptr<Update> newUpdateLocked(const Stream& s);
  // Keeps `update` for viewers in step at `key`, within the cache's caps (oldest out).
  static void cacheLocked(Stream& s, std::pair<std::uint64_t, std::size_t> key, const std::shared_ptr<Update>& update);

  // A publisher's tiles for `s` (one of its tier grids; null: none, not kept) checked against
  // the grid's budget, applied, and acked.
  void acceptPublishedLocked(ScreenPeer& peer, Stream* s, wire::TileBatch& batch, std::size_t budget);

  ScreenHubConfig m_config;
  TokenCheck m_tokenCheck;
  std::uint64_t m_leaveGeneration = 0;  // (m_mutex) bumped by each dropParticipant()
  SharingChanged m_sharingChanged;
  std::map<std::uint32_t, std::unique_ptr<Stream>> m_streams;  // (m_mutex)
  std::uint32_t m_nextStreamId = 1;
  ScreenHubStats m_stats;
  std::atomic<std::uint64_t> m_updateBytesSent{0};  // counted as updates are serialised, after the lock
  std::uint64_t m_updateBytesQueued = 0;  // under the lock: ScreenHubStats::updateBytesQueued
  base::LogThrottle m_cursorLog;  // dropped cursor messages, per publisher
};

}  // namespace huddle::net
