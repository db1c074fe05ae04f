#include "app/session/screen_session.h"

#include <algorithm>
#include <chrono>

#include "net/base/clock.h"
#include "net/base/log.h"
#include "net/screen_credits.h"

namespace huddle::session {

namespace {
constexpr const char* kTag = "session/screen";
}  // namespace

ScreenSession::ScreenSession() = default;

ScreenSession::~ScreenSession() {
  stopSharing();
  // The client's threads call back into this object: end them before any member goes.
  m_client.leave();
  m_decodeQueue.stop();
  m_decoder.join();
}

void ScreenSession::start(ScreenSessionConfig config) {
  m_config = std::move(config);
  // A throw while decoding (a bug; bad tiles are errors, not throws) ends the viewing, not
  // the process: the views are marked ended and the owner lets them go.
  m_decoder = base::Worker("decode", [this] { decodeLoop(); }, [this](const std::string& what) {
    HLOG_ERROR(kTag, "decoding stopped: %s", what.c_str());
    std::lock_guard lock(m_mutex);
    for (auto& [id, v] : m_views) v->markEnded();
  });
  net::ScreenClientConfig c;
  c.link = m_config.link;
  c.name = m_config.name;
  c.token = m_config.token;
  c.seatKey = m_config.seatKey;
  m_client.start(c);
}

std::string ScreenSession::endText() const {
  std::lock_guard lock(m_mutex);
  return m_endText;
}

std::vector<wire::StreamInfo> ScreenSession::streams() const {
  std::lock_guard lock(m_mutex);
  std::vector<wire::StreamInfo> out;
  for (const auto& [id, info] : m_streams) out.push_back(info);
  return out;
}

std::shared_ptr<StreamView> ScreenSession::watch(std::uint32_t streamId) {
  std::shared_ptr<StreamView> view;
  {
    std::lock_guard lock(m_mutex);
    auto it = m_streams.find(streamId);
    if (it == m_streams.end()) return nullptr;
    auto& slot = m_views[streamId];
    if (slot) return slot;
    m_tiers.erase(streamId);  // a new subscription is told its tier afresh
    slot = std::make_shared<StreamView>(it->second);
    view = slot;
  }
  m_client.subscribe(streamId, m_config.credits);
  return view;
}

void ScreenSession::unwatch(std::uint32_t streamId) {
  {
    std::lock_guard lock(m_mutex);
    m_views.erase(streamId);
    m_tiers.erase(streamId);
  }
  m_client.unsubscribe(streamId);
}

std::shared_ptr<StreamView> ScreenSession::view(std::uint32_t streamId) const {
  std::lock_guard lock(m_mutex);
  auto it = m_views.find(streamId);
  return it == m_views.end() ? nullptr : it->second;
}

// [SECTION] listener (reader thread)

void ScreenSession::onStreamAnnounced(const wire::StreamInfo& info) {
  {
    std::lock_guard lock(m_mutex);
    // A host announcing more streams than any host relays is not believed past the cap.
    if (!m_streams.count(info.streamId) && m_streams.size() >= wire::kMaxStreamsPerSession) return;
    m_streams[info.streamId] = info;
    if (auto it = m_views.find(info.streamId); it != m_views.end()) it->second->setInfo(info);
  }
  if (m_config.link.wake) m_config.link.wake();
}

void ScreenSession::onStreamEnded(std::uint32_t streamId, const std::string& reason) {
  {
    std::lock_guard lock(m_mutex);
    m_streams.erase(streamId);
    m_tiers.erase(streamId);
    m_marks.erase(streamId);
    if (auto it = m_views.find(streamId); it != m_views.end()) {
      it->second->markEnded();
      m_views.erase(it);
    }
  }
  HLOG_INFO(kTag, "stream %u ended: %s", streamId, reason.c_str());
  if (m_config.link.wake) m_config.link.wake();
}

void ScreenSession::onUpdate(wire::TileBatch&& batch) {
  // Credits bound how many can arrive (ScreenClient drops a host that ignores them), and the
  // queue is bounded in bytes too: past it an update is refused and the stream asks for a
  // full refresh later.
  std::uint32_t id = batch.streamId;
  bool announced;
  {
    // Only updates of the size last announced: a host flipping sizes in updates alone would
    // make the viewer reallocate a whole framebuffer for a few bytes each time.
    // At a tier, the size the host said that tier has.
    std::lock_guard lock(m_mutex);
    auto it = m_streams.find(id);
    if (auto tier = m_tiers.find(id); it != m_streams.end() && tier != m_tiers.end())
      announced = tier->second.widthPx == batch.widthPx && tier->second.heightPx == batch.heightPx &&
                  tier->second.tileSizePx == batch.tileSizePx;
    else
      announced = it != m_streams.end() && it->second.widthPx == batch.widthPx &&
                  it->second.heightPx == batch.heightPx && it->second.tileSizePx == batch.tileSizePx;
  }
  if (!announced) {
    std::string note;
    if (m_logThrottle.allow(id, note))  // keyed by stream
      HLOG_WARN(kTag, "dropping an update of stream %u: not the size the host announced%s", id, note.c_str());
    m_client.requestUpdate(id, 1, false);  // its credit back, or the stream would stall
    return;
  }
  std::uint64_t bytes = 64;
  for (const auto& t : batch.tiles) bytes += t.jpeg.size + 9;
  bool queued = false;
  {
    // Held across the push so the count and the queue agree (the queue's lock is brief).
    std::lock_guard lock(m_decodeBytesMutex);
    ++m_decodesInFlight;  // before the push: the decode thread may take it at once
    if (decodeQueueTakes(m_decodeBytes, bytes) && m_decodeQueue.push({id, std::move(batch), m_client.frameStartedUs(), base::monoUs(), bytes})) {
      m_decodeBytes += bytes;
      queued = true;
    }
  }
  if (!queued) {
    --m_decodesInFlight;
    HLOG_WARN(kTag, "decode queue full: dropping an update of stream %u", id);
    m_client.requestUpdate(id, 1, true);  // its credit back, and every tile again later
  }
}

void ScreenSession::onTierSwitch(const wire::TierSwitch& m) {
  std::shared_ptr<StreamView> v;
  {
    std::lock_guard lock(m_mutex);
    auto it = m_streams.find(m.streamId);
    if (it == m_streams.end()) return;  // ended meanwhile
    // A tier is the stream at most at its own size: anything else is not believed (its
    // updates are then dropped, their credits given back).
    std::string why = wire::validateStreamGeometry(m.widthPx, m.heightPx, m.tileSizePx);
    if (why.empty() && (m.widthPx > it->second.widthPx || m.heightPx > it->second.heightPx))
      why = "larger than the stream";
    if (!why.empty()) {
      std::string note;
      if (m_logThrottle.allow(m.streamId, note))
        HLOG_WARN(kTag, "stream %u: ignoring tier %d of %ux%u: %s%s", m.streamId, m.tier, m.widthPx, m.heightPx,
                  why.c_str(), note.c_str());
      return;
    }
    m_tiers[m.streamId] = m;
    if (auto view = m_views.find(m.streamId); view != m_views.end()) v = view->second;
  }
  if (v) v->stats().setTier(m.tier);
  HLOG_INFO(kTag, "stream %u: served at tier %d (%ux%u)", m.streamId, m.tier, m.widthPx, m.heightPx);
}

void ScreenSession::onTiersWanted(std::uint32_t streamId, std::uint8_t mask) {
  std::lock_guard lock(m_publishMutex);
  // Said of an earlier share (it crossed our stop and start): applied to this one, a mask
  // without the top would stop it before the host ever learned its size.
  if (!m_publishing || streamId != m_publishedId) return;
  for (int t = 0; t < wire::kMaxScreenTiers; ++t)
    if ((m_wantedTiers.mask >> t & 1) && !(mask >> t & 1)) ++m_wantedTiers.restarts[std::size_t(t)];
  m_wantedTiers.mask = mask;
  m_shareNudge.nudge();  // a quiet screen's next frame may be a quarter of a second away
  // Tiles of a tier nobody wants any more need not go.
  for (std::size_t i = 0; i < m_tierPending.size(); ++i)
    if (!(mask >> (i + 1) & 1)) m_tierPending[i].tiles.clear();
  HLOG_INFO(kTag, "the host wants tiers 0x%x of our stream", unsigned(mask));
}

void ScreenSession::onScreenEnded(const net::LinkEnd& end) {
  {
    std::lock_guard lock(m_mutex);
    m_endText = end.text;
    for (auto& [id, v] : m_views) v->markEnded();
    m_streams.clear();
  }
  if (m_config.link.wake) m_config.link.wake();
}

// [SECTION] decoding

void ScreenSession::decodeLoop() {
  capture::TileDecoder decoder;
  net::CreditReturns credits;  // when each update's credit goes back (pairs while they come fast)
  while (true) {
    // stop() wakes the wait: the timeout is a backstop, not a tick (an idle viewer sleeps),
    // unless a held credit is due sooner.
    std::int64_t waitUs = 5'000'000;
    if (const std::int64_t due = credits.nextDueUs(); due >= 0) waitUs = std::clamp<std::int64_t>(due - base::monoUs(), 0, waitUs);
    std::optional<Decode> item = m_decodeQueue.take(std::chrono::microseconds(waitUs));
    for (const net::CreditReturns::Due& d : credits.due(base::monoUs())) {
      // Only to the subscription it was held for: a stream unwatched meanwhile has none.
      std::shared_ptr<StreamView> v = view(d.streamId);
      if (v && v->watchId() == d.subscription) m_client.requestUpdate(d.streamId, d.credits, false);
    }
    if (!item) {
      if (m_decodeQueue.stopped()) return;
      continue;
    }
    {
      std::lock_guard lock(m_decodeBytesMutex);
      m_decodeBytes -= item->bytes;
    }
    std::shared_ptr<StreamView> v = view(item->streamId);
    if (!v) {  // unwatched meanwhile
      --m_decodesInFlight;
      continue;
    }
    // Decoded with no lock held (the window keeps drawing), then shown by a short copy; the
    // decode time is the decoding alone, not a wait for the window.
    const std::int64_t t0 = base::monoUs();
    std::string error;
    bool ok = v->decode(item->batch, decoder, error);
    const std::int64_t t1 = base::monoUs();
    v->publish();
    std::uint64_t bytes = 0;
    for (const auto& t : item->batch.tiles) bytes += t.jpeg.size + 9;
    // Capture time is on the host's clock; ours plus the offset is the host's "now".
    // In double: the capture stamp is the host's word and may be anything.
    double latencyMs = item->batch.captureTimeUs > 0
                           ? (static_cast<double>(base::wallUs()) + static_cast<double>(m_client.clockOffsetUs()) -
                              static_cast<double>(item->batch.captureTimeUs)) / 1e3
                           : -1;
    if (!ok) {
      HLOG_WARN(kTag, "stream %u: %s; asking for a full refresh", item->streamId, error.c_str());
      v->stats().recordDecodeError();
    }
    v->stats().record(t1, bytes, static_cast<std::uint32_t>(item->batch.tiles.size()),
                      static_cast<double>(t1 - t0) / 1e3, latencyMs);
    // The credit goes back only now: a viewer that decodes slowly is sent less. This one is
    // in flight still (counted down below): more than it, and others wait.
    const bool backlog = m_decodesInFlight.load() > 1;
    if (std::uint8_t n = credits.decoded({item->streamId, v->watchId(), item->startedMonoUs, item->arrivedMonoUs, backlog, !ok}, t1))
      m_client.requestUpdate(item->streamId, n, !ok);
    // After the count drops, so a cursor position that skipped its wake is shown by this one.
    --m_decodesInFlight;
    const bool owed = m_wakeOwed.exchange(false);
    if (m_config.link.wake && (v->onScreen() || owed)) m_config.link.wake();
  }
}

// [SECTION] sharing

bool ScreenSession::startSharing(std::unique_ptr<capture::ScreenSource> source, const capture::CaptureSettings& settings,
                                 int encoderThreads, std::string& error) {
  if (m_pipeline) return error = "already sharing", false;
  if (!m_client.connected()) return error = "not connected to the host's screen port", false;
  if (!source->open(error)) return false;  // first: a window's title is known once it is found
  {
    std::lock_guard lock(m_publishMutex);
    m_shareTitle = source->title();
    m_shareW = m_shareH = 0;
    m_inFlight = 0;
    m_pendingTiles.clear();
    m_pendingCopies.clear();
    m_pendingPatches.clear();
    for (auto& t : m_tierPending) t = {};
    m_wantedTiers = {};
    m_publishing = true;
    m_accepted = false;
    m_shareError.clear();
  }
  m_pipeline = std::make_unique<capture::CapturePipeline>(std::move(source), settings, encoderThreads,
                                                          [this](capture::EncodedUpdate&& u) { onCaptured(std::move(u)); });
  // A copy applies to the image the host has after the last frame: it cannot merge into a
  // frame still waiting here, so frames go as copies only when nothing waits.
  m_pipeline->setCopyGate([this] {
    std::lock_guard lock(m_publishMutex);
    return m_accepted && m_pendingTiles.empty() && m_pendingCopies.empty() && m_pendingPatches.empty();
  });
  {
    std::lock_guard lock(m_publishMutex);
    m_haveCursor = false;
    m_cursorShapeSent = true;
  }
  m_pipeline->setCursorCallback([this](const capture::CursorUpdate& c) { onCursor(c); });
  // What the host asks for.
  m_pipeline->setTierGate([this, gate = net::TierGate()]() mutable {
    net::WantedTiers wanted;
    {
      std::lock_guard lock(m_publishMutex);
      wanted = m_wantedTiers;
    }
    return gate.poll(wanted);
  });
  if (!m_pipeline->start(error)) {
    m_pipeline.reset();
    std::lock_guard lock(m_publishMutex);
    m_publishing = false;
    return false;
  }
  m_shareNudge.set(m_pipeline.get());
  return true;
}

void ScreenSession::stopSharing() {
  if (!m_pipeline) return;
  m_shareNudge.set(nullptr);
  m_pipeline->stop();
  m_pipeline.reset();
  {
    std::lock_guard lock(m_publishMutex);
    m_publishing = false;
    m_accepted = false;
    m_pendingTiles.clear();
    m_pendingCopies.clear();
    m_pendingPatches.clear();
    for (auto& t : m_tierPending) t = {};
  }
  m_client.publishStop();
  m_publishedId = 0;
}

bool ScreenSession::sharing() const { return m_pipeline != nullptr; }

std::string ScreenSession::shareError() const {
  std::lock_guard lock(m_publishMutex);
  return m_shareError;
}

void ScreenSession::onCaptured(capture::EncodedUpdate&& u) {
  std::lock_guard lock(m_publishMutex);
  // Its cursor goes with the tiles if they go now (sendTopLocked), else alone after them.
  if (u.cursor) cursorLocked(*u.cursor, /*positionNow=*/false);
  takeCapturedLocked(std::move(u));
  if (std::exchange(m_cursorPositionDue, false)) m_client.publishCursorPosition(m_cursorPos);
}

void ScreenSession::takeCapturedLocked(capture::EncodedUpdate&& u) {
  if (!m_shareError.empty()) return;  // refused: nothing more goes until the owner starts over
  if (u.tier > 0 && u.tier < wire::kMaxScreenTiers) {
    if (!(m_wantedTiers.mask >> u.tier & 1)) return;  // nobody's (a TierGate's one look aside)
    // A lower tier: pending beside the top's, newest tile wins; a new size drops the old.
    TierPending& p = m_tierPending[std::size_t(u.tier - 1)];
    if (u.widthPx != p.header.widthPx || u.heightPx != p.header.heightPx || u.tileSizePx != p.header.tileSizePx)
      p.tiles.clear();
    const std::uint32_t tierCols = (u.widthPx + u.tileSizePx - 1) / u.tileSizePx;
    for (auto& t : u.tiles) p.tiles[std::uint32_t(t.ty) * tierCols + t.tx] = std::move(t);
    p.header.seq = u.seq;
    p.header.captureTimeUs = u.captureTimeUs + m_client.clockOffsetUs();
    p.header.widthPx = u.widthPx;
    p.header.heightPx = u.heightPx;
    p.header.tileSizePx = u.tileSizePx;
    if (m_accepted && m_inFlight < wire::kMaxPublishInFlight) sendPendingLocked();
    return;
  }
  if (u.widthPx != m_shareW || u.heightPx != m_shareH || u.tileSizePx != m_shareTile) {
    // New geometry: the host resets the stream; tiles of the old size are meaningless now.
    m_shareW = u.widthPx;
    m_shareH = u.heightPx;
    m_shareTile = u.tileSizePx;
    m_pendingTiles.clear();
    m_pendingCopies.clear();
    m_pendingPatches.clear();
    // Lower tiers of the old size could be larger than the new top, which the host refuses.
    for (auto& t : m_tierPending) t.tiles.clear();
    u.copies.clear();  // (none after a new size: the pipeline starts from a whole frame)
    u.patches.clear();
    m_client.publishStart(m_shareTitle, u.widthPx, u.heightPx, u.tileSizePx);
  }
  const std::uint32_t cols = (u.widthPx + u.tileSizePx - 1) / u.tileSizePx;
  // Copies only reach here with nothing pending (the gate): they go first, tiles after them.
  // Patches come only with copies, for tiles this frame does not send whole.
  if (!u.copies.empty()) m_pendingCopies = std::move(u.copies);
  if (!u.patches.empty()) m_pendingPatches = std::move(u.patches);
  // A tile that goes whole replaces a pending patch of it: one message may not carry both
  // (the host refuses it), and the whole tile is newer.
  if (!m_pendingPatches.empty() && !u.tiles.empty())
    std::erase_if(m_pendingPatches, [&](const base::TilePatch& p) {
      return std::any_of(u.tiles.begin(), u.tiles.end(),
                         [&](const base::EncodedTile& t) { return t.tx == p.tile.tx && t.ty == p.tile.ty; });
    });
  for (auto& t : u.tiles) m_pendingTiles[std::uint32_t(t.ty) * cols + t.tx] = std::move(t);
  m_pendingHeader.seq = u.seq;
  m_pendingHeader.captureTimeUs = u.captureTimeUs + m_client.clockOffsetUs();  // on the host's clock
  m_pendingHeader.widthPx = u.widthPx;
  m_pendingHeader.heightPx = u.heightPx;
  m_pendingHeader.tileSizePx = u.tileSizePx;
  // Nothing before the host accepts: tiles ahead of its answer would be refused with it.
  if (m_accepted && m_inFlight < wire::kMaxPublishInFlight) sendPendingLocked();
}

void ScreenSession::sendPendingLocked() {
  // The top and the lower tiers take turns, so a busy top never starves the slow viewers' tier.
  for (int k = 0; k < wire::kMaxScreenTiers; ++k) {
    const int t = (m_sendTurn + k) % wire::kMaxScreenTiers;
    if (t == 0 ? m_pendingTiles.empty() && m_pendingCopies.empty() && m_pendingPatches.empty()
               : m_tierPending[std::size_t(t - 1)].tiles.empty())
      continue;
    m_sendTurn = t + 1;
    if (t == 0) return sendTopLocked();
    // A lower tier: as much as one message holds, the rest with the next ack.
    TierPending& p = m_tierPending[std::size_t(t - 1)];
    wire::TileBatch b = p.header;
    std::size_t payload = wire::kTileBatchHeaderBytes;
    auto it = p.tiles.begin();
    for (; it != p.tiles.end(); ++it) {
      const std::size_t bytes = wire::tileWireBytes(it->second);
      if (payload + bytes > wire::kMaxScreenPayload && !b.tiles.empty()) break;
      payload += bytes;
      b.tiles.push_back(std::move(it->second));
    }
    p.tiles.erase(p.tiles.begin(), it);
    if (m_client.publishTierTiles(static_cast<std::uint8_t>(t), b)) ++m_inFlight;
    return;
  }
}

void ScreenSession::sendTopLocked() {
  // At most what the host accepts in one message (kMaxScreenPayload): the rest stays pending,
  // goes with the next ack, and merges meanwhile with newer frames like any pending tile.
  wire::TileBatch b = m_pendingHeader;
  b.copies = std::move(m_pendingCopies);  // with the first part, and the patches
  m_pendingCopies.clear();
  b.patches = std::move(m_pendingPatches);
  m_pendingPatches.clear();
  std::size_t payload = wire::kTileBatchHeaderBytes + wire::orderedWireBytes(b);
  auto it = m_pendingTiles.begin();
  for (; it != m_pendingTiles.end(); ++it) {
    const std::size_t bytes = wire::tileWireBytes(it->second);
    if (payload + bytes > wire::kMaxScreenPayload && !b.tiles.empty()) break;
    payload += bytes;
    b.tiles.push_back(std::move(it->second));
  }
  m_pendingTiles.erase(m_pendingTiles.begin(), it);
  const bool withCursor = std::exchange(m_cursorPositionDue, false);
  if (m_client.publishTiles(b, withCursor ? &m_cursorPos : nullptr)) ++m_inFlight;
}

void ScreenSession::onCursor(const capture::CursorUpdate& c) {
  std::lock_guard lock(m_publishMutex);
  cursorLocked(c);
}

void ScreenSession::cursorLocked(const capture::CursorUpdate& c, bool positionNow) {
  if (c.shape) {
    m_cursorShape = *c.shape;
    m_cursorShapeSent = false;
  }
  m_cursorPos = c.pos;
  m_haveCursor = true;
  if (m_accepted && m_shareError.empty()) sendCursorLocked(positionNow);
}

void ScreenSession::sendCursorLocked(bool positionNow) {
  if (!m_haveCursor) return;
  // Beside the tiles and ahead of them: a position waiting to go is replaced by a newer one.
  if (!m_cursorShapeSent) m_cursorShapeSent = m_client.publishCursorShape(m_cursorShape);
  if (positionNow) m_client.publishCursorPosition(m_cursorPos);
  else m_cursorPositionDue = true;
}

void ScreenSession::onCursorShape(std::uint32_t streamId, base::CursorImage&& shape) {
  std::shared_ptr<StreamView> v = view(streamId);
  if (!v) return;  // not watched (any more)
  std::string why;
  if (!v->setCursorShape(std::move(shape), why)) onCursorDropped(why);
  if (m_config.link.wake) m_config.link.wake();
}

void ScreenSession::onCursorPosition(std::uint32_t streamId, const base::CursorPos& pos) {
  std::shared_ptr<StreamView> v = view(streamId);
  if (!v) return;
  std::string why;
  if (!v->setCursorPosition(pos, why)) onCursorDropped("stream " + std::to_string(streamId) + ": " + why);
  if (!m_config.link.wake || !v->onScreen()) return;
  m_wakeOwed = true;  // first: a decode that ends after the check below sees it
  if (m_decodesInFlight.load() == 0) m_config.link.wake();
}

void ScreenSession::onCursorDropped(const std::string& why) {
  std::string note;
  if (m_logThrottle.allow(0xC0250000ull, note))  // one budget for all cursor drops
    HLOG_WARN(kTag, "cursor message dropped: %s%s", why.c_str(), note.c_str());
}

void ScreenSession::onPointer(const wire::Pointer& m) {
  {
    std::lock_guard lock(m_mutex);
    auto stream = m_streams.find(m.streamId);
    if (stream == m_streams.end()) return;
    if (!m_marks[m.streamId].applyPointer(m, stream->second.widthPx, stream->second.heightPx, base::monoUs())) {
      if (m.present && !wire::validatePointer(m.x, m.y, stream->second.widthPx, stream->second.heightPx).empty())
        return onCursorDropped("a pointer outside stream " + std::to_string(m.streamId));
      return;
    }
  }
  if (m_config.link.wake) m_config.link.wake();
}

std::vector<PointerMark> ScreenSession::pointers(std::uint32_t streamId, std::int64_t nowMonoUs) const {
  std::lock_guard lock(m_mutex);
  auto it = m_marks.find(streamId);
  return it == m_marks.end() ? std::vector<PointerMark>{} : it->second.pointers(nowMonoUs);
}

void ScreenSession::onPen(const wire::Pen& m) {
  {
    std::lock_guard lock(m_mutex);
    auto stream = m_streams.find(m.streamId);
    if (stream == m_streams.end()) return;
    if (!m_marks[m.streamId].applyPen(m, stream->second.widthPx, stream->second.heightPx, base::monoUs()))
      return onCursorDropped("a pen stroke outside stream " + std::to_string(m.streamId) + " (or too many drawing)");
  }
  if (m_config.link.wake) m_config.link.wake();
}

void ScreenSession::onViewerMarks(std::uint32_t streamId, bool allowed) {
  {
    std::lock_guard lock(m_mutex);
    if (!m_streams.count(streamId)) return;
    m_marks[streamId].setAllowed(allowed);
  }
  if (m_config.link.wake) m_config.link.wake();
}

std::vector<StrokeMark> ScreenSession::strokes(std::uint32_t streamId, std::int64_t nowMonoUs) const {
  std::lock_guard lock(m_mutex);
  auto it = m_marks.find(streamId);
  return it == m_marks.end() ? std::vector<StrokeMark>{} : it->second.strokes(nowMonoUs);
}

bool ScreenSession::viewerMarksAllowed(std::uint32_t streamId) const {
  std::lock_guard lock(m_mutex);
  auto it = m_marks.find(streamId);
  return it == m_marks.end() || it->second.allowed();
}

void ScreenSession::setViewerMarks(bool allowed) {
  std::lock_guard lock(m_publishMutex);
  if (m_viewerMarks == allowed) return;
  m_viewerMarks = allowed;
  if (m_publishing && m_accepted && m_publishedId != 0) m_client.setViewerMarks(m_publishedId, allowed);
}

void ScreenSession::onPublishAccepted(std::uint32_t streamId) {
  std::lock_guard lock(m_publishMutex);
  if (!m_publishing) return;  // stopped meanwhile
  m_publishedId = streamId;
  m_cursorShapeSent = false;  // a new stream (or a resize) starts with the shape again
  sendCursorLocked();
  if (!m_viewerMarks) m_client.setViewerMarks(streamId, false);  // a stream starts with them on
  // Accepted again after a resize: frames already flow. The first time: what waited goes now.
  if (m_accepted) return;
  m_accepted = true;
  if (m_inFlight < wire::kMaxPublishInFlight) sendPendingLocked();
}

void ScreenSession::onPublishRefused(const std::string& reason) {
  {
    std::lock_guard lock(m_publishMutex);
    if (!m_publishing) return;
    m_shareError = reason.empty() ? "The host would not relay your screen." : reason;
    m_pendingTiles.clear();
    m_pendingCopies.clear();
    m_pendingPatches.clear();
  }
  HLOG_WARN(kTag, "the host will not relay our screen: %s", reason.c_str());
  if (m_config.link.wake) m_config.link.wake();
}

void ScreenSession::onPublishAck(std::uint64_t) {
  std::lock_guard lock(m_publishMutex);
  if (m_inFlight > 0) --m_inFlight;
  sendPendingLocked();
}

}  // namespace huddle::session
