// A participant joining a host: pins the host's key before any application byte goes out
// (the invite's code, the remembered key, or a first meeting's key shown to the user to
// compare), joins, asks again for a password the host wants, and after losing the host
// comes back by itself (jittered backoff, its resume token, lines typed meanwhile said once
// back, watched streams taken up again). See SessionController for how faces drive it.
// Thread: the owner's thread only; the host-key probe runs on an owned worker ("probe").
#pragma once
#include <atomic>
#include <memory>

#include "app/session/session_controller.h"
#include "app/session/trust.h"
#include "net/base/worker.h"
#include "net/wire/limits.h"

namespace huddle::session {

struct JoinRequest {
  std::string address;          // "host", "host:port" or an invite link
  std::uint16_t defaultPort = 0;  // when the address gives none (0: the default chat port)
  std::string name;
  std::string password;         // the room password, if the host has one
  bool trustNewHost = false;    // --trust-new-host: accept (and remember) a first meeting
  int probeTimeoutMs = wire::kConnectTimeoutMs;
};

enum class TrustAnswer { Remember, Once, No };

class JoinController final : public SessionController {
 public:
  JoinController(JoinRequest request, ControllerEnv env);
  ~JoinController() override;

  // Resolves the address and starts joining (or checking a new host's key). A bad address
  // ends at once with the reason in state().status.
  void start(std::int64_t nowUs);
  // Phase::AskTrust: the key to compare, and where it came from.
  const net::Fingerprint& newHostKey() const { return m_probeKey; }
  const JoinTarget& target() const { return m_target; }
  // The user's answer to "trust this host?".
  void answerTrust(TrustAnswer answer, std::int64_t nowUs);
  // Phase::AskPassword: join again with this password (same pinned key). Whether the last
  // one was refused, or none was given, is in passwordWasGiven().
  void retryWithPassword(const std::string& password, std::int64_t nowUs);
  bool passwordWasGiven() const { return !m_request.password.empty(); }
  // After a loss the controller gave up on (or was refused), the user asks to try again.
  void reconnect(std::int64_t nowUs);
  // What to tell a user whose host's key changed (the hard stop); empty otherwise.
  const std::string& changedKeyAdvice() const { return m_keyAdvice; }

 protected:
  net::ChatClient* chatClient() override { return m_client.get(); }
  std::string hostAddress() const override { return m_target.host; }
  void onConnected(const net::ChatClientEvent& ev, std::int64_t nowUs) override;
  void onDisconnected(const net::ChatClientEvent& ev, std::int64_t nowUs) override;
  void tickRole(std::int64_t nowUs) override;
  bool startSharingOn(std::unique_ptr<capture::ScreenSource> source, const capture::CaptureSettings& settings,
                      std::string& error) override;
  void stopSharingOn() override;
  capture::CapturePipeline* sharePipeline() override { return m_screen ? m_screen->sharePipeline() : nullptr; }
  std::string shareRefusal() const override { return m_screen ? m_screen->shareError() : std::string(); }
  void applyViewerMarks(bool allowed) override {
    if (m_screen) m_screen->setViewerMarks(allowed);
  }
  void retireRole() override;

 private:
  // Starts the chat connection with the key pinned; `resume`: a retry after a loss.
  void connect(bool resume);
  void retireClient();
  std::string knownHostsFile() const;

  JoinRequest m_request;
  JoinTarget m_target;
  net::TlsEngine::ClientTrust m_pin;
  bool m_remember = false;        // remember the host's key once the handshake shows it whole
  std::unique_ptr<net::ChatClient> m_client;
  std::uint64_t m_resumeToken = 0;
  bool m_retryDue = false;        // Reconnecting: an attempt starts at reconnectAtUs
  std::string m_keyAdvice;

  // Meeting a host for the first time: its key is learned on a worker.
  struct Probe {
    std::atomic<bool> cancel{false};
    std::atomic<bool> done{false};
    bool ok = false;
    net::Fingerprint key{};
    std::string error;
  };
  std::shared_ptr<Probe> m_probe;
  base::Worker m_probeWorker;
  net::Fingerprint m_probeKey{};
};

}  // namespace huddle::session
