// The window's application state and panels: host or join from one window, chat, watch
// shared screens as GPU textures, share your own, and see how it all performs. Panels live
// in a dock layout (app/dock, drawn by DockView) that is saved across runs together with
// the settings. A face over the session library: a HostController or JoinController does
// the work; this draws what it reports each frame and turns clicks into its commands, never
// waiting for the network (sessions run on their own threads and end on a teardown worker).
// Thread: UI (main) thread only.
#pragma once
#include <atomic>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "app/dock/dock_layout.h"
#include "app/session/app_settings.h"
#include "app/session/chat_log.h"
#include "app/session/host_controller.h"
#include "app/session/image_saver.h"
#include "app/session/join_controller.h"
#include "app/session/nearby.h"
#include "app/session/options.h"
#include "app/ui/chat_view.h"
#include "app/ui/dock_view.h"
#include "app/ui/stream_texture.h"
#include "capture/x11_overlay.h"
#include "capture/x11_source.h"
#include "net/base/worker.h"

namespace huddle::ui {

// What the window loop can do for the app (fullscreen belongs to the GLFW window).
struct WindowControl {
  std::function<void(bool)> setFullscreen;
  std::function<bool()> fullscreen;
};

class UiApp {
 public:
  // `wake` is called from network threads when there is news to draw (thread-safe).
  UiApp(const session::Options& options, std::function<void()> wake, WindowControl window);
  ~UiApp();

  // Draws one frame of UI (between ImGui::NewFrame and ImGui::Render).
  void draw(float widthPx, float heightPx);
  // Window title: role and session.
  std::string title() const;
  // True when the user confirmed quitting (or nothing needs confirming).
  bool wantsToQuit() const { return m_quit; }
  // The window's close button / Esc: a host asks first, since it ends everyone's session.
  void requestQuit();
  // Quits without asking, ending any session gracefully (signals, --quit-after).
  void quitNow();
  // The window's size, to remember (the window reports it when it changes).
  void setWindowSize(int widthPx, int heightPx);
  const session::AppSettings& settings() const { return m_settings; }
  // Files dropped on the window: offered in the chat, after asking to whom.
  void dropFiles(std::vector<std::string> paths);
  // Stream images that reached the screen (texture uploads), over the open viewers.
  std::uint64_t imagesShown() const {
    std::uint64_t n = 0;
    for (const auto& [id, v] : m_viewers) n += v.texture->uploads();
    return n;
  }

 private:
  enum class Fit { Fit, OneToOne, Fill };

  // One watched stream as the window shows it: its texture and how it is drawn. The view
  // itself belongs to the session controller (it comes back after a reconnect).
  struct Viewer {
    std::unique_ptr<StreamTexture> texture;
    std::unique_ptr<CursorTexture> cursor;  // the sharer's cursor sprite
    std::shared_ptr<session::StreamView> shown;  // the view the texture holds
    std::string ownerName;
    Fit fit = Fit::Fit;
    float zoom = 1.0f;        // at 1:1: extra zoom with the wheel
    float panX = 0, panY = 0; // at 1:1 and above: dragged offset, in image pixels
    std::string savedText;    // "Saved ..." after a screenshot
    std::string savedPath;
    std::unique_ptr<session::ImageSaver> saver;  // screenshots, written off the UI thread
    // History for the stats plots, one sample every half second.
    std::deque<float> fps, latencyMs, kbps;
    double lastSampleAt = 0;
    // The overlay's figures, from the same half-second samples: readable, and a frame's
    // drawing changes no more often than that (present_plan.h).
    session::StreamStatsSnapshot overlayStats;
    bool pointing = false;  // our pointer is held over this stream (right button)
    bool pen = false;       // the toolbar's Pen: a left drag draws instead of panning
    bool drawing = false;   // a stroke of ours is under way (left button held)
    bool drawn = false;     // its panel was drawn this frame (not a tab behind another)
  };

  // Sessions: the controller does the work; these start it and read what it says.
  session::ControllerEnv controllerEnv() const;
  void startHosting();
  void startJoining();
  void endController();   // lets the current controller go (its connections close on the teardown)
  void leaveSession();
  void pollController();
  session::JoinController* joining();
  session::HostController* hosting();
  bool inSession() const;
  void drawNewHostPopup();
  void drawPasswordPopup();
  // Screens.
  void syncViewers();
  void openViewer(std::uint32_t streamId);
  void closeViewer(std::uint32_t streamId);
  session::ShareSpec shareSpec() const;
  void startSharing();
  // Panels.
  void drawPanel(const std::string& id);
  std::string panelTitle(const std::string& id) const;
  void drawMenuBar();
  void drawConnectionPanel();
  void drawNearbySessions();
  void drawChatPanel();
  void drawUserList(bool inline_);
  void drawVoiceControls();
  // Files in the chat: offers to us (Accept, Decline), what arrives and what we offer (with
  // progress), and the Send file popup (a path, everyone or one person).
  int fileRows(float width) const;  // lines the files strip needs at that width
  void drawFileTransfers();
  void drawSendFilePopup();
  void drawScreensPanel();
  void drawViewerPanel(std::uint32_t streamId, bool fullscreen);
  // Our pointer (right button held) and pen (Pen on, left drag) on a viewer, and everyone's
  // pointers and strokes drawn over it.
  void pointAndDrawPointers(Viewer& v, std::uint32_t streamId, bool hovered, float originX, float originY, float scale,
                           float w, float h);
  void drawViewerOverlay(const Viewer& v, const session::StreamView& view, float x, float y);
  void drawSharePanel();
  void drawStatsPanel();
  void drawQuitConfirm();
  void drawConnectionLost();
  void submitChatLine();
  void setFullscreenViewer(std::uint32_t streamId);
  void printNewChatLines();
  // Persistence.
  void loadState();
  void saveState();

  std::function<void()> m_wake;
  WindowControl m_window;
  session::Options m_options;
  std::shared_ptr<session::Teardown> m_teardown;  // before m_session: it outlives it
  std::unique_ptr<session::SessionController> m_session;
  float m_voiceMaster = 1.f;                    // the voice's volume for everyone
  std::map<std::uint32_t, float> m_voiceVolumes;  // by participant id
  // Push to talk (m_settings.voicePushToTalk): muted unless "Hold to talk" or the talk key
  // (m_settings.voiceTalkKey) is held while the window has the keyboard.
  voice::AudioDeviceChoice m_voiceDevices;
  std::vector<std::string> m_captureDevices, m_playbackDevices;  // listed when the options open
  session::ChatLog m_idleChat;    // shown when no session has started yet
  std::uint64_t m_printedLines = 0;
  std::string m_formError;        // the form's own complaint (a bad name, port, password)
  session::Phase m_lastPhase = session::Phase::Idle;
  bool m_showLost = false;        // open the "Disconnected" popup next frame
  bool m_askTrust = false;        // open the "New host" popup next frame
  bool m_askPassword = false;     // open the "Password" popup next frame
  bool m_shareOnceIn = false;     // "Share my screen once hosting" / --share

  // Connection form and sharing choices (persisted through m_settings).
  session::AppSettings m_settings;
  char m_name[64] = "";
  char m_address[128] = "127.0.0.1";
  char m_hostPassword[129] = "";  // the room password when hosting (optional)
  char m_joinPassword[129] = "";  // the password to give when joining
  // Sessions nearby (the Connection panel): heard by a listener started with the panel.
  net::DiscoveryListener m_nearby;
  bool m_nearbyStarted = false;
  std::string m_nearbyError;      // why nothing can be heard ("" while listening)
  std::vector<net::NearbySession> m_nearbySessions;
  double m_nearbyAt = -10;        // ImGui time of the last refresh
  std::vector<capture::X11Monitor> m_monitors;  // for "One monitor", refreshed now and then
  double m_monitorsAt = -10;
  std::vector<capture::X11Window> m_windows;  // for "One window", refreshed the same way
  std::map<unsigned long, std::unique_ptr<ImageTexture>> m_windowIcons;  // by window id, made when first shown
  // "A region": picked by dragging on the screen (on a worker: the pick blocks on X), and
  // framed on the screen while it is shared.
  void startRegionPick();
  void finishRegionPick();
  void syncRegionBorder();
  base::Worker m_regionPicker;
  std::atomic<bool> m_regionPickStop{false};
  std::atomic<bool> m_regionPickDone{false};
  capture::PickResult m_regionPickResult = capture::PickResult::Cancelled;  // written by the worker before Done
  capture::ScreenRect m_regionPicked;
  std::string m_regionPickFailure;  // the worker's words, written before Done
  std::string m_regionPickError;    // what the panel shows (the window's thread only)
  capture::X11RegionBorder m_regionBorder;
  // Viewers' pointers on the sharer's real screen (not only on its preview).
  void syncScreenPointers();
  capture::X11PointerOverlay m_pointerOverlay;

  // Chat input and log view.
  char m_input[4096] = "";
  std::vector<std::string> m_sent;  // lines sent, for Up/Down recall
  int m_recall = -1;
  bool m_focusInput = false;
  bool m_chatVisible = false;
  ChatScroll m_chatScroll;
  // Files: the Send file popup's fields, and files dropped but not yet sent.
  char m_sendPath[1024] = "";
  std::string m_sendTo;  // empty: everyone
  bool m_openSendFile = false;
  std::vector<std::string> m_droppedFiles;

  // Screens.
  std::map<std::uint32_t, Viewer> m_viewers;
  std::uint32_t m_fullscreenStream = 0;
  std::uint32_t m_frontViewer = 0;  // the viewer shown last with the pointer over it (F11's)
  std::deque<float> m_encodeMs, m_shareFps;  // host-side plots
  bool m_viewerMarks = true;  // the Share panel's "Let viewers point and draw" (--no-pointers)
  double m_lastShareSampleAt = 0;
  std::uint64_t m_lastFramesCaptured = 0;

  // Layout.
  dock::DockLayout m_layout;
  DockView m_dockView;
  bool m_layoutDirty = false;
  double m_lastSaveAt = 0;

  bool m_quit = false;
  bool m_confirmQuit = false;
  bool m_quitAfterEnd = false;  // the confirm came from closing the window
};

}  // namespace huddle::ui
