#include "app/session/headless.h"

#include <atomic>
#include <chrono>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <poll.h>
#include <string>
#include <thread>
#include <unistd.h>

#include "app/session/chat_command.h"
#include "app/session/chat_log.h"
#include "app/session/host_session.h"
#include "net/base/log.h"
#include "net/chat_client.h"

namespace huddle::session {

namespace {

std::atomic<int> g_signal{0};
void onSignal(int sig) { g_signal.store(sig); }

void installSignalHandlers() {
  struct sigaction sa {};
  sa.sa_handler = onSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

void out(const std::string& line) {
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

// Reads whole lines from stdin without blocking the event loop.
class StdinLines {
 public:
  // Waits up to timeoutMs; appends complete lines to `lines`. False once stdin hit EOF.
  bool poll(int timeoutMs, std::vector<std::string>& lines) {
    if (m_eof) {
      if (timeoutMs > 0) ::poll(nullptr, 0, timeoutMs);
      return false;
    }
    pollfd p{STDIN_FILENO, POLLIN, 0};
    int n = ::poll(&p, 1, timeoutMs);
    if (n <= 0) return true;
    char buf[4096];
    ssize_t got = ::read(STDIN_FILENO, buf, sizeof buf);
    if (got < 0 && (errno == EINTR || errno == EAGAIN)) return true;
    if (got <= 0) {
      m_eof = true;
      if (!m_partial.empty()) lines.push_back(std::move(m_partial));
      return false;
    }
    m_partial.append(buf, static_cast<std::size_t>(got));
    for (std::size_t nl; (nl = m_partial.find('\n')) != std::string::npos;) {
      lines.push_back(m_partial.substr(0, nl));
      m_partial.erase(0, nl + 1);
    }
    // A line longer than any message is cut here instead of growing without bound.
    if (m_partial.size() > 64 * 1024) lines.push_back(std::move(m_partial)), m_partial.clear();
    return true;
  }

 private:
  std::string m_partial;
  bool m_eof = false;
};

// Applies one client event to the log and prints the line it added, if any; returns false
// when the session is over for this client.
bool printEvent(const net::ChatClientEvent& ev, ChatLog& log) {
  if (log.apply(ev)) out(ChatLog::format(log.lines().back()));
  return ev.kind != net::ChatClientEvent::Kind::Disconnected;
}

std::string whoLine(const std::vector<wire::UserInfo>& users) {
  std::string line = "* Here: ";
  for (std::size_t i = 0; i < users.size(); ++i) {
    if (i) line += ", ";
    line += users[i].name;
    if (users[i].flags & wire::UserInfo::kFlagHost) line += " (host)";
    if (users[i].flags & wire::UserInfo::kFlagSharing) line += " (sharing)";
  }
  return line;
}

// Acts on one typed line; false if the user asked to leave.
bool handleLine(const std::string& line, net::ChatClient& client, HostSession* host, const ChatLog& log) {
  ChatCommand cmd = parseChatLine(line);
  switch (cmd.kind) {
    case ChatCommand::Kind::Empty: return true;
    case ChatCommand::Kind::Say:
      if (!client.say(cmd.text)) out("! Not sent: not connected.");
      return true;
    case ChatCommand::Kind::Private:
      if (!client.sayPrivate(cmd.target, cmd.text)) out("! Not sent: not connected, or no such name.");
      return true;
    case ChatCommand::Kind::Who: out(whoLine(log.users())); return true;
    case ChatCommand::Kind::Quit: return false;
    case ChatCommand::Kind::Kick:
      if (!host) out("! Only the host can remove people.");
      else if (!host->chatHub().kick(cmd.target, cmd.text)) out("! No user named \"" + cmd.target + "\" is here.");
      return true;
    case ChatCommand::Kind::Help: out("* " + chatHelpText()); return true;
    case ChatCommand::Kind::Error: out("! " + cmd.text); return true;
  }
  return true;
}

int runHost(const Options& options) {
  HostConfig config;
  config.name = options.name.empty() ? "host" : options.name;
  config.chatPort = options.chatPort;
  config.screenPort = options.screenPort;
  HostSession host;
  std::string error;
  if (!host.start(config, error)) {
    std::fprintf(stderr, "huddle: %s\n", error.c_str());
    return 1;
  }
  out("Huddle host \"" + config.name + "\" is running. Others can join at:");
  for (const auto& addr : host.joinAddresses()) out("  " + addr + ":" + std::to_string(host.chatPort()));
  out("Chat port " + std::to_string(host.chatPort()) + ", screen port " + std::to_string(host.screenPort()) +
      ". Lines you type are said in the chat. Ctrl+C ends the session.");

  StdinLines input;
  std::vector<std::string> lines;
  ChatLog log;
  while (g_signal.load() == 0) {
    lines.clear();
    input.poll(100, lines);
    for (const auto& line : lines) {
      if (!handleLine(line, host.localUser(), &host, log)) g_signal = SIGTERM;
    }
    for (auto& ev : host.localUser().events().drain()) printEvent(ev, log);
  }
  out("* Ending the session...");
  host.stop("The host ended the session.");
  out("* Session ended.");
  return 0;
}

int runClient(const Options& options) {
  net::ChatClientConfig config;
  std::string error;
  if (!splitHostPort(options.joinAddress, config.host, config.port, options.chatPort, error)) {
    std::fprintf(stderr, "huddle: %s\n", error.c_str());
    return 2;
  }
  config.name = options.name.empty() ? "guest" : options.name;
  net::ChatClient client;
  client.start(config);

  StdinLines input;
  std::vector<std::string> lines;
  ChatLog log;
  bool joinedOnce = false, inputOpen = true, leaving = false;
  auto leave = [&] {
    leaving = true;
    client.leave();
  };
  std::vector<std::string> early;  // typed before the handshake finished: said once joined
  while (true) {
    if (g_signal.load() != 0 && !leaving) leave();
    lines.clear();
    if (inputOpen) {
      inputOpen = input.poll(50, lines);
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    early.insert(early.end(), lines.begin(), lines.end());
    if (client.connected()) {
      for (const auto& line : early) {
        if (!handleLine(line, client, nullptr, log)) {
          leave();
          break;
        }
      }
      early.clear();
    }
    // EOF on stdin: everything typed has been said, so leave.
    if (!inputOpen && early.empty() && client.connected() && !leaving) leave();
    while (auto ev = client.events().take(std::chrono::milliseconds(0))) {
      joinedOnce = joinedOnce || ev->kind == net::ChatClientEvent::Kind::Connected;
      // Leaving, or the host ending the session, is a normal end; anything else failed.
      if (!printEvent(*ev, log)) return joinedOnce && (leaving || ev->sessionEnded) ? 0 : 1;
    }
  }
}

}  // namespace

int runHeadless(const Options& options) {
  installSignalHandlers();
  if (options.role == Role::Join) return runClient(options);
  return runHost(options);
}

}  // namespace huddle::session
