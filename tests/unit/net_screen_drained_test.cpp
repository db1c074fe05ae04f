// The screen hub's "one update queued per viewer" over a real connection that sends at once
// (Connection::Options::inlineSends, as the host's screen port does): the hub builds a viewer's
// next update only once its last one has gone to the kernel, not when some other frame to that
// viewer (a tier switch, a cursor) drained the connection before the update even reached it.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>

#include "net/connection.h"
#include "net/screen_hub.h"
#include "net_loopback.h"
#include "net_screen_support.h"

using namespace huddle;
using namespace huddle::net;
using namespace huddle::net::test;

namespace {

// A hub's link over a Connection, glued as the TCP server glues them. Before each update it
// hands the connection, it notes whether everything handed before has gone to the kernel (an
// update must never wait behind another); `beforeTierSwitch` runs once, just before the first
// TierSwitch goes to the connection.
struct ConnectionLink : PeerLink, Connection::Handler {
  ConnectionLink(ScreenHub& h, std::unique_ptr<TcpSocket> socket, Connection::Options options)
      : hub(h), conn(std::move(socket), options) {}

  bool send(base::Bytes frame) override {
    if (beforeTierSwitch && (frame->at(4) | frame->at(5) << 8) == int(wire::ScreenType::TierSwitch))
      std::exchange(beforeTierSwitch, nullptr)();
    handed += frame->size();
    return conn.send(std::move(frame));
  }
  bool sendTracked(base::Bytes frame) override {
    if (conn.bytesOut() < handed) ++updatesBehindOthers;
    handed += frame->size();
    return conn.send(std::move(frame), true);
  }
  void close(wire::Reason reason, const std::string& detail) override { conn.close(reason, detail); }
  void closeAfterFlush(wire::Reason reason, const std::string& detail) override { conn.closeAfterFlush(reason, detail); }
  std::string address() const override { return conn.peerAddress(); }
  std::uint32_t ipv4() const override { return conn.peerIpv4(); }

  void onReceive(std::span<const std::uint8_t>) override {}
  void onClosed(wire::Reason reason, const std::string& detail) override { hub.detach(id, reason, detail); }
  void onDrained(std::size_t tracked) override {
    if (tracked > 0) hub.drained(id, tracked);
  }

  ScreenHub& hub;
  Connection conn;
  PeerId id = 0;
  std::function<void()> beforeTierSwitch;
  std::atomic<std::uint64_t> handed{0};
  std::atomic<int> updatesBehindOthers{0};
};

// Every tile of a 256 x 256 stream (tiles of 64), 8000 bytes each: an update of about 128 KB.
wire::TileBatch wholeFrame(std::uint64_t seq) {
  wire::TileBatch b = batchOf(256, 256, 64, seq);
  for (std::uint16_t ty = 0; ty < 4; ++ty)
    for (std::uint16_t tx = 0; tx < 4; ++tx) b.tiles.push_back(scanTile(tx, ty, 8000));
  return b;
}

}  // namespace

// The host publishes a frame while the viewer's tier switch is on its way, just ahead of the
// update it announces (as the capture thread may, between two steps of the hub's queue). The
// switch goes at once and drains the connection; the update, larger than the socket buffers of a
// viewer not reading yet, is still partly queued. The next update (of the frame published
// meanwhile) must wait for it, credits or not.
TEST(ScreenDrained, AnotherFrameDrainingTheConnectionDoesNotReleaseTheNextUpdate) {
  ScreenHub hub = makeHub();
  auto [client, accepted] = loopbackPair(8 * 1024);
  ASSERT_TRUE(client && accepted);
  Connection::Options options;
  options.inlineSends = true;
  options.socketSendBufferBytes = 8 * 1024;
  auto link = std::make_shared<ConnectionLink>(hub, std::move(accepted), options);
  link->id = hub.attach(link, kT0);
  ASSERT_TRUE(link->conn.start(link.get()));
  std::string error;
  const std::uint32_t stream = hub.startLocalStream(1, "host", "screen", 256, 256, 64, error);
  ASSERT_NE(stream, 0u) << error;
  feed(hub, link->id, wire::Hello{.port = wire::PortKind::Screen, .name = "viewer", .token = 2});
  hub.publishLocal(stream, wholeFrame(1));
  link->beforeTierSwitch = [&] { hub.publishLocal(stream, wholeFrame(2)); };
  feed(hub, link->id, wire::Subscribe{.streamId = stream, .credits = 3});
  EXPECT_EQ(hub.stats().updatesSent, 1u) << "a second update was built before the first went";
  EXPECT_GT(hub.stats().updateBytesQueued, 0u);
  // The viewer reads now: the first update goes, then the second (of frame 2).
  std::vector<std::uint8_t> chunk(1 << 16);
  for (int i = 0; i < 2000 && (hub.stats().updatesSent < 2 || link->conn.bytesOut() < link->handed); ++i) {
    if (client->waitReadable(10) == 1 && client->recv(chunk.data(), static_cast<int>(chunk.size())) <= 0) break;
  }
  const ScreenHubStats stats = hub.stats();
  EXPECT_EQ(stats.updatesSent, 2u);
  EXPECT_EQ(link->updatesBehindOthers.load(), 0) << "an update was handed over while the one before was still queued";
  // One update queued at a time: the most ever queued is the larger of the two, never both.
  EXPECT_GT(stats.maxUpdateBytesQueued, 0u);
  EXPECT_EQ(stats.maxUpdateBytesQueued, stats.largestUpdateBytes);
  link->conn.close(wire::Reason::Shutdown, "done");
  link->conn.join();
  EXPECT_EQ(hub.stats().updateBytesQueued, 0u);
}
