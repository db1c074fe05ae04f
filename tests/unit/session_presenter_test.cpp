// Our own pointer's pacing, on a fake clock: what goes to the host, and when.
#include <gtest/gtest.h>

#include "app/session/chat_log.h"
#include "app/session/participant_colour.h"
#include "app/session/presenter.h"
#include "net/wire/limits.h"

using namespace huddle;
using namespace huddle::session;

namespace {
constexpr std::int64_t kT0 = 1'000'000'000;
constexpr std::int64_t kMs = 1000;
}  // namespace

TEST(PointerPacer, APressGoesAtOnceMovesAtTheRateAndOneGoneOnRelease) {
  PointerPacer p;
  EXPECT_FALSE(p.next(kT0)) << "nothing held, nothing shown";
  p.hold(10, 20);
  auto s = p.next(kT0);
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->present);
  EXPECT_EQ(s->x, 10);
  EXPECT_EQ(s->y, 20);
  EXPECT_TRUE(p.shown());
  EXPECT_FALSE(p.next(kT0 + 1 * kMs)) << "held still: nothing until the keep-alive";
  // A move within the rate's gap waits; the newest position goes once the gap is over.
  p.hold(11, 20);
  p.hold(12, 21);
  EXPECT_FALSE(p.next(kT0 + 5 * kMs));
  s = p.next(kT0 + 18 * kMs);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->x, 12);
  EXPECT_EQ(s->y, 21);
  // A steady drag at 120 Hz sends at most kPointerPositionsPerSec a second.
  int sent = 0;
  for (int i = 0; i < 120; ++i) {
    const std::int64_t now = kT0 + 18 * kMs + (i + 1) * 1'000'000 / 120;
    p.hold(100 + i, 50);
    if (p.next(now)) ++sent;
  }
  EXPECT_LE(sent, int(wire::kPointerPositionsPerSec));
  EXPECT_GE(sent, int(wire::kPointerPositionsPerSec) / 2);
  // Released: one gone, then nothing; idle.
  p.release();
  s = p.next(kT0 + 2'000 * kMs);
  ASSERT_TRUE(s);
  EXPECT_FALSE(s->present);
  EXPECT_FALSE(p.next(kT0 + 2'001 * kMs));
  EXPECT_TRUE(p.idle());
}

TEST(PointerPacer, HeldStillItIsSentAgainEveryKeepAliveAndAfterALoss) {
  PointerPacer p;
  p.hold(5, 6);
  ASSERT_TRUE(p.next(kT0));
  const std::int64_t keep = std::int64_t(wire::kPointerKeepAliveMs) * kMs;
  EXPECT_FALSE(p.next(kT0 + keep - 1));
  auto s = p.next(kT0 + keep);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->x, 5);
  EXPECT_FALSE(p.next(kT0 + keep + 1));
  // The screen port was lost: the host forgot it, so it goes again at the next chance.
  p.lost();
  EXPECT_FALSE(p.shown());
  s = p.next(kT0 + keep + 20 * kMs);
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->present);
  // Released while lost: no gone is owed.
  p.lost();
  p.release();
  EXPECT_FALSE(p.next(kT0 + 2 * keep));
  EXPECT_TRUE(p.idle());
}

TEST(PointerPacer, StaysWellUnderTheKeepAliveAsSeenByViewers) {
  // The keep-alive is what keeps a held pointer from going stale on viewers.
  EXPECT_LT(wire::kPointerKeepAliveMs * 2, wire::kPointerStaleMs);
}

// One colour per person everywhere: the user list and pointers use participantColour(id), and
// a name in the chat takes its person's while they are here.
TEST(ParticipantColour, ANameInTheChatHasItsPersonsColour) {
  ChatLog log;
  net::ChatClientEvent ev;
  ev.kind = net::ChatClientEvent::Kind::Users;
  ev.users = {{1, "alice", wire::UserInfo::kFlagHost}, {2, "bob", 0}, {7, "carol", 0}};
  log.apply(ev);
  EXPECT_EQ(log.colourOf("bob"), participantColour(2));
  EXPECT_EQ(log.colourOf("carol"), participantColour(7));
  EXPECT_NE(log.colourOf("alice"), log.colourOf("bob"));
  // Someone who left: still a palette colour, the same each time.
  EXPECT_EQ(log.colourOf("dave"), colourForName("dave"));
  bool inPalette = false;
  for (std::uint32_t c : kParticipantPalette) inPalette |= c == log.colourOf("dave");
  EXPECT_TRUE(inPalette);
  // Neighbouring ids differ.
  for (std::uint32_t id = 1; id < 20; ++id) EXPECT_NE(participantColour(id), participantColour(id + 1));
}
