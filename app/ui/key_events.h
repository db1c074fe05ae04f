// Keyboard events from GLFW's callbacks, handed to Dear ImGui 1.86 a frame at a time so none is
// lost or reordered (1.86 has no event queue). Pure logic: no GLFW or ImGui calls. Thread: main.
#pragma once
#include <cstddef>
#include <deque>
#include <functional>
#include <set>
#include <string>
#include <vector>

namespace huddle::ui {

// Why a queue: 1.86 samples io.KeysDown once a frame, so a key pressed and released between two
// frames (a quick tap, xdotool's 10 ms press, a paste) was never seen; and InputText takes all of
// a frame's characters before it looks at Enter or Backspace, so "a<Enter>b" in one frame sent
// "ab". Here each frame gets events in order up to the first one that must wait:
//  - a key pressed in a frame stays down for that frame; its release is applied the next frame;
//  - after a key that acts on text or the UI (Enter, Backspace, arrows, Esc, F-keys, anything
//    with Ctrl or Super), or a character ImGui cannot take itself (above U+FFFF), the rest of
//    the queue waits for the next frame, so it applies after that key has acted;
//  - after Enter, Tab or Esc, which can move the keyboard focus, the rest waits one more frame:
//    an input that gets the focus back (the chat input after Enter) becomes active in the frame
//    after, and 1.86 drops the characters of the frame in which an input becomes active;
//  - a second press of a key already pressed or released in this frame waits too (ImGui would
//    see the key held, not pressed again).
class KeyEventQueue {
 public:
  // GLFW codes (checked against GLFW in window.cpp).
  static constexpr int kPress = 1, kRelease = 0, kRepeat = 2;
  static constexpr int kModControl = 0x2, kModSuper = 0x8;

  struct Sink {
    std::function<void(int key, int scancode, bool down, int mods)> key;
    std::function<void(char32_t codePoint)> character;
  };

  // From GLFW's key and char callbacks (repeats are dropped: ImGui repeats held keys itself).
  void key(int key, int scancode, int action, int mods);
  void character(char32_t codePoint);

  // Once a frame before ImGui::NewFrame: hands `sink` the releases held back from the last
  // frame, then queued events in order until one that must wait.
  void startFrame(const Sink& sink);

  // A press of `key` (GLFW code) was handed on in this frame: true in exactly one frame per
  // physical press, however short.
  bool pressed(int key) const { return m_pressed.count(key) != 0; }
  // Events wait for a later frame: the caller should draw the next one without idling.
  bool pending() const { return !m_queue.empty() || !m_deferredReleases.empty(); }

  // Keys after which the rest of a frame's events wait: they act, rather than type.
  static bool actsOnPress(int key, int mods);
  // Of those, the ones after which events wait a frame more: they can move the focus.
  static bool movesFocus(int key);

 private:
  struct Event {
    bool isChar;
    int key;
    int scancode;
    int action;
    int mods;
    char32_t codePoint;
  };
  // Bounded: a stalled frame loop must not grow memory without limit (a paste is far smaller).
  static constexpr std::size_t kMaxQueued = 4096;
  std::deque<Event> m_queue;
  std::vector<Event> m_deferredReleases;
  std::set<int> m_pressed;
  int m_pauseFrames = 0;
};

// X11's Linefeed key (scancode as GLFW gives it), unknown to GLFW: `xdotool type` and other
// typing tools send it for a newline. Implemented in key_events_x11.cpp (Xlib's macros stay there).
bool isLinefeedKey(int scancode);

// The window's queue, which keys.h reads.
KeyEventQueue& keyEvents();

// Typed in this frame but not something ImGui 1.86's InputText takes from the keyboard: code
// points above U+FFFF, as their Private Use Area stand-ins (see fonts.h), UTF-8. The window adds
// to it; an input takes it with takeTypedText (keys.h); what no input took is dropped after the
// frame, as ImGui drops characters no input wants.
std::string& typedStandIns();

}  // namespace huddle::ui
