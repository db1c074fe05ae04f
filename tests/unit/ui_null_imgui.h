// Dear ImGui with no backend (ImGui's example_null idea), for the UI's unit tests: a context
// with the default font built, made and destroyed with the object; frames are made by hand.
#pragma once
#include <imgui.h>

namespace huddle::ui {

class NullImGuiContext {
 public:
  NullImGuiContext() {
    ImGui::CreateContext();
    ImGuiIO& io = ImGui::GetIO();
    io.IniFilename = nullptr;
    io.Fonts->AddFontDefault();
    unsigned char* pixels = nullptr;
    int w = 0, h = 0;
    io.Fonts->GetTexDataAsRGBA32(&pixels, &w, &h);
  }
  ~NullImGuiContext() { ImGui::DestroyContext(); }
  NullImGuiContext(const NullImGuiContext&) = delete;
  NullImGuiContext& operator=(const NullImGuiContext&) = delete;
};

}  // namespace huddle::ui
