// The chat log as the window draws it: time, a colour per name, private lines marked,
// notices; it follows the newest line unless the reader scrolled up, and then a "New
// messages" button brings it back down (ImGui 1.86's ExampleAppLog idea, kept across
// resizes and long backlogs). Free of UiApp so panel tests can run it with no backend.
// Thread: UI thread only.
#pragma once
#include <cstdint>
#include <deque>
#include <string>

#include <imgui.h>

#include "app/session/chat_log.h"

namespace huddle::ui {

struct ChatScroll {
  bool follow = true;            // stay at the newest line
  std::uint64_t seenLines = 0;   // the log's line count when the reader was last at the bottom
  bool newMessagesShown = false; // the "New messages" button was drawn this frame
  float scrollY = 0, scrollMaxY = 0;  // where the log stood this frame (tests, diagnostics)
  // Heights of the lines drawn at this width, so lines out of view are skipped cheaply
  // (wrapped lines differ in height, so ImGuiListClipper's uniform rows do not fit).
  std::deque<float> heights;
  std::uint64_t heightsFirst = 0;  // the log line heights[0] belongs to
  float wrapWidth = 0;
};

// A participant's colour (session::participantColour, 0xRRGGBB) for ImGui: the same person
// has the same colour in the chat, the user list and on their pointer.
ImVec4 colourVec(std::uint32_t rgb);
// Draws `log` in a child window of `size` (ImGui's BeginChild rules: 0 fills, negative leaves
// room) with id "log", keeping `scroll` up to date.
void drawChatLog(const session::ChatLog& log, ChatScroll& scroll, const ImVec2& size);

}  // namespace huddle::ui
