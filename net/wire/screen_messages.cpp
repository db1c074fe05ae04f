#include "net/wire/screen_messages.h"

#include <algorithm>

#include "net/base/utf8.h"

namespace huddle::wire {

std::int64_t screenPortPayloadLimit(std::uint16_t type, bool handshakeDone) {
  switch (static_cast<ScreenType>(type)) {
    case ScreenType::Update:
    case ScreenType::PublishTiles:
    case ScreenType::CopyUpdate:
    case ScreenType::PublishCopyTiles:
    case ScreenType::PublishTierTiles:
      return handshakeDone ? std::int64_t(kMaxScreenPayload) : -1;
    case ScreenType::CursorShape:
      return handshakeDone ? std::int64_t(kMaxCursorShapePayload) : -1;
    case ScreenType::CursorPosition:
    case ScreenType::PointAt:
    case ScreenType::Pointer:
    case ScreenType::PenStroke:
    case ScreenType::Pen:
    case ScreenType::ViewerMarks:
    case ScreenType::TierSwitch:
    case ScreenType::TiersWanted:
    case ScreenType::StreamAnnounce:
    case ScreenType::StreamEnded:
    case ScreenType::Subscribe:
    case ScreenType::Unsubscribe:
    case ScreenType::UpdateRequest:
    case ScreenType::PublishStart:
    case ScreenType::PublishAccepted:
    case ScreenType::PublishRefused:
    case ScreenType::PublishAck:
    case ScreenType::PublishStop:
      return handshakeDone ? std::int64_t(kMaxScreenControlPayload) : -1;
  }
  switch (static_cast<MsgType>(type)) {
    case MsgType::Hello:
    case MsgType::Welcome:
    case MsgType::Reject:
      return kMaxPreHandshakePayload;
    case MsgType::Ping:
    case MsgType::Pong:
    case MsgType::Bye:
    case MsgType::SessionEnd:
    case MsgType::Notice:
      return handshakeDone ? std::int64_t(kMaxScreenControlPayload) : -1;
    default:
      return -1;
  }
}

std::string validateStreamGeometry(std::uint32_t w, std::uint32_t h, std::uint32_t tile) {
  if (w == 0 || h == 0) return "empty stream (" + std::to_string(w) + "x" + std::to_string(h) + ")";
  if (w > kMaxStreamSidePx || h > kMaxStreamSidePx || std::uint64_t(w) * h > kMaxStreamPixels)
    return "stream too large (" + std::to_string(w) + "x" + std::to_string(h) + ")";
  if (std::find(std::begin(kTileSizes), std::end(kTileSizes), tile) == std::end(kTileSizes))
    return "bad tile size " + std::to_string(tile);
  return {};
}

static bool readText(Reader& r, std::string& out, std::size_t maxBytes) {
  out = r.str(maxBytes);
  return r.ok() && base::isValidUtf8(out) && !base::hasForbiddenControls(out, false);
}

void StreamAnnounce::write(Writer& w) const {
  w.u32(info.streamId);
  w.u32(info.ownerId);
  w.str(info.ownerName);
  w.str(info.title);
  w.u32(info.widthPx);
  w.u32(info.heightPx);
  w.u16(info.tileSizePx);
}
bool StreamAnnounce::read(Reader& r) {
  info.streamId = r.u32();
  info.ownerId = r.u32();
  if (!readText(r, info.ownerName, kMaxNameBytes) || !readText(r, info.title, kMaxTitleBytes)) return false;
  info.widthPx = r.u32();
  info.heightPx = r.u32();
  info.tileSizePx = r.u16();
  return r.ok() && validateStreamGeometry(info.widthPx, info.heightPx, info.tileSizePx).empty();
}

void StreamEnded::write(Writer& w) const { w.u32(streamId); w.str(reason); }
bool StreamEnded::read(Reader& r) {
  streamId = r.u32();
  return readText(r, reason, kMaxReasonBytes);
}

void Subscribe::write(Writer& w) const { w.u32(streamId); w.u8(credits); }
bool Subscribe::read(Reader& r) {
  streamId = r.u32();
  credits = r.u8();
  return r.ok() && credits >= 1 && credits <= kMaxCredits;
}

void Unsubscribe::write(Writer& w) const { w.u32(streamId); }
bool Unsubscribe::read(Reader& r) { streamId = r.u32(); return r.ok(); }

void UpdateRequest::write(Writer& w) const { w.u32(streamId); w.u8(credits); w.u8(fullRefresh ? 1 : 0); }
bool UpdateRequest::read(Reader& r) {
  streamId = r.u32();
  credits = r.u8();
  std::uint8_t full = r.u8();
  fullRefresh = full == 1;
  return r.ok() && credits <= kMaxCredits && full <= 1;
}

// A tile's kind and bytes (after its place): the same for a whole tile and a patch.
static void writeTileBody(Writer& w, const base::EncodedTile& t) {
  w.u8(static_cast<std::uint8_t>(t.kind));
  if (t.kind == base::TileKind::Solid) {
    w.u32(t.solidBgrx);
  } else {
    if (t.kind == base::TileKind::JpegScan) {
      w.u8(t.jpegQuality);
      w.u8(static_cast<std::uint8_t>((t.jpeg444 ? 1 : 0) | (t.jpegRowRestarts ? 2 : 0)));
    }
    w.blob(t.jpeg.span());
  }
}

// Reads what writeTileBody wrote for an image of w x h pixels (a tile cropped at the edges, or
// a patch): the bytes are capped by that size and become a slice of `owner`.
static bool readTileBody(Reader& r, const base::Bytes& owner, base::EncodedTile& t, std::uint32_t w, std::uint32_t h,
                         std::string& error) {
  const std::uint8_t kind = r.u8();
  if (!r.ok()) return error = "truncated tile", false;
  if (kind == static_cast<std::uint8_t>(base::TileKind::Solid)) {
    t.kind = base::TileKind::Solid;
    t.solidBgrx = r.u32();
    return true;
  }
  if (kind != static_cast<std::uint8_t>(base::TileKind::Jpeg) &&
      kind != static_cast<std::uint8_t>(base::TileKind::JpegScan) &&
      kind != static_cast<std::uint8_t>(base::TileKind::Palette) &&
      kind != static_cast<std::uint8_t>(base::TileKind::ZstdPixels))
    return error = "unknown tile kind " + std::to_string(kind), false;
  t.kind = static_cast<base::TileKind>(kind);
  if (t.kind == base::TileKind::JpegScan) {
    t.jpegQuality = r.u8();
    const std::uint8_t flags = r.u8();  // 1: 4:4:4, 2: a restart every MCU row
    if (!r.ok()) return error = "truncated tile", false;
    if (t.jpegQuality < 1 || t.jpegQuality > 100 || flags > 3)
      return error = "bad JPEG settings in tile (" + std::to_string(t.tx) + "," + std::to_string(t.ty) + ")", false;
    t.jpeg444 = (flags & 1) != 0;
    t.jpegRowRestarts = (flags & 2) != 0;
  }
  const bool lossless = base::isLosslessKind(t.kind);
  auto bytes = r.blob(lossless ? maxLosslessTileBytes(w, h) : maxJpegTileBytes(w, h));
  if (!r.ok()) return error = "tile bytes missing or larger than any valid tile", false;
  if (bytes.size() < (t.kind == base::TileKind::Jpeg ? 4u : 1u)) return error = "tile bytes too short", false;
  t.jpeg.owner = owner;
  t.jpeg.offset = static_cast<std::uint32_t>(bytes.data() - owner->data());
  t.jpeg.size = static_cast<std::uint32_t>(bytes.size());
  return true;
}

void TileBatch::write(Writer& w) const {
  w.u32(streamId);
  w.u64(seq);
  w.i64(captureTimeUs);
  w.u32(widthPx);
  w.u32(heightPx);
  w.u16(tileSizePx);
  w.u32(static_cast<std::uint32_t>(tiles.size()));
  for (const auto& t : tiles) {
    w.u16(t.tx);
    w.u16(t.ty);
    writeTileBody(w, t);
  }
}

std::string validateCopy(const base::CopyRect& c, std::uint32_t widthPx, std::uint32_t heightPx) {
  if (c.w <= 0 || c.h <= 0) return "empty copy (" + std::to_string(c.w) + "x" + std::to_string(c.h) + ")";
  if (!c.inside(widthPx, heightPx))
    return "copy " + std::to_string(c.w) + "x" + std::to_string(c.h) + " from (" + std::to_string(c.srcX) + "," +
           std::to_string(c.srcY) + ") to (" + std::to_string(c.dstX) + "," + std::to_string(c.dstY) +
           ") reaches outside the " + std::to_string(widthPx) + "x" + std::to_string(heightPx) + " stream";
  return {};
}

bool TileBatch::read(Reader& r, const base::Bytes& owner, std::string& error, bool withCopies) {
  copies.clear();
  patches.clear();
  if (!readTiles(r, owner, error)) return false;
  if (!withCopies) return true;
  const std::uint8_t n = r.u8();
  if (!r.ok()) return error = "truncated copies", false;
  if (n > kMaxCopiesPerBatch)
    return error = std::to_string(n) + " copies (0.." + std::to_string(kMaxCopiesPerBatch) + ")", false;
  copies.resize(n);
  for (auto& c : copies) {
    c.srcX = r.u16();
    c.srcY = r.u16();
    c.w = r.u16();
    c.h = r.u16();
    c.dstX = r.u16();
    c.dstY = r.u16();
    if (!r.ok()) return error = "truncated copy", false;
  }
  const std::uint16_t np = r.u16();
  if (!r.ok()) return error = "truncated patches", false;
  if (np > kMaxPatchesPerBatch)
    return error = std::to_string(np) + " patches (0.." + std::to_string(kMaxPatchesPerBatch) + ")", false;
  if (n == 0 && np == 0) return error = "a copy batch with no copies and no patches", false;
  // Each patch needs at least its place and a solid colour, so a count the payload cannot hold
  // fails before reserve().
  if (np > r.remaining() / (kPatchHeaderWireBytes + 5)) return error = "patch count larger than the message", false;
  const std::uint32_t cols = (widthPx + tileSizePx - 1) / tileSizePx, rows = (heightPx + tileSizePx - 1) / tileSizePx;
  std::vector<bool> seen(std::size_t(cols) * rows, false);
  for (const auto& t : tiles) seen[std::size_t(t.ty) * cols + t.tx] = true;
  patches.reserve(np);
  for (std::uint16_t i = 0; i < np; ++i) {
    base::TilePatch p;
    p.tile.tx = r.u16();
    p.tile.ty = r.u16();
    p.x = r.u16();
    p.y = r.u16();
    p.w = r.u16();
    p.h = r.u16();
    if (!r.ok()) return error = "truncated patch", false;
    if (std::string why = validatePatch(p, widthPx, heightPx, tileSizePx); !why.empty()) return error = why, false;
    const std::size_t index = std::size_t(p.tile.ty) * cols + p.tile.tx;
    if (seen[index])
      return error = "patch of tile (" + std::to_string(p.tile.tx) + "," + std::to_string(p.tile.ty) +
                     ") that the batch already changes",
             false;
    seen[index] = true;
    if (!readTileBody(r, owner, p.tile, p.w, p.h, error)) return error = "patch: " + error, false;
    patches.push_back(std::move(p));
  }
  return true;
}

std::string validatePatch(const base::TilePatch& p, std::uint32_t widthPx, std::uint32_t heightPx,
                          std::uint32_t tileSizePx) {
  const std::string where = "patch of tile (" + std::to_string(p.tile.tx) + "," + std::to_string(p.tile.ty) + ")";
  if (tileSizePx == 0) return where + ": no grid";
  const std::uint64_t x0 = std::uint64_t(p.tile.tx) * tileSizePx, y0 = std::uint64_t(p.tile.ty) * tileSizePx;
  if (x0 >= widthPx || y0 >= heightPx) return where + " outside the stream";
  const std::uint64_t tw = std::min<std::uint64_t>(tileSizePx, widthPx - x0);
  const std::uint64_t th = std::min<std::uint64_t>(tileSizePx, heightPx - y0);
  if (p.w == 0 || p.h == 0 || std::uint64_t(p.x) + p.w > tw || std::uint64_t(p.y) + p.h > th)
    return where + ": " + std::to_string(p.w) + "x" + std::to_string(p.h) + " at (" + std::to_string(p.x) + "," +
           std::to_string(p.y) + ") is not inside the " + std::to_string(tw) + "x" + std::to_string(th) + " tile";
  return {};
}

bool TileBatch::readTiles(Reader& r, const base::Bytes& owner, std::string& error) {
  streamId = r.u32();
  seq = r.u64();
  captureTimeUs = r.i64();
  widthPx = r.u32();
  heightPx = r.u32();
  tileSizePx = r.u16();
  std::uint32_t count = r.u32();
  if (!r.ok()) return error = "truncated update header", false;
  if (std::string why = validateStreamGeometry(widthPx, heightPx, tileSizePx); !why.empty()) return error = why, false;
  const std::uint32_t cols = (widthPx + tileSizePx - 1) / tileSizePx, rows = (heightPx + tileSizePx - 1) / tileSizePx;
  if (count > cols * rows) return error = "more tiles (" + std::to_string(count) + ") than the grid holds", false;
  // Each tile needs at least 5 bytes, so a count the payload cannot hold fails before reserve().
  if (count > r.remaining() / 5) return error = "tile count larger than the message", false;
  std::vector<bool> seen(std::size_t(cols) * rows, false);
  tiles.clear();
  tiles.reserve(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    base::EncodedTile t;
    t.tx = r.u16();
    t.ty = r.u16();
    if (!r.ok()) return error = "truncated tile", false;
    if (t.tx >= cols || t.ty >= rows)
      return error = "tile (" + std::to_string(t.tx) + "," + std::to_string(t.ty) + ") outside " + std::to_string(cols) +
                     "x" + std::to_string(rows) + " grid", false;
    std::size_t index = std::size_t(t.ty) * cols + t.tx;
    if (seen[index]) return error = "duplicate tile (" + std::to_string(t.tx) + "," + std::to_string(t.ty) + ")", false;
    seen[index] = true;
    std::uint32_t w = std::min<std::uint32_t>(tileSizePx, widthPx - std::uint32_t(t.tx) * tileSizePx);
    std::uint32_t h = std::min<std::uint32_t>(tileSizePx, heightPx - std::uint32_t(t.ty) * tileSizePx);
    if (!readTileBody(r, owner, t, w, h, error)) return false;
    tiles.push_back(std::move(t));
  }
  if (!r.ok()) return error = "truncated tile", false;
  return true;
}

base::Bytes encodeTileBatch(ScreenType type, const TileBatch& batch) {
  std::size_t size = kFrameHeaderBytes + 32 + batch.tiles.size() * 11 + orderedWireBytes(batch);
  for (const auto& t : batch.tiles) size += t.jpeg.size;
  base::ByteVec out;
  out.reserve(size);
  out.resize(kFrameHeaderBytes);
  Writer w(out);
  batch.write(w);
  if (!batch.copies.empty() || !batch.patches.empty()) {
    if (type == ScreenType::Update) type = ScreenType::CopyUpdate;
    if (type == ScreenType::PublishTiles) type = ScreenType::PublishCopyTiles;
    w.u8(static_cast<std::uint8_t>(batch.copies.size()));
    for (const auto& c : batch.copies) {
      w.u16(static_cast<std::uint16_t>(c.srcX));
      w.u16(static_cast<std::uint16_t>(c.srcY));
      w.u16(static_cast<std::uint16_t>(c.w));
      w.u16(static_cast<std::uint16_t>(c.h));
      w.u16(static_cast<std::uint16_t>(c.dstX));
      w.u16(static_cast<std::uint16_t>(c.dstY));
    }
    w.u16(static_cast<std::uint16_t>(batch.patches.size()));
    for (const auto& p : batch.patches) {
      w.u16(p.tile.tx);
      w.u16(p.tile.ty);
      w.u16(p.x);
      w.u16(p.y);
      w.u16(p.w);
      w.u16(p.h);
      writeTileBody(w, p.tile);
    }
  }
  return sealFrame(std::move(out), static_cast<std::uint16_t>(type));
}

void PublishStart::write(Writer& w) const {
  w.str(title);
  w.u32(widthPx);
  w.u32(heightPx);
  w.u16(tileSizePx);
}
bool PublishStart::read(Reader& r) {
  if (!readText(r, title, kMaxTitleBytes)) return false;
  widthPx = r.u32();
  heightPx = r.u32();
  tileSizePx = r.u16();
  return r.ok();  // geometry is checked by the host, which names the reason
}

void CursorShape::write(Writer& w) const {
  w.u32(streamId);
  w.u32(image.id);
  w.u16(image.widthPx);
  w.u16(image.heightPx);
  w.u16(image.hotX);
  w.u16(image.hotY);
  w.raw(image.rgba.data(), image.rgba.size());
}
bool CursorShape::read(Reader& r) {
  streamId = r.u32();
  image.id = r.u32();
  image.widthPx = r.u16();
  image.heightPx = r.u16();
  image.hotX = r.u16();
  image.hotY = r.u16();
  if (!r.ok() || image.widthPx == 0 || image.heightPx == 0 || image.widthPx > kMaxCursorSidePx ||
      image.heightPx > kMaxCursorSidePx || image.hotX >= image.widthPx || image.hotY >= image.heightPx)
    return false;
  const std::size_t bytes = std::size_t(image.widthPx) * image.heightPx * 4;
  if (r.remaining() != bytes) return false;
  auto pixels = r.bytes(bytes);
  if (!r.ok()) return false;
  image.rgba.assign(pixels.begin(), pixels.end());
  return true;
}

void CursorPosition::write(Writer& w) const {
  w.u32(streamId);
  w.u32(pos.shapeId);
  w.i32(pos.x);
  w.i32(pos.y);
  w.u8(pos.visible ? 1 : 0);
}
bool CursorPosition::read(Reader& r) {
  streamId = r.u32();
  pos.shapeId = r.u32();
  pos.x = r.i32();
  pos.y = r.i32();
  std::uint8_t visible = r.u8();
  pos.visible = visible == 1;
  return r.ok() && visible <= 1;
}

std::string validateCursorPosition(const base::CursorPos& pos, std::uint32_t w, std::uint32_t h) {
  if (!pos.visible) return {};
  const std::int64_t x = pos.x, y = pos.y;
  if (x < -kCursorMarginPx || y < -kCursorMarginPx || x >= std::int64_t(w) + kCursorMarginPx ||
      y >= std::int64_t(h) + kCursorMarginPx)
    return "cursor at (" + std::to_string(x) + "," + std::to_string(y) + ") far outside the " + std::to_string(w) +
           "x" + std::to_string(h) + " stream";
  return {};
}

void PointAt::write(Writer& w) const {
  w.u32(streamId);
  w.i32(x);
  w.i32(y);
  w.u8(present ? 1 : 0);
}
bool PointAt::read(Reader& r) {
  streamId = r.u32();
  x = r.i32();
  y = r.i32();
  const std::uint8_t p = r.u8();
  present = p == 1;
  return r.ok() && p <= 1;
}

void Pointer::write(Writer& w) const {
  w.u32(streamId);
  w.u32(participantId);
  w.str(name);
  w.i32(x);
  w.i32(y);
  w.u8(present ? 1 : 0);
}
bool Pointer::read(Reader& r) {
  streamId = r.u32();
  participantId = r.u32();
  if (!readText(r, name, kMaxNameBytes)) return false;
  x = r.i32();
  y = r.i32();
  const std::uint8_t p = r.u8();
  present = p == 1;
  return r.ok() && p <= 1;
}

std::string validatePointer(std::int32_t x, std::int32_t y, std::uint32_t w, std::uint32_t h) {
  if (x < 0 || y < 0 || std::int64_t(x) >= std::int64_t(w) || std::int64_t(y) >= std::int64_t(h))
    return "pointer at (" + std::to_string(x) + "," + std::to_string(y) + ") outside the " + std::to_string(w) + "x" +
           std::to_string(h) + " stream";
  return {};
}

namespace {
void writePenPoints(Writer& w, const std::vector<PenPoint>& points) {
  w.u16(static_cast<std::uint16_t>(points.size()));
  for (const PenPoint& p : points) {
    w.u16(p.x);
    w.u16(p.y);
  }
}
bool readPenPoints(Reader& r, std::vector<PenPoint>& points) {
  const std::uint16_t n = r.u16();
  if (!r.ok() || n > kMaxPenPointsPerMessage) return false;
  points.resize(n);
  for (PenPoint& p : points) {
    p.x = r.u16();
    p.y = r.u16();
  }
  return r.ok();
}
}  // namespace

void PenStroke::write(Writer& w) const {
  w.u32(streamId);
  w.u32(strokeId);
  w.u8(end ? kFlagEnd : 0);
  writePenPoints(w, points);
}
bool PenStroke::read(Reader& r) {
  streamId = r.u32();
  strokeId = r.u32();
  const std::uint8_t flags = r.u8();
  end = flags & kFlagEnd;
  return r.ok() && (flags & ~kFlagEnd) == 0 && readPenPoints(r, points);
}

void Pen::write(Writer& w) const {
  w.u32(streamId);
  w.u32(participantId);
  w.str(name);
  w.u32(strokeId);
  w.u8(static_cast<std::uint8_t>((end ? kFlagEnd : 0) | (clear ? kFlagClear : 0)));
  writePenPoints(w, points);
}
bool Pen::read(Reader& r) {
  streamId = r.u32();
  participantId = r.u32();
  if (!readText(r, name, kMaxNameBytes)) return false;
  strokeId = r.u32();
  const std::uint8_t flags = r.u8();
  end = flags & kFlagEnd;
  clear = flags & kFlagClear;
  if (!r.ok() || (flags & ~(kFlagEnd | kFlagClear)) != 0 || !readPenPoints(r, points)) return false;
  return !clear || points.empty();  // a clear carries no points
}

std::string validatePenPoints(const std::vector<PenPoint>& points, std::uint32_t w, std::uint32_t h) {
  for (const PenPoint& p : points)
    if (p.x >= w || p.y >= h)
      return "pen point (" + std::to_string(p.x) + "," + std::to_string(p.y) + ") outside the " + std::to_string(w) +
             "x" + std::to_string(h) + " stream";
  return {};
}

void ViewerMarks::write(Writer& w) const {
  w.u32(streamId);
  w.u8(allowed ? 1 : 0);
}
bool ViewerMarks::read(Reader& r) {
  streamId = r.u32();
  const std::uint8_t a = r.u8();
  allowed = a == 1;
  return r.ok() && a <= 1;
}

void TierSwitch::write(Writer& w) const {
  w.u32(streamId);
  w.u8(tier);
  w.u32(widthPx);
  w.u32(heightPx);
  w.u16(tileSizePx);
}
bool TierSwitch::read(Reader& r) {
  streamId = r.u32();
  tier = r.u8();
  widthPx = r.u32();
  heightPx = r.u32();
  tileSizePx = r.u16();
  return r.ok() && tier < kMaxScreenTiers;
}

void TiersWanted::write(Writer& w) const {
  w.u32(streamId);
  w.u8(mask);
}
bool TiersWanted::read(Reader& r) {
  streamId = r.u32();
  mask = r.u8();
  return r.ok() && mask < (1u << kMaxScreenTiers);
}

base::Bytes encodeTierTiles(std::uint8_t tier, TileBatch batch) {
  batch.streamId = tier;
  batch.copies.clear();
  batch.patches.clear();
  return encodeTileBatch(ScreenType::PublishTierTiles, batch);
}

void PublishAccepted::write(Writer& w) const { w.u32(streamId); }
bool PublishAccepted::read(Reader& r) { streamId = r.u32(); return r.ok(); }

void PublishRefused::write(Writer& w) const { w.str(reason); }
bool PublishRefused::read(Reader& r) { return readText(r, reason, kMaxReasonBytes); }

void PublishAck::write(Writer& w) const { w.u64(seq); }
bool PublishAck::read(Reader& r) { seq = r.u64(); return r.ok(); }

}  // namespace huddle::wire
