#include "app/session/join_controller.h"

#include "app/session/reconnect.h"
#include "net/base/log.h"
#include "net/tls_probe.h"
#include "net/wire/limits.h"

namespace huddle::session {

namespace {
constexpr const char* kTag = "session/join";
constexpr std::int64_t kNever = INT64_MAX;
}  // namespace

JoinController::JoinController(JoinRequest request, ControllerEnv env)
    : SessionController(std::move(env)), m_request(std::move(request)) {}

JoinController::~JoinController() {
  if (m_probe) m_probe->cancel = true;  // the probe stops within 100 ms
  m_probeWorker.join();
  leave();
}

std::string JoinController::knownHostsFile() const {
  return m_env.configDir.empty() ? "" : m_env.configDir + "/known_hosts";
}

void JoinController::start(std::int64_t nowUs) {
  (void)nowUs;
  std::string error;
  const std::uint16_t port = m_request.defaultPort ? m_request.defaultPort : wire::kDefaultChatPort;
  if (!resolveJoinTarget(m_request.address, port, m_target, error)) {
    m_state.phase = Phase::Ended;
    setStatus("Cannot join: " + error + ".", true);
    return;
  }
  m_state.sessionTitle = m_target.address;
  std::vector<std::string> warnings;
  const std::string path = knownHostsFile();
  const KnownHosts known = path.empty() ? KnownHosts{} : KnownHosts::load(path, warnings);
  for (const auto& w : warnings) HLOG_WARN(kTag, "%s", w.c_str());
  if (pinFor(m_target, known, m_pin)) {
    m_remember = m_target.haveInvite;  // an invite's host is remembered once its full key is seen
    connect(false);
    return;
  }
  // A host met for the first time: learn its key off the owner's thread, then ask.
  m_probe = std::make_shared<Probe>();
  auto probe = m_probe;
  const JoinTarget target = m_target;
  const int timeoutMs = m_request.probeTimeoutMs;
  auto wake = m_env.wake;
  m_probeWorker = base::Worker(
      "probe",
      [probe, target, timeoutMs, wake] {
        probe->ok = net::probeHostKey(target.host, target.port, timeoutMs, probe->key, probe->error, &probe->cancel);
        probe->done = true;
        if (wake) wake();
      },
      [probe, wake](const std::string& what) {
        probe->error = "Cannot check the host's key: " + what;
        probe->done = true;
        if (wake) wake();
      });
  m_state.phase = Phase::Checking;
  setStatus("Checking the host at " + m_target.address + "...");
}

void JoinController::tickRole(std::int64_t nowUs) {
  if (m_probe && m_probe->done) {
    m_probeWorker.join();
    std::shared_ptr<Probe> probe = std::move(m_probe);
    if (m_leaving) return;
    if (!probe->ok) {
      m_state.phase = Phase::Ended;
      setStatus(probe->error, true);
      note(probe->error);
      return;
    }
    m_probeKey = probe->key;
    note("The host at " + m_target.address + " is new to you. Its key code is " + net::shortCode(m_probeKey) + ".",
         ChatLine::Style::System);
    m_state.phase = Phase::AskTrust;
    setStatus("Compare the host's key code " + net::shortCode(m_probeKey) + " with the one the host shows.");
    if (m_request.trustNewHost) {
      note("Trusting it and remembering it (--trust-new-host).", ChatLine::Style::System);
      answerTrust(TrustAnswer::Remember, nowUs);
    }
  }
  // A retry is due once the last attempt's connection has ended.
  if (m_state.phase == Phase::Reconnecting && m_retryDue && nowUs >= m_state.reconnectAtUs &&
      (!m_client || m_client->finished())) {
    m_retryDue = false;
    ++m_state.reconnectAttempt;
    m_state.reconnectAtUs = kNever;  // until this attempt ends
    connect(true);
    setStatus("Reconnecting... (attempt " + std::to_string(m_state.reconnectAttempt) + ")");
  }
}

void JoinController::answerTrust(TrustAnswer answer, std::int64_t nowUs) {
  (void)nowUs;
  if (m_state.phase != Phase::AskTrust) return;  // only a key the user was shown
  if (answer == TrustAnswer::No) {
    m_state.phase = Phase::Ended;
    setStatus("Not joining: the host's key was not accepted.");
    note("Not joining: the host's key was not accepted.");
    return;
  }
  m_pin = pinOf(m_probeKey);
  m_remember = answer == TrustAnswer::Remember;
  connect(false);
}

void JoinController::retryWithPassword(const std::string& password, std::int64_t nowUs) {
  (void)nowUs;
  if (m_state.phase != Phase::AskPassword && m_state.phase != Phase::Ended) return;
  m_request.password = password;
  m_leaving = false;
  connect(false);
}

void JoinController::reconnect(std::int64_t nowUs) {
  (void)nowUs;
  if (m_state.phase != Phase::Ended && m_state.phase != Phase::AskPassword) return;
  if (m_target.host.empty() || m_pin.pinBytes == 0) return start(nowUs);
  m_leaving = false;
  m_state.leftByUs = m_state.sessionEnded = false;
  connect(false);
}

void JoinController::connect(bool resume) {
  retireClient();
  if (m_pin.pinBytes == 0) {
    // Never join without a key to check: that would send our name and password to whoever
    // answers. (A refused or failed first meeting has none; start() asks again.)
    m_state.phase = Phase::Ended;
    setStatus("Not joining: no host key to check.", true);
    return;
  }
  net::ChatClientConfig config;
  config.host = m_target.host;
  config.port = m_target.port;
  config.name = m_request.name;
  config.wake = m_env.wake;
  config.tls = m_pin;
  config.password = m_request.password;
  if (resume) config.resumeToken = m_resumeToken;  // our seat and name back at once
  m_client = std::make_unique<net::ChatClient>();
  m_client->start(config);
  if (!resume) {
    m_state.phase = Phase::Connecting;
    m_state.reconnectAttempt = 0;
    setStatus("Connecting to " + m_target.address + "...");
  }
}

void JoinController::retireClient() {
  if (!m_client) return;
  std::shared_ptr<net::ChatClient> old(std::move(m_client));
  teardown().retire([old] { old->leave(); });
}

void JoinController::onConnected(const net::ChatClientEvent& ev, std::int64_t nowUs) {
  (void)nowUs;
  setStatus("Connected as " + ev.text + ".");
  m_state.reconnectAttempt = 0;
  m_retryDue = false;
  m_resumeToken = m_client->token();
  net::Fingerprint key{};
  const bool haveKey = m_client->hostKey(key);
  const std::string path = knownHostsFile();
  if (m_remember && haveKey && !path.empty()) {
    std::vector<std::string> warnings;
    std::string error;
    KnownHosts known = KnownHosts::load(path, warnings);
    known.remember(m_target.address, key, ev.hostName);
    if (!known.save(path, error)) note("Cannot remember the host: " + error);
  }
  // The screen port is pinned to the very key the chat port presented.
  const std::uint16_t screenPort = ev.screenPort ? ev.screenPort : wire::kDefaultScreenPort;
  startScreens(m_target.host, screenPort, haveKey ? pinOf(key) : m_pin, ev.text, m_client->token(),
               m_client->seatKey());
}

void JoinController::onDisconnected(const net::ChatClientEvent& ev, std::int64_t nowUs) {
  const bool wasReconnecting = m_state.phase == Phase::Reconnecting;
  if (worthRetrying(ev, m_state.everJoined, m_state.reconnectAttempt)) {
    // Lost, not sent away: try again shortly; watched streams wait for their return.
    m_state.phase = Phase::Reconnecting;
    m_retryDue = true;
    m_state.reconnectAtUs = nowUs + retryDelayUs(m_state.reconnectAttempt + 1, random());
    setStatus(std::string(m_state.everJoined ? "Lost the host." : "The host is busy.") + " Reconnecting... (attempt " +
              std::to_string(m_state.reconnectAttempt + 1) + ")");
    if (!wasReconnecting && m_state.everJoined)
      note("Reconnecting by itself; what you type meanwhile is said once the host is back.");
    return;
  }
  if (wasReconnecting) m_chat.apply(ev);  // the attempt that gives up is said after all
  m_state.sessionEnded = ev.sessionEnded;
  m_keyAdvice = ev.hostKeyMismatch ? session::changedKeyAdvice(m_target) : "";
  if (ev.needsPassword) {
    m_state.phase = Phase::AskPassword;
    setStatus(ev.text, true);
    return;
  }
  m_state.phase = Phase::Ended;
  setStatus(ev.text + (m_keyAdvice.empty() ? "" : "\n\n" + m_keyAdvice), !ev.sessionEnded);
  if (!m_keyAdvice.empty()) note(m_keyAdvice);
}

bool JoinController::startSharingOn(std::unique_ptr<capture::ScreenSource> source, const capture::CaptureSettings& settings,
                                    std::string& error) {
  if (!m_screen) return error = "not in a session", false;
  return m_screen->startSharing(std::move(source), settings, 0, error);
}

void JoinController::stopSharingOn() {
  if (m_screen) m_screen->stopSharing();
}

void JoinController::retireRole() {
  if (m_probe) m_probe->cancel = true;
  m_retryDue = false;
  retireClient();
}

}  // namespace huddle::session
