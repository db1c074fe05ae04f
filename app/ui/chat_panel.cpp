// The chat panel: the log (app/ui/chat_view), the user list with who is sharing and who is
// speaking, the voice controls (join or leave, mute, the microphone's level, volumes), and the
// input line with Up/Down recall; what a typed line does is the session controller's.
#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "app/ui/chat_view.h"
#include "app/ui/fonts.h"
#include "app/ui/keys.h"
#include "app/ui/ui_app.h"
#include "app/session/download_dir.h"

namespace huddle::ui {

namespace {

const ImVec4 kSharingColour{0.45f, 0.85f, 0.55f, 1.0f};
const ImU32 kSpeakingColour = IM_COL32(90, 220, 120, 255);

// A dot before a name while that person is heard (room kept when not, so names stay put).
void speakingMark(bool speaking) {
  const float size = ImGui::GetFontSize();
  const ImVec2 at = ImGui::GetCursorScreenPos();
  if (speaking)
    ImGui::GetWindowDrawList()->AddCircleFilled(ImVec2(at.x + size * 0.35f, at.y + size * 0.55f), size * 0.28f,
                                                kSpeakingColour);
  ImGui::Dummy(ImVec2(size * 0.8f, size));
  if (speaking && ImGui::IsItemHovered()) ImGui::SetTooltip("speaking");
  ImGui::SameLine(0, 0);
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
  // The files strip (offers, progress) sits between the log and the input.
  const int rows = fileRows(ImGui::GetContentRegionAvail().x - ImGui::GetStyle().WindowPadding.x * 2);
  const float filesHeight = rows > 0 ? ImGui::GetFrameHeightWithSpacing() * static_cast<float>(std::min(rows, 6)) +
                                           ImGui::GetStyle().WindowPadding.y * 2
                                     : 0.0f;
  const float inputHeight = ImGui::GetFrameHeightWithSpacing() + filesHeight;
  if (narrow) drawUserList(true);
  drawChatLog(m_session ? m_session->chat() : m_idleChat, m_chatScroll, ImVec2(narrow ? 0.0f : -usersWidth, -inputHeight));
  if (!narrow) {
    ImGui::SameLine();
    ImGui::BeginChild("users", ImVec2(0, -inputHeight), true);
    drawUserList(false);
    ImGui::EndChild();
  }

  if (rows > 0) {
    ImGui::BeginChild("files", ImVec2(0, filesHeight), true);
    drawFileTransfers();
    ImGui::EndChild();
  }

  // Said once in (or back), if typed while the host's key is checked or asked about, while
  // connecting or while the host is away: the controller keeps it, as the terminal does.
  const session::Phase phase = m_session ? m_session->state().phase : session::Phase::Idle;
  const bool canSend = inSession() || phase == session::Phase::Checking || phase == session::Phase::AskTrust;
  ImGui::BeginDisabled(!canSend);
  const char* sendLabel = "Send";
  const char* fileLabel = "Send file...";
  const float sendWidth = ImGui::CalcTextSize(sendLabel).x + ImGui::GetStyle().FramePadding.x * 2;
  const float fileWidth = ImGui::CalcTextSize(fileLabel).x + ImGui::GetStyle().FramePadding.x * 2;
  ImGui::SetNextItemWidth(-(sendWidth + fileWidth + ImGui::GetStyle().ItemSpacing.x * 2));
  if (m_focusInput && canSend) {
    ImGui::SetKeyboardFocusHere();
    m_focusInput = false;
  }
  RecallState recall{&m_sent, &m_recall};
  bool enter = ImGui::InputText("##input", m_input, sizeof m_input,
                                ImGuiInputTextFlags_EnterReturnsTrue | ImGuiInputTextFlags_CallbackHistory |
                                    ImGuiInputTextFlags_CallbackAlways,
                                onInputEvent, &recall);
  // Enter leaves the input: take it back at once, so the next line's first keys land in it.
  if (enter) ImGui::SetKeyboardFocusHere(-1);
  ImGui::SameLine();
  bool send = ImGui::Button(sendLabel, ImVec2(sendWidth, 0));
  ImGui::EndDisabled();
  ImGui::SameLine();
  ImGui::BeginDisabled(!inSession());
  if (ImGui::Button(fileLabel, ImVec2(-1, 0))) m_openSendFile = true;
  ImGui::EndDisabled();
  drawSendFilePopup();
  if ((enter || send) && canSend) {
    submitChatLine();
    m_focusInput = !enter;  // after Enter the input has its focus back already
  }
}

void UiApp::drawUserList(bool inline_) {
  const session::ChatLog& log = m_session ? m_session->chat() : m_idleChat;
  if (log.users().empty()) {
    ImGui::TextDisabled("Not in a session.");
    return;
  }
  drawVoiceControls();
  if (inline_) ImGui::TextDisabled("Here:");
  else ImGui::TextDisabled("%zu here", log.users().size());
  const std::vector<wire::StreamInfo>& streams = m_session->state().streams;
  const bool host = m_session->hosting();
  for (const auto& u : log.users()) {
    ImGui::PushID(static_cast<int>(u.id));
    std::string label = forDisplay(u.name);
    if (u.flags & wire::UserInfo::kFlagHost) label += " (host)";
    if (inline_) {
      // Flow the names along the line, wrapping when one does not fit.
      const float need = ImGui::CalcTextSize(label.c_str()).x + ImGui::GetFontSize() * 5;
      ImGui::SameLine();
      if (ImGui::GetContentRegionAvail().x < need) ImGui::NewLine();
    }
    speakingMark(m_session->speaking(u.id));
    ImGui::TextColored(colourVec(session::participantColour(u.id)), "%s", label.c_str());
    if (ImGui::BeginPopupContextItem("user")) {
      if (m_session->state().voiceOn && u.id != m_session->state().selfId) {
        float& gain = m_voiceVolumes.try_emplace(u.id, 1.f).first->second;
        if (ImGui::SliderFloat("Volume", &gain, 0.f, 4.f, "%.2f")) m_session->setSpeakerVolume(u.id, gain);
      }
      if (ImGui::MenuItem("Private message")) {
        std::snprintf(m_input, sizeof m_input, "/msg %s ", forDisplay(u.name).c_str());
        m_focusInput = true;
      }
      if (host && !(u.flags & wire::UserInfo::kFlagHost)) {
        if (ImGui::MenuItem("Remove from session")) m_session->submitLine("/kick " + u.name);
        if (ImGui::MenuItem("Ban from session")) m_session->submitLine("/ban " + u.name);
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
          if (ImGui::IsItemHovered())
            ImGui::SetTooltip("%s is sharing: %s", forDisplay(u.name).c_str(), forDisplay(s.title).c_str());
          if (!inline_) ImGui::Unindent();
          break;
        }
    }
    ImGui::PopID();
  }
}

// Voice: one button to join or leave, mute, the microphone's level and everyone's volume.
void UiApp::drawVoiceControls() {
  const session::ControllerState& st = m_session->state();
  if (!inSession()) return;
  if (!st.voiceWanted) {
    if (ImGui::SmallButton("Join voice")) m_session->setVoice(true);
    if (!st.voiceError.empty() && ImGui::IsItemHovered()) ImGui::SetTooltip("%s", st.voiceError.c_str());
    return;
  }
  if (ImGui::SmallButton("Leave voice")) m_session->setVoice(false);
  ImGui::SameLine();
  bool muted = st.voiceMuted;
  if (m_settings.voicePushToTalk) {
    // Live only while the button or the talk key is held.
    ImGui::SmallButton("Hold to talk");
    const bool held = ImGui::IsItemActive() || ImGui::IsKeyDown(m_settings.voiceTalkKey);
    if (held == st.voiceMuted) m_session->setMuted(!held);
    muted = !held;
  } else if (ImGui::Checkbox("Mute", &muted)) {
    m_session->setMuted(muted);
  }
  ImGui::SameLine();
  if (ImGui::SmallButton("...")) {
    m_captureDevices = voice::audioDeviceNames(true);
    m_playbackDevices = voice::audioDeviceNames(false);
    ImGui::OpenPopup("voice options");
  }
  if (ImGui::BeginPopup("voice options")) {
    if (ImGui::Checkbox("Push to talk", &m_settings.voicePushToTalk)) m_session->setMuted(m_settings.voicePushToTalk);
    // The key held to talk (seen while this window has the keyboard).
    static const std::pair<int, const char*> kTalkKeys[] = {{293, "F4"}, {294, "F5"}, {295, "F6"}, {296, "F7"},
                                                            {297, "F8"}, {298, "F9"}, {299, "F10"}, {345, "Right Ctrl"},
                                                            {346, "Right Alt"}, {284, "Pause"}, {281, "Scroll Lock"}};
    const char* keyName = "?";
    for (const auto& [code, name] : kTalkKeys)
      if (code == m_settings.voiceTalkKey) keyName = name;
    if (ImGui::BeginCombo("Talk key", keyName)) {
      for (const auto& [code, name] : kTalkKeys)
        if (ImGui::Selectable(name, code == m_settings.voiceTalkKey)) m_settings.voiceTalkKey = code;
      ImGui::EndCombo();
    }
    bool changed = false;
    auto deviceCombo = [&](const char* label, const std::vector<std::string>& names, std::string& chosen) {
      if (!ImGui::BeginCombo(label, chosen.empty() ? "System default" : chosen.c_str())) return;
      if (ImGui::Selectable("System default", chosen.empty())) chosen.clear(), changed = true;
      for (const auto& n : names)
        if (ImGui::Selectable(n.c_str(), n == chosen)) chosen = n, changed = true;
      ImGui::EndCombo();
    };
    deviceCombo("Microphone", m_captureDevices, m_voiceDevices.capture);
    deviceCombo("Speaker", m_playbackDevices, m_voiceDevices.playback);
    if (ImGui::Checkbox("Automatic gain", &m_settings.voiceAutoGain)) {
      m_session->setVoiceAutoGain(m_settings.voiceAutoGain);
      changed = true;
    }
    if (changed) {
      m_settings.voiceMic = m_voiceDevices.capture;  // remembered (settings.ini)
      m_settings.voiceSpeaker = m_voiceDevices.playback;
      // Devices are opened when voice starts: start it again with the new ones.
      m_session->setVoiceDevices(m_voiceDevices);
      m_session->setVoice(false);
      m_session->setVoice(true);
    }
    ImGui::EndPopup();
  }
  if (!st.voiceOn) {
    ImGui::TextDisabled("%s", st.voiceError.empty() ? "Voice starting..." : st.voiceError.c_str());
    return;
  }
  if (!st.voiceConnected) ImGui::TextDisabled("Voice: waiting for the host...");
  // The meter: -60..0 dBFS.
  const float level = std::clamp((st.voiceLevelDbfs + 60.f) / 60.f, 0.f, 1.f);
  ImGui::ProgressBar(muted ? 0.f : level, ImVec2(-1, ImGui::GetFontSize() * 0.5f), "");
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("Microphone level%s", muted ? " (muted)" : "");
  ImGui::SetNextItemWidth(-1);
  if (ImGui::SliderFloat("##all", &m_voiceMaster, 0.f, 4.f, "all: %.2f")) m_session->setMasterVolume(m_voiceMaster);
}

// [SECTION] files in the chat

namespace {
std::string offerText(const session::IncomingFile& f) {
  return forDisplay(f.from) + " offers " + forDisplay(f.name) + " (" + session::fileSizeText(f.size) + ")";
}

// Accept and Decline, side by side.
float offerButtonsWidth() {
  const ImGuiStyle& style = ImGui::GetStyle();
  return ImGui::CalcTextSize("Accept").x + ImGui::CalcTextSize("Decline").x + style.FramePadding.x * 4 +
         style.ItemSpacing.x * 2;
}

// Lines `text` takes wrapped at `width`.
int wrappedLines(const std::string& text, float width) {
  const float h = ImGui::CalcTextSize(text.c_str(), nullptr, false, std::max(width, 1.0f)).y;
  return std::max(1, static_cast<int>(std::ceil(h / ImGui::GetTextLineHeight())));
}

// An offer's text beside its buttons if it fits, else wrapped below them (a narrow panel):
// how many lines that takes after the buttons' (0: beside them).
int offerTextLines(const std::string& text, float width) {
  if (offerButtonsWidth() + ImGui::CalcTextSize(text.c_str()).x <= width) return 0;
  return wrappedLines(text, width);
}

// A file's progress: its bar leaves room for one small button.
float progressBarWidth(float width) { return width - ImGui::GetFontSize() * 5; }
float fraction(std::uint64_t part, std::uint64_t whole) {
  return whole ? static_cast<float>(static_cast<double>(part) / static_cast<double>(whole)) : 1.f;
}

// A progress row's text on its bar if it fits, else wrapped above it (a narrow panel): the
// lines it takes above the bar (0: on it).
int progressTextLines(const std::string& text, float width) {
  if (ImGui::CalcTextSize(text.c_str()).x + ImGui::GetStyle().FramePadding.x * 2 <= progressBarWidth(width)) return 0;
  return wrappedLines(text, width);
}

// The bar (with the text on it or, when it does not fit, wrapped above it and only the
// percentage on the bar), then `button` beside it; true if the button was clicked.
bool progressRow(const std::string& text, float part, const char* button) {
  const float width = ImGui::GetContentRegionAvail().x;
  std::string onBar = text;
  if (progressTextLines(text, width) > 0) {
    ImGui::PushTextWrapPos(0.0f);
    ImGui::TextUnformatted(text.c_str());
    ImGui::PopTextWrapPos();
    onBar = std::to_string(static_cast<int>(part * 100)) + "%";
  }
  ImGui::ProgressBar(part, ImVec2(progressBarWidth(width), 0), onBar.c_str());
  ImGui::SameLine();
  return ImGui::SmallButton(button);
}

std::string receivingText(const session::IncomingFile& f) {
  return forDisplay(f.name) + " from " + forDisplay(f.from) + ": " +
         std::to_string(static_cast<int>(fraction(f.received, f.size) * 100)) + "% of " + session::fileSizeText(f.size) +
         (f.state == session::IncomingFile::State::Paused ? " (paused)" : "");
}

std::string preparingText(const session::OutgoingFile& f) {
  return "preparing " + forDisplay(f.name) + " (" + session::fileSizeText(f.size) + ") for " +
         (f.to.empty() ? std::string("everyone") : forDisplay(f.to)) + ": " +
         std::to_string(static_cast<int>(fraction(f.prepared, f.size) * 100)) + "%";
}

// What we offer, to whom, and who is taking it (how far, over everyone taking it).
std::string offeringText(const session::OutgoingFile& f, float& part) {
  std::string who;
  std::uint64_t sent = 0;
  int taking = 0;
  for (const auto& [id, r] : f.receivers) {
    if (r.name.empty()) continue;
    who += (who.empty() ? ": " : ", ") + forDisplay(r.name) + " " + r.status;
    if (r.status == "receiving") sent += r.sent, ++taking;
  }
  part = taking && f.size ? static_cast<float>(static_cast<double>(sent) / (static_cast<double>(f.size) * taking)) : 0.f;
  return "offering " + forDisplay(f.name) + " (" + session::fileSizeText(f.size) + ") to " +
         (f.to.empty() ? std::string("everyone") : forDisplay(f.to)) + who;
}
}  // namespace

int UiApp::fileRows(float width) const {
  if (!m_session) return 0;
  int rows = 0;
  using In = session::IncomingFile::State;
  using Out = session::OutgoingFile::State;
  for (const auto& f : m_session->incomingFiles()) {
    if (f.state == In::Offered) rows += 1 + offerTextLines(offerText(f), width);
    else if (f.state == In::Receiving || f.state == In::Paused) rows += 1 + progressTextLines(receivingText(f), width);
  }
  for (const auto& f : m_session->outgoingFiles()) {
    float part = 0;
    if (f.state == Out::Preparing) rows += 1 + progressTextLines(preparingText(f), width);
    else if (f.state == Out::Offered) rows += 1 + progressTextLines(offeringText(f, part), width);
  }
  return rows;
}

void UiApp::drawFileTransfers() {
  using In = session::IncomingFile::State;
  using Out = session::OutgoingFile::State;
  // Whatever the panel's width, a person can read who offers what and its size: texts wrap.
  for (const auto& f : m_session->incomingFiles()) {
    if (f.state != In::Offered && f.state != In::Receiving && f.state != In::Paused) continue;
    ImGui::PushID(static_cast<int>(f.id));
    if (f.state == In::Offered) {
      // The buttons first, then who offers what and its size: beside them if it fits, else
      // wrapped on the lines below (a narrow panel), never cut.
      if (ImGui::SmallButton("Accept")) m_session->acceptFile(f.id);
      if (ImGui::IsItemHovered()) ImGui::SetTooltip("Save it in %s", session::downloadDir().c_str());
      ImGui::SameLine();
      if (ImGui::SmallButton("Decline")) m_session->declineFile(f.id);
      const std::string text = offerText(f);
      if (offerTextLines(text, ImGui::GetContentRegionAvail().x) == 0) ImGui::SameLine();
      ImGui::PushTextWrapPos(0.0f);
      ImGui::TextUnformatted(text.c_str());
      ImGui::PopTextWrapPos();
    } else if (progressRow(receivingText(f), fraction(f.received, f.size), "Cancel")) {
      m_session->declineFile(f.id);
    }
    ImGui::PopID();
  }
  for (const auto& f : m_session->outgoingFiles()) {
    if (f.state != Out::Preparing && f.state != Out::Offered) continue;
    ImGui::PushID(static_cast<int>(0x40000000u | f.id));
    // Preparing: its SHA-256 is being read (on a worker); offered when that is done.
    float part = fraction(f.prepared, f.size);
    const std::string text = f.state == Out::Preparing ? preparingText(f) : offeringText(f, part);
    if (progressRow(text, part, "Stop")) m_session->cancelFileOffer(f.id);
    ImGui::PopID();
  }
}

void UiApp::dropFiles(std::vector<std::string> paths) {
  if (paths.empty() || !inSession()) return;
  m_droppedFiles = std::move(paths);
  std::snprintf(m_sendPath, sizeof m_sendPath, "%s", m_droppedFiles.front().c_str());
  m_openSendFile = true;
}

void UiApp::drawSendFilePopup() {
  if (m_openSendFile) {
    ImGui::OpenPopup("Send a file");
    m_openSendFile = false;
  }
  if (!ImGui::BeginPopup("Send a file")) return;
  const float em = ImGui::GetFontSize();
  if (m_droppedFiles.size() > 1) {
    ImGui::Text("%zu files dropped", m_droppedFiles.size());
  } else {
    ImGui::TextUnformatted("File:");
    ImGui::SetNextItemWidth(em * 24);
    if (ImGui::IsWindowAppearing()) ImGui::SetKeyboardFocusHere();
    ImGui::InputText("##path", m_sendPath, sizeof m_sendPath);
  }
  // To everyone, or one person here.
  ImGui::SetNextItemWidth(em * 12);
  if (ImGui::BeginCombo("To", m_sendTo.empty() ? "everyone" : forDisplay(m_sendTo).c_str())) {
    if (ImGui::Selectable("everyone", m_sendTo.empty())) m_sendTo.clear();
    for (const auto& u : m_session->chat().users())
      if (u.id != m_session->state().selfId && ImGui::Selectable(forDisplay(u.name).c_str(), m_sendTo == u.name))
        m_sendTo = u.name;
    ImGui::EndCombo();
  }
  if (ImGui::Button("Send")) {
    std::vector<std::string> paths = m_droppedFiles.size() > 1 ? m_droppedFiles : std::vector<std::string>{fromDisplay(m_sendPath)};
    for (const auto& p : paths) m_session->sendFile(p, m_sendTo);
    m_droppedFiles.clear();
    m_sendPath[0] = '\0';
    m_chatScroll.follow = true;
    ImGui::CloseCurrentPopup();
  }
  ImGui::SameLine();
  if (ImGui::Button("Cancel")) {
    m_droppedFiles.clear();
    ImGui::CloseCurrentPopup();
  }
  ImGui::EndPopup();
}

void UiApp::submitChatLine() {
  if (m_input[0] != '\0' && (m_sent.empty() || m_sent.back() != m_input)) {
    m_sent.push_back(m_input);
    if (m_sent.size() > 100) m_sent.erase(m_sent.begin());
  }
  m_recall = -1;
  const std::string line = fromDisplay(m_input);
  m_input[0] = '\0';
  if (!m_session) return;
  // What a line does is the controller's; the window only acts on leaving.
  switch (m_session->submitLine(line)) {
    case session::LineOutcome::Done: break;
    case session::LineOutcome::Leave: leaveSession(); break;
    case session::LineOutcome::ConfirmEnd: m_confirmQuit = true; break;
  }
  m_chatScroll.follow = true;  // what we just said is shown
}

}  // namespace huddle::ui
