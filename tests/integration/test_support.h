// Helpers for loopback integration tests: a hosted session on ephemeral ports, clients that
// collect what they see, and raw sockets for misbehaving peers. Every wait is bounded.
#pragma once
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "app/session/host_session.h"
#include "app/session/session_controller.h"
#include "app/session/screen_session.h"
#include "net/chat_client.h"
#include "net/wire/reason.h"

namespace huddle::test {

// Polls `done` every 10 ms until it holds or `timeoutMs` passes.
inline bool waitFor(const std::function<bool()>& done, int timeoutMs) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done();
}

// A hub's closes by reason, as " E_TLS=1 E_IO_EOF=3" (" nothing" if none): what a failing
// test prints to say how the host ended what it saw.
template <typename Counts>
std::string closedText(const Counts& counts) {
  std::string s;
  for (std::size_t r = 0; r < counts.size(); ++r)
    if (counts[r]) s += std::string(" ") + wire::reasonName(static_cast<wire::Reason>(r)) + "=" + std::to_string(counts[r]);
  return s.empty() ? std::string(" nothing") : s;
}

// A chat client that keeps everything it was told.
struct TestClient {
  net::ChatClient client;
  std::vector<net::ChatClientEvent> events;
  bool joined = false, disconnected = false;
  std::string disconnectText;

  void start(std::uint16_t port, const std::string& name, const std::string& address = "127.0.0.1") {
    net::ChatClientConfig c;
    c.host = address;
    c.port = port;
    c.name = name;
    client.start(c);
  }
  void pump() {
    for (auto& ev : client.events().drain()) {
      if (ev.kind == net::ChatClientEvent::Kind::Connected) joined = true;
      if (ev.kind == net::ChatClientEvent::Kind::Disconnected) {
        disconnected = true;
        disconnectText = ev.text;
      }
      events.push_back(std::move(ev));
    }
  }
  std::vector<wire::ChatEvent> chats(wire::ChatKind kind, bool includeHistory = false) {
    pump();
    std::vector<wire::ChatEvent> v;
    for (auto& ev : events)
      if (ev.kind == net::ChatClientEvent::Kind::Chat && ev.chat.kind == kind &&
          (includeHistory || !(ev.chat.flags & wire::ChatEvent::kFlagHistory)))
        v.push_back(ev.chat);
    return v;
  }
};

// Where controllers in a test keep their host keys and known hosts: a directory per person
// under one root named for the test, removed before and after it.
struct TempConfig {
  std::string root = (std::filesystem::temp_directory_path() /
                      ("huddle-test-" + std::to_string(::getpid()) + "-" +
                       ::testing::UnitTest::GetInstance()->current_test_info()->name()))
                         .string();
  TempConfig() { std::filesystem::remove_all(root); }
  ~TempConfig() { std::filesystem::remove_all(root); }
  session::ControllerEnv env(const std::string& who) const {
    session::ControllerEnv e;
    e.configDir = root + "/" + who;
    std::filesystem::create_directories(e.configDir);
    std::filesystem::permissions(e.configDir, std::filesystem::perms::owner_all);
    e.random = [] { return 0u; };  // no jitter: reconnect backoff is exact
    return e;
  }
};

inline session::HostConfig testHostConfig() {
  session::HostConfig c;
  c.name = "host";
  c.chatPort = 0;
  c.screenPort = 0;
  c.voicePort = 0;  // any free port: tests run side by side, and the default may be taken
  c.hub.maxParticipants = 64;
  // Every simulated client comes from 127.0.0.1 (docs/SECURITY.md s.10.1): under a sanitizer a
  // burst of handshakes can outlast the grace time, which must not refuse them here.
  c.hub.guard.maxPending = c.hub.guard.maxPendingPerAddress = 2 * wire::kMaxPendingConnections;
  c.screenHub.guard.maxPending = c.screenHub.guard.maxPendingPerAddress = 2 * wire::kMaxPendingConnections;
  // Nor may their joins, which all come from one address, meet the churn limit.
  c.hub.joinBurstPerAddress = 1e6;
  return c;
}

// A chat member with a screen session, as the window has.
struct ScreenMember {
  TestClient chat;
  session::ScreenSession screen;

  // Joins the chat, then the screen port the host named in its welcome; `wake` is called as
  // the window's would be (new images, cursor moves, ...). `address`: where the host is
  // reached (a link of its own, shaped apart).
  void join(session::HostSession& host, const std::string& name, std::function<void()> wake = {},
            const std::string& address = "127.0.0.1") {
    chat.start(host.chatPort(), name, address);
    ASSERT_TRUE(waitFor([&] { chat.pump(); return chat.joined; }, 5000));
    std::uint16_t screenPort = 0;
    for (auto& ev : chat.events)
      if (ev.kind == net::ChatClientEvent::Kind::Connected) screenPort = ev.screenPort;
    ASSERT_EQ(screenPort, host.screenPort());  // the host told us where its screens are
    session::ScreenSessionConfig c;
    c.link.host = address;
    c.link.port = screenPort;
    c.link.wake = std::move(wake);
    c.name = name;
    c.token = chat.client.token();
    screen.start(c);
    ASSERT_TRUE(waitFor([&] { return screen.connected(); }, 5000));
  }
  // Watches the first stream listed, once there is one (null after 5 s without).
  std::shared_ptr<session::StreamView> watchFirst() {
    std::shared_ptr<session::StreamView> v;
    waitFor([&] {
      auto s = screen.streams();
      if (!s.empty()) v = screen.watch(s[0].streamId);
      return v != nullptr;
    }, 20000);  // a stream is listed after its first frame, which a sanitizer build may take seconds to encode
    return v;
  }
  std::uint32_t watchFirstId() {
    auto v = watchFirst();
    return v ? v->info().streamId : 0;
  }
};

// A test with a host on ephemeral ports whose own user is in.
class HostedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    ASSERT_TRUE(host.start(config(), error)) << error;
    ASSERT_TRUE(waitFor([&] { return host.localUser().connected(); }, 5000));
  }
  virtual session::HostConfig config() const { return testHostConfig(); }
  session::HostSession host;
};

// Fills the host's screen relay with its own small streams, up to the cap; their ids.
inline std::vector<std::uint32_t> fillStreamCap(session::HostSession& host) {
  std::vector<std::uint32_t> ids;
  std::string error;
  for (std::size_t i = 0; i < wire::kMaxStreamsPerSession; ++i) {
    // One owner each (ids no participant has): one participant may share only a few.
    ids.push_back(host.screenHub().startLocalStream(std::uint32_t(1000 + i), "host", "s" + std::to_string(i), 64, 64,
                                                    64, error));
    EXPECT_NE(ids.back(), 0u) << error;
  }
  return ids;
}

// A raw TCP connection for speaking bad protocol at a live host.
class RawPeer {
 public:
  // From `sourceIpv4` (host order; 0: any), e.g. 127.0.0.2 to stand for another machine.
  explicit RawPeer(std::uint16_t port, std::uint32_t sourceIpv4 = 0) {
    m_fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (sourceIpv4) {
      sockaddr_in src{};
      src.sin_family = AF_INET;
      src.sin_addr.s_addr = htonl(sourceIpv4);
      if (::bind(m_fd, reinterpret_cast<sockaddr*>(&src), sizeof src) != 0) return;
    }
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    m_connected = ::connect(m_fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
  }
  ~RawPeer() {
    if (m_fd >= 0) ::close(m_fd);
  }
  bool connected() const { return m_connected; }
  bool send(const void* data, std::size_t n) { return ::send(m_fd, data, n, MSG_NOSIGNAL) == static_cast<ssize_t>(n); }
  bool send(const base::ByteVec& v) { return send(v.data(), v.size()); }
  void setReceiveBuffer(int bytes) { ::setsockopt(m_fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes); }
  // Reads (and discards) at most `maxBytes` of what has arrived; returns how many.
  std::size_t readSome(std::size_t maxBytes) {
    std::vector<char> buf(maxBytes);
    pollfd p{m_fd, POLLIN, 0};
    if (::poll(&p, 1, 0) <= 0) return 0;
    ssize_t n = ::recv(m_fd, buf.data(), buf.size(), 0);
    return n > 0 ? static_cast<std::size_t>(n) : 0;
  }
  // Reads and discards until the host closes the connection; false if still open at timeout.
  bool waitClosed(int timeoutMs) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
    char buf[4096];
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{m_fd, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      ssize_t n = ::recv(m_fd, buf, sizeof buf, 0);
      if (n <= 0) return true;
    }
    return false;
  }

 private:
  int m_fd = -1;
  bool m_connected = false;
};

}  // namespace huddle::test
