// Tagged, leveled logging to stderr, safe from any thread. Every module logs with its own tag
// ("net/host", "capture/x11"); core code never printf()s.
#pragma once
#include <cstdarg>

namespace huddle::base {

enum class LogLevel { Debug = 0, Info = 1, Warn = 2, Error = 3, Off = 4 };

void setLogLevel(LogLevel level);
LogLevel logLevel();
// Parses "debug", "info", "warn", "error", "off"; false if unknown.
bool parseLogLevel(const char* text, LogLevel& out);

void logf(LogLevel level, const char* tag, const char* fmt, ...) __attribute__((format(printf, 3, 4)));

}  // namespace huddle::base

#define HLOG_DEBUG(tag, ...) ::huddle::base::logf(::huddle::base::LogLevel::Debug, tag, __VA_ARGS__)
#define HLOG_INFO(tag, ...) ::huddle::base::logf(::huddle::base::LogLevel::Info, tag, __VA_ARGS__)
#define HLOG_WARN(tag, ...) ::huddle::base::logf(::huddle::base::LogLevel::Warn, tag, __VA_ARGS__)
#define HLOG_ERROR(tag, ...) ::huddle::base::logf(::huddle::base::LogLevel::Error, tag, __VA_ARGS__)
