#include "app/ui/ui_app.h"
#include "app/ui/fonts.h"
#include "app/ui/keys.h"

#include <imgui.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "app/session/chat_command.h"
#include "app/session/config_files.h"
#include "net/room_auth.h"
#include "net/wire/limits.h"
#include "net/base/clock.h"
#include "net/base/log.h"

namespace huddle::ui {

namespace {

constexpr const char* kTag = "ui/app";
const ImVec4 kErrorColour{0.95f, 0.45f, 0.40f, 1.0f};

void copyInto(char* dst, std::size_t cap, const std::string& src) { std::snprintf(dst, cap, "%s", src.c_str()); }

std::string layoutPath() {
  std::string dir = session::configDir();
  return dir.empty() ? "" : dir + "/layout.txt";
}

// The fixed panels every layout must hold; viewers ("viewer:N") come and go.
const char* const kFixedPanels[] = {"connection", "share", "stats", "screens", "chat"};

}  // namespace

UiApp::UiApp(const session::Options& options, std::function<void()> wake, WindowControl window)
    : m_wake(std::move(wake)), m_window(std::move(window)), m_options(options),
      m_teardown(std::make_shared<session::Teardown>()) {
  loadState();
  m_viewerMarks = options.viewerMarks;
  // The command line wins over what was remembered.
  if (!options.name.empty()) copyInto(m_name, sizeof m_name, forDisplay(options.name));
  if (options.chatPort != wire::kDefaultChatPort || options.role == session::Role::Host)
    m_settings.chatPort = options.chatPort;
  if (options.screenPort != wire::kDefaultScreenPort || options.role == session::Role::Host)
    m_settings.screenPort = options.screenPort;
  if (!options.mic.empty()) m_settings.voiceMic = options.mic;
  if (!options.speaker.empty()) m_settings.voiceSpeaker = options.speaker;
  if (!options.autoGain) m_settings.voiceAutoGain = false;
  m_voiceDevices.capture = m_settings.voiceMic;
  m_voiceDevices.playback = m_settings.voiceSpeaker;
  if (!options.share.empty()) {
    const session::ShareSpec spec = session::shareSpecFrom(options);
    m_settings.shareSource = spec.source;
    if (spec.source == "window") m_settings.shareWindow = spec.window;
    if (spec.source == "region")
      m_settings.regionX = spec.regionX, m_settings.regionY = spec.regionY, m_settings.regionW = spec.regionW,
      m_settings.regionH = spec.regionH;
    if (spec.source == "monitor") {
      m_settings.monitor = std::max(spec.monitor, 0);
      std::string error;
      const std::vector<capture::X11Monitor> monitors = capture::listX11Monitors("", error);
      for (std::size_t i = 0; i < monitors.size(); ++i)
        if (!spec.monitorName.empty() && monitors[i].name == spec.monitorName) m_settings.monitor = static_cast<int>(i);
    }
    m_settings.quality = options.quality;
    m_settings.fps = options.fps;
    m_settings.scalePercent = options.scalePercent;
    m_settings.chroma444 = options.chroma444;
    m_settings.sharpWhenStill = options.sharpWhenStill;
    m_settings.stillMs = options.stillMs;
    m_shareOnceIn = true;
  }
  std::string password, passwordError;
  if (!session::roomPassword(options, password, passwordError))
    m_formError = "Cannot read the room password: " + passwordError;
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
  m_regionPickStop = true;  // a pick under way gives the mouse back
  m_regionPicker.join();
  saveState();
  endController();
  // m_teardown's worker says the last goodbyes as it goes.
}

// [SECTION] persistence

void UiApp::loadState() {
  m_layout = dock::DockLayout::standard();
  std::string text, error;
  std::vector<std::string> warnings;
  m_settings = session::AppSettings::load(warnings);
  for (const auto& w : warnings) HLOG_WARN(kTag, "%s", w.c_str());
  if (const std::string path = layoutPath(); !path.empty() && session::readSmallFile(path, wire::kMaxSettingsFileBytes, text, error)) {
    dock::DockLayout loaded;
    if (loaded.parse(text, error)) m_layout = std::move(loaded);
    else HLOG_WARN(kTag, "%s: %s; using the standard layout", path.c_str(), error.c_str());
  }
  // Every fixed panel somewhere, whatever the file said; no stale viewers.
  for (const char* id : kFixedPanels) m_layout.addPanel(id, "connection");
  copyInto(m_name, sizeof m_name, forDisplay(m_settings.name.empty() ? "me" : m_settings.name));
  copyInto(m_address, sizeof m_address, m_settings.address);
}

void UiApp::saveState() {
  m_settings.name = fromDisplay(m_name);
  m_settings.address = m_address;
  std::string error;
  if (const std::string path = session::AppSettings::path(); !path.empty() && !session::writeFileAtomically(path, m_settings.serialize(), error))
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

void UiApp::setWindowSize(int widthPx, int heightPx) {
  if (widthPx < 200 || heightPx < 150 || (widthPx == m_settings.windowW && heightPx == m_settings.windowH)) return;
  m_settings.windowW = widthPx;
  m_settings.windowH = heightPx;
  m_layoutDirty = true;  // saved with the layout, a moment after the resize ends
}

// [SECTION] sessions

session::JoinController* UiApp::joining() { return dynamic_cast<session::JoinController*>(m_session.get()); }
session::HostController* UiApp::hosting() { return dynamic_cast<session::HostController*>(m_session.get()); }

// In a session, or on the way in or back: the session's panels rather than the form.
bool UiApp::inSession() const {
  if (!m_session) return false;
  const session::Phase p = m_session->state().phase;
  return p == session::Phase::InSession || p == session::Phase::Connecting || p == session::Phase::Reconnecting;
}

std::string UiApp::title() const {
  if (!inSession()) return "Huddle";
  const session::ControllerState& st = m_session->state();
  const std::string self = st.selfName.empty() ? fromDisplay(m_name) : st.selfName;
  if (st.hosting) return "Huddle - hosting as " + self;
  return "Huddle - " + self + " in " + st.sessionTitle;
}

session::ControllerEnv UiApp::controllerEnv() const {
  session::ControllerEnv env;
  env.wake = m_wake;
  env.configDir = session::configDir();
  env.stateDir = session::stateDir();
  env.teardown = m_teardown;
  env.readLimitKBps = m_options.readLimitKBps;
  return env;
}

void UiApp::endController() {
  if (!m_session) return;
  m_session->leave();
  printNewChatLines();  // what leaving said, for whoever started us from a terminal
  m_session.reset();  // its connections close on the teardown worker
  m_regionBorder.hide();
  std::string ignored;
  m_pointerOverlay.update("", {}, ignored);
  for (auto& [id, v] : m_viewers) m_layout.removePanel("viewer:" + std::to_string(id));
  m_viewers.clear();
  m_fullscreenStream = 0;
  m_printedLines = 0;
}

void UiApp::startHosting() {
  endController();
  session::HostRequest request;
  request.name = fromDisplay(m_name);
  request.chatPort = static_cast<std::uint16_t>(m_settings.chatPort);
  request.screenPort = static_cast<std::uint16_t>(m_settings.screenPort);
  request.voicePort = m_options.voicePort;
  request.password = fromDisplay(m_hostPassword);
  request.maxParticipants = m_options.maxParticipants;
  request.maxFileBytes = m_options.maxFileBytes;
  request.keepHistory = m_options.keepHistory;
  request.announce = session::announceWanted(m_options);
  auto host = std::make_unique<session::HostController>(request, controllerEnv());
  const bool ok = host->start(base::monoUs());
  m_session = std::move(host);
  m_formError.clear();
  if (!ok) return;
  if (m_shareOnceIn) m_session->shareWhenJoined(shareSpec());
  if (m_options.watch) m_session->watchWhenShared(m_options.watchStream);
  m_session->setViewerMarks(m_viewerMarks);
  m_session->setMuted(m_options.mute || m_settings.voicePushToTalk);  // push to talk: live only while held
  m_session->setVoiceDevices(m_voiceDevices);
  m_session->setVoiceAutoGain(m_settings.voiceAutoGain);
  if (m_options.voice) m_session->setVoice(true);
  // Also on stdout, for whoever started the window from a terminal (and for scripts).
  for (const auto& line : session::hostBanner(request.name, hosting()->info(), false)) std::printf("huddle: %s\n", line.c_str());
  std::fflush(stdout);
  m_focusInput = true;
  saveState();
}

// Joining pins the host's key before any application byte goes out (see JoinController).
void UiApp::startJoining() {
  endController();
  session::JoinRequest request;
  request.address = fromDisplay(m_address);
  request.defaultPort = static_cast<std::uint16_t>(m_settings.chatPort);
  request.name = fromDisplay(m_name);
  request.password = fromDisplay(m_joinPassword);
  request.trustNewHost = m_options.trustNewHost;
  auto join = std::make_unique<session::JoinController>(request, controllerEnv());
  join->start(base::monoUs());
  m_session = std::move(join);
  m_formError.clear();
  if (m_shareOnceIn) m_session->shareWhenJoined(shareSpec());
  if (m_options.watch) m_session->watchWhenShared(m_options.watchStream);
  m_session->setViewerMarks(m_viewerMarks);
  m_session->setMuted(m_options.mute || m_settings.voicePushToTalk);  // push to talk: live only while held
  m_session->setVoiceDevices(m_voiceDevices);
  m_session->setVoiceAutoGain(m_settings.voiceAutoGain);
  if (m_options.voice) m_session->setVoice(true);
  m_focusInput = true;
  saveState();
}

void UiApp::leaveSession() {
  if (m_session) m_session->leave();
  for (auto& [id, v] : m_viewers) m_layout.removePanel("viewer:" + std::to_string(id));
  m_viewers.clear();
  m_fullscreenStream = 0;
  if (m_window.setFullscreen) m_window.setFullscreen(false);
}

void UiApp::requestQuit() {
  if (m_session && m_session->hosting() && inSession()) {
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

// The same lines on stdout as the terminal client prints: a log for whoever started us.
void UiApp::printNewChatLines() {
  if (!m_session) return;
  m_session->chat().forEachSince(m_printedLines, [](const session::ChatLine& line) {
    std::printf("%s\n", session::ChatLog::format(line).c_str());
  });
  std::fflush(stdout);
}

// Moves the session on and turns its phase changes into the window's popups.
void UiApp::pollController() {
  if (!m_session) return;
  m_session->tick(base::monoUs());
  printNewChatLines();
  const session::ControllerState& st = m_session->state();
  if (st.phase != m_lastPhase) {
    using session::Phase;
    if (st.phase == Phase::AskTrust) m_askTrust = true;
    if (st.phase == Phase::AskPassword) m_askPassword = true;
    // Losing the host (or being removed) is said in the middle of the window, with a way back.
    if (st.phase == Phase::Ended && !st.hosting && st.everJoined && !st.leftByUs) m_showLost = true;
    if (st.phase == Phase::InSession) m_focusInput = true;
    m_lastPhase = st.phase;
  }
  syncViewers();
  syncRegionBorder();
  syncScreenPointers();
}

void UiApp::drawNewHostPopup() {
  if (m_askTrust) {
    ImGui::OpenPopup("New host");
    m_askTrust = false;
  }
  ImVec2 centre = ImGui::GetMainViewport()->GetCenter();
  ImGui::SetNextWindowPos(centre, ImGuiCond_Appearing, ImVec2(0.5f, 0.5f));
  if (!ImGui::BeginPopupModal("New host", nullptr, ImGuiWindowFlags_AlwaysAutoResize)) return;
  session::JoinController* join = joining();
  if (!join || join->state().phase != session::Phase::AskTrust) {
    ImGui::CloseCurrentPopup();
    ImGui::EndPopup();
    return;
  }
  const bool appearing = ImGui::IsWindowAppearing();
  ImGui::Text("You have not joined the host at %s before.", join->target().address.c_str());
  ImGui::TextUnformatted("Its key code is:");
  ImGui::TextColored(ImVec4(0.55f, 0.85f, 1.0f, 1.0f), "   %s", net::shortCode(join->newHostKey()).c_str());
  ImGui::PushTextWrapPos(ImGui::GetFontSize() * 32);
  ImGui::TextWrapped("Compare it with the code shown in the host's window. Only join if they match: "
                     "anyone else could read everything you send.");
  ImGui::PopTextWrapPos();
  ImGui::Spacing();
  const std::int64_t now = base::monoUs();
  if (ImGui::Button("They match: trust and remember")) {
    join->answerTrust(session::TrustAnswer::Remember, now);
    ImGui::CloseCurrentPopup();
  }
  ImGui::SameLine();
  if (ImGui::Button("Trust once")) {
    join->answerTrust(session::TrustAnswer::Once, now);
    ImGui::CloseCurrentPopup();
  }
  ImGui::SameLine();
  if (ImGui::Button("Cancel") || (!appearing && keyPressed(ImGuiKey_Escape))) {
    join->answerTrust(session::TrustAnswer::No, now);
    ImGui::CloseCurrentPopup();
  }
  ImGui::EndPopup();
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
  session::JoinController* join = joining();
  if (!join || join->state().phase != session::Phase::AskPassword) {
    ImGui::CloseCurrentPopup();
    ImGui::EndPopup();
    return;
  }
  const bool appearing = ImGui::IsWindowAppearing();
  ImGui::TextUnformatted(join->passwordWasGiven() ? "That password was not right. Try again:" : "This session needs a password:");
  if (appearing) ImGui::SetKeyboardFocusHere();
  const bool enter = ImGui::InputText("##pw", m_joinPassword, sizeof m_joinPassword,
                                      ImGuiInputTextFlags_Password | ImGuiInputTextFlags_EnterReturnsTrue);
  if (ImGui::Button("Join", ImVec2(ImGui::GetFontSize() * 7, 0)) || enter) {
    join->retryWithPassword(fromDisplay(m_joinPassword), base::monoUs());
    ImGui::CloseCurrentPopup();
  }
  ImGui::SameLine();
  if (ImGui::Button("Cancel", ImVec2(ImGui::GetFontSize() * 7, 0)) || (!appearing && keyPressed(ImGuiKey_Escape))) {
    join->leave();
    ImGui::CloseCurrentPopup();
  }
  ImGui::EndPopup();
}

// [SECTION] drawing

void UiApp::draw(float widthPx, float heightPx) {
  pollController();
  // Keys that work anywhere, even with the chat input focused (function keys type nothing):
  // F3 the overlay, F11 fullscreen for the viewer last under the pointer (or the only one);
  // Esc leaves fullscreen, or, on the host and not typing, asks whether to end the session.
  const bool typing = ImGui::GetIO().WantTextInput;
  const bool popupOpen = ImGui::IsPopupOpen("", ImGuiPopupFlags_AnyPopupId);
  if (keyPressed(kKeyF3)) m_settings.overlay = !m_settings.overlay;
  if (m_fullscreenStream && (keyPressed(ImGuiKey_Escape) || keyPressed(kKeyF11))) {
    setFullscreenViewer(0);
  } else if (!popupOpen && keyPressed(kKeyF11)) {
    if (!m_viewers.count(m_frontViewer) && !m_viewers.empty()) m_frontViewer = m_viewers.begin()->first;
    if (m_viewers.count(m_frontViewer)) setFullscreenViewer(m_frontViewer);
  } else if (m_session && m_session->hosting() && inSession() && keyPressed(ImGuiKey_Escape) && !typing && !popupOpen) {
    m_confirmQuit = true;  // end the session (the window stays); the host is asked first
  }

  for (auto& [id, v] : m_viewers) v.drawn = false;
  if (m_fullscreenStream && m_viewers.count(m_fullscreenStream)) {
    ImGui::SetNextWindowPos(ImVec2(0, 0));
    ImGui::SetNextWindowSize(ImVec2(widthPx, heightPx));
    ImGui::PushStyleVar(ImGuiStyleVar_WindowPadding, ImVec2(0, 0));
    // No window background: the cleared frame is one already, and the image covers the rest.
    ImGui::Begin("##fullscreen", nullptr,
                 ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoSavedSettings |
                     ImGuiWindowFlags_NoBackground);
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
  if (m_chatVisible && m_session) m_session->chat().markRead();
  // A new image wakes the window only for a viewer it shows (session::StreamView::onScreen).
  for (auto& [id, v] : m_viewers)
    if (v.shown) v.shown->setOnScreen(v.drawn);
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
  const bool in = inSession();
  const bool host = m_session && m_session->hosting();
  if (ImGui::BeginMenu("Session")) {
    if (in && host) {
      if (ImGui::MenuItem("End session...")) m_confirmQuit = true;
    } else if (in) {
      if (ImGui::MenuItem("Leave")) leaveSession();
    } else {
      ImGui::MenuItem("Not in a session", nullptr, false, false);
    }
    ImGui::Separator();
    if (ImGui::MenuItem("Quit")) requestQuit();
    ImGui::EndMenu();
  }
  if (ImGui::BeginMenu("Screens")) {
    const std::vector<wire::StreamInfo> none;
    const auto& streams = m_session ? m_session->state().streams : none;
    if (streams.empty()) ImGui::MenuItem("Nobody is sharing", nullptr, false, false);
    for (const auto& s : streams) {
      std::string label = forDisplay(s.ownerName + ": " + s.title) + "###s" + std::to_string(s.streamId);
      if (ImGui::MenuItem(label.c_str(), nullptr, m_viewers.count(s.streamId) != 0)) openViewer(s.streamId);
    }
    ImGui::Separator();
    const bool sharing = m_session && m_session->state().sharing;
    if (ImGui::MenuItem(sharing ? "Stop sharing" : "Share my screen", nullptr, false,
                        m_session && m_session->state().screensConnected))
      sharing ? m_session->stopSharing() : startSharing();
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
  const std::string status = m_session ? m_session->state().status : m_formError;
  if (!status.empty()) {
    // The session's status, right-aligned in the menu bar (its first line only).
    const std::string line = status.substr(0, status.find('\n'));
    const bool error = m_session ? m_session->state().statusIsError : true;
    const float w = ImGui::CalcTextSize(line.c_str()).x;
    ImGui::SameLine(std::max(ImGui::GetCursorPosX() + 20, ImGui::GetWindowWidth() - w - 16));
    ImGui::TextColored(error ? kErrorColour : ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled), "%s", forDisplay(line).c_str());
  }
  ImGui::EndMainMenuBar();
}

std::string UiApp::panelTitle(const std::string& id) const {
  if (id == "connection") return "Connection";
  if (id == "share") return m_session && m_session->state().sharing ? "Share (on)" : "Share";
  if (id == "stats") return "Stats";
  if (id == "screens") return "Screens";
  if (id == "chat") {
    const int unread = m_session ? m_session->chat().unread() : 0;
    return unread > 0 && !m_chatVisible ? "Chat (" + std::to_string(unread) + ")" : "Chat";
  }
  if (id.rfind("viewer:", 0) == 0) {
    auto it = m_viewers.find(static_cast<std::uint32_t>(std::strtoul(id.c_str() + 7, nullptr, 10)));
    if (it != m_viewers.end()) return forDisplay(it->second.ownerName + "'s screen");
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
  const float em = ImGui::GetFontSize();
  auto validName = [&](const char* verb) {
    if (std::string why = wire::validateName(fromDisplay(m_name)); !why.empty()) {
      m_formError = std::string("Cannot ") + verb + ": " + why + ".";
      return false;
    }
    return true;
  };
  session::HostController* host = hosting();
  if (!inSession()) {
    const bool busy = m_session && (m_session->state().phase == session::Phase::Checking ||
                                    m_session->state().phase == session::Phase::AskTrust ||
                                    m_session->state().phase == session::Phase::AskPassword);
    ImGui::BeginDisabled(busy);
    ImGui::TextUnformatted("Your name");
    ImGui::SetNextItemWidth(-1);
    ImGui::InputText("##name", m_name, sizeof m_name);
    ImGui::Spacing();
    if (ImGui::CollapsingHeader("Host a session", ImGuiTreeNodeFlags_DefaultOpen)) {
      ImGui::SetNextItemWidth(em * 6);
      ImGui::InputInt("Chat port", &m_settings.chatPort, 0);
      ImGui::SetNextItemWidth(em * 6);
      ImGui::InputInt("Screen port", &m_settings.screenPort, 0);
      m_settings.chatPort = std::clamp(m_settings.chatPort, 0, 65535);
      m_settings.screenPort = std::clamp(m_settings.screenPort, 0, 65535);
      ImGui::TextUnformatted("Room password (optional)");
      ImGui::SetNextItemWidth(std::max(em * 6, ImGui::GetContentRegionAvail().x - em * 4));
      ImGui::InputText("##hostpw", m_hostPassword, sizeof m_hostPassword, ImGuiInputTextFlags_Password);
      ImGui::SameLine();
      if (ImGui::Button("New")) copyInto(m_hostPassword, sizeof m_hostPassword, net::generateRoomPassword());
      if (ImGui::IsItemHovered()) ImGui::SetTooltip("Make a random room password (leave empty for none)");
      ImGui::Checkbox("Share my screen once hosting", &m_shareOnceIn);
      if (ImGui::Button("Start hosting", ImVec2(-1, 0)) && validName("start")) {
        if (std::string why = net::validateRoomPassword(fromDisplay(m_hostPassword)); m_hostPassword[0] && !why.empty())
          m_formError = "Cannot start: " + why + ".";
        else
          startHosting();
      }
    }
    ImGui::Spacing();
    if (ImGui::CollapsingHeader("Join a session", ImGuiTreeNodeFlags_DefaultOpen)) {
      ImGui::TextUnformatted("Address or invite link");
      ImGui::SetNextItemWidth(-1);
      ImGui::InputText("##address", m_address, sizeof m_address);
      if (ImGui::IsItemHovered()) ImGui::SetTooltip("A host name or address, or paste an invite link (huddle://...)");
      ImGui::SetNextItemWidth(em * 6);
      ImGui::InputInt("Port##join", &m_settings.chatPort, 0);
      ImGui::TextUnformatted("Password (only if the host set one)");
      ImGui::SetNextItemWidth(-1);
      ImGui::InputText("##joinpw", m_joinPassword, sizeof m_joinPassword, ImGuiInputTextFlags_Password);
      m_settings.chatPort = std::clamp(m_settings.chatPort, 0, 65535);
      if (ImGui::Button("Join", ImVec2(-1, 0)) && validName("join")) {
        if (m_settings.chatPort == 0) m_formError = "Cannot join: give the host's chat port (0 only makes sense when hosting).";
        else startJoining();
      }
    }
    ImGui::Spacing();
    if (ImGui::CollapsingHeader("Sessions nearby", ImGuiTreeNodeFlags_DefaultOpen)) drawNearbySessions();
    ImGui::EndDisabled();
  } else if (host) {
    const session::HostInfo& info = host->info();
    ImGui::Text("Hosting as %s", forDisplay(fromDisplay(m_name)).c_str());
    ImGui::Separator();
    ImGui::TextUnformatted("This host's key code:");
    ImGui::TextColored(ImVec4(0.55f, 0.85f, 1.0f, 1.0f), "%s", info.keyCode.c_str());
    ImGui::TextWrapped("Send an invite link (it carries the code), or have people compare the code when they join.");
    for (const auto& link : info.inviteLinks) {
      ImGui::PushID(link.c_str());
      if (ImGui::SmallButton("Copy")) ImGui::SetClipboardText(link.c_str());
      ImGui::SameLine();
      ImGui::TextWrapped("%s", link.c_str());
      ImGui::PopID();
    }
    ImGui::TextDisabled("Chat port %u, screen port %u", info.chatPort, info.screenPort);
    if (info.announced) ImGui::TextDisabled("Listed as a session nearby on this network.");
    if (!info.password.empty()) {
      // Shown only while hovered: people nearby should not read it off the screen.
      ImGui::TextUnformatted("Room password:");
      ImGui::SameLine();
      ImGui::TextDisabled("(hover to show)");
      if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", info.password.c_str());
      if (ImGui::SmallButton("Copy password")) ImGui::SetClipboardText(info.password.c_str());
      if (ImGui::SmallButton("New password")) m_session->submitLine("/password");
      if (ImGui::IsItemHovered()) ImGui::SetTooltip("Make a new room password: everyone here stays, newcomers need the new one");
      if (ImGui::SmallButton("Remove the password")) m_session->submitLine("/password off");
    } else {
      ImGui::TextWrapped("No password: anyone on this network can join.");
      if (ImGui::SmallButton("Add a room password")) m_session->submitLine("/password");
    }
    ImGui::Spacing();
    if (ImGui::Button("End session", ImVec2(-1, 0))) m_confirmQuit = true;
  } else {
    const bool in = m_session->state().phase == session::Phase::InSession;
    ImGui::TextWrapped("%s %s", in ? "In" : "Joining", forDisplay(m_session->state().sessionTitle).c_str());
    if (ImGui::Button(m_session->state().phase == session::Phase::InSession ? "Leave" : "Stop", ImVec2(-1, 0)))
      leaveSession();
  }
  ImGui::Spacing();
  ImGui::Separator();
  // The session's status; the form's own complaint when there is one.
  const bool formNote = !m_formError.empty() && !inSession();
  const std::string status = formNote ? m_formError : m_session ? m_session->state().status : "";
  const bool error = formNote || (m_session && m_session->state().statusIsError);
  if (!status.empty()) {
    ImGui::PushStyleColor(ImGuiCol_Text, error ? kErrorColour : ImGui::GetStyleColorVec4(ImGuiCol_Text));
    ImGui::TextWrapped("%s", forDisplay(status).c_str());
    ImGui::PopStyleColor();
  }
  if (session::JoinController* join = joining(); join && !inSession() && join->state().everJoined &&
                                                  !join->state().leftByUs) {
    if (ImGui::Button("Reconnect", ImVec2(-1, 0))) join->reconnect(base::monoUs());
  }
}

// The sessions announced on this network, newest first, each with a Join button that joins
// through its invite link: the announced key is pinned, so there is no trust question.
void UiApp::drawNearbySessions() {
  if (!m_nearbyStarted) {
    m_nearbyStarted = true;
    if (!m_nearby.start(m_nearbyError)) HLOG_WARN("ui", "no sessions nearby: %s", m_nearbyError.c_str());
  }
  if (!m_nearbyError.empty()) {
    ImGui::TextWrapped("Cannot look for sessions nearby: %s", forDisplay(m_nearbyError).c_str());
    return;
  }
  // The window redraws at least 4 times a second; the list is read as often.
  if (ImGui::GetTime() - m_nearbyAt >= 0.25) {
    m_nearbySessions = m_nearby.sessions();
    m_nearbyAt = ImGui::GetTime();
  }
  if (m_nearbySessions.empty()) {
    ImGui::TextDisabled("None heard yet (hosts announce every second).");
    return;
  }
  for (const auto& s : m_nearbySessions) {
    const net::Announcement& a = s.announcement;
    ImGui::PushID(net::fingerprintText(s.key).c_str());
    if (ImGui::SmallButton("Join")) {
      if (std::string why = wire::validateName(fromDisplay(m_name)); !why.empty()) {
        m_formError = "Cannot join: " + why + ".";
      } else {
        copyInto(m_address, sizeof m_address, session::nearbyInvite(s));
        startJoining();
      }
    }
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("Join with its key code %s pinned", net::shortCode(s.key).c_str());
    ImGui::SameLine();
    // A lock (U+1F512) when a room password is needed.
    ImGui::Text("%s", forDisplay((a.passwordNeeded ? "\xF0\x9F\x94\x92 " : "") + a.sessionName).c_str());
    if (ImGui::IsItemHovered() && a.passwordNeeded) ImGui::SetTooltip("A room password is needed");
    ImGui::SameLine();
    ImGui::TextDisabled("%s%s %s:%u", a.hostName.empty() ? "" : "on ", forDisplay(a.hostName).c_str(),
                        net::ipv4Text(s.fromAddress).c_str(), a.chatPort);
    ImGui::PopID();
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
    const bool appearing = ImGui::IsWindowAppearing();
    ImGui::PushTextWrapPos(ImGui::GetFontSize() * 30);
    ImGui::TextWrapped("%s", m_session ? forDisplay(m_session->state().status).c_str() : "");
    ImGui::PopTextWrapPos();
    ImGui::Spacing();
    const float w = ImGui::GetFontSize() * 8;
    session::JoinController* join = joining();
    if (join && ImGui::Button("Reconnect", ImVec2(w, 0))) {
      join->reconnect(base::monoUs());
      ImGui::CloseCurrentPopup();
    }
    if (join) ImGui::SameLine();
    if (ImGui::Button("Close", ImVec2(w, 0)) || (!appearing && keyPressed(ImGuiKey_Escape))) ImGui::CloseCurrentPopup();
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
    // The Esc that opened this popup must not also close it in the same frame.
    const bool appearing = ImGui::IsWindowAppearing();
    const float w = ImGui::GetFontSize() * 8;
    ImGui::TextUnformatted("You are the host: ending now ends the session for everyone.");
    ImGui::TextDisabled("Enter ends it, Esc goes back.");
    if (ImGui::Button("End session", ImVec2(w, 0)) ||
        (!appearing && (keyPressed(ImGuiKey_Enter) || keyPressed(ImGuiKey_KeyPadEnter)))) {
      leaveSession();
      m_quit = m_quitAfterEnd;
      ImGui::CloseCurrentPopup();
    }
    ImGui::SameLine();
    if (ImGui::Button("Cancel", ImVec2(w, 0)) || (!appearing && keyPressed(ImGuiKey_Escape))) {
      m_quitAfterEnd = false;
      ImGui::CloseCurrentPopup();
    }
    ImGui::EndPopup();
  }
}

}  // namespace huddle::ui
