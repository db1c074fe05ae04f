#include "app/session/host_session.h"

#include <random>

#include "net/base/log.h"
#include "net/socket.h"

namespace huddle::session {

HostSession::HostSession() = default;
HostSession::~HostSession() { stop(); }

bool HostSession::start(const HostConfig& config, std::string& error) {
  m_config = config;
  net::ChatHubConfig hubConfig = config.hub;
  hubConfig.hostName = config.name;
  // The host's own user proves it is the host with a secret that never leaves this process.
  std::random_device rd;
  hubConfig.hostToken = (std::uint64_t(rd()) << 32 | rd()) | 1;
  m_hub = std::make_unique<net::ChatHub>(hubConfig);
  net::TcpServer::Options serverOptions = config.server;
  serverOptions.name = "chat";
  m_chatServer = std::make_unique<net::TcpServer>(*m_hub, serverOptions);
  if (!m_chatServer->start(config.chatPort, error)) {
    error = "Cannot host on chat port " + std::to_string(config.chatPort) + ": " + error;
    m_chatServer.reset();
    m_hub.reset();
    return false;
  }
  net::ChatClientConfig self;
  self.host = "127.0.0.1";
  self.port = m_chatServer->port();
  self.name = config.name;
  self.hostToken = hubConfig.hostToken;
  self.wake = config.wake;
  m_localUser = std::make_unique<net::ChatClient>();
  m_localUser->start(self);
  m_running = true;
  return true;
}

void HostSession::stop(const std::string& reason) {
  if (!m_running) return;
  m_running = false;
  m_hub->shutdown(reason);
  // Goodbyes are small: they are out within a round trip unless a peer stopped reading.
  m_chatServer->stop(1500);
}

std::uint16_t HostSession::chatPort() const { return m_chatServer ? m_chatServer->port() : 0; }

std::vector<std::string> HostSession::joinAddresses() const { return net::localIpv4Addresses(); }

}  // namespace huddle::session
