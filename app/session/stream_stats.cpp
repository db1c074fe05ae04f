#include "app/session/stream_stats.h"

#include <algorithm>
#include <cmath>

namespace huddle::session {

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  double rank = std::ceil(p / 100.0 * static_cast<double>(values.size()));
  std::size_t index = rank < 1 ? 0 : static_cast<std::size_t>(rank) - 1;
  return values[std::min(index, values.size() - 1)];
}

void StreamStats::record(std::int64_t nowUs, std::uint64_t bytes, std::uint32_t tiles, double decodeMs,
                         double latencyMs) {
  std::lock_guard lock(m_mutex);
  m_window.push_back({nowUs, bytes, decodeMs, latencyMs});
  trim(nowUs);
  if (++m_totals.updates == 1) m_totals.firstUpdateBytes = bytes;
  m_totals.bytes += bytes;
  m_totals.tiles += tiles;
  // Bounded: an hour at 120 updates/s, after which the oldest half is dropped.
  if (latencyMs >= 0) {
    if (m_allLatencies.size() >= 432'000) m_allLatencies.erase(m_allLatencies.begin(), m_allLatencies.begin() + 216'000);
    m_allLatencies.push_back(latencyMs);
  }
}

void StreamStats::recordDecodeError() {
  std::lock_guard lock(m_mutex);
  ++m_totals.decodeErrors;
}

void StreamStats::setSize(std::uint32_t widthPx, std::uint32_t heightPx) {
  std::lock_guard lock(m_mutex);
  m_totals.widthPx = widthPx;
  m_totals.heightPx = heightPx;
}

void StreamStats::setTier(int tier) {
  std::lock_guard lock(m_mutex);
  if (tier != m_totals.tier) ++m_totals.tierSwitches;
  m_totals.tier = tier;
}

void StreamStats::trim(std::int64_t nowUs) {
  while (!m_window.empty() && nowUs - m_window.front().atUs > m_windowUs) m_window.pop_front();
}

StreamStatsSnapshot StreamStats::snapshot(std::int64_t nowUs) const {
  StreamStatsSnapshot s;
  std::vector<Sample> window;
  {
    std::lock_guard lock(m_mutex);
    s = m_totals;
    window.assign(m_window.begin(), m_window.end());  // at most a window's worth of updates
  }
  std::uint64_t bytes = 0;
  std::size_t count = 0;
  double decode = 0;
  std::vector<double> latencies;
  latencies.reserve(window.size());
  for (const auto& x : window) {
    if (nowUs - x.atUs > m_windowUs) continue;  // aged out since the last record()
    ++count;
    bytes += x.bytes;
    decode += x.decodeMs;
    if (x.latencyMs >= 0) latencies.push_back(x.latencyMs);
  }
  if (count == 0) return s;
  const double seconds = static_cast<double>(m_windowUs) / 1e6;
  s.updatesPerSec = static_cast<double>(count) / seconds;
  s.bytesPerSec = static_cast<double>(bytes) / seconds;
  s.decodeMsMean = decode / static_cast<double>(count);
  s.latencyMsP50 = percentile(latencies, 50);
  s.latencyMsP95 = percentile(latencies, 95);
  s.latencyMsP99 = percentile(latencies, 99);
  return s;
}

std::vector<double> StreamStats::allLatenciesMs() const {
  std::lock_guard lock(m_mutex);
  return m_allLatencies;
}

}  // namespace huddle::session
