#include "app/session/headless.h"

#include <atomic>
#include <chrono>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <poll.h>
#include <random>
#include <string>
#include <thread>
#include <unistd.h>

#include "app/session/chat_command.h"
#include "app/session/chat_log.h"
#include "app/session/config_files.h"
#include "app/session/reconnect.h"
#include "app/session/trust.h"
#include "app/session/host_session.h"
#include "app/session/screen_session.h"
#include "capture/synthetic_source.h"
#include "capture/x11_source.h"
#include "net/base/clock.h"
#include "net/base/log.h"
#include "net/chat_client.h"
#include "net/room_auth.h"
#include "net/tls_probe.h"

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
    case ChatCommand::Kind::Ban: {
      const bool ban = cmd.kind == ChatCommand::Kind::Ban;
      if (!host) out("! Only the host can remove people.");
      else if (!(ban ? host->chatHub().ban(cmd.target, cmd.text) : host->chatHub().kick(cmd.target, cmd.text)))
        out("! No one else named \"" + cmd.target + "\" is here.");
      else out(std::string("* ") + cmd.target + (ban ? " is banned from this session." : " was removed."));
      return true;
    }
    case ChatCommand::Kind::Password: {
      if (!host) {
        out("! Only the host can change the room password.");
        return true;
      }
      const std::optional<std::string> requested = requestedPassword(cmd.text);
      const std::string password = requested.value_or("");
      std::string error;
      if (!requested) out("! Password not changed: no random source to make one.");
      else if (!host->setPassword(password, error)) out("! Password not changed: " + error + ".");
      else if (password.empty()) out("* The room has no password now; everyone here stays.");
      else out("* The room password is now " + password + " (everyone here stays; newcomers need it).");
      return true;
    }
    case ChatCommand::Kind::Help: out("* " + chatHelpText()); return true;
    case ChatCommand::Kind::Error: out("! " + cmd.text); return true;
  }
  return true;
}

capture::CaptureSettings settingsFrom(const Options& o) {
  capture::CaptureSettings s;
  s.quality = o.quality;
  s.fps = o.fps;
  s.scalePercent = o.scalePercent;
  s.subsampling = o.chroma444 ? capture::Subsampling::S444 : capture::Subsampling::S420;
  return s.clamped();
}

std::unique_ptr<capture::ScreenSource> sourceFrom(const Options& o) {
  if (o.share == "x11") return std::make_unique<capture::X11Source>("", capture::X11Region{});
  capture::SceneMotion motion = o.sceneMotion == "full"     ? capture::SceneMotion::Full
                                : o.sceneMotion == "static" ? capture::SceneMotion::Static
                                                            : capture::SceneMotion::Partial;
  return std::make_unique<capture::SyntheticSource>(o.sceneWidthPx, o.sceneHeightPx, motion);
}

// The viewer's figures as JSON (for scripts and the benchmark).
bool writeStatsJson(const std::string& path, const StreamView& view, StreamStats& stats, double seconds,
                    std::string& error) {
  StreamStatsSnapshot s = stats.snapshot(base::monoUs());
  std::vector<double> lat = stats.allLatenciesMs();
  wire::StreamInfo info = view.info();
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (!f) return error = "cannot write " + path + ": " + std::strerror(errno), false;
  std::fprintf(f,
               "{\n  \"stream\": %u,\n  \"owner\": \"%s\",\n  \"width\": %u,\n  \"height\": %u,\n"
               "  \"seconds\": %.3f,\n  \"updates\": %llu,\n  \"updates_per_sec\": %.2f,\n"
               "  \"bytes\": %llu,\n  \"bytes_per_sec\": %.0f,\n  \"bytes_after_first\": %llu,\n  \"tiles\": %llu,\n"
               "  \"decode_ms_mean\": %.3f,\n  \"decode_errors\": %llu,\n"
               "  \"latency_ms\": {\"p50\": %.2f, \"p95\": %.2f, \"p99\": %.2f, \"samples\": %zu}\n}\n",
               info.streamId, info.ownerName.c_str(), s.widthPx, s.heightPx, seconds,
               static_cast<unsigned long long>(s.updates), static_cast<double>(s.updates) / seconds,
               static_cast<unsigned long long>(s.bytes), static_cast<double>(s.bytes) / seconds,
               static_cast<unsigned long long>(s.bytes - s.firstUpdateBytes),
               static_cast<unsigned long long>(s.tiles), s.decodeMsMean, static_cast<unsigned long long>(s.decodeErrors),
               percentile(lat, 50), percentile(lat, 95), percentile(lat, 99), lat.size());
  bool ok = std::fclose(f) == 0;
  if (!ok) error = "cannot write " + path;
  return ok;
}

int runHost(const Options& options) {
  HostConfig config;
  config.name = options.name.empty() ? "host" : options.name;
  config.chatPort = options.chatPort;
  config.screenPort = options.screenPort;
  config.hub.maxParticipants = static_cast<std::size_t>(options.maxParticipants);
  std::string error;
  if (!roomPassword(options, config.password, error)) {
    std::fprintf(stderr, "huddle: cannot read the room password: %s\n", error.c_str());
    return 1;
  }
  if (options.generatePassword) config.password = net::generateRoomPassword();
  if (options.keepHistory) {
    if (stateDir().empty()) {
      std::fprintf(stderr, "huddle: cannot keep history: set HOME or XDG_STATE_HOME\n");
      return 1;
    }
    config.hub.historyPath = stateDir() + "/chat-history.log";
  }
  bool created = false;
  config.identity = loadOrCreateHostIdentity(configDir(), created, error);
  if (!config.identity) {
    std::fprintf(stderr, "huddle: cannot host: %s\n", error.c_str());
    return 1;
  }
  HostSession host;
  if (!host.start(config, error)) {
    std::fprintf(stderr, "huddle: %s\n", error.c_str());
    return 1;
  }
  const net::Fingerprint& key = config.identity->fingerprint();
  out("Huddle host \"" + config.name + "\" is running" + (created ? " (with a new host key)" : "") +
      ". Its key code is " + net::shortCode(key) + ".");
  out("Others can join with an invite link (it carries the key code, so nobody can pose as this host):");
  for (const auto& addr : host.joinAddresses()) out("  " + inviteLink(addr, host.chatPort(), key));
  if (options.generatePassword) out("The room password is " + config.password + " (tell it to those you invite).");
  else if (!config.password.empty()) out("The room has a password: joiners need it.");
  out("Chat port " + std::to_string(host.chatPort()) + ", screen port " + std::to_string(host.screenPort()) +
      ". Lines you type are said in the chat. Ctrl+C ends the session.");

  StdinLines input;
  std::vector<std::string> lines;
  ChatLog log;
  bool shareStarted = options.share.empty();
  while (g_signal.load() == 0) {
    lines.clear();
    input.poll(100, lines);
    for (const auto& line : lines) {
      if (!handleLine(line, host.localUser(), &host, log)) g_signal = SIGTERM;
    }
    for (auto& ev : host.localUser().events().drain()) printEvent(ev, log);
    // Share once the host's own user is in, so the stream has its owner.
    if (!shareStarted && host.localUser().connected()) {
      shareStarted = true;
      auto source = sourceFrom(options);
      std::string title = source->title();
      if (host.startSharing(std::move(source), settingsFrom(options), 0, error)) {
        out("* Sharing: " + title + " at " + std::to_string(options.fps) + " fps, quality " +
            std::to_string(options.quality) + ".");
      } else {
        out("! Cannot share: " + error);
      }
    }
  }
  out("* Ending the session...");
  host.stop("The host ended the session.");
  out("* Session ended.");
  return 0;
}

// Headless viewing: watch a stream for a while and report, or save one frame.
struct Viewing {
  std::unique_ptr<ScreenSession> screen;
  std::shared_ptr<StreamView> view;
  std::int64_t startedUs = 0;     // first update seen (watch), or when we began (snapshot)
  std::int64_t waitingSinceUs = 0;
  std::int64_t watchedAtUs = 0;   // when we asked for the stream
};

// Decides which host key to pin before a single application byte is sent: the invite's
// code, the remembered key, or (meeting a host for the first time) its key learned by a
// probe and shown to the user to compare, as ssh does. False: do not join.
bool decideTrust(const Options& options, const JoinTarget& target, const KnownHosts& known, StdinLines& input,
                 std::vector<std::string>& early, net::TlsEngine::ClientTrust& pin, bool& remember) {
  remember = target.haveInvite;  // an invite's host is remembered once its full key is seen
  if (pinFor(target, known, pin)) return true;
  net::Fingerprint key{};
  std::string error;
  if (!net::probeHostKey(target.host, target.port, 10'000, key, error)) {
    out("! " + error);
    return false;
  }
  out("* The host at " + target.address + " is new to you. Its key code is " + net::shortCode(key) + ".");
  out("* Compare it with the code the host shows (an invite link from the host skips this).");
  if (options.trustNewHost) {
    out("* Trusting it and remembering it (--trust-new-host).");
    remember = true;
  } else {
    out("Trust this host? Type yes (and remember it), once, or no:");
    std::vector<std::string> lines;
    while (lines.empty() && g_signal.load() == 0)
      if (!input.poll(200, lines) && lines.empty()) break;  // EOF: no answer is a no
    const std::string answer = lines.empty() ? "" : lines.front();
    if (!lines.empty()) early.insert(early.end(), lines.begin() + 1, lines.end());
    if (answer == "yes" || answer == "y") {
      remember = true;
    } else if (answer == "once") {
      remember = false;
    } else {
      out("! Not joining: the host's key was not accepted.");
      return false;
    }
  }
  pin = pinOf(key);
  return true;
}

int runClient(const Options& options) {
  net::ChatClientConfig config;
  std::string error;
  JoinTarget target;
  if (!resolveJoinTarget(options.joinAddress, options.chatPort, target, error)) {
    std::fprintf(stderr, "huddle: %s\n", error.c_str());
    return 2;
  }
  config.host = target.host;
  config.port = target.port;
  if (!roomPassword(options, config.password, error)) {
    std::fprintf(stderr, "huddle: cannot read the room password: %s\n", error.c_str());
    return 1;
  }
  config.name = options.name.empty() ? "guest" : options.name;
  std::vector<std::string> warnings;
  const std::string knownPath = knownHostsPath();
  KnownHosts known = knownPath.empty() ? KnownHosts{} : KnownHosts::load(knownPath, warnings);
  for (const auto& w : warnings) HLOG_WARN("session/headless", "%s", w.c_str());
  StdinLines input;
  std::vector<std::string> early;  // typed before the handshake finished: said once joined
  net::TlsEngine::ClientTrust pin;
  bool remember = false;
  if (!decideTrust(options, target, known, input, early, pin, remember)) return 1;
  config.tls = pin;
  auto client = std::make_unique<net::ChatClient>();
  client->start(config);
  // Losing the host (not being sent away): come back by ourselves, typed lines kept.
  bool reconnecting = false;
  int attempt = 0;
  std::int64_t retryAtUs = 0;
  std::uint64_t lastToken = 0;
  std::mt19937 jitter{std::random_device{}()};

  std::vector<std::string> lines;
  ChatLog log;
  bool joinedOnce = false, inputOpen = true, leaving = false;
  const bool viewing = options.watch || options.snapshot;
  int exitCode = -1;  // set when a viewing task finishes
  Viewing v;
  auto leave = [&] {
    leaving = true;
    if (v.screen) v.screen->leave();
    client->leave();
  };
  while (true) {
    if (g_signal.load() != 0 && !leaving) leave();
    lines.clear();
    if (inputOpen) {
      inputOpen = input.poll(50, lines);
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    early.insert(early.end(), lines.begin(), lines.end());
    if (reconnecting && !leaving && base::monoUs() >= retryAtUs && client->finished()) {
      ++attempt;
      out(std::string("* ") + (joinedOnce ? "" : "The host is busy. ") + "Reconnecting... (attempt " +
          std::to_string(attempt) + ")");
      config.resumeToken = lastToken;  // our seat and name back at once
      client = std::make_unique<net::ChatClient>();
      client->start(config);
      retryAtUs = base::monoUs() + 3'600'000'000LL;  // until this attempt ends
    }
    if (reconnecting && leaving) return 0;  // left (Ctrl+C, EOF) while the host was gone
    if (client->connected()) {
      for (const auto& line : early) {
        if (!handleLine(line, *client, nullptr, log)) {
          leave();
          break;
        }
      }
      early.clear();
    }
    // EOF on stdin: everything typed has been said, so leave (unless a viewing task runs).
    if (!inputOpen && early.empty() && (client->connected() || reconnecting) && !leaving && !viewing &&
        options.share.empty())
      leave();
    while (auto ev = client->events().take(std::chrono::milliseconds(0))) {
      if (ev->kind == net::ChatClientEvent::Kind::Connected) {
        joinedOnce = true;
        reconnecting = false;
        attempt = 0;
        lastToken = client->token();
        // The host's full key: the screen port is pinned to it, and it is remembered.
        net::Fingerprint hostKey{};
        if (client->hostKey(hostKey) && remember && !knownPath.empty()) {
          known.remember(target.address, hostKey, ev->hostName);
          if (!known.save(knownPath, error)) out("! Cannot remember the host: " + error);
        }
        // The screen port: where the host said it is.
        v.screen = std::make_unique<ScreenSession>();
        ScreenSessionConfig sc;
        sc.link.host = config.host;
        sc.link.port = ev->screenPort ? ev->screenPort : options.screenPort;
        sc.name = ev->text;
        sc.token = client->token();
        sc.link.readLimitBytesPerSec = std::int64_t{options.readLimitKBps} * 1000;
        sc.link.tls = client->hostKey(hostKey) ? pinOf(hostKey) : pin;
        v.screen->start(sc);
        v.waitingSinceUs = base::monoUs();
      }
      // A lost host is tried again; the first failure of a retry keeps retrying.
      if (ev->kind == net::ChatClientEvent::Kind::Disconnected && !leaving && exitCode < 0 &&
          worthRetrying(*ev, joinedOnce, attempt)) {
        printEvent(*ev, log);
        if (v.screen) v.screen->leave();
        v = Viewing{};
        reconnecting = true;
        retryAtUs = base::monoUs() + retryDelayUs(attempt + 1, static_cast<std::uint32_t>(jitter()));
        break;
      }
      // Leaving, or the host ending the session, is a normal end; anything else failed.
      if (!printEvent(*ev, log)) {
        if (ev->hostKeyMismatch) out("! " + changedKeyAdvice(target));
        if (exitCode >= 0) return exitCode;
        return joinedOnce && (leaving || ev->sessionEnded) ? 0 : 1;
      }
    }
    if (!v.screen || leaving) continue;
    const std::int64_t now = base::monoUs();
    if (!options.share.empty() && v.screen->connected() && !v.screen->sharing() && exitCode < 0) {
      auto source = sourceFrom(options);
      std::string title = source->title();
      if (v.screen->startSharing(std::move(source), settingsFrom(options), 0, error)) out("* Sharing: " + title + ".");
      else out("! Cannot share: " + error);
      if (!v.screen->sharing()) exitCode = 1, leave();
    }
    if (!viewing || exitCode >= 0) continue;
    if (!v.view) {
      for (const auto& s : v.screen->streams())
        if (options.watchStream == 0 || s.streamId == options.watchStream) {
          v.view = v.screen->watch(s.streamId);
          v.watchedAtUs = now;
          if (v.view) out("* Watching stream " + std::to_string(s.streamId) + " (" + s.title + ", shared by " +
                          s.ownerName + ", " + std::to_string(s.widthPx) + "x" + std::to_string(s.heightPx) + ").");
          break;
        }
      if (!v.view && now - v.waitingSinceUs > 15'000'000) {
        out("! Nobody is sharing a screen" + std::string(options.watchStream ? " with that number" : "") + ".");
        exitCode = 1;
        leave();
      }
      continue;
    }
    if (v.view->ended()) {
      out("! The stream ended.");
      exitCode = 1;
      leave();
      continue;
    }
    if (v.view->updatesApplied() == 0) {
      if (now - v.waitingSinceUs > 20'000'000) {
        out("! No image arrived within 20 s.");
        exitCode = 1;
        leave();
      }
      continue;
    }
    if (options.snapshot) {
      std::string path = options.snapshotPath.empty()
                             ? "huddle-snapshot-" + base::formatFileStamp(base::wallUs()) + ".png"
                             : options.snapshotPath;
      if (v.view->savePng(path, error)) {
        out("* Saved " + path);
        exitCode = 0;
      } else {
        out("! Cannot save the snapshot: " + error);
        exitCode = 1;
      }
      leave();
      continue;
    }
    if (v.startedUs == 0) {
      v.startedUs = now;
      // After a reconnect too: how soon a whole image was back on the screen.
      out("* The first image came " + std::to_string((now - v.watchedAtUs) / 1000) + " ms after asking for the stream.");
    }
    double elapsed = static_cast<double>(now - v.startedUs) / 1e6;
    if (elapsed >= options.seconds) {
      exitCode = 0;
      auto snap = v.view->stats().snapshot(now);
      out("* Watched for " + std::to_string(static_cast<int>(elapsed)) + " s: " + std::to_string(snap.updates) +
          " updates.");
      if (!options.statsJson.empty()) {
        if (writeStatsJson(options.statsJson, *v.view, v.view->stats(), elapsed, error)) out("* Wrote " + options.statsJson);
        else out("! " + error), exitCode = 1;
      }
      leave();
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
