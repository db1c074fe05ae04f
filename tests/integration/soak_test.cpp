// Chat fan-out soak (docs/SECURITY.md s.10.2): 32 clients over TLS each say
// 20 messages a second for 20 s through one host. Nothing may be lost or duplicated, every
// client must see one and the same order, and each sender's messages in the order sent.
// Delivery latency is reported as figures (not asserted: the machine is shared).
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "app/session/stream_stats.h"
#include "net/base/clock.h"
#include "test_support.h"

using namespace huddle;
using namespace huddle::test;

TEST(Soak, ThirtyTwoClientsOverTlsLoseNothingAndAgreeOnTheOrder) {
  constexpr int kClients = 32, kRatePerSec = 20, kSeconds = 20;
  std::string error;
  std::shared_ptr<const net::HostIdentity> identity = net::HostIdentity::generate(error);
  ASSERT_TRUE(identity) << error;
  session::HostConfig config = testHostConfig();
  config.identity = identity;
  session::HostSession host;
  ASSERT_TRUE(host.start(config, error)) << error;

  struct Member {
    net::ChatClient client;
    std::vector<std::uint64_t> order;           // seqs of public messages, as received
    std::map<int, int> lastFromSender;          // per-sender FIFO check
    std::vector<double> latencyMs;
    bool fifoBroken = false;
    bool joined = false;
  };
  std::vector<std::unique_ptr<Member>> members;
  for (int i = 0; i < kClients; ++i) {
    members.push_back(std::make_unique<Member>());
    net::ChatClientConfig c;
    c.port = host.chatPort();
    c.name = "soak" + std::to_string(i);
    c.tls.emplace();
    c.tls->pin = identity->fingerprint();
    c.tls->pinBytes = c.tls->pin.size();
    members.back()->client.start(c);
  }
  auto pump = [&](Member& m) {
    for (auto& ev : m.client.events().drain()) {
      if (ev.kind == net::ChatClientEvent::Kind::Connected) m.joined = true;
      if (ev.kind != net::ChatClientEvent::Kind::Chat || ev.chat.kind != wire::ChatKind::Public) continue;
      if (ev.chat.flags & wire::ChatEvent::kFlagHistory) continue;
      m.order.push_back(ev.chat.seq);
      // "sender/index/sentUs"
      int sender = 0, index = 0;
      long long sentUs = 0;
      if (std::sscanf(ev.chat.text.c_str(), "%d/%d/%lld", &sender, &index, &sentUs) == 3) {
        auto [it, fresh] = m.lastFromSender.emplace(sender, index);
        if (!fresh) {
          if (index != it->second + 1) m.fifoBroken = true;
          it->second = index;
        } else if (index != 0) {
          m.fifoBroken = true;
        }
        m.latencyMs.push_back(static_cast<double>(base::wallUs() - sentUs) / 1e3);
      }
    }
  };
  ASSERT_TRUE(waitFor([&] {
    bool all = true;
    for (auto& m : members) pump(*m), all = all && m->joined;
    return all;
  }, 20000));
  ASSERT_TRUE(waitFor([&] { return host.chatHub().users().size() == kClients + 1; }, 10000));

  // Each sender on its own thread at its own pace; the main thread keeps everyone read.
  std::atomic<bool> sendFailed{false};
  std::vector<std::thread> senders;
  for (int s = 0; s < kClients; ++s) {
    senders.emplace_back([&, s] {
      const auto start = std::chrono::steady_clock::now();
      for (int i = 0; i < kRatePerSec * kSeconds; ++i) {
        std::this_thread::sleep_until(start + std::chrono::microseconds(1'000'000LL * i / kRatePerSec));
        char text[64];
        std::snprintf(text, sizeof text, "%d/%d/%lld", s, i, static_cast<long long>(base::wallUs()));
        if (!members[static_cast<std::size_t>(s)]->client.say(text)) sendFailed = true;
      }
    });
  }
  const std::size_t expected = std::size_t(kClients) * kRatePerSec * kSeconds;
  auto everyoneHasAll = [&] {
    for (auto& m : members) pump(*m);
    for (auto& m : members)
      if (m->order.size() < expected) return false;
    return true;
  };
  // Bounded: the senders take kSeconds; delivery gets 40 s more before the checks below.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(kSeconds + 40);
  while (!everyoneHasAll() && !sendFailed.load() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  for (auto& t : senders) t.join();
  everyoneHasAll();
  EXPECT_FALSE(sendFailed.load());

  std::vector<double> all;
  for (auto& m : members) {
    EXPECT_EQ(m->order.size(), expected) << "lost or duplicated";
    EXPECT_EQ(m->order, members[0]->order) << "a different order";
    EXPECT_TRUE(std::adjacent_find(m->order.begin(), m->order.end(), std::greater_equal<>()) == m->order.end())
        << "seqs not increasing";
    EXPECT_FALSE(m->fifoBroken) << "a sender's messages out of order";
    all.insert(all.end(), m->latencyMs.begin(), m->latencyMs.end());
  }
  std::printf("[figure] soak: %d clients x %d msg/s x %d s over TLS: %zu messages, %zu deliveries; "
              "latency p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
              kClients, kRatePerSec, kSeconds, expected, all.size(), session::percentile(all, 50),
              session::percentile(all, 99), all.empty() ? 0.0 : *std::max_element(all.begin(), all.end()));
  for (auto& m : members) m->client.leave();
  host.stop();
}
