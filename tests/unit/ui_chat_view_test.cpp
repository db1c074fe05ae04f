// The chat log view run with Dear ImGui and no backend (ImGui's example_null idea): frames
// are made by hand, the wheel is set on ImGuiIO, and the log's scroll is read back.
#include <gtest/gtest.h>

#include <imgui.h>

#include "app/ui/chat_view.h"
#include "tests/unit/ui_null_imgui.h"

namespace huddle::ui {
namespace {

class NullImGui {
  NullImGuiContext m_context;

 public:
  // One frame with the log filling a window of `w` x `h`.
  void frame(const session::ChatLog& log, ChatScroll& scroll, float w, float h) {
    ImGuiIO& io = ImGui::GetIO();
    io.DisplaySize = ImVec2(800, 600);
    io.DeltaTime = 1.0f / 60;
    ImGui::NewFrame();
    ImGui::SetNextWindowPos(ImVec2(0, 0));
    ImGui::SetNextWindowSize(ImVec2(w, h));
    ImGui::Begin("chat", nullptr, ImGuiWindowFlags_NoDecoration);
    drawChatLog(log, scroll, ImVec2(0, 0));
    ImGui::End();
    ImGui::Render();
    io.MouseWheel = 0;
  }
  void frames(const session::ChatLog& log, ChatScroll& scroll, float w, float h, int n = 4) {
    for (int i = 0; i < n; ++i) frame(log, scroll, w, h);
  }
};

void say(session::ChatLog& log, int n, const std::string& text = "a line of chat") {
  for (int i = 0; i < n; ++i) log.addLocal(session::ChatLine::Style::Notice, text + " " + std::to_string(i));
}

bool atBottom(const ChatScroll& s) { return s.scrollMaxY > 0 && s.scrollY >= s.scrollMaxY - 1.0f; }

TEST(ChatView, FollowsTheNewestLineThroughResizesAndBacklogs) {
  NullImGui ui;
  session::ChatLog log;
  ChatScroll scroll;
  say(log, 200);
  ui.frames(log, scroll, 400, 300);
  EXPECT_TRUE(atBottom(scroll)) << scroll.scrollY << " of " << scroll.scrollMaxY;
  // Smaller: more of the log is hidden above; the newest line stays in view.
  ui.frames(log, scroll, 400, 140);
  EXPECT_TRUE(atBottom(scroll)) << scroll.scrollY << " of " << scroll.scrollMaxY;
  // Narrower: lines wrap and the log grows taller; still the newest line.
  ui.frames(log, scroll, 160, 300);
  EXPECT_TRUE(atBottom(scroll)) << scroll.scrollY << " of " << scroll.scrollMaxY;
  // A long backlog at once (a rejoin's replay), then taller again (no empty space below).
  say(log, 400, "replayed after a rejoin, a longer line that wraps in a narrow chat");
  ui.frames(log, scroll, 400, 300);
  EXPECT_TRUE(atBottom(scroll)) << scroll.scrollY << " of " << scroll.scrollMaxY;
  ui.frames(log, scroll, 400, 580);
  EXPECT_TRUE(atBottom(scroll)) << scroll.scrollY << " of " << scroll.scrollMaxY;
  EXPECT_FALSE(scroll.newMessagesShown);
}

TEST(ChatView, ScrolledUpItStaysAndOffersTheNewMessages) {
  NullImGui ui;
  session::ChatLog log;
  ChatScroll scroll;
  say(log, 200);
  ui.frames(log, scroll, 400, 300);
  ASSERT_TRUE(atBottom(scroll));
  // The reader wheels up over the log.
  ImGui::GetIO().MousePos = ImVec2(200, 150);
  ImGui::GetIO().MouseWheel = 5;
  ui.frame(log, scroll, 400, 300);
  ui.frames(log, scroll, 400, 300);
  EXPECT_FALSE(scroll.follow);
  const float readingAt = scroll.scrollY;
  EXPECT_LT(readingAt, scroll.scrollMaxY - 1.0f);
  // New lines do not move what is being read, and a button says they came.
  say(log, 20);
  ui.frames(log, scroll, 400, 300);
  EXPECT_FLOAT_EQ(scroll.scrollY, readingAt);
  EXPECT_TRUE(scroll.newMessagesShown);
  // Wheeling back to the end follows again.
  ImGui::GetIO().MouseWheel = -1000;
  ui.frame(log, scroll, 400, 300);
  ui.frames(log, scroll, 400, 300);
  EXPECT_TRUE(scroll.follow);
  EXPECT_TRUE(atBottom(scroll));
  EXPECT_FALSE(scroll.newMessagesShown);
}

TEST(ChatView, TheLogsOldestLinesGoingDoesNotConfuseTheHeights) {
  NullImGui ui;
  session::ChatLog log(50);  // keeps 50 lines
  ChatScroll scroll;
  say(log, 50);
  ui.frames(log, scroll, 400, 200);
  say(log, 500, "many more, the first ones fall out of the log");
  ui.frames(log, scroll, 400, 200);
  EXPECT_EQ(log.lines().size(), 50u);
  EXPECT_EQ(scroll.heightsFirst, log.added() - 50);
  EXPECT_LE(scroll.heights.size(), 50u);
  EXPECT_TRUE(atBottom(scroll));
}

}  // namespace
}  // namespace huddle::ui
