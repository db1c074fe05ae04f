// Each kind of bad input against a live host, while good clients keep chatting: the bad
// connection is closed (or dropped at its deadline) with its reason, nobody else notices,
// and no good message is lost.
#include <gtest/gtest.h>

#include <atomic>
#include <deque>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <set>

#include "net/wire/codec.h"
#include "net/wire/messages.h"
#include "test_support.h"

using namespace huddle;
using namespace huddle::test;

namespace {

base::ByteVec frame(std::uint16_t type, const base::ByteVec& payload, std::uint32_t len = 0xFFFFFFFF) {
  base::ByteVec v;
  wire::Writer w(v);
  w.u32(len == 0xFFFFFFFF ? static_cast<std::uint32_t>(payload.size()) : len);
  w.u16(type);
  w.raw(payload.data(), payload.size());
  return v;
}

base::ByteVec helloFrame(const std::string& name) {
  wire::Hello h;
  h.name = name;
  base::Bytes f = wire::encodeFrame(h);
  return *f;
}

}  // namespace

TEST(BadInput, EveryAbuseClosesOnlyItsConnection) {
  session::HostConfig config = testHostConfig();
  config.hub.guard.handshakeTimeoutUs = 600'000;
  config.hub.guard.partialFrameTimeoutUs = 600'000;
  config.server.connection.sendStallUs = 1'000'000;
  config.server.connection.maxQueuedBytes = 256 * 1024;
  config.server.connection.socketSendBufferBytes = 32 * 1024;
  session::HostSession host;
  std::string error;
  ASSERT_TRUE(host.start(config, error)) << error;
  const std::uint16_t port = host.chatPort();

  // Two good clients chat the whole time.
  TestClient a, b;
  a.start(port, "good_a");
  b.start(port, "good_b");
  ASSERT_TRUE(waitFor([&] { a.pump(); b.pump(); return a.joined && b.joined; }, 5000));
  std::atomic<bool> stop{false};
  std::atomic<int> sent{0};
  std::thread chatter([&] {
    for (int i = 0; !stop.load() && i < 2000; ++i) {
      if ((i % 2 ? a : b).client.say("good " + std::to_string(i))) ++sent;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });

  struct Abuse {
    const char* name;
    std::function<void(RawPeer&)> act;
    wire::Reason expect;
  };
  base::ByteVec badUtf8;
  {
    wire::Writer w(badUtf8);
    w.u64(1);
    w.str("\xED\xA0\x80 surrogate");
  }
  base::ByteVec manyPings;
  {
    base::Bytes p = wire::encodeFrame(wire::Ping{});
    for (int i = 0; i < 20000; ++i) manyPings.insert(manyPings.end(), p->begin(), p->end());
  }
  std::vector<Abuse> abuses = {
      {"oversized length field", [](RawPeer& p) { p.send(helloFrame("x1")); p.send(frame(0x0101, {}, 0xFFFFFFFF - 1)); },
       wire::Reason::ProtoOversize},
      {"unknown type", [](RawPeer& p) { p.send(helloFrame("x2")); p.send(frame(0x5555, {1, 2})); },
       wire::Reason::ProtoHeader},
      {"truncated message then silence", [](RawPeer& p) { p.send(helloFrame("x3")); p.send(frame(0x0101, {}, 50)); },
       wire::Reason::ProtoStall},
      {"invalid UTF-8", [&](RawPeer& p) { p.send(helloFrame("x4")); p.send(frame(0x0101, badUtf8)); },
       wire::Reason::ChatEncoding},
      {"message before the handshake", [](RawPeer& p) { p.send(frame(0x0101, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0})); },
       wire::Reason::ProtoState},
      {"flood of tiny messages", [&](RawPeer& p) { p.send(helloFrame("x5")); p.send(manyPings); }, wire::Reason::Flood},
      {"connects and never speaks", [](RawPeer&) {}, wire::Reason::HandshakeTimeout},
      {"random garbage", [](RawPeer& p) {
         base::ByteVec junk(1 << 16);
         for (std::size_t i = 0; i < junk.size(); ++i) junk[i] = static_cast<std::uint8_t>(i * 131 + 7);
         p.send(junk);
       }, wire::Reason::ProtoState},
  };
  auto before = host.chatHub().stats().closedByReason;
  for (auto& abuse : abuses) {
    RawPeer peer(port);
    ASSERT_TRUE(peer.connected()) << abuse.name;
    abuse.act(peer);
    EXPECT_TRUE(peer.waitClosed(5000)) << abuse.name;
    auto idx = static_cast<std::size_t>(abuse.expect);
    EXPECT_TRUE(waitFor([&] { return host.chatHub().stats().closedByReason[idx] > before[idx]; }, 3000))
        << abuse.name << ": expected " << wire::reasonName(abuse.expect);
    before = host.chatHub().stats().closedByReason;
  }

  // A client that joins and then stops reading while the room is busy (it still sends
  // pings, so it looks alive): dropped for not reading, nobody else is.
  {
    RawPeer stalled(port);
    stalled.setReceiveBuffer(4096);
    ASSERT_TRUE(stalled.send(helloFrame("sleepy")));
    TestClient bulk;
    bulk.start(port, "bulk");
    ASSERT_TRUE(waitFor([&] { bulk.pump(); return bulk.joined; }, 5000));
    base::Bytes ping = wire::encodeFrame(wire::Ping{});
    // Big messages from a third client fill the sleeper's queue and socket buffers.
    std::string big(4000, 'z');
    auto idxStall = static_cast<std::size_t>(wire::Reason::SendStall);
    auto idxSlow = static_cast<std::size_t>(wire::Reason::SlowConsumer);
    auto dropped = [&] {
      auto s = host.chatHub().stats().closedByReason;
      return s[idxStall] + s[idxSlow] > before[idxStall] + before[idxSlow];
    };
    for (int i = 0; i < 400 && !dropped(); ++i) {
      bulk.client.say(big);
      if (i % 8 == 0) stalled.send(*ping);
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    EXPECT_TRUE(waitFor(dropped, 5000));
  }

  stop = true;
  chatter.join();
  // Every good "good N" message reached both good clients exactly once.
  auto texts = [](TestClient& c) {
    std::multiset<std::string> s;
    for (auto& e : c.chats(wire::ChatKind::Public))
      if (e.text.rfind("good ", 0) == 0) s.insert(e.text);
    return s;
  };
  ASSERT_TRUE(waitFor([&] { return texts(a).size() == static_cast<std::size_t>(sent.load()) &&
                                   texts(b).size() == static_cast<std::size_t>(sent.load()); }, 5000))
      << texts(a).size() << " / " << texts(b).size() << " of " << sent.load();
  auto seenByA = texts(a);
  EXPECT_EQ(std::set<std::string>(seenByA.begin(), seenByA.end()).size(), static_cast<std::size_t>(sent.load()));
  EXPECT_FALSE(a.disconnected);
  EXPECT_FALSE(b.disconnected);
}

// Slowloris (docs/SECURITY.md s.7.1): connections that never say a word, from one address and then
// from many. One address gets only its share; the host keeps a bounded set of unfinished
// handshakes, refuses newcomers while it is full of young ones from distinct addresses, and
// evicts the oldest stalled one when an honest client arrives.
TEST(BadInput, ASlowlorisFromManyAddressesCannotKeepAClientOut) {
  session::HostConfig config = testHostConfig();
  config.hub.guard = net::GuardLimits{};  // the production caps and deadlines
  session::HostSession host;
  std::string error;
  ASSERT_TRUE(host.start(config, error)) << error;
  const std::uint16_t port = host.chatPort();
  const auto idx = [](wire::Reason r) { return static_cast<std::size_t>(r); };
  const auto busy = [&] { return host.chatHub().stats().closedByReason[idx(wire::Reason::Busy)]; };
  ASSERT_TRUE(waitFor([&] { return host.chatHub().stats().participants == 1; }, 5000));  // the host's own user
  {
    // One address alone gets no more than its share, however young its connections are, and
    // an honest client gets in at once.
    std::vector<std::unique_ptr<RawPeer>> one;
    for (std::size_t i = 0; i < wire::kMaxPendingPerAddress + 4; ++i) one.push_back(std::make_unique<RawPeer>(port, 0x7F000063));
    ASSERT_TRUE(waitFor([&] { return busy() >= 4; }, 5000)) << busy();
    EXPECT_TRUE(waitFor([&] { return host.chatHub().stats().pending == wire::kMaxPendingPerAddress; }, 5000))
        << host.chatHub().stats().pending;
    TestClient first;
    first.start(port, "first");
    ASSERT_TRUE(waitFor([&] { first.pump(); return first.joined; }, 5000));
  }
  ASSERT_TRUE(waitFor([&] { return host.chatHub().stats().pending == 0; }, 5000)) << host.chatHub().stats().pending;
  const std::uint64_t busyBefore = busy();
  const std::size_t attackers = wire::kMaxPendingConnections + 8;
  std::vector<std::unique_ptr<RawPeer>> silent;
  for (std::size_t i = 0; i < attackers; ++i) {
    silent.push_back(std::make_unique<RawPeer>(port, 0x7F000002 + static_cast<std::uint32_t>(i)));  // 127.0.0.2..
    ASSERT_TRUE(silent.back()->connected()) << i;
  }
  // Over the cap while all are young and from distinct addresses: the latecomers are refused.
  ASSERT_TRUE(waitFor([&] { return busy() >= busyBefore + 8; }, 5000));
  EXPECT_TRUE(waitFor([&] { return host.chatHub().stats().pending == wire::kMaxPendingConnections; }, 5000))
      << host.chatHub().stats().pending;
  // Once they have stalled, an honest client still gets in, making room by eviction.
  std::this_thread::sleep_for(std::chrono::microseconds(wire::kPendingGraceUs + 100'000));
  TestClient good;
  good.start(port, "honest");
  ASSERT_TRUE(waitFor([&] { good.pump(); return good.joined; }, 5000));
  EXPECT_GE(host.chatHub().stats().closedByReason[idx(wire::Reason::Evicted)], 1u);
  EXPECT_LE(host.chatHub().stats().pending, wire::kMaxPendingConnections);
}

namespace {
// Sockets this process holds (an inode: not orphaned) on local `port` with `peerIpv4` at the other
// end, from /proc/net/tcp.
std::size_t socketsHeldFor(std::uint16_t port, std::uint32_t peerIpv4) {
  std::ifstream in("/proc/net/tcp");
  std::string line;
  std::getline(in, line);  // the header
  char local[32], remote[32];
  std::snprintf(local, sizeof local, ":%04X", port);
  std::snprintf(remote, sizeof remote, "%08X:", htonl(peerIpv4));
  std::size_t n = 0;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string sl, loc, rem, st, queues, timer, retr, uid, timeout, inode;
    fields >> sl >> loc >> rem >> st >> queues >> timer >> retr >> uid >> timeout >> inode;
    if (loc.size() > 5 && loc.compare(loc.size() - 5, 5, local) == 0 && rem.rfind(remote, 0) == 0 && inode != "0") ++n;
  }
  return n;
}
}  // namespace

// Refusals as a weapon (docs/SECURITY.md s.7.1): one address opens connection after connection,
// each saying a Hello the host refuses, and never hangs up. Refused connections count against
// their address and are closed hard after a short grace, so the port never fills and an honest
// client from another address joins while the attack goes on.
TEST(BadInput, RefusedConnectionsFromOneAddressCannotFillThePort) {
  session::HostConfig config = testHostConfig();
  config.hub.guard = net::GuardLimits{};  // the production caps and deadlines
  session::HostSession host;
  std::string error;
  ASSERT_TRUE(host.start(config, error)) << error;
  const std::uint16_t port = host.chatPort();
  wire::Hello bad;
  bad.version = wire::kProtocolVersion + 1;
  bad.name = "refused";
  const base::ByteVec badHello = *wire::encodeFrame(bad);
  struct Attacker {
    std::unique_ptr<RawPeer> peer;
    std::chrono::steady_clock::time_point opened;
  };
  std::deque<Attacker> attack;
  // Over 80 a second, each kept open longer than the host's linger: before refusals counted,
  // that alone held every one of the port's 160 sockets.
  auto attackOnce = [&] {
    const auto now = std::chrono::steady_clock::now();
    while (!attack.empty() && now - attack.front().opened > std::chrono::microseconds(wire::kLingerUs + 1'000'000))
      attack.pop_front();
    auto p = std::make_unique<RawPeer>(port, 0x7F000063);  // 127.0.0.99
    if (p->connected()) p->send(badHello);
    attack.push_back({std::move(p), now});
    std::this_thread::sleep_for(std::chrono::milliseconds(8));
  };
  std::size_t mostHeld = 0;
  for (int i = 0; i < 300; ++i) {  // over two seconds of it
    attackOnce();
    if (i % 10 == 0) mostHeld = std::max(mostHeld, socketsHeldFor(port, 0x7F000063));
  }
  TestClient honest;
  honest.start(port, "honest");
  // Bounded: the attack goes on meanwhile.
  for (int i = 0; i < 1200 && !honest.joined; ++i) {
    attackOnce();
    honest.pump();
  }
  EXPECT_TRUE(honest.joined);
  // The sockets the host held for the attacker (its share of refused-but-open ones, and those
  // refused as busy until closed) stayed far from the port's cap, which they used to fill.
  EXPECT_LT(mostHeld, wire::kMaxConnectionsPerPort / 2) << mostHeld;
  EXPECT_GE(host.chatHub().stats().closedByReason[static_cast<std::size_t>(wire::Reason::Busy)], 1u);
}

namespace {
std::size_t entriesIn(const char* dir) {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++n;
  return n;
}
}  // namespace

// Churn (docs/SECURITY.md s.8.1): hundreds of connections that come and go, some mid-handshake,
// some just after joining. Afterwards the host holds no more descriptors or threads than
// before, and still serves.
TEST(BadInput, ChurnLeavesNoDescriptorsOrThreadsBehind) {
  session::HostSession host;
  std::string error;
  ASSERT_TRUE(host.start(testHostConfig(), error)) << error;
  const std::uint16_t port = host.chatPort();
  TestClient first;
  first.start(port, "steady");
  // The host's own user joins over loopback on its own thread: under a sanitizer it may come
  // after "steady", and counting the room before it did made this test fail once in CI.
  const std::size_t inTheRoom = 2;  // the host's own user and "steady"
  ASSERT_TRUE(waitFor([&] { first.pump(); return first.joined && host.chatHub().stats().participants == inTheRoom; }, 5000))
      << host.chatHub().stats().participants << " in the room";
  const std::size_t fdsBefore = entriesIn("/proc/self/fd"), threadsBefore = entriesIn("/proc/self/task");
  for (int i = 0; i < 300; ++i) {
    RawPeer p(port);
    ASSERT_TRUE(p.connected()) << i;
    if (i % 3 == 1) p.send(helloFrame("churn" + std::to_string(i)));  // joins, then vanishes
    if (i % 3 == 2) p.send(frame(0x0101, {1, 2, 3}, 40));              // half a message, then vanishes
  }
  ASSERT_TRUE(waitFor([&] { return host.chatHub().stats().pending == 0 && host.chatHub().stats().participants == inTheRoom; },
                      10000))
      << host.chatHub().stats().pending << " pending, " << host.chatHub().stats().participants << " in the room";
  // The server reaps finished connections on its watchdog tick.
  EXPECT_TRUE(waitFor([&] { return entriesIn("/proc/self/fd") <= fdsBefore + 2 && entriesIn("/proc/self/task") <= threadsBefore + 2; },
                      10000))
      << entriesIn("/proc/self/fd") << " descriptors (" << fdsBefore << " before), " << entriesIn("/proc/self/task")
      << " threads (" << threadsBefore << " before)";
  first.client.say("still here");
  EXPECT_TRUE(waitFor([&] { first.pump(); return !first.chats(wire::ChatKind::Public).empty(); }, 5000));
}
