// The window's present plan (app/ui/present_plan.h) on frames made with Dear ImGui and no
// backend: a stream's image (a 640x480 texture shown at half size), the sharer's cursor over
// it, and a line of figures, as a viewer panel draws them.
#include <gtest/gtest.h>

#include <imgui.h>

#include <cmath>
#include <string>

#include "app/ui/present_plan.h"
#include "tests/unit/ui_null_imgui.h"

namespace huddle::ui {
namespace {

constexpr unsigned kImage = 7, kCursor = 9;

ImTextureID tex(unsigned id) { return reinterpret_cast<ImTextureID>(static_cast<std::intptr_t>(id)); }

class Frames {
  NullImGuiContext m_context;

 public:
  // One frame: the image at (100, 100) - (420, 340), the cursor's 16x16 at `cursor`, `text`
  // below, and `extra` more buttons.
  ImDrawData& frame(ImVec2 cursor = {200, 200}, const std::string& text = "30.0 fps", int extra = 0) {
    ImGuiIO& io = ImGui::GetIO();
    io.DisplaySize = ImVec2(800, 600);
    io.DeltaTime = 1.0f / 60;
    ImGui::NewFrame();
    ImGui::SetNextWindowPos(ImVec2(0.4f, 0.7f));  // a panel of the dock may sit between pixels
    ImGui::SetNextWindowSize(ImVec2(800, 600));
    ImGui::Begin("viewer", nullptr, ImGuiWindowFlags_NoDecoration);
    ImDrawList* dl = ImGui::GetWindowDrawList();
    dl->AddImage(tex(kImage), ImVec2(100, 100), ImVec2(420, 340));
    dl->AddImage(tex(kCursor), cursor, ImVec2(cursor.x + 16, cursor.y + 16));
    ImGui::SetCursorPos(ImVec2(100, 400));
    ImGui::TextUnformatted(text.c_str());
    for (int i = 0; i < extra; ++i) ImGui::Button(("more " + std::to_string(i)).c_str());
    ImGui::End();
    ImGui::Render();
    return *ImGui::GetDrawData();
  }
};

bool inside(const ImVec4& clip, base::Rect r) {
  return clip.z <= clip.x || clip.w <= clip.y ||  // empty: drawn nowhere
         (clip.x >= static_cast<float>(r.x) && clip.y >= static_cast<float>(r.y) &&
          clip.z <= static_cast<float>(r.right()) && clip.w <= static_cast<float>(r.bottom()));
}

TEST(PresentPlan, OnlyWhatChangedIsDrawnAndNothingWhenNothingDid) {
  Frames f;
  PresentPlanner p;
  EXPECT_EQ(p.plan(f.frame(), true).kind, PresentPlan::Kind::Whole);  // the first frame
  EXPECT_EQ(p.plan(f.frame(), true).kind, PresentPlan::Kind::Nothing);

  // A 64x64 block of the image's texels at (64, 64): shown at half size, 2 px of margin.
  p.textureChanged(kImage, 640, 480, {64, 64, 64, 64});
  PresentPlan plan = p.plan(f.frame(), true);
  ASSERT_EQ(plan.kind, PresentPlan::Kind::Parts);
  ASSERT_EQ(plan.parts.size(), 1u);
  EXPECT_EQ(plan.parts[0], (base::Rect{130, 130, 36, 36}));
  EXPECT_TRUE(plan.clearParts);  // a quad: cleared first, as a whole frame is
  // Drawing that part: every command is clipped to it.
  ImDrawData& data = *ImGui::GetDrawData();
  p.narrowTo(data, plan.parts[0]);
  for (int i = 0; i < data.CmdListsCount; ++i)
    for (const ImDrawCmd& c : data.CmdLists[i]->CmdBuffer) {
      EXPECT_TRUE(inside(c.ClipRect, plan.parts[0]));
      // Whole pixels: the renderer's scissor is then exactly the clip.
      for (float v : {c.ClipRect.x, c.ClipRect.y, c.ClipRect.z, c.ClipRect.w}) EXPECT_EQ(v, std::floor(v));
    }

  // Two changes far apart: two parts, not the screen between them.
  p.textureChanged(kImage, 640, 480, {0, 0, 64, 64});
  p.textureChanged(kImage, 640, 480, {576, 416, 64, 64});
  plan = p.plan(f.frame(), true);
  ASSERT_EQ(plan.kind, PresentPlan::Kind::Parts);
  EXPECT_EQ(plan.parts.size(), 2u);

  // The cursor moved: where it was and where it is (a pixel around each), as one part here.
  plan = p.plan(f.frame({210, 200}), true);
  ASSERT_EQ(plan.kind, PresentPlan::Kind::Parts);
  ASSERT_EQ(plan.parts.size(), 1u);
  EXPECT_EQ(plan.parts[0], (base::Rect{199, 199, 28, 18}));
  // A figure changed, as many letters: its line only.
  plan = p.plan(f.frame({210, 200}, "29.5 fps"), true);
  ASSERT_EQ(plan.kind, PresentPlan::Kind::Parts);
  ASSERT_EQ(plan.parts.size(), 1u);
  EXPECT_GE(plan.parts[0].y, 395);
  EXPECT_LE(plan.parts[0].bottom(), 425);
  EXPECT_EQ(p.plan(f.frame({210, 200}, "29.5 fps"), true).kind, PresentPlan::Kind::Nothing);
}

TEST(PresentPlan, WhatTheCommandsCannotTellIsDrawnWhole) {
  Frames f;
  PresentPlanner p;
  p.plan(f.frame(), true);
  // Other commands: a text of another length, a widget more.
  EXPECT_EQ(p.plan(f.frame({200, 200}, "30.0 fps and more"), true).kind, PresentPlan::Kind::Whole);
  EXPECT_EQ(p.plan(f.frame({200, 200}, "30.0 fps and more", 1), true).kind, PresentPlan::Kind::Whole);
  EXPECT_EQ(p.plan(f.frame({200, 200}, "30.0 fps and more", 1), true).kind, PresentPlan::Kind::Nothing);
  // Asked for: exposed, a texture replaced, a screenshot.
  p.wholeFrame();
  EXPECT_EQ(p.plan(f.frame({200, 200}, "30.0 fps and more", 1), true).kind, PresentPlan::Kind::Whole);
  // A changed texture drawn other than as one quad (the font atlas draws text): whole.
  p.textureChanged(0, 512, 64, {0, 0, 8, 8});
  EXPECT_EQ(p.plan(f.frame({200, 200}, "30.0 fps and more", 1), true).kind, PresentPlan::Kind::Whole);
  // A texture not drawn: nothing to show.
  p.textureChanged(42, 64, 64, {0, 0, 8, 8});
  EXPECT_EQ(p.plan(f.frame({200, 200}, "30.0 fps and more", 1), true).kind, PresentPlan::Kind::Nothing);
  // A window that cannot show parts: a changed frame is whole, an unchanged one still nothing.
  p.textureChanged(kImage, 640, 480, {64, 64, 64, 64});
  EXPECT_EQ(p.plan(f.frame({200, 200}, "30.0 fps and more", 1), false).kind, PresentPlan::Kind::Whole);
  EXPECT_EQ(p.plan(f.frame({200, 200}, "30.0 fps and more", 1), false).kind, PresentPlan::Kind::Nothing);
  // All of the image changed: the image and its margin, not the window around it.
  p.textureChanged(kImage, 640, 480, {0, 0, 640, 480});
  const PresentPlan plan = p.plan(f.frame({200, 200}, "30.0 fps and more", 1), true);
  EXPECT_EQ(plan.kind, PresentPlan::Kind::Parts);
  ASSERT_EQ(plan.parts.size(), 1u);
  EXPECT_EQ(plan.parts[0], (base::Rect{98, 98, 324, 244}));
}

// An image drawn 1:1 by a blit (a callback command): its changed texels are its parts exactly;
// where its data lives does not matter (it is made anew each frame), where it lands does.
TEST(PresentPlan, ABlitImagesChangedTexelsAreItsPartsOneToOne) {
  Frames f;
  PresentPlanner p;
  auto frame = [](const ImageBlit& blit) -> ImDrawData& {
    ImGuiIO& io = ImGui::GetIO();
    io.DisplaySize = ImVec2(800, 600);
    io.DeltaTime = 1.0f / 60;
    ImGui::NewFrame();
    ImGui::SetNextWindowPos(ImVec2(0, 0));
    ImGui::SetNextWindowSize(ImVec2(800, 600));
    ImGui::Begin("viewer", nullptr, ImGuiWindowFlags_NoDecoration);
    ImGui::GetWindowDrawList()->AddCallback(drawImageBlit, const_cast<ImageBlit*>(&blit));
    ImGui::End();
    ImGui::Render();
    return *ImGui::GetDrawData();
  };
  const ImageBlit first{kImage, 1, 640, 480, 100, 100};
  EXPECT_EQ(p.plan(frame(first), true).kind, PresentPlan::Kind::Whole);
  const ImageBlit again = first;  // the next frame's, elsewhere in memory
  EXPECT_EQ(p.plan(frame(again), true).kind, PresentPlan::Kind::Nothing);
  p.textureChanged(kImage, 640, 480, {64, 64, 64, 64});
  PresentPlan plan = p.plan(frame(again), true);
  ASSERT_EQ(plan.kind, PresentPlan::Kind::Parts);
  ASSERT_EQ(plan.parts.size(), 1u);
  EXPECT_EQ(plan.parts[0], (base::Rect{164, 164, 64, 64}));
  EXPECT_FALSE(plan.clearParts);  // the blit covers it: nothing to clear first
  // Moved 10 px right: where it was and where it is (a column of which the image left bare).
  const ImageBlit moved{kImage, 1, 640, 480, 110, 100};
  plan = p.plan(frame(moved), true);
  ASSERT_EQ(plan.kind, PresentPlan::Kind::Parts);
  ASSERT_EQ(plan.parts.size(), 1u);
  EXPECT_EQ(plan.parts[0], (base::Rect{100, 100, 650, 480}));
  EXPECT_TRUE(plan.clearParts);
}

}  // namespace
}  // namespace huddle::ui
