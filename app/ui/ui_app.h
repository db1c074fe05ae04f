// The window's application state and panels: start a host or join from one window, chat,
// and see the session's status. Holds the sessions; draws with ImGui each frame and never
// blocks on the network (sessions run on their own threads and report through queues).
// Thread: UI (main) thread only.
#pragma once
#include <functional>
#include <memory>
#include <string>

#include "app/session/chat_log.h"
#include "app/session/host_session.h"
#include "app/session/options.h"
#include "net/chat_client.h"

namespace huddle::ui {

class UiApp {
 public:
  // `wake` is called from network threads when there is news to draw (thread-safe).
  UiApp(const session::Options& options, std::function<void()> wake);
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

  void pumpEvents();
  void drawConnectionPanel();
  void drawChatPanel();
  void drawQuitConfirm();
  void startHosting();
  void startJoining();
  void leaveSession();
  void submitChatLine();
  net::ChatClient* chatClient();

  std::function<void()> m_wake;
  Mode m_mode = Mode::Idle;
  std::unique_ptr<session::HostSession> m_host;
  std::unique_ptr<net::ChatClient> m_client;
  session::ChatLog m_chat;
  std::string m_status;      // plain-words status or error for the connection panel
  bool m_statusIsError = false;

  // Connection form.
  char m_name[64] = "";
  char m_address[128] = "127.0.0.1";
  int m_chatPort = 9999;
  int m_screenPort = 9998;

  // Chat input.
  char m_input[4096] = "";
  bool m_focusInput = false;
  bool m_scrollToBottom = false;

  bool m_quit = false;
  bool m_confirmQuit = false;
  bool m_quitAfterEnd = false;  // the confirm came from closing the window
};

}  // namespace huddle::ui
