// The screen hub's memory and frame limits (docs/SECURITY.md s.7.2), driven with no sockets and
// a clock of our own: what a hostile publisher can make the host hold, how fast it may publish,
// how many streams and connections one participant may have, and updates cut under the cap.
#include <gtest/gtest.h>

#include <malloc.h>

#include <fstream>
#include <map>
#include <mutex>
#include <unistd.h>

#include "net/screen_hub.h"

using namespace huddle;
using namespace huddle::net;

namespace {

constexpr std::int64_t kT0 = 1'000'000'000;

// Keeps every frame the hub sends, and how the connection was closed.
class RecordingLink : public PeerLink {
 public:
  bool send(base::Bytes frame) override {
    std::lock_guard lock(m_mutex);
    frames.push_back(std::move(frame));
    return true;
  }
  void close(wire::Reason reason, const std::string&) override { closed(reason); }
  void closeAfterFlush(wire::Reason reason, const std::string&) override { closed(reason); }
  void sendFinal(base::Bytes frame, wire::Reason reason, const std::string&) override {
    send(std::move(frame));
    closed(reason);
  }
  std::string address() const override { return "127.0.0.9:1"; }
  std::uint32_t ipv4() const override { return 0x7F000009; }

  std::vector<base::Bytes> of(wire::ScreenType type) {
    std::lock_guard lock(m_mutex);
    std::vector<base::Bytes> out;
    for (const auto& f : frames)
      if (f->size() >= wire::kFrameHeaderBytes && (f->at(4) | f->at(5) << 8) == static_cast<int>(type)) out.push_back(f);
    return out;
  }
  std::vector<base::Bytes> frames;
  wire::Reason closedWith = wire::Reason::None;

 private:
  void closed(wire::Reason reason) {
    std::lock_guard lock(m_mutex);
    if (closedWith == wire::Reason::None) closedWith = reason;
  }
  std::mutex m_mutex;
};

ScreenHub makeHub() {
  return ScreenHub(
      ScreenHubConfig{},
      [](std::uint64_t token, std::uint32_t& id, std::string& name) {
        id = static_cast<std::uint32_t>(token);
        name = "p" + std::to_string(token);
        return true;
      },
      [](std::uint32_t, bool) {});
}

template <typename M>
void feed(ServerHub& hub, PeerId id, const M& msg, std::int64_t nowUs = kT0) {
  hub.receive(id, base::view(wire::encodeFrame(msg)), nowUs);
}

void feedTiles(ServerHub& hub, PeerId id, const wire::TileBatch& b, std::int64_t nowUs = kT0) {
  hub.receive(id, base::view(wire::encodeTileBatch(wire::ScreenType::PublishTiles, b)), nowUs);
}

struct Peer {
  std::shared_ptr<RecordingLink> link = std::make_shared<RecordingLink>();
  PeerId id = 0;
};

Peer join(ServerHub& hub, std::uint64_t token, std::int64_t nowUs = kT0) {
  Peer p;
  p.id = hub.attach(p.link, nowUs);
  feed(hub, p.id, wire::Hello{.port = wire::PortKind::Screen, .name = "p", .token = token}, nowUs);
  return p;
}

// Starts publishing; returns the stream id the host gave (0 if refused).
std::uint32_t publish(ServerHub& hub, Peer& p, std::uint32_t w, std::uint32_t h, std::uint16_t tile) {
  wire::PublishStart m;
  m.title = "screen";
  m.widthPx = w;
  m.heightPx = h;
  m.tileSizePx = tile;
  feed(hub, p.id, m);
  auto accepted = p.link->of(wire::ScreenType::PublishAccepted);
  if (accepted.empty()) return 0;
  wire::PublishAccepted a;
  EXPECT_TRUE(wire::decodePayload(std::span(accepted.back()->data() + wire::kFrameHeaderBytes,
                                            accepted.back()->size() - wire::kFrameHeaderBytes),
                                  a));
  return a.streamId;
}

// A tile the host's checks accept (a JPEG scan has no headers to check) of `bytes` bytes.
base::EncodedTile scanTile(std::uint16_t tx, std::uint16_t ty, std::size_t bytes) {
  base::EncodedTile t;
  t.tx = tx;
  t.ty = ty;
  t.kind = base::TileKind::JpegScan;
  t.jpegQuality = 80;
  t.jpeg = base::ByteSlice::whole(base::makeBytes(base::ByteVec(bytes, 0x11)));
  return t;
}

wire::TileBatch batchOf(std::uint32_t w, std::uint32_t h, std::uint16_t tile, std::uint64_t seq) {
  wire::TileBatch b;
  b.seq = seq;
  b.widthPx = w;
  b.heightPx = h;
  b.tileSizePx = tile;
  return b;
}

// Resident memory once the allocator has given back what is free (glibc keeps freed blocks
// otherwise, which would measure the test's own churn, not what the hub holds).
std::int64_t residentBytes() {
  malloc_trim(0);
  std::ifstream statm("/proc/self/statm");
  std::int64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

wire::TileBatch decodeUpdate(const base::Bytes& frame) {
  wire::TileBatch b;
  std::string error;
  wire::Reader r(std::span(frame->data() + wire::kFrameHeaderBytes, frame->size() - wire::kFrameHeaderBytes));
  EXPECT_TRUE(b.read(r, frame, error)) << error;
  return b;
}

}  // namespace

// The attack of issue 10: large messages, each with one tile in a fresh slot and the rest in
// slots the next message overwrites. Before, every fresh tile kept its whole message alive.
TEST(ScreenRelay, OneFreshTilePerLargeMessageDoesNotKeepTheMessagesAlive) {
  ScreenHub hub = makeHub();
  constexpr std::uint32_t kW = 4096, kH = 2304;  // 16 x 9 tiles of 256 px
  constexpr std::uint16_t kTile = 256;
  Peer attacker = join(hub, 1), other = join(hub, 2), viewer = join(hub, 3);
  const std::uint32_t bad = publish(hub, attacker, kW, kH, kTile);
  const std::uint32_t good = publish(hub, other, 128, 64, 64);
  ASSERT_NE(bad, 0u);
  ASSERT_NE(good, 0u);
  feed(hub, viewer.id, wire::Subscribe{.streamId = good, .credits = 2});
  hub.drained(viewer.id);  // the first (empty) update went out

  const std::int64_t before = residentBytes();
  constexpr int kMessages = 16;
  constexpr std::size_t kBig = 390'000;
  std::size_t messageBytes = 0;
  for (int i = 0; i < kMessages; ++i) {
    wire::TileBatch b = batchOf(kW, kH, kTile, std::uint64_t(i + 1));
    b.tiles.push_back(scanTile(std::uint16_t(i), 0, 1000));  // fresh slot: row 0
    for (std::uint16_t k = 0; k < 44; ++k)  // overwritten every time: the last rows
      b.tiles.push_back(scanTile(std::uint16_t(k % 16), std::uint16_t(6 + k / 16), kBig));
    messageBytes = wire::encodeTileBatch(wire::ScreenType::PublishTiles, b)->size();
    // A second of our clock per message: within any sane publishing rate.
    feedTiles(hub, attacker.id, b, kT0 + std::int64_t(i) * 1'000'000);
  }
  ASSERT_EQ(attacker.link->closedWith, wire::Reason::None);
  EXPECT_EQ(attacker.link->of(wire::ScreenType::PublishAck).size(), std::size_t(kMessages));
  const std::uint64_t held = hub.streamBytesHeld(bad);
  const std::int64_t grown = residentBytes() - before;
  // What the stream's tiles are worth, with room for allocator rounding.
  const std::uint64_t tilesWorth = 44 * kBig + kMessages * 1000;
  EXPECT_LT(held, tilesWorth + tilesWorth / 10) << "held " << held << " for messages of " << messageBytes;
  EXPECT_LE(held, wire::kMaxStreamBytes);
  // Before, 16 messages of ~17 MB stayed resident; now about one message's tiles do.
  EXPECT_LT(grown, std::int64_t(wire::kMaxStreamBytes)) << "resident memory grew by " << grown;

  // Everyone else's stream goes on.
  wire::TileBatch frame = batchOf(128, 64, 64, 1);
  frame.tiles.push_back(scanTile(1, 0, 100));
  feedTiles(hub, other.id, frame, kT0 + kMessages * 1'000'000);
  auto updates = viewer.link->of(wire::ScreenType::Update);
  ASSERT_FALSE(updates.empty());
  EXPECT_EQ(decodeUpdate(updates.back()).tiles.size(), 1u);
  EXPECT_EQ(other.link->closedWith, wire::Reason::None);
}
