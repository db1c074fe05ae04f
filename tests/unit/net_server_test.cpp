// TcpServer when the hub it runs throws: on one peer's bytes only that connection closes
// (Reason::Internal) and everyone else is served; on the accept or watchdog thread the
// server logs it, reports it (failure(), Options::onFailure) and refuses newcomers.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "net/socket.h"
#include "net/tcp_server.h"

using namespace huddle;
using namespace huddle::net;

namespace {

bool waitUntil(const std::function<bool()>& done, int timeoutMs) {
  for (int waited = 0; waited < timeoutMs; waited += 10) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done();
}

// Echoes what each peer sends; a '!' in it is a bug in the hub (it throws on that peer's
// reader thread). attach() and tick() throw when told to.
class EchoHub : public ServerHub {
 public:
  PeerId attach(std::shared_ptr<PeerLink> link, std::int64_t) override {
    if (throwOnAttach) throw std::runtime_error("attach bug");
    std::lock_guard lock(m_mutex);
    m_links[m_next] = std::move(link);
    return m_next++;
  }
  void receive(PeerId id, std::span<const std::uint8_t> bytes, std::int64_t) override {
    for (std::uint8_t b : bytes)
      if (b == '!') throw std::runtime_error("receive bug");
    std::shared_ptr<PeerLink> link;
    {
      std::lock_guard lock(m_mutex);
      link = m_links[id];
    }
    link->send(base::makeBytes(base::ByteVec(bytes.begin(), bytes.end())));
  }
  void detach(PeerId id, wire::Reason reason, const std::string& detail) override {
    std::lock_guard lock(m_mutex);
    m_links.erase(id);
    m_ends[id] = {reason, detail};
  }
  void tick(std::int64_t) override {
    if (throwOnTick) throw std::runtime_error("tick bug");
  }

  std::map<PeerId, std::pair<wire::Reason, std::string>> ends() {
    std::lock_guard lock(m_mutex);
    return m_ends;
  }

  std::atomic<bool> throwOnAttach{false}, throwOnTick{false};

 private:
  std::mutex m_mutex;
  std::map<PeerId, std::shared_ptr<PeerLink>> m_links;
  std::map<PeerId, std::pair<wire::Reason, std::string>> m_ends;
  PeerId m_next = 1;
};

std::unique_ptr<TcpSocket> connectTo(std::uint16_t port) {
  ConnectResult c = connectTcp("127.0.0.1", port, 2000);
  EXPECT_TRUE(c.socket) << c.error;
  return std::move(c.socket);
}

// Sends `text` and reads the echo back; "" if none came (or the connection ended).
std::string echo(TcpSocket& s, const std::string& text) {
  if (!s.sendAll(text.data(), text.size())) return "";
  std::string got;
  char buf[64];
  while (got.size() < text.size() && s.waitReadable(2000) == 1) {
    int n = s.recv(buf, sizeof buf);
    if (n <= 0) break;
    got.append(buf, static_cast<std::size_t>(n));
  }
  return got;
}

// True once the peer has closed `s` (end of stream or reset).
bool closedByPeer(TcpSocket& s) {
  char buf[64];
  for (int i = 0; i < 200; ++i) {
    int ready = s.waitReadable(10);
    if (ready < 0) return true;
    if (ready == 0) continue;
    if (s.recv(buf, sizeof buf) <= 0) return true;
  }
  return false;
}

bool refused(std::uint16_t port) {
  return connectTcp("127.0.0.1", port, 1000).error.find("connection refused") != std::string::npos;
}

}  // namespace

TEST(Server, AHubThatThrowsOnOnePeersBytesClosesOnlyThatPeer) {
  EchoHub hub;
  TcpServer server(hub, TcpServer::Options{});
  std::string error;
  ASSERT_TRUE(server.start(0, error)) << error;
  auto a = connectTo(server.port());
  auto b = connectTo(server.port());
  ASSERT_TRUE(a && b);
  ASSERT_EQ(echo(*a, "hi"), "hi");
  ASSERT_EQ(echo(*b, "hi"), "hi");

  ASSERT_TRUE(a->sendAll("!", 1));
  EXPECT_TRUE(closedByPeer(*a));
  ASSERT_TRUE(waitUntil([&] { return hub.ends().size() == 1; }, 2000));
  const auto [reason, detail] = hub.ends().begin()->second;
  EXPECT_EQ(reason, wire::Reason::Internal);
  EXPECT_EQ(detail, "reader: receive bug");

  // Everyone else carries on, and newcomers are still let in.
  EXPECT_EQ(echo(*b, "still here"), "still here");
  auto c = connectTo(server.port());
  ASSERT_TRUE(c);
  EXPECT_EQ(echo(*c, "new"), "new");
  EXPECT_EQ(server.failure(), "");
  server.stop(0);
}

TEST(Server, AnAcceptThreadThatThrowsIsReportedAndNewcomersAreRefused) {
  EchoHub hub;
  std::mutex mutex;
  std::string told;
  TcpServer::Options options;
  options.name = "chat";
  options.onFailure = [&](const std::string& what) {
    std::lock_guard lock(mutex);
    told = what;
  };
  TcpServer server(hub, options);
  std::string error;
  ASSERT_TRUE(server.start(0, error)) << error;
  auto before = connectTo(server.port());
  ASSERT_TRUE(before);
  ASSERT_EQ(echo(*before, "hi"), "hi");

  hub.throwOnAttach = true;
  auto unlucky = connectTo(server.port());
  ASSERT_TRUE(waitUntil([&] { return !server.failure().empty(); }, 2000));
  EXPECT_EQ(server.failure(), "accept: attach bug");
  {
    std::lock_guard lock(mutex);
    EXPECT_EQ(told, "accept: attach bug");
  }
  EXPECT_TRUE(refused(server.port()));
  // The peer already in is untouched.
  EXPECT_EQ(echo(*before, "still here"), "still here");
  server.stop(0);
}

TEST(Server, AWatchdogThatThrowsIsReportedAndNewcomersAreRefused) {
  EchoHub hub;
  TcpServer server(hub, TcpServer::Options{});
  std::string error;
  ASSERT_TRUE(server.start(0, error)) << error;
  hub.throwOnTick = true;
  ASSERT_TRUE(waitUntil([&] { return !server.failure().empty(); }, 2000));
  EXPECT_EQ(server.failure(), "watchdog: tick bug");
  // The accept thread notices within its 100 ms poll and lets the port go.
  EXPECT_TRUE(waitUntil([&] { return refused(server.port()); }, 2000));
  server.stop(0);
}
