#include "net/screen_hub.h"

#include <algorithm>
#include <utility>

#include "net/base/clock.h"
#include "net/base/log.h"
#include "net/base/log_throttle.h"
#include "net/base/jpeg_check.h"

namespace huddle::net {

namespace {
constexpr const char* kTag = "net/screen";
}

struct ScreenHub::Stream {
  struct Tile {
    base::EncodedTile tile;
    std::uint64_t version = 0;  // stream version that last changed it; 0 = never set
  };
  wire::StreamInfo info;
  PeerId publisher = 0;          // 0: the host's own pipeline
  std::vector<Tile> tiles;       // row-major grid
  std::uint64_t version = 0;     // +1 per applied batch
  std::uint64_t lastSeq = 0;
  std::int64_t lastCaptureUs = 0;
  std::map<std::uint64_t, base::Bytes> cache;  // fromVersion -> update up to `version`
};

struct ScreenHub::Peer {
  struct Subscription {
    std::uint32_t streamId = 0;
    int credits = 0;
    std::uint64_t sentVersion = 0;
  };
  Peer(PeerId i, std::shared_ptr<PeerLink> l, std::int64_t nowUs)
      : id(i), link(std::move(l)), guard(&wire::screenPortPayloadLimit, nowUs) {}

  const PeerId id;
  const std::shared_ptr<PeerLink> link;
  PeerGuard guard;
  std::atomic<bool> stopped{false};
  // Guarded by the hub's mutex:
  PeerState state = PeerState::AwaitHello;
  std::uint32_t participantId = 0;
  std::string name;
  std::vector<Subscription> subs;
  std::size_t nextSub = 0;        // round-robin start, so no stream starves the others
  bool updateQueued = false;      // an update sits in the connection's queue
  std::uint32_t publishing = 0;   // stream id this peer publishes, 0 if none
};

ScreenHub::ScreenHub(ScreenHubConfig config, TokenCheck tokenCheck, SharingChanged sharingChanged)
    : m_config(std::move(config)), m_tokenCheck(std::move(tokenCheck)), m_sharingChanged(std::move(sharingChanged)) {}
ScreenHub::~ScreenHub() = default;

std::shared_ptr<ScreenHub::Peer> ScreenHub::find(PeerId id) const {
  std::lock_guard lock(m_mutex);
  auto it = m_peers.find(id);
  return it == m_peers.end() ? nullptr : it->second;
}

PeerId ScreenHub::attach(std::shared_ptr<PeerLink> link, std::int64_t nowUs) {
  std::lock_guard lock(m_mutex);
  const PendingVerdict verdict = pendingVerdict(
      m_peers, [](const Peer& p) { return p.state == PeerState::AwaitHello; }, link->ipv4(), nowUs, m_config.guard);
  if (verdict.evict) dropPeer(*m_peers.at(verdict.evict), wire::Reason::Evicted, "oldest unfinished handshake, for a newcomer");
  PeerId id = m_nextPeerId++;
  auto peer = std::make_shared<Peer>(id, std::move(link), nowUs);
  if (verdict.refuse) dropPeer(*peer, wire::Reason::Busy, "too many unfinished handshakes");
  m_peers.emplace(id, std::move(peer));
  return id;
}

void ScreenHub::dropPeer(Peer& peer, wire::Reason reason, const std::string& detail) {
  std::string note;
  if (m_logThrottle.allow(base::LogThrottle::key(peer.link->ipv4(), base::LogThrottle::Drop, unsigned(reason)), note))
    HLOG_WARN(kTag, "drop conn=#%llu peer=%s name=%s reason=%s detail=\"%s\"%s", static_cast<unsigned long long>(peer.id),
              peer.link->address().c_str(), peer.name.empty() ? "-" : peer.name.c_str(), wire::reasonName(reason),
              detail.c_str(), note.c_str());
  peer.stopped = true;
  peer.link->close(reason, detail);
}

void ScreenHub::receive(PeerId id, std::span<const std::uint8_t> bytes, std::int64_t nowUs) {
  std::shared_ptr<Peer> peer = find(id);
  if (!peer || peer->stopped) return;
  wire::Reason reason = wire::Reason::None;
  std::string detail;
  auto onFrame = [&](const wire::Frame& frame) {
    handleFrame(peer, frame, nowUs);
    return !peer->stopped.load();
  };
  if (!peer->guard.feed(bytes, nowUs, m_config.guard, onFrame, reason, detail)) dropPeer(*peer, reason, detail);
}

void ScreenHub::handleFrame(const std::shared_ptr<Peer>& peer, const wire::Frame& frame, std::int64_t) {
  PeerState state;
  {
    std::lock_guard lock(m_mutex);
    state = peer->state;
  }
  if (state == PeerState::Closed) return;
  if (state == PeerState::AwaitHello) {
    if (frame.type != static_cast<std::uint16_t>(wire::MsgType::Hello))
      return dropPeer(*peer, wire::Reason::ProtoState, "expected Hello first");
    return handleHello(peer, frame);
  }
  auto malformed = [&](const char* what) { dropPeer(*peer, wire::Reason::ProtoMalformed, std::string("bad ") + what); };
  switch (frame.type) {
    case static_cast<std::uint16_t>(wire::ScreenType::Subscribe): {
      wire::Subscribe m;
      if (!wire::decodePayload(frame.payload, m)) return malformed("Subscribe");
      std::lock_guard lock(m_mutex);
      if (!m_streams.count(m.streamId)) return;  // it may have just ended: not an error
      auto it = std::find_if(peer->subs.begin(), peer->subs.end(), [&](auto& s) { return s.streamId == m.streamId; });
      if (it == peer->subs.end()) peer->subs.push_back({m.streamId, m.credits, 0});
      else *it = {m.streamId, m.credits, 0};  // resubscribing asks for the whole image again
      pumpLocked(*peer);
      return;
    }
    case static_cast<std::uint16_t>(wire::ScreenType::Unsubscribe): {
      wire::Unsubscribe m;
      if (!wire::decodePayload(frame.payload, m)) return malformed("Unsubscribe");
      std::lock_guard lock(m_mutex);
      std::erase_if(peer->subs, [&](auto& s) { return s.streamId == m.streamId; });
      return;
    }
    case static_cast<std::uint16_t>(wire::ScreenType::UpdateRequest): {
      wire::UpdateRequest m;
      if (!wire::decodePayload(frame.payload, m)) return malformed("UpdateRequest");
      std::lock_guard lock(m_mutex);
      for (auto& s : peer->subs) {
        if (s.streamId != m.streamId) continue;
        // Credits are capped: a viewer cannot make the host queue more than a few updates.
        s.credits = std::min<int>(s.credits + m.credits, wire::kMaxCredits);
        if (m.fullRefresh) s.sentVersion = 0;
      }
      pumpLocked(*peer);
      return;
    }
    case static_cast<std::uint16_t>(wire::ScreenType::PublishStart): return handlePublishStart(peer, frame);
    case static_cast<std::uint16_t>(wire::ScreenType::PublishTiles): return handlePublishTiles(peer, frame);
    case static_cast<std::uint16_t>(wire::ScreenType::PublishStop): {
      std::unique_lock lock(m_mutex);
      std::uint32_t id = std::exchange(peer->publishing, 0);
      if (id) endStreamLocked(id, peer->name + " stopped sharing");
      std::uint32_t participant = peer->participantId;
      lock.unlock();
      if (id && m_sharingChanged) m_sharingChanged(participant, false);
      return;
    }
    case static_cast<std::uint16_t>(wire::MsgType::Ping): {
      wire::Ping ping;
      if (!wire::decodePayload(frame.payload, ping)) return malformed("Ping");
      peer->link->send(wire::pongFor(ping));
      return;
    }
    case static_cast<std::uint16_t>(wire::MsgType::Pong):
      return;
    case static_cast<std::uint16_t>(wire::MsgType::Bye):
      peer->stopped = true;
      peer->link->closeAfterFlush(wire::Reason::IoEof, "left");
      return;
    default:
      return dropPeer(*peer, wire::Reason::ProtoState, "message type " + std::to_string(frame.type) + " not expected from a client");
  }
}

void ScreenHub::handleHello(const std::shared_ptr<Peer>& peer, const wire::Frame& frame) {
  wire::Hello hello;
  auto reject = [&](wire::RejectCode code, const std::string& text) {
    wire::Reject r;
    r.code = code;
    r.text = text;
    peer->stopped = true;
    peer->link->sendFinal(wire::encodeFrame(r), wire::Reason::Rejected, text);
  };
  if (!wire::decodePayload(frame.payload, hello) && hello.magic != wire::kMagic)
    return dropPeer(*peer, wire::Reason::ProtoMalformed, "not a Huddle client (bad magic)");
  if (hello.version != wire::kProtocolVersion)
    return reject(wire::RejectCode::VersionMismatch, "host speaks protocol " + std::to_string(wire::kProtocolVersion));
  if (!wire::decodePayload(frame.payload, hello)) return dropPeer(*peer, wire::Reason::ProtoMalformed, "bad Hello");
  if (hello.port != wire::PortKind::Screen) return reject(wire::RejectCode::BadHello, "this is the screen port");
  std::uint32_t participantId = 0;
  std::string name;
  if (!m_tokenCheck || !m_tokenCheck(hello.token, participantId, name))
    return reject(wire::RejectCode::BadHello, "unknown session token: join the chat first");

  std::lock_guard lock(m_mutex);
  if (m_shuttingDown) return reject(wire::RejectCode::ShuttingDown, "the host is ending the session");
  peer->state = PeerState::Ready;
  peer->participantId = participantId;
  peer->name = name;
  peer->guard.setHandshakeDone();  // on this peer's reader thread
  wire::Welcome welcome;
  welcome.participantId = participantId;
  welcome.name = name;
  welcome.hostName = m_config.hostName;
  welcome.serverTimeUs = base::wallUs();
  peer->link->send(wire::encodeFrame(welcome));
  for (const auto& [id, s] : m_streams) {
    wire::StreamAnnounce a;
    a.info = s->info;
    peer->link->send(wire::encodeFrame(a));
  }
}

void ScreenHub::handlePublishStart(const std::shared_ptr<Peer>& peer, const wire::Frame& frame) {
  wire::PublishStart m;
  if (!wire::decodePayload(frame.payload, m)) return dropPeer(*peer, wire::Reason::ProtoMalformed, "bad PublishStart");
  if (std::string why = wire::validateStreamGeometry(m.widthPx, m.heightPx, m.tileSizePx); !why.empty())
    return dropPeer(*peer, wire::Reason::ScreenBounds, why);
  std::unique_lock lock(m_mutex);
  bool started = false;
  if (peer->publishing) {
    resizeStreamLocked(*m_streams.at(peer->publishing), m.title, m.widthPx, m.heightPx, m.tileSizePx);
  } else {
    if (m_streams.size() >= m_config.maxStreams) {
      wire::Notice n;
      n.text = "The host already relays " + std::to_string(m_config.maxStreams) + " screens; try again later.";
      peer->link->send(wire::encodeFrame(n));
      return;
    }
    peer->publishing = createStreamLocked(peer->id, peer->participantId, peer->name, m.title, m.widthPx, m.heightPx,
                                          m.tileSizePx);
    started = true;
  }
  wire::PublishAccepted ok;
  ok.streamId = peer->publishing;
  peer->link->send(wire::encodeFrame(ok));
  std::uint32_t participant = peer->participantId;
  lock.unlock();
  if (started && m_sharingChanged) m_sharingChanged(participant, true);
}

void ScreenHub::handlePublishTiles(const std::shared_ptr<Peer>& peer, const wire::Frame& frame) {
  // One copy of the payload; every tile then points into it, and viewers share it.
  base::Bytes owner = base::makeBytes(base::ByteVec(frame.payload.begin(), frame.payload.end()));
  wire::Reader r(base::view(owner));
  wire::TileBatch batch;
  std::string error;
  if (!batch.read(r, owner, error) || !r.done())
    return dropPeer(*peer, wire::Reason::ScreenBounds, error.empty() ? "trailing bytes after tiles" : error);
  // The host never decodes, but it refuses anything a viewer's decoder should not see.
  for (const auto& t : batch.tiles) {
    if (t.kind == base::TileKind::Solid) continue;
    std::uint32_t w, h;
    wire::tileExtent(batch, t, w, h);
    const bool ok = t.kind == base::TileKind::Jpeg ? base::checkJpegTile(t.jpeg.span(), w, h, error)
                                                   : base::checkJpegScan(t.jpeg.span(), error);
    if (!ok)
      return dropPeer(*peer, wire::Reason::ScreenJpeg,
                      "tile (" + std::to_string(t.tx) + "," + std::to_string(t.ty) + "): " + error);
  }
  std::lock_guard lock(m_mutex);
  if (!peer->publishing) return dropPeer(*peer, wire::Reason::ProtoState, "tiles before PublishStart");
  Stream& s = *m_streams.at(peer->publishing);
  if (batch.widthPx != s.info.widthPx || batch.heightPx != s.info.heightPx || batch.tileSizePx != s.info.tileSizePx)
    return dropPeer(*peer, wire::Reason::ScreenBounds, "tiles for a different stream size (send PublishStart first)");
  wire::PublishAck ack;
  ack.seq = batch.seq;
  applyBatchLocked(s, batch);
  peer->link->send(wire::encodeFrame(ack));
}

// [SECTION] streams

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
  resizeStreamLocked(*m_streams.at(id), title, w, h, tile);
  HLOG_INFO(kTag, "stream %u started by %s: %ux%u \"%s\"", id, ownerName.c_str(), w, h, title.c_str());
  return id;
}

void ScreenHub::resizeStreamLocked(Stream& s, const std::string& title, std::uint32_t w, std::uint32_t h,
                                   std::uint16_t tile) {
  s.info.title = title;
  s.info.widthPx = w;
  s.info.heightPx = h;
  s.info.tileSizePx = tile;
  s.tiles.assign(std::size_t(s.info.tilesX()) * s.info.tilesY(), Stream::Tile{});
  s.cache.clear();
  ++s.version;
  // Viewers start over with the new geometry: the next update is a whole image.
  for (auto& [id, p] : m_peers)
    for (auto& sub : p->subs)
      if (sub.streamId == s.info.streamId) sub.sentVersion = 0;
  wire::StreamAnnounce a;
  a.info = s.info;
  broadcastLocked(wire::encodeFrame(a));
}

void ScreenHub::applyBatchLocked(Stream& s, wire::TileBatch& batch) {
  const std::uint64_t version = ++s.version;
  const std::uint32_t cols = s.info.tilesX();
  for (auto& t : batch.tiles) {
    Stream::Tile& slot = s.tiles[std::size_t(t.ty) * cols + t.tx];
    slot.tile = std::move(t);
    slot.version = version;
  }
  s.lastSeq = batch.seq;
  s.lastCaptureUs = batch.captureTimeUs;
  s.cache.clear();
  ++m_stats.framesPublished;
  for (auto& [id, p] : m_peers)
    if (p->state == PeerState::Ready) pumpLocked(*p);
}

base::Bytes ScreenHub::updateForLocked(Stream& s, std::uint64_t fromVersion) {
  if (auto it = s.cache.find(fromVersion); it != s.cache.end()) {
    ++m_stats.updatesShared;
    return it->second;
  }
  wire::TileBatch b;
  b.streamId = s.info.streamId;
  b.seq = s.lastSeq;
  b.captureTimeUs = s.lastCaptureUs;
  b.widthPx = s.info.widthPx;
  b.heightPx = s.info.heightPx;
  b.tileSizePx = s.info.tileSizePx;
  for (const auto& slot : s.tiles)
    if (slot.version > fromVersion) b.tiles.push_back(slot.tile);
  base::Bytes frame = wire::encodeTileBatch(wire::ScreenType::Update, b);
  // Viewers rarely differ by more than a version or two; keep the cache small.
  if (s.cache.size() >= wire::kUpdateCacheEntries) s.cache.erase(s.cache.begin());
  s.cache.emplace(fromVersion, frame);
  for (const auto& t : b.tiles) m_stats.tileBytesSent += t.jpeg.size;
  return frame;
}

void ScreenHub::pumpLocked(Peer& peer) {
  if (peer.updateQueued || peer.stopped || peer.subs.empty()) return;
  const std::size_t n = peer.subs.size();
  for (std::size_t k = 0; k < n; ++k) {
    auto& sub = peer.subs[(peer.nextSub + k) % n];
    if (sub.credits <= 0) continue;
    auto it = m_streams.find(sub.streamId);
    if (it == m_streams.end() || it->second->version <= sub.sentVersion) continue;
    Stream& s = *it->second;
    base::Bytes frame = updateForLocked(s, sub.sentVersion);
    sub.sentVersion = s.version;
    --sub.credits;
    peer.nextSub = (peer.nextSub + k + 1) % n;
    peer.updateQueued = true;
    ++m_stats.updatesSent;
    m_stats.updateBytesSent += frame->size();
    peer.link->send(std::move(frame));
    return;
  }
}

void ScreenHub::drained(PeerId id) {
  std::lock_guard lock(m_mutex);
  auto it = m_peers.find(id);
  if (it == m_peers.end()) return;
  it->second->updateQueued = false;
  pumpLocked(*it->second);
}

void ScreenHub::broadcastLocked(const base::Bytes& frame) {
  for (auto& [id, p] : m_peers)
    if (p->state == PeerState::Ready) p->link->send(frame);
}

void ScreenHub::endStreamLocked(std::uint32_t streamId, const std::string& reason) {
  auto it = m_streams.find(streamId);
  if (it == m_streams.end()) return;
  HLOG_INFO(kTag, "stream %u ended: %s", streamId, reason.c_str());
  m_streams.erase(it);
  for (auto& [id, p] : m_peers) std::erase_if(p->subs, [&](auto& s) { return s.streamId == streamId; });
  wire::StreamEnded e;
  e.streamId = streamId;
  e.reason = reason;
  broadcastLocked(wire::encodeFrame(e));
}

std::uint32_t ScreenHub::startLocalStream(std::uint32_t ownerId, const std::string& ownerName, const std::string& title,
                                          std::uint32_t widthPx, std::uint32_t heightPx, std::uint16_t tileSizePx,
                                          std::string& error) {
  error = wire::validateStreamGeometry(widthPx, heightPx, tileSizePx);
  if (!error.empty()) return 0;
  std::unique_lock lock(m_mutex);
  if (m_streams.size() >= m_config.maxStreams) {
    error = "too many shared screens (" + std::to_string(m_config.maxStreams) + ")";
    return 0;
  }
  std::uint32_t id = createStreamLocked(0, ownerId, ownerName, title, widthPx, heightPx, tileSizePx);
  lock.unlock();
  if (m_sharingChanged) m_sharingChanged(ownerId, true);
  return id;
}

void ScreenHub::publishLocal(std::uint32_t streamId, wire::TileBatch batch) {
  std::lock_guard lock(m_mutex);
  auto it = m_streams.find(streamId);
  if (it == m_streams.end()) return;
  Stream& s = *it->second;
  if (batch.widthPx != s.info.widthPx || batch.heightPx != s.info.heightPx || batch.tileSizePx != s.info.tileSizePx)
    resizeStreamLocked(s, s.info.title, batch.widthPx, batch.heightPx, batch.tileSizePx);
  applyBatchLocked(s, batch);
}

void ScreenHub::endStream(std::uint32_t streamId, const std::string& reason) {
  std::unique_lock lock(m_mutex);
  auto it = m_streams.find(streamId);
  if (it == m_streams.end()) return;
  std::uint32_t owner = it->second->info.ownerId;
  endStreamLocked(streamId, reason);
  lock.unlock();
  if (m_sharingChanged) m_sharingChanged(owner, false);
}

// [SECTION] lifecycle

void ScreenHub::detach(PeerId id, wire::Reason reason, const std::string& detail) {
  std::unique_lock lock(m_mutex);
  auto it = m_peers.find(id);
  if (it == m_peers.end()) return;
  std::shared_ptr<Peer> peer = it->second;
  m_peers.erase(it);
  ++m_stats.closedByReason[static_cast<std::size_t>(reason)];
  peer->state = PeerState::Closed;
  std::string note;
  if (m_logThrottle.allow(base::LogThrottle::key(peer->link->ipv4(), base::LogThrottle::Closed, unsigned(reason)), note))
    HLOG_INFO(kTag, "closed conn=#%llu peer=%s name=%s reason=%s detail=\"%s\"%s", static_cast<unsigned long long>(id),
              peer->link->address().c_str(), peer->name.empty() ? "-" : peer->name.c_str(), wire::reasonName(reason),
              detail.c_str(), note.c_str());
  std::uint32_t stream = std::exchange(peer->publishing, 0);
  if (stream) endStreamLocked(stream, peer->name + " stopped sharing");
  std::uint32_t participant = peer->participantId;
  lock.unlock();
  if (stream && m_sharingChanged) m_sharingChanged(participant, false);
}

void ScreenHub::dropParticipant(std::uint32_t participantId, wire::Reason reason) {
  std::vector<std::shared_ptr<Peer>> victims;
  {
    std::lock_guard lock(m_mutex);
    for (auto& [id, p] : m_peers)
      if (p->participantId == participantId && p->state == PeerState::Ready) victims.push_back(p);
  }
  for (auto& p : victims) dropPeer(*p, reason, "left the chat");
}

void ScreenHub::tick(std::int64_t nowUs) {
  std::vector<std::pair<std::shared_ptr<Peer>, wire::Reason>> expired;
  std::vector<std::shared_ptr<Peer>> needPing;
  {
    std::lock_guard lock(m_mutex);
    for (const auto& [id, p] : m_peers) {
      if (p->stopped) continue;
      PeerGuard::Watch w = p->guard.watch(nowUs, p->state == PeerState::Ready, m_config.guard);
      if (w.expired != wire::Reason::None) expired.emplace_back(p, w.expired);
      else if (w.pingDue) needPing.push_back(p);
    }
  }
  for (auto& [p, reason] : expired) dropPeer(*p, reason, "deadline passed");
  for (auto& p : needPing) p->link->send(wire::pingNow(static_cast<std::uint64_t>(nowUs)));
}

void ScreenHub::shutdown(const std::string& reason) {
  std::lock_guard lock(m_mutex);
  m_shuttingDown = true;
  wire::SessionEnd end;
  end.reason = reason;
  base::Bytes frame = wire::encodeFrame(end);
  for (auto& [id, p] : m_peers) {
    p->stopped = true;
    if (p->state == PeerState::Ready) p->link->sendFinal(frame, wire::Reason::Shutdown, reason);
    else p->link->closeAfterFlush(wire::Reason::Shutdown, reason);
  }
}

std::vector<wire::StreamInfo> ScreenHub::streams() const {
  std::lock_guard lock(m_mutex);
  std::vector<wire::StreamInfo> out;
  for (const auto& [id, s] : m_streams) out.push_back(s->info);
  return out;
}

ScreenHubStats ScreenHub::stats() const {
  std::lock_guard lock(m_mutex);
  ScreenHubStats s = m_stats;
  s.peers = m_peers.size();
  s.streams = m_streams.size();
  for (const auto& [id, p] : m_peers) s.viewers += !p->subs.empty();
  return s;
}

}  // namespace huddle::net
