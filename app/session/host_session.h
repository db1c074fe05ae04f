// A hosted session: the chat and screen servers plus the host's own user, who joins over
// loopback exactly like any other participant.
// Thread: start()/stop() from the owner; the servers run their own threads.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "capture/capture_pipeline.h"
#include "net/chat_client.h"
#include "net/chat_hub.h"
#include "net/screen_hub.h"
#include "net/tcp_server.h"
#include "net/voice_server.h"
#include "net/wire/limits.h"

namespace huddle::session {

struct HostConfig {
  std::string name = "host";   // the host user's name
  std::uint16_t chatPort = wire::kDefaultChatPort;
  std::uint16_t screenPort = wire::kDefaultScreenPort;
  // UDP; 0: any free port. If it cannot be had the session goes on without voice (said in
  // voiceError()).
  std::uint16_t voicePort = wire::kDefaultVoicePort;
  net::ChatHubConfig hub;      // limits and deadlines (tests shorten them)
  net::ScreenHubConfig screenHub;
  net::VoiceHubConfig voiceHub;
  int voiceLossPercent = 0;  // tests: the relay loses this share of what it receives
  net::TcpServer::Options server;
  std::function<void()> wake;  // passed to the host's own user (see ChatClientConfig)
  // Both ports speak TLS 1.3 presenting this identity; null: plaintext (tests only).
  std::shared_ptr<const net::HostIdentity> identity;
  // A room password (8+ characters); empty: anyone on the LAN who can reach the port may join
  // (the key code only proves the host to clients; it is public, not a secret).
  std::string password;
};

class HostSession {
 public:
  HostSession();
  ~HostSession();

  // Opens the ports and joins the host's own user; false with a reason if a port is taken.
  bool start(const HostConfig& config, std::string& error);
  // Tells everyone the session ended, waits briefly for the goodbyes to go out, closes all.
  void stop(const std::string& reason = "The host ended the session.");
  bool running() const { return m_running; }
  // Changes the room password (empty: none) without disturbing anyone already here. Runs
  // the KDF (a fraction of a second); false with `error` for a password that cannot be one.
  bool setPassword(const std::string& password, std::string& error);

  std::uint16_t chatPort() const;
  std::uint16_t screenPort() const;
  // The voice port (UDP), 0 without voice; why there is none.
  std::uint16_t voicePort() const { return m_voiceServer ? m_voiceServer->port() : 0; }
  const std::string& voiceError() const { return m_voiceError; }
  net::VoiceHub* voiceHub() { return m_voiceHub.get(); }
  net::ChatHub& chatHub() { return *m_hub; }
  net::ScreenHub& screenHub() { return *m_screenHub; }
  // The host's own participant (events, say, ...).
  net::ChatClient& localUser() { return *m_localUser; }
  // The host's own user lost its loopback link (the process was suspended past the
  // heartbeat, say): joins it again; returns the old one for the caller to let go.
  std::unique_ptr<net::ChatClient> rejoinLocalUser();
  // Where others can join: every local IPv4 address.
  std::vector<std::string> joinAddresses() const;

  // The host shares a screen: its pipeline feeds the relay directly (no socket).
  bool startSharing(std::unique_ptr<capture::ScreenSource> source, const capture::CaptureSettings& settings,
                    int encoderThreads, std::string& error);
  void stopSharing();
  bool sharing() const { return m_pipeline != nullptr; }
  capture::CapturePipeline* sharePipeline() { return m_pipeline.get(); }
  // The host's share's switch for viewers' pointers and pens (kept across sharing runs).
  void setViewerMarks(bool allowed);

 private:
  HostConfig m_config;
  std::unique_ptr<net::ChatHub> m_hub;
  std::unique_ptr<net::ScreenHub> m_screenHub;
  std::unique_ptr<net::TcpServer> m_chatServer;
  std::unique_ptr<net::TcpServer> m_screenServer;
  std::unique_ptr<net::VoiceHub> m_voiceHub;
  std::unique_ptr<net::VoiceServer> m_voiceServer;
  std::string m_voiceError;
  std::unique_ptr<net::ChatClient> m_localUser;
  net::ChatClientConfig m_localConfig;
  std::unique_ptr<capture::CapturePipeline> m_pipeline;
  capture::PipelineNudge m_shareNudge;  // the screen hub's threads tell the pipeline of tiers wanted
  std::atomic<std::uint32_t> m_sharedStream{0};
  std::atomic<bool> m_viewerMarks{true};
  std::string m_shareTitle;
  // (capture thread) Keeps `c`'s new shape, if any; the shape the relay still needs, or null.
  const base::CursorImage* cursorShapeToSend(const capture::CursorUpdate& c);
  base::CursorImage m_cursorShape;  // (capture thread) the shared cursor's latest shape
  bool m_cursorShapeSent = false;   // (capture thread) the relay has it
  bool m_running = false;
};

}  // namespace huddle::session
