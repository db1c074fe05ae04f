// Listens on one port and runs a ServerHub over every accepted connection: an accept
// thread ("<name>-accept"), one Connection (reader + writer) per peer, or with
// Options::sharedReads one reading thread ("<name>-read") for all and a writer each, and a
// watchdog ("<name>-watch") that ticks the hub, enforces send deadlines and reaps finished
// connections. A throw on the accept or watchdog thread is logged, kept in failure() and told
// to Options::onFailure; the server then takes no one new (connections already in go on).
// Thread: start()/stop() from the owner; everything else runs on the server's threads.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "net/base/log_throttle.h"
#include "net/base/worker.h"
#include "net/connection.h"
#include "net/peer_link.h"
#include "net/read_loop.h"
#include "net/socket.h"
#include "net/tls_engine.h"
#include "net/wire/limits.h"

namespace huddle::net {

class TcpServer {
 public:
  struct Options {
    int backlog = wire::kListenBacklog;
    std::size_t maxConnections = wire::kMaxConnectionsPerPort;  // over this, new sockets are closed right after accept
    Connection::Options connection;
    std::string name = "server";       // for logs: "chat", "screen"
    // One thread reads every connection (a ReadLoop) instead of a reader thread each: for
    // many peers that each send a little, often (viewers' credits).
    bool sharedReads = false;
    // With an identity every connection is TLS 1.3 presenting it; without, plaintext.
    std::shared_ptr<const HostIdentity> identity;
    // Told (on the failing thread) what the accept or watchdog thread threw.
    std::function<void(const std::string& what)> onFailure;
  };

  TcpServer(ServerHub& hub, Options options);
  ~TcpServer();

  // Listens on `port` (0 = any free port) and starts the threads.
  bool start(std::uint16_t port, std::string& error);
  // Stops accepting, waits up to graceMs for connections to finish on their own (after the
  // hub told them goodbye), then closes the rest and joins every thread.
  void stop(int graceMs);
  std::uint16_t port() const { return m_listener.port(); }
  std::size_t connectionCount() const;
  // Why the accept or watchdog thread stopped on its own ("accept: ...", "watchdog: ...");
  // empty while both run as they should.
  std::string failure() const;

 private:
  struct Peer;
  void acceptLoop();
  void watchdogLoop();
  void reap(bool all);
  void failed(const std::string& what);

  ServerHub& m_hub;
  Options m_options;
  TcpListener m_listener;
  ReadLoop m_readLoop;  // with sharedReads; outlives every connection (stopped after the last is reaped)
  base::Worker m_accept, m_watchdog;
  std::atomic<bool> m_stopAccept{false}, m_stopWatchdog{false};
  mutable std::mutex m_mutex;  // guards m_peers and m_failure
  std::vector<std::shared_ptr<Peer>> m_peers;
  std::string m_failure;
  base::LogThrottle m_logThrottle;  // refusals at accept, per address
};

}  // namespace huddle::net
