// The screen relay over loopback with hand-made tiles: login by token, announcements,
// whole image for a newcomer, only newer tiles after, nothing for a static screen, remote
// publishing (refused, and told why, at the stream cap), and bad publishers cut off without
// touching viewers.
#include <gtest/gtest.h>

#include <condition_variable>
#include <map>
#include <mutex>

#include "capture/lossless_tile.h"
#include "net/base/clock.h"
#include "net/screen_client.h"
#include "net/wire/codec.h"
#include "test_support.h"

using namespace huddle;
using namespace huddle::test;

namespace {

// Collects everything a screen client is told.
struct Recorder : net::ScreenClient::Listener {
  std::mutex m;
  bool connected = false, ended = false;
  std::string endText;
  std::map<std::uint32_t, wire::StreamInfo> streams;
  std::vector<std::uint32_t> endedStreams;
  std::vector<wire::TileBatch> updates;
  std::uint32_t accepted = 0;
  std::string refused;
  std::vector<std::uint64_t> acks;

  void onScreenConnected() override { std::lock_guard l(m); connected = true; }
  void onStreamAnnounced(const wire::StreamInfo& i) override { std::lock_guard l(m); streams[i.streamId] = i; }
  void onStreamEnded(std::uint32_t id, const std::string&) override {
    std::lock_guard l(m);
    streams.erase(id);
    endedStreams.push_back(id);
  }
  void onUpdate(wire::TileBatch&& b) override { std::lock_guard l(m); updates.push_back(std::move(b)); }
  void onPublishAccepted(std::uint32_t id) override { std::lock_guard l(m); accepted = id; }
  void onPublishRefused(const std::string& why) override { std::lock_guard l(m); refused = why; }
  void onPublishAck(std::uint64_t seq) override { std::lock_guard l(m); acks.push_back(seq); }
  void onScreenEnded(const net::LinkEnd& e) override { std::lock_guard l(m); ended = true; endText = e.text; }

  template <typename F>
  auto with(F f) {
    std::lock_guard l(m);
    return f();
  }
};

// A chat member plus its screen connection, as a real participant has.
struct Participant {
  TestClient chat;
  Recorder rec;
  net::ScreenClient screen{rec};

  void join(session::HostSession& host, const std::string& name) {
    chat.start(host.chatPort(), name);
    ASSERT_TRUE(waitFor([&] { chat.pump(); return chat.joined; }, 5000));
    net::ScreenClientConfig c;
    c.link.port = host.screenPort();
    c.name = name;
    c.token = chat.client.token();
    screen.start(c);
    ASSERT_TRUE(waitFor([&] { return rec.with([&] { return rec.connected; }); }, 5000));
  }
};

wire::TileBatch solidFrame(std::uint32_t w, std::uint32_t h, std::uint16_t tile, std::uint64_t seq,
                           std::uint32_t colour, const std::vector<std::pair<int, int>>& only = {}) {
  wire::TileBatch b;
  b.seq = seq;
  b.captureTimeUs = base::wallUs();
  b.widthPx = w;
  b.heightPx = h;
  b.tileSizePx = tile;
  auto add = [&](int tx, int ty) {
    base::EncodedTile t;
    t.tx = static_cast<std::uint16_t>(tx);
    t.ty = static_cast<std::uint16_t>(ty);
    t.kind = base::TileKind::Solid;
    t.solidBgrx = colour;
    b.tiles.push_back(t);
  };
  if (only.empty()) {
    for (std::uint32_t ty = 0; ty < (h + tile - 1) / tile; ++ty)
      for (std::uint32_t tx = 0; tx < (w + tile - 1) / tile; ++tx) add(static_cast<int>(tx), static_cast<int>(ty));
  } else {
    for (auto [tx, ty] : only) add(tx, ty);
  }
  return b;
}

// A real lossless tile (Palette or ZstdPixels) of w x h pixels of a few colours.
base::EncodedTile losslessTile(std::uint16_t tx, std::uint16_t ty, int w, int h) {
  std::vector<std::uint8_t> px(std::size_t(w) * h * 4);
  for (std::size_t i = 0; i < px.size(); ++i) px[i] = static_cast<std::uint8_t>(i % 4 == 3 ? 0xFF : (i * 7 / 5) % 3 * 40);
  capture::LosslessTileEncoder enc;
  base::EncodedTile t;
  std::string error;
  EXPECT_TRUE(enc.encode(px.data(), w * 4, w, h, t, error)) << error;
  EXPECT_TRUE(base::isLosslessKind(t.kind));
  t.tx = tx;
  t.ty = ty;
  return t;
}

class ScreenRelay : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    ASSERT_TRUE(host.start(testHostConfig(), error)) << error;
  }
  session::HostSession host;
};

}  // namespace

TEST_F(ScreenRelay, ViewerGetsWholeImageThenOnlyNewerTilesAndNothingWhenStatic) {
  std::string error;
  std::uint32_t id = host.screenHub().startLocalStream(1, "host", "Test", 300, 200, 64, error);
  ASSERT_NE(id, 0u) << error;
  host.screenHub().publishLocal(id, solidFrame(300, 200, 64, 1, 0x112233));  // 5x4 tiles

  Participant viewer;
  viewer.join(host, "viewer");
  ASSERT_TRUE(waitFor([&] { return viewer.rec.with([&] { return viewer.rec.streams.count(id) == 1; }); }, 5000));
  ASSERT_TRUE(viewer.screen.subscribe(id, 1));
  ASSERT_TRUE(waitFor([&] { return viewer.rec.with([&] { return viewer.rec.updates.size() == 1; }); }, 5000));
  viewer.rec.with([&] {
    EXPECT_EQ(viewer.rec.updates[0].tiles.size(), 20u);
    EXPECT_EQ(viewer.rec.updates[0].widthPx, 300u);
    return 0;
  });

  // Two frames change two tiles while the viewer has no credit: then one update with both.
  const std::uint64_t sentBefore = host.screenHub().stats().updatesSent;
  host.screenHub().publishLocal(id, solidFrame(300, 200, 64, 2, 0x445566, {{0, 0}}));
  host.screenHub().publishLocal(id, solidFrame(300, 200, 64, 3, 0x778899, {{4, 3}}));
  EXPECT_EQ(host.screenHub().stats().updatesSent, sentBefore);  // no credit, nothing sent (decided in publishLocal)
  EXPECT_EQ(viewer.rec.with([&] { return viewer.rec.updates.size(); }), 1u);
  ASSERT_TRUE(viewer.screen.requestUpdate(id, 1));
  ASSERT_TRUE(waitFor([&] { return viewer.rec.with([&] { return viewer.rec.updates.size() == 2; }); }, 5000));
  viewer.rec.with([&] {
    const auto& u = viewer.rec.updates[1];
    EXPECT_EQ(u.tiles.size(), 2u);  // latest wins: both changes, coalesced
    EXPECT_EQ(u.seq, 3u);
    return 0;
  });

  // Static screen: credit is there but nothing changed, so nothing is sent.
  auto before = host.screenHub().stats();
  ASSERT_TRUE(viewer.screen.requestUpdate(id, 2));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto after = host.screenHub().stats();
  EXPECT_EQ(after.updatesSent, before.updatesSent);
  EXPECT_EQ(viewer.rec.with([&] { return viewer.rec.updates.size(); }), 2u);
}

TEST_F(ScreenRelay, ManyViewersShareOneSerializedUpdate) {
  std::string error;
  std::uint32_t id = host.screenHub().startLocalStream(1, "host", "Test", 256, 256, 64, error);
  ASSERT_NE(id, 0u);
  host.screenHub().publishLocal(id, solidFrame(256, 256, 64, 1, 0x010203));
  std::vector<std::unique_ptr<Participant>> viewers;
  for (int i = 0; i < 4; ++i) {
    viewers.push_back(std::make_unique<Participant>());
    viewers.back()->join(host, "v" + std::to_string(i));
    ASSERT_TRUE(waitFor([&] { return viewers.back()->rec.with([&] { return viewers.back()->rec.streams.count(id); }) == 1; }, 5000));
  }
  for (auto& v : viewers) v->screen.subscribe(id, 1);
  for (auto& v : viewers)
    ASSERT_TRUE(waitFor([&] { return v->rec.with([&] { return v->rec.updates.size() == 1; }); }, 5000));
  EXPECT_GE(host.screenHub().stats().updatesShared, 3u);
}

TEST_F(ScreenRelay, ClientPublishesAndAnotherClientViewsThroughTheHost) {
  Participant publisher, viewer;
  publisher.join(host, "pub");
  viewer.join(host, "view");
  ASSERT_TRUE(publisher.screen.publishStart("Pub's screen", 128, 128, 64));
  ASSERT_TRUE(waitFor([&] { return publisher.rec.with([&] { return publisher.rec.accepted != 0; }); }, 5000));
  std::uint32_t id = publisher.rec.with([&] { return publisher.rec.accepted; });
  ASSERT_TRUE(waitFor([&] { return viewer.rec.with([&] { return viewer.rec.streams.count(id) == 1; }); }, 5000));
  EXPECT_EQ(viewer.rec.with([&] { return viewer.rec.streams[id].ownerName; }), "pub");
  // The chat's user list shows who shares.
  ASSERT_TRUE(waitFor([&] {
    for (auto& u : host.chatHub().users())
      if (u.name == "pub") return (u.flags & wire::UserInfo::kFlagSharing) != 0;
    return false;
  }, 5000));

  ASSERT_TRUE(publisher.screen.publishTiles(solidFrame(128, 128, 64, 7, 0xABCDEF)));
  ASSERT_TRUE(waitFor([&] { return publisher.rec.with([&] { return !publisher.rec.acks.empty(); }); }, 5000));
  ASSERT_TRUE(viewer.screen.subscribe(id, 2));
  ASSERT_TRUE(waitFor([&] { return viewer.rec.with([&] { return viewer.rec.updates.size() == 1; }); }, 5000));
  viewer.rec.with([&] {
    EXPECT_EQ(viewer.rec.updates[0].seq, 7u);
    EXPECT_EQ(viewer.rec.updates[0].tiles.size(), 4u);
    EXPECT_EQ(viewer.rec.updates[0].tiles[0].solidBgrx, 0xABCDEFu);
    return 0;
  });

  // A lossless tile (sharp when still) is checked and relayed byte for byte.
  wire::TileBatch sharp = solidFrame(128, 128, 64, 8, 0, {{1, 1}});
  sharp.tiles[0] = losslessTile(1, 1, 64, 64);
  ASSERT_TRUE(publisher.screen.publishTiles(sharp));
  ASSERT_TRUE(viewer.screen.requestUpdate(id, 1));
  ASSERT_TRUE(waitFor([&] { return viewer.rec.with([&] { return viewer.rec.updates.size() == 2; }); }, 5000));
  viewer.rec.with([&] {
    const auto& got = viewer.rec.updates[1];
    EXPECT_EQ(got.seq, 8u);
    EXPECT_EQ(got.tiles.size(), 1u);
    EXPECT_EQ(got.tiles[0].kind, sharp.tiles[0].kind);
    auto a = got.tiles[0].jpeg.span(), b = sharp.tiles[0].jpeg.span();
    EXPECT_TRUE(std::equal(a.begin(), a.end(), b.begin(), b.end()));
    return 0;
  });

  // The sharer leaves: the stream ends for everyone.
  publisher.chat.client.leave();
  ASSERT_TRUE(waitFor([&] { return viewer.rec.with([&] { return viewer.rec.endedStreams.size() == 1; }); }, 5000));
  EXPECT_TRUE(host.screenHub().streams().empty());
}

TEST_F(ScreenRelay, APublisherAtTheStreamCapIsToldWhyAndStaysConnected) {
  const std::vector<std::uint32_t> local = fillStreamCap(host);
  Participant late;
  late.join(host, "late");
  const auto closedBefore = host.screenHub().stats().closedByReason;
  // As a client that does not wait for the answer: tiles right behind its PublishStart.
  ASSERT_TRUE(late.screen.publishStart("Late screen", 128, 128, 64));
  ASSERT_TRUE(late.screen.publishTiles(solidFrame(128, 128, 64, 1, 0x123456)));
  ASSERT_TRUE(waitFor([&] { return late.rec.with([&] { return !late.rec.refused.empty(); }); }, 5000));
  const std::string why = late.rec.with([&] { return late.rec.refused; });
  EXPECT_NE(why.find(std::to_string(wire::kMaxStreamsPerSession) + " screens"), std::string::npos) << why;
  EXPECT_EQ(late.rec.with([&] { return late.rec.accepted; }), 0u);
  // Still connected: the tiles were ignored, not held against it. A subscription sent after
  // them is answered, so the host has read them by then.
  host.screenHub().publishLocal(local[0], solidFrame(64, 64, 64, 1, 0x00FF00));
  ASSERT_TRUE(late.screen.subscribe(local[0], 1));
  ASSERT_TRUE(waitFor([&] { return late.rec.with([&] { return late.rec.updates.size() == 1; }); }, 5000));
  EXPECT_FALSE(late.rec.with([&] { return late.rec.ended; }));
  EXPECT_EQ(host.screenHub().stats().closedByReason, closedBefore);
  EXPECT_EQ(host.screenHub().streams().size(), wire::kMaxStreamsPerSession);
  // Once a stream ends there is room, and asking again is enough.
  host.screenHub().endStream(local.back(), "done");
  ASSERT_TRUE(late.screen.publishStart("Late screen", 128, 128, 64));
  ASSERT_TRUE(waitFor([&] { return late.rec.with([&] { return late.rec.accepted != 0; }); }, 5000));
  ASSERT_TRUE(late.screen.publishTiles(solidFrame(128, 128, 64, 2, 0x654321)));
  ASSERT_TRUE(waitFor([&] { return late.rec.with([&] { return late.rec.acks.size() == 1; }); }, 5000));
}

TEST_F(ScreenRelay, BadPublisherIsClosedAndViewersNeverSeeTheBadTile) {
  Participant viewer;
  viewer.join(host, "view");
  std::string error;
  std::uint32_t goodId = host.screenHub().startLocalStream(1, "host", "Good", 128, 128, 64, error);
  host.screenHub().publishLocal(goodId, solidFrame(128, 128, 64, 1, 0x00FF00));
  ASSERT_TRUE(waitFor([&] { return viewer.rec.with([&] { return viewer.rec.streams.count(goodId) == 1; }); }, 5000));
  viewer.screen.subscribe(goodId, 4);
  ASSERT_TRUE(waitFor([&] { return viewer.rec.with([&] { return viewer.rec.updates.size() == 1; }); }, 5000));

  struct Case {
    const char* name;
    std::function<wire::TileBatch()> make;
    wire::Reason expect;
  };
  base::Bytes notJpeg = base::makeBytes(base::ByteVec{0xFF, 0xD8, 0x00, 0x11, 0xFF, 0xD9});
  base::Bytes progressive = base::makeBytes(base::ByteVec{0xFF, 0xD8, 0xFF, 0xC2, 0x00, 0x0B, 8, 0, 64, 0, 64, 1,
                                                          1, 0x11, 0, 0xFF, 0xD9});
  std::vector<Case> cases = {
      {"tile outside the grid", [] { return solidFrame(128, 128, 64, 2, 1, {{5, 0}}); }, wire::Reason::ScreenBounds},
      {"duplicate tile", [] { return solidFrame(128, 128, 64, 2, 1, {{0, 0}, {0, 0}}); }, wire::Reason::ScreenBounds},
      {"too many tiles", [] {
         auto b = solidFrame(128, 128, 64, 2, 1);
         b.tiles.push_back(b.tiles[0]);
         return b;
       }, wire::Reason::ScreenBounds},
      {"absurd size", [] { return solidFrame(9000, 9000, 64, 2, 1, {{0, 0}}); }, wire::Reason::ScreenBounds},
      {"corrupt JPEG", [&] {
         auto b = solidFrame(128, 128, 64, 2, 1, {{0, 0}});
         b.tiles[0].kind = base::TileKind::Jpeg;
         b.tiles[0].jpeg = base::ByteSlice::whole(notJpeg);
         return b;
       }, wire::Reason::ScreenJpeg},
      {"progressive JPEG", [&] {
         auto b = solidFrame(128, 128, 64, 2, 1, {{0, 0}});
         b.tiles[0].kind = base::TileKind::Jpeg;
         b.tiles[0].jpeg = base::ByteSlice::whole(progressive);
         return b;
       }, wire::Reason::ScreenJpeg},
      {"marker smuggled into a JPEG scan", [&] {
         auto b = solidFrame(128, 128, 64, 2, 1, {{0, 0}});
         b.tiles[0].kind = base::TileKind::JpegScan;
         b.tiles[0].jpegQuality = 80;
         b.tiles[0].jpeg = base::ByteSlice::whole(base::makeBytes(base::ByteVec{0x12, 0xFF, 0xC4, 0x00, 0x40}));
         return b;
       }, wire::Reason::ScreenJpeg},
      {"lossless tile of another tile's size", [&] {
         auto b = solidFrame(128, 128, 64, 2, 1, {{0, 0}});
         b.tiles[0] = losslessTile(0, 0, 32, 32);  // a 64x64 tile's place
         return b;
       }, wire::Reason::ScreenJpeg},
      {"palette tile cut inside its palette", [&] {
         auto b = solidFrame(128, 128, 64, 2, 1, {{0, 0}});
         b.tiles[0].kind = base::TileKind::Palette;
         b.tiles[0].jpeg = base::ByteSlice::whole(base::makeBytes(base::ByteVec{15, 1, 2, 3, 4}));
         return b;
       }, wire::Reason::ScreenJpeg},
      {"JPEG scan with quality 0", [&] {
         auto b = solidFrame(128, 128, 64, 2, 1, {{0, 0}});
         b.tiles[0].kind = base::TileKind::JpegScan;
         b.tiles[0].jpegQuality = 0;
         b.tiles[0].jpeg = base::ByteSlice::whole(base::makeBytes(base::ByteVec{0x12, 0x34}));
         return b;
       }, wire::Reason::ScreenBounds},
  };
  for (auto& tc : cases) {
    auto before = host.screenHub().stats().closedByReason;
    Participant bad;
    bad.join(host, "bad");
    ASSERT_TRUE(bad.screen.publishStart("bad", 128, 128, 64));
    ASSERT_TRUE(waitFor([&] { return bad.rec.with([&] { return bad.rec.accepted != 0; }); }, 5000)) << tc.name;
    bad.screen.publishTiles(tc.make());
    auto idx = static_cast<std::size_t>(tc.expect);
    EXPECT_TRUE(waitFor([&] { return host.screenHub().stats().closedByReason[idx] > before[idx]; }, 5000)) << tc.name;
    EXPECT_TRUE(waitFor([&] { return bad.rec.with([&] { return bad.rec.ended; }); }, 5000)) << tc.name;
  }
  // The viewer is still connected, saw no bad tile, and still gets the good stream.
  host.screenHub().publishLocal(goodId, solidFrame(128, 128, 64, 2, 0x0000FF, {{1, 1}}));
  ASSERT_TRUE(waitFor([&] { return viewer.rec.with([&] { return viewer.rec.updates.size() == 2; }); }, 5000));
  viewer.rec.with([&] {
    for (auto& u : viewer.rec.updates) EXPECT_EQ(u.streamId, goodId);
    EXPECT_FALSE(viewer.rec.ended);
    return 0;
  });
}
