// Reading what a huddle host prints: the loopback invite link others join with.
#pragma once
#include <regex>
#include <string>

namespace huddle::test {

// "huddle://127.0.0.1:PORT/?fp=HUDL-..." from a host's output; empty if not there yet.
inline std::string loopbackInvite(const std::string& hostOutput) {
  std::smatch m;
  if (!std::regex_search(hostOutput, m, std::regex(R"(huddle://127\.0\.0\.1:[0-9]+/\?fp=[A-Z0-9-]+)"))) return "";
  return m[0].str();
}

}  // namespace huddle::test
