// What both hubs share (net/peer_table.h), driven with no sockets: nothing is handed to a
// link and no owner callback runs while the hub's lock is held, and a link that calls back
// into the hub from send() (as a real one may, from its own threads) cannot deadlock it.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "net/chat_hub.h"
#include "net/screen_hub.h"

using namespace huddle;
using namespace huddle::net;

namespace {

// Asks from another thread whether `hub`'s lock is free right now: if the calling thread held
// it, the other one could not take it. Derived only to reach the lock.
template <typename Hub>
struct Probed : Hub {
  using Hub::Hub;
  bool lockFree() {
    bool free = false;
    std::thread other([&] {
      if (this->m_mutex.try_lock()) {
        free = true;
        this->m_mutex.unlock();
      }
    });
    other.join();
    return free;
  }
};

// Counts every call the hub makes on it, and those made with the hub's lock held.
class ProbeLink : public PeerLink {
 public:
  explicit ProbeLink(std::function<bool()> lockFree, std::function<void()> reenter = {})
      : m_lockFree(std::move(lockFree)), m_reenter(std::move(reenter)) {}
  bool send(base::Bytes) override { return visit(); }
  void close(wire::Reason, const std::string&) override { visit(); }
  void closeAfterFlush(wire::Reason, const std::string&) override { visit(); }
  void sendFinal(base::Bytes, wire::Reason, const std::string&) override { visit(); }
  std::string address() const override { return "127.0.0.9:1"; }
  std::uint32_t ipv4() const override { return 0x7F000009; }

  std::atomic<int> calls{0}, underLock{0};

 private:
  bool visit() {
    ++calls;
    const bool free = m_lockFree();
    if (!free) ++underLock;
    else if (m_reenter) m_reenter();  // with the lock held this would deadlock: counted instead
    return true;
  }
  std::function<bool()> m_lockFree;
  std::function<void()> m_reenter;
};

template <typename M>
void feed(ServerHub& hub, PeerId id, const M& msg) {
  hub.receive(id, base::view(wire::encodeFrame(msg)), 1'000'000'000);
}

}  // namespace

TEST(PeerTable, TheChatHubSendsLogsAndCallsOutOnlyAfterItsLock) {
  std::atomic<int> leavesUnderLock{0}, leaves{0};
  Probed<ChatHub>* probe = nullptr;
  ChatHubConfig config;
  config.onLeave = [&](std::uint32_t) {
    ++leaves;
    if (!probe->lockFree()) ++leavesUnderLock;
  };
  Probed<ChatHub> hub(config);
  probe = &hub;
  auto lockFree = [&] { return hub.lockFree(); };
  // Bob's link asks the hub a question from inside send(), as a link's own thread might.
  auto bob = std::make_shared<ProbeLink>(lockFree, [&] { (void)hub.users(); });
  auto carol = std::make_shared<ProbeLink>(lockFree);
  const PeerId bobId = hub.attach(bob, 1'000'000'000), carolId = hub.attach(carol, 1'000'000'000);
  feed(hub, bobId, wire::Hello{.port = wire::PortKind::Chat, .name = "bob"});
  feed(hub, carolId, wire::Hello{.port = wire::PortKind::Chat, .name = "carol"});
  wire::Say say;
  say.text = "hello";
  feed(hub, bobId, say);
  wire::PrivateSay whisper;
  whisper.to = "carol";
  whisper.text = "psst";
  feed(hub, bobId, whisper);
  hub.setSharing(2, true);
  hub.tick(1'000'000'000 + wire::kHeartbeatIntervalUs + 1);  // pings
  ASSERT_TRUE(hub.kick("carol", ""));
  hub.detach(carolId, wire::Reason::Kicked, "kicked");
  hub.shutdown("bye");
  EXPECT_GT(bob->calls.load(), 8);
  EXPECT_GT(carol->calls.load(), 4);
  EXPECT_EQ(bob->underLock.load(), 0);
  EXPECT_EQ(carol->underLock.load(), 0);
  EXPECT_EQ(leaves.load(), 1);
  EXPECT_EQ(leavesUnderLock.load(), 0);
}

TEST(PeerTable, TheScreenHubSerialisesUpdatesOnlyAfterItsLock) {
  std::atomic<int> sharingUnderLock{0}, sharingCalls{0};
  Probed<ScreenHub>* probe = nullptr;
  Probed<ScreenHub> hub(
      ScreenHubConfig{},
      [](std::uint64_t token, ScreenSeat& seat) {
        seat.participantId = static_cast<std::uint32_t>(token);
        seat.name = "p" + std::to_string(token);
        return true;
      },
      [&](std::uint32_t, bool) {
        ++sharingCalls;
        if (!probe->lockFree()) ++sharingUnderLock;
      });
  probe = &hub;
  auto lockFree = [&] { return hub.lockFree(); };
  auto viewer = std::make_shared<ProbeLink>(lockFree, [&] { (void)hub.stats(); });
  const PeerId viewerId = hub.attach(viewer, 1'000'000'000);
  feed(hub, viewerId, wire::Hello{.port = wire::PortKind::Screen, .name = "viewer", .token = 7});
  std::string error;
  const std::uint32_t stream = hub.startLocalStream(1, "host", "screen", 128, 64, 64, error);
  ASSERT_NE(stream, 0u) << error;
  wire::Subscribe sub;
  sub.streamId = stream;
  sub.credits = 2;
  feed(hub, viewerId, sub);
  wire::TileBatch frame;
  frame.seq = 1;
  frame.widthPx = 128;
  frame.heightPx = 64;
  frame.tileSizePx = 64;
  frame.tiles.resize(1);
  hub.publishLocal(stream, frame);
  hub.drained(viewerId, 1);
  hub.endStream(stream, "done");
  hub.shutdown("bye");
  const ScreenHubStats stats = hub.stats();
  EXPECT_GE(stats.updatesSent, 1u);
  EXPECT_GT(stats.updateBytesSent, 0u);  // counted as the update was serialised, after the lock
  EXPECT_GT(viewer->calls.load(), 5);
  EXPECT_EQ(viewer->underLock.load(), 0);
  EXPECT_EQ(sharingCalls.load(), 2);  // started, ended
  EXPECT_EQ(sharingUnderLock.load(), 0);
}
