// Per-stream viewer statistics: updates per second, bytes per second, decode time and
// capture-to-display latency percentiles over a sliding window, plus totals. Fed by the
// decode worker, read by the window's overlay and by --stats-json.
// Thread: any. One mutex, held only to append a sample or to copy the few numbers and the
// window's samples out: a reader sorts and sums its own copy, never holding up the decoder.
#pragma once
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

namespace huddle::session {

struct StreamStatsSnapshot {
  double updatesPerSec = 0;
  double bytesPerSec = 0;
  double decodeMsMean = 0;
  double latencyMsP50 = 0, latencyMsP95 = 0, latencyMsP99 = 0;
  std::uint64_t updates = 0;  // totals since the start
  std::uint64_t bytes = 0;
  std::uint64_t firstUpdateBytes = 0;  // the whole first image, for "what changes cost" figures
  std::uint64_t tiles = 0;
  std::uint64_t decodeErrors = 0;
  std::uint32_t widthPx = 0, heightPx = 0;
  // The quality tier the host serves this viewer (0: the sharer's own settings) and how often
  // it moved (each move is a full refresh).
  int tier = 0;
  std::uint64_t tierSwitches = 0;
};

class StreamStats {
 public:
  // Window over which rates and percentiles are computed.
  explicit StreamStats(std::int64_t windowUs = 2'000'000) : m_windowUs(windowUs) {}

  // One update shown: when (monotonic), its size, decode time, and capture-to-display
  // latency (negative if unknown).
  void record(std::int64_t nowUs, std::uint64_t bytes, std::uint32_t tiles, double decodeMs, double latencyMs);
  void recordDecodeError();
  void setSize(std::uint32_t widthPx, std::uint32_t heightPx);
  // The host says this viewer's updates are of `tier` from now on.
  void setTier(int tier);
  // A copy as of `nowUs`: totals, and rates and percentiles over the window before it.
  StreamStatsSnapshot snapshot(std::int64_t nowUs) const;
  // Every latency sample since the start (for a whole-run report), in milliseconds.
  std::vector<double> allLatenciesMs() const;

 private:
  struct Sample {
    std::int64_t atUs;
    std::uint64_t bytes;
    double decodeMs;
    double latencyMs;
  };
  void trim(std::int64_t nowUs);

  std::int64_t m_windowUs;
  mutable std::mutex m_mutex;
  std::deque<Sample> m_window;  // trimmed as samples arrive; readers filter their copy
  std::vector<double> m_allLatencies;
  StreamStatsSnapshot m_totals;
};

// The p-th percentile (0..100) of `values` by nearest rank; 0 if empty. Sorts a copy.
double percentile(std::vector<double> values, double p);

}  // namespace huddle::session
