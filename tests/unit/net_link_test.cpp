// A client link whose owner's hooks throw: on the link's own thread (connecting) or on the
// connection's reader (joined), the link ends, the owner is told how once, and the process
// goes on. The host is a real ChatHub behind a real TcpServer on loopback.
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <string>
#include <stdexcept>
#include <thread>
#include <vector>

#include "net/chat_client.h"
#include "net/chat_hub.h"
#include "net/socket.h"
#include "net/tcp_server.h"
#include "net_threads.h"

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

std::vector<ChatClientEvent> drain(ChatClient& c) { return c.events().drain(); }

// How often the one thread of this process named `name` has gone to sleep so far (its
// wakes), or -1 if there is not exactly one.
long switchesOf(const std::string& name) {
  long found = -1;
  int count = 0;
  for (const auto& t : test::threadsOfThisProcess())
    if (t.name == name) ++count, found = t.voluntarySwitches;
  return count == 1 ? found : -1;
}

}  // namespace

// Idle costs next to nothing: a joined link with nothing under way sleeps to its next ping
// (every 2 s) instead of looking at its deadlines every 50 ms, and the server's accept thread
// waits for a newcomer instead of looking at its stop flag every 100 ms; stop() still ends
// that wait at once.
TEST(Link, AnIdleLinkAndAnIdleServerSleepUntilSomethingIsDue) {
  ChatHubConfig hubConfig;
  ChatHub hub(hubConfig);
  TcpServer server(hub, TcpServer::Options{});
  std::string error;
  ASSERT_TRUE(server.start(0, error)) << error;
  ChatClient client;
  ChatClientConfig config;
  config.port = server.port();
  config.name = "dee";
  client.start(config);
  ASSERT_TRUE(waitUntil([&] { return client.connected(); }, 5000));
  // The first, quick pings go by (8, 150 ms apart; later under a sanitizer on a busy machine).
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  const long link0 = switchesOf("chat-link"), accept0 = switchesOf("server-accept");
  ASSERT_GE(link0, 0);
  ASSERT_GE(accept0, 0);
  std::this_thread::sleep_for(std::chrono::seconds(2));
  const long linkWakes = switchesOf("chat-link") - link0, acceptWakes = switchesOf("server-accept") - accept0;
  EXPECT_LE(linkWakes, 20) << "a 50 ms tick wakes it 40 times in 2 s";
  EXPECT_LE(acceptWakes, 2) << "a 100 ms poll wakes it 20 times in 2 s";
  EXPECT_TRUE(client.connected());
  client.leave();
  const auto stopAt = std::chrono::steady_clock::now();
  server.stop(0);
  EXPECT_LT(std::chrono::steady_clock::now() - stopAt, std::chrono::seconds(10))
      << "stop() waited out the accept thread's 60 s wait";
}

TEST(Link, AThrowOnTheLinksOwnThreadEndsTheLinkNotTheProcess) {
  // A port nobody listens on: connecting fails at once, on the link's thread, which then
  // tells the owner and wakes it; the wake hook throws.
  TcpListener listener;
  std::string error;
  ASSERT_TRUE(listener.open(0, 4, error)) << error;
  const std::uint16_t port = listener.port();
  listener.close();

  ChatClient client;
  ChatClientConfig config;
  config.port = port;
  config.name = "ann";
  config.wake = [] { throw std::runtime_error("wake bug"); };
  client.start(config);
  ASSERT_TRUE(waitUntil([&] { return client.finished(); }, 5000));
  EXPECT_EQ(client.failure(), "wake bug");
  // The end was told once, before the hook threw.
  auto events = drain(client);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, ChatClientEvent::Kind::Disconnected);
  EXPECT_NE(events[0].text.find("connection refused"), std::string::npos) << events[0].text;
  EXPECT_TRUE(events[0].neverJoined);
}

TEST(Link, AThrowOnTheReaderEndsTheConnectionWithAReasonTheOwnerSees) {
  ChatHubConfig hubConfig;
  ChatHub hub(hubConfig);
  TcpServer server(hub, TcpServer::Options{});
  std::string error;
  ASSERT_TRUE(server.start(0, error)) << error;

  // The owner's wake hook throws the first time it is called: on the reader thread, when
  // the host's Welcome has been queued as the Connected event.
  std::atomic<int> wakes{0};
  ChatClient client;
  ChatClientConfig config;
  config.port = server.port();
  config.name = "bob";
  config.wake = [&] {
    if (wakes++ == 0) throw std::runtime_error("wake bug");
  };
  client.start(config);
  ASSERT_TRUE(waitUntil([&] { return client.finished(); }, 5000));
  EXPECT_EQ(client.failure(), "");  // the link's own thread did not throw
  auto events = drain(client);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].kind, ChatClientEvent::Kind::Connected);
  EXPECT_EQ(events[1].kind, ChatClientEvent::Kind::Disconnected);
  EXPECT_EQ(events[1].text, "Lost connection to the host (reader: wake bug).");
  // The host saw that one participant go and is still serving: another joins.
  ASSERT_TRUE(waitUntil([&] { return hub.stats().participants == 0; }, 5000));
  ChatClient other;
  ChatClientConfig otherConfig;
  otherConfig.port = server.port();
  otherConfig.name = "cy";
  other.start(otherConfig);
  ASSERT_TRUE(waitUntil([&] { return other.connected(); }, 5000));
  other.leave();
  server.stop(0);
}
