// The window's size, focus and pointer as GLFW's events left them, and ImGui's frame set up
// from those. ImGui 1.86's GLFW backend asks GLFW for them every frame, and on X11 GLFW asks
// the X server: the size twice (XGetWindowAttributes), the focus (XGetInputFocus) and, over
// the window or with its focus, the pointer (XQueryPointer), and the loop asked for the size
// twice more; under Xvfb they were an eighth of a viewer window's CPU. The backend still takes
// the events (keys, characters, buttons, wheel, focus); these callbacks are chained in front
// of its own and only keep what they say. The window moved or resized under a pointer that
// did not move sends no motion: the pointer is then asked for once (fullscreen, a maximize).
// Thread: the UI thread, one window.
#pragma once
#include <utility>

struct GLFWwindow;
struct GLFWcursor;

namespace huddle::ui {

class WindowFacts {
 public:
  // Installs the callbacks, after ImGui_ImplGlfw_InitForOpenGL (its own are called on).
  explicit WindowFacts(GLFWwindow* window);
  ~WindowFacts();
  WindowFacts(const WindowFacts&) = delete;
  WindowFacts& operator=(const WindowFacts&) = delete;

  // In place of ImGui_ImplGlfw_NewFrame: display size and scale, time step, mouse, cursor shape.
  void newFrame();

  int width() const { return m_width; }
  int height() const { return m_height; }
  int framebufferWidth() const { return m_fbWidth; }
  int framebufferHeight() const { return m_fbHeight; }
  // Whether the size changed since the last call (the frame is then drawn whole: the back
  // buffer may have had the new size before the event came).
  bool takeResized() { return std::exchange(m_resized, false); }

 private:
  static constexpr int kButtons = 5;  // ImGui's io.MouseDown
  static void onSize(GLFWwindow* w, int width, int height);
  static void onFramebufferSize(GLFWwindow* w, int width, int height);
  static void onMove(GLFWwindow* w, int x, int y);
  static void onFocus(GLFWwindow* w, int focused);
  static void onEnter(GLFWwindow* w, int entered);
  static void onPointer(GLFWwindow* w, double x, double y);
  static void onButton(GLFWwindow* w, int button, int action, int mods);
  void setCursorShape();

  GLFWwindow* m_window;
  int m_width = 0, m_height = 0, m_fbWidth = 0, m_fbHeight = 0;
  bool m_resized = false;
  bool m_focused = false, m_hovered = false;
  double m_pointerX = 0, m_pointerY = 0;
  bool m_pointerStale = false;  // the window moved or resized: ask once
  bool m_wasHeld = false;       // a button was down last frame (a drag's release keeps its place)
  bool m_justPressed[kButtons] = {};  // a click shorter than a frame still holds the button for one
  double m_time = 0;
  int m_shownCursor = -2;  // the ImGuiMouseCursor last shown (-2: none yet)
  GLFWcursor* m_cursors[9] = {};  // ImGuiMouseCursor_COUNT in 1.86
  // The callbacks in front of which these are (ImGui's backend's).
  void (*m_nextFocus)(GLFWwindow*, int) = nullptr;
  void (*m_nextEnter)(GLFWwindow*, int) = nullptr;
  void (*m_nextButton)(GLFWwindow*, int, int, int) = nullptr;
};

}  // namespace huddle::ui
