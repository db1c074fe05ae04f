#include "net/screen_client.h"

#include "net/wire/codec.h"

namespace huddle::net {

ScreenClient::ScreenClient(Listener& listener)
    : ClientLink(&wire::screenPortPayloadLimit, wire::PortKind::Screen), m_listener(listener) {}

ScreenClient::~ScreenClient() { stopLink(); }

void ScreenClient::start(ScreenClientConfig config) {
  // No onDrained() here. Credits, the pointer and a pen stroke go at once; a sharer's tiles
  // still go through the writer thread, not on the capture or reader thread under the
  // publisher's lock.
  config.link.inlineSendMaxBytes = kInlineSendMaxBytes;
  startLink(std::move(config.link), config.name, config.token, config.seatKey);
}

void ScreenClient::grantCredits(std::uint32_t streamId, std::uint8_t credits) {
  std::lock_guard lock(m_creditMutex);
  m_credits[streamId] += credits;
}

bool ScreenClient::takeCredit(std::uint32_t streamId) {
  std::lock_guard lock(m_creditMutex);
  auto it = m_credits.find(streamId);
  if (it == m_credits.end() || it->second == 0) return false;
  --it->second;
  return true;
}

bool ScreenClient::subscribe(std::uint32_t streamId, std::uint8_t credits) {
  grantCredits(streamId, credits);
  wire::Subscribe m;
  m.streamId = streamId;
  m.credits = credits;
  return sendFrame(wire::encodeFrame(m));
}

bool ScreenClient::unsubscribe(std::uint32_t streamId) {
  wire::Unsubscribe m;
  m.streamId = streamId;
  return sendFrame(wire::encodeFrame(m));
}

bool ScreenClient::requestUpdate(std::uint32_t streamId, std::uint8_t credits, bool fullRefresh) {
  grantCredits(streamId, credits);
  wire::UpdateRequest m;
  m.streamId = streamId;
  m.credits = credits;
  m.fullRefresh = fullRefresh;
  return sendFrame(wire::encodeFrame(m));
}

bool ScreenClient::publishStart(const std::string& title, std::uint32_t widthPx, std::uint32_t heightPx,
                                std::uint16_t tileSizePx) {
  wire::PublishStart m;
  m.title = title;
  m.widthPx = widthPx;
  m.heightPx = heightPx;
  m.tileSizePx = tileSizePx;
  return sendFrame(wire::encodeFrame(m));
}

bool ScreenClient::publishTiles(const wire::TileBatch& batch, const base::CursorPos* cursor) {
  base::Bytes tiles = wire::encodeTileBatch(wire::ScreenType::PublishTiles, batch);
  if (!cursor) return sendFrame(std::move(tiles));
  return sendFrameAfterUrgent(cursorPositionFrame(*cursor), kCursorPositionKey, std::move(tiles));
}

bool ScreenClient::publishTierTiles(std::uint8_t tier, const wire::TileBatch& batch) {
  return sendFrame(wire::encodeTierTiles(tier, batch));
}

bool ScreenClient::publishCursorShape(const base::CursorImage& shape) {
  wire::CursorShape m;
  m.image = shape;
  return sendUrgentFrame(wire::encodeFrame(m), 0);
}

base::Bytes ScreenClient::cursorPositionFrame(const base::CursorPos& pos) {
  wire::CursorPosition m;
  m.pos = pos;
  return wire::encodeFrame(m);
}

bool ScreenClient::publishCursorPosition(const base::CursorPos& pos) {
  return sendUrgentFrame(cursorPositionFrame(pos), kCursorPositionKey);
}

bool ScreenClient::pointAt(std::uint32_t streamId, std::int32_t x, std::int32_t y, bool present) {
  wire::PointAt m;
  m.streamId = streamId;
  m.x = x;
  m.y = y;
  m.present = present;
  return sendUrgentFrame(wire::encodeFrame(m), std::uint64_t{2} << 32 | streamId);
}

bool ScreenClient::penStroke(const wire::PenStroke& stroke) {
  return sendUrgentFrame(wire::encodeFrame(stroke), 0);  // in order: each batch is new ink
}

bool ScreenClient::setViewerMarks(std::uint32_t streamId, bool allowed) {
  wire::ViewerMarks m;
  m.streamId = streamId;
  m.allowed = allowed;
  return sendUrgentFrame(wire::encodeFrame(m), 0);
}

bool ScreenClient::publishStop() { return sendFrame(wire::encodeFrame(wire::PublishStop{})); }

void ScreenClient::onWelcome(const wire::Welcome&) { m_listener.onScreenConnected(); }

void ScreenClient::onFrame(const wire::Frame& frame) {
  if (wire::isUpdateType(frame.type)) {
    wire::Reader r(frame.payload);
    const std::uint32_t streamId = r.u32();  // an Update opens with its stream; read() checks the rest
    if (r.ok() && !takeCredit(streamId))
      return fail(wire::Reason::ProtoState, "The host sent more screen updates than it was given credits for "
                                            "(stream " + std::to_string(streamId) + ").");
  }
  wire::Reason reason = wire::Reason::None;
  if (std::string why = deliver(frame, m_listener, reason); !why.empty()) fail(reason, why);
}

std::string ScreenClient::deliver(const wire::Frame& frame, Listener& listener, wire::Reason& reason) {
  auto bad = [&](const std::string& what) {
    reason = wire::Reason::ProtoMalformed;
    return "The host sent a malformed " + what + ".";
  };
  switch (frame.type) {
    case static_cast<std::uint16_t>(wire::ScreenType::StreamAnnounce): {
      wire::StreamAnnounce m;
      if (!wire::decodePayload(frame.payload, m)) return bad("stream announcement");
      listener.onStreamAnnounced(m.info);
      return {};
    }
    case static_cast<std::uint16_t>(wire::ScreenType::StreamEnded): {
      wire::StreamEnded m;
      if (!wire::decodePayload(frame.payload, m)) return bad("stream end");
      listener.onStreamEnded(m.streamId, m.reason);
      return {};
    }
    case static_cast<std::uint16_t>(wire::ScreenType::Update):
    case static_cast<std::uint16_t>(wire::ScreenType::CopyUpdate): {
      // One copy out of the reassembly buffer; the tiles then point into it.
      base::Bytes owner = base::makeBytes(base::ByteVec(frame.payload.begin(), frame.payload.end()));
      wire::Reader r(base::view(owner));
      wire::TileBatch batch;
      std::string error;
      if (!batch.read(r, owner, error, wire::hasCopies(frame.type)) || !r.done())
        return bad("screen update (" + error + ")");
      listener.onUpdate(std::move(batch));
      return {};
    }
    case static_cast<std::uint16_t>(wire::ScreenType::PublishAccepted): {
      wire::PublishAccepted m;
      if (!wire::decodePayload(frame.payload, m)) return bad("publish reply");
      listener.onPublishAccepted(m.streamId);
      return {};
    }
    case static_cast<std::uint16_t>(wire::ScreenType::PublishRefused): {
      wire::PublishRefused m;
      if (!wire::decodePayload(frame.payload, m)) return bad("publish refusal");
      listener.onPublishRefused(m.reason);
      return {};
    }
    case static_cast<std::uint16_t>(wire::ScreenType::PublishAck): {
      wire::PublishAck m;
      if (!wire::decodePayload(frame.payload, m)) return bad("publish ack");
      listener.onPublishAck(m.seq);
      return {};
    }
    case static_cast<std::uint16_t>(wire::ScreenType::CursorShape): {
      // Cursor messages are an extra: a bad one is dropped (and said), the stream goes on.
      wire::CursorShape m;
      if (!wire::decodePayload(frame.payload, m)) return listener.onCursorDropped("a malformed cursor shape"), std::string();
      listener.onCursorShape(m.streamId, std::move(m.image));
      return {};
    }
    case static_cast<std::uint16_t>(wire::ScreenType::CursorPosition): {
      wire::CursorPosition m;
      if (!wire::decodePayload(frame.payload, m))
        return listener.onCursorDropped("a malformed cursor position"), std::string();
      listener.onCursorPosition(m.streamId, m.pos);
      return {};
    }
    case static_cast<std::uint16_t>(wire::ScreenType::Pointer): {
      // An extra like the cursor: a bad one is dropped (and said), the streams go on.
      wire::Pointer m;
      if (!wire::decodePayload(frame.payload, m)) return listener.onCursorDropped("a malformed pointer"), std::string();
      listener.onPointer(m);
      return {};
    }
    case static_cast<std::uint16_t>(wire::ScreenType::Pen): {
      wire::Pen m;
      if (!wire::decodePayload(frame.payload, m)) return listener.onCursorDropped("a malformed pen stroke"), std::string();
      listener.onPen(m);
      return {};
    }
    case static_cast<std::uint16_t>(wire::ScreenType::ViewerMarks): {
      wire::ViewerMarks m;
      if (!wire::decodePayload(frame.payload, m)) return listener.onCursorDropped("a malformed pointer switch"), std::string();
      listener.onViewerMarks(m.streamId, m.allowed);
      return {};
    }
    case static_cast<std::uint16_t>(wire::ScreenType::TierSwitch): {
      // Geometry is the receiver's check (it refuses updates of a size it cannot take).
      wire::TierSwitch m;
      if (!wire::decodePayload(frame.payload, m)) return bad("tier switch");
      listener.onTierSwitch(m);
      return {};
    }
    case static_cast<std::uint16_t>(wire::ScreenType::TiersWanted): {
      wire::TiersWanted m;
      if (!wire::decodePayload(frame.payload, m)) return bad("tier request");
      listener.onTiersWanted(m.streamId, m.mask);
      return {};
    }
    case static_cast<std::uint16_t>(wire::MsgType::Notice): {
      wire::Notice m;
      if (!wire::decodePayload(frame.payload, m)) return bad("notice");
      listener.onNotice(m.text);
      return {};
    }
    default:
      reason = wire::Reason::ProtoState;
      return "The host sent an unexpected screen message (type " + std::to_string(frame.type) + ").";
  }
}

void ScreenClient::onEnded(const LinkEnd& end) { m_listener.onScreenEnded(end); }

}  // namespace huddle::net
