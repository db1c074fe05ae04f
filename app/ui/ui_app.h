// The window's application state and panels: host or join from one window, chat, watch
// shared screens as GPU textures, share your own, and see how it all performs. Panels live
// in a dock layout (app/dock, drawn by DockView) that is saved across runs together with
// the settings. Holds the sessions; draws with ImGui each frame and never blocks on the
// network (sessions run on their own threads and report through queues).
// Thread: UI (main) thread only.
#pragma once
#include <atomic>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "app/dock/dock_layout.h"
#include "app/session/app_settings.h"
#include "app/session/chat_log.h"
#include "app/session/host_session.h"
#include "app/session/options.h"
#include "app/session/screen_session.h"
#include "app/session/trust.h"
#include "app/ui/dock_view.h"
#include "app/ui/stream_texture.h"
#include "capture/x11_source.h"
#include "net/chat_client.h"

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

 private:
  enum class Mode { Idle, Hosting, Joined };
  enum class Fit { Fit, OneToOne, Fill };

  // One watched stream: its texture and how it is shown.
  struct Viewer {
    std::shared_ptr<session::StreamView> view;
    std::unique_ptr<StreamTexture> texture;
    Fit fit = Fit::Fit;
    float zoom = 1.0f;        // at 1:1: extra zoom with the wheel
    float panX = 0, panY = 0; // at 1:1 and above: dragged offset, in image pixels
    std::string savedText;    // "Saved ..." after a screenshot
    // History for the stats plots, one sample every half second.
    std::deque<float> fps, latencyMs, kbps;
    double lastSampleAt = 0;
    std::uint64_t shownUpdates = 0;
  };

  // Sessions.
  void pumpEvents();
  void startHosting();
  void startJoining();
  void connectJoining(const net::TlsEngine::ClientTrust& pin, bool remember, bool resume = false);
  void pollReconnect();
  // A line in the chat that never crossed the network, also printed on stdout.
  void note(const std::string& text);
  void pollProbe();
  void drawNewHostPopup();
  void drawPasswordPopup();
  // Hosting: a new room password as `/password` asks ("": make one, "off": none); the key is
  // derived on a worker and pollPasswordChange() says in the chat when it took effect.
  void changeRoomPassword(const std::string& request);
  void pollPasswordChange();
  void startScreenSession(std::uint16_t screenPort, const std::string& name);
  void leaveSession();
  net::ChatClient* chatClient();
  // Screens.
  void syncViewers();
  void openViewer(std::uint32_t streamId);
  void closeViewer(std::uint32_t streamId);
  void startSharing();
  void stopSharing();
  bool sharing() const;
  capture::CapturePipeline* sharePipeline();
  capture::CaptureSettings shareSettings() const;
  // Panels.
  void drawPanel(const std::string& id);
  std::string panelTitle(const std::string& id) const;
  void drawMenuBar();
  void drawConnectionPanel();
  void drawChatPanel();
  void drawUserList(bool inline_);
  void drawScreensPanel();
  void drawViewerPanel(std::uint32_t streamId, bool fullscreen);
  void drawViewerOverlay(Viewer& v, float x, float y);
  void drawSharePanel();
  void drawStatsPanel();
  void drawQuitConfirm();
  void drawConnectionLost();
  void submitChatLine();
  void setFullscreenViewer(std::uint32_t streamId);
  // Persistence.
  void loadState();
  void saveState();

  std::function<void()> m_wake;
  WindowControl m_window;
  session::Options m_options;
  Mode m_mode = Mode::Idle;
  std::unique_ptr<session::HostSession> m_host;
  std::unique_ptr<net::ChatClient> m_client;
  std::unique_ptr<session::ScreenSession> m_screen;
  session::ChatLog m_chat;
  std::string m_status;      // plain-words status or error for the connection panel
  bool m_statusIsError = false;
  bool m_lostConnection = false;  // the host went away (not by our choice): offer to reconnect
  bool m_showLost = false;        // open the "Disconnected" popup next frame
  bool m_leaving = false;         // inside leaveSession()

  // Trust: the host's key this session is pinned to, and whether to remember it.
  std::shared_ptr<const net::HostIdentity> m_identity;  // hosting
  session::JoinTarget m_target;                          // joining
  net::TlsEngine::ClientTrust m_pin;
  bool m_rememberHost = false;
  // Meeting a host for the first time: its key is learned off the UI thread, then shown.
  struct Probe {
    std::atomic<bool> cancel{false};
    net::Fingerprint key{};
    std::string error;
  };
  std::shared_ptr<Probe> m_probe;
  std::future<bool> m_probeDone;
  std::future<std::string> m_passwordChange;  // a room password being set: "" or why not
  std::string m_newPassword;                   // ...and which
  bool m_askTrust = false;     // open the "New host" popup next frame
  bool m_askPassword = false;  // open the "Password" popup next frame

  // Losing the host: retried by ourselves, the chat log and viewers kept for the return.
  bool m_everJoined = false;
  std::uint64_t m_resumeToken = 0;
  bool m_reconnecting = false;
  int m_reconnectAttempt = 0;
  std::int64_t m_reconnectAtUs = 0;
  std::vector<std::uint32_t> m_rewatch;   // viewers to reattach once the streams are back
  std::vector<std::string> m_outbox;      // said while away: sent once back

  // Connection form and sharing choices (persisted through m_settings).
  session::AppSettings m_settings;
  char m_name[64] = "";
  char m_address[128] = "127.0.0.1";
  char m_hostPassword[129] = "";  // the room password when hosting (optional)
  char m_joinPassword[129] = "";  // the password to give when joining
  std::string m_shareError;
  std::vector<capture::X11Monitor> m_monitors;  // for "One monitor", refreshed now and then
  double m_monitorsAt = -10;

  // Chat input.
  char m_input[4096] = "";
  std::vector<std::string> m_sent;  // lines sent, for Up/Down recall
  int m_recall = -1;
  bool m_focusInput = false;
  bool m_scrollToBottom = false;
  bool m_chatVisible = false;

  // Screens.
  std::map<std::uint32_t, Viewer> m_viewers;
  std::uint32_t m_fullscreenStream = 0;
  bool m_autoWatch = false;   // --watch: open the first stream that appears
  bool m_autoShare = false;   // --share with --host/--join: share once in
  std::deque<float> m_encodeMs, m_shareFps;  // host-side plots
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
