#include "app/session/session_controller.h"

#include "net/base/clock.h"

#include <algorithm>
#include <charconv>
#include <random>

#include "app/session/chat_command.h"
#include "app/session/download_dir.h"
#include "app/session/reconnect.h"
#include "capture/synthetic_source.h"
#include "capture/x11_source.h"

namespace huddle::session {

namespace {
// After a reconnect, how long a watched stream may be missing from the host's list before it
// counts as ended (the list arrives as one announcement per stream).
constexpr std::int64_t kStreamsSettleUs = 2'000'000;
// A screen port that stayed up this long after a reopening starts its backoff afresh.
constexpr std::int64_t kScreensStableUs = 10'000'000;
}  // namespace

void ShareSpec::setEncoding(int quality, int fps, int scalePercent, bool chroma444) {
  settings.quality = quality;
  settings.fps = fps;
  settings.scalePercent = scalePercent;
  settings.subsampling = chroma444 ? capture::Subsampling::S444 : capture::Subsampling::S420;
  settings = settings.clamped();
}

void ShareSpec::setSharp(bool on, int stillMs) {
  settings.sharpWhenStill = on;
  settings.stillMs = stillMs;
  settings = settings.clamped();
}

ShareSpec shareSpecFrom(const Options& o) {
  ShareSpec spec;
  spec.source = o.share == "x11" ? "screen" : "scene";
  if (o.share == "x11" && !o.shareWindow.empty()) {
    spec.source = "window";
    spec.window = o.shareWindow;
  } else if (o.share == "x11" && !o.shareMonitor.empty()) {
    spec.source = "monitor";
    int index = 0;
    auto [end, ec] = std::from_chars(o.shareMonitor.data(), o.shareMonitor.data() + o.shareMonitor.size(), index);
    if (ec == std::errc() && end == o.shareMonitor.data() + o.shareMonitor.size()) spec.monitor = index - 1;  // 1 is the first
    else spec.monitorName = o.shareMonitor;
  } else if (o.share == "x11" && o.shareRegion) {
    spec.source = "region";
    spec.regionX = o.regionX, spec.regionY = o.regionY, spec.regionW = o.regionW, spec.regionH = o.regionH;
  }
  spec.sceneWidthPx = o.sceneWidthPx;
  spec.sceneHeightPx = o.sceneHeightPx;
  spec.sceneMotion = o.sceneMotion;
  spec.sceneCursor = o.sceneCursor;
  spec.setEncoding(o.quality, o.fps, o.scalePercent, o.chroma444);
  spec.setSharp(o.sharpWhenStill, o.stillMs);
  return spec;
}

std::unique_ptr<capture::ScreenSource> makeShareSource(const ShareSpec& spec) {
  if (spec.source == "scene") {
    const capture::SceneMotion motion = spec.sceneMotion == "full"     ? capture::SceneMotion::Full
                                        : spec.sceneMotion == "static" ? capture::SceneMotion::Static
                                        : spec.sceneMotion == "settle" ? capture::SceneMotion::Settle
                                                                       : capture::SceneMotion::Partial;
    const capture::SceneCursor cursor = spec.sceneCursor == "still"  ? capture::SceneCursor::Still
                                        : spec.sceneCursor == "none" ? capture::SceneCursor::None
                                                                     : capture::SceneCursor::Moving;
    return std::make_unique<capture::SyntheticSource>(spec.sceneWidthPx, spec.sceneHeightPx, motion, cursor);
  }
  capture::X11Region region;
  if (spec.source == "monitor") {
    region.kind = capture::X11Region::Kind::Monitor;
    region.monitor = spec.monitor;
    region.monitorName = spec.monitorName;
  } else if (spec.source == "window") {
    region.kind = capture::X11Region::Kind::Window;
    region.window = spec.window;
  } else if (spec.source == "region") {
    region.kind = capture::X11Region::Kind::Rect;
    region.x = spec.regionX;
    region.y = spec.regionY;
    region.w = spec.regionW;
    region.h = spec.regionH;
  }
  return std::make_unique<capture::X11Source>("", region);
}

const char* phaseName(Phase phase) {
  switch (phase) {
    case Phase::Idle: return "idle";
    case Phase::Checking: return "checking";
    case Phase::AskTrust: return "ask-trust";
    case Phase::Connecting: return "connecting";
    case Phase::InSession: return "in-session";
    case Phase::Reconnecting: return "reconnecting";
    case Phase::AskPassword: return "ask-password";
    case Phase::Ended: return "ended";
  }
  return "?";
}

SessionController::SessionController(ControllerEnv env) : m_env(std::move(env)) {
  if (!m_env.random) {
    auto engine = std::make_shared<std::mt19937>(std::random_device{}());
    m_env.random = [engine] { return static_cast<std::uint32_t>((*engine)()); };
  }
  if (!m_env.teardown) m_env.teardown = std::make_shared<Teardown>();
}

SessionController::~SessionController() = default;

void SessionController::setStatus(std::string text, bool error) {
  m_state.status = std::move(text);
  m_state.statusIsError = error;
}

void SessionController::note(const std::string& text, ChatLine::Style style) { m_chat.addLocal(style, text); }

// [SECTION] tick

void SessionController::tick(std::int64_t nowUs) {
  m_nowUs = nowUs;
  tickRole(nowUs);
  drainEvents(nowUs);
  reopenLostScreens(nowUs);
  syncStreams(nowUs);
  refreshShareState();
  pacePointers(nowUs);
  syncVoice();
  tickFiles();
}

void SessionController::tickFiles() {
  m_files->tick(m_nowUs);
  for (auto& n : m_files->takeNotes()) {
    if (n.offerId) m_chat.addFileOffer(n.text, n.offerId);
    else note(n.text, n.error ? ChatLine::Style::Notice : ChatLine::Style::System);
  }
}

bool SessionController::sendFile(const std::string& path, const std::string& to) {
  if (m_state.phase == Phase::Ended || m_state.phase == Phase::Idle) {
    note("Not sent: not in a session.");
    return false;
  }
  if (std::string why = m_files->offer(path, to); !why.empty()) {
    note(why);
    return false;
  }
  tickFiles();
  return true;
}

bool SessionController::acceptFile(std::uint32_t id, const std::string& dir) {
  const std::string where = dir.empty() ? downloadDir() : dir;
  if (std::string why = m_files->accept(id, where); !why.empty()) {
    note(why);
    return false;
  }
  tickFiles();
  return true;
}

void SessionController::declineFile(std::uint32_t id) {
  m_files->decline(id);
  tickFiles();
}

void SessionController::drainEvents(std::int64_t nowUs) {
  net::ChatClient* client = chatClient();
  if (!client) return;
  for (auto& ev : client->events().drain()) {
    using Kind = net::ChatClientEvent::Kind;
    // A retry that fails is said in the status line, not once more in the chat.
    const bool failedRetry = ev.kind == Kind::Disconnected && m_state.phase == Phase::Reconnecting;
    if (!failedRetry && !(ev.kind == Kind::Disconnected && m_leaving)) m_chat.apply(ev);
    if (ev.kind == Kind::Connected) {
      m_state.everJoined = true;
      m_state.selfName = ev.text;
      m_state.sessionTitle = ev.hostName + "'s session";
      m_state.phase = Phase::InSession;
      m_voicePort = ev.voicePort;
      m_state.selfId = ev.participantId;
      m_files->attach(*client, ev.participantId);
      onConnected(ev, nowUs);
      startVoice();
      sayOutbox();
    } else if (ev.kind == Kind::Disconnected) {
      if (m_leaving) continue;  // our own leaving, already said
      m_files->detach();
      retireScreens();
      retireVoice();
      m_voicePort = 0;
      onDisconnected(ev, nowUs);
      client = chatClient();  // the role may have let the old one go
      if (!client) return;
    }
  }
}

// The host dropped our screen connection alone (a stall while a large update was on its way,
// a limit), or it broke: the chat is still up, so the screens come back by themselves after
// the same backoff as a lost chat; meanwhile watched streams keep their last image and a
// share waits to resume. Said once per loss, not once per try.
void SessionController::reopenLostScreens(std::int64_t nowUs) {
  net::ChatClient* client = chatClient();
  const bool chatUp = m_state.phase == Phase::InSession && client && client->connected();
  if (!m_screen || !m_screenTarget || !chatUp || m_leaving) return;
  if (m_screen->connected()) {
    if (m_screenRetries > 0 && nowUs - m_screensSinceUs >= kScreensStableUs) m_screenRetries = 0;
    return;
  }
  if (!m_screen->finished()) return;
  if (m_screenRetryAtUs == 0) {
    ++m_screenRetries;
    m_screenRetryAtUs = nowUs + retryDelayUs(m_screenRetries, random());
    return;
  }
  if (nowUs < m_screenRetryAtUs) return;
  // Said only now: a session that ended closes the screens a moment before the chat, and
  // that end is the chat's to say.
  if (m_screenRetries == 1) {
    const std::string why = m_screen->endText();
    note("Screens lost" + (why.empty() ? std::string(".") : ": " + why) + " Opening them again.",
         ChatLine::Style::System);
  }
  m_screenRetryAtUs = 0;
  const ScreenTarget t = *m_screenTarget;
  startScreens(t.host, t.port, t.pin, t.name, t.token, t.seatKey);
}

// Streams come and go; watched ones whose stream ended are said once and let go, and
// after a reconnect the watched streams are taken up again as they come back.
void SessionController::syncStreams(std::int64_t nowUs) {
  const bool connected = m_screen && m_screen->connected();
  if (connected && !m_state.screensConnected) m_screensSinceUs = nowUs;
  m_state.screensConnected = connected;
  m_state.streams = m_screen ? m_screen->streams() : std::vector<wire::StreamInfo>{};
  if (!m_state.screensConnected) return;  // away: watched streams wait with their last image
  if (m_autoWatch) {
    for (const auto& s : m_state.streams)
      if (m_autoWatchId == 0 || s.streamId == m_autoWatchId) {
        m_autoWatch = false;
        watch(s.streamId);
        break;
      }
  }
  if (m_autoShare) {
    std::unique_ptr<ShareSpec> spec = std::move(m_autoShare);
    startSharing(*spec);
  }
  std::vector<std::uint32_t> gone;
  for (auto& [id, w] : m_watched) {
    const bool listed = std::any_of(m_state.streams.begin(), m_state.streams.end(),
                                    [id = id](const wire::StreamInfo& s) { return s.streamId == id; });
    // The screen link's end marks every view ended too, and may come while this loop runs
    // (after the check above): asked again, that view waits as when away; the chat says why.
    if (w.view && w.view->ended() && !m_screen->connected()) continue;
    if (w.view && w.view->ended()) {
      note(w.view->info().ownerName + " stopped sharing.", ChatLine::Style::System);
      gone.push_back(id);
    } else if (!w.view && listed) {
      w.view = m_screen->watch(id);  // back after a reconnect
    } else if (!w.view && !listed) {
      // Not back (yet): the host announces its streams one by one just after the screen
      // port joins; one still missing a moment later ended while we were away.
      if (nowUs - m_screensSinceUs >= kStreamsSettleUs) gone.push_back(id);
    }
  }
  for (std::uint32_t id : gone) m_watched.erase(id);
}

void SessionController::refreshShareState() {
  capture::CapturePipeline* p = sharePipeline();
  if (p && !p->running()) {
    // The capture thread stopped on its own (the source failed, or a bug): the share ends
    // for everyone, and the sharer is told why.
    const std::string why = p->failure();
    stopSharingOn();
    p = nullptr;
    m_state.shareError = "Sharing stopped: " + (why.empty() ? std::string("the capture ended") : why);
    note(m_state.shareError);
  } else if (p) {
    if (const std::string refused = shareRefusal(); !refused.empty()) {
      // The host would not take it (at its stream cap, say): stop capturing, say its words.
      stopSharingOn();
      p = nullptr;
      m_state.shareError = "Cannot share: " + refused;
      note(m_state.shareError);
    }
  }
  m_state.sharing = p != nullptr;
  if (p) {
    m_state.shareStats = p->stats();
    m_state.shareTitle = p->title();
  }
}

// [SECTION] commands

LineOutcome SessionController::submitLine(const std::string& line) {
  const ChatCommand cmd = parseChatLine(line);
  using Kind = ChatCommand::Kind;
  net::ChatClient* client = chatClient();
  const bool joined = client && client->connected() && m_state.phase == Phase::InSession;
  // In the session but its link just dropped (the event not drained yet): kept like the rest.
  const bool waiting = m_state.phase == Phase::Connecting || m_state.phase == Phase::Checking ||
                       m_state.phase == Phase::AskTrust || m_state.phase == Phase::Reconnecting ||
                       (m_state.phase == Phase::InSession && !joined);
  switch (cmd.kind) {
    case Kind::Empty: break;
    case Kind::Say:
    case Kind::Private:
      if (!joined && waiting) {
        // Said once in: typed ahead of the handshake, or while the host is away.
        m_outbox.push_back(line);
        if (m_state.phase == Phase::Reconnecting) note("(will be said when the host is back) " + cmd.text);
      } else if (!joined) {
        note("Not sent: not in a session.");
      } else if (cmd.kind == Kind::Say) {
        if (!client->say(cmd.text)) note("Not sent: not connected.");
      } else if (!client->sayPrivate(cmd.target, cmd.text)) {
        note("Not sent: not connected.");  // an unknown name is the host's to say
      }
      break;
    case Kind::Who: {
      std::string who;
      for (const auto& u : m_chat.users()) {
        who += (who.empty() ? "" : ", ") + u.name;
        if (u.flags & wire::UserInfo::kFlagHost) who += " (host)";
        if (u.flags & wire::UserInfo::kFlagSharing) who += " (sharing)";
      }
      note(who.empty() ? "Nobody is here: not in a session." : "Here: " + who);
      break;
    }
    case Kind::Quit: return m_state.hosting ? LineOutcome::ConfirmEnd : LineOutcome::Leave;
    case Kind::Kick:
    case Kind::Ban: kick(cmd.target, cmd.text, cmd.kind == Kind::Ban); break;
    case Kind::Password: changePassword(cmd.text); break;
    case Kind::Help: note(chatHelpText()); break;
    case Kind::Voice: setVoice(cmd.text.empty() ? !m_state.voiceWanted : cmd.text == "on"); break;
    case Kind::Mute:
    case Kind::Unmute:
      setMuted(cmd.kind == Kind::Mute);
      note(cmd.kind == Kind::Mute ? "Microphone muted." : "Microphone live.");
      break;
    case Kind::Send: sendFile(cmd.text, cmd.target); break;
    case Kind::Error: note(cmd.text); break;
  }
  return LineOutcome::Done;
}

void SessionController::sayOutbox() {
  std::vector<std::string> lines;
  lines.swap(m_outbox);
  for (const auto& line : lines) submitLine(line);
}

void SessionController::kick(const std::string&, const std::string&, bool) { note("Only the host can remove people."); }

void SessionController::changePassword(const std::string&) { note("Only the host can change the room password."); }

// [SECTION] screens

void SessionController::startScreens(const std::string& host, std::uint16_t port, const net::TlsEngine::ClientTrust& pin,
                                     const std::string& name, std::uint64_t token,
                                     std::optional<net::SeatKey> seatKey) {
  retireScreens();
  m_screenTarget = ScreenTarget{host, port, pin, name, token, seatKey};
  m_screenRetryAtUs = 0;
  m_screen = std::make_unique<ScreenSession>();
  ScreenSessionConfig c;
  c.link.host = host;
  c.link.port = port;
  c.link.tls = pin;
  c.link.wake = m_env.wake;
  c.link.readLimitBytesPerSec = std::int64_t{m_env.readLimitKBps} * 1000;
  c.name = name;
  c.token = token;
  c.seatKey = seatKey;
  m_screen->setViewerMarks(m_viewerMarks);
  m_screen->start(c);
  // Watched streams are taken up again as the new screen port lists them.
  for (auto& [id, w] : m_watched) w.view.reset();
}

void SessionController::resumeShareWhenBack() {
  if (!m_leaving && sharePipeline() && !m_autoShare) m_autoShare = std::make_unique<ShareSpec>(m_shareSpec);
}

void SessionController::retireScreens() {
  if (!m_screen) return;
  resumeShareWhenBack();
  std::shared_ptr<ScreenSession> old(std::move(m_screen));
  teardown().retire([old] { old->leave(); });
  m_state.screensConnected = false;
  m_state.streams.clear();
  for (auto& [id, w] : m_watched) w.view.reset();
}

std::shared_ptr<StreamView> SessionController::watch(std::uint32_t streamId) {
  Watched& w = m_watched[streamId];
  if (!w.view && m_screen && m_screen->connected()) w.view = m_screen->watch(streamId);
  if (!w.view && m_screen && m_screen->connected()) m_watched.erase(streamId);  // no such stream
  auto it = m_watched.find(streamId);
  return it == m_watched.end() ? nullptr : it->second.view;
}

void SessionController::unwatch(std::uint32_t streamId) {
  m_watched.erase(streamId);
  m_pointing.erase(streamId);  // the host takes it away with the watching
  m_pens.erase(streamId);
  if (m_screen) m_screen->unwatch(streamId);
}

std::shared_ptr<StreamView> SessionController::view(std::uint32_t streamId) const {
  auto it = m_watched.find(streamId);
  return it == m_watched.end() ? nullptr : it->second.view;
}

void SessionController::pointAt(std::uint32_t streamId, std::int32_t x, std::int32_t y) {
  m_pointing[streamId].hold(x, y);
  pacePointers(m_nowUs);  // a press or a move goes at once when the rate allows
}

void SessionController::pointGone(std::uint32_t streamId) {
  auto it = m_pointing.find(streamId);
  if (it == m_pointing.end()) return;
  it->second.release();
  pacePointers(m_nowUs);  // the gone at once (the face may leave right after)
}

bool SessionController::pointerShown(std::uint32_t streamId) const {
  auto it = m_pointing.find(streamId);
  return it != m_pointing.end() && it->second.shown();
}

void SessionController::penDown(std::uint32_t streamId, std::uint16_t x, std::uint16_t y) {
  m_pens[streamId].down(m_nextStrokeId++, x, y);
  pacePointers(m_nowUs);
}

void SessionController::penTo(std::uint32_t streamId, std::uint16_t x, std::uint16_t y) {
  auto it = m_pens.find(streamId);
  if (it == m_pens.end()) return;
  it->second.to(x, y);
  pacePointers(m_nowUs);
}

void SessionController::penUp(std::uint32_t streamId) {
  auto it = m_pens.find(streamId);
  if (it == m_pens.end()) return;
  it->second.up();
  pacePointers(m_nowUs);
}

std::vector<StrokeMark> SessionController::strokes(std::uint32_t streamId, std::int64_t nowUs) const {
  return m_screen ? m_screen->strokes(streamId, nowUs) : std::vector<StrokeMark>{};
}

bool SessionController::viewerMarksAllowed(std::uint32_t streamId) const {
  return !m_screen || m_screen->viewerMarksAllowed(streamId);
}

void SessionController::setViewerMarks(bool allowed) {
  m_viewerMarks = allowed;
  applyViewerMarks(allowed);
}

void SessionController::pacePointers(std::int64_t nowUs) {
  const bool up = m_screen && m_screen->connected();
  for (auto it = m_pens.begin(); it != m_pens.end();) {
    PenPacer& p = it->second;
    if (!up) p.lost();
    while (up) {
      auto batch = p.next(it->first, nowUs);
      if (!batch) break;
      if (!m_screen->penStroke(*batch)) {
        p.lost();
        break;
      }
    }
    it = p.idle() ? m_pens.erase(it) : std::next(it);
  }
  for (auto it = m_pointing.begin(); it != m_pointing.end();) {
    PointerPacer& p = it->second;
    if (!up) {
      p.lost();  // the host forgot it with the connection: sent again once the port is back
    } else if (auto send = p.next(nowUs)) {
      const bool ok = send->present ? m_screen->pointAt(it->first, send->x, send->y) : m_screen->pointGone(it->first);
      if (!ok) p.lost();
    }
    it = p.idle() ? m_pointing.erase(it) : std::next(it);
  }
}

std::vector<PointerMark> SessionController::pointers(std::uint32_t streamId, std::int64_t nowUs) const {
  return m_screen ? m_screen->pointers(streamId, nowUs) : std::vector<PointerMark>{};
}

std::vector<std::uint32_t> SessionController::watchedStreams() const {
  std::vector<std::uint32_t> ids;
  for (const auto& [id, w] : m_watched) ids.push_back(id);
  return ids;
}

bool SessionController::startSharing(const ShareSpec& spec) {
  m_state.shareError.clear();
  std::string error;
  if (sharePipeline()) {
    error = "already sharing";
  } else if (!m_state.screensConnected && !(m_screen && m_screen->connected())) {
    error = "not in a session";
  } else {
    std::unique_ptr<capture::ScreenSource> source = makeShareSource(spec);
    if (startSharingOn(std::move(source), spec.settings.clamped(), error)) {
      m_shareSpec = spec;
      refreshShareState();
      const std::string title = m_state.shareTitle;  // known once the source is open (a window's title)
      const capture::CaptureSettings s = spec.settings.clamped();
      note("Sharing: " + title + " at " + std::to_string(s.fps) + " fps, quality " + std::to_string(s.quality) + ".",
           ChatLine::Style::System);
      return true;
    }
  }
  m_state.shareError = "Cannot share: " + error;
  note(m_state.shareError);
  return false;
}

void SessionController::shareWhenJoined(const ShareSpec& spec) { m_autoShare = std::make_unique<ShareSpec>(spec); }

void SessionController::stopSharing() {
  m_autoShare.reset();
  if (!sharePipeline()) return;
  stopSharingOn();
  refreshShareState();
  note("You stopped sharing.", ChatLine::Style::System);
}

void SessionController::setShareSettings(const capture::CaptureSettings& settings) {
  capture::CapturePipeline* p = sharePipeline();
  if (!p) return;
  m_shareSpec.settings = settings;
  const capture::CaptureSettings want = settings.clamped(), have = p->settings();
  if (want.quality != have.quality || want.fps != have.fps || want.scalePercent != have.scalePercent ||
      want.subsampling != have.subsampling)
    p->setSettings(want);
}

// [SECTION] leaving

void SessionController::leave() {
  if (m_leaving) return;
  m_leaving = true;
  m_autoShare.reset();
  m_autoWatch = false;
  m_outbox.clear();
  const bool wasIn = m_state.phase == Phase::InSession || m_state.phase == Phase::Reconnecting;
  m_watched.clear();
  m_pointing.clear();
  m_pens.clear();
  m_files->detach();
  retireScreens();
  retireVoice();
  m_state.voiceWanted = false;
  retireRole();
  m_state.phase = Phase::Ended;
  m_state.leftByUs = true;
  m_state.sharing = false;
  m_state.shareTitle.clear();
  m_chat.clearUsers();
  if (wasIn) {
    note(m_state.hosting ? "You ended the session." : "You left the session.", ChatLine::Style::System);
    setStatus(m_state.hosting ? "Session ended." : "Left the session.");
  } else {
    setStatus("Not joined.");
  }
}

// [SECTION] voice

namespace {
constexpr std::int64_t kVoiceNoAnswerUs = 8'000'000;  // past the fallback (voice::kVoiceFallbackUs)
}  // namespace


void SessionController::setVoice(bool on) {
  if (on == m_state.voiceWanted) return;
  m_state.voiceWanted = on;
  m_state.voiceError.clear();
  if (!on) {
    const bool was = m_voice != nullptr;
    retireVoice();
    if (was) note("You left the voice.");
    return;
  }
  if (m_state.phase == Phase::InSession) startVoice();  // else once in
}

void SessionController::setMuted(bool muted) {
  m_state.voiceMuted = muted;
  if (m_voice) m_voice->setMuted(muted);
}

void SessionController::setMasterVolume(float gain) {
  m_masterVolume = gain;
  if (m_voice) m_voice->setMasterVolume(gain);
}

void SessionController::setSpeakerVolume(std::uint32_t participantId, float gain) {
  m_speakerVolumes[participantId] = gain;
  if (m_voice) m_voice->setSpeakerVolume(participantId, gain);
}

voice::VoiceLinkStats SessionController::voiceStats() const { return m_voice ? m_voice->stats() : voice::VoiceLinkStats{}; }

bool SessionController::speaking(std::uint32_t participantId) const {
  return std::find(m_state.speaking.begin(), m_state.speaking.end(), participantId) != m_state.speaking.end();
}

void SessionController::startVoice() {
  if (!m_state.voiceWanted || m_voice || m_leaving) return;
  net::ChatClient* client = chatClient();
  auto fail = [this](const std::string& why) {
    if (m_state.voiceError != why) note("No voice: " + why);
    m_state.voiceError = why;
  };
  if (!client || !client->connected()) return;  // once joined
  if (m_voicePort == 0) return fail("this host offers no voice.");
  const std::optional<net::VoiceKeys> keys = client->voiceKeys();
  if (!keys) return fail("voice needs the secure connection, and this one has none.");
  voice::VoiceLinkConfig config;
  config.host = hostAddress();
  config.port = m_voicePort;
  config.participantId = client->participantId();
  config.keys = *keys;
  config.muted = m_state.voiceMuted;
  config.devices = m_voiceDevices;
  config.autoGain = m_voiceAutoGain;
  config.audio = m_voiceAudio;
  // UDP blocked: the chat connection carries the voice. Its reader hands the host's
  // datagrams to the link's inbox (shared: it may outlive the link).
  config.streamSend = [client](std::span<const std::uint8_t> d) { return client->sendVoice(d); };
  auto link = std::make_unique<voice::VoiceLink>();
  std::string error;
  if (!link->start(config, error)) return fail(error + ".");
  client->setVoiceSink([inbox = link->inbox()](std::vector<std::uint8_t> d) { inbox->push(std::move(d)); });
  link->setMasterVolume(m_masterVolume);
  for (const auto& [id, gain] : m_speakerVolumes) link->setSpeakerVolume(id, gain);
  m_voice = std::move(link);
  m_voiceAnnounced = false;
  m_voiceStartedUs = base::monoUs();
  m_voiceSilenceNoted = false;
  m_voiceStreamNoted = false;
  m_state.voiceError.clear();
  m_state.voiceOn = true;
}

void SessionController::retireVoice() {
  if (m_voice) {
    if (net::ChatClient* client = chatClient()) client->setVoiceSink(nullptr);
  }
  if (m_voice) m_voice->stop();  // a few milliseconds: the thread sends 'leave' and ends
  m_voice.reset();
  m_state.voiceOn = false;
  m_state.voiceConnected = false;
  m_state.voiceOverStream = false;
  m_state.speaking.clear();
  m_state.voiceLevelDbfs = voice::kSilenceDbfs;
}

void SessionController::syncVoice() {
  if (!m_voice) {
    m_state.voiceOn = false;
    return;
  }
  if (std::string why = m_voice->failure(); !why.empty()) {
    retireVoice();
    m_state.voiceError = why;
    note("Voice stopped: " + why);
    return;
  }
  const bool connected = m_voice->connected();
  // UDP did not get through: the link went over the chat connection by itself. Said once.
  m_state.voiceOverStream = m_voice->overStream();
  if (m_state.voiceOverStream && !m_voiceStreamNoted) {
    m_voiceStreamNoted = true;
    note("Voice goes over the chat connection: UDP to the host's voice port (" + std::to_string(m_voicePort) +
         ") does not get through.");
  }
  // No answer at all, even that way. Said once; the link keeps trying.
  if (!connected && !m_voiceAnnounced && !m_voiceSilenceNoted && base::monoUs() - m_voiceStartedUs > kVoiceNoAnswerUs) {
    m_voiceSilenceNoted = true;
    m_state.voiceError = "no answer on the host's voice port (UDP " + std::to_string(m_voicePort) +
                         " blocked?); still trying.";
    note("Voice: " + m_state.voiceError);
  }
  if (connected && !m_voiceAnnounced) {
    m_state.voiceError.clear();
    m_voiceAnnounced = true;
    note(std::string("Voice connected") + (m_state.voiceMuted ? " (muted)." : "."));
  }
  m_state.voiceConnected = connected;
  m_state.voiceLevelDbfs = m_voice->inputLevelDbfs();
  m_state.speaking.clear();
  if (m_voice->selfSpeaking()) m_state.speaking.push_back(m_state.selfId);
  for (const auto& s : m_voice->speakers())
    if (s.speaking) m_state.speaking.push_back(s.participantId);
}

}  // namespace huddle::session
