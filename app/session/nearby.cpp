#include "app/session/nearby.h"

#include <netdb.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>

#include "app/session/trust.h"
#include "net/base/clock.h"

namespace huddle::session {

namespace {

// Every live host has announced at least once in this time (one interval and some slack);
// listening on stops early only for --join with exactly one match.
constexpr std::int64_t kListenUs = 2 * wire::kAnnounceIntervalUs;
constexpr std::int64_t kEnoughForOneUs = wire::kAnnounceIntervalUs + 200'000;

bool resolvesAsMachine(const std::string& name) {
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (::getaddrinfo(name.c_str(), nullptr, &hints, &res) != 0) return false;
  ::freeaddrinfo(res);
  return true;
}

std::string candidates(const std::vector<net::NearbySession>& heard) {
  if (heard.empty()) return "no session is announced nearby";
  std::string out = "sessions nearby:";
  for (const auto& s : heard) out += "\n  " + describeNearby(s);
  return out;
}

}  // namespace

std::string nearbyInvite(const net::NearbySession& s) {
  return inviteLink(net::ipv4Text(s.fromAddress), s.announcement.chatPort, s.key);
}

std::string describeNearby(const net::NearbySession& s) {
  const net::Announcement& a = s.announcement;
  std::string line = "\"" + a.sessionName + "\"";
  if (!a.hostName.empty()) line += " on " + a.hostName;
  line += " at " + net::ipv4Text(s.fromAddress) + ":" + std::to_string(a.chatPort);
  line += a.passwordNeeded ? ", password needed" : ", no password";
  line += ", key " + net::shortCode(s.key);
  return line;
}

bool looksLikeSessionName(const std::string& text) {
  if (text.empty() || isInviteLink(text) || text == "localhost") return false;
  return text.find_first_of(":./") == std::string::npos;
}

bool pickNearby(const std::vector<net::NearbySession>& heard, const std::string& name, net::NearbySession& out,
                std::string& error) {
  std::vector<const net::NearbySession*> matches;
  for (const auto& s : heard)
    if (s.announcement.sessionName == name) matches.push_back(&s);
  if (matches.size() == 1) {
    out = *matches.front();
    return true;
  }
  if (matches.empty()) {
    error = "no session named \"" + name + "\" nearby; " + candidates(heard);
  } else {
    error = std::to_string(matches.size()) + " sessions nearby are named \"" + name +
            "\"; join one by its invite link or address:";
    for (const auto* s : matches) error += "\n  " + describeNearby(*s) + "  " + nearbyInvite(*s);
  }
  return false;
}

bool announceWanted(const Options& options) { return options.announce && net::announcingAllowedByEnvironment(); }

int runList() {
  net::DiscoveryListener listener;
  std::string error;
  if (!listener.start(error)) {
    std::fprintf(stderr, "huddle: cannot look for sessions nearby: %s\n", error.c_str());
    return 1;
  }
  std::printf("Listening for sessions nearby for %d s (UDP port %u, group %s)...\n",
              static_cast<int>(kListenUs / 1'000'000), wire::kDiscoveryPort, net::kDiscoveryGroup);
  std::fflush(stdout);
  std::this_thread::sleep_for(std::chrono::microseconds(kListenUs));
  const std::vector<net::NearbySession> heard = listener.sessions();
  listener.stop();
  if (heard.empty()) {
    std::printf("No sessions nearby. (Hosts announce once a second; one started with --no-announce\n"
                "or HUDDLE_NO_ANNOUNCE=1 is not listed, nor one whose announcements this network drops.)\n");
  } else {
    std::printf("%zu session%s nearby, newest first:\n", heard.size(), heard.size() == 1 ? "" : "s");
    for (const auto& s : heard) std::printf("  %s\n    %s\n", describeNearby(s).c_str(), nearbyInvite(s).c_str());
  }
  std::fflush(stdout);
  return 0;
}

bool resolveNearbyJoin(Options& options, std::string& note, std::string& error) {
  if (!looksLikeSessionName(options.joinAddress)) return true;
  const std::string name = options.joinAddress;
  net::DiscoveryListener listener;
  std::string why;
  if (!listener.start(why)) {
    if (resolvesAsMachine(name)) return true;
    return error = "cannot look for a session named \"" + name + "\" nearby: " + why, false;
  }
  const std::int64_t start = base::monoUs();
  std::vector<net::NearbySession> heard;
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    heard = listener.sessions();
    const std::int64_t waited = base::monoUs() - start;
    const auto named = std::count_if(heard.begin(), heard.end(),
                                     [&](const net::NearbySession& s) { return s.announcement.sessionName == name; });
    if (waited >= kListenUs || (waited >= kEnoughForOneUs && named == 1)) break;
  }
  listener.stop();
  net::NearbySession picked;
  if (!pickNearby(heard, name, picked, why)) {
    // Not a session's name: perhaps a machine's, as --join always took.
    if (why.rfind("no session", 0) == 0 && resolvesAsMachine(name)) return true;
    return error = why, false;
  }
  options.joinAddress = nearbyInvite(picked);
  note = "joining " + describeNearby(picked);
  return true;
}

}  // namespace huddle::session
