#include "net/base/clock.h"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace huddle::base {

std::int64_t monoUs() {
  using namespace std::chrono;
  return duration_cast<microseconds>(steady_clock::now().time_since_epoch()).count();
}

std::int64_t wallUs() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

static std::tm localTime(std::int64_t stampUs) {
  std::time_t secs = static_cast<std::time_t>(stampUs / 1000000);
  std::tm tmLocal{};
  localtime_r(&secs, &tmLocal);
  return tmLocal;
}

std::string formatClock(std::int64_t wallUsStamp) {
  std::tm t = localTime(wallUsStamp);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02d:%02d:%02d", t.tm_hour, t.tm_min, t.tm_sec);
  return buf;
}

std::string formatFileStamp(std::int64_t wallUsStamp) {
  std::tm t = localTime(wallUsStamp);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d%02d%02d-%02d%02d%02d", t.tm_year + 1900, t.tm_mon + 1, t.tm_mday, t.tm_hour,
                t.tm_min, t.tm_sec);
  return buf;
}

}  // namespace huddle::base
