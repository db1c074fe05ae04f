// The capture pipeline's quality tiers: only the wanted ones are encoded, each at its own
// size and quality, and one that comes on is sent whole.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "capture/capture_pipeline.h"
#include "capture/synthetic_source.h"

using namespace huddle;
using namespace huddle::capture;

namespace {

TEST(PipelineTiers, SettingsStepDownFromTheSharers) {
  CaptureSettings top;
  top.quality = 85;
  top.scalePercent = 100;
  top.subsampling = Subsampling::S444;
  EXPECT_EQ(tierSettings(top, 0).quality, 85);
  EXPECT_EQ(tierSettings(top, 1).scalePercent, 75);
  EXPECT_EQ(tierSettings(top, 1).quality, 60);
  EXPECT_EQ(tierSettings(top, 1).subsampling, Subsampling::S420);
  EXPECT_FALSE(tierSettings(top, 1).sharpWhenStill);
  EXPECT_EQ(tierSettings(top, 2).scalePercent, 50);
  EXPECT_EQ(tierSettings(top, 2).quality, 40);
  // Never above the sharer's own.
  top.quality = 30;
  top.scalePercent = 75;
  EXPECT_EQ(tierSettings(top, 1).quality, 30);
  EXPECT_EQ(tierSettings(top, 1).scalePercent, 50);
}

TEST(PipelineTiers, OnlyWantedTiersAreEncodedEachWholeWhenItComesOn) {
  std::mutex m;
  std::vector<EncodedUpdate> updates;
  std::atomic<std::uint8_t> wanted{1};
  CaptureSettings s;
  s.fps = 60;
  CapturePipeline p(std::make_unique<SyntheticSource>(320, 256, SceneMotion::Partial), s, 2, [&](EncodedUpdate&& u) {
    std::lock_guard lock(m);
    updates.push_back(std::move(u));
  });
  p.setTierGate([&] { return wanted.load(); });
  auto countOf = [&](int tier) {
    std::lock_guard lock(m);
    return std::count_if(updates.begin(), updates.end(), [&](const EncodedUpdate& u) { return u.tier == tier; });
  };
  auto waitFor = [](auto done) {
    for (int i = 0; i < 500 && !done(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return done();
  };
  std::string error;
  ASSERT_TRUE(p.start(error)) << error;
  ASSERT_TRUE(waitFor([&] { return countOf(0) >= 3; }));
  EXPECT_EQ(countOf(1), 0);
  EXPECT_EQ(countOf(2), 0);
  // Tier 2 alone (nobody on the top): the top stops, tier 2 starts whole at half size.
  wanted = 4;
  ASSERT_TRUE(waitFor([&] { return countOf(2) >= 3; }));
  p.stop();
  std::lock_guard lock(m);
  const auto first2 = std::find_if(updates.begin(), updates.end(), [](const EncodedUpdate& u) { return u.tier == 2; });
  ASSERT_NE(first2, updates.end());
  EXPECT_EQ(first2->widthPx, 160u);
  EXPECT_EQ(first2->heightPx, 128u);
  EXPECT_TRUE(first2->full);
  EXPECT_EQ(first2->tiles.size(), 3u * 2u);
  EXPECT_TRUE(first2->copies.empty());
  // Once tier 2 is on, no more of the top (the frame in hand when it changed aside).
  const std::size_t tops =
      std::count_if(first2, updates.end(), [](const EncodedUpdate& u) { return u.tier == 0; });
  EXPECT_LE(tops, 1u);
  EXPECT_GT(p.stats().tierTiles, 0u);
}

}  // namespace
