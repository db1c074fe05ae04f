// Every viewer at its own pace: which quality/scale tier of a stream one viewer is served,
// from how its credits come back. Pure (no clock, no sockets): the hub tells it when an
// update was queued to the viewer and when a credit returned, and asks it on each tick.
//
// Policy. A credit returns once the viewer has received and decoded an update, so the time
// from queueing an update to its credit (the round trip) is what that viewer's link and
// decoder cost per update; the oldest update in flight is the one a credit answers. The
// delivery rate (bytes of an update over the time the link spent on it, i.e. since the later
// of its queueing and the previous credit) is logged and weighs a probe up.
//  - Drop one tier when the median of the last kTierWindow round trips (at least
//    kTierMinSamples of them since the last change) is over dropDelayUs, or when an update
//    has gone unanswered for stallUs, or (after kTierMinLinkSamples) when the link is the
//    bottleneck at too few updates a second: something was in flight for at least busyShare
//    of the last second, and the median time the link spent on each of the last updates
//    allows fewer than minUpdatesPerSec (a link that carries a big picture slowly is better
//    used on a smaller one that moves; a still page stays sharp, its link idles).
//    Never twice within holdUs; two tiers at once when the link carries under half the floor.
//  - Pace: a viewer has at most 1 + queueTargetUs / (median time per update) updates in
//    flight. Credits let a viewer take several at once so that a fast link never idles
//    between them; on a slow link those would wait in the socket's buffer, each older than
//    the one before, while the host could send a newer picture once the link is free. The
//    time per update cannot tell a slow link from a long fixed delay, so a link far away (not
//    a LAN) that takes over queueTargetUs per update is held to one at a time as well.
//  - Probe up one tier after probeUs at a lower tier if the median round trip is under
//    upDelayUs, and the link is idle enough or carries the tier above's last known update
//    size at minUpdatesPerSec with room (probeRoom) to spare. A probe that drops back within
//    holdUs + probeUs failed: the next wait doubles (up to maxProbeUs); one that holds resets it.
// Thread: the caller's (the hub's lock).
#pragma once
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>

#include "net/wire/limits.h"

namespace huddle::net {

inline constexpr int kScreenTiers = wire::kMaxScreenTiers;  // tier 0 is the sharer's own settings
inline constexpr std::size_t kTierWindow = 5;  // round trips the median is taken over
// Round trips since the last change before the median counts: the whole window, so a change's
// full image and a start's stall (16 viewers starting at once on 2 cores) are outvoted. The
// link rule needs fewer: it also needs a second mostly busy.
inline constexpr int kTierMinSamples = 5;
inline constexpr int kTierMinLinkSamples = 3;

struct TierPolicyConfig {
  std::int64_t dropDelayUs = 300'000;
  std::int64_t upDelayUs = 120'000;
  std::int64_t stallUs = 2'000'000;
  std::int64_t holdUs = 2'000'000;
  std::int64_t probeUs = 8'000'000;
  std::int64_t maxProbeUs = 64'000'000;
  double minUpdatesPerSec = 12;  // a slow link's floor is 10 a second: some room above it
  // Paced to one update in flight, a link kept full still idles while a credit comes back
  // and the next picture is made: 60-85% busy, seen on an 8 Mbit/s link.
  double busyShare = 0.6;
  double probeRoom = 1.25;
  // At least one update's time at the floor (1 / minUpdatesPerSec): held to one in flight, a
  // viewer's time per update takes in its decode and the way back too, so pacing a viewer
  // still above the floor could push it under and drop it.
  std::int64_t queueTargetUs = 90'000;
  int lowestTier = kScreenTiers - 1;
};

class TierPolicy {
 public:
  explicit TierPolicy(TierPolicyConfig config = {}) : m_config(config) {
    m_config.lowestTier = std::clamp(config.lowestTier, 0, kScreenTiers - 1);  // indexes m_bytesAt
  }

  // An update of `bytes` was queued to the viewer.
  void sent(std::size_t bytes, std::int64_t nowUs);
  // The viewer could take an update, and one is due, but it is too far behind to be sent one
  // yet (on the top, behind the copies the host keeps: it waits for the sharer's refresh).
  // Until its next update that wait counts as the link's time, busy: a viewer too slow for a
  // tier's copies is a viewer that tier does not suit.
  void starved(std::int64_t nowUs);
  // `count` credits came back in one message: the oldest `count` updates in flight are done.
  // Credits with none in flight (a viewer's initial grant, a refused update) are ignored. Of
  // several, only the newest update's round trip and link time are measured: the viewer held
  // the older ones' credits to send them together (net/screen_credits.h).
  void acked(std::int64_t nowUs, int count = 1);
  // Re-evaluates; the tier wanted now (0: the top).
  int tick(std::int64_t nowUs);
  // Starts over at `tier` (a new subscription).
  void reset(int tier, std::int64_t nowUs);

  int tier() const { return m_tier; }
  // Median round trip of the last few updates (0: none yet), and the smoothed delivery rate.
  std::int64_t delayUs() const;
  double rateBytesPerSec() const { return m_rate; }
  // Share of the last whole second with an update in flight; updates a second the link
  // carries at this tier (from the median time it spent on each of the last few; 0: none yet).
  double busyShare() const { return m_busyShare; }
  double updatesPerSecCarried() const;
  // Whether another update may go to the viewer now (see Pace above), and how many are out.
  bool mayQueue() const;
  std::size_t inFlight() const { return m_inFlight.size(); }
  // When a tick may next change something if nothing else happens (the hub's watchdog sleeps
  // till then): `nowUs` while anything is under way (an update in flight, a wait for a
  // refresh, busy time of this second still to measure); a drop pending, when the last change
  // has held (none at the lowest tier); at a lower tier with the link idle, the probe's time,
  // and past it once a second (a probe that waits for the link's idle second to be measured;
  // what else it waits for comes with credits, which come with updates); at the top, idle,
  // never (-1): only an update queued starts anything (sent() ends a window that outlived its
  // second meanwhile).
  std::int64_t dueUs(std::int64_t nowUs) const;
  std::uint64_t drops() const { return m_drops; }
  std::uint64_t raises() const { return m_raises; }
  std::int64_t probeWaitUs() const { return m_probeUs > 0 ? m_probeUs : m_config.probeUs; }

 private:
  void change(int tier, std::int64_t nowUs);
  void measureBusy(std::int64_t nowUs);
  // An update of `bytes` at the current tier was answered: the tier's smoothed update size.
  void noteSize(std::size_t bytes);
  void endBusy(std::int64_t nowUs);
  bool linkBound() const;
  // Round trips over the drop delay, or the link the bottleneck at too few updates (Drop above).
  bool slow() const;

  TierPolicyConfig m_config;
  int m_tier = 0;
  struct InFlight {
    std::int64_t sentUs = 0;
    std::int64_t serviceFromUs = 0;  // sentUs, or when the wait for it began (starved)
    std::size_t bytes = 0;
    bool counts = true;  // queued at the current tier
  };
  std::deque<InFlight> m_inFlight;  // at most kMaxInFlight (credits are capped far lower)
  std::deque<std::int64_t> m_delays;  // the last kTierWindow round trips
  // ...and how long the link spent on each (from its queueing or the previous credit), but
  // for the first after a change or start: a whole image, larger than those that follow.
  std::deque<std::int64_t> m_services;
  bool m_firstAfterChange = true;
  std::int64_t m_paceServiceUs = 0;  // the last median before a change, to pace by until then
  int m_samples = 0;                  // round trips since the last change
  std::int64_t m_lastAckUs = 0;
  double m_rate = 0;
  std::array<double, kScreenTiers> m_bytesAt{};  // smoothed update size at each tier (0: none yet)
  // Time with something in flight: since when (-1: nothing now), and in the current second.
  std::int64_t m_busyFromUs = -1;
  std::int64_t m_starvedFromUs = -1;  // waiting for an update it could not be sent (-1: not)
  std::int64_t m_windowStartUs = 0;
  std::int64_t m_windowBusyUs = 0;
  double m_busyShare = 0;
  std::int64_t m_changedUs = 0;
  std::int64_t m_raisedUs = -1;  // when the last probe up was made (-1: none pending)
  std::int64_t m_probeUs = 0;    // the wait before the next probe (0: config's)
  std::uint64_t m_drops = 0, m_raises = 0;
};

// What a publisher is asked to encode: bit t of `mask` for tier t, and how many times each
// tier was let go (its grid emptied on the host). A tier let go and wanted again between two
// looks at this has its bit set both times: only its count tells that it started over, and
// must be sent whole again.
struct WantedTiers {
  std::uint8_t mask = 1;
  std::array<std::uint32_t, kScreenTiers> restarts{};
};

// A capture pipeline's tier gate (setTierGate) over WantedTiers looked at once a frame. The
// pipeline sends a tier whole when its bit comes on after a frame without it, so a tier whose
// count moved since the last look is shown off for this one look (and on again the next).
// The pipeline reads a mask of no bits as the top: when every wanted tier restarted at once,
// the lowest of them stays on and is shown off at the next look (its restart carried), or,
// with only one tier wanted, a lower tier nobody wants is shown on instead (encoded once,
// and dropped by the host): never the top, the dearest to encode.
// Thread: the caller's (the capture thread).
class TierGate {
 public:
  std::uint8_t poll(const WantedTiers& wanted);

 private:
  std::array<std::uint32_t, kScreenTiers> m_seen{};
};

}  // namespace huddle::net
