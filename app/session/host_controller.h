// The host of a session: opens the chat and screen ports with this machine's host key,
// joins its own user over loopback like anyone else, shares straight into the relay, and
// runs the host's commands (/kick, /ban, /password). See SessionController for how faces
// drive it.
// Thread: the owner's thread only; a new room password's key is derived on an owned worker
// ("password"); the servers run their own threads.
#pragma once
#include <atomic>
#include <memory>
#include <optional>

#include "app/session/host_session.h"
#include "app/session/session_controller.h"
#include "net/base/worker.h"
#include "net/discovery_socket.h"
#include "net/wire/limits.h"

namespace huddle::session {

struct HostRequest {
  std::string name = "host";
  std::uint16_t chatPort = wire::kDefaultChatPort;      // 0: any free port
  std::uint16_t screenPort = wire::kDefaultScreenPort;  // 0: any free port
  std::uint16_t voicePort = wire::kDefaultVoicePort;    // UDP; 0: any free port
  int voiceLossPercent = 0;      // tests: the voice relay loses this share of datagrams
  std::string password;          // empty: no room password
  int maxParticipants = static_cast<int>(wire::kDefaultParticipants);
  bool keepHistory = false;      // keep the chat across restarts (in env.stateDir)
  std::uint64_t maxFileBytes = wire::kDefaultMaxFileBytes;  // files in the chat up to this size
  // Announce the session on this network (net/discovery_socket.h). Off unless a face turns it
  // on from the user's options (session::announceWanted), so no test host announces by accident.
  bool announce = false;
};

// What the host shows people so they can join.
struct HostInfo {
  std::string keyCode;           // the host key's short code, to compare
  bool newKey = false;           // the key was made on this start
  std::vector<std::string> inviteLinks;
  std::uint16_t chatPort = 0, screenPort = 0;
  std::uint16_t voicePort = 0;   // 0: no voice this session (voiceError says why)
  std::string voiceError;
  std::string password;          // the room password now ("" = none)
  bool announced = false;        // listed as a session nearby
  std::string announceNote;      // why it is not, when it was asked to be
};

// What a host says about itself when it starts: its name and key code, the invite links, the
// room password (shown only when it was made up here), the ports.
std::vector<std::string> hostBanner(const std::string& name, const HostInfo& info, bool showPassword);

class HostController final : public SessionController {
 public:
  HostController(HostRequest request, ControllerEnv env);
  ~HostController() override;

  // Opens the ports; false with the reason in state().status (a port taken, a key that
  // cannot be read, ...).
  bool start(std::int64_t nowUs);
  const HostInfo& info() const { return m_info; }
  // The servers, for figures (hub stats) and tests.
  HostSession* hostSession() { return m_host.get(); }

 protected:
  net::ChatClient* chatClient() override { return m_host ? &m_host->localUser() : nullptr; }
  std::string hostAddress() const override { return "127.0.0.1"; }
  void onConnected(const net::ChatClientEvent& ev, std::int64_t nowUs) override;
  void onDisconnected(const net::ChatClientEvent& ev, std::int64_t nowUs) override;
  void tickRole(std::int64_t nowUs) override;
  void kick(const std::string& name, const std::string& reason, bool ban) override;
  // "" makes a new password, "off" removes it; the key is derived on a worker and the
  // result said in the chat when it took effect.
  void changePassword(const std::string& request) override;
  bool startSharingOn(std::unique_ptr<capture::ScreenSource> source, const capture::CaptureSettings& settings,
                      std::string& error) override;
  void stopSharingOn() override;
  capture::CapturePipeline* sharePipeline() override { return m_host ? m_host->sharePipeline() : nullptr; }
  void applyViewerMarks(bool allowed) override {
    if (m_host) m_host->setViewerMarks(allowed);
  }
  void retireRole() override;

 private:
  HostRequest m_request;
  HostInfo m_info;
  std::shared_ptr<HostSession> m_host;  // shared with the password worker and the teardown
  std::unique_ptr<net::DiscoveryAnnouncer> m_announcer;  // while hosting with request.announce

  struct PasswordChange {
    std::string password;
    std::atomic<bool> done{false};
    std::string error;
  };
  std::shared_ptr<PasswordChange> m_passwordChange;
  base::Worker m_passwordWorker;
  // The host's own user dropped: rejoined at once the first time, then with the clients'
  // backoff while it keeps failing (never a loop of joins against our own port).
  int m_rejoinAttempts = 0;
  std::optional<std::int64_t> m_rejoinAtUs;
};

}  // namespace huddle::session
