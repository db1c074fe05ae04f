#include "net/screen_tiers.h"

#include <algorithm>
#include <vector>

namespace huddle::net {

namespace {
constexpr std::size_t kMaxInFlight = 64;
}

void TierPolicy::sent(std::size_t bytes, std::int64_t nowUs) {
  if (m_inFlight.size() >= kMaxInFlight) m_inFlight.pop_front();
  m_inFlight.push_back({nowUs, bytes});
}

void TierPolicy::acked(std::int64_t nowUs) {
  if (m_inFlight.empty()) return;
  const InFlight done = m_inFlight.front();
  m_inFlight.pop_front();
  if (!done.counts) {
    m_lastAckUs = std::max(m_lastAckUs, nowUs);
    return;
  }
  const std::int64_t delay = std::max<std::int64_t>(0, nowUs - done.sentUs);
  m_delays.push_back(delay);
  if (m_delays.size() > kTierWindow) m_delays.pop_front();
  ++m_samples;
  // The link worked on this update from when it was queued or the previous one was done.
  const std::int64_t busyUs = nowUs - std::max(done.sentUs, m_lastAckUs);
  if (busyUs > 0) {
    const double sample = double(done.bytes) * 1e6 / double(busyUs);
    m_rate = m_rate == 0 ? sample : m_rate * 0.75 + sample * 0.25;
  }
  m_lastAckUs = std::max(m_lastAckUs, nowUs);
}

std::int64_t TierPolicy::delayUs() const {
  if (m_delays.empty()) return 0;
  std::vector<std::int64_t> sorted(m_delays.begin(), m_delays.end());
  std::nth_element(sorted.begin(), sorted.begin() + std::ptrdiff_t(sorted.size() / 2), sorted.end());
  return sorted[sorted.size() / 2];
}

int TierPolicy::tick(std::int64_t nowUs) {
  const std::int64_t probeWait = m_probeUs > 0 ? m_probeUs : m_config.probeUs;
  // A probe that held long enough succeeded: the next one waits the base time again.
  if (m_raisedUs >= 0 && nowUs - m_raisedUs > m_config.holdUs + probeWait) {
    m_raisedUs = -1;
    m_probeUs = 0;
  }
  const bool settled = nowUs - m_changedUs >= m_config.holdUs;
  const bool stalled = !m_inFlight.empty() && nowUs - m_inFlight.front().sentUs >= m_config.stallUs;
  const bool slow = m_samples >= kTierMinSamples && delayUs() > m_config.dropDelayUs;
  if (m_tier < m_config.lowestTier && settled && (slow || stalled)) {
    if (m_raisedUs >= 0) {  // the probe failed: wait longer before the next one
      m_probeUs = std::min(m_config.maxProbeUs, probeWait * 2);
      m_raisedUs = -1;
    }
    ++m_drops;
    change(m_tier + 1, nowUs);
  } else if (m_tier > 0 && nowUs - m_changedUs >= probeWait && m_samples >= kTierMinSamples &&
             delayUs() < m_config.upDelayUs && !stalled) {
    ++m_raises;
    change(m_tier - 1, nowUs);
    m_raisedUs = nowUs;
  }
  return m_tier;
}

void TierPolicy::change(int tier, std::int64_t nowUs) {
  m_tier = tier;
  m_changedUs = nowUs;
  m_samples = 0;
  m_delays.clear();
  // Updates in flight were of the old tier: their round trips say nothing of the new one,
  // and a stalled one must not count twice.
  for (auto& f : m_inFlight) f.counts = false, f.sentUs = std::max(f.sentUs, nowUs);
}

void TierPolicy::reset(int tier, std::int64_t nowUs) {
  const TierPolicyConfig config = m_config;
  *this = TierPolicy(config);
  m_tier = std::clamp(tier, 0, config.lowestTier);
  m_changedUs = nowUs;
}

std::uint8_t TierGate::poll(const WantedTiers& wanted) {
  std::uint8_t restarted = 0;
  for (int t = 0; t < kScreenTiers; ++t)
    if (wanted.restarts[std::size_t(t)] != m_seen[std::size_t(t)]) restarted = std::uint8_t(restarted | 1u << t);
  std::uint8_t shown = std::uint8_t(wanted.mask & ~restarted);
  if (restarted != 0 && wanted.mask != 0 && shown == 0) {
    // Every wanted tier restarted: no bits would read as the top. With two or more wanted,
    // the lowest stays on and its restart is carried to the next look (seen off then, while
    // the others are back); with one, a lower tier nobody wants shows instead.
    const bool several = (wanted.mask & (wanted.mask - 1)) != 0;
    const std::uint8_t pick = several ? wanted.mask : std::uint8_t(~wanted.mask & ((1u << kScreenTiers) - 1));
    for (int t = kScreenTiers - 1; t >= 0 && shown == 0; --t)
      if (pick >> t & 1) shown = std::uint8_t(1u << t);
    if (several) restarted = std::uint8_t(restarted & ~shown);  // carried
  }
  for (int t = 0; t < kScreenTiers; ++t)
    if (restarted >> t & 1) m_seen[std::size_t(t)] = wanted.restarts[std::size_t(t)];
  return shown;
}

}  // namespace huddle::net
