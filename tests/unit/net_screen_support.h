// Screen hub peers driven with no sockets, for net_test: a link that records what the hub sends,
// and helpers to log in, publish and build tiles of any size the host's checks accept.
// Thread: the test's.
#pragma once
#include <malloc.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>
#include <mutex>
#include <string>
#include <vector>

#include "net/screen_hub.h"

namespace huddle::net::test {


inline constexpr std::int64_t kT0 = 1'000'000'000;

// A whole frame's message type (its header's u16 after the u32 length).
inline int frameType(const base::Bytes& f) { return f->at(4) | f->at(5) << 8; }

// Keeps every frame the hub sends, and how the connection was closed.
class RecordingLink : public PeerLink {
 public:
  bool send(base::Bytes frame) override {
    std::lock_guard lock(m_mutex);
    frames.push_back(std::move(frame));
    writes.push_back(1);
    return true;
  }
  bool sendTrackedAfter(base::Bytes first, std::uint64_t, base::Bytes frame) override {
    std::lock_guard lock(m_mutex);
    frames.push_back(std::move(first));
    frames.push_back(std::move(frame));
    writes.push_back(2);
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
      if (f->size() >= wire::kFrameHeaderBytes && frameType(f) == static_cast<int>(type)) out.push_back(f);
    return out;
  }
  std::vector<base::Bytes> snapshot() {
    std::lock_guard lock(m_mutex);
    return frames;
  }
  std::vector<base::Bytes> frames;
  std::vector<int> writes;  // frames handed over in each call, in order (2: two in one write)
  wire::Reason closedWith = wire::Reason::None;

 private:
  void closed(wire::Reason reason) {
    std::lock_guard lock(m_mutex);
    if (closedWith == wire::Reason::None) closedWith = reason;
  }
  std::mutex m_mutex;
};

inline ScreenHub makeHub() {
  return ScreenHub(
      ScreenHubConfig{},
      [](std::uint64_t token, ScreenSeat& seat) {
        seat.participantId = static_cast<std::uint32_t>(token);
        seat.name = "p" + std::to_string(token);
        return true;
      },
      [](std::uint32_t, bool) {});
}

template <typename M>
void feed(ServerHub& hub, PeerId id, const M& msg, std::int64_t nowUs = kT0) {
  hub.receive(id, base::view(wire::encodeFrame(msg)), nowUs);
}

inline void feedTiles(ServerHub& hub, PeerId id, const wire::TileBatch& b, std::int64_t nowUs = kT0) {
  hub.receive(id, base::view(wire::encodeTileBatch(wire::ScreenType::PublishTiles, b)), nowUs);
}

struct Peer {
  std::shared_ptr<RecordingLink> link = std::make_shared<RecordingLink>();
  PeerId id = 0;
};

inline Peer join(ServerHub& hub, std::uint64_t token, std::int64_t nowUs = kT0) {
  Peer p;
  p.id = hub.attach(p.link, nowUs);
  feed(hub, p.id, wire::Hello{.port = wire::PortKind::Screen, .name = "p", .token = token}, nowUs);
  return p;
}

// Starts publishing; returns the stream id the host gave (0 if refused).
inline std::uint32_t publish(ServerHub& hub, Peer& p, std::uint32_t w, std::uint32_t h, std::uint16_t tile) {
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
inline base::EncodedTile scanTile(std::uint16_t tx, std::uint16_t ty, std::size_t bytes) {
  base::EncodedTile t;
  t.tx = tx;
  t.ty = ty;
  t.kind = base::TileKind::JpegScan;
  t.jpegQuality = 80;
  t.jpeg = base::ByteSlice::whole(base::makeBytes(base::ByteVec(bytes, 0x11)));
  return t;
}

inline wire::TileBatch batchOf(std::uint32_t w, std::uint32_t h, std::uint16_t tile, std::uint64_t seq) {
  wire::TileBatch b;
  b.seq = seq;
  b.widthPx = w;
  b.heightPx = h;
  b.tileSizePx = tile;
  return b;
}

// Resident memory once the allocator has given back what is free (glibc keeps freed blocks
// otherwise, which would measure the test's own churn, not what the hub holds).
inline std::int64_t residentBytes() {
  malloc_trim(0);
  std::ifstream statm("/proc/self/statm");
  std::int64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

template <typename M>
M decodeFrame(const base::Bytes& f) {
  M m;
  EXPECT_TRUE(wire::decodePayload(std::span(f->data() + wire::kFrameHeaderBytes, f->size() - wire::kFrameHeaderBytes), m));
  return m;
}

// Every message of type M the hub sent on `link`, decoded.
template <typename M>
std::vector<M> decodedOf(RecordingLink& link) {
  std::vector<M> out;
  for (const auto& f : link.of(M::kType)) out.push_back(decodeFrame<M>(f));
  return out;
}

inline wire::TileBatch decodeUpdate(const base::Bytes& frame) {
  wire::TileBatch b;
  std::string error;
  wire::Reader r(std::span(frame->data() + wire::kFrameHeaderBytes, frame->size() - wire::kFrameHeaderBytes));
  EXPECT_TRUE(b.read(r, frame, error)) << error;
  return b;
}


// A batch for a 4096 x 4096 stream (tiles of 256 px) whose payload is exactly `payload` bytes:
// the largest tiles a 256 px tile may be, from grid slot `firstSlot` on, then what is left.
inline wire::TileBatch batchWithPayload(std::uint64_t seq, std::size_t payload, std::uint16_t firstSlot = 0) {
  wire::TileBatch b = batchOf(4096, 4096, 256, seq);
  std::size_t left = payload - wire::kTileBatchHeaderBytes;
  const std::size_t kFull = 2 + 4 + 5 + wire::maxJpegTileBytes(256, 256);
  for (std::uint16_t slot = firstSlot; left > 0; ++slot) {
    std::size_t take = std::min(left, kFull);
    if (left - take > 0 && left - take < 12) take -= 12;  // leave the last tile a byte at least
    b.tiles.push_back(scanTile(slot % 16, slot / 16, take - 11));
    left -= take;
  }
  EXPECT_EQ(wire::encodeTileBatch(wire::ScreenType::PublishTiles, b)->size(), wire::kFrameHeaderBytes + payload);
  return b;
}

}  // namespace huddle::net::test
