// Keys for Dear ImGui 1.86 (indexed by GLFW's codes, no ImGuiKey for function keys), read from
// the window's key events (key_events.h) so a tap shorter than a frame still counts. Thread: main.
#pragma once
#include <imgui.h>

#include <algorithm>
#include <cstdlib>
#include <string>

#include "app/ui/key_events.h"

namespace huddle::ui {

inline constexpr int kKeyF3 = 292;   // GLFW_KEY_F3: overlay on viewers
inline constexpr int kKeyF11 = 300;  // GLFW_KEY_F11: fullscreen viewer

// True in exactly one frame for each physical press of the key, however short; key repeat does
// not count.
inline bool keyPressed(int backendKey) { return keyEvents().pressed(backendKey); }
inline bool keyPressed(ImGuiKey_ key) { return keyPressed(ImGui::GetKeyIndex(key)); }

// For an InputText given ImGuiInputTextFlags_CallbackAlways, called from its callback on that
// event: inserts at the cursor what was typed this frame that ImGui 1.86 cannot take from the
// keyboard itself (emoji and other code points above U+FFFF, as their stand-ins; see fonts.h).
// Read the input back with fromDisplay() (fonts.h) to get the real code points.
inline void takeTypedText(ImGuiInputTextCallbackData* data) {
  std::string& typed = typedStandIns();
  if (typed.empty() || data->EventFlag != ImGuiInputTextFlags_CallbackAlways) return;
  if (data->BufTextLen + static_cast<int>(typed.size()) < data->BufSize) {
    if (data->HasSelection()) {
      const int from = std::min(data->SelectionStart, data->SelectionEnd);
      data->DeleteChars(from, std::abs(data->SelectionEnd - data->SelectionStart));
      data->CursorPos = from;
    }
    data->InsertChars(data->CursorPos, typed.c_str());
  }
  typed.clear();
}

}  // namespace huddle::ui
