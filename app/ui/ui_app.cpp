#include "app/ui/ui_app.h"

#include <imgui.h>

#include <cstdio>
#include <cstring>

#include "app/session/chat_command.h"
#include "net/base/clock.h"

namespace huddle::ui {

namespace {

const ImVec4 kErrorColour{0.95f, 0.45f, 0.40f, 1.0f};
const ImVec4 kSystemColour{0.60f, 0.65f, 0.72f, 1.0f};
const ImVec4 kPrivateColour{0.85f, 0.60f, 0.95f, 1.0f};
const ImVec4 kNoticeColour{0.95f, 0.75f, 0.35f, 1.0f};

// A stable colour per name, so each person is recognisable at a glance.
ImVec4 nameColour(const std::string& name) {
  std::uint32_t h = 2166136261u;
  for (unsigned char c : name) h = (h ^ c) * 16777619u;
  float hue = static_cast<float>(h % 360) / 360.0f;
  ImVec4 c;
  ImGui::ColorConvertHSVtoRGB(hue, 0.55f, 0.95f, c.x, c.y, c.z);
  c.w = 1.0f;
  return c;
}

void copyInto(char* dst, std::size_t cap, const std::string& src) {
  std::snprintf(dst, cap, "%s", src.c_str());
}

}  // namespace

UiApp::UiApp(const session::Options& options, std::function<void()> wake) : m_wake(std::move(wake)) {
  copyInto(m_name, sizeof m_name, options.name.empty() ? "me" : options.name);
  m_chatPort = options.chatPort;
  m_screenPort = options.screenPort;
  if (options.role == session::Role::Join) {
    std::string host, error;
    std::uint16_t port = 0;
    if (session::splitHostPort(options.joinAddress, host, port, options.chatPort, error)) {
      copyInto(m_address, sizeof m_address, host);
      m_chatPort = port;
    }
    startJoining();
  } else if (options.role == session::Role::Host) {
    startHosting();
  }
}

UiApp::~UiApp() { leaveSession(); }

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
  config.chatPort = static_cast<std::uint16_t>(m_chatPort);
  config.screenPort = static_cast<std::uint16_t>(m_screenPort);
  config.wake = m_wake;
  auto host = std::make_unique<session::HostSession>();
  std::string error;
  if (!host->start(config, error)) {
    m_status = error;
    m_statusIsError = true;
    return;
  }
  m_host = std::move(host);
  m_mode = Mode::Hosting;
  m_chat = session::ChatLog();
  m_status = "Hosting on chat port " + std::to_string(m_host->chatPort()) + ".";
  m_statusIsError = false;
  m_focusInput = true;
}

void UiApp::startJoining() {
  net::ChatClientConfig config;
  config.host = m_address;
  config.port = static_cast<std::uint16_t>(m_chatPort);
  config.name = m_name;
  config.wake = m_wake;
  m_client = std::make_unique<net::ChatClient>();
  m_client->start(config);
  m_mode = Mode::Joined;
  m_chat = session::ChatLog();
  m_status = "Connecting to " + config.host + ":" + std::to_string(config.port) + "...";
  m_statusIsError = false;
  m_focusInput = true;
}

void UiApp::leaveSession() {
  if (m_host) m_host->stop("The host ended the session.");
  if (m_client) m_client->leave();
  m_host.reset();
  m_client.reset();
  m_mode = Mode::Idle;
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

void UiApp::pumpEvents() {
  net::ChatClient* client = chatClient();
  if (!client) return;
  for (auto& ev : client->events().drain()) {
    if (m_chat.apply(ev)) m_scrollToBottom = true;
    if (ev.kind == net::ChatClientEvent::Kind::Connected) {
      m_status = m_mode == Mode::Hosting ? m_status : "Connected as " + ev.text + ".";
      m_statusIsError = false;
    } else if (ev.kind == net::ChatClientEvent::Kind::Disconnected) {
      m_status = ev.text;
      m_statusIsError = !ev.sessionEnded;
    }
  }
}

void UiApp::draw(float widthPx, float heightPx) {
  pumpEvents();
  const float leftWidth = std::max(280.0f, widthPx * 0.30f);
  ImGui::SetNextWindowPos(ImVec2(0, 0));
  ImGui::SetNextWindowSize(ImVec2(leftWidth, heightPx));
  constexpr ImGuiWindowFlags kFixed = ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoResize | ImGuiWindowFlags_NoCollapse;
  if (ImGui::Begin("Connection", nullptr, kFixed)) drawConnectionPanel();
  ImGui::End();
  ImGui::SetNextWindowPos(ImVec2(leftWidth, 0));
  ImGui::SetNextWindowSize(ImVec2(widthPx - leftWidth, heightPx));
  if (ImGui::Begin("Chat", nullptr, kFixed)) drawChatPanel();
  ImGui::End();
  drawQuitConfirm();
}

void UiApp::drawConnectionPanel() {
  bool idle = m_mode == Mode::Idle;
  if (idle) {
    ImGui::TextUnformatted("Your name");
    ImGui::SetNextItemWidth(-1);
    ImGui::InputText("##name", m_name, sizeof m_name);
    ImGui::Spacing();
    if (ImGui::CollapsingHeader("Host a session", ImGuiTreeNodeFlags_DefaultOpen)) {
      ImGui::InputInt("Chat port", &m_chatPort, 0);
      ImGui::InputInt("Screen port", &m_screenPort, 0);
      m_chatPort = std::clamp(m_chatPort, 0, 65535);
      m_screenPort = std::clamp(m_screenPort, 0, 65535);
      if (ImGui::Button("Start hosting", ImVec2(-1, 0))) {
        if (std::string why = wire::validateName(m_name); !why.empty()) {
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
      ImGui::InputInt("Port##join", &m_chatPort, 0);
      m_chatPort = std::clamp(m_chatPort, 1, 65535);
      if (ImGui::Button("Join", ImVec2(-1, 0))) {
        if (std::string why = wire::validateName(m_name); !why.empty()) {
          m_status = "Cannot join: " + why + ".";
          m_statusIsError = true;
        } else {
          startJoining();
        }
      }
    }
  } else if (m_mode == Mode::Hosting && m_host) {
    ImGui::Text("Hosting as %s", m_name);
    ImGui::Separator();
    ImGui::TextUnformatted("Others can join at:");
    for (const auto& addr : m_host->joinAddresses()) {
      std::string text = addr + ":" + std::to_string(m_host->chatPort());
      ImGui::PushID(text.c_str());
      if (ImGui::SmallButton("Copy")) ImGui::SetClipboardText(text.c_str());
      ImGui::SameLine();
      ImGui::TextUnformatted(text.c_str());
      ImGui::PopID();
    }
    ImGui::Spacing();
    if (ImGui::Button("End session", ImVec2(-1, 0))) m_confirmQuit = true;
  } else {
    ImGui::Text("Session at %s:%d", m_address, m_chatPort);
    if (ImGui::Button(m_chat.connected() ? "Leave" : "Back", ImVec2(-1, 0))) leaveSession();
    if (!m_chat.connected() && m_client && m_client->finished()) {
      if (ImGui::Button("Reconnect", ImVec2(-1, 0))) startJoining();
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

void UiApp::drawChatPanel() {
  const float usersWidth = 170.0f;
  const float inputHeight = ImGui::GetFrameHeightWithSpacing();
  ImGui::BeginChild("log", ImVec2(-usersWidth, -inputHeight), true);
  ImGuiListClipper clipper;
  const auto& lines = m_chat.lines();
  clipper.Begin(static_cast<int>(lines.size()));
  while (clipper.Step()) {
    for (int i = clipper.DisplayStart; i < clipper.DisplayEnd; ++i) {
      const session::ChatLine& l = lines[static_cast<std::size_t>(i)];
      ImGui::TextDisabled("%s", base::formatClock(l.timeUs).c_str());
      ImGui::SameLine();
      switch (l.style) {
        case session::ChatLine::Style::Message:
          ImGui::TextColored(nameColour(l.from), "%s:", l.from.c_str());
          ImGui::SameLine();
          ImGui::TextWrapped("%s", l.text.c_str());
          break;
        case session::ChatLine::Style::Private:
          ImGui::TextColored(kPrivateColour, "%s -> %s (private):", l.from.c_str(), l.to.c_str());
          ImGui::SameLine();
          ImGui::TextWrapped("%s", l.text.c_str());
          break;
        case session::ChatLine::Style::Notice:
          ImGui::TextColored(kNoticeColour, "%s", l.text.c_str());
          break;
        case session::ChatLine::Style::System:
          ImGui::TextColored(kSystemColour, "* %s", l.text.c_str());
          break;
      }
    }
  }
  // Follow new lines only if the reader was already at the bottom.
  if (m_scrollToBottom && ImGui::GetScrollY() >= ImGui::GetScrollMaxY() - 4.0f) ImGui::SetScrollHereY(1.0f);
  m_scrollToBottom = false;
  if (ImGui::BeginPopupContextWindow()) {
    if (ImGui::MenuItem("Copy all")) ImGui::SetClipboardText(m_chat.toText().c_str());
    ImGui::EndPopup();
  }
  ImGui::EndChild();
  ImGui::SameLine();
  ImGui::BeginChild("users", ImVec2(0, -inputHeight), true);
  ImGui::TextDisabled("%zu here", m_chat.users().size());
  for (const auto& u : m_chat.users()) {
    ImGui::TextColored(nameColour(u.name), "%s", u.name.c_str());
    if (u.flags & wire::UserInfo::kFlagHost) {
      ImGui::SameLine();
      ImGui::TextDisabled("(host)");
    }
  }
  ImGui::EndChild();

  bool canSend = m_chat.connected();
  ImGui::BeginDisabled(!canSend);
  ImGui::SetNextItemWidth(-80);
  if (m_focusInput && canSend) {
    ImGui::SetKeyboardFocusHere();
    m_focusInput = false;
  }
  bool enter = ImGui::InputText("##input", m_input, sizeof m_input, ImGuiInputTextFlags_EnterReturnsTrue);
  ImGui::SameLine();
  bool send = ImGui::Button("Send", ImVec2(-1, 0));
  ImGui::EndDisabled();
  if ((enter || send) && canSend) {
    submitChatLine();
    m_focusInput = true;
  }
  m_chat.markRead();
}

void UiApp::submitChatLine() {
  net::ChatClient* client = chatClient();
  session::ChatCommand cmd = session::parseChatLine(m_input);
  m_input[0] = '\0';
  if (!client) return;
  using Kind = session::ChatCommand::Kind;
  switch (cmd.kind) {
    case Kind::Empty: break;
    case Kind::Say: client->say(cmd.text); break;
    case Kind::Private: client->sayPrivate(cmd.target, cmd.text); break;
    case Kind::Who: {
      std::string who;
      for (const auto& u : m_chat.users()) who += (who.empty() ? "" : ", ") + u.name;
      m_chat.addLocal(session::ChatLine::Style::Notice, "Here: " + who);
      break;
    }
    case Kind::Quit: leaveSession(); break;
    case Kind::Kick:
      if (m_mode != Mode::Hosting || !m_host) m_chat.addLocal(session::ChatLine::Style::Notice, "Only the host can remove people.");
      else if (!m_host->chatHub().kick(cmd.target, cmd.text))
        m_chat.addLocal(session::ChatLine::Style::Notice, "No user named \"" + cmd.target + "\" is here.");
      break;
    case Kind::Help: m_chat.addLocal(session::ChatLine::Style::Notice, session::chatHelpText()); break;
    case Kind::Error: m_chat.addLocal(session::ChatLine::Style::Notice, cmd.text); break;
  }
  m_scrollToBottom = true;
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
    if (ImGui::Button("Cancel", ImVec2(140, 0)) || ImGui::IsKeyPressed(ImGuiKey_Escape)) {
      m_quitAfterEnd = false;
      ImGui::CloseCurrentPopup();
    }
    ImGui::EndPopup();
  }
}

}  // namespace huddle::ui
