// Keyboard events handed to Dear ImGui 1.86 a frame at a time (see key_events.h). Thread: main.
#include "app/ui/key_events.h"

namespace huddle::ui {

namespace {
// GLFW key codes that matter here (window.cpp checks them against GLFW's header).
constexpr int kKeyFirstNonText = 256;  // GLFW_KEY_ESCAPE: keys from here on type no text...
constexpr int kKeyKeypad0 = 320, kKeyKeypadEqual = 336, kKeyKeypadEnter = 335;  // ...except the keypad's
constexpr int kKeyLeftShift = 340, kKeyMenu = 348;  // modifiers act only with another key
constexpr int kKeyEscape = 256, kKeyEnter = 257, kKeyTab = 258;
}  // namespace

bool KeyEventQueue::movesFocus(int key) {
  return key == kKeyEnter || key == kKeyKeypadEnter || key == kKeyTab || key == kKeyEscape;
}

bool KeyEventQueue::actsOnPress(int key, int mods) {
  if (key >= kKeyLeftShift && key <= kKeyMenu) return false;
  if (mods & (kModControl | kModSuper)) return true;
  if (key < kKeyFirstNonText) return false;
  if (key >= kKeyKeypad0 && key <= kKeyKeypadEqual && key != kKeyKeypadEnter) return false;
  return true;
}

void KeyEventQueue::key(int key, int scancode, int action, int mods) {
  if (action == kRepeat || m_queue.size() >= kMaxQueued) return;
  m_queue.push_back(Event{false, key, scancode, action, mods, 0});
}

void KeyEventQueue::character(char32_t codePoint) {
  if (m_queue.size() >= kMaxQueued) return;
  m_queue.push_back(Event{true, 0, 0, 0, 0, codePoint});
}

void KeyEventQueue::startFrame(const Sink& sink) {
  m_pressed.clear();
  // Keys touched (pressed or released) in this frame: pressing one again must wait a frame.
  std::set<int> touched;
  for (const Event& e : m_deferredReleases) {
    sink.key(e.key, e.scancode, false, e.mods);
    touched.insert(e.key);
  }
  m_deferredReleases.clear();
  if (m_pauseFrames > 0) {
    --m_pauseFrames;
    return;
  }
  std::set<int> pressedNow;
  while (!m_queue.empty()) {
    const Event e = m_queue.front();
    if (e.isChar) {
      m_queue.pop_front();
      sink.character(e.codePoint);
      if (e.codePoint > 0xFFFF) break;  // taken after the frame's other text: the rest waits
      continue;
    }
    if (e.action == kPress) {
      if (touched.count(e.key)) break;
      m_queue.pop_front();
      sink.key(e.key, e.scancode, true, e.mods);
      touched.insert(e.key);
      pressedNow.insert(e.key);
      m_pressed.insert(e.key);
      if (actsOnPress(e.key, e.mods)) {
        if (movesFocus(e.key)) m_pauseFrames = 1;
        // A tap: its release comes with the next frame, even if that frame waits.
        if (!m_queue.empty() && !m_queue.front().isChar && m_queue.front().key == e.key &&
            m_queue.front().action == kRelease) {
          m_deferredReleases.push_back(m_queue.front());
          m_queue.pop_front();
        }
        break;
      }
      continue;
    }
    m_queue.pop_front();
    if (pressedNow.count(e.key)) {
      m_deferredReleases.push_back(e);  // keep it down for this frame so ImGui sees it
    } else {
      sink.key(e.key, e.scancode, false, e.mods);
      touched.insert(e.key);
    }
  }
}

KeyEventQueue& keyEvents() {
  static KeyEventQueue queue;
  return queue;
}

std::string& typedStandIns() {
  static std::string text;
  return text;
}

}  // namespace huddle::ui
