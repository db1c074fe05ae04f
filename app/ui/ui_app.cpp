#include "app/ui/ui_app.h"
#include "app/ui/keys.h"

#include <imgui.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <random>

#include "app/session/chat_command.h"
#include "app/session/config_files.h"
#include "app/session/reconnect.h"
#include "net/tls_probe.h"
#include "net/base/clock.h"
#include "net/base/log.h"

namespace huddle::ui {

namespace {

constexpr const char* kTag = "ui/app";
const ImVec4 kErrorColour{0.95f, 0.45f, 0.40f, 1.0f};

void copyInto(char* dst, std::size_t cap, const std::string& src) { std::snprintf(dst, cap, "%s", src.c_str()); }

std::string settingsPath() {
  std::string dir = session::configDir();
  return dir.empty() ? "" : dir + "/settings.ini";
}
std::string layoutPath() {
  std::string dir = session::configDir();
  return dir.empty() ? "" : dir + "/layout.txt";
}

// The fixed panels every layout must hold; viewers ("viewer:N") come and go.
const char* const kFixedPanels[] = {"connection", "share", "stats", "screens", "chat"};

}  // namespace

UiApp::UiApp(const session::Options& options, std::function<void()> wake, WindowControl window)
    : m_wake(std::move(wake)), m_window(std::move(window)), m_options(options) {
  loadState();
  // The command line wins over what was remembered.
  if (!options.name.empty()) copyInto(m_name, sizeof m_name, options.name);
  if (options.chatPort != 9999 || options.role == session::Role::Host) m_settings.chatPort = options.chatPort;
  if (options.screenPort != 9998 || options.role == session::Role::Host) m_settings.screenPort = options.screenPort;
  if (!options.share.empty()) {
    m_settings.shareSource = options.share == "x11" ? "screen" : "scene";
    m_settings.quality = options.quality;
    m_settings.fps = options.fps;
    m_settings.scalePercent = options.scalePercent;
    m_settings.chroma444 = options.chroma444;
    m_autoShare = true;
  }
  m_autoWatch = options.watch;
  std::string password, passwordError;
  if (!session::roomPassword(options, password, passwordError)) {
    m_status = "Cannot read the room password: " + passwordError;
    m_statusIsError = true;
  }
  if (options.generatePassword) password = net::generateRoomPassword();
  copyInto(options.role == session::Role::Join ? m_joinPassword : m_hostPassword, sizeof m_hostPassword, password);
  if (options.role == session::Role::Join) {
    std::string host, error;
    std::uint16_t port = 0;
    if (session::isInviteLink(options.joinAddress)) {
      copyInto(m_address, sizeof m_address, options.joinAddress);  // the link carries its port and key
    } else if (session::splitHostPort(options.joinAddress, host, port, options.chatPort, error)) {
      copyInto(m_address, sizeof m_address, host);
      m_settings.chatPort = port;
    }
    startJoining();
  } else if (options.role == session::Role::Host) {
    startHosting();
  }
}

UiApp::~UiApp() {
  saveState();
  leaveSession();
}

// [SECTION] persistence

void UiApp::loadState() {
  m_layout = dock::DockLayout::standard();
  std::string text, error;
  if (const std::string path = settingsPath(); !path.empty() && session::readSmallFile(path, 64 * 1024, text, error)) {
    std::vector<std::string> warnings;
    m_settings = session::AppSettings::parse(text, warnings);
    for (const auto& w : warnings) HLOG_WARN(kTag, "%s: %s (default kept)", path.c_str(), w.c_str());
  }
  if (const std::string path = layoutPath(); !path.empty() && session::readSmallFile(path, 64 * 1024, text, error)) {
    dock::DockLayout loaded;
    if (loaded.parse(text, error)) m_layout = std::move(loaded);
    else HLOG_WARN(kTag, "%s: %s; using the standard layout", path.c_str(), error.c_str());
  }
  // Every fixed panel somewhere, whatever the file said; no stale viewers.
  for (const char* id : kFixedPanels) m_layout.addPanel(id, "connection");
  copyInto(m_name, sizeof m_name, m_settings.name.empty() ? "me" : m_settings.name);
  copyInto(m_address, sizeof m_address, m_settings.address);
}

void UiApp::saveState() {
  m_settings.name = m_name;
  m_settings.address = m_address;
  std::string error;
  if (const std::string path = settingsPath(); !path.empty() && !session::writeFileAtomically(path, m_settings.serialize(), error))
    HLOG_WARN(kTag, "%s", error.c_str());
  // Viewers belong to this session's streams: they are not saved.
  dock::DockLayout copy;
  if (copy.parse(m_layout.serialize(), error)) {
    for (const auto& [id, v] : m_viewers) copy.removePanel("viewer:" + std::to_string(id));
    if (const std::string path = layoutPath(); !path.empty() && !session::writeFileAtomically(path, copy.serialize(), error))
      HLOG_WARN(kTag, "%s", error.c_str());
  }
  m_layoutDirty = false;
}

// [SECTION] sessions

std::string UiApp::title() const {
  switch (m_mode) {
    case Mode::Hosting: return "Huddle - hosting as " + std::string(m_name);
    case Mode::Joined:
      return "Huddle - " + (m_chat.selfName().empty() ? std::string(m_name) : m_chat.selfName()) + " in " +
             (m_chat.hostName().empty() ? std::string(m_address) : m_chat.hostName() + "'s session");
    case Mode::Idle: break;
  }
  return "Huddle";
}

net::ChatClient* UiApp::chatClient() {
  if (m_mode == Mode::Hosting && m_host) return &m_host->localUser();
  if (m_mode == Mode::Joined && m_client) return m_client.get();
  return nullptr;
}

void UiApp::startHosting() {
  session::HostConfig config;
  config.name = m_name;
  config.chatPort = static_cast<std::uint16_t>(m_settings.chatPort);
  config.screenPort = static_cast<std::uint16_t>(m_settings.screenPort);
  config.hub.maxParticipants = static_cast<std::size_t>(m_options.maxParticipants);
  if (m_options.keepHistory && !session::stateDir().empty())
    config.hub.historyPath = session::stateDir() + "/chat-history.log";
  config.wake = m_wake;
  std::string error;
  bool created = false;
  if (!m_identity) m_identity = session::loadOrCreateHostIdentity(session::configDir(), created, error);
  if (!m_identity) {
    m_status = "Cannot host: " + error;
    m_statusIsError = true;
    return;
  }
  config.identity = m_identity;
  config.password = m_hostPassword;
  auto host = std::make_unique<session::HostSession>();
  if (!host->start(config, error)) {
    m_status = error;
    m_statusIsError = true;
    return;
  }
  m_host = std::move(host);
  m_mode = Mode::Hosting;
  m_chat = session::ChatLog();
  m_status = "Hosting on chat port " + std::to_string(m_host->chatPort()) + ", screen port " +
             std::to_string(m_host->screenPort()) + ".";
  // Also on stdout, for whoever started the window from a terminal (and for scripts).
  std::printf("huddle: %s Key code %s. Invite links:\n", m_status.c_str(), net::shortCode(m_identity->fingerprint()).c_str());
  for (const auto& addr : m_host->joinAddresses())
    std::printf("  %s\n", session::inviteLink(addr, m_host->chatPort(), m_identity->fingerprint()).c_str());
  std::fflush(stdout);
  m_statusIsError = false;
  m_lostConnection = false;
  m_focusInput = true;
  saveState();
}

// Joining pins the host's key before any application byte goes out: the invite's code,
// the remembered key, or (a host met for the first time) its key shown to the user first.
void UiApp::startJoining() {
  std::string error;
  if (!session::resolveJoinTarget(m_address, static_cast<std::uint16_t>(m_settings.chatPort), m_target, error)) {
    m_status = "Cannot join: " + error + ".";
    m_statusIsError = true;
    return;
  }
  std::vector<std::string> warnings;
  const std::string path = session::knownHostsPath();
  session::KnownHosts known = path.empty() ? session::KnownHosts{} : session::KnownHosts::load(path, warnings);
  net::TlsEngine::ClientTrust pin;
  if (session::pinFor(m_target, known, pin)) {
    connectJoining(pin, m_target.haveInvite);
    return;
  }
  // New host: learn its key on a worker, then ask (pollProbe, drawNewHostPopup).
  m_probe = std::make_shared<Probe>();
  auto probe = m_probe;
  const session::JoinTarget target = m_target;
  auto wake = m_wake;
  m_probeDone = std::async(std::launch::async, [probe, target, wake] {
    bool ok = net::probeHostKey(target.host, target.port, 10'000, probe->key, probe->error, &probe->cancel);
    if (wake) wake();
    return ok;
  });
  m_status = "Checking the host at " + m_target.address + "...";
  m_statusIsError = false;
}

void UiApp::pollProbe() {
  if (!m_probeDone.valid() || m_probeDone.wait_for(std::chrono::seconds(0)) != std::future_status::ready) return;
  const bool ok = m_probeDone.get();
  if (!ok) {
    m_status = m_probe->error;
    m_statusIsError = true;
    m_probe.reset();
    return;
  }
  m_askTrust = true;
}

void UiApp::drawNewHostPopup() {
  if (m_askTrust) {
    ImGui::OpenPopup("New host");
    m_askTrust = false;
  }
  ImVec2 centre = ImGui::GetMainViewport()->GetCenter();
  ImGui::SetNextWindowPos(centre, ImGuiCond_Appearing, ImVec2(0.5f, 0.5f));
  if (!ImGui::BeginPopupModal("New host", nullptr, ImGuiWindowFlags_AlwaysAutoResize)) return;
  if (!m_probe) {
    ImGui::CloseCurrentPopup();
    ImGui::EndPopup();
    return;
  }
  ImGui::Text("You have not joined the host at %s before.", m_target.address.c_str());
  ImGui::TextUnformatted("Its key code is:");
  ImGui::PushFont(nullptr);
  ImGui::TextColored(ImVec4(0.55f, 0.85f, 1.0f, 1.0f), "   %s", net::shortCode(m_probe->key).c_str());
  ImGui::PopFont();
  ImGui::TextWrapped("Compare it with the code shown in the host's window. Only join if they match: "
                     "anyone else could read everything you send.");
  ImGui::Spacing();
  const net::Fingerprint key = m_probe->key;
  if (ImGui::Button("They match: trust and remember")) {
    m_probe.reset();
    connectJoining(session::pinOf(key), true);
    ImGui::CloseCurrentPopup();
  }
  ImGui::SameLine();
  if (ImGui::Button("Trust once")) {
    m_probe.reset();
    connectJoining(session::pinOf(key), false);
    ImGui::CloseCurrentPopup();
  }
  ImGui::SameLine();
  if (ImGui::Button("Cancel") || keyPressed(ImGuiKey_Escape)) {
    m_probe.reset();
    m_status = "Not joined: the host's key was not accepted.";
    m_statusIsError = false;
    ImGui::CloseCurrentPopup();
  }
  ImGui::EndPopup();
}

void UiApp::changeRoomPassword(const std::string& request) {
  const std::optional<std::string> requested = session::requestedPassword(request);
  std::string error;
  if (m_mode != Mode::Hosting || !m_host) error = "only the host can";
  else if (!requested) error = "no random source to make one";
  else if (m_passwordChange.valid()) error = "a change is still being made";
  if (!error.empty()) {
    m_chat.addLocal(session::ChatLine::Style::Notice, "Password not changed: " + error + ".");
    return;
  }
  // The key derivation takes a few hundred ms: on a worker, reported by pollPasswordChange().
  m_newPassword = *requested;
  session::HostSession* host = m_host.get();  // outlives the job: leaveSession() waits for it
  auto wake = m_wake;
  m_passwordChange = std::async(std::launch::async, [host, password = m_newPassword, wake] {
    std::string why;
    if (!host->setPassword(password, why) && why.empty()) why = "it could not be set";
    if (wake) wake();
    return why;
  });
}

void UiApp::pollPasswordChange() {
  if (!m_passwordChange.valid() || m_passwordChange.wait_for(std::chrono::seconds(0)) != std::future_status::ready) return;
  const std::string error = m_passwordChange.get();
  if (!error.empty()) {
    m_chat.addLocal(session::ChatLine::Style::Notice, "Password not changed: " + error + ".");
    return;
  }
  copyInto(m_hostPassword, sizeof m_hostPassword, m_newPassword);
  m_chat.addLocal(session::ChatLine::Style::Notice,
                  m_newPassword.empty() ? "The room has no password now; everyone here stays."
                                        : "New room password (hover \"Room password\" to see it); everyone here stays.");
}

// The session needs a password (or ours was wrong): ask, then join again with the same pin.
void UiApp::drawPasswordPopup() {
  if (m_askPassword) {
    ImGui::OpenPopup("Password");
    m_askPassword = false;
    m_focusInput = false;
  }
  ImVec2 centre = ImGui::GetMainViewport()->GetCenter();
  ImGui::SetNextWindowPos(centre, ImGuiCond_Appearing, ImVec2(0.5f, 0.5f));
  if (!ImGui::BeginPopupModal("Password", nullptr, ImGuiWindowFlags_AlwaysAutoResize)) return;
  ImGui::TextUnformatted(m_joinPassword[0] ? "That password was not right. Try again:" : "This session needs a password:");
  if (ImGui::IsWindowAppearing()) ImGui::SetKeyboardFocusHere();
  const bool enter = ImGui::InputText("##pw", m_joinPassword, sizeof m_joinPassword,
                                      ImGuiInputTextFlags_Password | ImGuiInputTextFlags_EnterReturnsTrue);
  if (ImGui::Button("Join", ImVec2(120, 0)) || enter) {
    leaveSession();
    connectJoining(m_pin, m_rememberHost);
    ImGui::CloseCurrentPopup();
  }
  ImGui::SameLine();
  if (ImGui::Button("Cancel", ImVec2(120, 0)) || keyPressed(ImGuiKey_Escape)) ImGui::CloseCurrentPopup();
  ImGui::EndPopup();
}

void UiApp::connectJoining(const net::TlsEngine::ClientTrust& pin, bool remember, bool resume) {
  m_pin = pin;
  m_rememberHost = remember;
  net::ChatClientConfig config;
  config.host = m_target.host;
  config.port = m_target.port;
  config.name = m_name;
  config.wake = m_wake;
  config.tls = pin;
  config.password = m_joinPassword;
  if (resume) config.resumeToken = m_resumeToken;  // our seat and name back at once
  m_client = std::make_unique<net::ChatClient>();
  m_client->start(config);
  m_mode = Mode::Joined;
  if (!resume) {
    m_chat = session::ChatLog();
    m_everJoined = false;
    m_reconnecting = false;
    m_reconnectAttempt = 0;
    m_rewatch.clear();
    m_outbox.clear();
  }
  m_status = "Connecting to " + m_target.address + "...";
  m_statusIsError = false;
  m_lostConnection = false;
  m_showLost = false;
  m_focusInput = true;
  saveState();
}

void UiApp::startScreenSession(std::uint16_t screenPort, const std::string& name) {
  net::ChatClient* client = chatClient();
  if (!client) return;
  m_screen = std::make_unique<session::ScreenSession>();
  session::ScreenSessionConfig c;
  c.link.host = m_mode == Mode::Hosting ? "127.0.0.1" : m_target.host;
  c.link.port = screenPort ? screenPort : static_cast<std::uint16_t>(m_settings.screenPort);
  // The screen port is pinned to the very key the chat port presented.
  net::Fingerprint key{};
  if (client->hostKey(key)) c.link.tls = session::pinOf(key);
  else if (m_mode == Mode::Joined) c.link.tls = m_pin;
  c.link.wake = m_wake;
  c.name = name;
  c.token = client->token();
  m_screen->start(c);
}

void UiApp::leaveSession() {
  m_leaving = true;  // our own leaving is not a lost connection
  m_reconnecting = false;
  m_rewatch.clear();
  m_outbox.clear();
  if (m_probe) m_probe->cancel = true;  // a pending first-meeting check stops within 100 ms
  if (m_probeDone.valid()) m_probeDone.wait();
  m_probe.reset();
  for (auto& [id, v] : m_viewers) m_layout.removePanel("viewer:" + std::to_string(id));
  m_viewers.clear();
  m_fullscreenStream = 0;
  if (m_screen) m_screen->leave();
  m_screen.reset();
  if (m_passwordChange.valid()) m_passwordChange.wait();  // it uses m_host
  if (m_host) m_host->stop("The host ended the session.");
  if (m_client) m_client->leave();
  m_host.reset();
  m_client.reset();
  m_mode = Mode::Idle;
  m_leaving = false;
}

void UiApp::requestQuit() {
  if (m_mode == Mode::Hosting && m_host && m_host->running()) {
    m_confirmQuit = true;
    m_quitAfterEnd = true;
  } else {
    m_quit = true;
  }
}

void UiApp::quitNow() {
  leaveSession();
  m_quit = true;
}

void UiApp::note(const std::string& text) {
  m_chat.addLocal(session::ChatLine::Style::Notice, text);
  m_scrollToBottom = true;
  std::printf("%s\n", session::ChatLog::format(m_chat.lines().back()).c_str());
  std::fflush(stdout);
}

void UiApp::pollReconnect() {
  if (!m_reconnecting || m_leaving || base::monoUs() < m_reconnectAtUs) return;
  if (m_client && !m_client->finished()) return;
  ++m_reconnectAttempt;
  m_reconnectAtUs = base::monoUs() + 3'600'000'000LL;  // until this attempt ends
  if (m_screen) m_screen->leave();
  m_screen.reset();
  connectJoining(m_pin, m_rememberHost, true);
  m_status = "Reconnecting... (attempt " + std::to_string(m_reconnectAttempt) + ")";
}

void UiApp::pumpEvents() {
  pollProbe();
  pollPasswordChange();
  pollReconnect();
  net::ChatClient* client = chatClient();
  if (!client) return;
  for (auto& ev : client->events().drain()) {
    // A retry that fails is said in the status line, not once more in the chat.
    const bool failedRetry = ev.kind == net::ChatClientEvent::Kind::Disconnected && m_reconnecting;
    if (!failedRetry && m_chat.apply(ev)) {
      m_scrollToBottom = true;
      // The same lines on stdout as the terminal client prints: a log for whoever started us.
      std::printf("%s\n", session::ChatLog::format(m_chat.lines().back()).c_str());
      std::fflush(stdout);
    }
    if (ev.kind == net::ChatClientEvent::Kind::Connected) {
      if (m_mode != Mode::Hosting) m_status = "Connected as " + ev.text + ".";
      m_statusIsError = false;
      m_everJoined = true;
      if (m_mode == Mode::Joined) m_resumeToken = client->token();
      m_reconnecting = false;
      m_reconnectAttempt = 0;
      for (const auto& line : m_outbox) client->say(line);
      m_outbox.clear();
      net::Fingerprint key{};
      if (m_mode == Mode::Joined && m_rememberHost && client->hostKey(key)) {
        std::vector<std::string> warnings;
        std::string error;
        const std::string path = session::knownHostsPath();
        session::KnownHosts known = session::KnownHosts::load(path, warnings);
        known.remember(m_target.address, key, ev.hostName);
        if (!path.empty() && !known.save(path, error)) HLOG_WARN(kTag, "%s", error.c_str());
      }
      startScreenSession(ev.screenPort, ev.text);
    } else if (ev.kind == net::ChatClientEvent::Kind::Disconnected) {
      m_status = ev.text;
      if (ev.hostKeyMismatch) m_status += "\n\n" + session::changedKeyAdvice(m_target);
      m_statusIsError = !ev.sessionEnded;
      m_lostConnection = m_mode == Mode::Joined;
      m_askPassword = ev.needsPassword;
      if (m_screen) m_screen->leave();
      if (m_mode == Mode::Joined && !m_leaving && session::worthRetrying(ev, m_everJoined, m_reconnectAttempt)) {
        // Lost, not sent away: try again shortly; the viewers wait for their streams.
        m_reconnecting = true;
        static std::mt19937 jitter{std::random_device{}()};
        m_reconnectAtUs = base::monoUs() + session::retryDelayUs(m_reconnectAttempt + 1, static_cast<std::uint32_t>(jitter()));
        for (const auto& [id, v] : m_viewers)
          if (std::find(m_rewatch.begin(), m_rewatch.end(), id) == m_rewatch.end()) m_rewatch.push_back(id);
        m_status = std::string(m_everJoined ? "Lost the host." : "The host is busy.") + " Reconnecting... (attempt " +
                   std::to_string(m_reconnectAttempt + 1) + ")";
        if (m_reconnectAttempt == 0 && m_everJoined)
          note("Reconnecting by itself; what you type meanwhile is said once the host is back.");
      } else {
        m_reconnecting = false;
      }
      m_showLost = m_lostConnection && !m_leaving && !ev.needsPassword && !m_reconnecting;
    }
  }
  // Sharing asked for on the command line starts once the screen port is ours.
  if (m_autoShare && m_screen && m_screen->connected()) {
    m_autoShare = false;
    startSharing();
  }
  syncViewers();
}

// [SECTION] drawing

void UiApp::draw(float widthPx, float heightPx) {
  pumpEvents();
  // Keys that work anywhere (unless typing): F11 fullscreen for the focused viewer, Esc leaves it.
  if (m_fullscreenStream && (keyPressed(ImGuiKey_Escape) || keyPressed(kKeyF11))) {
    setFullscreenViewer(0);
  } else if (m_mode == Mode::Hosting && keyPressed(ImGuiKey_Escape) && !ImGui::GetIO().WantTextInput &&
             !ImGui::IsPopupOpen("End the session?")) {
    requestQuit();  // the host is asked first: it ends everyone's session
  }

  if (m_fullscreenStream && m_viewers.count(m_fullscreenStream)) {
    ImGui::SetNextWindowPos(ImVec2(0, 0));
    ImGui::SetNextWindowSize(ImVec2(widthPx, heightPx));
    ImGui::PushStyleVar(ImGuiStyleVar_WindowPadding, ImVec2(0, 0));
    ImGui::Begin("##fullscreen", nullptr,
                 ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoSavedSettings);
    drawViewerPanel(m_fullscreenStream, true);
    ImGui::End();
    ImGui::PopStyleVar();
  } else {
    drawMenuBar();
    const float top = ImGui::GetFrameHeight();
    DockCallbacks cb;
    cb.draw = [this](const std::string& id) { drawPanel(id); };
    cb.title = [this](const std::string& id) { return panelTitle(id); };
    cb.closable = [](const std::string& id) { return id.rfind("viewer:", 0) == 0; };
    std::vector<std::string> closed;
    m_chatVisible = false;
    if (m_dockView.draw(m_layout, 0, top, widthPx, heightPx - top, cb, closed)) m_layoutDirty = true;
    for (const auto& id : closed)
      if (id.rfind("viewer:", 0) == 0) closeViewer(static_cast<std::uint32_t>(std::stoul(id.substr(7))));
  }
  if (m_chatVisible) m_chat.markRead();
  drawQuitConfirm();
  drawConnectionLost();
  drawNewHostPopup();
  drawPasswordPopup();
  // Layout changes are saved a moment after the user stops dragging.
  const double now = static_cast<double>(base::monoUs()) / 1e6;
  if (m_layoutDirty && !ImGui::IsMouseDown(ImGuiMouseButton_Left) && now - m_lastSaveAt > 1.0) {
    m_lastSaveAt = now;
    saveState();
  }
}

void UiApp::drawMenuBar() {
  if (!ImGui::BeginMainMenuBar()) return;
  if (ImGui::BeginMenu("Session")) {
    if (m_mode == Mode::Hosting) {
      if (ImGui::MenuItem("End session...")) m_confirmQuit = true;
    } else if (m_mode == Mode::Joined) {
      if (ImGui::MenuItem("Leave")) leaveSession();
    } else {
      ImGui::MenuItem("Not in a session", nullptr, false, false);
    }
    ImGui::Separator();
    if (ImGui::MenuItem("Quit")) requestQuit();
    ImGui::EndMenu();
  }
  if (ImGui::BeginMenu("Screens")) {
    std::vector<wire::StreamInfo> streams = m_screen ? m_screen->streams() : std::vector<wire::StreamInfo>{};
    if (streams.empty()) ImGui::MenuItem("Nobody is sharing", nullptr, false, false);
    for (const auto& s : streams) {
      std::string label = s.ownerName + ": " + s.title + "###s" + std::to_string(s.streamId);
      if (ImGui::MenuItem(label.c_str(), nullptr, m_viewers.count(s.streamId) != 0)) openViewer(s.streamId);
    }
    ImGui::Separator();
    if (ImGui::MenuItem(sharing() ? "Stop sharing" : "Share my screen", nullptr, false, m_screen && m_screen->connected()))
      sharing() ? stopSharing() : startSharing();
    ImGui::EndMenu();
  }
  if (ImGui::BeginMenu("View")) {
    if (ImGui::MenuItem("Overlay on viewers", "F3", m_settings.overlay)) m_settings.overlay = !m_settings.overlay;
    if (ImGui::MenuItem("Reset layout")) {
      m_layout = dock::DockLayout::standard();
      for (auto& [id, v] : m_viewers) m_layout.addPanel("viewer:" + std::to_string(id), "screens");
      m_layoutDirty = true;
    }
    ImGui::EndMenu();
  }
  if (!m_status.empty()) {
    // The session's status, right-aligned in the menu bar.
    const float w = ImGui::CalcTextSize(m_status.c_str()).x;
    ImGui::SameLine(std::max(ImGui::GetCursorPosX() + 20, ImGui::GetWindowWidth() - w - 16));
    ImGui::TextColored(m_statusIsError ? kErrorColour : ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled), "%s", m_status.c_str());
  }
  ImGui::EndMainMenuBar();
}

std::string UiApp::panelTitle(const std::string& id) const {
  if (id == "connection") return "Connection";
  if (id == "share") return sharing() ? "Share (on)" : "Share";
  if (id == "stats") return "Stats";
  if (id == "screens") return "Screens";
  if (id == "chat") return m_chat.unread() > 0 && !m_chatVisible ? "Chat (" + std::to_string(m_chat.unread()) + ")" : "Chat";
  if (id.rfind("viewer:", 0) == 0) {
    auto it = m_viewers.find(static_cast<std::uint32_t>(std::strtoul(id.c_str() + 7, nullptr, 10)));
    if (it != m_viewers.end()) {
      wire::StreamInfo info = it->second.view->info();
      return info.ownerName + "'s screen";
    }
    return "Screen";
  }
  return id;
}

void UiApp::drawPanel(const std::string& id) {
  if (id == "connection") drawConnectionPanel();
  else if (id == "share") drawSharePanel();
  else if (id == "stats") drawStatsPanel();
  else if (id == "screens") drawScreensPanel();
  else if (id == "chat") drawChatPanel();
  else if (id.rfind("viewer:", 0) == 0) drawViewerPanel(static_cast<std::uint32_t>(std::strtoul(id.c_str() + 7, nullptr, 10)), false);
}

void UiApp::drawConnectionPanel() {
  bool idle = m_mode == Mode::Idle;
  auto validName = [&](const char* verb) {
    if (std::string why = wire::validateName(m_name); !why.empty()) {
      m_status = std::string("Cannot ") + verb + ": " + why + ".";
      m_statusIsError = true;
      return false;
    }
    return true;
  };
  if (idle) {
    ImGui::TextUnformatted("Your name");
    ImGui::SetNextItemWidth(-1);
    ImGui::InputText("##name", m_name, sizeof m_name);
    ImGui::Spacing();
    if (ImGui::CollapsingHeader("Host a session", ImGuiTreeNodeFlags_DefaultOpen)) {
      ImGui::InputInt("Chat port", &m_settings.chatPort, 0);
      ImGui::InputInt("Screen port", &m_settings.screenPort, 0);
      m_settings.chatPort = std::clamp(m_settings.chatPort, 0, 65535);
      m_settings.screenPort = std::clamp(m_settings.screenPort, 0, 65535);
      ImGui::InputText("Password", m_hostPassword, sizeof m_hostPassword, ImGuiInputTextFlags_Password);
      ImGui::SameLine();
      if (ImGui::SmallButton("New")) copyInto(m_hostPassword, sizeof m_hostPassword, net::generateRoomPassword());
      if (ImGui::IsItemHovered()) ImGui::SetTooltip("Make a random room password (leave empty for none)");
      ImGui::Checkbox("Share my screen once hosting", &m_autoShare);
      if (ImGui::Button("Start hosting", ImVec2(-1, 0)) && validName("start")) {
        if (std::string why = net::validateRoomPassword(m_hostPassword); m_hostPassword[0] && !why.empty()) {
          m_status = "Cannot start: " + why + ".";
          m_statusIsError = true;
        } else {
          startHosting();
        }
      }
    }
    ImGui::Spacing();
    if (ImGui::CollapsingHeader("Join a session", ImGuiTreeNodeFlags_DefaultOpen)) {
      ImGui::InputText("Address", m_address, sizeof m_address);
      if (ImGui::IsItemHovered()) ImGui::SetTooltip("A host name or address, or paste an invite link (huddle://...)");
      ImGui::InputInt("Port##join", &m_settings.chatPort, 0);
      ImGui::InputText("Password##join", m_joinPassword, sizeof m_joinPassword, ImGuiInputTextFlags_Password);
      if (ImGui::IsItemHovered()) ImGui::SetTooltip("Only if the host set a room password");
      m_settings.chatPort = std::clamp(m_settings.chatPort, 0, 65535);
      if (ImGui::Button("Join", ImVec2(-1, 0)) && validName("join")) {
        if (m_settings.chatPort == 0) {
          m_status = "Cannot join: give the host's chat port (0 only makes sense when hosting).";
          m_statusIsError = true;
        } else {
          startJoining();
        }
      }
    }
  } else if (m_mode == Mode::Hosting && m_host) {
    ImGui::Text("Hosting as %s", m_name);
    ImGui::Separator();
    ImGui::TextUnformatted("This host's key code:");
    ImGui::TextColored(ImVec4(0.55f, 0.85f, 1.0f, 1.0f), "%s", net::shortCode(m_identity->fingerprint()).c_str());
    ImGui::TextWrapped("Send an invite link (it carries the code), or have people compare the code when they join.");
    for (const auto& addr : m_host->joinAddresses()) {
      const std::string link = session::inviteLink(addr, m_host->chatPort(), m_identity->fingerprint());
      ImGui::PushID(link.c_str());
      if (ImGui::SmallButton("Copy")) ImGui::SetClipboardText(link.c_str());
      ImGui::SameLine();
      ImGui::TextUnformatted(link.c_str());
      ImGui::PopID();
    }
    ImGui::TextDisabled("Chat port %u, screen port %u", m_host->chatPort(), m_host->screenPort());
    if (m_hostPassword[0]) {
      // Shown only while hovered: people nearby should not read it off the screen.
      ImGui::TextUnformatted("Room password:");
      ImGui::SameLine();
      ImGui::TextDisabled("(hover to show)");
      if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", m_hostPassword);
      if (ImGui::SmallButton("Copy password")) ImGui::SetClipboardText(m_hostPassword);
      ImGui::SameLine();
      if (ImGui::SmallButton("New password")) changeRoomPassword("");
      if (ImGui::IsItemHovered()) ImGui::SetTooltip("Make a new room password: everyone here stays, newcomers need the new one");
    } else if (ImGui::SmallButton("Add a room password")) {
      changeRoomPassword("");
    }
    ImGui::Spacing();
    if (ImGui::Button("End session", ImVec2(-1, 0))) m_confirmQuit = true;
  } else {
    ImGui::Text("Session at %s", m_target.address.c_str());
    if (m_lostConnection && m_client && m_client->finished()) {
      if (ImGui::Button("Reconnect", ImVec2(-1, 0))) {
        leaveSession();
        connectJoining(m_pin, false);  // the key already pinned for this host
      }
      if (ImGui::Button("Back", ImVec2(-1, 0))) leaveSession();
    } else {
      if (ImGui::Button(m_chat.connected() ? "Leave" : "Back", ImVec2(-1, 0))) leaveSession();
    }
  }
  ImGui::Spacing();
  ImGui::Separator();
  if (!m_status.empty()) {
    ImGui::PushStyleColor(ImGuiCol_Text, m_statusIsError ? kErrorColour : ImGui::GetStyleColorVec4(ImGuiCol_Text));
    ImGui::TextWrapped("%s", m_status.c_str());
    ImGui::PopStyleColor();
  }
}

// Losing the host (or being removed) is said in the middle of the window, with a way back.
void UiApp::drawConnectionLost() {
  if (m_showLost) {
    ImGui::OpenPopup("Disconnected");
    m_showLost = false;
  }
  ImVec2 centre = ImGui::GetMainViewport()->GetCenter();
  ImGui::SetNextWindowPos(centre, ImGuiCond_Appearing, ImVec2(0.5f, 0.5f));
  if (ImGui::BeginPopupModal("Disconnected", nullptr, ImGuiWindowFlags_AlwaysAutoResize)) {
    ImGui::TextUnformatted(m_status.c_str());
    ImGui::Spacing();
    if (ImGui::Button("Reconnect", ImVec2(140, 0))) {
      leaveSession();
      connectJoining(m_pin, false);  // the key already pinned for this host
      ImGui::CloseCurrentPopup();
    }
    ImGui::SameLine();
    if (ImGui::Button("Close", ImVec2(140, 0)) || keyPressed(ImGuiKey_Escape)) ImGui::CloseCurrentPopup();
    ImGui::EndPopup();
  }
}

void UiApp::drawQuitConfirm() {
  if (m_confirmQuit) {
    ImGui::OpenPopup("End the session?");
    m_confirmQuit = false;
  }
  ImVec2 centre = ImGui::GetMainViewport()->GetCenter();
  ImGui::SetNextWindowPos(centre, ImGuiCond_Appearing, ImVec2(0.5f, 0.5f));
  if (ImGui::BeginPopupModal("End the session?", nullptr, ImGuiWindowFlags_AlwaysAutoResize)) {
    ImGui::TextUnformatted("You are the host: ending now ends the session for everyone.");
    if (ImGui::Button("End session", ImVec2(140, 0))) {
      leaveSession();
      m_status = "Session ended.";
      m_statusIsError = false;
      m_quit = m_quitAfterEnd;
      ImGui::CloseCurrentPopup();
    }
    ImGui::SameLine();
    if (ImGui::Button("Cancel", ImVec2(140, 0)) || keyPressed(ImGuiKey_Escape)) {
      m_quitAfterEnd = false;
      ImGui::CloseCurrentPopup();
    }
    ImGui::EndPopup();
  }
}

}  // namespace huddle::ui
