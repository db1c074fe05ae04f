// Messages of the screen port: stream announcements, subscriptions with credits, updates of
// encoded tiles, publishing, and clock pings. Every count, size and coordinate is checked
// against net/wire/limits.h while decoding. Thread: any (pure functions).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "net/base/cursor.h"
#include "net/base/tile.h"
#include "net/wire/codec.h"
#include "net/wire/limits.h"
#include "net/wire/messages.h"

namespace huddle::wire {

enum class ScreenType : std::uint16_t {
  StreamAnnounce = 0x0201,  // H->C a stream exists (or changed size)
  StreamEnded = 0x0202,     // H->C a stream is gone
  Subscribe = 0x0203,       // C->H start watching a stream, with initial credits
  Unsubscribe = 0x0204,     // C->H stop watching
  UpdateRequest = 0x0205,   // C->H more credits (and optionally a full refresh)
  Update = 0x0206,          // H->C changed tiles of a stream
  PublishStart = 0x0207,    // C->H start (or resize) this client's stream
  PublishAccepted = 0x0208, // H->C the stream id
  PublishTiles = 0x0209,    // C->H encoded tiles of one captured frame
  PublishAck = 0x020A,      // H->C frame taken (publisher keeps <= 2 in flight)
  PublishStop = 0x020B,     // C->H stop sharing
  PublishRefused = 0x020C,  // H->C no stream for this publisher, and why (for a person)
  // The sharer's cursor, beside the tiles (never inside them): a shape once per change,
  // cached by id on the receiver; positions latest-wins.
  CursorShape = 0x020D,     // C->H and H->C one cursor shape of a stream
  CursorPosition = 0x020E,  // C->H and H->C where the cursor of a stream is now
  // Pointers: anyone watching a stream points at it; the host relays to its watchers and sharer.
  PointAt = 0x020F,         // C->H my pointer on a stream (or gone)
  Pointer = 0x0210,         // H->C someone's pointer on a stream (or gone)
  // The vanishing pen: points of a stroke in batches, relayed like pointers.
  PenStroke = 0x0211,       // C->H the next points of my stroke on a stream
  Pen = 0x0212,             // H->C the next points of someone's stroke (or all theirs gone)
  // The sharer's switch for viewers' pointers and pens on its stream.
  ViewerMarks = 0x0213,     // C->H (the sharer) and H->C (its watchers): on or off
  // Scrolls (issue 12): an Update / PublishTiles whose copies (CopyRect, applied in order to
  // the previous image) come before its tiles, in one message so neither goes without the other.
  CopyUpdate = 0x0214,        // H->C like Update, with copies
  PublishCopyTiles = 0x0215,  // C->H like PublishTiles, with copies
  // Quality tiers (every viewer at its own pace): the host serves each viewer one tier of a
  // stream, tells it which before that tier's first update, and tells the publisher which
  // tiers anyone watches; the publisher encodes those only.
  TierSwitch = 0x0216,        // H->C this viewer's updates of a stream are now of this tier
  TiersWanted = 0x0217,       // H->C the tiers of its stream the publisher should encode
  PublishTierTiles = 0x0218,  // C->H like PublishTiles, for a lower tier (no copies)
};

// Largest payload for `type` on the screen port in this phase, or -1 if not allowed.
std::int64_t screenPortPayloadLimit(std::uint16_t type, bool handshakeDone);

// Checks stream geometry against the limits; empty if fine, else the reason.
std::string validateStreamGeometry(std::uint32_t widthPx, std::uint32_t heightPx, std::uint32_t tileSizePx);

struct StreamInfo {
  std::uint32_t streamId = 0;
  std::uint32_t ownerId = 0;     // participant id of the sharer
  std::string ownerName;
  std::string title;             // "Whole screen", "Test scene", ...
  std::uint32_t widthPx = 0, heightPx = 0;
  std::uint16_t tileSizePx = 64;
  std::uint32_t tilesX() const { return (widthPx + tileSizePx - 1) / tileSizePx; }
  std::uint32_t tilesY() const { return (heightPx + tileSizePx - 1) / tileSizePx; }
};

struct StreamAnnounce {
  static constexpr ScreenType kType = ScreenType::StreamAnnounce;
  StreamInfo info;
  void write(Writer& w) const;
  bool read(Reader& r);
};

struct StreamEnded {
  static constexpr ScreenType kType = ScreenType::StreamEnded;
  std::uint32_t streamId = 0;
  std::string reason;
  void write(Writer& w) const;
  bool read(Reader& r);
};

struct Subscribe {
  static constexpr ScreenType kType = ScreenType::Subscribe;
  std::uint32_t streamId = 0;
  std::uint8_t credits = 2;
  void write(Writer& w) const;
  bool read(Reader& r);
};

struct Unsubscribe {
  static constexpr ScreenType kType = ScreenType::Unsubscribe;
  std::uint32_t streamId = 0;
  void write(Writer& w) const;
  bool read(Reader& r);
};

struct UpdateRequest {
  static constexpr ScreenType kType = ScreenType::UpdateRequest;
  std::uint32_t streamId = 0;
  std::uint8_t credits = 1;
  bool fullRefresh = false;  // the viewer lost track (decode error): resend every tile
  void write(Writer& w) const;
  bool read(Reader& r);
};

// The body shared by Update (host->viewer) and PublishTiles (publisher->host).
struct TileBatch {
  std::uint32_t streamId = 0;     // Update only; ignored in PublishTiles
  std::uint64_t seq = 0;          // the publisher's frame number
  std::int64_t captureTimeUs = 0; // host wall clock at capture
  std::uint32_t widthPx = 0, heightPx = 0;
  std::uint16_t tileSizePx = 64;
  std::vector<base::EncodedTile> tiles;
  // Applied in order to the previous image before the tiles; only in CopyUpdate and
  // PublishCopyTiles (encodeTileBatch picks those when there are any).
  std::vector<base::CopyRect> copies;
  // Changed rectangles inside tiles, applied in order after the copies and before the tiles;
  // also only in CopyUpdate and PublishCopyTiles (at most one per tile, none for a tile in
  // `tiles`).
  std::vector<base::TilePatch> patches;

  void write(Writer& w) const;
  // Decodes with every tile checked against the geometry (inside the grid, no duplicates,
  // JPEG or lossless bytes no larger than any valid tile of that kind). `r` must read from inside `owner`: tile bytes
  // become slices of it, not copies. `withCopies` (CopyUpdate, PublishCopyTiles): the copies
  // follow the tiles, 0..kMaxCopiesPerBatch of them, then the patches (0..kMaxPatchesPerBatch,
  // at least one copy or patch in all), each checked here against its tile (validatePatch),
  // its bytes capped like a tile's of its size; whether each copy is inside the stream is the
  // receiver's check (validateCopy): the host drops such a publisher, a viewer drops the
  // update and asks for a full refresh.
  bool read(Reader& r, const base::Bytes& owner, std::string& error, bool withCopies = false);

 private:
  bool readTiles(Reader& r, const base::Bytes& owner, std::string& error);
};

// Whether `type` is a TileBatch (Update or CopyUpdate; PublishTiles or PublishCopyTiles), and
// whether it carries copies.
inline bool isUpdateType(std::uint16_t type) {
  return type == std::uint16_t(ScreenType::Update) || type == std::uint16_t(ScreenType::CopyUpdate);
}
inline bool isPublishTilesType(std::uint16_t type) {
  return type == std::uint16_t(ScreenType::PublishTiles) || type == std::uint16_t(ScreenType::PublishCopyTiles);
}
inline bool hasCopies(std::uint16_t type) {
  return type == std::uint16_t(ScreenType::CopyUpdate) || type == std::uint16_t(ScreenType::PublishCopyTiles);
}
// Empty if `c` is inside a w x h stream, else why not.
std::string validateCopy(const base::CopyRect& c, std::uint32_t widthPx, std::uint32_t heightPx);
// Empty if `p` is at least one pixel and inside its tile of a w x h stream, else why not.
std::string validatePatch(const base::TilePatch& p, std::uint32_t widthPx, std::uint32_t heightPx,
                          std::uint32_t tileSizePx);

// What a TileBatch takes on the wire: its fixed header, and each tile (exact, so a sender can
// cut a batch into parts that each stay within kMaxScreenPayload).
inline constexpr std::size_t kTileBatchHeaderBytes = 4 + 8 + 8 + 4 + 4 + 2 + 4;
inline std::size_t tileWireBytes(const base::EncodedTile& t) {
  if (t.kind == base::TileKind::Solid) return 5 + 4;
  return 5 + (t.kind == base::TileKind::JpegScan ? 2 : 0) + 4 + std::size_t(t.jpeg.size);
}

// What a patch takes on the wire.
inline std::size_t patchWireBytes(const base::TilePatch& p) { return kPatchHeaderWireBytes - 4 + tileWireBytes(p.tile); }
// What a batch's copies and patches add on the wire (none of either: nothing).
inline std::size_t orderedWireBytes(std::size_t copies, std::size_t patchBytes, bool anyPatch) {
  return copies == 0 && !anyPatch ? 0 : 1 + copies * kCopyRectWireBytes + 2 + patchBytes;
}
inline std::size_t orderedWireBytes(const TileBatch& b) {
  std::size_t patchBytes = 0;
  for (const auto& p : b.patches) patchBytes += patchWireBytes(p);
  return orderedWireBytes(b.copies.size(), patchBytes, !b.patches.empty());
}

// The tile's true size: edge tiles are cropped to the stream.
inline void tileExtent(const TileBatch& b, const base::EncodedTile& t, std::uint32_t& w, std::uint32_t& h) {
  std::uint32_t x = std::uint32_t(t.tx) * b.tileSizePx, y = std::uint32_t(t.ty) * b.tileSizePx;
  w = std::min<std::uint32_t>(b.tileSizePx, b.widthPx - x);
  h = std::min<std::uint32_t>(b.tileSizePx, b.heightPx - y);
}

struct PublishStart {
  static constexpr ScreenType kType = ScreenType::PublishStart;
  std::string title;
  std::uint32_t widthPx = 0, heightPx = 0;
  std::uint16_t tileSizePx = 64;
  void write(Writer& w) const;
  bool read(Reader& r);
};

struct PublishAccepted {
  static constexpr ScreenType kType = ScreenType::PublishAccepted;
  std::uint32_t streamId = 0;
  void write(Writer& w) const;
  bool read(Reader& r);
};

// The answer to a PublishStart the host cannot take (it relays as many streams as it may).
// The publisher sends no tiles until PublishAccepted; any sent before it read this are ignored.
struct PublishRefused {
  static constexpr ScreenType kType = ScreenType::PublishRefused;
  std::string reason;
  void write(Writer& w) const;
  bool read(Reader& r);
};

struct PublishAck {
  static constexpr ScreenType kType = ScreenType::PublishAck;
  std::uint64_t seq = 0;
  void write(Writer& w) const;
  bool read(Reader& r);
};

struct PublishStop {
  static constexpr ScreenType kType = ScreenType::PublishStop;
  void write(Writer&) const {}
  bool read(Reader&) { return true; }
};

// One cursor shape (publisher->host: streamId ignored, the host knows the publisher's stream).
// Read checks: 1..kMaxCursorSidePx on each side, the hot spot inside, exactly w*h*4 pixel bytes.
struct CursorShape {
  static constexpr ScreenType kType = ScreenType::CursorShape;
  std::uint32_t streamId = 0;
  base::CursorImage image;
  void write(Writer& w) const;
  bool read(Reader& r);
};

// Where a stream's cursor is (its hot spot, stream pixels) and which shape it shows.
struct CursorPosition {
  static constexpr ScreenType kType = ScreenType::CursorPosition;
  std::uint32_t streamId = 0;
  base::CursorPos pos;
  void write(Writer& w) const;
  bool read(Reader& r);
};

// Empty if a visible cursor at `pos` is near enough to a w x h stream to be drawn
// (kCursorMarginPx), else why not; a hidden one may be anywhere.
std::string validateCursorPosition(const base::CursorPos& pos, std::uint32_t widthPx, std::uint32_t heightPx);

// A viewer's pointer on a stream it watches: where (stream pixels, inside the stream), or
// gone (released). The host names the person; it never takes a name from the pointer.
struct PointAt {
  static constexpr ScreenType kType = ScreenType::PointAt;
  std::uint32_t streamId = 0;
  std::int32_t x = 0, y = 0;
  bool present = false;  // false: the pointer is gone (x, y ignored)
  void write(Writer& w) const;
  bool read(Reader& r);
};

// Someone's pointer, as the host relays it: who (participant id and name) and where.
struct Pointer {
  static constexpr ScreenType kType = ScreenType::Pointer;
  std::uint32_t streamId = 0;
  std::uint32_t participantId = 0;
  std::string name;
  std::int32_t x = 0, y = 0;
  bool present = false;
  void write(Writer& w) const;
  bool read(Reader& r);
};

// Empty if a present pointer at (x, y) is inside a w x h stream, else why not.
std::string validatePointer(std::int32_t x, std::int32_t y, std::uint32_t widthPx, std::uint32_t heightPx);

// A point of a pen stroke, in stream pixels (streams are at most kMaxStreamSidePx a side).
struct PenPoint {
  std::uint16_t x = 0, y = 0;
  bool operator==(const PenPoint&) const = default;
};

// The next points of the sender's stroke `strokeId` on a stream (a new id starts a new
// stroke); `end`: the stroke is finished after them. At most kMaxPenPointsPerMessage points.
struct PenStroke {
  static constexpr ScreenType kType = ScreenType::PenStroke;
  static constexpr std::uint8_t kFlagEnd = 1;
  std::uint32_t streamId = 0;
  std::uint32_t strokeId = 0;
  bool end = false;
  std::vector<PenPoint> points;
  void write(Writer& w) const;
  bool read(Reader& r);
};

// Someone's stroke points as the host relays them, named by the host; `clear`: every stroke
// of that person on the stream is gone (they left, were removed, stopped watching, or the
// sharer turned pens off), with no points.
struct Pen {
  static constexpr ScreenType kType = ScreenType::Pen;
  static constexpr std::uint8_t kFlagEnd = 1, kFlagClear = 2;
  std::uint32_t streamId = 0;
  std::uint32_t participantId = 0;
  std::string name;
  std::uint32_t strokeId = 0;
  bool end = false;
  bool clear = false;
  std::vector<PenPoint> points;
  void write(Writer& w) const;
  bool read(Reader& r);
};

// Empty if every point is inside a w x h stream, else why not.
std::string validatePenPoints(const std::vector<PenPoint>& points, std::uint32_t widthPx, std::uint32_t heightPx);

// Whether viewers may point and draw on a stream: the sharer's switch (C->H), and the host
// telling a stream's watchers (H->C, when it changes and on subscribing while it is off).
struct ViewerMarks {
  static constexpr ScreenType kType = ScreenType::ViewerMarks;
  std::uint32_t streamId = 0;
  bool allowed = true;
  void write(Writer& w) const;
  bool read(Reader& r);
};

// The tier (and its geometry) a viewer's next updates of a stream are of. Sent before the
// first update of a subscription and whenever the tier or its geometry changes; the viewer's
// image starts over (the next update is whole) and only updates of this geometry are taken.
struct TierSwitch {
  static constexpr ScreenType kType = ScreenType::TierSwitch;
  std::uint32_t streamId = 0;
  std::uint8_t tier = 0;  // < kMaxScreenTiers; 0 is the sharer's own settings
  std::uint32_t widthPx = 0, heightPx = 0;
  std::uint16_t tileSizePx = 64;
  void write(Writer& w) const;
  bool read(Reader& r);  // geometry is the receiver's check (validateStreamGeometry)
};

// The tiers of a stream the publisher should encode: bit t for tier t (at least tier 0's bit
// while nobody watches, so a newcomer is served at once). A tier that becomes wanted is sent
// whole first.
struct TiersWanted {
  static constexpr ScreenType kType = ScreenType::TiersWanted;
  std::uint32_t streamId = 0;
  std::uint8_t mask = 1;  // < 1 << kMaxScreenTiers
  void write(Writer& w) const;
  bool read(Reader& r);
};

// Encodes a TileBatch as an Update or PublishTiles frame (CopyUpdate or PublishCopyTiles when
// it has copies).
base::Bytes encodeTileBatch(ScreenType type, const TileBatch& batch);
// PublishTierTiles: a TileBatch of tier `tier` (1..kMaxScreenTiers-1) of the publisher's
// stream, with no copies; its streamId field carries the tier.
base::Bytes encodeTierTiles(std::uint8_t tier, TileBatch batch);

}  // namespace huddle::wire
