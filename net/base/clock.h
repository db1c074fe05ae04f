// Clocks: monotonic time for deadlines and rates, wall time for chat stamps and file names.
#pragma once
#include <cstdint>
#include <string>

namespace huddle::base {

// Microseconds on a monotonic clock (deadlines, intervals, latency within one process).
std::int64_t monoUs();
// Microseconds since the Unix epoch, UTC (stamps that cross machines).
std::int64_t wallUs();
// "HH:MM:SS" in local time for a wallUs() stamp.
std::string formatClock(std::int64_t wallUsStamp);
// "YYYYMMDD-HHMMSS" in local time, for timestamped file names.
std::string formatFileStamp(std::int64_t wallUsStamp);

}  // namespace huddle::base
