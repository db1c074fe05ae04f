#include "app/ui/chat_view.h"

#include <algorithm>

#include "app/ui/fonts.h"
#include "net/base/clock.h"

namespace huddle::ui {

namespace {
const ImVec4 kSystemColour{0.60f, 0.65f, 0.72f, 1.0f};
const ImVec4 kPrivateColour{0.85f, 0.60f, 0.95f, 1.0f};
const ImVec4 kNoticeColour{0.95f, 0.75f, 0.35f, 1.0f};

// Text after the time and name goes on the same line only if there is room to read it.
void messageText(const std::string& raw, float em) {
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
}

void drawLine(const session::ChatLog& log, const session::ChatLine& l, float em) {
  ImGui::TextDisabled("%s", base::formatClock(l.timeUs).c_str());
  ImGui::SameLine();
  switch (l.style) {
    case session::ChatLine::Style::Message:
      ImGui::TextColored(colourVec(log.colourOf(l.from)), "%s:", forDisplay(l.from).c_str());
      messageText(l.text, em);
      break;
    case session::ChatLine::Style::Private:
      // Wrapped: "a -> b (private):" alone can be wider than a narrow chat.
      ImGui::PushStyleColor(ImGuiCol_Text, kPrivateColour);
      ImGui::TextWrapped("%s -> %s (private):", forDisplay(l.from).c_str(), forDisplay(l.to).c_str());
      ImGui::PopStyleColor();
      messageText(l.text, em);
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
}  // namespace

ImVec4 colourVec(std::uint32_t rgb) {
  return ImVec4(static_cast<float>(rgb >> 16 & 0xFF) / 255.0f, static_cast<float>(rgb >> 8 & 0xFF) / 255.0f,
                static_cast<float>(rgb & 0xFF) / 255.0f, 1.0f);
}

void drawChatLog(const session::ChatLog& log, ChatScroll& scroll, const ImVec2& size) {
  const float em = ImGui::GetFontSize();
  ImGui::BeginChild("log", size, true);
  const auto& lines = log.lines();
  const float width = ImGui::GetContentRegionAvail().x;
  const std::uint64_t first = log.added() - lines.size();
  if (width != scroll.wrapWidth || scroll.heights.empty() || scroll.heightsFirst > first) {
    scroll.heights.clear();
    scroll.heightsFirst = first;
    scroll.wrapWidth = width;
  }
  while (scroll.heightsFirst < first && !scroll.heights.empty()) {  // lines the log let go
    scroll.heights.pop_front();
    ++scroll.heightsFirst;
  }
  if (scroll.heights.empty()) scroll.heightsFirst = first;
  const float spacing = ImGui::GetStyle().ItemSpacing.y;
  const float top = ImGui::GetScrollY() - em * 4, bottom = ImGui::GetScrollY() + ImGui::GetWindowHeight() + em * 4;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::uint64_t k = first + i - scroll.heightsFirst;
    const float y = ImGui::GetCursorPosY();
    if (k < scroll.heights.size() && (y + scroll.heights[k] < top || y > bottom)) {
      ImGui::Dummy(ImVec2(1.0f, std::max(0.0f, scroll.heights[k] - spacing)));  // out of view: its place only
      continue;
    }
    drawLine(log, lines[i], em);
    const float h = ImGui::GetCursorPosY() - y;
    if (k < scroll.heights.size()) scroll.heights[k] = h;
    else if (k == scroll.heights.size()) scroll.heights.push_back(h);
  }
  // The reader scrolling (the wheel over the log, or a drag of its scrollbar) decides
  // whether to follow: at the bottom it follows, above it stays where it was put.
  const ImGuiIO& io = ImGui::GetIO();
  const bool atBottom = ImGui::GetScrollY() >= ImGui::GetScrollMaxY() - 1.0f;
  if (ImGui::IsWindowHovered() && (io.MouseWheel != 0.0f || ImGui::IsMouseDragging(ImGuiMouseButton_Left)))
    scroll.follow = atBottom;
  if (scroll.follow) {
    ImGui::SetScrollHereY(1.0f);  // every frame: a resize or a long backlog stays at the end
    scroll.seenLines = log.added();
  }
  scroll.scrollY = ImGui::GetScrollY();
  scroll.scrollMaxY = ImGui::GetScrollMaxY();
  scroll.newMessagesShown = false;
  if (!scroll.follow && log.added() > scroll.seenLines) {
    // Over the bottom of the visible log.
    const char* label = "New messages";
    const ImVec2 labelSize = ImGui::CalcTextSize(label);
    const ImVec2 buttonSize(labelSize.x + ImGui::GetStyle().FramePadding.x * 2,
                            labelSize.y + ImGui::GetStyle().FramePadding.y * 2);
    const ImVec2 pos = ImGui::GetWindowPos(), wsize = ImGui::GetWindowSize();
    ImGui::SetCursorScreenPos(ImVec2(pos.x + (wsize.x - buttonSize.x) / 2, pos.y + wsize.y - buttonSize.y - em * 0.5f));
    scroll.newMessagesShown = true;
    if (ImGui::Button(label, buttonSize)) scroll.follow = true;
  }
  if (ImGui::BeginPopupContextWindow()) {
    if (ImGui::MenuItem("Copy all")) ImGui::SetClipboardText(log.toText().c_str());
    ImGui::EndPopup();
  }
  ImGui::EndChild();
}

}  // namespace huddle::ui
