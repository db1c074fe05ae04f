#include "net/base/log.h"

#include <atomic>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <sys/time.h>

namespace huddle::base {

static std::atomic<int> g_level{static_cast<int>(LogLevel::Warn)};

void setLogLevel(LogLevel level) { g_level.store(static_cast<int>(level)); }
LogLevel logLevel() { return static_cast<LogLevel>(g_level.load()); }

bool parseLogLevel(const char* text, LogLevel& out) {
  static const struct { const char* name; LogLevel level; } kNames[] = {
      {"debug", LogLevel::Debug}, {"info", LogLevel::Info}, {"warn", LogLevel::Warn},
      {"error", LogLevel::Error}, {"off", LogLevel::Off}};
  for (const auto& n : kNames)
    if (std::strcmp(text, n.name) == 0) { out = n.level; return true; }
  return false;
}

void logf(LogLevel level, const char* tag, const char* fmt, ...) {
  if (static_cast<int>(level) < g_level.load(std::memory_order_relaxed)) return;
  static const char* const kLevelNames[] = {"DEBUG", "INFO", "WARN", "ERROR"};
  char msg[1024];
  va_list args;
  va_start(args, fmt);
  std::vsnprintf(msg, sizeof msg, fmt, args);
  va_end(args);

  timeval tv{};
  gettimeofday(&tv, nullptr);
  std::tm tmUtc{};
  gmtime_r(&tv.tv_sec, &tmUtc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%H:%M:%S", &tmUtc);
  // One fprintf per line: stdio locks the stream, so lines from threads never interleave.
  std::fprintf(stderr, "%s.%03dZ %s %s: %s\n", stamp, static_cast<int>(tv.tv_usec / 1000),
               kLevelNames[static_cast<int>(level)], tag, msg);
}

}  // namespace huddle::base
