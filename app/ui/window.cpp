#include "app/ui/window.h"

// glad before GLFW: it provides the GL declarations GLFW would otherwise pull in.
#include <glad/gl.h>
#include <GLFW/glfw3.h>
#include <backends/imgui_impl_glfw.h>
#include <backends/imgui_impl_opengl3.h>
#include <imgui.h>

#include <stb_image_write.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <vector>

#include "app/ui/keys.h"
#include "app/ui/ui_app.h"
#include "net/base/log.h"

namespace huddle::ui {

static_assert(kKeyF3 == GLFW_KEY_F3 && kKeyF11 == GLFW_KEY_F11, "app/ui/keys.h must match GLFW");

namespace {
constexpr const char* kTag = "ui/window";

std::atomic<int> g_signal{0};
// Only an atomic store: nothing else is safe in a signal handler. The loop wakes within
// its idle timeout and ends the session gracefully.
void onSignal(int sig) { g_signal.store(sig); }

void onGlfwError(int code, const char* text) { HLOG_WARN(kTag, "GLFW error %d: %s", code, text); }

// A readable UI font at the monitor's scale; ImGui's built-in font if DejaVu is missing.
void setUpFonts(float scale) {
  ImGuiIO& io = ImGui::GetIO();
  const char* kFont = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
  std::error_code ec;
  if (std::filesystem::exists(kFont, ec)) {
    io.Fonts->AddFontFromFileTTF(kFont, 16.0f * scale);
  } else {
    ImFontConfig config;
    config.SizePixels = 13.0f * scale;
    io.Fonts->AddFontDefault(&config);
  }
}
// Saves the current back buffer (what the next swap shows) as a PNG.
bool saveBackbufferPng(const std::string& path, int widthPx, int heightPx) {
  std::vector<unsigned char> rgba(static_cast<std::size_t>(widthPx) * heightPx * 4);
  glPixelStorei(GL_PACK_ALIGNMENT, 1);
  glReadBuffer(GL_BACK);
  glReadPixels(0, 0, widthPx, heightPx, GL_RGBA, GL_UNSIGNED_BYTE, rgba.data());
  // OpenGL's rows go bottom-up; PNG's top-down.
  stbi_flip_vertically_on_write(1);
  return stbi_write_png(path.c_str(), widthPx, heightPx, 4, rgba.data(), widthPx * 4) != 0;
}
}  // namespace

int runWindow(const session::Options& options) {
  glfwSetErrorCallback(onGlfwError);
  if (!glfwInit()) {
    std::fprintf(stderr, "huddle: cannot open a window (GLFW failed to initialise); try --headless.\n");
    return 1;
  }
  glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
  glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 3);
  glfwWindowHint(GLFW_OPENGL_PROFILE, GLFW_OPENGL_CORE_PROFILE);
  glfwWindowHint(GLFW_OPENGL_FORWARD_COMPAT, GLFW_TRUE);
  glfwWindowHint(GLFW_SCALE_TO_MONITOR, GLFW_TRUE);
  GLFWwindow* window = glfwCreateWindow(1280, 800, "Huddle", nullptr, nullptr);
  if (!window) {
    std::fprintf(stderr, "huddle: cannot create an OpenGL 3.3 window; try --headless.\n");
    glfwTerminate();
    return 1;
  }
  glfwMakeContextCurrent(window);
  if (gladLoadGL(glfwGetProcAddress) == 0) {
    std::fprintf(stderr, "huddle: cannot load OpenGL 3.3 functions; try --headless.\n");
    glfwDestroyWindow(window);
    glfwTerminate();
    return 1;
  }
  glfwSwapInterval(1);
  struct sigaction sa {};
  sa.sa_handler = onSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  float scaleX = 1.0f, scaleY = 1.0f;
  glfwGetWindowContentScale(window, &scaleX, &scaleY);
  const float scale = std::max(1.0f, std::max(scaleX, scaleY));

  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  ImGui::GetIO().IniFilename = nullptr;  // the app saves its own layout (app/dock)
  ImGui::StyleColorsDark();
  ImGui::GetStyle().ScaleAllSizes(scale);
  setUpFonts(scale);
  ImGui_ImplGlfw_InitForOpenGL(window, true);
  ImGui_ImplOpenGL3_Init("#version 330 core");

  {
    // Fullscreen for a viewer: the window takes its monitor, and gives it back after.
    int savedX = 0, savedY = 0, savedW = 1280, savedH = 800;
    WindowControl control;
    control.fullscreen = [window] { return glfwGetWindowMonitor(window) != nullptr; };
    control.setFullscreen = [window, &savedX, &savedY, &savedW, &savedH](bool on) {
      const bool isOn = glfwGetWindowMonitor(window) != nullptr;
      if (on == isOn) return;
      if (on) {
        glfwGetWindowPos(window, &savedX, &savedY);
        glfwGetWindowSize(window, &savedW, &savedH);
        GLFWmonitor* monitor = glfwGetPrimaryMonitor();
        if (!monitor) return;
        const GLFWvidmode* mode = glfwGetVideoMode(monitor);
        glfwSetWindowMonitor(window, monitor, 0, 0, mode->width, mode->height, mode->refreshRate);
      } else {
        glfwSetWindowMonitor(window, nullptr, savedX, savedY, savedW, savedH, 0);
      }
    };
    // Network threads wake the loop through GLFW's thread-safe empty event.
    UiApp app(options, [] { glfwPostEmptyEvent(); }, control);
    std::string shownTitle;
    const auto started = std::chrono::steady_clock::now();
    auto secondsSinceStart = [&] {
      return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    };
    bool screenshotPending = !options.screenshotPath.empty();
    while (!app.wantsToQuit()) {
      // A signal or --quit-after ends the session for everyone as "End session" would.
      if (g_signal.load() != 0 || (options.quitAfterSec > 0 && secondsSinceStart() >= options.quitAfterSec)) {
        app.quitNow();
        break;
      }
      // Idle pacing: sleep until input or news, but redraw at least 4 times a second.
      glfwWaitEventsTimeout(0.25);
      if (glfwWindowShouldClose(window)) {
        glfwSetWindowShouldClose(window, GLFW_FALSE);
        app.requestQuit();
      }
      ImGui_ImplOpenGL3_NewFrame();
      ImGui_ImplGlfw_NewFrame();
      ImGui::NewFrame();
      int fbW = 0, fbH = 0, winW = 0, winH = 0;
      glfwGetFramebufferSize(window, &fbW, &fbH);
      glfwGetWindowSize(window, &winW, &winH);
      app.draw(static_cast<float>(winW), static_cast<float>(winH));
      ImGui::Render();
      glViewport(0, 0, fbW, fbH);
      glClearColor(0.10f, 0.11f, 0.13f, 1.0f);
      glClear(GL_COLOR_BUFFER_BIT);
      ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
      if (screenshotPending && secondsSinceStart() >= options.screenshotAfterSec) {
        screenshotPending = false;
        if (saveBackbufferPng(options.screenshotPath, fbW, fbH))
          std::printf("huddle: saved the window to %s\n", options.screenshotPath.c_str()), std::fflush(stdout);
        else
          std::fprintf(stderr, "huddle: cannot write the screenshot to %s\n", options.screenshotPath.c_str());
      }
      glfwSwapBuffers(window);
      if (std::string t = app.title(); t != shownTitle) {
        glfwSetWindowTitle(window, t.c_str());
        shownTitle = t;
      }
    }
  }
  ImGui_ImplOpenGL3_Shutdown();
  ImGui_ImplGlfw_Shutdown();
  ImGui::DestroyContext();
  glfwDestroyWindow(window);
  glfwTerminate();
  return 0;
}

}  // namespace huddle::ui
