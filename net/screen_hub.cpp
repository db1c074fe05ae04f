#include "net/screen_hub.h"

#include <algorithm>
#include <mutex>
#include <unordered_set>
#include <utility>

#include "net/base/clock.h"
#include "net/base/jpeg_check.h"
#include "net/base/lossless_check.h"
#include "net/base/log.h"

namespace huddle::net {

namespace {
constexpr const char* kTag = "net/screen";
// The longest a publisher's cursor waits for the tiles it came ahead of: more than a LAN takes
// to carry a large update, too short to be seen.
constexpr std::int64_t kCursorHoldUs = 25'000;

// A token bucket (`tokens`, topped up at `perSec` to at most `burst` since `refillUs`): takes
// `cost` if it holds that much; false (nothing taken) if not.
bool spendTokens(double& tokens, std::int64_t& refillUs, double perSec, double burst, double cost, std::int64_t nowUs) {
  if (refillUs != 0 && nowUs > refillUs) tokens = std::min(burst, tokens + double(nowUs - refillUs) * perSec / 1e6);
  if (nowUs > refillUs) refillUs = nowUs;
  if (tokens < cost) return false;
  tokens -= cost;
  return true;
}
}

struct ScreenHub::Stream {
  struct Tile {
    base::EncodedTile tile;
    std::uint64_t version = 0;  // stream version that last changed it; 0 = never set
    std::uint64_t copiedVersion = 0;  // the last version a copy or a patch wrote into it
    // Its bytes are older than what a copy or patch put there: only the sharer's next tile
    // makes it whole.
    bool stale() const { return copiedVersion > version; }
  };
  // Copies (issue 12). The last batches as they came (their tiles are shared slices), so a
  // viewer a few versions behind is replayed each copy against the image it was made for.
  struct LogEntry {
    std::uint64_t version = 0;
    std::vector<base::CopyRect> copies;
    std::vector<base::TilePatch> patches;  // after the copies, before the tiles
    std::vector<base::EncodedTile> tiles;
    std::uint64_t bytes = 0;
    // Copies or patches: only replayed in order, never coalesced with the batches before it.
    bool ordered() const { return !copies.empty() || !patches.empty(); }
  };
  std::deque<LogEntry> log;
  std::uint64_t logBytes = 0;
  std::uint64_t lastCopyVersion = 0;  // the newest batch with copies or patches (0: none)
  std::size_t staleSlots = 0;         // tiles whose bytes a later copy overwrote
  wire::StreamInfo info;
  PeerId publisher = 0;          // 0: the host's own pipeline
  std::vector<Tile> tiles;       // row-major grid
  std::uint64_t version = 0;     // +1 per applied batch
  std::uint64_t tileBytes = 0;   // sum of its tiles' bytes: at most kMaxStreamBytes from a publisher
  std::uint64_t lastSeq = 0;
  std::int64_t lastCaptureUs = 0;
  // (fromVersion, first grid index) -> the update from there up to `version`; at most
  // kUpdateCacheEntries and kMaxUpdateCacheBytes of payload.
  std::map<std::pair<std::uint64_t, std::size_t>, std::shared_ptr<Update>> cache;
  std::size_t cacheBytes = 0;
  // The sharer's cursor: shapes by id as the viewers get them (CursorShape frames), the
  // oldest first out past kMaxCursorShapesCached, and where it is now.
  std::map<std::uint32_t, base::Bytes> cursorShapes;
  std::deque<std::uint32_t> cursorShapeOrder;
  base::CursorPos cursor;
  bool hasCursor = false;
  base::Bytes cursorFrame;  // the position as a CursorPosition frame, made once for all viewers
  // Its frame's tiles are on their way into the hub (the host's own publishLocal, or a
  // publisher's bytes being read): positions wait to go with each viewer's update.
  bool cursorHeld = false;
  // Pointers shown on it now, by the connection that points (so one leaving takes its own away).
  struct PointerMark {
    std::uint32_t participantId = 0;
    std::string name;
  };
  std::map<PeerId, PointerMark> pointers;
  // Pen strokes shown on it, by the connection that draws: its stroke under way (the points
  // relayed so far count against kMaxPenPointsPerStroke).
  struct PenMark {
    std::uint32_t participantId = 0;
    std::string name;
    std::uint32_t strokeId = 0;
    std::size_t points = 0;
    bool open = false;  // the stroke has not ended
  };
  std::map<PeerId, PenMark> pens;
  bool marksAllowed = true;  // the sharer's switch: viewers' pointers and pens are relayed
  // Tiers: this grid's (0: the stream's own, above), and, on tier 0 only, the lower tiers'
  // grids (made at their first tiles: their info is a copy with their own geometry) and the
  // tiers last told wanted, with how many times each was let go.
  int tier = 0;
  std::array<std::unique_ptr<Stream>, kScreenTiers - 1> lower;
  std::size_t filled = 0;  // slots holding a tile
  std::uint8_t wanted = 1;
  std::array<std::uint32_t, kScreenTiers> restarts{};
};

// One update as the viewers in step from one version get it: its tiles are picked under the
// hub's lock (shared with the stream, not copies) and serialised once, after the lock, by
// whichever send comes first. An update never exceeds kMaxScreenPayload, the most a viewer
// accepts: when more tiles are newer, it is one part, ending before grid index `end`.
struct ScreenHub::Update {
  wire::TileBatch batch;
  std::size_t payloadBytes = 0;  // what the frame will hold, known under the lock
  std::size_t end = 0;           // grid index after the last one this part looked at
  std::uint64_t toVersion = 0;   // a replay (copies): the version the viewer has once done
  std::once_flag once;
  base::Bytes frame;

  const base::Bytes& encoded() {
    std::call_once(once, [this] {
      frame = wire::encodeTileBatch(wire::ScreenType::Update, batch);
      batch.tiles = {};  // the frame holds the bytes now
    });
    return frame;
  }
};

// One connection's state; all but what HubPeer says is guarded by the hub's lock.
struct ScreenPeer : HubPeer {
  enum class State { AwaitHello, Ready, Closed };
  struct Subscription {
    std::uint32_t streamId = 0;
    int credits = 0;
    std::uint64_t sentVersion = 0;
    // Mid-way through an update cut into parts: the grid index the next part starts at (0:
    // none), and the stream version the first part was cut at (what the viewer has once done).
    std::size_t cursor = 0;
    std::uint64_t partialTop = 0;
    // Cursor shapes this viewer was sent, oldest first: a mirror of its own cache (same cap,
    // same order), so a shape goes to it once per change, not with every position.
    std::deque<std::uint32_t> shapesSent;
    bool cursorDue = false;  // the stream's cursor position goes with its next update (see sendCursorLocked)
    // Its tier: the one it is served (told by a TierSwitch before its first update), and the
    // one its policy wants (it moves once that grid is whole).
    TierPolicy policy;
    int tier = 0;
    int target = 0;
    bool switchSent = false;
  };
  using HubPeer::HubPeer;

  State state = State::AwaitHello;
  std::uint32_t participantId = 0;
  std::vector<Subscription> subs;
  std::size_t nextSub = 0;        // round-robin start, so no stream starves the others
  // The updates on their way to its connection or in its queue (sent tracked, not yet
  // reported drained), oldest first: their sizes. One at most: the next waits for drained().
  std::deque<std::size_t> updatesQueued;
  std::uint32_t publishing = 0;   // stream id this peer publishes, 0 if none
  // The stream whose cursor it sent, held for that frame's tiles (0: none); whether those
  // tiles were handled; since when it is held. Reader thread only.
  std::uint32_t cursorHeld = 0;
  bool cursorTilesHandled = false;
  std::int64_t cursorHeldSinceUs = 0;
  // Its last PublishStart was refused (it was told why). Not HubPeer::refused, which would have
  // the table close it once a grace is over: a refused sharer stays, and watches.
  bool publishRefused = false;
  // Publishing rate (token bucket, bytes): acks wait while it is short (wire::kPublishBytesPerSec).
  double publishTokens = double(wire::kPublishBurstBytes);
  std::int64_t publishRefillUs = 0;
  std::vector<std::uint64_t> heldAcks;
  // Cursor messages it may still send (token buckets; over them they are dropped).
  double cursorPositionTokens = wire::kCursorPositionBurst;
  double cursorShapeTokens = wire::kCursorShapeBurst;
  std::int64_t cursorRefillUs = 0;
  // Pointer positions it may still have relayed (token bucket, kPointerPositionsPerSec).
  double pointerTokens = wire::kPointerBurst;
  std::int64_t pointerRefillUs = 0;
  // Pen points it may still have relayed (token bucket, kPenPointsPerSec).
  double penTokens = wire::kPenPointsBurst;
  std::int64_t penRefillUs = 0;
};

using State = ScreenPeer::State;

template class PeerTable<ScreenPeer>;

ScreenHub::ScreenHub(ScreenHubConfig config, TokenCheck tokenCheck, SharingChanged sharingChanged)
    : PeerTable(kTag, config.guard),
      m_config(std::move(config)),
      m_tokenCheck(std::move(tokenCheck)),
      m_sharingChanged(std::move(sharingChanged)) {}
ScreenHub::~ScreenHub() = default;

// [SECTION] PeerTable's hooks

ScreenHub::PeerPtr ScreenHub::makePeerLocked(PeerId id, std::shared_ptr<PeerLink> link, std::int64_t nowUs) {
  return std::make_shared<ScreenPeer>(id, std::move(link), &wire::screenPortPayloadLimit, nowUs);
}

bool ScreenHub::pendingLocked(const ScreenPeer& peer) const { return peer.state == State::AwaitHello; }

bool ScreenHub::admittedLocked(const ScreenPeer& peer) const { return peer.state == State::Ready; }

std::int64_t ScreenHub::tickLocked(ScreenPeer& peer, std::int64_t nowUs) {
  std::int64_t due = kNoTickDue;
  if (peer.state == State::Ready && !peer.stopped && !peer.subs.empty()) {
    tiersLocked(peer);  // a stalled viewer moves down with no credit coming back
    pumpLocked(peer);
    // Updates in flight, a wait for a refresh or a move between tiers: timed on every tick.
    // An idle viewer below the top: at its probe's time. One served everything at the top
    // waits for the next update.
    for (const auto& sub : peer.subs) {
      const std::int64_t policyDue = sub.target != sub.tier ? nowUs : sub.policy.dueUs(nowUs);
      if (policyDue >= 0) due = std::min(due, std::max(policyDue, nowUs + kServerTickUs));
    }
  }
  if (peer.heldAcks.empty() || peer.stopped) return due;
  refillLocked(peer, nowUs);
  if (peer.publishTokens < 0) return nowUs + kServerTickUs;
  for (std::uint64_t seq : std::exchange(peer.heldAcks, {})) {
    wire::PublishAck ack;
    ack.seq = seq;
    sendLocked(peer.link, ack);
  }
  return due;
}

void ScreenHub::refillLocked(ScreenPeer& peer, std::int64_t nowUs) {
  if (peer.publishRefillUs != 0 && nowUs > peer.publishRefillUs)
    peer.publishTokens = std::min(double(wire::kPublishBurstBytes),
                                  peer.publishTokens + double(nowUs - peer.publishRefillUs) *
                                                           double(wire::kPublishBytesPerSec) / 1e6);
  if (nowUs > peer.publishRefillUs) peer.publishRefillUs = nowUs;
}

void ScreenHub::detachedLocked(ScreenPeer& peer, wire::Reason) {
  peer.state = State::Closed;
  for (std::size_t bytes : std::exchange(peer.updatesQueued, {})) m_updateBytesQueued -= bytes;
  for (const auto& sub : std::exchange(peer.subs, {}))
    if (auto it = m_streams.find(sub.streamId); it != m_streams.end()) updateWantedLocked(*it->second);
  clearMarksLocked(peer);  // a person who left (or was kicked) points at nothing, at once
  if (std::uint32_t stream = std::exchange(peer.publishing, 0)) {
    endStreamLocked(stream, peer.name + " stopped sharing");
    sharingChangedLocked(peer.participantId, false);
  }
}

// [SECTION] frames (reader thread)

void ScreenHub::handleFrame(const PeerPtr& peer, const wire::Frame& frame, std::int64_t nowUs) {
  State state;
  {
    std::lock_guard lock(m_mutex);
    state = peer->state;
  }
  if (state == State::Closed) return;
  if (state == State::AwaitHello) {
    if (frame.type != static_cast<std::uint16_t>(wire::MsgType::Hello))
      return drop(*peer, wire::Reason::ProtoState, "expected Hello first");
    return handleHello(peer, frame);
  }
  if (handleCommon(*peer, frame)) return;
  auto malformed = [&](const char* what) { drop(*peer, wire::Reason::ProtoMalformed, std::string("bad ") + what); };
  switch (static_cast<wire::ScreenType>(frame.type)) {
    case wire::ScreenType::Subscribe: {
      wire::Subscribe m;
      if (!wire::decodePayload(frame.payload, m)) return malformed("Subscribe");
      Section section(*this);
      if (!m_streams.count(m.streamId)) return;  // it may have just ended: not an error
      auto it = std::find_if(peer->subs.begin(), peer->subs.end(), [&](auto& s) { return s.streamId == m.streamId; });
      ScreenPeer::Subscription fresh;
      fresh.streamId = m.streamId;
      fresh.credits = m.credits;
      // It starts at the best tier that holds a whole image now (the top, unless nobody is on it).
      Stream& top = *m_streams.at(m.streamId);
      for (int t = kScreenTiers - 1; t >= 0; --t)
        if (const Stream* g = t == 0 ? &top : top.lower[std::size_t(t - 1)].get();
            g && (top.wanted >> t & 1) && wholeLocked(*g))
          fresh.tier = t;
      // Served the best whole tier at once, but aimed at the top: the top is wanted again and
      // the viewer moves there once it is whole (a fast newcomer never pays for a slow viewer
      // who had the stream to itself); if its link cannot carry the top, the policy says so.
      fresh.target = 0;
      fresh.policy = TierPolicy(m_config.tiers);
      fresh.policy.reset(fresh.target, nowLocked());
      if (it == peer->subs.end()) it = peer->subs.insert(peer->subs.end(), std::move(fresh));
      else *it = std::move(fresh);  // resubscribing asks for the whole image again
      // A new viewer sees the cursor at once, shape and all, before the first update.
      sendCursorLocked(*peer, it->shapesSent, it->cursorDue, *m_streams.at(m.streamId));
      updateWantedLocked(*m_streams.at(m.streamId));
      if (!m_streams.at(m.streamId)->marksAllowed) {
        // ...and that its sharer turned pointing and drawing off.
        wire::ViewerMarks off;
        off.streamId = m.streamId;
        off.allowed = false;
        laterLocked([link = peer->link, frame = wire::encodeFrame(off)] { link->sendUrgent(frame, 0); });
      }
      pumpLocked(*peer);
      return;
    }
    case wire::ScreenType::Unsubscribe: {
      wire::Unsubscribe m;
      if (!wire::decodePayload(frame.payload, m)) return malformed("Unsubscribe");
      Section section(*this);
      std::erase_if(peer->subs, [&](auto& s) { return s.streamId == m.streamId; });
      clearMarksLocked(*peer, m.streamId);
      if (auto it = m_streams.find(m.streamId); it != m_streams.end()) updateWantedLocked(*it->second);
      return;
    }
    case wire::ScreenType::UpdateRequest: {
      wire::UpdateRequest m;
      if (!wire::decodePayload(frame.payload, m)) return malformed("UpdateRequest");
      Section section(*this);
      const std::int64_t now = nowLocked();
      for (auto& s : peer->subs) {
        if (s.streamId != m.streamId) continue;
        // Credits are capped: a viewer cannot make the host queue more than a few updates.
        s.credits = std::min<int>(s.credits + m.credits, wire::kMaxCredits);
        if (m.fullRefresh) s.sentVersion = 0, s.cursor = 0;
        // Each credit back is an update done: its round trip tells the viewer's pace.
        s.policy.acked(now, std::min<int>(m.credits, wire::kMaxCredits));
      }
      tiersLocked(*peer);
      pumpLocked(*peer);
      return;
    }
    case wire::ScreenType::PublishStart:
      return handlePublishStart(peer, frame);
    case wire::ScreenType::PublishTiles:
    case wire::ScreenType::PublishCopyTiles:
    case wire::ScreenType::PublishTierTiles:
      return handlePublishTiles(peer, frame, nowUs);
    case wire::ScreenType::CursorShape:
    case wire::ScreenType::CursorPosition:
      return handleCursor(peer, frame, nowUs);
    case wire::ScreenType::PointAt:
      return handlePointAt(peer, frame, nowUs);
    case wire::ScreenType::PenStroke:
      return handlePenStroke(peer, frame, nowUs);
    case wire::ScreenType::ViewerMarks:
      return handleViewerMarks(peer, frame);
    case wire::ScreenType::PublishStop: {
      Section section(*this);
      peer->publishRefused = false;
      if (std::uint32_t id = std::exchange(peer->publishing, 0)) {
        endStreamLocked(id, peer->name + " stopped sharing");
        sharingChangedLocked(peer->participantId, false);
      }
      return;
    }
    default:
      return unexpected(*peer, frame);
  }
}

void ScreenHub::handleHello(const PeerPtr& peer, const wire::Frame& frame) {
  wire::Hello hello;
  if (!readHello(*peer, frame, wire::PortKind::Screen, hello)) return;
  // This connection's own exporter: the seat is proven over it (docs/SECURITY.md s.5).
  std::array<std::uint8_t, 32> exporter{};
  const bool secured = peer->link->exporter(kAuthExporterLabel, exporter);
  ScreenSeat seat;
  // Asked before our lock is taken: the chat hub answers under its own. A participant who
  // leaves (a kick) meanwhile is dropped by dropParticipant(), which cannot see this peer
  // yet: after any leave since the question, it is asked again.
  std::uint64_t leaves = 0;
  do {
    {
      std::lock_guard lock(m_mutex);
      leaves = m_leaveGeneration;
    }
    if (!m_tokenCheck || !m_tokenCheck(hello.token, seat))
      return reject(*peer, wire::RejectCode::BadHello, "unknown session token: join the chat first");
    // A seat joined over TLS is proven over TLS; a token alone (seen in a log, say) is not
    // enough. Only a host running without TLS at all (tests) admits the bare token.
    if (seat.key || secured) {
      if (!seat.key || !secured ||
          !proofsEqual(hello.seatProof, screenLoginProof(*seat.key, exporter, hello.token)))
        return reject(*peer, wire::RejectCode::BadHello, "the screen login does not prove its seat");
    }
  } while (!attachChecked(peer, seat.participantId, seat.name, leaves));
}

bool ScreenHub::attachChecked(const PeerPtr& peer, std::uint32_t participantId, const std::string& name,
                              std::uint64_t leaves) {
  Section section(*this);
  if (m_leaveGeneration != leaves) return false;
  if (m_shuttingDown) {
    rejectLocked(*peer, wire::RejectCode::ShuttingDown, "the host is ending the session");
    return true;
  }
  const auto held = std::count_if(m_peers.begin(), m_peers.end(), [&](const auto& entry) {
    const ScreenPeer& p = *entry.second;
    return p.state == State::Ready && !p.stopped && p.participantId == participantId;
  });
  if (std::size_t(held) >= wire::kMaxScreenConnectionsPerParticipant) {
    rejectLocked(*peer, wire::RejectCode::SessionFull,
                 "already " + std::to_string(held) + " screen connections for this participant");
    return true;
  }
  peer->state = State::Ready;
  peer->participantId = participantId;
  peer->name = name;
  peer->guard.setHandshakeDone();  // on this peer's reader thread
  wire::Welcome welcome;
  welcome.participantId = participantId;
  welcome.name = name;
  welcome.hostName = m_config.hostName;
  welcome.serverTimeUs = base::wallUs();
  sendLocked(peer->link, std::move(welcome));
  for (const auto& [id, s] : m_streams) {
    wire::StreamAnnounce a;
    a.info = s->info;
    sendLocked(peer->link, std::move(a));
  }
  return true;
}

void ScreenHub::handlePublishStart(const PeerPtr& peer, const wire::Frame& frame) {
  wire::PublishStart m;
  if (!wire::decodePayload(frame.payload, m)) return drop(*peer, wire::Reason::ProtoMalformed, "bad PublishStart");
  if (std::string why = wire::validateStreamGeometry(m.widthPx, m.heightPx, m.tileSizePx); !why.empty())
    return drop(*peer, wire::Reason::ScreenBounds, why);
  Section section(*this);
  if (peer->publishing) {
    resizeStreamLocked(*m_streams.at(peer->publishing), m.title, m.widthPx, m.heightPx, m.tileSizePx);
  } else if (std::string why = streamRefusalLocked(peer->participantId); !why.empty()) {
    // Refused, and told why; it stays connected (and watching), and may ask again later.
    peer->publishRefused = true;
    wire::PublishRefused no;
    no.reason = why;
    laterLocked([id = peer->id, who = peer->name, why] {
      HLOG_INFO(kTag, "publish refused conn=#%llu name=%s: %s", static_cast<unsigned long long>(id), who.c_str(),
                why.c_str());
    });
    sendLocked(peer->link, std::move(no));
    return;
  } else {
    peer->publishRefused = false;
    peer->publishing = createStreamLocked(peer->id, peer->participantId, peer->name, m.title, m.widthPx, m.heightPx,
                                          m.tileSizePx);
    sharingChangedLocked(peer->participantId, true);
  }
  wire::PublishAccepted ok;
  ok.streamId = peer->publishing;
  sendLocked(peer->link, std::move(ok));
}

void ScreenHub::handlePublishTiles(const PeerPtr& peer, const wire::Frame& frame, std::int64_t nowUs) {
  {
    // Tiles sent before the publisher read its refusal: ignored, not checked, not held against it.
    Section section(*this);
    if (!peer->publishing && peer->publishRefused) return;
    // Counted before anything is checked: checking is what a flood would cost us.
    refillLocked(*peer, nowUs);
    peer->publishTokens -= double(frame.payload.size());
    if (peer->publishTokens < -double(wire::kPublishBurstBytes))
      return dropLocked(*peer, wire::Reason::Flood,
                        "publishing over " + std::to_string(wire::kPublishBytesPerSec >> 20) +
                            " MiB/s without waiting for its acks");
  }
  // Parsed in place; the tiles that pass are copied out below, each into a buffer of its own.
  base::Bytes owner = base::makeBytes(base::ByteVec(frame.payload.begin(), frame.payload.end()));
  wire::Reader r(base::view(owner));
  wire::TileBatch batch;
  std::string error;
  if (!batch.read(r, owner, error, wire::hasCopies(frame.type)) || !r.done())
    return drop(*peer, wire::Reason::ScreenBounds, error.empty() ? "trailing bytes after tiles" : error);
  for (const auto& c : batch.copies)
    if (std::string why = wire::validateCopy(c, batch.widthPx, batch.heightPx); !why.empty())
      return drop(*peer, wire::Reason::ScreenBounds, why);
  // (Each patch's place was checked as it was read.) The host never decodes, but it refuses
  // anything a viewer's decoder should not see, a patch's bytes checked at the patch's size.
  for (const auto& p : batch.patches) {
    const base::EncodedTile& t = p.tile;
    if (t.kind == base::TileKind::Solid) continue;
    const bool ok = t.kind == base::TileKind::Jpeg       ? base::checkJpegTile(t.jpeg.span(), p.w, p.h, error)
                    : t.kind == base::TileKind::JpegScan ? base::checkJpegScan(t.jpeg.span(), error)
                    : base::checkLosslessTile(t.kind, t.jpeg.span(), p.w, p.h, error);
    if (!ok)
      return drop(*peer, wire::Reason::ScreenJpeg,
                  "patch of tile (" + std::to_string(t.tx) + "," + std::to_string(t.ty) + "): " + error);
  }
  for (const auto& t : batch.tiles) {
    if (t.kind == base::TileKind::Solid) continue;
    std::uint32_t w, h;
    wire::tileExtent(batch, t, w, h);
    const bool ok = t.kind == base::TileKind::Jpeg       ? base::checkJpegTile(t.jpeg.span(), w, h, error)
                    : t.kind == base::TileKind::JpegScan ? base::checkJpegScan(t.jpeg.span(), error)
                                                         : base::checkLosslessTile(t.kind, t.jpeg.span(), w, h, error);
    if (!ok)
      return drop(*peer, wire::Reason::ScreenJpeg,
                  "tile (" + std::to_string(t.tx) + "," + std::to_string(t.ty) + "): " + error);
  }
  // A stored tile owns just its bytes: a slice of the message would keep the whole message
  // (up to 24 MiB) alive for as long as any one of its tiles is the newest in its slot.
  for (auto& t : batch.tiles)
    if (t.kind != base::TileKind::Solid)
      t.jpeg = base::ByteSlice::whole(base::makeBytes(base::ByteVec(t.jpeg.span().begin(), t.jpeg.span().end())));
  for (auto& p : batch.patches)
    if (p.tile.kind != base::TileKind::Solid)
      p.tile.jpeg = base::ByteSlice::whole(
          base::makeBytes(base::ByteVec(p.tile.jpeg.span().begin(), p.tile.jpeg.span().end())));
  owner.reset();
  Section section(*this);
  if (!peer->publishing) {
    if (peer->publishRefused) return;
    return dropLocked(*peer, wire::Reason::ProtoState, "tiles before PublishStart");
  }
  Stream& top = *m_streams.at(peer->publishing);
  if (frame.type != static_cast<std::uint16_t>(wire::ScreenType::PublishTierTiles)) {
    if (batch.widthPx != top.info.widthPx || batch.heightPx != top.info.heightPx ||
        batch.tileSizePx != top.info.tileSizePx)
      return dropLocked(*peer, wire::Reason::ScreenBounds, "tiles for a different stream size (send PublishStart first)");
    // The tiles a held cursor came ahead of: once they are in, it goes at the end of this read.
    if (peer->cursorHeld == top.info.streamId) peer->cursorTilesHandled = true;
    return acceptPublishedLocked(*peer, &top, batch, wire::kMaxStreamBytes);
  }
  // A lower tier: its own geometry, no larger than the stream's.
  const std::uint32_t tier = batch.streamId;
  if (tier == 0 || tier >= std::uint32_t(kScreenTiers))
    return dropLocked(*peer, wire::Reason::ScreenBounds,
                      "tiles for tier " + std::to_string(tier) + " (1.." + std::to_string(kScreenTiers - 1) + ")");
  if (std::string why = wire::validateStreamGeometry(batch.widthPx, batch.heightPx, batch.tileSizePx); !why.empty())
    return dropLocked(*peer, wire::Reason::ScreenBounds, "tier " + std::to_string(tier) + ": " + why);
  // Larger than the stream: tiles of a size the publisher left (they crossed its PublishStart
  // for the new size), or a publisher that is wrong. Neither is kept; neither breaks the share.
  if (batch.widthPx > top.info.widthPx || batch.heightPx > top.info.heightPx) {
    HLOG_DEBUG(kTag, "stream %u: tier %u tiles of %ux%u, larger than the stream, not kept", top.info.streamId, tier,
               batch.widthPx, batch.heightPx);
    return acceptPublishedLocked(*peer, nullptr, batch, 0);
  }
  if (!(top.wanted >> tier & 1)) {
    // Sent before it read that nobody wants that tier now: not kept, not held against it.
    return acceptPublishedLocked(*peer, nullptr, batch, 0);
  }
  Stream& g = tierLocked(top, int(tier));
  if (batch.widthPx != g.info.widthPx || batch.heightPx != g.info.heightPx || batch.tileSizePx != g.info.tileSizePx)
    resizeStreamLocked(g, top.info.title, batch.widthPx, batch.heightPx, batch.tileSizePx);
  acceptPublishedLocked(*peer, &g, batch, wire::kMaxTierStreamBytes);
}

void ScreenHub::acceptPublishedLocked(ScreenPeer& peer, Stream* s, wire::TileBatch& batch, std::size_t budget) {
  const std::uint64_t seq = batch.seq;
  if (s) {
    // The grid's budget, counted as it would be after this batch (replaced tiles let go).
    std::uint64_t after = s->tileBytes;
    const std::uint32_t cols = s->info.tilesX();
    for (const auto& t : batch.tiles) {
      after += t.jpeg.size;
      after -= s->tiles[std::size_t(t.ty) * cols + t.tx].tile.jpeg.size;  // part of `after`: no wrap
    }
    if (after > budget)
      return dropLocked(peer, wire::Reason::ScreenBounds,
                        std::string(s->tier == 0 ? "the stream" : "a tier of the stream") + " would hold " +
                            std::to_string(after) + " bytes of tiles, over its " + std::to_string(budget >> 20) +
                            " MiB");
    applyBatchLocked(*s, batch);
  }
  if (peer.publishTokens < 0 || !peer.heldAcks.empty()) {
    peer.heldAcks.push_back(seq);  // sent by tick() once the bucket has refilled
    wakeBy(base::monoUs() + kServerTickUs);
    return;
  }
  wire::PublishAck ack;
  ack.seq = seq;
  sendLocked(peer.link, ack);
}

void ScreenHub::handleCursor(const PeerPtr& peer, const wire::Frame& frame, std::int64_t nowUs) {
  const bool isShape = frame.type == static_cast<std::uint16_t>(wire::ScreenType::CursorShape);
  std::uint32_t streamId = 0;
  {
    // Counted before anything is checked: checking is what a flood would cost us.
    Section section(*this);
    if (!peer->publishing) {
      if (!peer->publishRefused) cursorDroppedLocked(*peer, "cursor before PublishStart");
      return;
    }
    if (peer->cursorRefillUs != 0 && nowUs > peer->cursorRefillUs) {
      const double seconds = double(nowUs - peer->cursorRefillUs) / 1e6;
      peer->cursorPositionTokens =
          std::min(wire::kCursorPositionBurst, peer->cursorPositionTokens + seconds * wire::kCursorPositionsPerSec);
      peer->cursorShapeTokens =
          std::min(wire::kCursorShapeBurst, peer->cursorShapeTokens + seconds * wire::kCursorShapesPerSec);
    }
    if (nowUs > peer->cursorRefillUs) peer->cursorRefillUs = nowUs;
    double& tokens = isShape ? peer->cursorShapeTokens : peer->cursorPositionTokens;
    if (tokens < 1)
      return cursorDroppedLocked(*peer, isShape ? "cursor shapes over " + std::to_string(int(wire::kCursorShapesPerSec)) + "/s"
                                                : "cursor positions over " +
                                                      std::to_string(int(wire::kCursorPositionsPerSec)) + "/s");
    tokens -= 1;
    streamId = peer->publishing;
  }
  if (isShape) {
    wire::CursorShape m;
    if (!wire::decodePayload(frame.payload, m)) {
      Section section(*this);
      return cursorDroppedLocked(*peer, "malformed or oversized cursor shape");
    }
    m.streamId = streamId;
    base::Bytes encoded = wire::encodeFrame(m);  // what viewers get, serialised once, outside the lock
    Section section(*this);
    auto it = m_streams.find(streamId);
    if (it == m_streams.end() || peer->publishing != streamId) return;  // stopped meanwhile
    storeCursorShapeLocked(*it->second, m.image.id, std::move(encoded));
    return;
  }
  wire::CursorPosition m;
  Section section(*this);
  if (!wire::decodePayload(frame.payload, m)) return cursorDroppedLocked(*peer, "malformed cursor position");
  auto it = m_streams.find(streamId);
  if (it == m_streams.end() || peer->publishing != streamId) return;
  Stream& s = *it->second;
  if (std::string why = wire::validateCursorPosition(m.pos, s.info.widthPx, s.info.heightPx); !why.empty())
    return cursorDroppedLocked(*peer, why);
  // A publisher sends a frame's cursor just ahead of its tiles: held while they come in, to go
  // in one write with each viewer's update (afterReceive says how long).
  s.cursorHeld = true;
  if (peer->cursorHeld != streamId) peer->cursorHeldSinceUs = nowUs;
  peer->cursorHeld = streamId;
  peer->cursorTilesHandled = false;
  setCursorLocked(s, m.pos);
}

void ScreenHub::afterReceive(const PeerPtr& peer, std::int64_t nowUs) {
  // Set by this reader thread only: no lock for the look. Held to the end of the read it came
  // in, so every tier's tiles read with it carry it; and beyond, while its top tiles are read
  // in part (a large update takes several reads), but not for longer than kCursorHoldUs: a
  // position sent ahead of an older frame (the publisher's urgent lane) must not wait on a
  // slow uplink.
  if (peer->cursorHeld == 0) return;
  const int partial = peer->guard.partialType();
  const bool tilesComing = partial == int(wire::ScreenType::PublishTiles) ||
                           partial == int(wire::ScreenType::PublishCopyTiles);
  if (tilesComing && !peer->cursorTilesHandled && !peer->stopped && nowUs - peer->cursorHeldSinceUs < kCursorHoldUs)
    return;
  Section section(*this);
  const std::uint32_t streamId = std::exchange(peer->cursorHeld, 0);
  if (auto it = m_streams.find(streamId); it != m_streams.end()) releaseCursorLocked(*it->second);
}

void ScreenHub::cursorDroppedLocked(ScreenPeer& peer, const std::string& why) {
  ++m_stats.cursorDropped;
  laterLocked([this, id = peer.id, who = peer.name, why] {
    std::string note;
    if (m_cursorLog.allow(id, note))
      HLOG_WARN(kTag, "cursor message dropped conn=#%llu name=%s: %s%s", static_cast<unsigned long long>(id),
                who.c_str(), why.c_str(), note.c_str());
  });
}

void ScreenHub::handlePointAt(const PeerPtr& peer, const wire::Frame& frame, std::int64_t nowUs) {
  wire::PointAt m;
  if (!wire::decodePayload(frame.payload, m)) return drop(*peer, wire::Reason::ProtoMalformed, "bad PointAt");
  Section section(*this);
  auto it = m_streams.find(m.streamId);
  if (it == m_streams.end()) return;  // it may have just ended: not an error
  Stream& s = *it->second;
  if (!mayMarkLocked(*peer, s, false)) return;
  if (!m.present) {
    // Gone: relayed once, and only for a pointer that is shown (so gones cost no tokens).
    if (s.pointers.erase(peer->id) == 0) return;
  } else {
    // Counted before the bounds: checking is what a flood would cost us.
    if (!spendTokens(peer->pointerTokens, peer->pointerRefillUs, wire::kPointerPositionsPerSec, wire::kPointerBurst, 1, nowUs))
      return pointerDroppedLocked(*peer, "pointer positions over " + std::to_string(int(wire::kPointerPositionsPerSec)) + "/s");
    if (std::string why = wire::validatePointer(m.x, m.y, s.info.widthPx, s.info.heightPx); !why.empty())
      return pointerDroppedLocked(*peer, why);
    s.pointers[peer->id] = Stream::PointerMark{peer->participantId, peer->name};
  }
  wire::Pointer out;
  out.streamId = m.streamId;
  out.participantId = peer->participantId;
  out.name = peer->name;
  out.x = m.present ? m.x : 0;
  out.y = m.present ? m.y : 0;
  out.present = m.present;
  relayPointerLocked(s, out);
}

std::size_t ScreenHub::relayToStreamLocked(Stream& s, const base::Bytes& frame, std::uint64_t key) {
  std::size_t sent = 0;
  for (auto& [id, p] : m_peers) {
    if (p->state != State::Ready || p->stopped) continue;
    const bool watcher = std::any_of(p->subs.begin(), p->subs.end(), [&](auto& sub) { return sub.streamId == s.info.streamId; });
    if (!watcher && p->participantId != s.info.ownerId) continue;
    ++sent;
    laterLocked([link = p->link, frame, key] { link->sendUrgent(frame, key); });
  }
  return sent;
}

void ScreenHub::relayPointerLocked(Stream& s, const wire::Pointer& m) {
  // Latest-wins per stream and person: a position not yet sent is replaced by the newer one
  // (or by the gone), never queued behind tiles.
  const std::uint64_t key = std::uint64_t{2} << 62 | std::uint64_t(s.info.streamId & 0x3FFFFFFF) << 32 | m.participantId;
  m_stats.pointersRelayed += relayToStreamLocked(s, wire::encodeFrame(m), key);
}

bool ScreenHub::mayMarkLocked(ScreenPeer& peer, const Stream& s, bool pen) {
  const char* what = pen ? "pen" : "pointer";
  const bool watching = std::any_of(peer.subs.begin(), peer.subs.end(), [&](auto& sub) { return sub.streamId == s.info.streamId; });
  if (!watching && s.info.ownerId != peer.participantId) {
    pointerDroppedLocked(peer, std::string(what) + " on stream " + std::to_string(s.info.streamId) + " it does not watch", pen);
    return false;
  }
  if (!s.marksAllowed && s.info.ownerId != peer.participantId) {
    pointerDroppedLocked(peer, std::string(what) + " on stream " + std::to_string(s.info.streamId) +
                                   ": its sharer turned pointing and drawing off", pen);
    return false;
  }
  return true;
}

void ScreenHub::handlePenStroke(const PeerPtr& peer, const wire::Frame& frame, std::int64_t nowUs) {
  wire::PenStroke m;
  if (!wire::decodePayload(frame.payload, m)) return drop(*peer, wire::Reason::ProtoMalformed, "bad PenStroke");
  Section section(*this);
  auto it = m_streams.find(m.streamId);
  if (it == m_streams.end()) return;  // it may have just ended: not an error
  Stream& s = *it->second;
  if (!mayMarkLocked(*peer, s, true)) return;
  // Counted before the bounds, like pointers: a batch costs its points (at least one).
  const double cost = double(std::max<std::size_t>(1, m.points.size()));
  if (!spendTokens(peer->penTokens, peer->penRefillUs, wire::kPenPointsPerSec, wire::kPenPointsBurst, cost, nowUs))
    return pointerDroppedLocked(*peer, "pen points over " + std::to_string(int(wire::kPenPointsPerSec)) + "/s", true);
  if (std::string why = wire::validatePenPoints(m.points, s.info.widthPx, s.info.heightPx); !why.empty())
    return pointerDroppedLocked(*peer, why, true);
  Stream::PenMark& pen = s.pens[peer->id];
  pen.participantId = peer->participantId;
  pen.name = peer->name;
  if (!pen.open || pen.strokeId != m.strokeId) {
    if (pen.strokeId == m.strokeId && pen.points > 0)
      return pointerDroppedLocked(*peer, "points for stroke " + std::to_string(m.strokeId) + ", which ended", true);
    pen.strokeId = m.strokeId;  // a new stroke (one left open just stops growing)
    pen.points = 0;
    pen.open = true;
  }
  if (pen.points + m.points.size() > wire::kMaxPenPointsPerStroke) {
    pointerDroppedLocked(*peer, "a stroke over " + std::to_string(wire::kMaxPenPointsPerStroke) + " points", true);
    if (!m.end) return;
    m.points.clear();  // its end still goes, so viewers let it fade
  }
  pen.points += m.points.size();
  if (m.end) pen.open = false;
  wire::Pen out;
  out.streamId = m.streamId;
  out.participantId = peer->participantId;
  out.name = peer->name;
  out.strokeId = m.strokeId;
  out.end = m.end;
  out.points = std::move(m.points);
  // In order, never replaced (each batch is new ink), ahead of tiles.
  m_stats.pensRelayed += relayToStreamLocked(s, wire::encodeFrame(out), 0);
}

void ScreenHub::handleViewerMarks(const PeerPtr& peer, const wire::Frame& frame) {
  wire::ViewerMarks m;
  if (!wire::decodePayload(frame.payload, m)) return drop(*peer, wire::Reason::ProtoMalformed, "bad ViewerMarks");
  Section section(*this);
  auto it = m_streams.find(m.streamId);
  if (it == m_streams.end()) return;
  if (it->second->publisher != peer->id)
    return pointerDroppedLocked(*peer, "a switch for stream " + std::to_string(m.streamId) + ", which it does not share");
  setViewerMarksLocked(*it->second, m.allowed);
}

void ScreenHub::setViewerMarks(std::uint32_t streamId, bool allowed) {
  Section section(*this);
  if (auto it = m_streams.find(streamId); it != m_streams.end()) setViewerMarksLocked(*it->second, allowed);
}

bool ScreenHub::viewerMarks(std::uint32_t streamId) const {
  std::lock_guard lock(m_mutex);
  auto it = m_streams.find(streamId);
  return it != m_streams.end() && it->second->marksAllowed;
}

void ScreenHub::setViewerMarksLocked(Stream& s, bool allowed) {
  if (s.marksAllowed == allowed) return;
  s.marksAllowed = allowed;
  if (!allowed) clearStreamMarksLocked(s);
  wire::ViewerMarks out;
  out.streamId = s.info.streamId;
  out.allowed = allowed;
  relayToStreamLocked(s, wire::encodeFrame(out), 0);
}

void ScreenHub::clearStreamMarksLocked(Stream& s) {
  for (auto& [id, mark] : std::exchange(s.pointers, {})) {
    wire::Pointer gone;
    gone.streamId = s.info.streamId;
    gone.participantId = mark.participantId;
    gone.name = mark.name;
    relayPointerLocked(s, gone);
  }
  for (auto& [id, pen] : std::exchange(s.pens, {})) {
    wire::Pen clear;
    clear.streamId = s.info.streamId;
    clear.participantId = pen.participantId;
    clear.name = pen.name;
    clear.clear = true;
    m_stats.pensRelayed += relayToStreamLocked(s, wire::encodeFrame(clear), 0);
  }
}

void ScreenHub::clearMarksLocked(const ScreenPeer& peer, std::uint32_t streamId) {
  for (auto& [id, s] : m_streams) {
    if (streamId != 0 && id != streamId) continue;
    if (auto it = s->pointers.find(peer.id); it != s->pointers.end()) {
      wire::Pointer gone;
      gone.streamId = id;
      gone.participantId = it->second.participantId;
      gone.name = it->second.name;
      s->pointers.erase(it);
      relayPointerLocked(*s, gone);
    }
    if (auto it = s->pens.find(peer.id); it != s->pens.end()) {
      wire::Pen clear;
      clear.streamId = id;
      clear.participantId = it->second.participantId;
      clear.name = it->second.name;
      clear.clear = true;
      s->pens.erase(it);
      m_stats.pensRelayed += relayToStreamLocked(*s, wire::encodeFrame(clear), 0);
    }
  }
}

void ScreenHub::pointerDroppedLocked(ScreenPeer& peer, const std::string& why, bool pen) {
  ++(pen ? m_stats.pensDropped : m_stats.pointersDropped);
  laterLocked([this, id = peer.id, who = peer.name, why, pen] {
    std::string note;
    if (m_cursorLog.allow(id, note))
      HLOG_WARN(kTag, "%s dropped conn=#%llu name=%s: %s%s", pen ? "pen" : "pointer", static_cast<unsigned long long>(id),
                who.c_str(), why.c_str(), note.c_str());
  });
}

// [SECTION] streams (hub lock held)

std::string ScreenHub::streamRefusalLocked(std::uint32_t ownerId) const {
  if (m_streams.size() >= m_config.maxStreams)
    return "The host already relays " + std::to_string(m_config.maxStreams) + " screens; try again later.";
  const auto own = std::count_if(m_streams.begin(), m_streams.end(),
                                 [&](const auto& entry) { return entry.second->info.ownerId == ownerId; });
  if (std::size_t(own) >= wire::kMaxStreamsPerParticipant)
    return "You already share " + std::to_string(own) + " screens; stop one first.";
  return {};
}

std::uint32_t ScreenHub::createStreamLocked(PeerId publisher, std::uint32_t ownerId, const std::string& ownerName,
                                            const std::string& title, std::uint32_t w, std::uint32_t h,
                                            std::uint16_t tile) {
  auto s = std::make_unique<Stream>();
  s->info.streamId = m_nextStreamId++;
  s->info.ownerId = ownerId;
  s->info.ownerName = ownerName;
  s->publisher = publisher;
  std::uint32_t id = s->info.streamId;
  m_streams.emplace(id, std::move(s));
  laterLocked([id, ownerName, w, h, title] {
    HLOG_INFO(kTag, "stream %u started by %s: %ux%u \"%s\"", id, ownerName.c_str(), w, h, title.c_str());
  });
  resizeStreamLocked(*m_streams.at(id), title, w, h, tile);
  return id;
}

void ScreenHub::resizeStreamLocked(Stream& s, const std::string& title, std::uint32_t w, std::uint32_t h,
                                   std::uint16_t tile) {
  s.info.title = title;
  s.info.widthPx = w;
  s.info.heightPx = h;
  s.info.tileSizePx = tile;
  s.tiles.resize(std::size_t(s.info.tilesX()) * s.info.tilesY());
  clearGridLocked(s);
  // Viewers on this grid start over with the new geometry, told it first: the next update
  // is a whole image.
  for (auto& [id, p] : m_peers)
    for (auto& sub : p->subs)
      if (sub.streamId == s.info.streamId && sub.tier == s.tier) sub.sentVersion = 0, sub.cursor = 0, sub.switchSent = false;
  if (s.tier != 0) return;  // a lower tier is the host's own affair
  wire::StreamAnnounce a;
  a.info = s.info;
  sendEachLocked(readyLinksLocked(), std::move(a));
}

void ScreenHub::applyBatchLocked(Stream& s, wire::TileBatch& batch) {
  const std::uint64_t version = ++s.version;
  const std::uint32_t cols = s.info.tilesX();
  // The log first (it shares the tiles' bytes), trimmed to its caps, oldest out.
  Stream::LogEntry entry;
  entry.version = version;
  entry.copies = batch.copies;
  entry.patches = batch.patches;
  entry.tiles = batch.tiles;
  for (const auto& t : batch.tiles) entry.bytes += t.jpeg.size;
  for (const auto& p : batch.patches) entry.bytes += p.tile.jpeg.size;
  s.logBytes += entry.bytes;
  s.log.push_back(std::move(entry));
  while (s.log.size() > wire::kCopyLogVersions || (s.log.size() > 1 && s.logBytes > wire::kMaxCopyLogBytes)) {
    s.logBytes -= s.log.front().bytes;
    s.log.pop_front();
  }
  if (!batch.copies.empty() || !batch.patches.empty()) {
    s.lastCopyVersion = version;
    const std::uint32_t tile = s.info.tileSizePx;
    // A patched tile holds its older whole bytes in the grid, as one a copy wrote.
    for (const auto& p : batch.patches)
      if (std::size_t i = std::size_t(p.tile.ty) * cols + p.tile.tx; i < s.tiles.size())
        s.tiles[i].copiedVersion = version;
    for (const auto& c : batch.copies) {
      if (c.w <= 0 || c.h <= 0) continue;
      for (std::uint32_t ty = std::uint32_t(c.dstY) / tile; ty <= std::uint32_t(c.dstY + c.h - 1) / tile; ++ty)
        for (std::uint32_t tx = std::uint32_t(c.dstX) / tile; tx <= std::uint32_t(c.dstX + c.w - 1) / tile; ++tx)
          if (std::size_t i = std::size_t(ty) * cols + tx; i < s.tiles.size()) s.tiles[i].copiedVersion = version;
    }
  }
  for (auto& t : batch.tiles) {
    Stream::Tile& slot = s.tiles[std::size_t(t.ty) * cols + t.tx];
    s.filled += slot.version == 0;
    s.tileBytes += t.jpeg.size;
    s.tileBytes -= slot.tile.jpeg.size;
    slot.tile = std::move(t);
    slot.version = version;
  }
  if (s.lastCopyVersion != 0) {
    s.staleSlots = 0;
    for (const auto& slot : s.tiles) s.staleSlots += slot.stale();
  }
  s.lastSeq = batch.seq;
  s.lastCaptureUs = batch.captureTimeUs;
  s.cache.clear();
  s.cacheBytes = 0;
  ++m_stats.framesPublished;
  for (auto& [id, p] : m_peers)
    if (p->state == State::Ready) pumpLocked(*p);
}

void ScreenHub::storeCursorShapeLocked(Stream& s, std::uint32_t shapeId, base::Bytes frame) {
  auto [it, fresh] = s.cursorShapes.insert_or_assign(shapeId, std::move(frame));
  (void)it;
  // The same id again with (perhaps) other pixels: every viewer is sent it afresh.
  std::erase(s.cursorShapeOrder, shapeId);
  if (!fresh)
    for (auto& [id, p] : m_peers)
      for (auto& sub : p->subs)
        if (sub.streamId == s.info.streamId) std::erase(sub.shapesSent, shapeId);
  s.cursorShapeOrder.push_back(shapeId);
  while (s.cursorShapeOrder.size() > wire::kMaxCursorShapesCached) {
    s.cursorShapes.erase(s.cursorShapeOrder.front());
    s.cursorShapeOrder.pop_front();
  }
  // Shown now: the viewers get the new pixels at once.
  if (s.hasCursor && s.cursor.shapeId == shapeId) setCursorLocked(s, s.cursor);
}

void ScreenHub::setCursorLocked(Stream& s, const base::CursorPos& pos) {
  s.cursor = pos;
  s.hasCursor = true;
  wire::CursorPosition m;
  m.streamId = s.info.streamId;
  m.pos = pos;
  s.cursorFrame = wire::encodeFrame(m);
  for (auto& [id, p] : m_peers) {
    if (p->state != State::Ready || p->stopped) continue;
    for (auto& sub : p->subs)
      if (sub.streamId == s.info.streamId) sendCursorLocked(*p, sub.shapesSent, sub.cursorDue, s);
  }
}

namespace {
// A waiting cursor position's key: one per stream and viewer, a newer one takes its place.
std::uint64_t cursorKey(std::uint32_t streamId) { return std::uint64_t{1} << 32 | streamId; }
}  // namespace

void ScreenHub::sendCursorLocked(ScreenPeer& peer, std::deque<std::uint32_t>& shapesSent, bool& positionDue,
                                 Stream& s) {
  if (!s.hasCursor || peer.stopped) return;
  const std::uint32_t shapeId = s.cursor.shapeId;
  if (auto shape = s.cursorShapes.find(shapeId);
      s.cursor.visible && shape != s.cursorShapes.end() &&
      std::find(shapesSent.begin(), shapesSent.end(), shapeId) == shapesSent.end()) {
    shapesSent.push_back(shapeId);
    if (shapesSent.size() > wire::kMaxCursorShapesCached) shapesSent.pop_front();
    ++m_stats.cursorMessagesSent;
    m_stats.cursorBytesSent += shape->second->size();
    // Urgent too, so it keeps its place before the position that names it.
    laterLocked([link = peer.link, frame = shape->second] { link->sendUrgent(frame, 0); });
  }
  ++m_stats.cursorMessagesSent;
  m_stats.cursorBytesSent += s.cursorFrame->size();
  if (s.cursorHeld) {
    positionDue = true;
    return;
  }
  positionDue = false;
  laterLocked([link = peer.link, frame = s.cursorFrame, key = cursorKey(s.info.streamId)] {
    link->sendUrgent(frame, key);
  });
}

void ScreenHub::releaseCursorLocked(Stream& s) {
  s.cursorHeld = false;
  for (auto& [id, p] : m_peers)
    for (auto& sub : p->subs) {
      if (sub.streamId != s.info.streamId || !std::exchange(sub.cursorDue, false) || p->stopped || !s.cursorFrame)
        continue;
      laterLocked([link = p->link, frame = s.cursorFrame, key = cursorKey(sub.streamId)] {
        link->sendUrgent(frame, key);
      });
    }
}

std::shared_ptr<ScreenHub::Update> ScreenHub::updateForLocked(Stream& s, std::uint64_t fromVersion,
                                                              std::size_t from) {
  const auto key = std::make_pair(fromVersion, from);
  if (auto it = s.cache.find(key); it != s.cache.end()) {
    ++m_stats.updatesShared;
    return it->second;
  }
  auto update = newUpdateLocked(s);
  wire::TileBatch& b = update->batch;
  update->payloadBytes = wire::kTileBatchHeaderBytes;
  update->end = s.tiles.size();
  for (std::size_t i = from; i < s.tiles.size(); ++i) {
    const auto& slot = s.tiles[i];
    if (slot.version <= fromVersion) continue;
    const std::size_t bytes = wire::tileWireBytes(slot.tile);
    // Every tile fits in a frame of its own (the largest is far under the cap).
    if (update->payloadBytes + bytes > wire::kMaxScreenPayload && !b.tiles.empty()) {
      update->end = i;
      break;
    }
    b.tiles.push_back(slot.tile);
    update->payloadBytes += bytes;
    m_stats.tileBytesSent += slot.tile.jpeg.size;
  }
  cacheLocked(s, key, update);
  return update;
}

std::shared_ptr<ScreenHub::Update> ScreenHub::newUpdateLocked(const Stream& s) {
  auto update = std::make_shared<Update>();
  wire::TileBatch& b = update->batch;
  b.streamId = s.info.streamId;
  b.seq = s.lastSeq;
  b.captureTimeUs = s.lastCaptureUs;
  b.widthPx = s.info.widthPx;
  b.heightPx = s.info.heightPx;
  b.tileSizePx = s.info.tileSizePx;
  return update;
}

void ScreenHub::cacheLocked(Stream& s, std::pair<std::uint64_t, std::size_t> key, const std::shared_ptr<Update>& update) {
  // Viewers rarely differ by more than a version or two; keep the cache small, in entries and
  // in bytes (an update holds its own copy once serialised). The oldest starting point goes first.
  if (update->payloadBytes > wire::kMaxUpdateCacheBytes) return;
  while (!s.cache.empty() && (s.cache.size() >= wire::kUpdateCacheEntries ||
                              s.cacheBytes + update->payloadBytes > wire::kMaxUpdateCacheBytes)) {
    s.cacheBytes -= s.cache.begin()->second->payloadBytes;
    s.cache.erase(s.cache.begin());
  }
  s.cache.emplace(key, update);
  s.cacheBytes += update->payloadBytes;
}

std::shared_ptr<ScreenHub::Update> ScreenHub::replayForLocked(Stream& s, std::uint64_t fromVersion) {
  // Only from an image the viewer has (a version of this grid) and with every batch since logged.
  if (fromVersion == 0 || s.log.empty() || s.log.front().version > fromVersion + 1 ||
      s.log.back().version <= fromVersion)
    return nullptr;
  const auto key = std::make_pair(fromVersion, SIZE_MAX);
  if (auto it = s.cache.find(key); it != s.cache.end()) {
    ++m_stats.updatesShared;
    return it->second;
  }
  auto update = newUpdateLocked(s);
  wire::TileBatch& b = update->batch;
  // The first batch's copies and patches, then its tiles and those of the batches after it up
  // to the next one with copies or patches (newest wins): exactly the image at that version.
  const std::size_t first = std::size_t(fromVersion + 1 - s.log.front().version);
  b.copies = s.log[first].copies;
  b.patches = s.log[first].patches;
  std::map<std::size_t, const base::EncodedTile*> merged;
  const std::uint32_t cols = s.info.tilesX();
  std::size_t k = first;
  for (; k < s.log.size() && (k == first || !s.log[k].ordered()); ++k)
    for (const auto& t : s.log[k].tiles) merged[std::size_t(t.ty) * cols + t.tx] = &t;
  // A patch of a tile a later batch here sends whole is of no use (and a viewer refuses a
  // batch with both): the tile replaces it.
  std::erase_if(b.patches, [&](const base::TilePatch& p) {
    return merged.count(std::size_t(p.tile.ty) * cols + p.tile.tx) != 0;
  });
  update->toVersion = s.log[k - 1].version;
  update->end = s.tiles.size();
  update->payloadBytes = wire::kTileBatchHeaderBytes + wire::orderedWireBytes(b);
  for (const auto& p : b.patches) m_stats.tileBytesSent += p.tile.jpeg.size;
  for (const auto& [index, t] : merged) {
    b.tiles.push_back(*t);
    update->payloadBytes += wire::tileWireBytes(*t);
    m_stats.tileBytesSent += t->jpeg.size;
  }
  if (update->payloadBytes > wire::kMaxScreenPayload) return nullptr;  // the sharer's refresh will do
  if (!b.copies.empty() || !b.patches.empty()) ++m_stats.copyUpdatesSent;
  cacheLocked(s, key, update);
  return update;
}

void ScreenHub::pumpLocked(ScreenPeer& peer) {
  if (!peer.updatesQueued.empty() || peer.stopped || peer.subs.empty()) return;
  const std::size_t n = peer.subs.size();
  for (std::size_t k = 0; k < n; ++k) {
    auto& sub = peer.subs[(peer.nextSub + k) % n];
    if (sub.credits <= 0 || !sub.policy.mayQueue()) continue;
    auto it = m_streams.find(sub.streamId);
    if (it == m_streams.end()) continue;
    Stream& top = *it->second;
    // To the tier its policy wants, between updates and once that grid is whole: a full
    // image of the new tier follows, never a mix of two.
    if (sub.target != sub.tier && sub.cursor == 0 &&
        (sub.target == 0 ? wholeLocked(top) : top.lower[sub.target - 1] && wholeLocked(*top.lower[sub.target - 1]))) {
      sub.tier = sub.target;
      sub.sentVersion = 0;
      sub.switchSent = false;
      ++m_stats.tierSwitches;
      updateWantedLocked(top);  // the tier it left may be nobody's now
      laterLocked([id = peer.id, who = peer.name, stream = sub.streamId, tier = sub.tier] {
        HLOG_INFO(kTag, "conn=#%llu name=%s: stream %u now at tier %d", static_cast<unsigned long long>(id),
                  who.c_str(), stream, tier);
      });
    }
    Stream& s = tierLocked(top, sub.tier);
    // A viewer with no image yet waits for the grid's first tiles: a grid only cleared (a
    // share just started, or a new size) would give it an update of no tiles, which it would
    // take for a blank first image.
    if (sub.sentVersion == 0 && sub.cursor == 0 && s.filled == 0) continue;
    if (s.version <= sub.sentVersion && sub.cursor == 0) continue;
    if (!sub.switchSent) {
      // The viewer learns its tier and geometry before that tier's first update.
      wire::TierSwitch m;
      m.streamId = sub.streamId;
      m.tier = static_cast<std::uint8_t>(sub.tier);
      m.widthPx = s.info.widthPx;
      m.heightPx = s.info.heightPx;
      m.tileSizePx = s.info.tileSizePx;
      sendLocked(peer.link, m);
      sub.switchSent = true;
    }
    // Parts cut from the grid while a copy came: the viewer's image is of no one version now.
    if (sub.cursor != 0 && s.lastCopyVersion > sub.partialTop) sub.cursor = 0, sub.sentVersion = 0;
    if (sub.cursor == 0 && s.lastCopyVersion > sub.sentVersion && s.staleSlots > 0) {
      // Copies since what this viewer has, and the grid holds stale bytes where they wrote: it
      // is replayed them in order from the log, or, too far behind (or new), waits for the
      // sharer's refresh to make the grid whole (kCopyRefreshMs at most).
      std::shared_ptr<Update> replay = replayForLocked(s, sub.sentVersion);
      if (!replay) {
        ++m_stats.copyWaits;
        // Fallen behind, it waits for the refresh because its link was too slow for this
        // tier; a newcomer waits for it whatever its link, and one on its way to another
        // tier waits at this one (the wait is not the new tier's).
        if (sub.sentVersion != 0 && sub.target == sub.tier) {
          sub.policy.starved(nowLocked());
          wakeBy(base::monoUs() + kServerTickUs);
        }
        continue;
      }
      sub.sentVersion = replay->toVersion;
      sub.policy.sent(replay->payloadBytes, nowLocked());
      --sub.credits;
      peer.nextSub = (peer.nextSub + k + 1) % n;
      queuedLocked(peer, replay->payloadBytes);
      ++m_stats.updatesSent;
      sendUpdateLocked(peer, sub.cursorDue, top, std::move(replay));
      return;
    }
    std::shared_ptr<Update> update = updateForLocked(s, sub.sentVersion, sub.cursor);
    if (update->end < s.tiles.size()) {
      // One part of several: the rest follows, a credit each; tiles changed meanwhile in the
      // part already sent are newer than partialTop and go in the next round.
      if (sub.cursor == 0) sub.partialTop = s.version;
      sub.cursor = update->end;
    } else {
      sub.sentVersion = sub.cursor == 0 ? s.version : sub.partialTop;
      sub.cursor = 0;
    }
    sub.policy.sent(update->payloadBytes, nowLocked());
    --sub.credits;
    peer.nextSub = (peer.nextSub + k + 1) % n;
    queuedLocked(peer, update->payloadBytes);
    ++m_stats.updatesSent;
    sendUpdateLocked(peer, sub.cursorDue, top, std::move(update));
    return;
  }
}

void ScreenHub::sendUpdateLocked(ScreenPeer& peer, bool& cursorDue, const Stream& top,
                                 std::shared_ptr<Update> update) {
  // The cursor position due with it goes first, in the same write.
  base::Bytes cursor = std::exchange(cursorDue, false) ? top.cursorFrame : nullptr;
  laterLocked([this, link = peer.link, update = std::move(update), cursor, key = cursorKey(top.info.streamId)] {
    const base::Bytes& frame = update->encoded();
    m_updateBytesSent += frame->size();
    if (cursor) link->sendTrackedAfter(cursor, key, frame);
    else link->sendTracked(frame);
  });
}

void ScreenHub::queuedLocked(ScreenPeer& peer, std::size_t bytes) {
  peer.updatesQueued.push_back(bytes);
  m_updateBytesQueued += bytes;
  m_stats.largestUpdateBytes = std::max<std::uint64_t>(m_stats.largestUpdateBytes, bytes);
  m_stats.maxUpdateBytesQueued = std::max<std::uint64_t>(m_stats.maxUpdateBytesQueued, m_updateBytesQueued);
  wakeBy(base::monoUs() + kServerTickUs);  // in flight: its credit's round trip is timed
}

void ScreenHub::drained(PeerId id, std::size_t tracked) {
  Section section(*this);
  auto it = m_peers.find(id);
  if (it == m_peers.end()) return;  // gone already (detached)
  ScreenPeer& peer = *it->second;
  // Only updates are sent tracked: these went, in the order they were queued.
  for (; tracked > 0 && !peer.updatesQueued.empty(); --tracked) {
    m_updateBytesQueued -= peer.updatesQueued.front();
    peer.updatesQueued.pop_front();
  }
  pumpLocked(peer);
}

// [SECTION] tiers

std::int64_t ScreenHub::nowLocked() const { return m_config.clock ? m_config.clock() : base::monoUs(); }

ScreenHub::Stream& ScreenHub::tierLocked(Stream& top, int tier) {
  if (tier <= 0 || tier >= kScreenTiers) return top;
  auto& g = top.lower[std::size_t(tier - 1)];
  if (!g) {
    g = std::make_unique<Stream>();
    g->info = top.info;
    g->info.widthPx = g->info.heightPx = 0;  // no grid yet: its first tiles give it one
    g->publisher = top.publisher;
    g->tier = tier;
    g->version = top.version;  // no viewer has seen any of it
  }
  return *g;
}

bool ScreenHub::wholeLocked(const Stream& g) { return !g.tiles.empty() && g.filled == g.tiles.size(); }

void ScreenHub::clearGridLocked(Stream& g) {
  for (auto& slot : g.tiles) slot = Stream::Tile{};
  g.filled = 0;
  g.tileBytes = 0;
  g.log.clear();
  g.logBytes = 0;
  g.lastCopyVersion = 0;
  g.staleSlots = 0;
  g.cache.clear();
  g.cacheBytes = 0;
  ++g.version;
}

void ScreenHub::tiersLocked(ScreenPeer& peer) {
  const std::int64_t now = nowLocked();
  for (auto& sub : peer.subs) {
    // What the policy goes by, read before a change clears it (for the log).
    const std::int64_t delay = sub.policy.delayUs();
    const double rate = sub.policy.rateBytesPerSec(), carried = sub.policy.updatesPerSecCarried();
    const int target = sub.policy.tick(now);
    if (target == sub.target) continue;
    sub.target = target;
    laterLocked([id = peer.id, who = peer.name, stream = sub.streamId, target, delay, rate, carried,
                 busy = sub.policy.busyShare()] {
      HLOG_INFO(kTag,
                "conn=#%llu name=%s: stream %u wants tier %d (round trip %.0f ms, %.0f kB/s, %.1f updates/s carried, "
                "link busy %.0f%%)",
                static_cast<unsigned long long>(id), who.c_str(), stream, target, double(delay) / 1e3, rate / 1e3,
                carried, busy * 100);
    });
    if (auto it = m_streams.find(sub.streamId); it != m_streams.end()) updateWantedLocked(*it->second);
  }
}

void ScreenHub::updateWantedLocked(Stream& top) {
  std::uint8_t mask = 0;
  for (const auto& [id, p] : m_peers)
    for (const auto& sub : p->subs)
      if (sub.streamId == top.info.streamId) mask |= std::uint8_t(1u << sub.tier | 1u << sub.target);
  if (mask == 0) mask = 1;  // nobody watches: the top, so a newcomer is served at once
  if (mask == top.wanted) return;
  for (int t = 0; t < kScreenTiers; ++t)
    if (!(mask >> t & 1) && (top.wanted >> t & 1)) {
      // Nobody on it: let go now; wanted again, it is sent whole before anyone moves onto it
      // (the count tells the host's pipeline so even if it never saw the bit off; a client
      // publisher sees every TiersWanted and counts for itself).
      ++top.restarts[std::size_t(t)];
      if (t == 0) clearGridLocked(top);
      else if (top.lower[std::size_t(t - 1)]) clearGridLocked(*top.lower[std::size_t(t - 1)]);
    }
  top.wanted = mask;
  if (top.publisher == 0) {  // the host's own pipeline asks wantedTiersOf(), told to look now
    if (m_config.localTiersChanged) laterLocked(m_config.localTiersChanged);
    return;
  }
  if (auto it = m_peers.find(top.publisher); it != m_peers.end() && !it->second->stopped) {
    wire::TiersWanted m;
    m.streamId = top.info.streamId;
    m.mask = mask;
    sendLocked(it->second->link, m);
  }
}

std::uint8_t ScreenHub::wantedTiers(std::uint32_t streamId) const { return wantedTiersOf(streamId).mask; }

WantedTiers ScreenHub::wantedTiersOf(std::uint32_t streamId) const {
  std::lock_guard lock(m_mutex);
  auto it = m_streams.find(streamId);
  if (it == m_streams.end()) return WantedTiers{.mask = 0, .restarts = {}};
  return WantedTiers{.mask = it->second->wanted, .restarts = it->second->restarts};
}

std::vector<std::shared_ptr<PeerLink>> ScreenHub::readyLinksLocked() const {
  return linksLocked([](const ScreenPeer& p) { return p.state == State::Ready; });
}

void ScreenHub::sharingChangedLocked(std::uint32_t participantId, bool sharing) {
  if (m_sharingChanged) laterLocked([this, participantId, sharing] { m_sharingChanged(participantId, sharing); });
}

void ScreenHub::endStreamLocked(std::uint32_t streamId, const std::string& reason) {
  auto it = m_streams.find(streamId);
  if (it == m_streams.end()) return;
  laterLocked([streamId, reason] { HLOG_INFO(kTag, "stream %u ended: %s", streamId, reason.c_str()); });
  m_streams.erase(it);
  for (auto& [id, p] : m_peers) std::erase_if(p->subs, [&](auto& s) { return s.streamId == streamId; });
  wire::StreamEnded e;
  e.streamId = streamId;
  e.reason = reason;
  sendEachLocked(readyLinksLocked(), std::move(e));
}

// [SECTION] the host's own stream and commands

std::uint32_t ScreenHub::startLocalStream(std::uint32_t ownerId, const std::string& ownerName, const std::string& title,
                                          std::uint32_t widthPx, std::uint32_t heightPx, std::uint16_t tileSizePx,
                                          std::string& error) {
  error = wire::validateStreamGeometry(widthPx, heightPx, tileSizePx);
  if (!error.empty()) return 0;
  Section section(*this);
  if (m_streams.size() >= m_config.maxStreams) {
    error = "too many shared screens (" + std::to_string(m_config.maxStreams) + ")";
    return 0;
  }
  if (error = streamRefusalLocked(ownerId); !error.empty()) return 0;
  std::uint32_t id = createStreamLocked(0, ownerId, ownerName, title, widthPx, heightPx, tileSizePx);
  sharingChangedLocked(ownerId, true);
  return id;
}

void ScreenHub::publishLocal(std::uint32_t streamId, wire::TileBatch batch, int tier,
                             const base::CursorImage* cursorShape, const base::CursorPos* cursorPos) {
  const base::Bytes shapeFrame = cursorPos ? encodeCursorShape(streamId, cursorShape) : nullptr;
  Section section(*this);
  auto it = m_streams.find(streamId);
  if (it == m_streams.end() || tier < 0 || tier >= kScreenTiers) return;
  Stream& top = *it->second;
  if (cursorPos) {
    // Positions wait for the updates pumped below; those not sent one go alone after (a
    // throw leaves them due: they go with the next update).
    top.cursorHeld = true;
    struct Release {
      bool& held;
      ~Release() { held = false; }
    } release{top.cursorHeld};
    // The frame's size first: its cursor is checked against it, not the size before.
    if (tier == 0) fitLocalLocked(top, top, batch);
    setLocalCursorLocked(top, shapeFrame, cursorShape, *cursorPos);
    applyLocalBatchLocked(top, batch, tier);
    releaseCursorLocked(top);
    return;
  }
  applyLocalBatchLocked(top, batch, tier);
}

void ScreenHub::applyLocalBatchLocked(Stream& top, wire::TileBatch& batch, int tier) {
  if (tier != 0 && !(top.wanted >> tier & 1)) return;
  Stream& s = tierLocked(top, tier);
  fitLocalLocked(top, s, batch);
  applyBatchLocked(s, batch);
}

void ScreenHub::fitLocalLocked(const Stream& top, Stream& s, const wire::TileBatch& batch) {
  if (batch.widthPx != s.info.widthPx || batch.heightPx != s.info.heightPx || batch.tileSizePx != s.info.tileSizePx)
    resizeStreamLocked(s, top.info.title, batch.widthPx, batch.heightPx, batch.tileSizePx);
}

base::Bytes ScreenHub::encodeCursorShape(std::uint32_t streamId, const base::CursorImage* shape) {
  if (!shape) return nullptr;
  wire::CursorShape m;
  m.streamId = streamId;
  m.image = *shape;
  return wire::encodeFrame(m);
}

void ScreenHub::setLocalCursorLocked(Stream& s, base::Bytes shapeFrame, const base::CursorImage* shape,
                                     const base::CursorPos& pos) {
  if (shapeFrame) storeCursorShapeLocked(s, shape->id, std::move(shapeFrame));
  if (!wire::validateCursorPosition(pos, s.info.widthPx, s.info.heightPx).empty()) return;
  setCursorLocked(s, pos);
}

void ScreenHub::publishLocalCursor(std::uint32_t streamId, const base::CursorImage* shape, const base::CursorPos& pos) {
  base::Bytes shapeFrame = encodeCursorShape(streamId, shape);  // before the lock
  Section section(*this);
  auto it = m_streams.find(streamId);
  if (it == m_streams.end()) return;
  setLocalCursorLocked(*it->second, std::move(shapeFrame), shape, pos);
}

void ScreenHub::endStream(std::uint32_t streamId, const std::string& reason) {
  Section section(*this);
  auto it = m_streams.find(streamId);
  if (it == m_streams.end()) return;
  std::uint32_t owner = it->second->info.ownerId;
  endStreamLocked(streamId, reason);
  sharingChangedLocked(owner, false);
}

void ScreenHub::dropParticipant(std::uint32_t participantId, wire::Reason reason) {
  Section section(*this);
  ++m_leaveGeneration;  // a login whose token was checked before this leave asks again
  for (auto& [id, p] : m_peers)
    if (p->participantId == participantId && p->state == State::Ready && !p->stopped) {
      clearMarksLocked(*p);  // gone from every screen now, not when its connection ends
      dropLocked(*p, reason, "left the chat");
    }
}

void ScreenHub::shutdown(const std::string& reason) {
  Section section(*this);
  shutdownLocked(reason);
}

std::vector<wire::StreamInfo> ScreenHub::streams() const {
  std::lock_guard lock(m_mutex);
  std::vector<wire::StreamInfo> out;
  for (const auto& [id, s] : m_streams) out.push_back(s->info);
  return out;
}

std::uint64_t ScreenHub::streamBytesHeld(std::uint32_t streamId) const {
  std::lock_guard lock(m_mutex);
  auto it = m_streams.find(streamId);
  if (it == m_streams.end()) return 0;
  std::unordered_set<const base::ByteVec*> seen;
  std::uint64_t bytes = 0;
  auto grid = [&](const Stream& s) {
    for (const auto& slot : s.tiles)
      if (const base::ByteVec* buffer = slot.tile.jpeg.owner.get(); buffer && seen.insert(buffer).second)
        bytes += buffer->capacity();
    // A cached update shares the tiles' buffers until it is serialised, then holds a copy.
    for (const auto& [key, update] : s.cache) bytes += update->payloadBytes;
    for (const auto& e : s.log)
      for (const auto& t : e.tiles)
        if (const base::ByteVec* buffer = t.jpeg.owner.get(); buffer && seen.insert(buffer).second)
          bytes += buffer->capacity();
  };
  grid(*it->second);
  for (const auto& lower : it->second->lower)
    if (lower) grid(*lower);
  return bytes;
}

ScreenHubStats ScreenHub::stats() const {
  std::lock_guard lock(m_mutex);
  ScreenHubStats s = m_stats;
  s.peers = m_peers.size();
  s.streams = m_streams.size();
  for (const auto& [id, p] : m_peers) {
    s.viewers += !p->subs.empty();
    for (const auto& sub : p->subs) ++s.viewersOnTier[std::size_t(sub.tier)];
  }
  s.closedByReason = m_closedByReason;
  s.updateBytesSent = m_updateBytesSent.load();
  s.updateBytesQueued = m_updateBytesQueued;
  return s;
}

}  // namespace huddle::net
