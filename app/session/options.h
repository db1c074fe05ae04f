// The command line: what the user asked huddle to do. Parsing never exits the process; it
// returns a one-line error naming the bad option, and main() prints it with a usage hint.
// Thread: any (pure).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace huddle::session {

enum class Role { Ask, Host, Join };  // Ask: the window lets the user choose

struct Options {
  Role role = Role::Ask;
  std::string joinAddress;   // --join ADDR (host or host:port)
  std::string name;          // --name NAME (empty: a default)
  std::uint16_t chatPort = 9999;
  std::uint16_t screenPort = 9998;
  bool chatPortGiven = false;
  bool headless = false;
  bool help = false;
  bool version = false;
  std::string logLevel;      // --log-level LEVEL
  // Window testing and bug reports: save what the window shows as a PNG after a delay.
  std::string screenshotPath;       // --screenshot FILE
  double screenshotAfterSec = 3.0;  // --screenshot-after SECONDS
  double quitAfterSec = 0;          // --quit-after SECONDS (0: run until closed)
};

struct ParseResult {
  Options options;
  std::string error;  // empty on success
};

ParseResult parseOptions(const std::vector<std::string>& args);
std::string usageText();

// Splits "host", "host:port" into parts; the port falls back to `defaultPort`.
bool splitHostPort(const std::string& address, std::string& host, std::uint16_t& port, std::uint16_t defaultPort,
                   std::string& error);
// Parses a number of seconds, 0..86400; false on anything else.
bool parseSeconds(const std::string& text, double& seconds);
// Parses a TCP port 0..65535 written in decimal; false on anything else.
bool parsePort(const std::string& text, std::uint16_t& port);

}  // namespace huddle::session
