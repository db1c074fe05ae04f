// The capture pipeline behind a TierGate, as both publishers (the host's own and a client's)
// run it: a tier let go and wanted again between two frames, its bit never seen off, is still
// sent whole again, on a screen where nothing changes (so nothing else would send it).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <thread>

#include "capture/capture_pipeline.h"
#include "capture/synthetic_source.h"
#include "net/screen_tiers.h"

using namespace huddle;

namespace {

TEST(TierGatePipeline, ATierTurnedOffAndOnBetweenTwoFramesIsSentWholeAgain) {
  std::mutex m;
  std::vector<capture::EncodedUpdate> updates;
  net::WantedTiers wanted{.mask = 3, .restarts = {}};
  capture::CaptureSettings s;
  s.fps = 60;
  s.sharpWhenStill = false;
  capture::CapturePipeline p(std::make_unique<capture::SyntheticSource>(320, 256, capture::SceneMotion::Static), s, 1,
                             [&](capture::EncodedUpdate&& u) {
                               std::lock_guard lock(m);
                               updates.push_back(std::move(u));
                             });
  p.setTierGate([&, gate = net::TierGate()]() mutable {
    net::WantedTiers w;
    {
      std::lock_guard lock(m);
      w = wanted;
    }
    return gate.poll(w);
  });
  auto wholeOf = [&](int tier) {
    std::lock_guard lock(m);
    return std::count_if(updates.begin(), updates.end(),
                         [&](const capture::EncodedUpdate& u) { return u.tier == tier && u.full; });
  };
  auto framesSeen = [&] { return p.stats().framesCaptured; };
  auto waitFor = [](auto done) {
    for (int i = 0; i < 1000 && !done(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return done();
  };
  std::string error;
  ASSERT_TRUE(p.start(error)) << error;
  // Both tiers whole once; then nothing (the screen is still).
  ASSERT_TRUE(waitFor([&] { return wholeOf(0) >= 1 && wholeOf(1) >= 1; }));
  const auto settled = framesSeen();
  ASSERT_TRUE(waitFor([&] { return framesSeen() >= settled + 5; }));
  EXPECT_EQ(wholeOf(1), 1);
  // The host let tier 1 go and wants it again, all between two looks: the mask is as before.
  {
    std::lock_guard lock(m);
    ++wanted.restarts[1];
  }
  EXPECT_TRUE(waitFor([&] { return wholeOf(1) >= 2; })) << "tier 1 was not sent whole again";
  // The top was never let go: not sent again.
  const auto after = framesSeen();
  ASSERT_TRUE(waitFor([&] { return framesSeen() >= after + 5; }));
  p.stop();
  EXPECT_EQ(wholeOf(0), 1);
  EXPECT_EQ(wholeOf(1), 2);
}

}  // namespace
