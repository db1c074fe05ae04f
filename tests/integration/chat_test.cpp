// Chat over loopback: a real host (TcpServer + ChatHub) and real clients in one process.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "app/session/chat_log.h"
#include "net/socket.h"
#include "net/wire/codec.h"
#include "net/wire/messages.h"
#include "test_support.h"

using namespace huddle;
using namespace huddle::test;

namespace {

class ChatLoopback : public ::testing::Test {
 protected:
  void SetUp() override { startHost(testHostConfig()); }
  void startHost(const session::HostConfig& config) {
    std::string error;
    ASSERT_TRUE(host.start(config, error)) << error;
    port = host.chatPort();
  }
  std::vector<std::unique_ptr<TestClient>> joinClients(int n, const std::string& prefix) {
    std::vector<std::unique_ptr<TestClient>> clients;
    for (int i = 0; i < n; ++i) {
      clients.push_back(std::make_unique<TestClient>());
      clients.back()->start(port, prefix + std::to_string(i));
    }
    for (auto& c : clients) {
      EXPECT_TRUE(waitFor([&] { c->pump(); return c->joined; }, 10000));
    }
    return clients;
  }
  session::HostSession host;
  std::uint16_t port = 0;
};

}  // namespace

TEST_F(ChatLoopback, EightClientsThousandMessagesNoneLostOneOrder) {
  constexpr int kClients = 8, kPerClient = 125;
  auto clients = joinClients(kClients, "user");
  // Everyone (and the host's own user) has seen all joins before anyone speaks.
  ASSERT_TRUE(waitFor([&] { return host.chatHub().users().size() == kClients + 1; }, 5000));

  std::vector<std::thread> senders;
  for (int c = 0; c < kClients; ++c) {
    senders.emplace_back([&, c] {
      for (int i = 0; i < kPerClient; ++i) {
        EXPECT_TRUE(clients[c]->client.say("msg " + std::to_string(c) + "/" + std::to_string(i)));
        std::this_thread::sleep_for(std::chrono::milliseconds(25));  // under the 50/s limit
      }
    });
  }
  for (auto& t : senders) t.join();

  const std::size_t total = kClients * kPerClient;
  for (auto& c : clients) {
    ASSERT_TRUE(waitFor([&] { return c->chats(wire::ChatKind::Public).size() >= total; }, 20000))
        << "got " << c->chats(wire::ChatKind::Public).size();
  }

  std::vector<wire::ChatEvent> reference = clients[0]->chats(wire::ChatKind::Public);
  ASSERT_EQ(reference.size(), total);
  std::set<std::string> texts;
  std::map<std::string, int> lastPerSender;
  for (std::size_t i = 0; i < reference.size(); ++i) {
    texts.insert(reference[i].text);
    if (i) {
      EXPECT_GT(reference[i].seq, reference[i - 1].seq);
    }
    // Per-sender FIFO: each sender's messages arrive in the order it sent them.
    auto slash = reference[i].text.find('/');
    int n = std::stoi(reference[i].text.substr(slash + 1));
    auto [it, fresh] = lastPerSender.emplace(reference[i].from, n);
    if (!fresh) {
      EXPECT_EQ(n, it->second + 1);
      it->second = n;
    }
  }
  EXPECT_EQ(texts.size(), total);  // none duplicated, none lost
  for (auto& c : clients) {
    auto mine = c->chats(wire::ChatKind::Public);
    ASSERT_EQ(mine.size(), total);
    for (std::size_t i = 0; i < total; ++i) {
      ASSERT_EQ(mine[i].seq, reference[i].seq);
      ASSERT_EQ(mine[i].text, reference[i].text);
    }
  }
}

TEST_F(ChatLoopback, PrivateMessagesReachOnlyTheirTarget) {
  auto clients = joinClients(3, "p");
  ASSERT_TRUE(clients[0]->client.sayPrivate("p1", "for p1 only"));
  ASSERT_TRUE(waitFor([&] { return !clients[1]->chats(wire::ChatKind::Private).empty(); }, 5000));
  ASSERT_TRUE(waitFor([&] { return !clients[0]->chats(wire::ChatKind::Private).empty(); }, 5000));
  // p2 gets a later public message, so by then the private one would have arrived too.
  ASSERT_TRUE(clients[0]->client.say("public marker"));
  ASSERT_TRUE(waitFor([&] { return !clients[2]->chats(wire::ChatKind::Public).empty(); }, 5000));
  EXPECT_TRUE(clients[2]->chats(wire::ChatKind::Private).empty());
  auto got = clients[1]->chats(wire::ChatKind::Private)[0];
  EXPECT_EQ(got.from, "p0");
  EXPECT_EQ(got.to, "p1");
  EXPECT_EQ(got.text, "for p1 only");
}

TEST_F(ChatLoopback, NewcomerGetsHistoryAndAClashingNameGetsASuffix) {
  auto first = joinClients(1, "dup");
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(first[0]->client.say("early " + std::to_string(i)));
  ASSERT_TRUE(waitFor([&] { return first[0]->chats(wire::ChatKind::Public).size() == 5; }, 5000));
  TestClient late;
  late.start(port, "dup0");
  ASSERT_TRUE(waitFor([&] { late.pump(); return late.joined; }, 5000));
  EXPECT_EQ(late.client.name(), "dup0_2");
  auto history = late.chats(wire::ChatKind::Public, true);
  ASSERT_EQ(history.size(), 5u);
  EXPECT_EQ(history[0].text, "early 0");
  EXPECT_TRUE(history[0].flags & wire::ChatEvent::kFlagHistory);
}

TEST_F(ChatLoopback, HostEndingTheSessionTellsEveryone) {
  auto clients = joinClients(3, "bye");
  host.stop("The host ended the session.");
  for (auto& c : clients) {
    ASSERT_TRUE(waitFor([&] { c->pump(); return c->disconnected; }, 5000));
    EXPECT_EQ(c->disconnectText, "The host ended the session.");
    EXPECT_TRUE(c->events.back().sessionEnded);
  }
}

TEST_F(ChatLoopback, ClientLeavingIsAnnounced) {
  auto clients = joinClients(2, "l");
  clients[1]->client.leave();
  ASSERT_TRUE(waitFor([&] { return !clients[0]->chats(wire::ChatKind::Leave).empty(); }, 5000));
  EXPECT_EQ(clients[0]->chats(wire::ChatKind::Leave)[0].from, "l1");
  EXPECT_TRUE(clients[0]->chats(wire::ChatKind::Leave)[0].text.empty());  // a plain "left"
}

TEST(ChatErrors, ConnectionRefusedIsReportedInPlainWords) {
  // A port that was just free: nobody listens there.
  session::HostSession h;
  std::string error;
  ASSERT_TRUE(h.start(testHostConfig(), error));
  std::uint16_t port = h.chatPort();
  h.stop();
  TestClient c;
  c.start(port, "x");
  ASSERT_TRUE(waitFor([&] { c.pump(); return c.disconnected; }, 5000));
  EXPECT_EQ(c.disconnectText, "Failed to connect to 127.0.0.1:" + std::to_string(port) +
                                  ": connection refused (is a host running there?)");
}

TEST(ChatErrors, PortInUseIsReported) {
  session::HostSession a, b;
  std::string error;
  ASSERT_TRUE(a.start(testHostConfig(), error));
  session::HostConfig clash = testHostConfig();
  clash.chatPort = a.chatPort();
  EXPECT_FALSE(b.start(clash, error));
  EXPECT_NE(error.find("address already in use"), std::string::npos) << error;
}

TEST(ChatErrors, VersionMismatchMessageNamesBothVersions) {
  session::HostSession h;
  std::string error;
  ASSERT_TRUE(h.start(testHostConfig(), error));
  RawPeer peer(h.chatPort());
  base::ByteVec v;
  wire::Writer w(v);
  w.u32(6);
  w.u16(static_cast<std::uint16_t>(wire::MsgType::Hello));
  w.u32(wire::kMagic);
  w.u16(wire::kProtocolVersion + 1);
  ASSERT_TRUE(peer.send(v));
  EXPECT_TRUE(peer.waitClosed(3000));
  EXPECT_TRUE(waitFor([&] { return h.chatHub().stats().closedByReason[static_cast<int>(wire::Reason::Rejected)] == 1; }, 5000));
}

TEST(ChatErrors, ClientExplainsAVersionMismatchFromTheHost) {
  // A fake host that answers any Hello with "I speak protocol 3".
  std::string error;
  ASSERT_TRUE(net::initNetwork(error)) << error;
  net::TcpListener listener;
  ASSERT_TRUE(listener.open(0, 16, error)) << error;
  std::thread fakeHost([&] {
    auto s = listener.accept(5000);
    if (!s) return;
    char buf[256];
    s->waitReadable(5000);
    s->recv(buf, sizeof buf);
    wire::Reject r;
    r.hostVersion = 3;
    r.code = wire::RejectCode::VersionMismatch;
    r.text = "host speaks protocol 3";
    base::Bytes f = wire::encodeFrame(r);
    s->sendAll(f->data(), f->size());
    s->waitReadable(2000);  // until the client hangs up
  });
  TestClient c;
  c.start(listener.port(), "x");
  ASSERT_TRUE(waitFor([&] { c.pump(); return c.disconnected; }, 5000));
  fakeHost.join();
  EXPECT_EQ(c.disconnectText, "Cannot join 127.0.0.1:" + std::to_string(listener.port()) +
                                  ": host speaks protocol 3, this build speaks " +
                                  std::to_string(wire::kProtocolVersion) + ".");
}

// docs/SECURITY.md s.9: a participant away while others talk sees, once back, exactly what it
// missed, in order and once; away for longer than the host's history, it is told so.
TEST(ChatResume, BackFromAwayExactlyWhatWasMissedOnceAndInOrder) {
  session::HostConfig config = testHostConfig();
  config.hub.chatRatePerSec = config.hub.chatBurst = 1e6;  // bob talks fast, for a short test
  config.hub.guard.floodMessagesPerSec = 1e6;
  session::HostSession host;
  std::string error;
  ASSERT_TRUE(host.start(config, error)) << error;
  const std::uint16_t port = host.chatPort();
  TestClient bob;
  bob.start(port, "bob");
  ASSERT_TRUE(waitFor([&] { bob.pump(); return bob.joined; }, 10000));
  session::ChatLog log;
  auto away = std::make_unique<net::ChatClient>();
  auto connect = [&](net::ChatClient& c) {
    net::ChatClientConfig cfg;
    cfg.port = port;
    cfg.name = "amy";
    c.start(cfg);
    return waitFor([&] {
      for (auto& ev : c.events().drain()) log.apply(ev);
      return log.connected();
    }, 10000);
  };
  auto pumpLog = [&](net::ChatClient& c) {
    for (auto& ev : c.events().drain()) log.apply(ev);
  };
  auto count = [&](const std::string& text) {
    int n = 0;
    for (const auto& l : log.lines()) n += l.text == text;
    return n;
  };
  auto talkWhileAway = [&](int from, int to) {
    for (int i = from; i < to; ++i) ASSERT_TRUE(bob.client.say("m" + std::to_string(i)));
    ASSERT_TRUE(waitFor([&] {
      auto seen = bob.chats(wire::ChatKind::Public);
      return !seen.empty() && seen.back().text == "m" + std::to_string(to - 1);
    }, 20000));
  };
  ASSERT_TRUE(connect(*away));
  bob.client.say("before");
  ASSERT_TRUE(waitFor([&] { pumpLog(*away); return count("before") == 1; }, 5000));

  // Away (the connection is simply gone) while 400 lines are said, then back.
  away.reset();
  talkWhileAway(0, 400);
  auto back = std::make_unique<net::ChatClient>();
  ASSERT_TRUE(connect(*back));
  ASSERT_TRUE(waitFor([&] { pumpLog(*back); return count("m399") == 1; }, 10000));
  pumpLog(*back);
  EXPECT_EQ(count("before"), 1);
  std::vector<int> order;
  for (const auto& l : log.lines())
    if (l.text.size() > 1 && l.text[0] == 'm' && std::isdigit(static_cast<unsigned char>(l.text[1])))
      order.push_back(std::stoi(l.text.substr(1)));
  ASSERT_EQ(order.size(), 400u);
  for (int i = 0; i < 400; ++i) EXPECT_EQ(order[static_cast<std::size_t>(i)], i);
  for (const auto& l : log.lines()) EXPECT_EQ(l.text.find("may be missing"), std::string::npos) << l.text;

  // Away for longer than the host keeps: what it still has arrives, and the gap is said.
  back.reset();
  talkWhileAway(400, 400 + static_cast<int>(wire::kHistoryMessages) + 100);
  auto again = std::make_unique<net::ChatClient>();
  ASSERT_TRUE(connect(*again));
  const std::string last = "m" + std::to_string(400 + wire::kHistoryMessages + 99);
  ASSERT_TRUE(waitFor([&] { pumpLog(*again); return count(last) == 1; }, 10000));
  int notices = 0;
  for (const auto& l : log.lines()) notices += l.text.find("may be missing") != std::string::npos;
  EXPECT_EQ(notices, 1);
  EXPECT_EQ(count("m399"), 1);
  EXPECT_EQ(count("m400"), 0) << "fell out of the host's history";
}
