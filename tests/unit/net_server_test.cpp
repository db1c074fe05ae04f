// TcpServer's watchdog: ticked at the busy pace, or while the hub is quiet at the idle
// pace, and woken at once for a newcomer, a connection's end and the hub's own wakeBy().
// TcpServer when the hub it runs throws: on one peer's bytes only that connection closes
// (Reason::Internal) and everyone else is served; on the accept or watchdog thread the
// server logs it, reports it (failure(), Options::onFailure) and refuses newcomers.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "net/base/clock.h"
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
  void receive(PeerId id, std::span<const std::uint8_t> bytes, std::int64_t nowUs) override {
    for (std::uint8_t b : bytes) {
      if (b == '!') throw std::runtime_error("receive bug");
      if (b == 'w') wakeBy(nowUs);  // something timed began here: the watchdog looks now
    }
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
  std::int64_t tick(std::int64_t nowUs) override {
    if (throwOnTick) throw std::runtime_error("tick bug");
    ++ticks;
    return nowUs + (quietForUs ? quietForUs.load() : kServerTickUs);
  }

  std::map<PeerId, std::pair<wire::Reason, std::string>> ends() {
    std::lock_guard lock(m_mutex);
    return m_ends;
  }

  std::atomic<bool> throwOnAttach{false}, throwOnTick{false};
  std::atomic<std::int64_t> quietForUs{0};  // nonzero: tick() says nothing is due for that long
  std::atomic<int> ticks{0};

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

TEST(Server, AQuietHubIsTickedAtTheIdlePaceAndWokenForWhatStartsOrEnds) {
  EchoHub hub;
  hub.quietForUs = 60'000'000;
  TcpServer server(hub, TcpServer::Options{});
  std::string error;
  ASSERT_TRUE(server.start(0, error)) << error;
  auto a = connectTo(server.port());
  ASSERT_TRUE(a);
  ASSERT_EQ(echo(*a, "hi"), "hi");

  // Quiet for a minute, by the hub's word: about one tick a second (kServerIdleTickUs), not
  // one every kServerTickUs (25 in this time).
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  int before = hub.ticks.load();
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  EXPECT_LE(hub.ticks.load() - before, 4);

  // The hub's own work wakes it, well before the idle pace would: just after an idle tick, the
  // next is a second away.
  before = hub.ticks.load();
  ASSERT_TRUE(waitUntil([&] { return hub.ticks.load() > before; }, 2000));
  before = hub.ticks.load();
  ASSERT_EQ(echo(*a, "w"), "w");
  EXPECT_TRUE(waitUntil([&] { return hub.ticks.load() > before; }, 400));

  // A connection that ends is reaped within the busy pace, not at the next idle tick.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  a.reset();
  EXPECT_TRUE(waitUntil([&] { return server.connectionCount() == 0; }, 600));
  EXPECT_EQ(server.failure(), "");

  const std::int64_t t0 = base::monoUs();
  server.stop(0);
  EXPECT_LT(base::monoUs() - t0, 600'000);  // the stop wakes the sleeping watchdog
}
