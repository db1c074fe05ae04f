// A viewer facing a hostile host: a scripted screen port (a ServerHub of the test's own,
// behind a real TcpServer) announces a stream and then sends updates of other sizes. The
// viewer drops those instead of reallocating its framebuffer for each, applies the honest
// ones, and believes no more announced streams than any host relays. A host that sends more
// updates than it was given credits for is dropped.
#include <gtest/gtest.h>

#include <zstd.h>

#include <atomic>
#include <mutex>

#include "app/session/screen_session.h"
#include "net/tcp_server.h"
#include "net/wire/frame_decoder.h"
#include "net/wire/screen_messages.h"
#include "one_client_host.h"
#include "test_support.h"

using namespace huddle;
using namespace huddle::test;

namespace {

std::int64_t anyFrame(std::uint16_t, bool) { return 1 << 20; }

wire::TileBatch solidUpdate(std::uint32_t streamId, std::uint64_t seq, std::uint32_t w, std::uint32_t h) {
  wire::TileBatch b;
  b.streamId = streamId;
  b.seq = seq;
  b.widthPx = w;
  b.heightPx = h;
  b.tileSizePx = 64;
  base::EncodedTile t;
  t.solidBgrx = 0x00FF00;
  b.tiles.push_back(t);
  return b;
}

base::Bytes zstdOf(const base::ByteVec& raw) {
  base::ByteVec out(ZSTD_compressBound(raw.size()));
  out.resize(ZSTD_compress(out.data(), out.size(), raw.data(), raw.size(), 3));
  return base::makeBytes(std::move(out));
}

// A 64x64 palette tile of `colours` colours whose packed indices are `packed`.
base::EncodedTile losslessTile(std::uint16_t tx, std::uint16_t ty, std::uint32_t colours, const base::ByteVec& packed) {
  base::EncodedTile t;
  t.tx = tx;
  t.ty = ty;
  t.kind = base::TileKind::Palette;
  base::ByteVec bytes{static_cast<std::uint8_t>(colours - 1)};
  for (std::uint32_t i = 0; i < colours; ++i) bytes.insert(bytes.end(), {std::uint8_t(i * 90), 0x20, 0x40});
  base::Bytes z = zstdOf(packed);
  bytes.insert(bytes.end(), z->begin(), z->end());
  t.jpeg = base::ByteSlice::whole(base::makeBytes(std::move(bytes)));
  return t;
}

// A 64x64 zstd pixel tile whose frame holds `rawBytes` bytes.
base::EncodedTile pixelTile(std::uint16_t tx, std::uint16_t ty, std::size_t rawBytes) {
  base::EncodedTile t;
  t.tx = tx;
  t.ty = ty;
  t.kind = base::TileKind::ZstdPixels;
  t.jpeg = base::ByteSlice::whole(zstdOf(base::ByteVec(rawBytes, 7)));
  return t;
}

// Welcomes the viewer, announces `streams` streams of 320x200, and answers a Subscribe to
// stream 1 with an honest update, one claiming 8000x4000, one claiming 320x201, and another
// honest one.
// With `overCredit`, it answers instead with `overCredit` honest updates of `overStream`,
// whatever credits it was given.
class ScriptedScreenHost : public OneClientHost {
 public:
  explicit ScriptedScreenHost(std::uint32_t streams, std::uint32_t overCredit = 0, std::uint32_t overStream = 1)
      : OneClientHost(&anyFrame, "vic", "mallory"), m_streams(streams), m_overCredit(overCredit), m_overStream(overStream) {}
  void onWelcomed() override {
    for (std::uint32_t id = 1; id <= m_streams; ++id) {
      wire::StreamAnnounce a;
      a.info = {id, 1, "mallory", "Screen " + std::to_string(id), 320, 200, 64};
      m_link->send(wire::encodeFrame(a));
    }
  }
  void onFrame(const wire::Frame& f) override {
    if (f.type == static_cast<std::uint16_t>(wire::ScreenType::UpdateRequest)) {
      wire::UpdateRequest req;
      if (wire::decodePayload(f.payload, req) && req.fullRefresh) ++m_fullRefreshes;
      return;
    }
    if (f.type != static_cast<std::uint16_t>(wire::ScreenType::Subscribe)) return;
    const auto update = wire::ScreenType::Update;
    if (m_badCopy) {
      // A scroll whose copy reaches a row below the 320x200 stream, with a good tile.
      auto b = solidUpdate(1, 1, 320, 200);
      b.tiles.resize(1);
      b.copies = {{0, 10, 320, 191, 0, 0}};
      m_link->send(wire::encodeTileBatch(update, b));
    } else if (m_badLossless) {
      // A palette tile of 2 colours (1 bit a pixel) is fine; one of 3 colours whose
      // indices say 3 is not, nor is a pixel tile whose zstd frame holds another size.
      auto b = solidUpdate(1, 1, 320, 200);
      b.tiles = {losslessTile(0, 0, 2, base::ByteVec(64 * 8, 0x5A)), losslessTile(1, 0, 3, base::ByteVec(64 * 16, 0xFF)),
                 pixelTile(2, 0, 32 * 32 * 3)};
      m_link->send(wire::encodeTileBatch(update, b));
    } else if (m_overCredit > 0) {
      for (std::uint32_t i = 1; i <= m_overCredit; ++i)
        m_link->send(wire::encodeTileBatch(update, solidUpdate(m_overStream, i, 320, 200)));
    } else {
      m_link->send(wire::encodeTileBatch(update, solidUpdate(1, 1, 320, 200)));
      m_link->send(wire::encodeTileBatch(update, solidUpdate(1, 2, 8000, 4000)));
      m_link->send(wire::encodeTileBatch(update, solidUpdate(1, 3, 320, 201)));
      m_link->send(wire::encodeTileBatch(update, solidUpdate(1, 4, 320, 200)));
    }
  }
  // Sends, on Subscribe, one update with a good and two malformed lossless tiles instead.
  void sendBadLossless() { m_badLossless = true; }
  // Sends, on Subscribe, one update whose copy reaches outside the stream instead.
  void sendBadCopy() { m_badCopy = true; }
  int fullRefreshes() {
    std::lock_guard lock(m_mutex);
    return m_fullRefreshes;
  }

 private:
  const std::uint32_t m_streams, m_overCredit, m_overStream;
  std::atomic<bool> m_badLossless{false};
  std::atomic<bool> m_badCopy{false};
  int m_fullRefreshes = 0;  // (m_mutex) UpdateRequests asking for every tile again
};

}  // namespace

TEST(HostileHost, UpdatesOfAnotherSizeAndStreamsPastTheCapAreNotBelieved) {
  ScriptedScreenHost script(wire::kMaxStreamsPerSession + 4);
  net::TcpServer server(script, net::TcpServer::Options{});
  std::string error;
  ASSERT_TRUE(server.start(0, error)) << error;
  session::ScreenSession viewer;
  ASSERT_TRUE(startViewer(viewer, server, wire::kMaxStreamsPerSession));
  std::shared_ptr<session::StreamView> view = viewer.watch(1);
  ASSERT_TRUE(view);
  ASSERT_TRUE(waitFor([&] { return view->lastSeq() == 4; }, 5000)) << view->lastSeq();
  EXPECT_EQ(view->updatesApplied(), 2u) << "only the two of the announced size";
  view->consume([](const capture::Framebuffer& fb, const base::DirtyRects&) {
    EXPECT_EQ(fb.widthPx(), 320);
    EXPECT_EQ(fb.heightPx(), 200);
  });
  EXPECT_EQ(viewer.streams().size(), wire::kMaxStreamsPerSession);
  viewer.leave();
  server.stop(0);
}

TEST(HostileHost, MalformedLosslessTilesAreDroppedAndTheViewerAsksForAFullRefresh) {
  ScriptedScreenHost script(1);
  script.sendBadLossless();
  net::TcpServer server(script, net::TcpServer::Options{});
  std::string error;
  ASSERT_TRUE(server.start(0, error)) << error;
  session::ScreenSession viewer;
  ASSERT_TRUE(startViewer(viewer, server, 1));
  std::shared_ptr<session::StreamView> view = viewer.watch(1);
  ASSERT_TRUE(view);
  ASSERT_TRUE(waitFor([&] { return view->updatesApplied() == 1; }, 5000));
  // The bad tiles are left out (and logged), the good one shown, and the credit goes back
  // with a request for every tile again.
  ASSERT_TRUE(waitFor([&] { return script.fullRefreshes() == 1; }, 5000));
  EXPECT_EQ(view->stats().snapshot(base::monoUs()).decodeErrors, 1u);
  view->consume([](const capture::Framebuffer& fb, const base::DirtyRects&) {
    auto at = [&](int x, int y) { return reinterpret_cast<const std::uint32_t*>(fb.pixels())[y * fb.widthPx() + x] & 0xFFFFFF; };
    // The good palette tile: indices 0x5A = 0,1,0,1,1,0,1,0; colour i is B i*90, G 0x20, R 0x40.
    EXPECT_EQ(at(0, 0), 0x402000u);
    EXPECT_EQ(at(1, 0), 0x40205Au);
    EXPECT_EQ(at(64 + 5, 5), 0u) << "the bad palette tile left nothing";
    EXPECT_EQ(at(128 + 5, 5), 0u) << "the bad pixel tile left nothing";
  });
  EXPECT_FALSE(view->sharp());
  viewer.leave();
  server.stop(0);
}

TEST(HostileHost, ACopyOutsideTheStreamIsDroppedAndTheViewerAsksForAFullRefresh) {
  ScriptedScreenHost script(1);
  script.sendBadCopy();
  net::TcpServer server(script, net::TcpServer::Options{});
  std::string error;
  ASSERT_TRUE(server.start(0, error)) << error;
  session::ScreenSession viewer;
  ASSERT_TRUE(startViewer(viewer, server, 1));
  std::shared_ptr<session::StreamView> view = viewer.watch(1);
  ASSERT_TRUE(view);
  // The copy is not applied (and logged), the tile is, and the credit goes back with a request
  // for every tile again; the connection stays.
  ASSERT_TRUE(waitFor([&] { return script.fullRefreshes() == 1; }, 5000));
  EXPECT_EQ(view->updatesApplied(), 1u);
  EXPECT_EQ(view->stats().snapshot(base::monoUs()).decodeErrors, 1u);
  EXPECT_FALSE(view->ended());
  viewer.leave();
  server.stop(0);
}

// Takes updates and gives no credit back, so what it may receive is exactly what it subscribed with.
struct CountingListener : net::ScreenClient::Listener {
  std::mutex mutex;
  int updates = 0;
  std::string endText;
  bool ended = false;
  void onUpdate(wire::TileBatch&&) override {
    std::lock_guard lock(mutex);
    ++updates;
  }
  void onScreenEnded(const net::LinkEnd& end) override {
    std::lock_guard lock(mutex);
    ended = true;
    endText = end.text;
  }
};

TEST(HostileHost, AHostSendingMoreUpdatesThanItsCreditsIsDropped) {
  ScriptedScreenHost script(1, /*overCredit=*/3);
  net::TcpServer server(script, net::TcpServer::Options{});
  std::string error;
  ASSERT_TRUE(server.start(0, error)) << error;
  CountingListener listener;
  net::ScreenClient client(listener);
  net::ScreenClientConfig config;
  config.link.port = server.port();
  config.name = "vic";
  client.start(config);
  ASSERT_TRUE(waitFor([&] { return client.connected(); }, 5000));
  ASSERT_TRUE(client.subscribe(1, 2));
  ASSERT_TRUE(waitFor([&] { std::lock_guard lock(listener.mutex); return listener.ended; }, 5000));
  {
    std::lock_guard lock(listener.mutex);
    EXPECT_EQ(listener.updates, 2) << "the two it had credits for, not the third";
    EXPECT_NE(listener.endText.find("credits"), std::string::npos) << listener.endText;
  }
  client.leave();
  server.stop(0);
}

TEST(HostileHost, AViewerDropsAHostSendingUpdatesOfAStreamItNeverAskedFor) {
  // Stream 2 is announced but not watched: no credits, so its updates are a flood.
  ScriptedScreenHost script(2, /*overCredit=*/1, /*overStream=*/2);
  net::TcpServer server(script, net::TcpServer::Options{});
  std::string error;
  ASSERT_TRUE(server.start(0, error)) << error;
  session::ScreenSession viewer;
  ASSERT_TRUE(startViewer(viewer, server, 2));
  ASSERT_TRUE(viewer.watch(1));
  ASSERT_TRUE(waitFor([&] { return viewer.finished(); }, 5000));
  EXPECT_NE(viewer.endText().find("credits"), std::string::npos) << viewer.endText();
  viewer.leave();
  server.stop(0);
}

namespace {

std::int64_t bigFrames(std::uint16_t, bool) { return 32 << 20; }

// Not hostile: welcomes the sharer, answers its pings and counts its batches. Behind a server
// that reads slowly (a slow link, or a host under load), a ping of the sharer's waits behind
// a large frame for seconds.
class PatientScreenHost : public OneClientHost {
 public:
  PatientScreenHost() : OneClientHost(&bigFrames, "sam", "slow") {}
  void onFrame(const wire::Frame& f) override {
    wire::Ping ping;
    if (f.type == static_cast<std::uint16_t>(wire::MsgType::Ping) && wire::decodePayload(f.payload, ping))
      m_link->send(wire::pongFor(ping));
    else if (f.type == static_cast<std::uint16_t>(wire::ScreenType::PublishTiles))
      ++m_batches;
  }
  int batches() const { return m_batches; }

 private:
  std::atomic<int> m_batches{0};
};

}  // namespace

// A sharer's first image of a big screen can take seconds to cross a slow link, and its pings
// wait behind it: the host taking its bytes is proof enough that the host is there (before,
// the sharer gave up with "no response" and reconnected, sending the image again, for ever).
TEST(SlowHost, ASharerWhoseLargeFrameTakesLongerThanTheHeartbeatStaysConnected) {
  PatientScreenHost script;
  net::TcpServer::Options slow;
  slow.connection.readLimitBytesPerSec = 600'000;  // and a small receive buffer, so TCP acks at that pace
  net::TcpServer server(script, slow);
  std::string error;
  ASSERT_TRUE(server.start(0, error)) << error;
  CountingListener listener;
  net::ScreenClient client(listener);
  net::ScreenClientConfig config;
  config.link.port = server.port();
  config.link.heartbeatTimeoutUs = 1'000'000;  // a stall of the host's reader under TSan stays well inside it
  config.name = "sam";
  client.start(config);
  ASSERT_TRUE(waitFor([&] { return client.connected(); }, 5000));
  // 2 MB: over three seconds at the host's pace, three heartbeat times.
  wire::TileBatch big = solidUpdate(1, 1, 4096, 2048);
  big.tiles.clear();
  for (std::uint16_t i = 0; i < 16; ++i) {
    base::EncodedTile t;
    t.tx = i % 64;
    t.ty = 0;
    t.kind = base::TileKind::ZstdPixels;
    t.jpeg = base::ByteSlice::whole(base::makeBytes(base::ByteVec(128 * 1024, std::uint8_t(i))));
    big.tiles.push_back(std::move(t));
  }
  ASSERT_TRUE(client.publishTiles(big));
  ASSERT_TRUE(waitFor([&] { return script.batches() == 1 || client.finished(); }, 20000));
  EXPECT_EQ(script.batches(), 1);
  {
    std::lock_guard lock(listener.mutex);
    EXPECT_FALSE(listener.ended) << listener.endText;
  }
  EXPECT_TRUE(client.connected());
  client.leave();
  server.stop(0);
}
