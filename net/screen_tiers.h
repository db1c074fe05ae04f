// Every viewer at its own pace: which quality/scale tier of a stream one viewer is served,
// from how its credits come back. Pure (no clock, no sockets): the hub tells it when an
// update was queued to the viewer and when a credit returned, and asks it on each tick.
//
// Policy. A credit returns once the viewer has received and decoded an update, so the time
// from queueing an update to its credit (the round trip) is what that viewer's link and
// decoder cost per update; the oldest update in flight is the one a credit answers. The
// delivery rate (bytes of an update over the time the link spent on it, i.e. since the later
// of its queueing and the previous credit) is kept for the overlay.
//  - Drop one tier when the median of the last kTierWindow round trips (at least
//    kTierMinSamples of them since the last change, so the full image a change costs is
//    outvoted) is over dropDelayUs, or when an update has gone unanswered for stallUs.
//    Never twice within holdUs.
//  - Probe up one tier after probeUs at a lower tier if the median round trip is under
//    upDelayUs. A probe that drops back within holdUs + probeUs failed: the next wait doubles
//    (up to maxProbeUs); one that holds resets it.
// Thread: the caller's (the hub's lock).
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>

#include "net/wire/limits.h"

namespace huddle::net {

inline constexpr int kScreenTiers = wire::kMaxScreenTiers;  // tier 0 is the sharer's own settings
inline constexpr std::size_t kTierWindow = 5;  // round trips the median is taken over
inline constexpr int kTierMinSamples = 3;

struct TierPolicyConfig {
  std::int64_t dropDelayUs = 300'000;
  std::int64_t upDelayUs = 120'000;
  std::int64_t stallUs = 2'000'000;
  std::int64_t holdUs = 2'000'000;
  std::int64_t probeUs = 8'000'000;
  std::int64_t maxProbeUs = 64'000'000;
  int lowestTier = kScreenTiers - 1;
};

class TierPolicy {
 public:
  explicit TierPolicy(TierPolicyConfig config = {}) : m_config(config) {}

  // An update of `bytes` was queued to the viewer.
  void sent(std::size_t bytes, std::int64_t nowUs);
  // A credit came back: the oldest update in flight is done. Credits with none in flight
  // (a viewer's initial grant, a refused update) are ignored.
  void acked(std::int64_t nowUs);
  // Re-evaluates; the tier wanted now (0: the top).
  int tick(std::int64_t nowUs);
  // Starts over at `tier` (a new subscription).
  void reset(int tier, std::int64_t nowUs);

  int tier() const { return m_tier; }
  // Median round trip of the last few updates (0: none yet), and the smoothed delivery rate.
  std::int64_t delayUs() const;
  double rateBytesPerSec() const { return m_rate; }
  std::uint64_t drops() const { return m_drops; }
  std::uint64_t raises() const { return m_raises; }
  std::int64_t probeWaitUs() const { return m_probeUs > 0 ? m_probeUs : m_config.probeUs; }

 private:
  void change(int tier, std::int64_t nowUs);

  TierPolicyConfig m_config;
  int m_tier = 0;
  struct InFlight {
    std::int64_t sentUs = 0;
    std::size_t bytes = 0;
    bool counts = true;  // queued at the current tier
  };
  std::deque<InFlight> m_inFlight;  // at most kMaxInFlight (credits are capped far lower)
  std::deque<std::int64_t> m_delays;  // the last kTierWindow round trips
  int m_samples = 0;                  // round trips since the last change
  std::int64_t m_lastAckUs = 0;
  double m_rate = 0;
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
