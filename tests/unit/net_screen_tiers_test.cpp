// TierPolicy on a fake clock: round trips in, tiers out.
#include <gtest/gtest.h>

#include "net/screen_tiers.h"

namespace huddle::net {
namespace {

constexpr std::int64_t kMs = 1000;

// A viewer that answers each update `delayMs` after it was queued, one update every `everyMs`,
// for `forMs`; ticks after each. Returns the clock at the end.
std::int64_t run(TierPolicy& p, std::int64_t nowUs, std::int64_t delayMs, std::int64_t everyMs, std::int64_t forMs,
                 std::size_t bytes = 50'000) {
  const std::int64_t end = nowUs + forMs * kMs;
  while (nowUs < end) {
    p.sent(bytes, nowUs);
    nowUs += delayMs * kMs;
    p.acked(nowUs);
    p.tick(nowUs);
    nowUs += std::max<std::int64_t>(0, everyMs - delayMs) * kMs;
    p.tick(nowUs);
  }
  return nowUs;
}

TEST(ScreenTiers, AFastViewerStaysOnTop) {
  TierPolicy p;
  p.reset(0, 0);
  run(p, 0, 20, 33, 60'000);
  EXPECT_EQ(p.tier(), 0);
  EXPECT_EQ(p.drops(), 0u);
  EXPECT_EQ(p.delayUs(), 20 * kMs);
  EXPECT_NEAR(p.rateBytesPerSec(), 50'000 * 1000.0 / 20, 1);
}

TEST(ScreenTiers, ASlowViewerDropsOneTierAtATime) {
  TierPolicy p;
  p.reset(0, 0);
  // Long round trips: dropped once the hold has passed and enough were seen...
  std::int64_t now = run(p, 0, 900, 900, 2'700);
  EXPECT_EQ(p.tier(), 1);
  // ...then not again before the hold time at the new tier.
  now = run(p, now, 900, 900, 1'800);
  EXPECT_EQ(p.tier(), 1);
  now = run(p, now, 900, 900, 2'700);
  EXPECT_EQ(p.tier(), 2);
  // Never below the lowest.
  run(p, now, 900, 900, 20'000);
  EXPECT_EQ(p.tier(), 2);
  EXPECT_EQ(p.drops(), 2u);
}

TEST(ScreenTiers, OneSlowFullImageDoesNotDrop) {
  TierPolicy p;
  p.reset(0, 0);
  std::int64_t now = run(p, 0, 20, 33, 3'000);
  // The full image after a refresh takes long; the median of the window outvotes it.
  now = run(p, now, 1'500, 1'500, 1'500);
  run(p, now, 20, 33, 3'000);
  EXPECT_EQ(p.tier(), 0);
}

TEST(ScreenTiers, AnUnansweredUpdateDrops) {
  TierPolicy p;
  p.reset(0, 0);
  std::int64_t now = run(p, 0, 20, 33, 3'000);
  p.sent(1'000'000, now);  // and no credit comes back
  for (int i = 0; i < 100; ++i) p.tick(now += 10 * kMs);
  EXPECT_EQ(p.tier(), 0);  // 1 s: not yet
  for (int i = 0; i < 150; ++i) p.tick(now += 10 * kMs);
  EXPECT_EQ(p.tier(), 1);
  // The stalled update does not count again at the new tier right away.
  for (int i = 0; i < 100; ++i) p.tick(now += 10 * kMs);
  EXPECT_EQ(p.tier(), 1);
}

TEST(ScreenTiers, ProbesUpAndBacksOffWhenTheProbeFails) {
  TierPolicyConfig c;
  TierPolicy p(c);
  p.reset(1, 0);
  // Fine at tier 1: up after the probe wait, not before.
  std::int64_t now = run(p, 0, 50, 100, c.probeUs / kMs - 500);
  EXPECT_EQ(p.tier(), 1);
  now = run(p, now, 50, 100, 1'000);
  EXPECT_EQ(p.tier(), 0);
  EXPECT_EQ(p.raises(), 1u);
  // The top is too much: back down, and the next probe waits twice as long.
  now = run(p, now, 900, 900, 3'600);
  EXPECT_EQ(p.tier(), 1);
  EXPECT_EQ(p.probeWaitUs(), 2 * c.probeUs);
  now = run(p, now, 50, 100, c.probeUs / kMs + 500);
  EXPECT_EQ(p.tier(), 1);  // still waiting
  now = run(p, now, 50, 100, c.probeUs / kMs);
  EXPECT_EQ(p.tier(), 0);
  // This one holds: the wait is back to its base.
  run(p, now, 50, 100, (c.holdUs + 2 * c.probeUs) / kMs + 1'000);
  EXPECT_EQ(p.tier(), 0);
  EXPECT_EQ(p.probeWaitUs(), c.probeUs);
}

TEST(ScreenTiers, CreditsWithNothingInFlightAreIgnored) {
  TierPolicy p;
  p.reset(0, 0);
  for (int i = 0; i < 10; ++i) p.acked(i * kMs);
  EXPECT_EQ(p.delayUs(), 0);
  EXPECT_EQ(p.tick(10'000 * kMs), 0);
}

TEST(ScreenTiers, ResetStartsOverWithinRange) {
  TierPolicy p;
  p.reset(7, 0);
  EXPECT_EQ(p.tier(), kScreenTiers - 1);
  p.reset(-1, 0);
  EXPECT_EQ(p.tier(), 0);
}

}  // namespace
}  // namespace huddle::net
