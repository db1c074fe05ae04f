// Keeps a flood of bad connections from flooding the log (docs/SECURITY.md s.8.3): at most
// `perSecond` lines a second for one key (an address, what happened and its code), and the
// next line let through says how many were held back. Memory is bounded: past `maxKeys` the
// table starts over. Thread: any (internal lock).
#pragma once
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "net/base/clock.h"

namespace huddle::base {

// Appended to a line that was let through after others were held back.
inline std::string heldBackNote(std::uint64_t heldBack) {
  return heldBack ? " (" + std::to_string(heldBack) + " more like it not logged)" : std::string();
}

class LogThrottle {
 public:
  // What a line is about, so that different kinds from one address do not share a budget.
  enum Kind : std::uint8_t { Drop = 'd', Closed = 'c', Reject = 'r', WrongPassword = 'p' };

  explicit LogThrottle(int perSecond = 10, std::size_t maxKeys = 1024) : m_perSecond(perSecond), m_maxKeys(maxKeys) {}

  static std::uint64_t key(std::uint32_t ipv4, Kind kind, unsigned code = 0) {
    return std::uint64_t{ipv4} << 16 | std::uint64_t{kind} << 8 | (code & 0xFF);
  }

  // True if a line for `key` may be written now; then `heldBack` is how many lines for that
  // key were not written since the last one that was.
  bool allow(std::uint64_t key, std::int64_t nowUs, std::uint64_t& heldBack) {
    std::lock_guard lock(m_mutex);
    if (m_keys.size() >= m_maxKeys && !m_keys.count(key)) m_keys.clear();
    Window& w = m_keys[key];
    if (nowUs - w.startUs >= 1'000'000) {
      w.startUs = nowUs;
      w.written = 0;
    }
    if (w.written >= m_perSecond) {
      ++w.heldBack;
      return false;
    }
    ++w.written;
    heldBack = w.heldBack;
    w.heldBack = 0;
    return true;
  }
  // The same, now; `note` is heldBackNote() of what was held back, to end the line with.
  bool allow(std::uint64_t key, std::string& note) {
    std::uint64_t heldBack = 0;
    if (!allow(key, monoUs(), heldBack)) return false;
    note = heldBackNote(heldBack);
    return true;
  }

 private:
  struct Window {
    std::int64_t startUs = 0;
    int written = 0;
    std::uint64_t heldBack = 0;
  };
  const int m_perSecond;
  const std::size_t m_maxKeys;
  std::mutex m_mutex;
  std::unordered_map<std::uint64_t, Window> m_keys;
};

}  // namespace huddle::base
