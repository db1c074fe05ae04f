// Every viewer at its own pace, over loopback: a viewer whose credits come back slowly is
// moved to a lower quality tier (told first, then sent a whole image of that tier), while a
// fast one stays on the sharer's own settings; for the host's own share and a client's.
#include <gtest/gtest.h>

#include <chrono>
#include <deque>
#include <mutex>
#include <thread>

#include "app/session/screen_session.h"
#include "capture/synthetic_source.h"
#include "net/screen_client.h"
#include "test_support.h"

using namespace huddle;
using namespace huddle::test;

namespace {

// A viewer on the raw screen client that gives each credit back only `delayMs` after its
// update arrived (as a viewer on a slow link or a slow machine would).
struct SlowViewer : net::ScreenClient::Listener {
  std::mutex m;
  bool connected = false;
  std::vector<wire::TierSwitch> tiers;
  // Geometry of each update since the last TierSwitch, and whether the first was whole.
  std::vector<std::pair<std::uint32_t, std::uint32_t>> sizes;
  std::size_t firstTiles = 0;
  std::deque<std::chrono::steady_clock::time_point> arrived;
  TestClient chat;
  net::ScreenClient screen{*this};

  void onScreenConnected() override { std::lock_guard l(m); connected = true; }
  void onTierSwitch(const wire::TierSwitch& t) override {
    std::lock_guard l(m);
    tiers.push_back(t);
    sizes.clear();
  }
  void onUpdate(wire::TileBatch&& b) override {
    std::lock_guard l(m);
    if (sizes.empty()) firstTiles = b.tiles.size();
    sizes.emplace_back(b.widthPx, b.heightPx);
    arrived.push_back(std::chrono::steady_clock::now());
  }

  void join(session::HostSession& host) {
    chat.start(host.chatPort(), "slow");
    ASSERT_TRUE(waitFor([&] { chat.pump(); return chat.joined; }, 5000));
    net::ScreenClientConfig c;
    c.link.port = host.screenPort();
    c.name = "slow";
    c.token = chat.client.token();
    screen.start(c);
    ASSERT_TRUE(waitFor([&] { std::lock_guard l(m); return connected; }, 5000));
  }
  // Gives back the credits of updates that arrived at least `delay` ago.
  void returnCredits(std::uint32_t streamId, std::chrono::milliseconds delay) {
    std::size_t due = 0;
    {
      std::lock_guard l(m);
      while (!arrived.empty() && std::chrono::steady_clock::now() - arrived.front() >= delay) {
        arrived.pop_front();
        ++due;
      }
    }
    for (std::size_t i = 0; i < due; ++i) screen.requestUpdate(streamId, 1);
  }
  int tier() {
    std::lock_guard l(m);
    return tiers.empty() ? -1 : tiers.back().tier;
  }
};

// Tier moves quick enough for a test: a round trip over 150 ms is too slow, after 300 ms at a
// tier; no probing back up while it runs.
session::HostConfig tierHostConfig() {
  session::HostConfig c = testHostConfig();
  c.screenHub.tiers.dropDelayUs = 150'000;
  c.screenHub.tiers.upDelayUs = 20'000;
  c.screenHub.tiers.stallUs = 1'000'000;
  c.screenHub.tiers.holdUs = 300'000;
  c.screenHub.tiers.probeUs = 600'000'000;
  return c;
}

class ScreenTiers : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    ASSERT_TRUE(host.start(tierHostConfig(), error)) << error;
    ASSERT_TRUE(waitFor([&] { return host.localUser().connected(); }, 5000));
  }

  static capture::CaptureSettings settings() {
    capture::CaptureSettings s;
    s.quality = 85;
    s.fps = 15;
    return s;
  }

  // A fast viewer (a whole screen session) and a slow one watch the only stream; returns once
  // the slow one is served a lower tier (or after 20 s).
  void watchFastAndSlow() {
    fast.join(host, "fast");
    slow.join(host);
    auto view = fast.watchFirst();
    ASSERT_TRUE(view);
    const std::uint32_t stream = view->info().streamId;
    ASSERT_TRUE(slow.screen.subscribe(stream, 2));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      slow.returnCredits(stream, std::chrono::milliseconds(400));
      {
        std::lock_guard l(slow.m);
        if (!slow.tiers.empty() && slow.tiers.back().tier > 0 && slow.sizes.size() >= 2) break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    const int tier = slow.tier();
    EXPECT_GE(tier, 1);
    {
      std::lock_guard l(slow.m);
      ASSERT_FALSE(slow.tiers.empty());
      const wire::TierSwitch t = slow.tiers.back();
      const wire::StreamInfo info = view->info();
      // Its tier's own, smaller image: every update since the switch of that size, the first whole.
      EXPECT_LT(t.widthPx, info.widthPx);
      EXPECT_LT(t.heightPx, info.heightPx);
      for (auto [w, h] : slow.sizes) {
        EXPECT_EQ(w, t.widthPx);
        EXPECT_EQ(h, t.heightPx);
      }
      EXPECT_EQ(slow.firstTiles, std::size_t((t.widthPx + t.tileSizePx - 1) / t.tileSizePx) *
                                     ((t.heightPx + t.tileSizePx - 1) / t.tileSizePx));
    }
    // The fast one stays at the top, and keeps being served.
    const std::uint64_t before = view->updatesApplied();
    ASSERT_TRUE(waitFor([&] { return view->updatesApplied() >= before + 3; }, 10000));
    const auto s = view->stats().snapshot(base::monoUs());
    EXPECT_EQ(s.tier, 0);
    EXPECT_EQ(s.tierSwitches, 0u);
    const auto hub = host.screenHub().stats();
    EXPECT_EQ(hub.viewersOnTier[0], 1u);
    EXPECT_EQ(hub.viewersOnTier[std::size_t(tier)], 1u);
    std::printf("[figure] slow viewer (400 ms per update) on tier %d, fast one on tier 0; hub: %llu tier switches\n",
                tier, static_cast<unsigned long long>(hub.tierSwitches));
  }

  session::HostSession host;
  ScreenMember fast;
  SlowViewer slow;
};

}  // namespace

TEST_F(ScreenTiers, TheHostsShareServesASlowViewerALowerTier) {
  std::string error;
  ASSERT_TRUE(host.startSharing(std::make_unique<capture::SyntheticSource>(640, 384, capture::SceneMotion::Full),
                                settings(), 2, error)) << error;
  watchFastAndSlow();
  // The host's pipeline encoded the lower tier too (each once, whoever watches it).
  EXPECT_GT(host.sharePipeline()->stats().tierTiles, 0u);
}

TEST_F(ScreenTiers, AClientsShareServesASlowViewerALowerTier) {
  ScreenMember alice;
  alice.join(host, "alice");
  std::string error;
  ASSERT_TRUE(alice.screen.startSharing(std::make_unique<capture::SyntheticSource>(640, 384, capture::SceneMotion::Full),
                                        settings(), 2, error)) << error;
  ASSERT_TRUE(waitFor([&] { return !host.screenHub().streams().empty(); }, 5000));
  watchFastAndSlow();
  EXPECT_GT(alice.screen.sharePipeline()->stats().tierTiles, 0u);
}
