// A client link whose owner's hooks throw: on the link's own thread (connecting) or on the
// connection's reader (joined), the link ends, the owner is told how once, and the process
// goes on. The host is a real ChatHub behind a real TcpServer on loopback.
#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

#include "net/chat_client.h"
#include "net/chat_hub.h"
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

std::vector<ChatClientEvent> drain(ChatClient& c) { return c.events().drain(); }

}  // namespace

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
