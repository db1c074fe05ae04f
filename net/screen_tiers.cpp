#include "net/screen_tiers.h"

#include <algorithm>
#include <array>
#include <utility>

namespace huddle::net {

namespace {
constexpr std::size_t kMaxInFlight = 64;
}

void TierPolicy::sent(std::size_t bytes, std::int64_t nowUs) {
  measureBusy(nowUs);  // a window that outlived its second while quiet (no ticks) ends first
  if (m_inFlight.size() >= kMaxInFlight) m_inFlight.pop_front();
  if (m_inFlight.empty() && m_busyFromUs < 0) m_busyFromUs = nowUs;
  m_inFlight.push_back({nowUs, m_starvedFromUs >= 0 ? m_starvedFromUs : nowUs, bytes});
  m_starvedFromUs = -1;
}

void TierPolicy::noteSize(std::size_t bytes) {
  double& size = m_bytesAt[std::size_t(m_tier)];
  size = size == 0 ? double(bytes) : size * 0.75 + double(bytes) * 0.25;
}

void TierPolicy::endBusy(std::int64_t nowUs) {
  if (m_busyFromUs < 0) return;
  m_windowBusyUs += std::max<std::int64_t>(0, nowUs - std::max(m_busyFromUs, m_windowStartUs));
  m_busyFromUs = -1;
}

void TierPolicy::starved(std::int64_t nowUs) {
  measureBusy(nowUs);  // as in sent()
  if (m_starvedFromUs < 0) m_starvedFromUs = nowUs;
  if (m_busyFromUs < 0) m_busyFromUs = nowUs;
}

void TierPolicy::acked(std::int64_t nowUs, int count) {
  // The older ones only leave the flight; their sizes still count (an update's size is no
  // matter of when its credit came).
  for (; count > 1 && m_inFlight.size() > 1; --count) {
    if (m_inFlight.front().counts) noteSize(m_inFlight.front().bytes);
    m_inFlight.pop_front();
  }
  if (count < 1 || m_inFlight.empty()) return;
  const InFlight done = m_inFlight.front();
  m_inFlight.pop_front();
  if (m_inFlight.empty() && m_starvedFromUs < 0) endBusy(nowUs);
  if (!done.counts) {
    m_lastAckUs = std::max(m_lastAckUs, nowUs);
    return;
  }
  const std::int64_t delay = std::max<std::int64_t>(0, nowUs - done.sentUs);
  m_delays.push_back(delay);
  if (m_delays.size() > kTierWindow) m_delays.pop_front();
  ++m_samples;
  noteSize(done.bytes);
  // The link worked on this update from when it was queued or the previous one was done.
  const std::int64_t busyUs = nowUs - std::max(done.serviceFromUs, m_lastAckUs);
  if (!std::exchange(m_firstAfterChange, false)) {
    m_services.push_back(std::max<std::int64_t>(1, busyUs));
    if (m_services.size() > kTierWindow) m_services.pop_front();
  }
  if (busyUs > 0) {
    const double sample = double(done.bytes) * 1e6 / double(busyUs);
    m_rate = m_rate == 0 ? sample : m_rate * 0.75 + sample * 0.25;
  }
  m_lastAckUs = std::max(m_lastAckUs, nowUs);
}

namespace {
// Of at most kTierWindow values; on the stack (the pump asks on every frame for every viewer).
std::int64_t medianOf(const std::deque<std::int64_t>& window) {
  if (window.empty()) return 0;
  std::array<std::int64_t, kTierWindow> sorted{};
  const std::size_t n = std::min(window.size(), kTierWindow);
  std::copy_n(window.end() - std::ptrdiff_t(n), n, sorted.begin());
  std::nth_element(sorted.begin(), sorted.begin() + std::ptrdiff_t(n / 2), sorted.begin() + std::ptrdiff_t(n));
  return sorted[n / 2];
}
}  // namespace

std::int64_t TierPolicy::delayUs() const { return medianOf(m_delays); }

double TierPolicy::updatesPerSecCarried() const {
  const std::int64_t service = medianOf(m_services);
  return service > 0 ? 1e6 / double(service) : 0;
}

void TierPolicy::measureBusy(std::int64_t nowUs) {
  const std::int64_t elapsed = nowUs - m_windowStartUs;
  if (elapsed < 1'000'000) return;
  std::int64_t busy = m_windowBusyUs;
  if (m_busyFromUs >= 0) busy += nowUs - std::max(m_busyFromUs, m_windowStartUs);
  m_busyShare = std::clamp(double(busy) / double(elapsed), 0.0, 1.0);
  m_windowStartUs = nowUs;
  m_windowBusyUs = 0;
}

std::int64_t TierPolicy::dueUs(std::int64_t nowUs) const {
  if (!m_inFlight.empty() || m_starvedFromUs >= 0 || m_busyFromUs >= 0 || m_windowBusyUs != 0) return nowUs;
  // A slow link drops a tier once the last change has held (never below the lowest).
  if (slow() && m_tier < m_config.lowestTier) return std::max(nowUs, m_changedUs + m_config.holdUs);
  if (m_tier == 0) return -1;
  const std::int64_t probeAt = m_changedUs + probeWaitUs();
  return probeAt > nowUs ? probeAt : nowUs + 1'000'000;
}

bool TierPolicy::mayQueue() const {
  const std::int64_t service = m_services.empty() ? m_paceServiceUs : medianOf(m_services);
  if (service <= 0) return true;
  return m_inFlight.size() < std::size_t(1 + m_config.queueTargetUs / service);
}

bool TierPolicy::slow() const {
  return (m_samples >= kTierMinSamples && delayUs() > m_config.dropDelayUs) || linkBound();
}

bool TierPolicy::linkBound() const {
  if (m_services.size() < std::size_t(kTierMinLinkSamples)) return false;
  const double carried = updatesPerSecCarried();
  return m_busyShare >= m_config.busyShare && carried > 0 && carried < m_config.minUpdatesPerSec;
}

int TierPolicy::tick(std::int64_t nowUs) {
  measureBusy(nowUs);
  const std::int64_t probeWait = m_probeUs > 0 ? m_probeUs : m_config.probeUs;
  // A probe that held long enough succeeded: the next one waits the base time again.
  if (m_raisedUs >= 0 && nowUs - m_raisedUs > m_config.holdUs + probeWait) {
    m_raisedUs = -1;
    m_probeUs = 0;
  }
  const bool settled = nowUs - m_changedUs >= m_config.holdUs;
  const bool stalled = !m_inFlight.empty() && nowUs - m_inFlight.front().sentUs >= m_config.stallUs;
  // Room above: the link is not kept busy, or carries the size last seen up there with room.
  const double above = m_tier > 0 ? m_bytesAt[std::size_t(m_tier - 1)] : 0;
  const bool room = m_busyShare < m_config.busyShare || above == 0 ||
                    m_rate / above >= m_config.minUpdatesPerSec * m_config.probeRoom;
  if (m_tier < m_config.lowestTier && settled && (slow() || stalled)) {
    if (m_raisedUs >= 0) {  // the probe failed: wait longer before the next one
      m_probeUs = std::min(m_config.maxProbeUs, probeWait * 2);
      m_raisedUs = -1;
    }
    ++m_drops;
    const bool farBelow = linkBound() && updatesPerSecCarried() < m_config.minUpdatesPerSec / 2;
    change(std::min(m_config.lowestTier, m_tier + (farBelow ? 2 : 1)), nowUs);
  } else if (m_tier > 0 && nowUs - m_changedUs >= probeWait && m_samples >= kTierMinSamples &&
             delayUs() < m_config.upDelayUs && !stalled && room) {
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
  if (!m_services.empty()) m_paceServiceUs = medianOf(m_services);
  m_services.clear();
  m_firstAfterChange = true;
  // Updates in flight were of the old tier: their round trips say nothing of the new one,
  // and a stalled one must not count twice.
  for (auto& f : m_inFlight) f.counts = false, f.sentUs = std::max(f.sentUs, nowUs);
  m_starvedFromUs = -1;  // a wait at the old tier is not the new one's
  if (m_inFlight.empty()) endBusy(nowUs);
}

void TierPolicy::reset(int tier, std::int64_t nowUs) {
  const TierPolicyConfig config = m_config;
  *this = TierPolicy(config);
  m_tier = std::clamp(tier, 0, config.lowestTier);
  m_changedUs = nowUs;
  m_windowStartUs = nowUs;
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
