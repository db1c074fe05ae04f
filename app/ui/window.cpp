#include "app/ui/window.h"

// glad before GLFW: it provides the GL declarations GLFW would otherwise pull in.
#include <glad/gl.h>
#include <GLFW/glfw3.h>
#include <backends/imgui_impl_glfw.h>
#include <backends/imgui_impl_opengl3.h>
#include <imgui.h>

#include <stb_image_write.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstdio>
#include <string>
#include <vector>

#include "app/ui/fonts.h"
#include "app/ui/key_events.h"
#include "app/session/app_settings.h"
#include "app/ui/keys.h"
#include "app/ui/present_plan.h"
#include "app/ui/stream_texture.h"
#include "app/ui/ui_app.h"
#include "app/ui/window_facts.h"
#include "net/base/held_signals.h"
#include "net/base/log.h"

namespace huddle::ui {

static_assert(kKeyF3 == GLFW_KEY_F3 && kKeyF11 == GLFW_KEY_F11, "app/ui/keys.h must match GLFW");
static_assert(KeyEventQueue::kPress == GLFW_PRESS && KeyEventQueue::kRelease == GLFW_RELEASE &&
                  KeyEventQueue::kRepeat == GLFW_REPEAT && KeyEventQueue::kModControl == GLFW_MOD_CONTROL &&
                  KeyEventQueue::kModSuper == GLFW_MOD_SUPER,
              "app/ui/key_events.h must match GLFW");
static_assert(GLFW_KEY_ESCAPE == 256 && GLFW_KEY_KP_0 == 320 && GLFW_KEY_KP_ENTER == 335 && GLFW_KEY_KP_EQUAL == 336 &&
                  GLFW_KEY_LEFT_SHIFT == 340 && GLFW_KEY_MENU == 348,
              "app/ui/key_events.cpp must match GLFW");

namespace {
constexpr const char* kTag = "ui/window";

std::atomic<int> g_signal{0};
// Only an atomic store: nothing else is safe in a signal handler. The loop wakes within
// its idle timeout and ends the session gracefully.
void onSignal(int sig) { g_signal.store(sig); }
// SIGUSR1 asks for the window's figures on stdout (what the benchmark reads): they are
// printed by the loop, within its idle timeout.
std::atomic<bool> g_printFigures{false};
void onPrintFigures(int) { g_printFigures.store(true); }
// SIGUSR2 saves the window to --screenshot's file again (the GUI tests shoot each step).
std::atomic<bool> g_shootAgain{false};
void onShootAgain(int) { g_shootAgain.store(true); }

void onGlfwError(int code, const char* text) { HLOG_WARN(kTag, "GLFW error %d: %s", code, text); }

// ImGui's backend callbacks for keys and characters: ours queue events (key_events.h) and hand
// them on a frame at a time.
GLFWkeyfun g_imguiKey = nullptr;
GLFWcharfun g_imguiChar = nullptr;
void onKey(GLFWwindow*, int key, int scancode, int action, int mods) {
  // X11's Linefeed key, which GLFW does not know, is what `xdotool type` and other typing
  // tools send for a newline: it means Enter.
  if (key == GLFW_KEY_UNKNOWN && isLinefeedKey(scancode)) key = GLFW_KEY_ENTER;
  keyEvents().key(key, scancode, action, mods);
}
void onChar(GLFWwindow*, unsigned int codePoint) { keyEvents().character(codePoint); }
// Files dropped on the window are offered in the chat (UiApp asks to whom first).
UiApp* g_dropTarget = nullptr;
void onDrop(GLFWwindow*, int count, const char** paths) {
  if (!g_dropTarget || count <= 0) return;
  std::vector<std::string> v;
  for (int i = 0; i < count && i < 64; ++i) v.emplace_back(paths[i]);
  g_dropTarget->dropFiles(std::move(v));
}

// The clipboard as the app's text sees it: pasted code points above U+FFFF become their
// stand-ins (ImGui 1.86 would paste U+FFFD), and copied stand-ins go out as the real ones.
const char* (*g_getClipboard)(void*) = nullptr;
void (*g_setClipboard)(void*, const char*) = nullptr;
const char* getClipboard(void* user) {
  static std::string text;
  const char* got = g_getClipboard ? g_getClipboard(user) : nullptr;
  if (!got) return nullptr;
  text = fontGlyphs().forDisplay(got);
  return text.c_str();
}
void setClipboard(void* user, const char* text) {
  if (g_setClipboard) g_setClipboard(user, fontGlyphs().fromDisplay(text ? text : "").c_str());
}

// What the atlas holds, for whoever checks the fonts (the GUI tests do, with the screenshot).
void printFontStats(const FontAtlas& atlas) {
  const FontAtlas::Stats& st = atlas.stats();
  std::string missing;
  for (char32_t c : st.missing) {
    char hex[16];
    std::snprintf(hex, sizeof hex, " U+%04X", static_cast<unsigned>(c));
    missing += hex;
  }
  std::printf("huddle: font atlas: %zu glyphs (%zu colour), %dx%d; beyond Latin-1: %s; no font for:%s\n", st.glyphs,
              st.colour, st.texWidth, st.texHeight, fontGlyphs().beyondLatin1().c_str(),
              missing.empty() ? " nothing" : missing.c_str());
}

// Shows a part of the back buffer (GLX_MESA_copy_sub_buffer) where the renderer is software:
// there drawing and showing cost per pixel, and there is no vertical sync a part would tear
// against. Elsewhere a changed frame is drawn and swapped whole.
class PartPresenter {
 public:
  PartPresenter() {
    const auto* renderer = reinterpret_cast<const char*>(glGetString(GL_RENDERER));
    const std::string name = renderer ? renderer : "";
    const bool software = name.find("llvmpipe") != std::string::npos || name.find("softpipe") != std::string::npos ||
                          name.find("Software Rasterizer") != std::string::npos;
    if (!software || !glfwExtensionSupported("GLX_MESA_copy_sub_buffer")) return;
    m_copy = reinterpret_cast<CopySubBuffer>(glfwGetProcAddress("glXCopySubBufferMESA"));
    const auto display = reinterpret_cast<void* (*)()>(glfwGetProcAddress("glXGetCurrentDisplay"));
    const auto drawable = reinterpret_cast<unsigned long (*)()>(glfwGetProcAddress("glXGetCurrentDrawable"));
    if (!m_copy || !display || !drawable) {
      m_copy = nullptr;
      return;
    }
    m_display = display();
    m_drawable = drawable();
    if (!m_display || !m_drawable) m_copy = nullptr;
  }
  bool available() const { return m_copy != nullptr; }
  // Shows `part` (framebuffer pixels from the top left) of a `fbH` pixels high back buffer.
  void show(base::Rect part, int fbH) const { m_copy(m_display, m_drawable, part.x, fbH - part.bottom(), part.w, part.h); }

 private:
  using CopySubBuffer = void (*)(void*, unsigned long, int, int, int, int);  // Display*, GLXDrawable
  CopySubBuffer m_copy = nullptr;
  void* m_display = nullptr;
  unsigned long m_drawable = 0;
};

// Saves the current back buffer (what the next swap shows) as a PNG.
bool saveBackbufferPng(const std::string& path, int widthPx, int heightPx) {
  std::vector<unsigned char> rgba(static_cast<std::size_t>(widthPx) * heightPx * 4);
  glPixelStorei(GL_PACK_ALIGNMENT, 1);
  glReadBuffer(GL_BACK);
  glReadPixels(0, 0, widthPx, heightPx, GL_RGBA, GL_UNSIGNED_BYTE, rgba.data());
  // Opaque: a stream's image blitted in brings its unused X byte along as alpha.
  for (std::size_t i = 3; i < rgba.size(); i += 4) rgba[i] = 255;
  // OpenGL's rows go bottom-up; PNG's top-down.
  stbi_flip_vertically_on_write(1);
  return stbi_write_png(path.c_str(), widthPx, heightPx, 4, rgba.data(), widthPx * 4) != 0;
}
}  // namespace

int runWindow(const session::Options& options) {
  // Without a GPU, Mesa's llvmpipe shades on threads of its own, woken and waited for at every
  // draw and every part shown. The window mostly shows parts of a frame and copies a stream's
  // image at 1:1 (plain row copies, in the calling thread): the hand-offs cost more than the
  // threads save. In the calling thread a viewer window took 3-13% less CPU per image (1:1
  // and scaled, one run each of huddle-bench --only-window), its latency unchanged. A user's
  // own setting stays. Set before any thread of ours runs (setenv is not safe beside getenv).
  setenv("LP_NUM_THREADS", "0", 0);
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
  // The size the window had when it was last closed (settings.ini; UiApp keeps it current).
  std::vector<std::string> settingsWarnings;
  const session::AppSettings saved = session::AppSettings::load(settingsWarnings);
  GLFWwindow* window = glfwCreateWindow(saved.windowW, saved.windowH, "Huddle", nullptr, nullptr);
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
  struct sigaction figures {};
  figures.sa_handler = onPrintFigures;
  sigemptyset(&figures.sa_mask);
  sigaction(SIGUSR1, &figures, nullptr);
  struct sigaction shoot {};
  shoot.sa_handler = onShootAgain;
  sigemptyset(&shoot.sa_mask);
  sigaction(SIGUSR2, &shoot, nullptr);

  float scaleX = 1.0f, scaleY = 1.0f;
  glfwGetWindowContentScale(window, &scaleX, &scaleY);
  const float scale = std::max(1.0f, std::max(scaleX, scaleY));

  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  ImGui::GetIO().IniFilename = nullptr;  // the app saves its own layout (app/dock)
  ImGui::StyleColorsDark();
  // Panels are opaque: a floating panel over a viewer must not show the screen through it.
  ImGui::GetStyle().Colors[ImGuiCol_WindowBg].w = 1.0f;
  ImGui::GetStyle().Colors[ImGuiCol_PopupBg].w = 1.0f;
  ImGui::GetStyle().ScaleAllSizes(scale);
  // The atlas starts with Latin-1 and grows with what the text drawn needs (fonts.h).
  FontAtlas fontAtlas(16.0f * scale);
  fontAtlas.rebuild(fontGlyphs());
  ImGui_ImplGlfw_InitForOpenGL(window, true);
  g_imguiKey = glfwSetKeyCallback(window, onKey);
  // Exposed again: what the window showed may be gone.
  glfwSetWindowRefreshCallback(window, [](GLFWwindow*) { presentPlanner().wholeFrame(); });
  g_imguiChar = glfwSetCharCallback(window, onChar);
  g_getClipboard = ImGui::GetIO().GetClipboardTextFn;
  g_setClipboard = ImGui::GetIO().SetClipboardTextFn;
  ImGui::GetIO().GetClipboardTextFn = getClipboard;
  ImGui::GetIO().SetClipboardTextFn = setClipboard;
  ImGui_ImplOpenGL3_Init("#version 330 core");
  // Key events go to ImGui's backend in order, a frame's share at a time (key_events.h).
  KeyEventQueue::Sink keySink;
  keySink.key = [window](int key, int scancode, bool down, int mods) {
    if (g_imguiKey) g_imguiKey(window, key, scancode, down ? GLFW_PRESS : GLFW_RELEASE, mods);
  };
  keySink.character = [window](char32_t c) {
    if (c <= 0xFFFF) {
      std::string typed;
      appendUtf8(typed, c);
      fontGlyphs().need(typed);  // the input that takes it draws it
      if (g_imguiChar) g_imguiChar(window, static_cast<unsigned int>(c));
    } else if (char32_t s = fontGlyphs().standIn(c)) {
      appendUtf8(typedStandIns(), s);  // an input takes it with takeTypedText (keys.h)
    }
  };

  {
    WindowFacts facts(window);  // before the backend's shutdown: it puts back the backend's callbacks
    // Fullscreen for a viewer: the window takes its monitor, and gives it back after.
    int savedX = 0, savedY = 0, savedW = saved.windowW, savedH = saved.windowH;
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
    g_dropTarget = &app;
    glfwSetDropCallback(window, onDrop);
    std::string shownTitle;
    const auto started = std::chrono::steady_clock::now();
    auto secondsSinceStart = [&] {
      return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    };
    bool screenshotPending = !options.screenshotPath.empty();
    bool shootNow = false;  // SIGUSR2: this frame, whatever --screenshot-after says
    bool deviceObjectsMade = false;  // the renderer makes its font texture in its first NewFrame
    double nextFontRebuild = 0;
    std::uint64_t redraws = 0, redrawsInParts = 0;
    const PartPresenter partPresenter;
    while (!app.wantsToQuit()) {
      base::letHeldSignalsIn();
      if (g_printFigures.exchange(false)) {
        rusage usage{};
        getrusage(RUSAGE_SELF, &usage);
        const double cpuSec = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                              static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
        std::printf("huddle: window figures: %llu redraws, %llu stream images shown, %.3f s CPU, %.3f s running, "
                    "%llu redraws in parts (%s)\n",
                    static_cast<unsigned long long>(redraws), static_cast<unsigned long long>(app.imagesShown()),
                    cpuSec, secondsSinceStart(), static_cast<unsigned long long>(redrawsInParts),
                    partPresenter.available() ? "parts shown" : "whole frames only");
        std::fflush(stdout);
      }
      // A signal or --quit-after ends the session for everyone as "End session" would.
      if (g_signal.load() != 0 || (options.quitAfterSec > 0 && secondsSinceStart() >= options.quitAfterSec)) {
        app.quitNow();
        break;
      }
      // Idle pacing: sleep until input or news, but redraw at least 4 times a second; at once
      // if key events wait for their frame or text needs glyphs.
      double idle = 0.25;
      if (keyEvents().pending()) idle = 0;
      else if (fontGlyphs().hasNew()) idle = std::clamp(nextFontRebuild - secondsSinceStart(), 0.0, idle);
      glfwWaitEventsTimeout(idle);
      if (glfwWindowShouldClose(window)) {
        glfwSetWindowShouldClose(window, GLFW_FALSE);
        app.requestQuit();
      }
      // New glyphs between frames, coalesced: rebuilding takes at most a quarter of the time.
      if (fontGlyphs().hasNew() && secondsSinceStart() >= nextFontRebuild) {
        fontAtlas.rebuild(fontGlyphs());
        nextFontRebuild = secondsSinceStart() + 3.0 * fontAtlas.stats().lastBuildMs / 1000.0;
        if (deviceObjectsMade) {
          ImGui_ImplOpenGL3_DestroyFontsTexture();
          ImGui_ImplOpenGL3_CreateFontsTexture();
        }
        presentPlanner().wholeFrame();
      }
      deleteRetiredGlObjects();  // the last frame, which may have named them, is drawn
      presentPlanner().startFrame();
      keyEvents().startFrame(keySink);
      ImGui_ImplOpenGL3_NewFrame();
      deviceObjectsMade = true;
      facts.newFrame();  // not ImGui_ImplGlfw_NewFrame: no round trips to the X server
      ImGui::NewFrame();
      const int fbW = facts.framebufferWidth(), fbH = facts.framebufferHeight();
      const int winW = facts.width(), winH = facts.height();
      if (!glfwGetWindowMonitor(window)) app.setWindowSize(winW, winH);  // remembered (not fullscreen's)
      app.draw(static_cast<float>(winW), static_cast<float>(winH));
      ImGui::Render();
      typedStandIns().clear();  // typed where no input took it: dropped, as ImGui drops text
      if (std::string t = app.title(); t != shownTitle) {
        glfwSetWindowTitle(window, t.c_str());
        shownTitle = t;
      }
      if (g_shootAgain.exchange(false) && !options.screenshotPath.empty()) screenshotPending = true, shootNow = true;
      const bool shootThisFrame = screenshotPending && (shootNow || secondsSinceStart() >= options.screenshotAfterSec);
      if (shootThisFrame) presentPlanner().wholeFrame();  // the screenshot reads the whole back buffer
      // A resize is drawn whole: the back buffer may have had its new size a frame before the
      // event told us, and a part placed by the old height would land elsewhere.
      if (facts.takeResized()) presentPlanner().wholeFrame();
      const PresentPlan plan = presentPlanner().plan(*ImGui::GetDrawData(), partPresenter.available());
      if (plan.kind == PresentPlan::Kind::Nothing) continue;  // the window shows this frame already
      glViewport(0, 0, fbW, fbH);
      glClearColor(0.10f, 0.11f, 0.13f, 1.0f);
      if (plan.kind == PresentPlan::Kind::Parts) {
        // Each part cleared and drawn on its own: the renderer shades nothing outside them.
        for (const base::Rect& part : plan.parts) {
          if (plan.clearParts) {
            glScissor(part.x, fbH - part.bottom(), part.w, part.h);
            glEnable(GL_SCISSOR_TEST);
            glClear(GL_COLOR_BUFFER_BIT);
            glDisable(GL_SCISSOR_TEST);
          }
          presentPlanner().narrowTo(*ImGui::GetDrawData(), part);
          ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
        }
      } else {
        glClear(GL_COLOR_BUFFER_BIT);
        ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
      }
      if (shootThisFrame) {
        screenshotPending = false;
        shootNow = false;
        if (saveBackbufferPng(options.screenshotPath, fbW, fbH))
          printFontStats(fontAtlas), std::printf("huddle: saved the window to %s\n", options.screenshotPath.c_str()),
              std::fflush(stdout);
        else
          std::fprintf(stderr, "huddle: cannot write the screenshot to %s\n", options.screenshotPath.c_str());
      }
      if (plan.kind == PresentPlan::Kind::Parts) {
        for (const base::Rect& part : plan.parts) partPresenter.show(part, fbH);
        ++redrawsInParts;
      } else {
        glfwSwapBuffers(window);
      }
      ++redraws;
    }
  }
  g_dropTarget = nullptr;
  deleteRetiredGlObjects();
  ImGui_ImplOpenGL3_Shutdown();
  ImGui_ImplGlfw_Shutdown();
  ImGui::DestroyContext();
  glfwDestroyWindow(window);
  glfwTerminate();
  return 0;
}

}  // namespace huddle::ui
