#include "app/session/options.h"

#include <charconv>

#include "net/wire/messages.h"

namespace huddle::session {

bool parsePort(const std::string& text, std::uint16_t& port) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty() || value > 65535) return false;
  port = static_cast<std::uint16_t>(value);
  return true;
}

bool parseSeconds(const std::string& text, double& seconds) {
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty() || !(value >= 0 && value <= 86400))
    return false;
  seconds = value;
  return true;
}

bool splitHostPort(const std::string& address, std::string& host, std::uint16_t& port, std::uint16_t defaultPort,
                   std::string& error) {
  std::size_t colon = address.rfind(':');
  host = address.substr(0, colon);
  port = defaultPort;
  if (colon != std::string::npos && !parsePort(address.substr(colon + 1), port)) {
    error = "bad port in address '" + address + "'";
    return false;
  }
  if (host.empty() || host.find_first_of(" /\\") != std::string::npos) {
    error = "bad host in address '" + address + "'";
    return false;
  }
  if (colon != std::string::npos && port == 0) {
    error = "port 0 in address '" + address + "'";
    return false;
  }
  return true;
}

std::string usageText() {
  return "Usage: huddle [--host | --join ADDR] [options]\n"
         "\n"
         "Hosts or joins a LAN session to chat and share screens. With no role, the window\n"
         "lets you choose.\n"
         "\n"
         "  --host               host a session\n"
         "  --join ADDR          join the session at ADDR (host or host:port)\n"
         "  --name NAME          your name in the session\n"
         "  --chat-port PORT     chat port (default 9999; 0 picks a free one when hosting)\n"
         "  --screen-port PORT   screen port (default 9998; 0 picks a free one when hosting)\n"
         "  --headless           no window: a host prints where to join; a client is a\n"
         "                       terminal chat (lines on stdin are said; EOF leaves)\n"
         "  --log-level LEVEL    debug, info, warn (default) or error, on stderr\n"
         "  --screenshot FILE    save what the window shows as a PNG (after 3 s, or\n"
         "                       --screenshot-after SECONDS)\n"
         "  --quit-after SECONDS close the window after that long (for scripts)\n"
         "  --help               show this help\n"
         "  --version            show the version\n";
}

ParseResult parseOptions(const std::vector<std::string>& args) {
  ParseResult r;
  Options& o = r.options;
  auto fail = [&](std::string msg) {
    r.error = std::move(msg);
    return r;
  };
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string arg = args[i];
    std::string value;
    bool hasInlineValue = false;
    if (arg.rfind("--", 0) == 0) {
      if (std::size_t eq = arg.find('='); eq != std::string::npos) {
        value = arg.substr(eq + 1);
        arg = arg.substr(0, eq);
        hasInlineValue = true;
      }
    }
    auto needValue = [&](std::string& out) -> bool {
      if (hasInlineValue) {
        out = value;
        return true;
      }
      if (i + 1 >= args.size()) return false;
      out = args[++i];
      return true;
    };
    auto noValue = [&]() { return !hasInlineValue; };

    if (arg == "--host") {
      if (!noValue()) return fail("option --host takes no value");
      if (o.role == Role::Join) return fail("--host and --join cannot be used together");
      o.role = Role::Host;
    } else if (arg == "--join") {
      if (!needValue(o.joinAddress) || o.joinAddress.empty()) return fail("option --join needs an address");
      if (o.role == Role::Host) return fail("--host and --join cannot be used together");
      o.role = Role::Join;
    } else if (arg == "--name") {
      if (!needValue(o.name) || o.name.empty()) return fail("option --name needs a name");
      if (std::string why = wire::validateName(o.name); !why.empty()) return fail("option --name: " + why);
    } else if (arg == "--chat-port" || arg == "--screen-port") {
      std::string text;
      if (!needValue(text)) return fail("option " + arg + " needs a port number");
      std::uint16_t& port = arg == "--chat-port" ? o.chatPort : o.screenPort;
      if (!parsePort(text, port)) return fail("option " + arg + ": '" + text + "' is not a port number (0-65535)");
      if (arg == "--chat-port") o.chatPortGiven = true;
    } else if (arg == "--headless") {
      if (!noValue()) return fail("option --headless takes no value");
      o.headless = true;
    } else if (arg == "--log-level") {
      if (!needValue(o.logLevel)) return fail("option --log-level needs a level");
      if (o.logLevel != "debug" && o.logLevel != "info" && o.logLevel != "warn" && o.logLevel != "error")
        return fail("option --log-level: unknown level '" + o.logLevel + "'");
    } else if (arg == "--screenshot") {
      if (!needValue(o.screenshotPath) || o.screenshotPath.empty()) return fail("option --screenshot needs a file name");
    } else if (arg == "--screenshot-after" || arg == "--quit-after") {
      std::string text;
      if (!needValue(text)) return fail("option " + arg + " needs a number of seconds");
      double& out = arg == "--quit-after" ? o.quitAfterSec : o.screenshotAfterSec;
      if (!parseSeconds(text, out)) return fail("option " + arg + ": '" + text + "' is not a number of seconds (0-86400)");
    } else if (arg == "--help" || arg == "-h") {
      o.help = true;
    } else if (arg == "--version") {
      o.version = true;
    } else if (arg.rfind("-", 0) == 0) {
      return fail("unknown option '" + arg + "'");
    } else {
      return fail("unexpected argument '" + arg + "'");
    }
  }
  if (o.role == Role::Join) {
    std::string host, error;
    std::uint16_t port = 0;
    if (!splitHostPort(o.joinAddress, host, port, o.chatPort, error)) return fail("option --join: " + error);
  }
  if (o.role == Role::Join && o.chatPort == 0) return fail("option --chat-port: 0 only makes sense when hosting");
  return r;
}

}  // namespace huddle::session
