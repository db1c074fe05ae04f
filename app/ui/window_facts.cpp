#include "app/ui/window_facts.h"

#include <GLFW/glfw3.h>
#include <imgui.h>

#include <cfloat>

namespace huddle::ui {

static_assert(ImGuiMouseCursor_COUNT == 9, "WindowFacts::m_cursors holds one cursor per ImGuiMouseCursor");

namespace {
WindowFacts* g_facts = nullptr;  // GLFW's callbacks carry no pointer of ours: one window
}

WindowFacts::WindowFacts(GLFWwindow* window) : m_window(window) {
  // Asked once, then kept from the events.
  glfwGetWindowSize(window, &m_width, &m_height);
  glfwGetFramebufferSize(window, &m_fbWidth, &m_fbHeight);
  m_focused = glfwGetWindowAttrib(window, GLFW_FOCUSED) != 0;
  m_hovered = glfwGetWindowAttrib(window, GLFW_HOVERED) != 0;
  glfwGetCursorPos(window, &m_pointerX, &m_pointerY);
  // GLFW 3.3's standard shapes; the others show as the arrow (as ImGui's backend does). A
  // shape the cursor theme lacks is no error worth a warning: quiet while they are made.
  const GLFWerrorfun errors = glfwSetErrorCallback(nullptr);
  m_cursors[ImGuiMouseCursor_Arrow] = glfwCreateStandardCursor(GLFW_ARROW_CURSOR);
  m_cursors[ImGuiMouseCursor_TextInput] = glfwCreateStandardCursor(GLFW_IBEAM_CURSOR);
  m_cursors[ImGuiMouseCursor_ResizeNS] = glfwCreateStandardCursor(GLFW_VRESIZE_CURSOR);
  m_cursors[ImGuiMouseCursor_ResizeEW] = glfwCreateStandardCursor(GLFW_HRESIZE_CURSOR);
  m_cursors[ImGuiMouseCursor_Hand] = glfwCreateStandardCursor(GLFW_HAND_CURSOR);
  glfwSetErrorCallback(errors);
  g_facts = this;
  glfwSetWindowSizeCallback(window, onSize);
  glfwSetFramebufferSizeCallback(window, onFramebufferSize);
  glfwSetWindowPosCallback(window, onMove);
  glfwSetCursorPosCallback(window, onPointer);
  m_nextFocus = glfwSetWindowFocusCallback(window, onFocus);
  m_nextEnter = glfwSetCursorEnterCallback(window, onEnter);
  m_nextButton = glfwSetMouseButtonCallback(window, onButton);
}

WindowFacts::~WindowFacts() {
  glfwSetWindowSizeCallback(m_window, nullptr);
  glfwSetFramebufferSizeCallback(m_window, nullptr);
  glfwSetWindowPosCallback(m_window, nullptr);
  glfwSetCursorPosCallback(m_window, nullptr);
  glfwSetWindowFocusCallback(m_window, m_nextFocus);
  glfwSetCursorEnterCallback(m_window, m_nextEnter);
  glfwSetMouseButtonCallback(m_window, m_nextButton);
  for (GLFWcursor* c : m_cursors)
    if (c) glfwDestroyCursor(c);
  g_facts = nullptr;
}

void WindowFacts::onSize(GLFWwindow*, int width, int height) {
  if (!g_facts) return;
  g_facts->m_width = width, g_facts->m_height = height;
  g_facts->m_resized = g_facts->m_pointerStale = true;
}

void WindowFacts::onFramebufferSize(GLFWwindow*, int width, int height) {
  if (!g_facts) return;
  g_facts->m_fbWidth = width, g_facts->m_fbHeight = height;
  g_facts->m_resized = g_facts->m_pointerStale = true;
}

void WindowFacts::onMove(GLFWwindow*, int, int) {
  if (g_facts) g_facts->m_pointerStale = true;
}

void WindowFacts::onFocus(GLFWwindow* w, int focused) {
  if (!g_facts) return;
  g_facts->m_focused = focused != 0;
  if (g_facts->m_nextFocus) g_facts->m_nextFocus(w, focused);
}

void WindowFacts::onEnter(GLFWwindow* w, int entered) {
  if (!g_facts) return;
  g_facts->m_hovered = entered != 0;
  if (g_facts->m_nextEnter) g_facts->m_nextEnter(w, entered);
}

void WindowFacts::onPointer(GLFWwindow*, double x, double y) {
  if (g_facts) g_facts->m_pointerX = x, g_facts->m_pointerY = y;
}

void WindowFacts::onButton(GLFWwindow* w, int button, int action, int mods) {
  if (!g_facts) return;
  if (action == GLFW_PRESS && button >= 0 && button < kButtons) g_facts->m_justPressed[button] = true;
  if (g_facts->m_nextButton) g_facts->m_nextButton(w, button, action, mods);
}

void WindowFacts::newFrame() {
  ImGuiIO& io = ImGui::GetIO();
  io.DisplaySize = ImVec2(static_cast<float>(m_width), static_cast<float>(m_height));
  if (m_width > 0 && m_height > 0)
    io.DisplayFramebufferScale = ImVec2(static_cast<float>(m_fbWidth) / static_cast<float>(m_width),
                                        static_cast<float>(m_fbHeight) / static_cast<float>(m_height));
  const double now = glfwGetTime();
  io.DeltaTime = m_time > 0 && now > m_time ? static_cast<float>(now - m_time) : 1.0f / 60.0f;
  m_time = now;

  if (m_pointerStale) {
    // Where the pointer is in the window's new place: no motion event says so.
    m_pointerStale = false;
    m_hovered = glfwGetWindowAttrib(m_window, GLFW_HOVERED) != 0;
    glfwGetCursorPos(m_window, &m_pointerX, &m_pointerY);
  }
  bool held = false;
  for (int i = 0; i < kButtons; ++i) {
    // GLFW keeps the buttons' state from the events: no round trip.
    io.MouseDown[i] = m_justPressed[i] || glfwGetMouseButton(m_window, i) == GLFW_PRESS;
    m_justPressed[i] = false;
    held = held || io.MouseDown[i];
  }
  if (io.WantSetMousePos && m_focused) {
    glfwSetCursorPos(m_window, static_cast<double>(io.MousePos.x), static_cast<double>(io.MousePos.y));
    m_pointerX = io.MousePos.x, m_pointerY = io.MousePos.y;
  }
  // Over the window, or dragging from it (the X server sends the motion of a drag that leaves
  // the window to it) and on the frame the drag ends: where the last motion event put it.
  // Elsewhere, nowhere.
  const bool placed = m_hovered || held || m_wasHeld;
  m_wasHeld = held;
  io.MousePos = placed ? ImVec2(static_cast<float>(m_pointerX), static_cast<float>(m_pointerY))
                       : ImVec2(-FLT_MAX, -FLT_MAX);
  setCursorShape();
}

void WindowFacts::setCursorShape() {
  const ImGuiIO& io = ImGui::GetIO();
  if ((io.ConfigFlags & ImGuiConfigFlags_NoMouseCursorChange) ||
      glfwGetInputMode(m_window, GLFW_CURSOR) == GLFW_CURSOR_DISABLED)
    return;
  const int want = io.MouseDrawCursor ? ImGuiMouseCursor_None : ImGui::GetMouseCursor();
  if (want == m_shownCursor) return;  // set only when it changes: each set is a request and a flush
  m_shownCursor = want;
  if (want < 0 || want >= ImGuiMouseCursor_COUNT) {
    glfwSetInputMode(m_window, GLFW_CURSOR, GLFW_CURSOR_HIDDEN);
    return;
  }
  glfwSetCursor(m_window, m_cursors[want] ? m_cursors[want] : m_cursors[ImGuiMouseCursor_Arrow]);
  glfwSetInputMode(m_window, GLFW_CURSOR, GLFW_CURSOR_NORMAL);
}

}  // namespace huddle::ui
