#include "app/session/host_controller.h"

#include "app/session/chat_command.h"
#include "app/session/reconnect.h"
#include "app/session/trust.h"
#include "net/base/log.h"
#include "net/room_auth.h"
#include "net/wire/limits.h"

namespace huddle::session {

std::vector<std::string> hostBanner(const std::string& name, const HostInfo& info, bool showPassword) {
  std::vector<std::string> lines;
  lines.push_back("Huddle host \"" + name + "\" is running" + (info.newKey ? " (with a new host key)" : "") +
                  ". Its key code is " + info.keyCode + ".");
  lines.push_back("Others can join with an invite link (it carries the key code, so nobody can pose as this host):");
  for (const auto& link : info.inviteLinks) lines.push_back("  " + link);
  if (showPassword && !info.password.empty())
    lines.push_back("The room password is " + info.password + " (tell it to those you invite).");
  else if (!info.password.empty())
    lines.push_back("The room has a password: joiners need it.");
  lines.push_back("Chat port " + std::to_string(info.chatPort) + ", screen port " + std::to_string(info.screenPort) +
                  (info.voicePort ? ", voice port " + std::to_string(info.voicePort) + " (UDP)." : "."));
  if (!info.voicePort) lines.push_back("No voice this session: " + info.voiceError);
  if (info.announced)
    lines.push_back("Announced on this network as \"" + name + "\" (huddle --list shows it; --no-announce hides it).");
  else if (!info.announceNote.empty())
    lines.push_back("Not announced on this network: " + info.announceNote + ".");
  return lines;
}

HostController::HostController(HostRequest request, ControllerEnv env)
    : SessionController(std::move(env)), m_request(std::move(request)) {
  m_state.hosting = true;
}

HostController::~HostController() {
  m_passwordWorker.join();
  leave();
}

bool HostController::start(std::int64_t nowUs) {
  (void)nowUs;
  auto fail = [&](const std::string& why) {
    m_state.phase = Phase::Ended;
    setStatus(why, true);
    return false;
  };
  if (!m_request.password.empty())
    if (std::string why = net::validateRoomPassword(m_request.password); !why.empty())
      return fail("Cannot host: " + why + ".");
  // A session ended a moment ago may still hold the ports while it says goodbye.
  teardown().drain();
  HostConfig config;
  config.name = m_request.name;
  config.chatPort = m_request.chatPort;
  config.screenPort = m_request.screenPort;
  config.voicePort = m_request.voicePort;
  config.voiceLossPercent = m_request.voiceLossPercent;
  config.hub.maxParticipants = static_cast<std::size_t>(m_request.maxParticipants);
  config.hub.files.maxFileBytes = m_request.maxFileBytes;
  if (m_request.keepHistory) {
    if (m_env.stateDir.empty()) return fail("Cannot keep history: set HOME or XDG_STATE_HOME.");
    config.hub.historyPath = m_env.stateDir + "/chat-history.log";
  }
  config.wake = m_env.wake;
  std::string error;
  bool created = false;
  config.identity = loadOrCreateHostIdentity(m_env.configDir, created, error);
  if (!config.identity) return fail("Cannot host: " + error);
  config.password = m_request.password;
  auto host = std::make_shared<HostSession>();
  if (!host->start(config, error)) return fail(error);
  m_host = std::move(host);
  m_host->setViewerMarks(viewerMarks());
  const net::Fingerprint& key = config.identity->fingerprint();
  m_info.keyCode = net::shortCode(key);
  m_info.newKey = created;
  m_info.chatPort = m_host->chatPort();
  m_info.screenPort = m_host->screenPort();
  m_info.voicePort = m_host->voicePort();
  m_info.voiceError = m_host->voiceError();
  m_info.password = m_request.password;
  for (const auto& addr : m_host->joinAddresses()) m_info.inviteLinks.push_back(inviteLink(addr, m_info.chatPort, key));
  if (m_request.announce) {
    net::AnnouncerConfig announce;
    announce.sessionName = m_request.name;
    announce.chatPort = m_info.chatPort;
    announce.screenPort = m_info.screenPort;
    announce.passwordNeeded = !m_request.password.empty();
    announce.identity = config.identity;
    auto announcer = std::make_unique<net::DiscoveryAnnouncer>();
    if (announcer->start(announce, error)) {
      m_announcer = std::move(announcer);
      m_info.announced = true;
    } else {
      m_info.announceNote = error;
      HLOG_WARN("session/host", "not announced on this network: %s", error.c_str());
    }
  }
  m_state.phase = Phase::Connecting;  // until the host's own user is in
  m_state.sessionTitle = "your session";
  setStatus("Hosting on chat port " + std::to_string(m_info.chatPort) + ", screen port " +
            std::to_string(m_info.screenPort) + ".");
  return true;
}

void HostController::tickRole(std::int64_t nowUs) {
  if (m_rejoinAtUs && nowUs >= *m_rejoinAtUs && m_host && m_host->running()) {
    m_rejoinAtUs.reset();
    std::shared_ptr<net::ChatClient> old(m_host->rejoinLocalUser());
    teardown().retire([old] { old->leave(); });
  }
  if (m_passwordChange && m_passwordChange->done) {
    m_passwordWorker.join();
    std::shared_ptr<PasswordChange> change = std::move(m_passwordChange);
    if (!change->error.empty()) {
      note("Password not changed: " + change->error + ".");
    } else {
      m_info.password = change->password;
      if (m_announcer) m_announcer->setPasswordNeeded(!change->password.empty());
      note(change->password.empty() ? "The room has no password now; everyone here stays."
                                    : "The room password is now " + change->password +
                                          " (everyone here stays; newcomers need it).");
    }
  }
}

void HostController::onConnected(const net::ChatClientEvent& ev, std::int64_t nowUs) {
  (void)nowUs;
  m_rejoinAttempts = 0;
  m_state.reconnectAttempt = 0;
  // The host watches through its own screen port like anyone, pinned to its own key.
  net::Fingerprint key{};
  net::TlsEngine::ClientTrust pin;
  if (m_host->localUser().hostKey(key)) pin = pinOf(key);
  startScreens("127.0.0.1", m_info.screenPort, pin, ev.text, m_host->localUser().token(),
               m_host->localUser().seatKey());
}

void HostController::onDisconnected(const net::ChatClientEvent& ev, std::int64_t nowUs) {
  if (!m_host || !m_host->running()) {
    m_state.phase = Phase::Ended;
    setStatus(ev.text, true);
    return;
  }
  // The host's own user lost its loopback link (this process was suspended past the
  // heartbeat, say): the servers went on; the host joins its own session again.
  resumeShareWhenBack();
  m_rejoinAtUs = nowUs + (m_rejoinAttempts == 0 ? 0 : retryDelayUs(m_rejoinAttempts, random()));
  ++m_rejoinAttempts;
  m_state.reconnectAttempt = m_rejoinAttempts;
  m_state.reconnectAtUs = *m_rejoinAtUs;
  m_state.phase = Phase::Reconnecting;
  setStatus("Rejoining your own session...");
}

void HostController::kick(const std::string& name, const std::string& reason, bool ban) {
  if (!m_host) return note("Not hosting.");
  if (!(ban ? m_host->chatHub().ban(name, reason) : m_host->chatHub().kick(name, reason)))
    return note("No one else named \"" + name + "\" is here.");
  note(name + (ban ? " is banned from this session." : " was removed."), ChatLine::Style::System);
}

void HostController::changePassword(const std::string& request) {
  const std::optional<std::string> requested = requestedPassword(request);
  std::string error;
  if (!m_host) error = "not hosting";
  else if (!requested) error = "no random source to make one";
  else if (m_passwordChange) error = "a change is still being made";
  if (!error.empty()) return note("Password not changed: " + error + ".");
  // Argon2id takes a few hundred ms: on a worker, said by tickRole() when done.
  auto change = std::make_shared<PasswordChange>();
  change->password = *requested;
  m_passwordChange = change;
  std::shared_ptr<HostSession> host = m_host;
  auto wake = m_env.wake;
  m_passwordWorker = base::Worker(
      "password",
      [host, change, wake] {
        std::string why;
        if (!host->setPassword(change->password, why) && why.empty()) why = "it could not be set";
        change->error = why;
        change->done = true;
        if (wake) wake();
      },
      [change, wake](const std::string& what) {
        change->error = what;
        change->done = true;
        if (wake) wake();
      });
}

bool HostController::startSharingOn(std::unique_ptr<capture::ScreenSource> source, const capture::CaptureSettings& settings,
                                    std::string& error) {
  if (!m_host) return error = "not hosting", false;
  return m_host->startSharing(std::move(source), settings, 0, error);
}

void HostController::stopSharingOn() {
  if (m_host) m_host->stopSharing();
}

void HostController::retireRole() {
  // The goodbye goes first: listeners drop the session before its ports close.
  if (m_announcer) m_announcer->stop();
  m_announcer.reset();
  m_info.announced = false;
  if (!m_host) return;
  std::shared_ptr<HostSession> host = std::move(m_host);
  teardown().retire([host] { host->stop("The host ended the session."); });
}

}  // namespace huddle::session
