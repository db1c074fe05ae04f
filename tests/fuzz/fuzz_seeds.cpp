// Writes each fuzz target's seed corpus with the project's own serializer, so the fuzzers
// start from well-formed sessions and mutate from there: fuzz_seeds DIR makes DIR/<target>/.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <tuple>
#include <vector>

#include "capture/synthetic_source.h"
#include "capture/lossless_tile.h"
#include "capture/tile_codec.h"
#include "app/voice/voice_frame.h"
#include "net/wire/file_messages.h"
#include "net/discovery.h"
#include "net/wire/messages.h"
#include "net/wire/screen_messages.h"
#include "tests/fuzz/fuzz_support.h"

using namespace huddle;
namespace fs = std::filesystem;

namespace {

using Bytes = std::vector<std::uint8_t>;

void append(Bytes& out, const base::Bytes& frame) { out.insert(out.end(), frame->begin(), frame->end()); }

void write(const std::filesystem::path& dir, const std::string& name, const Bytes& data) {
  std::filesystem::create_directories(dir);
  std::ofstream(dir / name, std::ios::binary).write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
}

// A 128x64 frame of the test scene, its pixels in `px`.
capture::Frame sceneFrame(std::vector<std::uint8_t>& px) {
  capture::SyntheticSource::render(128, 64, capture::SceneMotion::Full, 2, px);
  capture::Frame f;
  f.widthPx = 128;
  f.heightPx = 64;
  f.strideBytes = 128 * 4;
  f.pixels = px.data();
  return f;
}

// Real tiles of the test scene: a JPEG scan and a whole JPEG (the decoder sees both kinds).
std::vector<base::EncodedTile> sceneTiles() {
  std::vector<std::uint8_t> px;
  const capture::Frame f = sceneFrame(px);
  capture::TileEncoder enc;
  std::vector<base::EncodedTile> tiles(2);
  std::string error;
  enc.encode(f, 0, 0, 64, capture::CaptureSettings{}, tiles[0], error);
  capture::CaptureSettings s444;
  s444.subsampling = capture::Subsampling::S444;
  enc.encode(f, 1, 0, 64, s444, tiles[1], error);
  return tiles;
}

// The test scene's two tiles cut from one strip (scans with row restarts).
std::vector<base::EncodedTile> stripTiles() {
  std::vector<std::uint8_t> px;
  const capture::Frame f = sceneFrame(px);
  capture::TileEncoder enc;
  std::vector<base::EncodedTile> tiles(2);
  const std::uint32_t both[] = {0, 1};
  capture::CaptureSettings s;
  s.exactFewColours = false;
  std::string error;
  enc.encodeRun(f, both, 2, 64, s, tiles, error);
  return tiles;
}

// Lossless tiles (sharp when still) at (0,0) and (1,0): a palette tile of text-like pixels
// and a zstd pixel tile of many colours.
std::vector<base::EncodedTile> losslessTiles() {
  std::vector<base::EncodedTile> tiles(2);
  capture::LosslessTileEncoder enc;
  std::string error;
  std::vector<std::uint8_t> px(64 * 64 * 4);
  for (std::size_t i = 0; i < px.size(); ++i) px[i] = static_cast<std::uint8_t>(i % 4 == 3 ? 0xFF : (i / 12) % 3 * 90);
  enc.encode(px.data(), 256, 64, 64, tiles[0], error);
  for (std::size_t i = 0; i < px.size(); ++i) px[i] = static_cast<std::uint8_t>(i % 4 == 3 ? 0xFF : i * 37 / 7);
  enc.encode(px.data(), 256, 64, 64, tiles[1], error);
  tiles[1].tx = 1;
  return tiles;
}

// Patches (protocol 7): a solid one across the bottom of tile (0,0), then tile (1,0)'s lossless
// bytes as a patch its whole size (the batch that carries them sends neither tile whole).
std::vector<base::TilePatch> seedPatches() {
  std::vector<base::TilePatch> patches(2);
  patches[0].tile.kind = base::TileKind::Solid;
  patches[0].tile.solidBgrx = 0x405060;
  patches[0].y = 48;
  patches[0].w = 64;
  patches[0].h = 16;
  patches[1].tile = losslessTiles()[1];
  patches[1].w = 64;
  patches[1].h = 64;
  return patches;
}

// What a host says to a client that joins its chat port (fuzz_client_stream's clock).
base::Bytes chatWelcome(std::uint64_t sessionId) {
  wire::Welcome w;
  w.participantId = 2;
  w.name = "bob";
  w.hostName = "alice";
  w.serverTimeUs = fuzz::kWallClockUs + 250'000;
  w.token = 0x1234'5678'9ABC'DEF0;
  w.screenPort = 10000;
  w.sessionId = sessionId;
  return wire::encodeFrame(w);
}

// The history replayed to a newcomer (seqs first..last), then the user list.
void appendHistory(Bytes& s, std::uint64_t first, std::uint64_t last) {
  for (std::uint64_t seq = first; seq <= last; ++seq) {
    wire::ChatEvent ev;
    ev.seq = seq;
    ev.timeUs = fuzz::kWallClockUs - (100 - std::int64_t(seq)) * 1'000'000;
    ev.kind = seq % 4 == 0 ? wire::ChatKind::Join : wire::ChatKind::Public;
    ev.flags = wire::ChatEvent::kFlagHistory;
    ev.fromId = 1;
    ev.from = "alice";
    ev.text = "message " + std::to_string(seq);
    append(s, wire::encodeFrame(ev));
  }
  wire::UserList users;
  users.users.push_back({1, "alice", wire::UserInfo::kFlagHost});
  users.users.push_back({2, "bob", 0});
  users.users.push_back({3, "carol", wire::UserInfo::kFlagSharing});
  append(s, wire::encodeFrame(users));
}

// Live chat of every kind, a notice, and both pings.
void appendLiveChat(Bytes& s, std::uint64_t seq) {
  const wire::ChatKind kinds[] = {wire::ChatKind::Public, wire::ChatKind::Private, wire::ChatKind::Join,
                                  wire::ChatKind::Leave, wire::ChatKind::System};
  for (wire::ChatKind kind : kinds) {
    wire::ChatEvent ev;
    ev.seq = seq++;
    ev.timeUs = fuzz::kWallClockUs;
    ev.kind = kind;
    ev.fromId = 3;
    ev.from = "carol";
    if (kind == wire::ChatKind::Private) ev.to = "bob";
    ev.text = kind == wire::ChatKind::Join ? "" : "hi bob\tand all";
    append(s, wire::encodeFrame(ev));
  }
  wire::Notice notice;
  notice.text = "no such user: dave";
  append(s, wire::encodeFrame(notice));
  append(s, wire::pingNow(7));
  wire::Pong pong;
  pong.nonce = 1;
  pong.echoSentUs = fuzz::kWallClockUs - 3000;
  pong.replyUs = fuzz::kWallClockUs + 250'000;
  append(s, wire::encodeFrame(pong));
}

void appendSessionEnd(Bytes& s) {
  wire::SessionEnd end;
  end.reason = "alice ended the session";
  append(s, wire::encodeFrame(end));
}

// A password challenge with the host's parameters (ops passes over memBytes).
void appendChallenge(Bytes& s, std::uint32_t ops, std::uint32_t memBytes) {
  wire::AuthChallenge c;
  c.ops = ops;
  c.memBytes = memBytes;
  c.salt.fill(0x5A);
  append(s, wire::encodeFrame(c));
}

}  // namespace

// The pen and the sharer's switch on stream 1 (128x64): as a viewer and sharer sends them
// (`fromHost` false: strokes, one past the stream's edge, the switch off and on) or as the host
// relays them (a stroke in two batches, a clear, the switch).
void appendPenMarks(Bytes& s, bool fromHost) {
  const std::vector<wire::PenPoint> first{{5, 5}, {60, 30}}, last{{127, 63}};
  if (fromHost) {
    wire::Pen pen;
    pen.streamId = 1;
    pen.participantId = 3;
    pen.name = "carol";
    pen.strokeId = 1;
    pen.points = first;
    append(s, wire::encodeFrame(pen));
    pen.points = last;
    pen.end = true;
    append(s, wire::encodeFrame(pen));
    pen.points.clear();
    pen.end = false;
    pen.clear = true;
    append(s, wire::encodeFrame(pen));
  } else {
    wire::PenStroke stroke;
    stroke.streamId = 1;
    stroke.strokeId = 1;
    stroke.points = first;
    append(s, wire::encodeFrame(stroke));
    stroke.points = last;
    stroke.end = true;
    append(s, wire::encodeFrame(stroke));
    stroke.strokeId = 2;
    stroke.points = {{128, 0}};
    append(s, wire::encodeFrame(stroke));
  }
  for (bool allowed : {false, true}) append(s, wire::encodeFrame(wire::ViewerMarks{1, allowed}));
}

// Quality tiers: the host's TierSwitch and TiersWanted, or a publisher's tiles of tier 1 (a
// 64 x 32 image of a 128 x 64 stream) after its subscription.
void appendTiers(Bytes& s, bool fromHost) {
  if (fromHost) {
    append(s, wire::encodeFrame(wire::TierSwitch{.streamId = 1, .tier = 1, .widthPx = 64, .heightPx = 32, .tileSizePx = 64}));
    append(s, wire::encodeFrame(wire::TiersWanted{.streamId = 1, .mask = 3}));
    return;
  }
  wire::TileBatch b;
  b.seq = 9;
  b.widthPx = 64;
  b.heightPx = 32;
  b.tileSizePx = 64;
  base::EncodedTile solid;
  solid.kind = base::TileKind::Solid;
  solid.solidBgrx = 0xFF204060;
  b.tiles.push_back(solid);
  append(s, wire::encodeTierTiles(1, b));
}

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz_seeds DIR\n");
    return 2;
  }
  const std::filesystem::path root = argv[1];
  const auto tiles = sceneTiles();

  // Chat host: a whole session from one client.
  for (std::uint8_t chunk : {0, 7, 255}) {
    Bytes s{chunk};
    wire::Hello hello;
    hello.name = "mallory";
    append(s, wire::encodeFrame(hello));
    wire::Say say;
    say.text = "hello everyone";
    append(s, wire::encodeFrame(say));
    wire::PrivateSay pm;
    pm.to = "alice";
    pm.text = "psst";
    append(s, wire::encodeFrame(pm));
    append(s, wire::pingNow(1));
    wire::VoiceDatagram voice;  // voice over the chat connection (UDP blocked)
    voice.datagram.assign(60, 0x56);
    append(s, wire::encodeFrame(voice));
    append(s, wire::encodeFrame(wire::Bye{}));
    write(root / "chat_host", "session-" + std::to_string(chunk), s);
  }
  {
    // A room with a password (odd first byte): Hello, then a proof.
    Bytes s{9};
    wire::Hello hello;
    hello.name = "mallory";
    append(s, wire::encodeFrame(hello));
    wire::AuthProofMsg proof;
    proof.proof.fill(0x5A);
    append(s, wire::encodeFrame(proof));
    write(root / "chat_host", "password-proof", s);
  }

  // Screen host: log in, publish a stream with real tiles, watch it.
  {
    Bytes s{64};
    wire::Hello hello;
    hello.port = wire::PortKind::Screen;
    hello.name = "mallory";
    hello.token = 42;
    append(s, wire::encodeFrame(hello));
    wire::PublishStart start;
    start.title = "Screen";
    start.widthPx = 128;
    start.heightPx = 64;
    start.tileSizePx = 64;
    append(s, wire::encodeFrame(start));
    wire::TileBatch b;
    b.seq = 1;
    b.widthPx = 128;
    b.heightPx = 64;
    b.tileSizePx = 64;
    b.tiles = tiles;
    append(s, wire::encodeTileBatch(wire::ScreenType::PublishTiles, b));
    b.seq = 2;
    b.tiles = losslessTiles();
    append(s, wire::encodeTileBatch(wire::ScreenType::PublishTiles, b));
    // A scroll (PublishCopyTiles): the copy, then the newly exposed tiles.
    b.seq = 3;
    b.copies = {{0, 8, 128, 56, 0, 0}};
    b.tiles = tiles;
    append(s, wire::encodeTileBatch(wire::ScreenType::PublishTiles, b));
    // The next scroll's newly exposed line as patches, no tiles whole.
    b.seq = 4;
    b.tiles.clear();
    b.patches = seedPatches();
    append(s, wire::encodeTileBatch(wire::ScreenType::PublishTiles, b));
    b.patches.clear();
    b.tiles = tiles;
    b.copies.clear();
    {
      wire::CursorShape shape;
      shape.streamId = 1;
      shape.image.id = 7;
      shape.image.widthPx = 4;
      shape.image.heightPx = 6;
      shape.image.hotX = 1;
      shape.image.rgba.assign(4 * 6 * 4, 0xC0);
      append(s, wire::encodeFrame(shape));
      wire::CursorPosition pos;
      pos.streamId = 1;
      pos.pos.shapeId = 7;
      pos.pos.x = 30;
      pos.pos.y = 20;
      pos.pos.visible = true;
      append(s, wire::encodeFrame(pos));
    }
    wire::Subscribe sub;
    sub.streamId = 1;
    append(s, wire::encodeFrame(sub));
    wire::UpdateRequest req;
    req.streamId = 1;
    append(s, wire::encodeFrame(req));
    for (auto [x, y, present] : {std::tuple{30, 20, true}, std::tuple{128, 0, true}, std::tuple{0, 0, false}}) {
      wire::PointAt at;
      at.streamId = 1;
      at.x = x;
      at.y = y;
      at.present = present;
      append(s, wire::encodeFrame(at));
    }
    appendPenMarks(s, false);
    appendTiers(s, false);
    write(root / "screen_host", "publish-and-watch", s);
  }

  // Wire: host-to-client frames of every kind, on each port.
  {
    Bytes chat{2};
    wire::Welcome w;
    w.name = "bob";
    w.hostName = "alice";
    append(chat, wire::encodeFrame(w));
    wire::ChatEvent ev;
    ev.from = "alice";
    ev.text = "hi";
    append(chat, wire::encodeFrame(ev));
    wire::UserList users;
    users.users.push_back({1, "alice", wire::UserInfo::kFlagHost});
    append(chat, wire::encodeFrame(users));
    write(root / "wire", "chat", chat);
    Bytes screen{3};
    wire::StreamAnnounce a;
    a.info.streamId = 1;
    a.info.ownerName = "alice";
    a.info.title = "Screen";
    a.info.widthPx = 128;
    a.info.heightPx = 64;
    append(screen, wire::encodeFrame(a));
    wire::TileBatch b;
    b.streamId = 1;
    b.widthPx = 128;
    b.heightPx = 64;
    b.tileSizePx = 64;
    b.tiles = tiles;
    append(screen, wire::encodeTileBatch(wire::ScreenType::Update, b));
    b.copies = {{0, 8, 128, 56, 0, 0}, {10, 0, 20, 20, 12, 3}};  // CopyUpdate
    append(screen, wire::encodeTileBatch(wire::ScreenType::Update, b));
    b.tiles.clear();
    b.patches = seedPatches();  // CopyUpdate with patches
    append(screen, wire::encodeTileBatch(wire::ScreenType::Update, b));
    b.patches.clear();
    b.tiles = tiles;
    b.copies.clear();
    {
      wire::CursorShape shape;
      shape.streamId = 1;
      shape.image.id = 7;
      shape.image.widthPx = 4;
      shape.image.heightPx = 6;
      shape.image.hotX = 1;
      shape.image.rgba.assign(4 * 6 * 4, 0xC0);
      append(screen, wire::encodeFrame(shape));
      wire::CursorPosition pos;
      pos.streamId = 1;
      pos.pos.shapeId = 7;
      pos.pos.x = 30;
      pos.pos.y = 20;
      pos.pos.visible = true;
      append(screen, wire::encodeFrame(pos));
      wire::Pointer pointer;
      pointer.streamId = 1;
      pointer.participantId = 3;
      pointer.name = "carol";
      pointer.x = 40;
      pointer.y = 10;
      pointer.present = true;
      append(screen, wire::encodeFrame(pointer));
      wire::PointAt at;
      at.streamId = 1;
      at.x = 40;
      at.y = 10;
      at.present = true;
      append(screen, wire::encodeFrame(at));
      appendPenMarks(screen, true);
      appendPenMarks(screen, false);
      appendTiers(screen, true);
      appendTiers(screen, false);
    }
    write(root / "wire", "screen", screen);
  }

  // Client stream: [mode (bit 0 screen port, bit 1 password), chunk size] then what a host
  // sends. Chat: a whole session at several chunk sizes.
  const fs::path client = root / "client_stream";
  for (std::uint8_t chunk : {0, 5, 255}) {
    Bytes s{0, chunk};
    append(s, chatWelcome(77));
    appendHistory(s, 1, 12);
    appendLiveChat(s, 13);
    appendSessionEnd(s);
    write(client, "chat-session-" + std::to_string(chunk), s);
  }
  {
    // Dropped after some chat, then back in the same session: the replay overlaps what was
    // seen (1-byte chunks, so the second link starts exactly where the first one closed).
    Bytes s{0, 0};
    append(s, chatWelcome(77));
    appendHistory(s, 1, 6);
    appendLiveChat(s, 7);
    s.insert(s.end(), {0, 0, 0, 0, 0xFF, 0x7F});  // an unknown type: the link closes
    append(s, chatWelcome(77));
    appendHistory(s, 4, 14);
    appendLiveChat(s, 15);
    write(client, "chat-reconnect", s);
  }
  {
    // A room with a password: an acceptable challenge, then in; an absurd one (the client
    // must refuse it without deriving); a wrong password.
    Bytes ok{2, 0};
    appendChallenge(ok, 2, 64u << 20);
    append(ok, chatWelcome(5));
    appendHistory(ok, 1, 3);
    appendSessionEnd(ok);
    write(client, "chat-password", ok);
    Bytes absurd{2, 0};
    appendChallenge(absurd, 0xFFFF'FFFF, 0xFFFF'FFFF);
    append(absurd, chatWelcome(5));
    write(client, "chat-absurd-kdf", absurd);
    Bytes wrong{2, 31};
    appendChallenge(wrong, 3, 32u << 20);
    wire::Reject reject;
    reject.code = wire::RejectCode::AuthFailed;
    reject.text = "wrong password";
    append(wrong, wire::encodeFrame(reject));
    write(client, "chat-wrong-password", wrong);
    Bytes version{0, 63};
    reject.code = wire::RejectCode::VersionMismatch;
    reject.hostVersion = 9;
    reject.text = "old client";
    append(version, wire::encodeFrame(reject));
    write(client, "chat-version-mismatch", version);
  }
  {
    // Screen: welcomed, a stream announced and two updates of real tiles (the second a
    // resize), another stream announced and ended, a ping, the session ended.
    Bytes s{1, 255};
    wire::Welcome w;
    w.participantId = 2;
    w.name = "bob";
    w.hostName = "alice";
    w.serverTimeUs = fuzz::kWallClockUs;
    append(s, wire::encodeFrame(w));
    wire::StreamAnnounce a;
    a.info.streamId = 1;
    a.info.ownerId = 1;
    a.info.ownerName = "alice";
    a.info.title = "Whole screen";
    a.info.widthPx = 128;
    a.info.heightPx = 64;
    a.info.tileSizePx = 64;
    append(s, wire::encodeFrame(a));
    wire::TileBatch b;
    b.streamId = 1;
    b.seq = 1;
    b.captureTimeUs = fuzz::kWallClockUs - 20'000;
    b.widthPx = 128;
    b.heightPx = 64;
    b.tileSizePx = 64;
    b.tiles = tiles;
    append(s, wire::encodeTileBatch(wire::ScreenType::Update, b));
    // The same scene cut from one strip (row restarts): decoded as that strip again.
    b.tiles = stripTiles();
    append(s, wire::encodeTileBatch(wire::ScreenType::Update, b));
    b.tiles = tiles;
    // Scrolls: a good copy both ways, then one reaching outside the stream (dropped, a refresh asked).
    b.copies = {{0, 8, 128, 56, 0, 0}, {0, 0, 128, 56, 0, 8}};
    append(s, wire::encodeTileBatch(wire::ScreenType::Update, b));
    b.copies = {{0, 0, 128, 64, 0, 1}};
    append(s, wire::encodeTileBatch(wire::ScreenType::Update, b));
    // Patches alone, after a good copy: applied after it, before any tile.
    b.copies = {{0, 8, 128, 56, 0, 0}};
    b.tiles.clear();
    b.patches = seedPatches();
    append(s, wire::encodeTileBatch(wire::ScreenType::Update, b));
    b.patches.clear();
    b.tiles = tiles;
    b.copies.clear();
    {
      wire::CursorShape shape;
      shape.streamId = 1;
      shape.image.id = 7;
      shape.image.widthPx = 4;
      shape.image.heightPx = 6;
      shape.image.hotX = 1;
      shape.image.rgba.assign(4 * 6 * 4, 0xC0);
      append(s, wire::encodeFrame(shape));
      wire::CursorPosition pos;
      pos.streamId = 1;
      pos.pos.shapeId = 7;
      pos.pos.x = 30;
      pos.pos.y = 20;
      pos.pos.visible = true;
      append(s, wire::encodeFrame(pos));
      wire::Pointer pointer;
      pointer.streamId = 1;
      pointer.participantId = 3;
      pointer.name = "carol";
      pointer.x = 40;
      pointer.y = 10;
      pointer.present = true;
      append(s, wire::encodeFrame(pointer));
      appendPenMarks(s, true);
    }
    base::EncodedTile solid;
    solid.tx = 1;
    solid.ty = 1;
    solid.kind = base::TileKind::Solid;
    solid.solidBgrx = 0xFF336699;
    b.seq = 2;
    b.heightPx = 100;
    b.tiles.push_back(solid);
    append(s, wire::encodeTileBatch(wire::ScreenType::Update, b));
    a.info.streamId = 2;
    a.info.ownerId = 3;
    a.info.ownerName = "carol";
    a.info.title = "Test scene";
    append(s, wire::encodeFrame(a));
    wire::StreamEnded ended;
    ended.streamId = 2;
    ended.reason = "carol stopped sharing";
    append(s, wire::encodeFrame(ended));
    append(s, wire::pingNow(3));
    appendSessionEnd(s);
    write(client, "screen-session", s);
  }

  // Tile decoding: [kind (0 Jpeg, 1 JpegScan, 2 Palette, 3 ZstdPixels), place, quality, flags
  // (1: 4:4:4, 2: row restarts, 4: a strip of two)] then the tile's bytes; for a strip, two
  // bytes of where the first scan ends, then both scans.
  auto decodeSeeds = tiles;
  for (const auto& t : losslessTiles()) decodeSeeds.push_back(t);
  for (std::size_t i = 0; i < decodeSeeds.size(); ++i) {
    const auto& t = decodeSeeds[i];
    Bytes s{static_cast<std::uint8_t>(static_cast<int>(t.kind) - 2), static_cast<std::uint8_t>(i % 2),
            t.jpegQuality, static_cast<std::uint8_t>(t.jpeg444 ? 1 : 0)};
    auto span = t.jpeg.span();
    s.insert(s.end(), span.begin(), span.end());
    write(root / "tile_decode", "tile-" + std::to_string(i), s);
  }
  {
    const auto strip = stripTiles();
    const auto a = strip[0].jpeg.span(), b = strip[1].jpeg.span();
    Bytes s{1, 0, strip[0].jpegQuality, 2 | 4, static_cast<std::uint8_t>(a.size() >> 8),
            static_cast<std::uint8_t>(a.size())};
    s.insert(s.end(), a.begin(), a.end());
    s.insert(s.end(), b.begin(), b.end());
    write(root / "tile_decode", "strip", s);
  }

  // Voice: a script of steps (fuzz_voice_seal.cpp): seal and deliver, deliver again, out of
  // order, a skip ahead past the window, a bent copy, raw bytes.
  Bytes voice;
  for (std::uint8_t n = 0; n < 6; ++n) voice.insert(voice.end(), {0, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8});
  voice.insert(voice.end(), {1, 2, 1, 0, 0, 70, 4, 9, 9, 9, 9, 1, 1, 2, 3, 7, 0x40, 3, 20});
  voice.insert(voice.end(), 120, 0x56);
  write(root / "voice_seal", "script", voice);

  // The voice relay (fuzz_voice_hub.cpp): three seats join, two talk (one naming another as
  // its speaker), one leaves; the attacker replays, bends and sends raw bytes.
  Bytes hub;
  for (std::uint8_t k = 0; k < 3; ++k) hub.insert(hub.end(), {0x10, k, 0});
  for (std::uint8_t n = 0; n < 12; ++n) {
    const std::uint8_t seat = n % 2, speaker = n == 5 ? 3 : static_cast<std::uint8_t>(seat + 1);
    hub.insert(hub.end(), {0x30, seat, 2, 9, speaker, 1, n, n});
    hub.insert(hub.end(), 10, static_cast<std::uint8_t>(0xA0 + n));
  }
  hub.insert(hub.end(), {0x10, 2, 1, 1, 4, 2, 5, 9, 7, 3, 12});
  hub.insert(hub.end(), 60, 0x56);
  write(root / "voice_hub", "script", hub);

  // Discovery: genuinely signed announcements from two hosts (the second also leaving), each
  // from one of its own addresses, as [address][u16 length][datagram] chunks.
  {
    Bytes s;
    for (int host = 0; host < 2; ++host) {
      std::string error;
      auto id = net::HostIdentity::generate(error);
      if (!id) continue;
      net::Announcement a;
      a.sessionName = host == 0 ? "alice" : "bob";
      a.hostName = "lan-" + std::to_string(host);
      a.chatPort = 9999;
      a.screenPort = 9998;
      a.addresses = {0x0A000001u + static_cast<std::uint32_t>(host)};
      a.sentAtMs = 1'700'000'000'000ull;
      a.runId = 77 + static_cast<std::uint64_t>(host);
      for (std::uint64_t seq = 1; seq <= 3; ++seq) {
        a.sequence = seq;
        a.leaving = host == 1 && seq == 3;
        const std::vector<std::uint8_t> d = net::encodeAnnouncement(a, *id, error);
        s.push_back(static_cast<std::uint8_t>(1 + host));
        s.push_back(static_cast<std::uint8_t>(d.size()));
        s.push_back(static_cast<std::uint8_t>(d.size() >> 8));
        s.insert(s.end(), d.begin(), d.end());
      }
    }
    write(root / "discovery", "two-hosts", s);
  }

  // Voice frames (fuzz_voice_frame.cpp): a small and a largest one, each flag.
  for (std::size_t n : {std::size_t{1}, std::size_t{60}, wire::kMaxVoiceOpusBytes}) {
    voice::VoiceFrame f;
    f.speaker = 3;
    f.sequence = static_cast<std::uint32_t>(n);
    f.timestamp = 1000 + static_cast<std::uint32_t>(n);
    f.flags = n == 1 ? voice::kVoiceTalkStart : voice::kVoiceSpeaking;
    f.opus.assign(n, static_cast<std::uint8_t>(0x08 + n));
    write(root / "voice_frame", "frame-" + std::to_string(n), voice::encodeVoiceFrame(f));
  }

  // Files (fuzz_file_hub.cpp): alice offers to everyone (first byte: frames from alice, bob,
  // bob, alice), bob asks for two pieces, alice sends one, bob says done; and one with a bad
  // name, an offer to one person, a decline and a cancel.
  {
    Bytes s{0x14};  // 00 01 01 00: alice, bob, bob, alice
    wire::FileOffer offer;
    offer.offerId = 1;
    offer.name = "notes.txt";
    offer.size = 2 * wire::kFileChunkBytes;
    offer.sha256.fill(0x33);
    append(s, wire::encodeFrame(offer));
    const std::uint64_t tid = wire::fileTransferId(1, 1);
    append(s, wire::encodeFrame(wire::FileRequest{tid, 0, 0, wire::kFileChunkBytes}));
    append(s, wire::encodeFrame(wire::FileRequest{tid, 0, wire::kFileChunkBytes, wire::kFileChunkBytes}));
    wire::FileChunk chunk;
    chunk.transferId = tid;
    chunk.peerId = 2;
    chunk.data.assign(wire::kFileChunkBytes, 0x61);
    append(s, wire::encodeFrame(chunk));
    write(root / "file_hub", "offer-ask-piece", s);
  }
  {
    Bytes s{0x90};  // alice, alice, bob, carol; then alice leaves
    wire::FileOffer bad;
    bad.offerId = 2;
    bad.name = "../../etc/passwd";
    bad.size = 10;
    append(s, wire::encodeFrame(bad));
    wire::FileOffer one;
    one.offerId = 3;
    one.to = "bob";
    one.name = "CON";
    one.size = 10;
    append(s, wire::encodeFrame(one));
    one.offerId = 4;
    one.name = "fine.bin";
    append(s, wire::encodeFrame(one));
    append(s, wire::encodeFrame(wire::FileStatus{wire::fileTransferId(1, 4), 0, wire::FileStatusCode::Declined, ""}));
    append(s, wire::encodeFrame(wire::FileStatus{wire::fileTransferId(1, 4), 0, wire::FileStatusCode::Cancelled, "gone"}));
    write(root / "file_hub", "refusals", s);
  }
  return 0;
}
