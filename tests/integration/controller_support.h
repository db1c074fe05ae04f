// What tests of the session controllers share: a fake monotonic clock, ticking controllers
// until something holds, reading their chat, and a host on free ports with its loopback link.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "app/session/host_controller.h"
#include "app/session/session_controller.h"

namespace huddle::session::testing {

// A fake monotonic clock: it moves only when a test says so.
struct FakeClock {
  std::int64_t nowUs = 1'000'000;
  void advanceMs(std::int64_t ms) { nowUs += ms * 1000; }
};

// Ticks every controller with the fake clock (10 ms of it per turn) until `done` holds or
// `timeoutMs` of real time passes; real time lets the connections' threads work.
inline bool tickUntil(FakeClock& clock, std::vector<SessionController*> cs, const std::function<bool()>& done,
                      int timeoutMs = 20'000) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
  while (std::chrono::steady_clock::now() < deadline) {
    for (auto* c : cs) c->tick(clock.nowUs);
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    clock.advanceMs(10);
  }
  return done();
}

inline bool hasLine(const SessionController& c, const std::string& text) {
  for (const auto& l : c.chat().lines())
    if (ChatLog::format(l).find(text) != std::string::npos) return true;
  return false;
}

inline std::string allLines(const SessionController& c) {
  std::string s;
  for (const auto& l : c.chat().lines()) s += ChatLog::format(l) + "\n";
  return s;
}

inline std::string loopbackLink(const HostController& h) {
  for (const auto& l : h.info().inviteLinks)
    if (l.find("127.0.0.1") != std::string::npos) return l;
  return "";
}

// A host named `name` on free chat, screen and voice ports.
inline HostRequest anyPorts(const std::string& name) {
  HostRequest r;
  r.name = name;
  r.chatPort = 0;
  r.screenPort = 0;
  r.voicePort = 0;
  return r;
}

}  // namespace huddle::session::testing
