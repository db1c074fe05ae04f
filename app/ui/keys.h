// Keys for Dear ImGui 1.86, which indexes keys by the backend's own codes (GLFW's here) and
// has no ImGuiKey for the function keys. window.cpp checks these match GLFW's values.
#pragma once
#include <imgui.h>

namespace huddle::ui {

inline constexpr int kKeyF3 = 292;   // GLFW_KEY_F3: overlay on viewers
inline constexpr int kKeyF11 = 300;  // GLFW_KEY_F11: fullscreen viewer

inline bool keyPressed(ImGuiKey_ key) { return ImGui::IsKeyPressed(ImGui::GetKeyIndex(key), false); }
inline bool keyPressed(int backendKey) { return ImGui::IsKeyPressed(backendKey, false); }

}  // namespace huddle::ui
