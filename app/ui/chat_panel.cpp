// The chat panel: the log (time, coloured names, private lines marked, notices), the user
// list with who is sharing, and the input line with Up/Down recall.
#include <imgui.h>

#include <cstdio>

#include "app/session/chat_command.h"
#include "app/ui/fonts.h"
#include "app/ui/keys.h"
#include "app/ui/ui_app.h"
#include "net/base/clock.h"

namespace huddle::ui {

namespace {

const ImVec4 kSystemColour{0.60f, 0.65f, 0.72f, 1.0f};
const ImVec4 kPrivateColour{0.85f, 0.60f, 0.95f, 1.0f};
const ImVec4 kNoticeColour{0.95f, 0.75f, 0.35f, 1.0f};
const ImVec4 kSharingColour{0.45f, 0.85f, 0.55f, 1.0f};

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

struct RecallState {
  std::vector<std::string>* sent;
  int* recall;
};

// Up/Down walk through what was sent, like a shell.
int onInputEvent(ImGuiInputTextCallbackData* data) {
  takeTypedText(data);  // emoji typed this frame (keys.h)
  if (data->EventFlag != ImGuiInputTextFlags_CallbackHistory) return 0;
  auto* st = static_cast<RecallState*>(data->UserData);
  const int n = static_cast<int>(st->sent->size());
  if (n == 0) return 0;
  int& r = *st->recall;
  if (data->EventKey == ImGuiKey_UpArrow) r = r < 0 ? n - 1 : std::max(0, r - 1);
  else if (data->EventKey == ImGuiKey_DownArrow) r = r < 0 ? -1 : (r + 1 >= n ? -1 : r + 1);
  data->DeleteChars(0, data->BufTextLen);
  if (r >= 0) data->InsertChars(0, (*st->sent)[static_cast<std::size_t>(r)].c_str());
  return 0;
}

}  // namespace

void UiApp::drawChatPanel() {
  m_chatVisible = true;
  const float em = ImGui::GetFontSize();
  // Wide: the user list beside the log. Narrow: the names on a line above it.
  const bool narrow = ImGui::GetContentRegionAvail().x < em * 30;
  const float usersWidth = narrow ? 0.0f : em * 10.0f;
  const float inputHeight = ImGui::GetFrameHeightWithSpacing();
  if (narrow) drawUserList(true);
  ImGui::BeginChild("log", ImVec2(narrow ? 0.0f : -usersWidth, -inputHeight), true);
  ImGuiListClipper clipper;
  const auto& lines = m_chat.lines();
  clipper.Begin(static_cast<int>(lines.size()));
  // Text after the time and name goes on the same line only if there is room to read it.
  auto text = [&](const std::string& raw) {
    const std::string t = forDisplay(raw);  // any script, emoji too (fonts.h)
    const float right = ImGui::GetWindowPos().x + ImGui::GetWindowContentRegionMax().x;
    if (right - ImGui::GetItemRectMax().x < em * 8) {
      ImGui::Indent(em);
      ImGui::TextWrapped("%s", t.c_str());
      ImGui::Unindent(em);
    } else {
      ImGui::SameLine();
      ImGui::TextWrapped("%s", t.c_str());
    }
  };
  while (clipper.Step()) {
    for (int i = clipper.DisplayStart; i < clipper.DisplayEnd; ++i) {
      const session::ChatLine& l = lines[static_cast<std::size_t>(i)];
      ImGui::TextDisabled("%s", base::formatClock(l.timeUs).c_str());
      ImGui::SameLine();
      switch (l.style) {
        case session::ChatLine::Style::Message:
          ImGui::TextColored(nameColour(l.from), "%s:", forDisplay(l.from).c_str());
          text(l.text);
          break;
        case session::ChatLine::Style::Private:
          ImGui::TextColored(kPrivateColour, "%s -> %s (private):", forDisplay(l.from).c_str(), forDisplay(l.to).c_str());
          text(l.text);
          break;
        case session::ChatLine::Style::Notice:
          ImGui::PushStyleColor(ImGuiCol_Text, kNoticeColour);
          ImGui::TextWrapped("%s", forDisplay(l.text).c_str());
          ImGui::PopStyleColor();
          break;
        case session::ChatLine::Style::System:
          ImGui::PushStyleColor(ImGuiCol_Text, kSystemColour);
          ImGui::TextWrapped("* %s", forDisplay(l.text).c_str());
          ImGui::PopStyleColor();
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
  if (!narrow) {
    ImGui::SameLine();
    ImGui::BeginChild("users", ImVec2(0, -inputHeight), true);
    drawUserList(false);
    ImGui::EndChild();
  }

  bool canSend = m_chat.connected() || m_reconnecting;  // said once back, if away
  ImGui::BeginDisabled(!canSend);
  ImGui::SetNextItemWidth(-ImGui::GetFontSize() * 5);
  if (m_focusInput && canSend) {
    ImGui::SetKeyboardFocusHere();
    m_focusInput = false;
  }
  RecallState recall{&m_sent, &m_recall};
  bool enter = ImGui::InputText("##input", m_input, sizeof m_input,
                                ImGuiInputTextFlags_EnterReturnsTrue | ImGuiInputTextFlags_CallbackHistory |
                                    ImGuiInputTextFlags_CallbackAlways,
                                onInputEvent,
                                &recall);
  // Enter leaves the input: take it back at once, so the next line's first keys land in it.
  if (enter) ImGui::SetKeyboardFocusHere(-1);
  ImGui::SameLine();
  bool send = ImGui::Button("Send", ImVec2(-1, 0));
  ImGui::EndDisabled();
  if ((enter || send) && canSend) {
    submitChatLine();
    m_focusInput = !enter;  // after Enter the input has its focus back already
  }
}

void UiApp::drawUserList(bool inline_) {
  const std::vector<wire::StreamInfo> streams = m_screen ? m_screen->streams() : std::vector<wire::StreamInfo>{};
  if (m_chat.users().empty()) {
    ImGui::TextDisabled("Not in a session.");
    return;
  }
  if (inline_) ImGui::TextDisabled("Here:");
  else ImGui::TextDisabled("%zu here", m_chat.users().size());
  for (const auto& u : m_chat.users()) {
    ImGui::PushID(static_cast<int>(u.id));
    std::string label = forDisplay(u.name);
    if (u.flags & wire::UserInfo::kFlagHost) label += " (host)";
    if (inline_) {
      // Flow the names along the line, wrapping when one does not fit.
      const float need = ImGui::CalcTextSize(label.c_str()).x + ImGui::GetFontSize() * 5;
      ImGui::SameLine();
      if (ImGui::GetContentRegionAvail().x < need) ImGui::NewLine();
    }
    ImGui::TextColored(nameColour(u.name), "%s", label.c_str());
    if (ImGui::BeginPopupContextItem("user")) {
      if (ImGui::MenuItem("Private message")) {
        std::snprintf(m_input, sizeof m_input, "/msg %s ", forDisplay(u.name).c_str());
        m_focusInput = true;
      }
      if (m_mode == Mode::Hosting && !(u.flags & wire::UserInfo::kFlagHost)) {
        if (ImGui::MenuItem("Remove from session")) m_host->chatHub().kick(u.name, "");
        if (ImGui::MenuItem("Ban from session")) m_host->chatHub().ban(u.name, "");
      }
      ImGui::EndPopup();
    }
    if (u.flags & wire::UserInfo::kFlagSharing) {
      // Sharing: a click opens their screen. Beside the name inline, under it in the list.
      for (const auto& s : streams)
        if (s.ownerId == u.id) {
          if (inline_) ImGui::SameLine();
          else ImGui::Indent();
          ImGui::PushStyleColor(ImGuiCol_Text, kSharingColour);
          if (ImGui::SmallButton(inline_ ? "watch" : "sharing: watch")) openViewer(s.streamId);
          ImGui::PopStyleColor();
          if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s is sharing: %s", u.name.c_str(), s.title.c_str());
          if (!inline_) ImGui::Unindent();
          break;
        }
    }
    ImGui::PopID();
  }
}

void UiApp::submitChatLine() {
  net::ChatClient* client = chatClient();
  if (m_input[0] != '\0' && (m_sent.empty() || m_sent.back() != m_input)) {
    m_sent.push_back(m_input);
    if (m_sent.size() > 100) m_sent.erase(m_sent.begin());
  }
  m_recall = -1;
  session::ChatCommand cmd = session::parseChatLine(fromDisplay(m_input));
  m_input[0] = '\0';
  if (!client) return;
  using Kind = session::ChatCommand::Kind;
  switch (cmd.kind) {
    case Kind::Empty: break;
    case Kind::Say:
      if (!client->connected() && m_reconnecting) {
        m_outbox.push_back(cmd.text);
        note("(will be said when the host is back) " + cmd.text);
      } else {
        client->say(cmd.text);
      }
      break;
    case Kind::Private:
      if (!client->sayPrivate(cmd.target, cmd.text))
        m_chat.addLocal(session::ChatLine::Style::Notice, "Not sent: no one called \"" + cmd.target + "\" is here.");
      break;
    case Kind::Who: {
      std::string who;
      for (const auto& u : m_chat.users()) who += (who.empty() ? "" : ", ") + u.name;
      m_chat.addLocal(session::ChatLine::Style::Notice, "Here: " + who);
      break;
    }
    case Kind::Quit: m_mode == Mode::Hosting ? void(m_confirmQuit = true) : leaveSession(); break;
    case Kind::Kick:
    case Kind::Ban: {
      const bool ban = cmd.kind == Kind::Ban;
      if (m_mode != Mode::Hosting || !m_host)
        m_chat.addLocal(session::ChatLine::Style::Notice, "Only the host can remove people.");
      else if (!(ban ? m_host->chatHub().ban(cmd.target, cmd.text) : m_host->chatHub().kick(cmd.target, cmd.text)))
        m_chat.addLocal(session::ChatLine::Style::Notice, "No one else named \"" + cmd.target + "\" is here.");
      else if (ban)
        m_chat.addLocal(session::ChatLine::Style::Notice, cmd.target + " is banned from this session.");
      break;
    }
    case Kind::Password: changeRoomPassword(cmd.text); break;
    case Kind::Help: m_chat.addLocal(session::ChatLine::Style::Notice, session::chatHelpText()); break;
    case Kind::Error: m_chat.addLocal(session::ChatLine::Style::Notice, cmd.text); break;
  }
  m_scrollToBottom = true;
}

}  // namespace huddle::ui
