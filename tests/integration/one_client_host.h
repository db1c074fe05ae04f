// A scripted host for one client, for tests of a client facing a host that says exactly what
// the test wants (hostile, slow, or paced by hand): a real TcpServer with a ServerHub of the
// test's own.
#pragma once
#include <memory>
#include <mutex>
#include <span>
#include <string>

#include "app/session/screen_session.h"
#include "net/tcp_server.h"
#include "net/wire/frame_decoder.h"
#include "net/wire/messages.h"
#include "test_support.h"

namespace huddle::test {

// A host for one client, over a TcpServer: welcomes it as `name` from `hostName`, then hands
// every other frame to onFrame(), under the lock, on the connection's reader thread.
class OneClientHost : public net::ServerHub {
 public:
  OneClientHost(wire::PayloadLimitFn limit, std::string name, std::string hostName)
      : m_decoder(limit), m_name(std::move(name)), m_hostName(std::move(hostName)) {}
  net::PeerId attach(std::shared_ptr<net::PeerLink> link, std::int64_t) override {
    std::lock_guard lock(m_mutex);
    m_link = std::move(link);
    return 1;
  }
  void receive(net::PeerId, std::span<const std::uint8_t> bytes, std::int64_t) override {
    m_decoder.push(bytes);
    wire::Frame f;
    while (m_decoder.next(f) == wire::FrameDecoder::Status::Frame) {
      std::lock_guard lock(m_mutex);
      if (f.type == static_cast<std::uint16_t>(wire::MsgType::Hello)) {
        wire::Welcome w;
        w.participantId = 2;
        w.name = m_name;
        w.hostName = m_hostName;
        m_link->send(wire::encodeFrame(w));
        onWelcomed();
      } else {
        onFrame(f);
      }
    }
  }
  void detach(net::PeerId, wire::Reason, const std::string&) override {}
  std::int64_t tick(std::int64_t nowUs) override { return nowUs + net::kServerTickUs; }

 protected:
  virtual void onWelcomed() {}
  virtual void onFrame(const wire::Frame& f) = 0;
  std::mutex m_mutex;
  std::shared_ptr<net::PeerLink> m_link;  // (m_mutex)

 private:
  wire::FrameDecoder m_decoder;  // the one reader thread
  const std::string m_name, m_hostName;
};

// Starts `viewer` (the app's own) as "vic" against the scripted host behind `server`; true once
// it has been told of `streams` streams.
inline bool startViewer(session::ScreenSession& viewer, net::TcpServer& server, std::size_t streams) {
  session::ScreenSessionConfig config;
  config.link.port = server.port();
  config.name = "vic";
  viewer.start(config);
  return waitFor([&] { return viewer.streams().size() == streams; }, 5000);
}

}  // namespace huddle::test
