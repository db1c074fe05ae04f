// CreditReturns on a fake clock: which credits a viewer sends back at once, which it holds to
// pair with the next, and when a held one goes back alone.
#include <gtest/gtest.h>

#include "net/screen_credits.h"

namespace huddle::net {
namespace {

constexpr std::int64_t kMs = 1000;
constexpr std::uint64_t kSubA = 1, kSubB = 2;  // two watches of a stream

TEST(ScreenCredits, UpdatesComingFastHaveTheirCreditsSentInPairs) {
  CreditReturns c;
  std::int64_t now = 0;
  std::vector<int> sent;
  for (int i = 0; i < 9; ++i, now += 16 * kMs) sent.push_back(c.decoded({1, kSubA, now, now, false, false}, now + 2 * kMs));
  // The first has none before it; then every other one is held and goes with the next.
  EXPECT_EQ(sent, (std::vector<int>{1, 0, 2, 0, 2, 0, 2, 0, 2}));
  EXPECT_EQ(c.held(), 0u);
  EXPECT_EQ(c.nextDueUs(), -1);
}

TEST(ScreenCredits, AHeldCreditGoesBackAloneWhenNoUpdateFollows) {
  CreditReturns c;
  EXPECT_EQ(c.decoded({1, kSubA, 0, 0, false, false}, 3 * kMs), 1);
  EXPECT_EQ(c.decoded({1, kSubA, 16 * kMs, 16 * kMs, false, false}, 19 * kMs), 0);
  EXPECT_EQ(c.nextDueUs(), 19 * kMs + kCreditHoldUs);
  EXPECT_TRUE(c.due(19 * kMs + kCreditHoldUs - 1).empty());
  std::vector<CreditReturns::Due> due = c.due(19 * kMs + kCreditHoldUs);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].streamId, 1u);
  EXPECT_EQ(due[0].subscription, kSubA);
  EXPECT_EQ(due[0].credits, 1);
  EXPECT_EQ(c.held(), 0u);
  EXPECT_TRUE(c.due(200 * kMs).empty()) << "taken once";
}

TEST(ScreenCredits, NoCreditIsHeldForAViewerBehindAFailedDecodeOrAFarApartUpdate) {
  CreditReturns c;
  EXPECT_EQ(c.decoded({1, kSubA, 0, 0, false, false}, kMs), 1);
  // More updates wait: the host may be waiting on this one.
  EXPECT_EQ(c.decoded({1, kSubA, 5 * kMs, 5 * kMs, true, false}, 6 * kMs), 1);
  // A failed decode asks for a refresh at once.
  EXPECT_EQ(c.decoded({1, kSubA, 10 * kMs, 10 * kMs, false, true}, 11 * kMs), 1);
  // Far apart: a paced link, or a quiet screen.
  EXPECT_EQ(c.decoded({1, kSubA, 10 * kMs + kCreditPairGapUs + 1, 10 * kMs + kCreditPairGapUs + 1, false, false}, 60 * kMs), 1);
  // Held, then a failed decode sends both.
  EXPECT_EQ(c.decoded({1, kSubA, 70 * kMs, 70 * kMs, false, false}, 71 * kMs), 0);
  EXPECT_EQ(c.decoded({1, kSubA, 80 * kMs, 80 * kMs, false, true}, 81 * kMs), 2);
  EXPECT_EQ(c.held(), 0u);
}

// 50 Mbit/s carrying 200 KB updates: each takes 32 ms to come, one every 35 ms. The host keeps
// a second update behind the first on such a link; holding a credit would leave it none.
TEST(ScreenCredits, ALinkBusyCarryingTheUpdatesGetsEachCreditAtOnce) {
  CreditReturns c;
  std::int64_t arrived = 32 * kMs;
  for (int i = 0; i < 6; ++i, arrived += 35 * kMs)
    EXPECT_EQ(c.decoded({1, kSubA, arrived - 32 * kMs, arrived, false, false}, arrived + 3 * kMs), 1) << i;
  // The same link carrying small updates is idle most of the time: those pair.
  EXPECT_EQ(c.decoded({1, kSubA, arrived - 5 * kMs, arrived, false, false}, arrived + kMs), 0);
  arrived += 35 * kMs;
  EXPECT_EQ(c.decoded({1, kSubA, arrived - 5 * kMs, arrived, false, false}, arrived + kMs), 2);
}

TEST(ScreenCredits, StreamsPairApartAndAStreamWatchedAfreshForgetsTheOldHold) {
  CreditReturns c;
  EXPECT_EQ(c.decoded({1, kSubA, 0, 0, false, false}, kMs), 1);
  EXPECT_EQ(c.decoded({2, kSubA, 0, 0, false, false}, kMs), 1);
  EXPECT_EQ(c.decoded({1, kSubA, 10 * kMs, 10 * kMs, false, false}, 11 * kMs), 0);
  EXPECT_EQ(c.decoded({2, kSubA, 12 * kMs, 12 * kMs, false, false}, 13 * kMs), 0);
  EXPECT_EQ(c.held(), 2u);
  EXPECT_EQ(c.decoded({2, kSubA, 20 * kMs, 20 * kMs, false, false}, 21 * kMs), 2);
  // Stream 1 unwatched and watched again: its held credit belonged to the old subscription,
  // and the new one's first update has none before it.
  EXPECT_EQ(c.decoded({1, kSubB, 25 * kMs, 25 * kMs, false, false}, 26 * kMs), 1);
  EXPECT_EQ(c.held(), 0u);
  EXPECT_TRUE(c.due(500 * kMs).empty());
}

}  // namespace
}  // namespace huddle::net
