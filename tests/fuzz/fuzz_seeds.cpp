// Writes each fuzz target's seed corpus with the project's own serializer, so the fuzzers
// start from well-formed sessions and mutate from there: fuzz_seeds DIR makes DIR/<target>/.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "capture/synthetic_source.h"
#include "capture/tile_codec.h"
#include "net/wire/messages.h"
#include "net/wire/screen_messages.h"

using namespace huddle;

namespace {

using Bytes = std::vector<std::uint8_t>;

void append(Bytes& out, const base::Bytes& frame) { out.insert(out.end(), frame->begin(), frame->end()); }

void write(const std::filesystem::path& dir, const std::string& name, const Bytes& data) {
  std::filesystem::create_directories(dir);
  std::ofstream(dir / name, std::ios::binary).write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
}

// Real tiles of the test scene: a JPEG scan and a whole JPEG (the decoder sees both kinds).
std::vector<base::EncodedTile> sceneTiles() {
  std::vector<std::uint8_t> px;
  capture::SyntheticSource::render(128, 64, capture::SceneMotion::Full, 2, px);
  capture::Frame f;
  f.widthPx = 128;
  f.heightPx = 64;
  f.strideBytes = 128 * 4;
  f.pixels = px.data();
  capture::TileEncoder enc;
  std::vector<base::EncodedTile> tiles(2);
  std::string error;
  enc.encode(f, 0, 0, 64, capture::CaptureSettings{}, tiles[0], error);
  capture::CaptureSettings s444;
  s444.subsampling = capture::Subsampling::S444;
  enc.encode(f, 1, 0, 64, s444, tiles[1], error);
  return tiles;
}

}  // namespace

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
    wire::Subscribe sub;
    sub.streamId = 1;
    append(s, wire::encodeFrame(sub));
    wire::UpdateRequest req;
    req.streamId = 1;
    append(s, wire::encodeFrame(req));
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
    write(root / "wire", "screen", screen);
  }

  // Tile decoding: [kind, place, quality, 4:4:4] then the tile's bytes.
  for (std::size_t i = 0; i < tiles.size(); ++i) {
    const auto& t = tiles[i];
    Bytes s{static_cast<std::uint8_t>(t.kind == base::TileKind::JpegScan ? 1 : 0), static_cast<std::uint8_t>(i),
            t.jpegQuality, static_cast<std::uint8_t>(t.jpeg444 ? 1 : 0)};
    auto span = t.jpeg.span();
    s.insert(s.end(), span.begin(), span.end());
    write(root / "tile_decode", "tile-" + std::to_string(i), s);
  }
  return 0;
}
