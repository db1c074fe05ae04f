// docs/SECURITY.md s.7.2: the screen port's caps at cap-1, cap and cap+1, and the boundary geometry
// (the chat port's text, name and payload caps are in wire_test.cpp).
#include <gtest/gtest.h>

#include "net/wire/frame_decoder.h"
#include "net/wire/screen_messages.h"

using namespace huddle;
using namespace huddle::wire;

namespace {

// Decodes `batch` as the host would decode a publisher's PublishTiles.
bool decodes(const TileBatch& batch, std::string& error) {
  base::Bytes frame = encodeTileBatch(ScreenType::PublishTiles, batch);
  Reader r(std::span<const std::uint8_t>(frame->data() + kFrameHeaderBytes, frame->size() - kFrameHeaderBytes));
  TileBatch out;
  return out.read(r, frame, error);
}

// Encodes `msg` and decodes its payload again, as the receiving side would.
template <typename M>
bool decodesBack(const M& msg) {
  base::Bytes f = encodeFrame(msg);
  M out;
  return decodePayload(std::span<const std::uint8_t>(f->data() + kFrameHeaderBytes, f->size() - kFrameHeaderBytes), out);
}

base::EncodedTile solid(std::uint16_t tx, std::uint16_t ty) {
  base::EncodedTile t;
  t.tx = tx;
  t.ty = ty;
  t.solidBgrx = 0x112233;
  return t;
}

base::EncodedTile jpegOfSize(std::uint16_t tx, std::uint16_t ty, std::size_t bytes) {
  base::EncodedTile t = solid(tx, ty);
  t.kind = base::TileKind::Jpeg;
  base::ByteVec body(bytes, 0xAB);
  t.jpeg.owner = base::makeBytes(std::move(body));
  t.jpeg.offset = 0;
  t.jpeg.size = static_cast<std::uint32_t>(bytes);
  return t;
}

TileBatch batchOf(std::uint32_t w, std::uint32_t h, std::uint16_t tile = 64) {
  TileBatch b;
  b.widthPx = w;
  b.heightPx = h;
  b.tileSizePx = tile;
  return b;
}

}  // namespace

TEST(Limits, StreamSidesAndAreaAtTheirCaps) {
  for (std::uint32_t side : {kMaxStreamSidePx - 1, kMaxStreamSidePx, kMaxStreamSidePx + 1}) {
    EXPECT_EQ(validateStreamGeometry(side, 100, 64).empty(), side <= kMaxStreamSidePx) << side;
    EXPECT_EQ(validateStreamGeometry(100, side, 64).empty(), side <= kMaxStreamSidePx) << side;
  }
  EXPECT_TRUE(validateStreamGeometry(8192, 4394, 64).empty());   // 35,995,648 px: just under 36 MP
  EXPECT_FALSE(validateStreamGeometry(8192, 4395, 64).empty());  // 36,003,840 px
  EXPECT_FALSE(validateStreamGeometry(8192, 8192, 64).empty());
  EXPECT_TRUE(validateStreamGeometry(7680, 4320, 256).empty());  // 8K
  EXPECT_TRUE(validateStreamGeometry(1, 1, 64).empty());
  EXPECT_FALSE(validateStreamGeometry(0, 0, 64).empty());
  EXPECT_FALSE(validateStreamGeometry(0, 5, 64).empty());
  EXPECT_FALSE(validateStreamGeometry(5, 0, 64).empty());
  for (std::uint32_t tile : {0u, 1u, 63u, 64u, 65u, 128u, 255u, 256u, 257u, 512u}) {
    const bool allowed = tile == 64 || tile == 128 || tile == 256;
    EXPECT_EQ(validateStreamGeometry(640, 480, tile).empty(), allowed) << tile;
  }
}

TEST(Limits, TitlesAndReasonsAtTheirCaps) {
  for (std::size_t n : {kMaxTitleBytes - 1, kMaxTitleBytes, kMaxTitleBytes + 1}) {
    StreamAnnounce a;
    a.info.streamId = 1;
    a.info.ownerName = "sam";
    a.info.title.assign(n, 't');
    a.info.widthPx = 320;
    a.info.heightPx = 200;
    EXPECT_EQ(decodesBack(a), n <= kMaxTitleBytes) << n;
    PublishStart p;
    p.title.assign(n, 't');
    p.widthPx = 320;
    p.heightPx = 200;
    EXPECT_EQ(decodesBack(p), n <= kMaxTitleBytes) << n;
  }
  for (std::size_t n : {kMaxReasonBytes - 1, kMaxReasonBytes, kMaxReasonBytes + 1}) {
    StreamEnded e;
    e.streamId = 1;
    e.reason.assign(n, 'r');
    EXPECT_EQ(decodesBack(e), n <= kMaxReasonBytes) << n;
    PublishRefused no;
    no.reason.assign(n, 'r');
    EXPECT_EQ(decodesBack(no), n <= kMaxReasonBytes) << n;
  }
}

TEST(Limits, TilesAtTheLastColumnAndRowAndNoFurther) {
  std::string error;
  // 100x70 in 64-px tiles: a 2x2 grid whose last column and row are cropped to 36x6.
  TileBatch b = batchOf(100, 70);
  b.tiles = {solid(1, 1), solid(1, 0), solid(0, 1), solid(0, 0)};
  EXPECT_TRUE(decodes(b, error)) << error;
  b.tiles = {solid(2, 0)};
  EXPECT_FALSE(decodes(b, error));
  b.tiles = {solid(0, 2)};
  EXPECT_FALSE(decodes(b, error));
  b.tiles = {solid(1, 1), solid(1, 1)};
  EXPECT_FALSE(decodes(b, error));
  EXPECT_NE(error.find("duplicate"), std::string::npos) << error;
  // A 1x1 stream holds exactly one tile.
  TileBatch one = batchOf(1, 1);
  one.tiles = {solid(0, 0)};
  EXPECT_TRUE(decodes(one, error)) << error;
  one.tiles = {solid(0, 0), solid(0, 1)};
  EXPECT_FALSE(decodes(one, error));
}

TEST(Limits, TileBytesAtTheLargestValidTile) {
  std::string error;
  // The cropped corner tile (36x6) may be no larger than any valid JPEG of its size.
  const std::size_t cap = maxJpegTileBytes(36, 6);
  for (std::size_t n : {cap - 1, cap, cap + 1}) {
    TileBatch b = batchOf(100, 70);
    b.tiles = {jpegOfSize(1, 1, n)};
    EXPECT_EQ(decodes(b, error), n <= cap) << n << " " << error;
  }
  const std::size_t full = maxJpegTileBytes(256, 256);
  for (std::size_t n : {full - 1, full, full + 1}) {
    TileBatch b = batchOf(512, 512, 256);
    b.tiles = {jpegOfSize(0, 0, n)};
    EXPECT_EQ(decodes(b, error), n <= full) << n << " " << error;
  }
}

TEST(Limits, LosslessTileBytesAtTheLargestValidTile) {
  std::string error;
  // Lossless tiles have their own cap (zstd's worst case for 3 bytes a pixel and a palette),
  // under the JPEG one: a lossless tile the JPEG cap would let through is refused.
  for (base::TileKind kind : {base::TileKind::Palette, base::TileKind::ZstdPixels}) {
    const std::size_t cap = maxLosslessTileBytes(36, 6);
    ASSERT_LT(cap, maxJpegTileBytes(36, 6));
    for (std::size_t n : {cap - 1, cap, cap + 1}) {
      TileBatch b = batchOf(100, 70);
      b.tiles = {jpegOfSize(1, 1, n)};
      b.tiles[0].kind = kind;
      EXPECT_EQ(decodes(b, error), n <= cap) << n << " " << error;
    }
    const std::size_t full = maxLosslessTileBytes(256, 256);
    for (std::size_t n : {full - 1, full, full + 1}) {
      TileBatch b = batchOf(512, 512, 256);
      b.tiles = {jpegOfSize(0, 0, n)};
      b.tiles[0].kind = kind;
      EXPECT_EQ(decodes(b, error), n <= full) << n << " " << error;
    }
  }
  // Kinds past the known ones are refused by number.
  TileBatch b = batchOf(100, 70);
  b.tiles = {jpegOfSize(0, 0, 10)};
  b.tiles[0].kind = static_cast<base::TileKind>(6);
  EXPECT_FALSE(decodes(b, error));
  EXPECT_NE(error.find("unknown tile kind 6"), std::string::npos) << error;
}

TEST(Limits, SharpWhenStillBudgets) {
  // A refresh's share of one captured frame is a small part of a message, and the stream
  // budget the sharer keeps for lossless tiles stays under what the host allows a stream.
  EXPECT_LT(kSharpBytesPerTick, std::size_t(kMaxScreenPayload) / 16);
  EXPECT_LT(kMaxSharpStreamBytes, kMaxStreamBytes);
  EXPECT_LE(kMinStillMs, kDefaultStillMs);
  EXPECT_LE(kDefaultStillMs, kMaxStillMs);
}

TEST(Limits, ScreenPayloadCapsByPhase) {
  const auto publish = static_cast<std::uint16_t>(ScreenType::PublishTiles);
  const auto subscribe = static_cast<std::uint16_t>(ScreenType::Subscribe);
  EXPECT_EQ(screenPortPayloadLimit(publish, true), kMaxScreenPayload);
  EXPECT_EQ(screenPortPayloadLimit(subscribe, true), kMaxScreenControlPayload);
  EXPECT_LT(screenPortPayloadLimit(publish, false), 0) << "no tiles before the handshake";
  // The decoder takes a frame at the cap and refuses one byte more, before allocating it.
  for (std::uint32_t len : {kMaxScreenControlPayload - 1, kMaxScreenControlPayload, kMaxScreenControlPayload + 1}) {
    FrameDecoder d(&screenPortPayloadLimit);
    d.setHandshakeDone(true);
    base::ByteVec header;
    Writer w(header);
    w.u32(len);
    w.u16(subscribe);
    d.push(header);
    Frame f;
    EXPECT_EQ(d.next(f), len <= kMaxScreenControlPayload ? FrameDecoder::Status::NeedMore : FrameDecoder::Status::Error)
        << len;
  }
}

// What a sender counts to cut a batch under the cap is exactly what goes on the wire, so a
// part cut at the cap is one the receiver accepts, and a byte more is one it refuses.
TEST(Limits, ABatchCutAtTheScreenPayloadCapIsExactlyTheCap) {
  TileBatch b;
  b.widthPx = 4096;
  b.heightPx = 4096;
  b.tileSizePx = 256;
  b.tiles.push_back(solid(0, 0));
  base::EncodedTile jpeg;
  jpeg.tx = 1;
  jpeg.kind = base::TileKind::Jpeg;
  jpeg.jpeg = base::ByteSlice::whole(base::makeBytes(base::ByteVec(1000, 0x11)));
  b.tiles.push_back(jpeg);
  base::EncodedTile scan = jpeg;
  scan.tx = 2;
  scan.kind = base::TileKind::JpegScan;
  scan.jpegQuality = 90;
  b.tiles.push_back(scan);
  std::size_t counted = kTileBatchHeaderBytes;
  for (const auto& t : b.tiles) counted += tileWireBytes(t);
  EXPECT_EQ(encodeTileBatch(ScreenType::Update, b)->size(), kFrameHeaderBytes + counted);
  for (std::int64_t payload : {std::int64_t(kMaxScreenPayload) - 1, std::int64_t(kMaxScreenPayload),
                               std::int64_t(kMaxScreenPayload) + 1}) {
    const bool allowed = payload <= screenPortPayloadLimit(std::uint16_t(ScreenType::Update), true);
    EXPECT_EQ(allowed, payload <= std::int64_t(kMaxScreenPayload)) << payload;
    EXPECT_EQ(payload <= screenPortPayloadLimit(std::uint16_t(ScreenType::PublishTiles), true), allowed) << payload;
  }
  // The largest tile fits many times in one part: a part always makes progress.
  EXPECT_LT(kTileBatchHeaderBytes + 11 + maxJpegTileBytes(256, 256), std::size_t(kMaxScreenPayload) / 32);
}

// A scan's settings: quality 1..100, flags 4:4:4 (1) and a restart every MCU row (2), each
// kept; anything else refused.
TEST(Limits, AJpegScansSettingsAreCheckedAndKept) {
  for (std::uint8_t flags = 0; flags < 8; ++flags)
    for (std::uint8_t quality : {0, 1, 100, 101}) {
      TileBatch b;
      b.streamId = 1;
      b.widthPx = 64;
      b.heightPx = 64;
      b.tileSizePx = 64;
      base::EncodedTile scan;
      scan.kind = base::TileKind::JpegScan;
      scan.jpegQuality = 50;
      scan.jpeg = base::ByteSlice::whole(base::makeBytes(base::ByteVec(30, 0x21)));
      b.tiles.push_back(scan);
      base::ByteVec bytes = *encodeTileBatch(ScreenType::Update, b);
      // After the batch's header: the tile's place (4 bytes), its kind, quality and flags.
      const std::size_t at = kFrameHeaderBytes + kTileBatchHeaderBytes + 5;
      bytes[at] = quality;
      bytes[at + 1] = flags;
      const base::Bytes frame = base::makeBytes(std::move(bytes));
      TileBatch out;
      std::string error;
      Reader r(std::span<const std::uint8_t>(frame->data() + kFrameHeaderBytes, frame->size() - kFrameHeaderBytes));
      const bool valid = flags <= 3 && quality >= 1 && quality <= 100;
      ASSERT_EQ(out.read(r, frame, error) && r.done(), valid) << int(flags) << " q" << int(quality) << ": " << error;
      if (!valid) continue;
      ASSERT_EQ(out.tiles.size(), 1u);
      EXPECT_EQ(out.tiles[0].jpegQuality, quality);
      EXPECT_EQ(out.tiles[0].jpeg444, (flags & 1) != 0);
      EXPECT_EQ(out.tiles[0].jpegRowRestarts, (flags & 2) != 0);
    }
}

namespace {
CursorShape shapeOf(std::uint32_t w, std::uint32_t h) {
  CursorShape m;
  m.image.id = 7;
  m.image.widthPx = static_cast<std::uint16_t>(w);
  m.image.heightPx = static_cast<std::uint16_t>(h);
  m.image.rgba.assign(std::size_t(w) * h * 4, 0x80);
  return m;
}
}  // namespace

TEST(Limits, CursorShapeSidesAtTheirCap) {
  for (std::uint32_t side : {kMaxCursorSidePx - 1u, std::uint32_t(kMaxCursorSidePx), kMaxCursorSidePx + 1u}) {
    EXPECT_EQ(decodesBack(shapeOf(side, 8)), side <= kMaxCursorSidePx) << side;
    EXPECT_EQ(decodesBack(shapeOf(8, side)), side <= kMaxCursorSidePx) << side;
  }
  // The largest shape's message is exactly the payload cap of its type.
  base::Bytes f = encodeFrame(shapeOf(kMaxCursorSidePx, kMaxCursorSidePx));
  EXPECT_EQ(f->size() - kFrameHeaderBytes, kMaxCursorShapePayload);
  const auto type = static_cast<std::uint16_t>(ScreenType::CursorShape);
  EXPECT_EQ(screenPortPayloadLimit(type, true), std::int64_t(kMaxCursorShapePayload));
  EXPECT_EQ(screenPortPayloadLimit(type, false), -1);
  EXPECT_EQ(screenPortPayloadLimit(static_cast<std::uint16_t>(ScreenType::CursorPosition), true),
            std::int64_t(kMaxScreenControlPayload));
}

TEST(Limits, CursorPositionsAtTheMarginAroundTheStream) {
  const std::uint32_t w = 640, h = 360;
  auto ok = [&](std::int32_t x, std::int32_t y) {
    base::CursorPos p;
    p.visible = true;
    p.x = x;
    p.y = y;
    return validateCursorPosition(p, w, h).empty();
  };
  // The last pixel a position may be on is margin-1 beyond the far edge, and -margin before the near one.
  for (std::int32_t over : {-1, 0, 1}) {
    EXPECT_EQ(ok(std::int32_t(w) + kCursorMarginPx - 1 + over, 10), over <= 0) << over;
    EXPECT_EQ(ok(10, std::int32_t(h) + kCursorMarginPx - 1 + over), over <= 0) << over;
    EXPECT_EQ(ok(-kCursorMarginPx - over, 10), over <= 0) << over;
    EXPECT_EQ(ok(10, -kCursorMarginPx - over), over <= 0) << over;
  }
  base::CursorPos hidden;
  hidden.x = INT32_MIN;
  EXPECT_TRUE(validateCursorPosition(hidden, w, h).empty()) << "a hidden cursor may be anywhere";
}

// Pointers: a position inside the stream at its last pixel, not one past it; the name the
// host puts on a pointer at the name cap.
TEST(Limits, PointerBoundsAndNameAtTheirCaps) {
  for (std::uint32_t x : {639u, 640u, 641u}) EXPECT_EQ(validatePointer(std::int32_t(x), 0, 640, 360).empty(), x < 640) << x;
  for (std::uint32_t y : {359u, 360u, 361u}) EXPECT_EQ(validatePointer(0, std::int32_t(y), 640, 360).empty(), y < 360) << y;
  EXPECT_FALSE(validatePointer(-1, 0, 640, 360).empty());
  EXPECT_FALSE(validatePointer(0, -1, 640, 360).empty());
  for (std::size_t n : {kMaxNameBytes - 1, kMaxNameBytes, kMaxNameBytes + 1}) {
    Pointer m;
    m.name = std::string(n, 'a');
    m.present = true;
    EXPECT_EQ(decodesBack(m), n <= kMaxNameBytes) << n;
  }
  PointAt at;
  at.present = true;
  EXPECT_TRUE(decodesBack(at));
  for (auto type : {ScreenType::PointAt, ScreenType::Pointer}) {
    EXPECT_EQ(screenPortPayloadLimit(static_cast<std::uint16_t>(type), true), std::int64_t(kMaxScreenControlPayload));
    EXPECT_EQ(screenPortPayloadLimit(static_cast<std::uint16_t>(type), false), -1);
  }
  // The relay's rate: 60 a second at most, the figure.
  EXPECT_EQ(kPointerPositionsPerSec, 60.0);
  EXPECT_LE(kPointerBurst, kPointerPositionsPerSec / 4);
}

// The pen: points per message at cap-1, cap and cap+1; every point inside the stream; the
// flags only those known (a clear carries no points); the payload a control message's.
TEST(Limits, PenPointsPerMessageAndBoundsAtTheirCaps) {
  for (std::size_t n : {kMaxPenPointsPerMessage - 1, kMaxPenPointsPerMessage, kMaxPenPointsPerMessage + 1}) {
    PenStroke s;
    s.points.assign(n, PenPoint{1, 2});
    EXPECT_EQ(decodesBack(s), n <= kMaxPenPointsPerMessage) << n;
    Pen p;
    p.name = std::string(kMaxNameBytes, 'a');
    p.points.assign(n, PenPoint{1, 2});
    EXPECT_EQ(decodesBack(p), n <= kMaxPenPointsPerMessage) << n;
  }
  Pen clear;
  clear.clear = true;
  EXPECT_TRUE(decodesBack(clear));
  clear.points.push_back({1, 1});
  EXPECT_FALSE(decodesBack(clear)) << "a clear with points";
  for (std::uint32_t x : {639u, 640u}) EXPECT_EQ(validatePenPoints({{std::uint16_t(x), 0}}, 640, 360).empty(), x < 640);
  for (std::uint32_t y : {359u, 360u}) EXPECT_EQ(validatePenPoints({{0, std::uint16_t(y)}}, 640, 360).empty(), y < 360);
  EXPECT_TRUE(validatePenPoints({}, 640, 360).empty());
  // A largest Pen fits a control message, with room.
  Pen largest;
  largest.name = std::string(kMaxNameBytes, 'a');
  largest.points.assign(kMaxPenPointsPerMessage, PenPoint{1, 2});
  EXPECT_LT(encodeFrame(largest)->size(), std::size_t(kMaxScreenControlPayload) / 2);
  for (auto type : {ScreenType::PenStroke, ScreenType::Pen, ScreenType::ViewerMarks}) {
    EXPECT_EQ(screenPortPayloadLimit(static_cast<std::uint16_t>(type), true), std::int64_t(kMaxScreenControlPayload));
    EXPECT_EQ(screenPortPayloadLimit(static_cast<std::uint16_t>(type), false), -1);
  }
  EXPECT_TRUE(decodesBack(ViewerMarks{3, false}));
  // Tiers: the tier and the wanted mask within kMaxScreenTiers; their limits are a control message's.
  for (std::uint8_t t = 0; t <= kMaxScreenTiers; ++t)
    EXPECT_EQ(decodesBack(TierSwitch{.streamId = 1, .tier = t, .widthPx = 64, .heightPx = 32, .tileSizePx = 64}),
              t < kMaxScreenTiers) << int(t);
  for (unsigned mask : {0u, 1u, 7u, 8u, 255u})
    EXPECT_EQ(decodesBack(TiersWanted{.streamId = 1, .mask = std::uint8_t(mask)}), mask < (1u << kMaxScreenTiers)) << mask;
  for (auto type : {ScreenType::TierSwitch, ScreenType::TiersWanted}) {
    EXPECT_EQ(screenPortPayloadLimit(static_cast<std::uint16_t>(type), true), std::int64_t(kMaxScreenControlPayload));
    EXPECT_EQ(screenPortPayloadLimit(static_cast<std::uint16_t>(type), false), -1);
  }
  EXPECT_EQ(screenPortPayloadLimit(static_cast<std::uint16_t>(ScreenType::PublishTierTiles), true),
            std::int64_t(kMaxScreenPayload));
  EXPECT_EQ(screenPortPayloadLimit(static_cast<std::uint16_t>(ScreenType::PublishTierTiles), false), -1);
  // Stream sides fit a point's 16 bits; a stroke's cap is whole messages' worth.
  EXPECT_LE(kMaxStreamSidePx, 65536u);
  EXPECT_EQ(kMaxPenPointsPerStroke % kMaxPenPointsPerMessage, 0u);
  EXPECT_LE(kPenPointsBurst, double(kMaxPenPointsPerStroke));
  EXPECT_GE(kPenPointsBurst, double(kMaxPenPointsPerMessage)) << "one full batch always fits the bucket";
}

// Unknown flag bits are refused, not ignored.
TEST(Limits, PenFlagsOnlyThoseKnown) {
  PenStroke s;
  s.points.push_back({1, 1});
  base::Bytes f = encodeFrame(s);
  base::ByteVec payload(f->begin() + kFrameHeaderBytes, f->end());
  PenStroke back;
  EXPECT_TRUE(decodePayload(std::span(payload.data(), payload.size()), back));
  payload[8] = 4;  // the flags byte, after the stream and stroke ids
  EXPECT_FALSE(decodePayload(std::span(payload.data(), payload.size()), back));
}

// Copies (issue 12): 1..kMaxCopiesPerBatch a frame, each inside the stream at its edges.
TEST(Limits, CopiesPerFrameAndTheirGeometryAtTheirCaps) {
  auto decodesWithCopies = [](const TileBatch& batch, TileBatch& out, std::string& error) {
    base::Bytes frame = encodeTileBatch(ScreenType::PublishTiles, batch);
    EXPECT_EQ(frame->at(4) | frame->at(5) << 8, int(ScreenType::PublishCopyTiles));
    Reader r(std::span<const std::uint8_t>(frame->data() + kFrameHeaderBytes, frame->size() - kFrameHeaderBytes));
    return out.read(r, frame, error, true) && r.done();
  };
  for (std::size_t n : {kMaxCopiesPerBatch - 1, kMaxCopiesPerBatch, kMaxCopiesPerBatch + 1}) {
    TileBatch b = batchOf(100, 70);
    for (std::size_t i = 0; i < n; ++i) b.copies.push_back({0, 1, 100, 69, 0, 0});
    TileBatch out;
    std::string error;
    EXPECT_EQ(decodesWithCopies(b, out, error), n <= kMaxCopiesPerBatch) << n << ": " << error;
    if (n <= kMaxCopiesPerBatch) {
      EXPECT_EQ(out.copies, b.copies);
    }
  }
  // Geometry: at the edges fine, a pixel over refused, empty refused.
  EXPECT_TRUE(validateCopy({0, 0, 100, 70, 0, 0}, 100, 70).empty());
  EXPECT_TRUE(validateCopy({99, 69, 1, 1, 0, 0}, 100, 70).empty());
  EXPECT_FALSE(validateCopy({0, 0, 101, 1, 0, 0}, 100, 70).empty());
  EXPECT_FALSE(validateCopy({0, 1, 100, 70, 0, 0}, 100, 70).empty());
  EXPECT_FALSE(validateCopy({0, 0, 100, 70, 0, 1}, 100, 70).empty());
  EXPECT_FALSE(validateCopy({0, 0, 1, 1, 100, 0}, 100, 70).empty());
  EXPECT_FALSE(validateCopy({0, 0, 0, 1, 0, 0}, 100, 70).empty());
  EXPECT_FALSE(validateCopy({0, 0, 1, 0, 0, 0}, 100, 70).empty());
  EXPECT_FALSE(validateCopy({-1, 0, 1, 1, 0, 0}, 100, 70).empty());
  // Truncated: the count says more than follow.
  TileBatch b = batchOf(100, 70);
  b.copies.push_back({0, 1, 100, 69, 0, 0});
  base::Bytes frame = encodeTileBatch(ScreenType::Update, b);
  EXPECT_EQ(frame->at(4) | frame->at(5) << 8, int(ScreenType::CopyUpdate));
  Reader r(std::span<const std::uint8_t>(frame->data() + kFrameHeaderBytes, frame->size() - kFrameHeaderBytes - 1));
  TileBatch out;
  std::string error;
  EXPECT_FALSE(out.read(r, frame, error, true));
  // Without copies a batch still goes as the plain message, byte for byte as before.
  EXPECT_EQ(encodeTileBatch(ScreenType::Update, batchOf(100, 70))->at(4), int(ScreenType::Update) & 0xFF);
  EXPECT_EQ(screenPortPayloadLimit(std::uint16_t(ScreenType::CopyUpdate), true), std::int64_t(kMaxScreenPayload));
  EXPECT_EQ(screenPortPayloadLimit(std::uint16_t(ScreenType::PublishCopyTiles), false), -1);
}

// Patches (issue 12): changed rectangles inside tiles, after a batch's copies. They round-trip
// with every kind of bytes, at most one a tile and none for a tile sent whole, each inside its
// tile (cropped at the stream's edges), at most kMaxPatchesPerBatch.
TEST(Limits, PatchesRoundTripAndStayInsideTheirTiles) {
  auto encodeAndRead = [](const TileBatch& batch, TileBatch& out, std::string& error) {
    base::Bytes frame = encodeTileBatch(ScreenType::PublishTiles, batch);
    EXPECT_EQ(frame->at(4) | frame->at(5) << 8, int(ScreenType::PublishCopyTiles));
    Reader r(std::span<const std::uint8_t>(frame->data() + kFrameHeaderBytes, frame->size() - kFrameHeaderBytes));
    return out.read(r, frame, error, true) && r.done();
  };
  auto patchOf = [](std::uint16_t tx, std::uint16_t ty, int x, int y, int w, int h) {
    base::TilePatch p;
    p.tile.tx = tx;
    p.tile.ty = ty;
    p.tile.kind = base::TileKind::Solid;
    p.tile.solidBgrx = 0x123456;
    p.x = std::uint16_t(x);
    p.y = std::uint16_t(y);
    p.w = std::uint16_t(w);
    p.h = std::uint16_t(h);
    return p;
  };
  TileBatch b = batchOf(100, 70);  // 64-px tiles: 2 x 2, the right column 36 wide, the bottom row 6 high
  b.patches.push_back(patchOf(0, 0, 0, 48, 64, 16));
  base::TilePatch scan = patchOf(1, 0, 16, 0, 16, 16);
  scan.tile.kind = base::TileKind::JpegScan;
  scan.tile.solidBgrx = 0;  // (only a solid colour carries one)
  scan.tile.jpegQuality = 77;
  scan.tile.jpeg444 = true;
  scan.tile.jpegRowRestarts = true;
  scan.tile.jpeg = base::ByteSlice::whole(base::makeBytes(base::ByteVec(40, 0xAB)));
  b.patches.push_back(scan);
  base::TilePatch pal = patchOf(1, 1, 0, 0, 36, 6);  // the corner tile, whole
  pal.tile.kind = base::TileKind::Palette;
  pal.tile.solidBgrx = 0;
  pal.tile.jpeg = base::ByteSlice::whole(base::makeBytes(base::ByteVec(12, 7)));
  b.patches.push_back(pal);
  TileBatch out;
  std::string error;
  ASSERT_TRUE(encodeAndRead(b, out, error)) << error;
  EXPECT_TRUE(out.copies.empty());
  ASSERT_EQ(out.patches.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    const auto &a = b.patches[i], &c = out.patches[i];
    EXPECT_EQ(std::tie(a.tile.tx, a.tile.ty, a.x, a.y, a.w, a.h, a.tile.kind, a.tile.solidBgrx, a.tile.jpegQuality,
                       a.tile.jpeg444, a.tile.jpegRowRestarts),
              std::tie(c.tile.tx, c.tile.ty, c.x, c.y, c.w, c.h, c.tile.kind, c.tile.solidBgrx, c.tile.jpegQuality,
                       c.tile.jpeg444, c.tile.jpegRowRestarts));
    EXPECT_TRUE(std::ranges::equal(a.tile.jpeg.span(), c.tile.jpeg.span()));
  }
  EXPECT_EQ(encodeTileBatch(ScreenType::PublishTiles, b)->size() - kFrameHeaderBytes,
            kTileBatchHeaderBytes + orderedWireBytes(b));
  // Outside its tile, by a pixel, at each side; empty; a tile outside the grid.
  for (const base::TilePatch& bad : {patchOf(0, 0, 0, 49, 64, 16), patchOf(0, 0, 1, 0, 64, 1),
                                     patchOf(1, 0, 0, 0, 37, 1), patchOf(0, 1, 0, 0, 1, 7), patchOf(0, 0, 0, 0, 0, 1),
                                     patchOf(0, 0, 0, 0, 1, 0), patchOf(2, 0, 0, 0, 1, 1), patchOf(0, 2, 0, 0, 1, 1)}) {
    TileBatch one = batchOf(100, 70);
    one.patches.push_back(bad);
    EXPECT_FALSE(encodeAndRead(one, out, error)) << bad.tile.tx << "," << bad.tile.ty << " " << bad.x << "," << bad.y;
    EXPECT_FALSE(validatePatch(bad, 100, 70, 64).empty());
  }
  // Two patches of one tile, or a patch of a tile the batch sends whole: refused.
  TileBatch twice = batchOf(100, 70);
  twice.patches = {patchOf(0, 0, 0, 0, 8, 8), patchOf(0, 0, 16, 16, 8, 8)};
  EXPECT_FALSE(encodeAndRead(twice, out, error));
  TileBatch both = batchOf(100, 70);
  both.tiles.push_back(patchOf(0, 0, 0, 0, 1, 1).tile);
  both.patches.push_back(patchOf(0, 0, 0, 0, 8, 8));
  EXPECT_FALSE(encodeAndRead(both, out, error));
  // Bytes over what any valid image of the patch's size needs: refused.
  base::TilePatch big = patchOf(0, 0, 0, 0, 16, 16);
  big.tile.kind = base::TileKind::Palette;
  big.tile.jpeg = base::ByteSlice::whole(base::makeBytes(base::ByteVec(maxLosslessTileBytes(16, 16) + 1, 1)));
  TileBatch over = batchOf(100, 70);
  over.patches.push_back(big);
  EXPECT_FALSE(encodeAndRead(over, out, error));
  big.tile.jpeg.size -= 1;
  over.patches = {big};
  EXPECT_TRUE(encodeAndRead(over, out, error)) << error;
  // Truncated anywhere in a patch: refused.
  base::Bytes frame = encodeTileBatch(ScreenType::PublishTiles, b);
  for (std::size_t cut = 1; cut < 60; ++cut) {
    Reader r(std::span<const std::uint8_t>(frame->data() + kFrameHeaderBytes, frame->size() - kFrameHeaderBytes - cut));
    EXPECT_FALSE(out.read(r, frame, error, true) && r.done()) << cut;
  }
  // A copy batch with neither copies nor patches: refused.
  TileBatch plain = batchOf(100, 70);
  base::Bytes plainFrame = encodeTileBatch(ScreenType::PublishTiles, plain);
  base::ByteVec empty(plainFrame->begin() + kFrameHeaderBytes, plainFrame->end());
  empty.insert(empty.end(), {0, 0, 0});
  base::Bytes emptyOwner = base::makeBytes(std::move(empty));
  Reader r(std::span<const std::uint8_t>(emptyOwner->data(), emptyOwner->size()));
  EXPECT_FALSE(out.read(r, emptyOwner, error, true));
  EXPECT_NE(error.find("no copies and no patches"), std::string::npos) << error;
}

// At most kMaxPatchesPerBatch patches a batch (a 4096 x 4096 stream of 64-px tiles has 4096 tiles).
TEST(Limits, PatchesPerBatchAtTheirCap) {
  for (std::size_t n : {kMaxPatchesPerBatch - 1, kMaxPatchesPerBatch, kMaxPatchesPerBatch + 1}) {
    TileBatch b;
    b.widthPx = b.heightPx = 4096;
    b.tileSizePx = 64;
    for (std::size_t i = 0; i < n; ++i) {
      base::TilePatch p;
      p.tile.tx = std::uint16_t(i % 64);
      p.tile.ty = std::uint16_t(i / 64);
      p.w = p.h = 1;
      b.patches.push_back(p);
    }
    base::Bytes frame = encodeTileBatch(ScreenType::Update, b);
    Reader r(std::span<const std::uint8_t>(frame->data() + kFrameHeaderBytes, frame->size() - kFrameHeaderBytes));
    TileBatch out;
    std::string error;
    EXPECT_EQ(out.read(r, frame, error, true) && r.done(), n <= kMaxPatchesPerBatch) << n << ": " << error;
  }
}
