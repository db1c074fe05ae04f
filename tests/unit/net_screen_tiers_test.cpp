// TierPolicy on a fake clock: round trips in, tiers out; and the hub serving each viewer
// its tier (socket-free, on the same fake clock).
#include <gtest/gtest.h>

#include <atomic>
#include <deque>
#include <map>

#include "net/screen_tiers.h"
#include "tests/unit/net_screen_support.h"

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
  TierPolicyConfig c;
  c.minUpdatesPerSec = 0;  // the round trip alone (a link this slow drops two: below)
  TierPolicy p(c);
  p.reset(0, 0);
  // Long round trips: dropped once the hold has passed and enough were seen...
  std::int64_t now = run(p, 0, 900, 900, 4'500);
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
  // The top is too much (8 updates a second): back down, and the next probe waits twice as long.
  now = run(p, now, 125, 125, 2'400);
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

// Full motion over a link that carries 1 MB/s: one 130 KB update after another, each done
// 130 ms after it left. The round trip is under the drop delay, but 7.7 updates a second is
// under the floor: down to a tier whose updates the link carries 13 times a second, and no
// probe back up while the top's size is still too much for the link. When the picture goes
// still (small updates, an idle link), it goes back up.
TEST(ScreenTiers, ALinkThatCarriesTooFewUpdatesOfATierDropsItAndProbesUpOnlyWithRoom) {
  TierPolicyConfig c;
  TierPolicy p(c);
  p.reset(0, 0);
  std::int64_t now = run(p, 0, 130, 130, 3'000, 130'000);
  EXPECT_EQ(p.tier(), 1);
  EXPECT_LT(p.delayUs(), c.dropDelayUs);
  EXPECT_GT(p.busyShare(), 0.9);
  now = run(p, now, 75, 75, 3 * c.probeUs / kMs, 75'000);
  EXPECT_EQ(p.tier(), 1);
  EXPECT_NEAR(p.updatesPerSecCarried(), 1000.0 / 75, 0.5);
  EXPECT_EQ(p.raises(), 0u);
  EXPECT_EQ(p.drops(), 1u);
  // Still: a small update now and then, the link idle nearly all the time.
  run(p, now, 10, 500, c.probeUs / kMs + 2'000, 5'000);
  EXPECT_EQ(p.tier(), 0);
}

// 300 KB updates on that link: 3.3 a second, under half the floor: two tiers at once.
TEST(ScreenTiers, ALinkFarBelowTheFloorDropsTwoTiersAtOnce) {
  TierPolicy p;
  p.reset(0, 0);
  run(p, 0, 300, 300, 3'000, 300'000);
  EXPECT_EQ(p.tier(), 2);
  EXPECT_EQ(p.drops(), 1u);
}

// A viewer behind the copies the host keeps waits for the sharer's refresh before each update
// (seen at 8 Mbit/s on the top: 600 ms waits, then 200 ms on the link). Here each update then
// takes 50 ms: alone that is 20 a second, but counting the waits as the link's time it carries
// 1.5 a second: two tiers down.
TEST(ScreenTiers, WaitsForARefreshCountAsTheLinksTime) {
  TierPolicy p;
  p.reset(0, 0);
  std::int64_t now = 0;
  for (int i = 0; i < 20 && p.tier() == 0; ++i) {
    for (int k = 0; k < 60; ++k, now += 10 * kMs) {
      p.starved(now);
      p.tick(now);
    }
    p.sent(50'000, now);
    now += 50 * kMs;
    p.acked(now);
    p.tick(now);
  }
  EXPECT_EQ(p.tier(), 2);
  EXPECT_LT(p.delayUs(), TierPolicyConfig{}.dropDelayUs);
}

// Paced: as many updates in flight as fit in the queue target at the link's pace, never none.
TEST(ScreenTiers, UpdatesInFlightAreCappedByTheTimeTheLinkTakesForEach) {
  TierPolicyConfig c;
  TierPolicy p(c);
  p.reset(0, 0);
  EXPECT_TRUE(p.mayQueue());  // nothing known yet: credits alone bound it
  std::int64_t now = run(p, 0, 50, 50, 1'000, 40'000);  // 50 ms an update: 1 + 90 / 50 = 2 in flight
  p.sent(40'000, now);
  EXPECT_TRUE(p.mayQueue());
  p.sent(40'000, now);
  EXPECT_FALSE(p.mayQueue());
  p.acked(now += 50 * kMs);
  EXPECT_TRUE(p.mayQueue());
  p.acked(now += 50 * kMs);
  // A fast link: 5 ms each, as many as credits allow.
  now = run(p, now, 5, 5, 200, 40'000);
  for (int i = 0; i < 4; ++i) {
    EXPECT_TRUE(p.mayQueue()) << i;
    p.sent(40'000, now);
  }
}

// A still page on the same link: one big update a second (a slide changes) keeps the link
// busy an eighth of the time; the viewer stays on top, sharp.
TEST(ScreenTiers, ALinkBusyNowAndThenKeepsTheTop) {
  TierPolicy p;
  p.reset(0, 0);
  run(p, 0, 130, 1'000, 20'000, 130'000);
  EXPECT_EQ(p.tier(), 0);
  EXPECT_LT(p.busyShare(), 0.2);
  EXPECT_LT(p.updatesPerSecCarried(), 10);
}

// A viewer of a 60 fps stream holds every other credit until the next update is decoded
// (net/screen_credits.h): the older update of a pair reads 16 ms slower than it was. Only the
// newest is measured: the round trip and the link's time are the true 5 ms, and the viewer
// stays on top with nothing left in flight.
TEST(ScreenTiers, CreditsSentTogetherMeasureOnlyTheNewestUpdate) {
  TierPolicy p;
  p.reset(0, 0);
  std::int64_t now = 0;
  for (int pair = 0; pair < 300; ++pair) {
    p.sent(20'000, now);
    now += 16 * kMs;
    p.sent(20'000, now);
    now += 5 * kMs;
    p.acked(now, 2);
    p.tick(now);
    now += 11 * kMs;
  }
  EXPECT_EQ(p.delayUs(), 5 * kMs);
  EXPECT_NEAR(p.updatesPerSecCarried(), 200, 1);
  EXPECT_EQ(p.inFlight(), 0u);
  EXPECT_EQ(p.tier(), 0);
  // More credits than updates in flight: the rest are a grant, as alone.
  p.sent(20'000, now);
  p.acked(now += 7 * kMs, 3);
  EXPECT_EQ(p.inFlight(), 0u);
  EXPECT_EQ(p.delayUs(), 5 * kMs) << "the median of 5, 5, 5, 5, 7";
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

// [SECTION] the tier gate

TEST(ScreenTiers, TheGateShowsATierThatRestartedOffForOneLook) {
  TierGate gate;
  WantedTiers w{.mask = 3, .restarts = {}};
  EXPECT_EQ(gate.poll(w), 3);
  // Tier 1 let go and wanted again between two looks: the mask alone never showed it.
  ++w.restarts[1];
  EXPECT_EQ(gate.poll(w), 1);
  EXPECT_EQ(gate.poll(w), 3);
  EXPECT_EQ(gate.poll(w), 3);
  // A tier let go and still off: nothing to show.
  w.mask = 1;
  ++w.restarts[1];
  EXPECT_EQ(gate.poll(w), 1);
  EXPECT_EQ(gate.poll(w), 1);
}

TEST(ScreenTiers, TheGateNeverShowsNoTiersForARestart) {
  // The top alone restarted: no bits would read as the top, so a tier nobody wants shows
  // instead (its frame is dropped), and the top is back next look.
  TierGate gate;
  WantedTiers w{.mask = 1, .restarts = {}};
  EXPECT_EQ(gate.poll(w), 1);
  ++w.restarts[0];
  EXPECT_EQ(gate.poll(w), 4);
  EXPECT_EQ(gate.poll(w), 1);
  // All three wanted and restarted: one stays on this look and is shown off at the next.
  w.mask = 7;
  EXPECT_EQ(gate.poll(w), 7);
  for (auto& r : w.restarts) ++r;
  EXPECT_EQ(gate.poll(w), 4);
  EXPECT_EQ(gate.poll(w), 3);
  EXPECT_EQ(gate.poll(w), 7);
  // No stream: nothing to say.
  EXPECT_EQ(TierGate().poll(WantedTiers{.mask = 0, .restarts = {}}), 0);
}

TEST(ScreenTiers, TheGateNeverShowsTheTopForNobody) {
  // Both lower tiers wanted (nobody on the top) and both restarted at once: the lowest stays
  // on and is seen off next look, rather than a whole frame of the top encoded for nothing.
  TierGate gate;
  WantedTiers w{.mask = 6, .restarts = {}};
  EXPECT_EQ(gate.poll(w), 6);
  ++w.restarts[1];
  ++w.restarts[2];
  EXPECT_EQ(gate.poll(w), 4);
  EXPECT_EQ(gate.poll(w), 2);
  EXPECT_EQ(gate.poll(w), 6);
  // One lower tier wanted alone and restarted: another lower tier shows for it, not the top.
  for (std::uint8_t mask : {std::uint8_t(2), std::uint8_t(4)}) {
    w.mask = mask;
    EXPECT_EQ(gate.poll(w), mask);
    ++w.restarts[mask == 2 ? 1 : 2];
    EXPECT_EQ(gate.poll(w), mask == 2 ? 4 : 2) << int(mask);
    EXPECT_EQ(gate.poll(w), mask);
  }
}

// Quiet (no ticks needed) only once the link's busy time is measured: a burst that kept a slow
// link busy most of a second, then stopped, still drops the tier at the second's end.
TEST(ScreenTiers, ABurstThatEndsIsMeasuredBeforeThePolicyCallsItselfQuiet) {
  TierPolicy p;
  p.reset(0, 0);
  p.tick(1'000'000);
  p.tick(2'000'000);  // a window starts
  std::int64_t now = 2'000'000;
  for (int i = 0; i < 4; ++i) {  // 200 ms an update: 5 a second, under the floor
    p.sent(50'000, now);
    now += 200'000;
    p.acked(now);
  }
  EXPECT_EQ(p.inFlight(), 0u);
  EXPECT_EQ(p.dueUs(now), now);
  EXPECT_GT(p.tick(3'000'000), 0);
}

// What the hub's watchdog sleeps to: now while an update is out or its second's busy time is
// still to be measured; at the top, idle, never; below the top, idle, the probe's time, and
// past it once a second.
TEST(ScreenTiers, ThePolicySaysWhenItsNextTickIsDue) {
  TierPolicy p;
  p.reset(0, 0);
  EXPECT_EQ(p.dueUs(500'000), -1);
  p.sent(1000, 500'000);
  EXPECT_EQ(p.dueUs(510'000), 510'000);
  p.acked(520'000);
  EXPECT_EQ(p.dueUs(530'000), 530'000);  // busy this second: still to be measured
  p.tick(1'600'000);
  EXPECT_EQ(p.dueUs(1'600'000), -1);
  p.reset(1, 2'000'000);
  const std::int64_t probeAt = 2'000'000 + p.probeWaitUs();
  EXPECT_EQ(p.dueUs(2'000'000), probeAt);
  EXPECT_EQ(p.dueUs(probeAt + 5), probeAt + 5 + 1'000'000);
  p.sent(1000, probeAt + 10);
  EXPECT_EQ(p.dueUs(probeAt + 20), probeAt + 20);

  // A slow link: a drop is due once the last change has held; at the lowest tier, none is.
  TierPolicyConfig config;
  config.lowestTier = 2;
  TierPolicy slow(config);
  slow.reset(1, 0);
  std::int64_t now = 0;
  auto slowRoundTrips = [&] {  // each over the drop delay, then the second's busy time measured
    for (int i = 0; i < kTierMinSamples; ++i) {
      slow.sent(1000, now);
      now += config.dropDelayUs + 100'000;
      slow.acked(now);
    }
    now += 1'000'000;
    slow.tick(now);
  };
  slowRoundTrips();  // the drop comes when the reset (a change) has held
  ASSERT_EQ(slow.tier(), 2);
  slowRoundTrips();
  EXPECT_EQ(slow.tier(), 2);
  EXPECT_GT(slow.dueUs(now), now) << "at the lowest tier a slow link has no drop to wait for";
}

// [SECTION] the hub

using namespace test;

// A hub on a fake clock, a publisher of a 320 x 192 stream (tiles of 64) that encodes the
// tiers it is told are wanted (tier t at 1/(t+1) of the size), and viewers whose credits come
// back `delayMs` after each update reached them.
struct TierRig {
  std::int64_t now = kT0;
  ScreenHub hub;
  Peer sharer;
  std::uint32_t stream = 0;
  std::uint8_t wanted = 1;
  std::uint64_t seq = 0;
  struct Viewer {
    Peer peer;
    std::int64_t delayMs = 0;
    std::size_t seen = 0;                 // updates looked at
    std::multimap<std::int64_t, int> due;  // when each credit goes back
    std::size_t mostInFlight = 0;         // updates it held at once (credits not yet back)
  };
  std::deque<Viewer> viewers;  // references stay valid as viewers come

  static ScreenHubConfig config(std::int64_t* clock) {
    ScreenHubConfig c;
    c.clock = [clock] { return *clock; };
    return c;
  }
  TierRig()
      : hub(config(&now),
            [](std::uint64_t token, ScreenSeat& seat) {
              seat.participantId = static_cast<std::uint32_t>(token);
              seat.name = "p" + std::to_string(token);
              return true;
            },
            [](std::uint32_t, bool) {}) {
    sharer = join(hub, 1, now);
    stream = publish(hub, sharer, 320, 192, 64);
    publishFrame(true);
  }

  static std::uint32_t side(std::uint32_t full, int tier) { return full / std::uint32_t(tier + 1); }

  // One frame: every wanted tier, whole (the rig's content changes everywhere, each frame).
  void publishFrame(bool onlyTop = false) {
    for (const auto& f : decodedOf<wire::TiersWanted>(*sharer.link)) wanted = f.mask;
    sharer.link->frames.clear();
    ++seq;
    for (int t = 0; t < kScreenTiers; ++t) {
      if (!(wanted >> t & 1) || (onlyTop && t > 0)) continue;
      const std::uint32_t w = side(320, t), h = side(192, t);
      wire::TileBatch b = batchOf(w, h, 64, seq);
      for (std::uint16_t ty = 0; ty * 64u < h; ++ty)
        for (std::uint16_t tx = 0; tx * 64u < w; ++tx) b.tiles.push_back(scanTile(tx, ty, 2000 / (t + 1)));
      if (t == 0) feedTiles(hub, sharer.id, b, now);
      else hub.receive(sharer.id, base::view(wire::encodeTierTiles(std::uint8_t(t), b)), now);
    }
  }

  Viewer& watch(std::uint64_t token, std::int64_t delayMs) {
    Viewer v;
    v.peer = join(hub, token, now);
    v.delayMs = delayMs;
    viewers.push_back(std::move(v));
    feed(hub, viewers.back().peer.id, wire::Subscribe{.streamId = stream, .credits = 2}, now);
    return viewers.back();
  }

  // Runs `ms` of the clock in steps of 10 ms, a frame every 100 ms.
  void run(std::int64_t ms) {
    for (std::int64_t step = 0; step < ms / 10; ++step) {
      now += 10'000;
      if (step % 10 == 0) publishFrame();
      for (auto& v : viewers) {
        // Updates that arrived: each is done (its credit back) delayMs later.
        const auto updates = v.peer.link->of(wire::ScreenType::Update);
        for (; v.seen < updates.size(); ++v.seen) v.due.emplace(now + v.delayMs * 1000, 1);
        v.mostInFlight = std::max(v.mostInFlight, v.due.size());
        hub.drained(v.peer.id, 1);
        returnCredits(v);
      }
      hub.tick(now);
    }
  }

  // The credits `v` owes by now go back.
  void returnCredits(Viewer& v) {
    while (!v.due.empty() && v.due.begin()->first <= now) {
      feed(hub, v.peer.id, wire::UpdateRequest{.streamId = stream, .credits = 1}, now);
      v.due.erase(v.due.begin());
    }
  }
};

// Every update a viewer got after its last TierSwitch, and that switch.
struct Served {
  wire::TierSwitch tier;
  std::vector<wire::TileBatch> updates;
};
Served served(RecordingLink& link) {
  Served out;
  for (const auto& f : link.snapshot()) {
    const int type = f->at(4) | f->at(5) << 8;
    if (type == int(wire::ScreenType::TierSwitch)) {
      out.tier = decodeFrame<wire::TierSwitch>(f);
      out.updates.clear();
    } else if (type == int(wire::ScreenType::Update)) {
      out.updates.push_back(decodeUpdate(f));
    }
  }
  return out;
}

TEST(ScreenTiers, ASlowViewerMovesDownWhileAFastOneStaysOnTop) {
  TierRig rig;
  auto& fast = rig.watch(10, 10);
  auto& slow = rig.watch(11, 900);
  rig.run(1'000);
  // Both start at the top, told so before their first update.
  EXPECT_EQ(served(*fast.peer.link).tier.tier, 0);
  EXPECT_EQ(served(*slow.peer.link).tier.tier, 0);
  rig.run(12'000);
  const Served f = served(*fast.peer.link), s = served(*slow.peer.link);
  EXPECT_EQ(f.tier.tier, 0);
  EXPECT_EQ(decodedOf<wire::TierSwitch>(*fast.peer.link).size(), 1u);
  EXPECT_GE(s.tier.tier, 1);
  // The slow one's image at its tier: that tier's geometry, the first update whole.
  EXPECT_EQ(s.tier.widthPx, TierRig::side(320, s.tier.tier));
  EXPECT_EQ(s.tier.heightPx, TierRig::side(192, s.tier.tier));
  ASSERT_FALSE(s.updates.empty());
  for (const auto& u : s.updates) EXPECT_EQ(u.widthPx, s.tier.widthPx);
  const std::size_t grid = (s.tier.widthPx + 63) / 64 * ((s.tier.heightPx + 63) / 64);
  EXPECT_EQ(s.updates.front().tiles.size(), grid);
  // Only the tiers someone is on (or moving to) are encoded: the top (fast), the slow one's.
  const auto stats = rig.hub.stats();
  EXPECT_EQ(stats.viewersOnTier[0], 1u);
  EXPECT_EQ(stats.viewersOnTier[std::size_t(s.tier.tier)], 1u);
  EXPECT_GE(stats.tierSwitches, 1u);
  EXPECT_TRUE(rig.wanted & 1);
  EXPECT_TRUE(rig.wanted >> s.tier.tier & 1);
  EXPECT_EQ(rig.hub.wantedTiers(rig.stream), rig.wanted);
  // One update at most waits in each viewer's connection.
  EXPECT_GT(stats.maxUpdateBytesQueued, 0u);
  EXPECT_LE(stats.maxUpdateBytesQueued, 2 * stats.largestUpdateBytes);
}

// A newcomer while the only viewer is on a lower tier: it gets that tier's image at once, but
// the top is wanted again and it moves there as soon as the top is whole, not after a probe;
// the slow one stays where it is.
TEST(ScreenTiers, AFastNewcomerBesideASlowViewerGoesToTheTopAtOnce) {
  TierRig rig;
  auto& slow = rig.watch(10, 900);
  rig.run(8'000);
  const int slowTier = served(*slow.peer.link).tier.tier;
  ASSERT_GE(slowTier, 1);
  ASSERT_FALSE(rig.wanted & 1);
  auto& fast = rig.watch(11, 10);
  rig.run(2'000);
  EXPECT_EQ(served(*fast.peer.link).tier.tier, 0);
  EXPECT_FALSE(served(*fast.peer.link).updates.empty());
  EXPECT_EQ(served(*slow.peer.link).tier.tier, slowTier);
  EXPECT_TRUE(rig.wanted & 1);
}

// Paced by the hub: a viewer whose updates each take 900 ms has one at a time, though it gave
// two credits (without the pacing it holds both); a fast one gets every frame.
TEST(ScreenTiers, ASlowViewerIsSentOneUpdateAtATime) {
  TierRig rig;
  auto& slow = rig.watch(10, 900);
  auto& fast = rig.watch(11, 10);
  rig.run(6'000);
  slow.mostInFlight = 0;
  const std::size_t before = fast.seen;
  rig.run(6'000);
  EXPECT_EQ(slow.mostInFlight, 1u);
  EXPECT_GE(fast.seen - before, 58u);  // a frame every 100 ms
}

TEST(ScreenTiers, AViewerThatSpeedsUpProbesBackToTheTop) {
  TierRig rig;
  auto& v = rig.watch(10, 900);
  rig.run(8'000);
  EXPECT_GE(served(*v.peer.link).tier.tier, 1);
  v.delayMs = 10;
  rig.run(40'000);
  EXPECT_EQ(served(*v.peer.link).tier.tier, 0);
  // Nobody is below the top now: the publisher encodes the top only.
  EXPECT_EQ(rig.wanted, 1);
}

TEST(ScreenTiers, ATierNobodyWatchesIsLetGo) {
  TierRig rig;
  auto& v = rig.watch(10, 900);
  rig.run(8'000);
  const int tier = served(*v.peer.link).tier.tier;
  ASSERT_GE(tier, 1);
  EXPECT_FALSE(rig.wanted & 1);  // nobody on the top
  EXPECT_GT(rig.hub.streamBytesHeld(rig.stream), 0u);
  feed(rig.hub, v.peer.id, wire::Unsubscribe{.streamId = rig.stream}, rig.now);
  rig.viewers.clear();
  // Its tier is let go at once (the top was, when nobody was on it).
  EXPECT_EQ(rig.hub.streamBytesHeld(rig.stream), 0u);
  rig.run(200);
  EXPECT_EQ(rig.wanted, 1);  // back to the top alone, for whoever comes next
  // A newcomer is served at once, from the top.
  auto& late = rig.watch(12, 10);
  rig.run(500);
  EXPECT_EQ(served(*late.peer.link).tier.tier, 0);
  EXPECT_FALSE(served(*late.peer.link).updates.empty());
}

// The top let go (its only viewer left) and wanted again (another came) between two of the
// host pipeline's looks: the mask is the same both times, the restart count is not, and the
// gate shows the top off once so the pipeline sends it whole into the emptied grid.
TEST(ScreenTiers, ATierLetGoAndWantedAgainBetweenTwoLooksIsSeenToRestart) {
  TierRig rig;
  auto& slow = rig.watch(10, 900);
  rig.run(8'000);
  const int slowTier = served(*slow.peer.link).tier.tier;
  ASSERT_GE(slowTier, 1);
  auto& fast = rig.watch(11, 10);
  rig.run(2'000);
  ASSERT_EQ(served(*fast.peer.link).tier.tier, 0);
  TierGate gate;
  const std::uint8_t both = std::uint8_t(1u | 1u << slowTier);
  ASSERT_EQ(rig.hub.wantedTiers(rig.stream), both);
  gate.poll(rig.hub.wantedTiersOf(rig.stream));  // the top was let go before: seen now
  EXPECT_EQ(gate.poll(rig.hub.wantedTiersOf(rig.stream)), both);
  feed(rig.hub, fast.peer.id, wire::Unsubscribe{.streamId = rig.stream}, rig.now);
  EXPECT_EQ(rig.hub.wantedTiers(rig.stream), std::uint8_t(1u << slowTier));
  auto& late = rig.watch(12, 10);
  EXPECT_EQ(rig.hub.wantedTiers(rig.stream), both);
  EXPECT_EQ(gate.poll(rig.hub.wantedTiersOf(rig.stream)), std::uint8_t(1u << slowTier));
  EXPECT_EQ(gate.poll(rig.hub.wantedTiersOf(rig.stream)), both);
  (void)late;
}

// The server's watchdog sleeps long only when nothing is timed: while a viewer has an update
// in flight the hub asks to be ticked at the busy pace, and once everything is served and the
// credit is back, not before the next ping.
TEST(ScreenTiers, TheHubAsksForTheBusyTickOnlyWhileAnUpdateIsInFlight) {
  TierRig rig;
  auto& viewer = rig.watch(2, 20);
  ASSERT_EQ(viewer.peer.link->of(wire::ScreenType::Update).size(), 1u);  // the first image, in flight
  const std::int64_t pinged = rig.now;  // this first tick pings both peers
  EXPECT_EQ(rig.hub.tick(rig.now), rig.now + kServerTickUs);

  rig.now += 20'000;
  rig.hub.drained(viewer.peer.id, 1);
  feed(rig.hub, viewer.peer.id, wire::UpdateRequest{.streamId = rig.stream, .credits = 1}, rig.now);
  // Its credit is back, but the link's busy time this second is still to be measured.
  EXPECT_EQ(rig.hub.tick(rig.now), rig.now + kServerTickUs);
  rig.now += 1'000'000;
  EXPECT_EQ(rig.hub.tick(rig.now), pinged + wire::kHeartbeatIntervalUs + 1);  // then the next ping

  // A new frame goes out at once (not on a tick), and is timed again until its credit is back.
  rig.now += 100'000;
  rig.publishFrame();
  ASSERT_EQ(viewer.peer.link->of(wire::ScreenType::Update).size(), 2u);
  EXPECT_EQ(rig.hub.tick(rig.now), rig.now + kServerTickUs);
}

// A viewer below the top on a quiet screen does not keep the watchdog at the busy pace: the
// hub asks to be ticked at the viewer's probe time (or its next ping), and the probe up still
// comes then.
TEST(ScreenTiers, AnIdleViewerBelowTheTopIsTickedForItsProbeNotAtTheBusyPace) {
  TierRig rig;
  auto& viewer = rig.watch(11, 900);
  rig.run(6'000);
  const int dropped = served(*viewer.peer.link).tier.tier;
  ASSERT_GE(dropped, 1);
  viewer.delayMs = 10;  // the link is quick again: updates answered at once
  rig.run(1'500);
  ASSERT_EQ(served(*viewer.peer.link).tier.tier, dropped) << "probed too soon for this test";
  // The screen goes still: the watchdog sleeps to what the hub says is due, until the hub
  // asks the sharer for the tier above (the probe).
  rig.sharer.link->frames.clear();
  int ticks = 0;
  const std::int64_t quietFrom = rig.now;
  std::int64_t due = rig.hub.tick(rig.now);
  while (rig.now - quietFrom < 10'000'000 && decodedOf<wire::TiersWanted>(*rig.sharer.link).empty()) {
    rig.now = std::max(rig.now + 1, due);
    rig.returnCredits(viewer);  // those still out
    rig.hub.drained(viewer.peer.id, 1);
    for (const Peer* p : {&rig.sharer, &viewer.peer})  // both answer the hub's pings
      rig.hub.receive(p->id, base::view(wire::encodeFrame(wire::Pong{})), rig.now);
    due = rig.hub.tick(rig.now);
    ++ticks;
  }
  // It comes at its time (5.3 s into the quiet on this rig's clock), after ticks for the
  // link's last busy second, a ping and the probe: 9 (at the busy pace all through, 53).
  ASSERT_FALSE(decodedOf<wire::TiersWanted>(*rig.sharer.link).empty()) << "no probe up within 10 s";
  EXPECT_LE(rig.now - quietFrom, TierPolicy().probeWaitUs());
  EXPECT_LE(ticks, 15) << "at the busy pace all through, it would be " << (rig.now - quietFrom) / kServerTickUs;
  // The next frames bring the viewer up a tier.
  rig.run(500);
  EXPECT_EQ(served(*viewer.peer.link).tier.tier, dropped - 1);
}

// The host's own share learns of tiers wanted at once (its pipeline looks at them only at its
// next frame, a quarter of a second away on a quiet screen): a viewer whose update goes unanswered drops
// below the top, and the hub says so.
TEST(ScreenTiers, TheHostsOwnShareIsToldWhenTheTiersWantedChange) {
  std::int64_t now = kT0;
  std::atomic<int> told{0};
  ScreenHubConfig c;
  c.clock = [&now] { return now; };
  c.localTiersChanged = [&told] { ++told; };
  ScreenHub hub(
      c,
      [](std::uint64_t token, ScreenSeat& seat) {
        seat.participantId = static_cast<std::uint32_t>(token);
        seat.name = "p" + std::to_string(token);
        return true;
      },
      [](std::uint32_t, bool) {});
  std::string error;
  const std::uint32_t stream = hub.startLocalStream(1, "host", "screen", 320, 192, 64, error);
  ASSERT_NE(stream, 0u) << error;
  wire::TileBatch b = batchOf(320, 192, 64, 1);
  for (std::uint16_t ty = 0; ty < 3; ++ty)
    for (std::uint16_t tx = 0; tx < 5; ++tx) b.tiles.push_back(scanTile(tx, ty, 2000));
  hub.publishLocal(stream, b);
  Peer viewer = join(hub, 2, now);
  feed(hub, viewer.id, wire::Subscribe{.streamId = stream, .credits = 1}, now);
  ASSERT_EQ(viewer.link->of(wire::ScreenType::Update).size(), 1u);
  EXPECT_EQ(hub.wantedTiers(stream), 1);
  // Its credit never comes back: a stall, and a drop once the policy's hold is over. Told once
  // for each change of the mask, not on every tick.
  int changes = 0;
  for (int step = 0, mask = 1; step < 40; ++step) {
    now += 100'000;
    hub.tick(now);
    if (hub.wantedTiers(stream) != mask) ++changes, mask = hub.wantedTiers(stream);
  }
  EXPECT_NE(hub.wantedTiers(stream), 1);
  EXPECT_GE(changes, 1);
  EXPECT_EQ(told.load(), changes);
}

TEST(ScreenTiers, BadTierTilesCloseThePublisher) {
  struct Case {
    std::uint8_t tier;
    std::uint32_t w, h;
  };
  for (const Case c : {Case{0, 160, 96}, Case{3, 160, 96}, Case{1, 0, 96}}) {
    ScreenHub hub = makeHub();
    Peer sharer = join(hub, 1);
    ASSERT_NE(publish(hub, sharer, 320, 192, 64), 0u);
    wire::TileBatch b = batchOf(c.w, c.h, 64, 1);
    hub.receive(sharer.id, base::view(wire::encodeTierTiles(c.tier, b)), kT0);
    EXPECT_EQ(sharer.link->closedWith, wire::Reason::ScreenBounds) << int(c.tier) << " " << c.w;
  }
}

TEST(ScreenTiers, TilesOfATierNobodyWantsAreAckedNotKept) {
  ScreenHub hub = makeHub();
  Peer sharer = join(hub, 1);
  const std::uint32_t stream = publish(hub, sharer, 320, 192, 64);
  wire::TileBatch b = batchOf(160, 96, 64, 7);
  b.tiles.push_back(scanTile(0, 0, 1000));
  hub.receive(sharer.id, base::view(wire::encodeTierTiles(1, b)), kT0);
  EXPECT_EQ(sharer.link->closedWith, wire::Reason::None);
  ASSERT_EQ(decodedOf<wire::PublishAck>(*sharer.link).size(), 1u);
  EXPECT_EQ(decodedOf<wire::PublishAck>(*sharer.link).back().seq, 7u);
  EXPECT_EQ(hub.streamBytesHeld(stream), 0u);
  EXPECT_EQ(hub.wantedTiers(stream), 1);
}

// Tiles of a tier larger than the stream are what a publisher sends when its screen shrank
// and they crossed its PublishStart for the new size: acked and not kept, the share goes on.
TEST(ScreenTiers, TierTilesLargerThanTheStreamAreAckedNotKeptAndTheShareGoesOn) {
  ScreenHub hub = makeHub();
  Peer sharer = join(hub, 1);
  const std::uint32_t stream = publish(hub, sharer, 320, 192, 64);
  wire::TileBatch b = batchOf(640, 96, 64, 9);
  b.tiles.push_back(scanTile(0, 0, 1000));
  hub.receive(sharer.id, base::view(wire::encodeTierTiles(1, b)), kT0);
  EXPECT_EQ(sharer.link->closedWith, wire::Reason::None);
  ASSERT_EQ(decodedOf<wire::PublishAck>(*sharer.link).size(), 1u);
  EXPECT_EQ(decodedOf<wire::PublishAck>(*sharer.link).back().seq, 9u);
  EXPECT_EQ(hub.streamBytesHeld(stream), 0u);
}

}  // namespace
}  // namespace huddle::net
