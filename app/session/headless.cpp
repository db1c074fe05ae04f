#include "app/session/headless.h"

#include <atomic>
#include <chrono>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <poll.h>
#include <string>
#include <thread>
#include <unistd.h>

#include "app/session/chat_command.h"
#include "app/session/chat_log.h"
#include "app/session/config_files.h"
#include "app/session/host_controller.h"
#include "app/session/join_controller.h"
#include "app/session/nearby.h"
#include "net/base/clock.h"
#include "net/base/held_signals.h"
#include "net/base/log.h"
#include "net/base/wake_fd.h"
#include "net/room_auth.h"

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

// How long the terminal's loop waits for input or news at most: when idle (as the window),
// and while a task it times is under way.
constexpr int kIdleWaitMs = 250;
constexpr int kTimedTaskWaitMs = 50;

// The terminal loop's wait: for a line typed, for news from the session (its wake, rung from
// network threads), or for the timeout, whichever comes first, as the window waits for
// events. Lines are read whole without blocking the loop.
class TerminalInput {
 public:
  // For ControllerEnv::wake. The wake fd lives as long as any copy does: network threads may
  // still ring it while the controller is going away.
  std::function<void()> waker() const {
    return [wake = m_wake] { wake->ring(); };
  }
  // Waits up to timeoutMs; appends complete lines to `lines`. False once stdin hit EOF.
  bool poll(int timeoutMs, std::vector<std::string>& lines) {
    // The waits end at once on Ctrl+C or SIGTERM (their handlers run in them).
    pollfd p[2] = {{m_wake->fd(), POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
    const int n = base::pollLettingSignalsIn(p, m_eof ? 1 : 2, timeoutMs);
    if (n <= 0) return !m_eof;
    if (p[0].revents & POLLIN) m_wake->take();
    if (m_eof || !(p[1].revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL))) return !m_eof;
    // A descriptor that is not open (POLLNVAL) fails the read: the end of input, as EOF is.
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
  std::shared_ptr<base::WakeFd> m_wake = std::make_shared<base::WakeFd>();
  std::string m_partial;
  bool m_eof = false;
};

// Prints the chat lines the controller added since the last call.
void printNewLines(const SessionController& c, std::uint64_t& printed) {
  c.chat().forEachSince(printed, [](const ChatLine& line) { out(ChatLog::format(line)); });
}

ControllerEnv envFrom(const Options& o) {
  ControllerEnv env;
  env.configDir = configDir();
  env.stateDir = stateDir();
  env.readLimitKBps = o.readLimitKBps;
  return env;
}

// The viewer's figures as JSON (for scripts and the benchmark).
bool writeStatsJson(const std::string& path, const StreamView& view, StreamStats& stats, double seconds,
                    const std::vector<PointerMark>& pointers, const std::vector<StrokeMark>& strokes, std::string& error) {
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
               "  \"tier\": %d,\n  \"tier_switches\": %llu,\n"
               "  \"sharp\": %d,\n  \"lossy_tiles\": %zu,\n  \"lossless_bytes\": %llu,\n  \"ms_to_sharp\": %.1f,\n"
               "  \"latency_ms\": {\"p50\": %.2f, \"p95\": %.2f, \"p99\": %.2f, \"samples\": %zu},\n",
               info.streamId, info.ownerName.c_str(), s.widthPx, s.heightPx, seconds,
               static_cast<unsigned long long>(s.updates), static_cast<double>(s.updates) / seconds,
               static_cast<unsigned long long>(s.bytes), static_cast<double>(s.bytes) / seconds,
               static_cast<unsigned long long>(s.bytes - s.firstUpdateBytes),
               static_cast<unsigned long long>(s.tiles), s.decodeMsMean, static_cast<unsigned long long>(s.decodeErrors),
               s.tier, static_cast<unsigned long long>(s.tierSwitches), view.sharp() ? 1 : 0, view.lossyTiles(), static_cast<unsigned long long>(view.losslessBytes()),
               view.msToSharp(),
               percentile(lat, 50), percentile(lat, 95), percentile(lat, 99), lat.size());
  // Pointers shown at the end (who, where, when): names are checked UTF-8 with no controls,
  // so only quotes and backslashes need escaping.
  const std::int64_t now = base::monoUs();
  std::fprintf(f, "  \"pointers\": [");
  for (std::size_t i = 0; i < pointers.size(); ++i) {
    const PointerMark& p = pointers[i];
    std::string name;
    for (char c : p.name) {
      if (c == '"' || c == '\\') name += '\\';
      name += c;
    }
    std::fprintf(f, "%s\n    {\"who\": \"%s\", \"participant\": %u, \"x\": %d, \"y\": %d, \"held\": %d, \"ms_ago\": %lld}",
                 i ? "," : "", name.c_str(), p.participantId, p.x, p.y, p.present ? 1 : 0,
                 static_cast<long long>((now - p.atMonoUs) / 1000));
  }
  std::fprintf(f, "%s],\n", pointers.empty() ? "" : "\n  ");
  // Pen strokes shown at the end: whose, how many points, where they start and end.
  std::fprintf(f, "  \"strokes\": [");
  std::size_t listed = 0;
  for (const StrokeMark& st : strokes) {
    if (st.points.empty()) continue;
    std::string name;
    for (char c : st.name) {
      if (c == '"' || c == '\\') name += '\\';
      name += c;
    }
    std::fprintf(f,
                 "%s\n    {\"who\": \"%s\", \"participant\": %u, \"points\": %zu, \"finished\": %d, "
                 "\"first\": [%u, %u], \"last\": [%u, %u], \"alpha\": %.2f}",
                 listed++ ? "," : "", name.c_str(), st.participantId, st.points.size(), st.finished ? 1 : 0,
                 unsigned(st.points.front().x), unsigned(st.points.front().y), unsigned(st.points.back().x),
                 unsigned(st.points.back().y), double(st.alpha));
  }
  std::fprintf(f, "%s]\n}\n", listed == 0 ? "" : "\n  ");
  bool ok = std::fclose(f) == 0;
  if (!ok) error = "cannot write " + path;
  return ok;
}

voice::AudioDeviceChoice voiceDevicesFrom(const Options& options) {
  voice::AudioDeviceChoice devices;
  devices.capture = options.mic;
  devices.playback = options.speaker;
  return devices;
}

// --quit-after: a terminal session ends that long after it began, as a signal would end it.
bool quitAfterDue(const Options& options, std::int64_t startedUs, std::int64_t nowUs) {
  return options.quitAfterSec > 0 && nowUs - startedUs >= static_cast<std::int64_t>(options.quitAfterSec * 1e6);
}

int runHost(const Options& options) {
  const std::int64_t startedUs = base::monoUs();
  HostRequest request;
  request.name = options.name.empty() ? "host" : options.name;
  request.chatPort = options.chatPort;
  request.screenPort = options.screenPort;
  request.voicePort = options.voicePort;
  request.voiceLossPercent = options.voiceLossPercent;
  request.maxParticipants = options.maxParticipants;
  request.keepHistory = options.keepHistory;
  request.maxFileBytes = options.maxFileBytes;
  request.announce = announceWanted(options);
  std::string error;
  if (!roomPassword(options, request.password, error)) {
    std::fprintf(stderr, "huddle: cannot read the room password: %s\n", error.c_str());
    return 1;
  }
  if (options.generatePassword) request.password = net::generateRoomPassword();
  TerminalInput input;
  ControllerEnv env = envFrom(options);
  env.wake = input.waker();
  auto teardown = std::make_shared<Teardown>();
  env.teardown = teardown;
  HostController host(request, env);
  host.setViewerMarks(options.viewerMarks);
  if (!host.start(base::monoUs())) {
    std::fprintf(stderr, "huddle: %s\n", host.state().status.c_str());
    return 1;
  }
  for (const auto& line : hostBanner(request.name, host.info(), options.generatePassword)) out(line);
  out("Lines you type are said in the chat. Ctrl+C ends the session.");
  if (!options.share.empty()) host.shareWhenJoined(shareSpecFrom(options));
  host.setMuted(options.mute);
  host.setVoiceDevices(voiceDevicesFrom(options));
  host.setVoiceAutoGain(options.autoGain);
  if (options.voice) host.setVoice(true);
  if (!options.acceptFilesDir.empty()) host.acceptFilesInto(options.acceptFilesDir);

  std::vector<std::string> lines;
  std::uint64_t printed = 0;
  while (true) {
    base::letHeldSignalsIn();
    if (g_signal.load() != 0 || quitAfterDue(options, startedUs, base::monoUs()) || host.state().phase == Phase::Ended)
      break;
    lines.clear();
    input.poll(kIdleWaitMs, lines);
    for (const auto& line : lines)
      if (host.submitLine(line) != LineOutcome::Done) g_signal = SIGTERM;
    host.tick(base::monoUs());
    printNewLines(host, printed);
  }
  if (host.state().phase == Phase::Ended && !host.state().leftByUs) out("! " + host.state().status);
  out("* Ending the session...");
  host.leave();
  teardown->drain();  // everyone is told, and the ports close
  out("* Session ended.");
  return 0;
}

// One line of what the voice did, for scripts and tests.
void printVoiceStats(const SessionController& c) {
  const voice::VoiceLinkStats s = c.voiceStats();
  char line[256];
  std::snprintf(line, sizeof line,
                "* Voice: sent %llu frames, received %llu, played %llu, concealed %llu, recovered %llu, dropped %llu, "
                "bytes out %llu, in %llu; audio from %lld us.",
                static_cast<unsigned long long>(s.framesSent), static_cast<unsigned long long>(s.framesReceived),
                static_cast<unsigned long long>(s.played), static_cast<unsigned long long>(s.concealed),
                static_cast<unsigned long long>(s.recovered), static_cast<unsigned long long>(s.dropped),
                static_cast<unsigned long long>(s.bytesSent), static_cast<unsigned long long>(s.bytesReceived),
                static_cast<long long>(s.audioStartedUs));
  out(line);
}

// Decides a first meeting from the terminal: the answer is the first line typed.
TrustAnswer trustAnswer(const std::string& line) {
  if (line == "yes" || line == "y") return TrustAnswer::Remember;
  if (line == "once") return TrustAnswer::Once;
  return TrustAnswer::No;
}

// Headless viewing: watch a stream for a while and report, or save one frame.
struct Viewing {
  std::uint32_t streamId = 0;
  std::int64_t startedUs = 0;     // first update seen (watch)
  std::int64_t waitingSinceUs = 0;
  std::int64_t watchedAtUs = 0;   // when we asked for the stream
  bool sawScreens = false;
  std::int64_t screensAwaySinceUs = 0;  // the screen port is not up (0: it is)
  bool away = false;              // the stream is away with the host (a reconnect)
  std::shared_ptr<StreamView> view;  // the view being timed
  bool saidPointing = false;         // --point: "Pointing at" was said
  std::int64_t penDrawnUs = 0;       // --pen: when our stroke was last drawn (0: not yet)
};

// How long a watching task waits for the screen port (first join or after a loss).
constexpr std::int64_t kScreensAwayLimitUs = 60'000'000;

// One turn of a viewing task; returns an exit code once it is finished, else -1.
int stepViewing(const Options& options, JoinController& client, Viewing& v, std::int64_t now) {
  const ControllerState& st = client.state();
  if (!st.screensConnected) {
    v.sawScreens = false;
    // The controller opens a lost screen port again by itself (and a lost chat with it); a
    // script watching gives up once that has not worked for a while.
    const bool joinedBefore = st.phase == Phase::InSession || st.phase == Phase::Reconnecting;
    if (!joinedBefore) return -1;  // still joining (a question may be waiting for the user)
    if (v.screensAwaySinceUs == 0) v.screensAwaySinceUs = now;
    if (now - v.screensAwaySinceUs > kScreensAwayLimitUs) {
      out("! The screens did not come back within " + std::to_string(kScreensAwayLimitUs / 1'000'000) + " s.");
      return 1;
    }
    return -1;
  }
  v.screensAwaySinceUs = 0;
  if (!v.sawScreens) {
    v.sawScreens = true;
    v.waitingSinceUs = now;
  }
  std::shared_ptr<StreamView> view = v.streamId ? client.view(v.streamId) : nullptr;
  if (!v.streamId) {
    for (const auto& s : st.streams)
      if (options.watchStream == 0 || s.streamId == options.watchStream) {
        if (!client.watch(s.streamId)) break;
        v.streamId = s.streamId;
        v.watchedAtUs = now;
        out("* Watching stream " + std::to_string(s.streamId) + " (" + s.title + ", shared by " + s.ownerName + ", " +
            std::to_string(s.widthPx) + "x" + std::to_string(s.heightPx) + ").");
        break;
      }
    if (!v.streamId && now - v.waitingSinceUs > 15'000'000) {
      out("! Nobody is sharing a screen" + std::string(options.watchStream ? " with that number" : "") + ".");
      return 1;
    }
    return -1;
  }
  if (!client.watching(v.streamId)) {
    if (v.away) {
      // Back after a reconnect, and the stream did not come back under its number (a host
      // that restarted numbers them anew): watch what is shared now.
      v = Viewing{};
      return -1;
    }
    out("! The stream ended.");
    return 1;
  }
  if (!view) {  // its stream is coming back after a reconnect
    v.away = true;
    return -1;
  }
  v.away = false;
  if (view != v.view) {
    // A new view: the first, or the stream taken up again after a reconnect.
    if (v.view) v.watchedAtUs = now;
    v.view = view;
    v.startedUs = 0;
  }
  if (view->updatesApplied() == 0) {
    if (now - v.watchedAtUs > 20'000'000) {
      out("! No image arrived within 20 s.");
      return 1;
    }
    return -1;
  }
  std::string error;
  if (options.snapshot && options.snapshotWhenSharp && !view->sharp()) {
    if (now - v.watchedAtUs > 20'000'000) {
      out("! The image did not turn sharp within 20 s (" + std::to_string(view->lossyTiles()) + " tiles still JPEG).");
      return 1;
    }
    return -1;
  }
  if (options.snapshot) {
    std::string path = options.snapshotPath.empty()
                           ? "huddle-snapshot-" + base::formatFileStamp(base::wallUs()) + ".png"
                           : options.snapshotPath;
    if (view->savePng(path, error, options.snapshotCursor)) {
      out("* Saved " + path);
      return 0;
    }
    out("! Cannot save the snapshot: " + error);
    return 1;
  }
  if (v.startedUs == 0) {
    v.startedUs = now;
    // After a reconnect too: how soon a whole image was back on the screen.
    out("* The first image came " + std::to_string((now - v.watchedAtUs) / 1000) + " ms after asking for the stream.");
  }
  if (options.point) {
    const wire::StreamInfo info = view->info();
    if (std::string why = wire::validatePointer(options.pointX, options.pointY, info.widthPx, info.heightPx); !why.empty()) {
      out("! --point: " + why + ".");
      return 1;
    }
  }
  if ((options.point || !options.penPoints.empty()) && !client.viewerMarksAllowed(v.streamId)) {
    out(std::string(options.point ? "! --point" : "! --pen") + ": the sharer does not let viewers point or draw.");
    return 1;
  }
  if (options.point) {
    // Held for the whole run: the controller sends it (and again while held).
    client.pointAt(v.streamId, options.pointX, options.pointY);
    if (!v.saidPointing && client.pointerShown(v.streamId)) {
      v.saidPointing = true;
      out("* Pointing at " + std::to_string(options.pointX) + "," + std::to_string(options.pointY) + " of stream " +
          std::to_string(v.streamId) + ".");
    }
  }
  if (!options.penPoints.empty()) {
    const wire::StreamInfo info = view->info();
    for (auto [x, y] : options.penPoints)
      if (std::string why = wire::validatePointer(x, y, info.widthPx, info.heightPx); !why.empty()) {
        out("! --pen: " + why + ".");
        return 1;
      }
  }
  const std::int64_t redrawUs = std::int64_t(wire::kPenHoldMs) * 1000;  // a new one before the last fades
  if (!options.penPoints.empty() && (v.penDrawnUs == 0 || now - v.penDrawnUs >= redrawUs)) {
    // One stroke through the points; drawn again as the last one starts to fade.
    const auto& pts = options.penPoints;
    client.penDown(v.streamId, std::uint16_t(pts[0].first), std::uint16_t(pts[0].second));
    for (std::size_t i = 1; i < pts.size(); ++i) client.penTo(v.streamId, std::uint16_t(pts[i].first), std::uint16_t(pts[i].second));
    client.penUp(v.streamId);
    if (v.penDrawnUs == 0)
      out("* Drawing a stroke of " + std::to_string(pts.size()) + " points on stream " + std::to_string(v.streamId) + ".");
    v.penDrawnUs = now;
  }
  const double elapsed = static_cast<double>(now - v.startedUs) / 1e6;
  if (elapsed < options.seconds) return -1;
  if (options.point) client.pointGone(v.streamId);
  auto snap = view->stats().snapshot(now);
  out("* Watched for " + std::to_string(static_cast<int>(elapsed)) + " s: " + std::to_string(snap.updates) + " updates.");
  if (options.statsJson.empty()) return 0;
  if (!writeStatsJson(options.statsJson, *view, view->stats(), elapsed, client.pointers(v.streamId, now),
                      client.strokes(v.streamId, now), error)) {
    out("! " + error);
    return 1;
  }
  out("* Wrote " + options.statsJson);
  return 0;
}

int runClient(const Options& options) {
  const std::int64_t startedUs = base::monoUs();
  JoinRequest request;
  request.address = options.joinAddress;
  request.defaultPort = options.chatPort;
  request.name = options.name.empty() ? "guest" : options.name;
  request.trustNewHost = options.trustNewHost;
  std::string error;
  if (!roomPassword(options, request.password, error)) {
    std::fprintf(stderr, "huddle: cannot read the room password: %s\n", error.c_str());
    return 1;
  }
  TerminalInput input;
  ControllerEnv env = envFrom(options);
  env.wake = input.waker();
  JoinController client(request, env);
  client.setViewerMarks(options.viewerMarks);
  client.start(base::monoUs());
  if (client.state().phase == Phase::Ended) {
    std::fprintf(stderr, "huddle: %s\n", client.state().status.c_str());
    return 2;
  }
  if (!options.share.empty()) client.shareWhenJoined(shareSpecFrom(options));
  client.setMuted(options.mute);
  client.setVoiceDevices(voiceDevicesFrom(options));
  client.setVoiceAutoGain(options.autoGain);
  if (options.voice) client.setVoice(true);
  if (!options.acceptFilesDir.empty()) client.acceptFilesInto(options.acceptFilesDir);
  std::int64_t voiceSinceUs = 0;  // --voice with stdin closed: when voice began to flow
  const bool viewing = options.watch || options.snapshot;
  std::vector<std::string> lines;
  std::uint64_t printed = 0;
  std::string shownStatus;
  bool inputOpen = true;
  bool askedTrust = false;
  int exitCode = -1;  // set when a viewing or sharing task finishes
  Viewing v;
  while (true) {
    base::letHeldSignalsIn();
    const ControllerState& st = client.state();
    if ((g_signal.load() != 0 || quitAfterDue(options, startedUs, base::monoUs())) && st.phase != Phase::Ended)
      client.leave();
    lines.clear();
    // A task timed by the terminal (watching, voice for --seconds) looks often; else news
    // wakes the loop, and it ticks the controller at least as often as the window does.
    const bool timedTask = viewing || (options.voice && !inputOpen);
    inputOpen = input.poll(timedTask ? kTimedTaskWaitMs : kIdleWaitMs, lines) && inputOpen;
    const std::int64_t now = base::monoUs();
    std::size_t first = 0;
    if (client.state().phase == Phase::AskTrust && (!lines.empty() || !inputOpen)) {
      // The first line typed answers; no answer (EOF) is a no.
      client.answerTrust(lines.empty() ? TrustAnswer::No : trustAnswer(lines.front()), now);
      first = 1;
    }
    for (std::size_t i = first; i < lines.size(); ++i) {
      if (client.submitLine(lines[i]) == LineOutcome::Done) continue;
      if (client.state().voiceOn) printVoiceStats(client);
      client.leave();
    }
    client.tick(now);
    printNewLines(client, printed);
    const Phase phase = client.state().phase;
    // Progress is said as it changes; how a session ends is already in the chat lines.
    if ((phase == Phase::Checking || phase == Phase::Connecting || phase == Phase::Reconnecting) &&
        client.state().status != shownStatus) {
      shownStatus = client.state().status;
      out("* " + shownStatus);
    }
    if (phase == Phase::AskTrust && !askedTrust) {
      askedTrust = true;
      out("* Compare it with the code the host shows (an invite link from the host skips this).");
      out("Trust this host? Type yes (and remember it), once, or no:");
    }
    if (phase == Phase::AskPassword) {
      out("! " + client.state().status);
      client.leave();
      return 1;
    }
    if (phase == Phase::Ended) {
      if (exitCode >= 0) return exitCode;
      const ControllerState& end = client.state();
      if (!end.everJoined && !end.leftByUs && printed == 0) out("! " + end.status);
      return end.everJoined && (end.leftByUs || end.sessionEnded) ? 0 : 1;
    }
    if (exitCode >= 0) continue;  // leaving after a finished task
    // A share asked for on the command line that could not start ends the run.
    if (!options.share.empty() && !client.state().shareError.empty()) {
      exitCode = 1;
      client.leave();
      continue;
    }
    if (viewing && phase == Phase::InSession) {
      exitCode = stepViewing(options, client, v, now);
      if (exitCode >= 0) client.leave();
      continue;
    }
    // --voice with nothing on stdin: in the voice for --seconds once it flows, then leave.
    if (options.voice && !inputOpen && !viewing && options.share.empty()) {
      if (voiceSinceUs == 0 && client.state().voiceConnected) voiceSinceUs = now;
      if (voiceSinceUs != 0 && now - voiceSinceUs >= static_cast<std::int64_t>(options.seconds * 1e6)) {
        printVoiceStats(client);
        client.leave();
      }
      if (!client.state().voiceError.empty() && !client.state().voiceOn) {
        exitCode = 1;
        client.leave();
      }
      continue;
    }
    // EOF on stdin: once everything typed has been said, leave (unless a task runs: a share, or
    // a file arriving or being taken from us).
    if (!inputOpen && !viewing && options.share.empty() && client.outboxLines() == 0 && !client.filesBusy() &&
        (phase == Phase::Reconnecting || (phase == Phase::InSession && client.state().screensConnected)))
      client.leave();
  }
}
}  // namespace

int runHeadless(const Options& options) {
  installSignalHandlers();
  if (options.role == Role::Join) return runClient(options);
  return runHost(options);
}

// --list-audio: the devices SDL can open, by the names --mic and --speaker take.
int runListAudio() {
  std::string driver;
  const auto mics = voice::audioDeviceNames(true, &driver), speakers = voice::audioDeviceNames(false);
  std::printf("Audio driver: %s\n", driver.empty() ? "none (no sound here)" : driver.c_str());
  std::printf("Microphones (--mic NAME):\n");
  for (const auto& n : mics) std::printf("  %s\n", n.c_str());
  if (mics.empty()) std::printf("  (none listed; the system's default may still work)\n");
  std::printf("Speakers (--speaker NAME):\n");
  for (const auto& n : speakers) std::printf("  %s\n", n.c_str());
  if (speakers.empty()) std::printf("  (none listed; the system's default may still work)\n");
  return 0;
}

}  // namespace huddle::session
