// How a viewer (ScreenSession, the app's own) gives credits back, seen from a scripted host
// that sends updates by hand: while they come close together, every other credit is held and
// goes with the next in one message (half the messages a host reads per viewer); none is ever
// lost, and one held when the updates stop goes back alone soon after.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <vector>

#include "net/screen_credits.h"
#include "net/wire/screen_messages.h"
#include "one_client_host.h"
#include "test_support.h"

using namespace huddle;
using namespace huddle::test;

namespace {

std::int64_t anyFrame(std::uint16_t, bool) { return 1 << 20; }

// Announces one 320x200 stream; counts the credits it is given and the messages they came in.
class CreditCountingHost : public OneClientHost {
 public:
  CreditCountingHost() : OneClientHost(&anyFrame, "vic", "host") {}
  void onWelcomed() override {
    wire::StreamAnnounce a;
    a.info = {1, 1, "host", "Screen", 320, 200, 64};
    m_link->send(wire::encodeFrame(a));
  }
  void onFrame(const wire::Frame& f) override {
    if (f.type == static_cast<std::uint16_t>(wire::ScreenType::Subscribe)) {
      wire::Subscribe m;
      if (wire::decodePayload(f.payload, m)) m_credits += m.credits;
    } else if (f.type == static_cast<std::uint16_t>(wire::ScreenType::UpdateRequest)) {
      wire::UpdateRequest m;
      if (wire::decodePayload(f.payload, m)) {
        m_credits += m.credits;
        m_returned.push_back(m.credits);
      }
    }
  }
  // Sends update `seq` if the viewer gave a credit for it; false if it has none left. With
  // `slowMs`, its bytes come in two halves that far apart, as over a link busy carrying them.
  bool sendUpdate(std::uint64_t seq, int slowMs = 0) {
    std::unique_lock lock(m_mutex);
    if (!m_link || m_credits == 0) return false;
    --m_credits;
    wire::TileBatch b;
    b.streamId = 1;
    b.seq = seq;
    b.widthPx = 320;
    b.heightPx = 200;
    base::EncodedTile t;
    t.tx = static_cast<std::uint16_t>(seq % 5);
    t.solidBgrx = 0x102030u * static_cast<std::uint32_t>(seq);
    b.tiles.push_back(t);
    base::Bytes frame = wire::encodeTileBatch(wire::ScreenType::Update, b);
    if (slowMs == 0) return m_link->send(frame);
    const auto half = static_cast<std::ptrdiff_t>(frame->size() / 2);
    std::shared_ptr<net::PeerLink> link = m_link;
    lock.unlock();  // the viewer's credits come in meanwhile
    if (!link->send(base::makeBytes(base::ByteVec(frame->begin(), frame->begin() + half)))) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(slowMs));
    return link->send(base::makeBytes(base::ByteVec(frame->begin() + half, frame->end())));
  }
  // The credits of each UpdateRequest so far, in order.
  std::vector<int> returned() {
    std::lock_guard lock(m_mutex);
    return m_returned;
  }
  int returnedTotal() {
    int n = 0;
    for (int c : returned()) n += c;
    return n;
  }

 private:
  int m_credits = 0;           // (m_mutex) the viewer's credits not yet used
  std::vector<int> m_returned;  // (m_mutex)
};

}  // namespace

// The app's viewer watching the scripted host's stream.
class ScreenCredits : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    ASSERT_TRUE(server.start(0, error)) << error;
    ASSERT_TRUE(startViewer(viewer, server, 1));
    view = viewer.watch(1);
    ASSERT_TRUE(view);
  }
  void TearDown() override {
    viewer.leave();
    server.stop(0);
  }
  CreditCountingHost script;
  net::TcpServer server{script, net::TcpServer::Options{}};
  session::ScreenSession viewer;
  std::shared_ptr<session::StreamView> view;
};

TEST_F(ScreenCredits, AViewerOfAFastStreamReturnsCreditsInPairsAndLosesNone) {
  // 30 updates 15 ms apart (a fast stream), each sent once the viewer has a credit for it.
  constexpr int kUpdates = 30;
  for (int seq = 1; seq <= kUpdates; ++seq) {
    ASSERT_TRUE(waitFor([&] { return script.sendUpdate(static_cast<std::uint64_t>(seq)); }, 5000)) << seq;
    std::this_thread::sleep_for(std::chrono::milliseconds(15));
  }
  ASSERT_TRUE(waitFor([&] { return view->lastSeq() == kUpdates; }, 5000)) << view->lastSeq();
  // Every credit comes back: the last held one too, on its own, after the hold.
  ASSERT_TRUE(waitFor([&] { return script.returnedTotal() == kUpdates; }, 5000)) << script.returnedTotal();
  std::vector<int> returned = script.returned();
  int pairs = 0;
  for (int c : returned) {
    EXPECT_GE(c, 1);
    EXPECT_LE(c, 2);
    pairs += c == 2;
  }
  // Updates wait to be decoded now and then on a busy machine (those go back at once), so
  // not every other one pairs; most do.
  EXPECT_GE(pairs, kUpdates / 4) << "of " << returned.size() << " messages";
  EXPECT_LT(returned.size(), std::size_t(kUpdates));
  // Nothing more comes once all are back (none returned twice).
  std::this_thread::sleep_for(std::chrono::microseconds(2 * net::kCreditHoldUs));
  EXPECT_EQ(script.returnedTotal(), kUpdates);
}

// Updates further apart than any pair (a paced slow link's, whose credits the host waits on)
// are answered at once. Each round sends one such update, then another soon after it without
// waiting: had the first been held, the two credits would come in one message.
TEST_F(ScreenCredits, AnUpdateFarFromTheLastIsAnsweredAtOnce) {
  constexpr int kRounds = 3;
  std::uint64_t seq = 0;
  for (int round = 1; round <= kRounds; ++round) {
    std::this_thread::sleep_for(std::chrono::microseconds(net::kCreditPairGapUs + 20'000));
    // (Once the subscription, and any credit still out, reached the host.)
    ASSERT_TRUE(waitFor([&] { return script.sendUpdate(seq + 1); }, 5000)) << round;
    ++seq;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    ASSERT_TRUE(script.sendUpdate(++seq)) << round;
    // Both back (the second maybe held, then alone) before the next round's pause.
    ASSERT_TRUE(waitFor([&] { return script.returnedTotal() == 2 * round; }, 5000)) << round;
  }
  EXPECT_EQ(script.returned(), std::vector<int>(2 * kRounds, 1));
}

// An update the link took long to carry (its second half came 20 ms after its first, right
// behind the update before) is answered at once, though it came close to the last: the host keeps such a link full with a second
// update behind it, and would have none to send if this credit were held. Had it been held,
// the next update's credit would come with it.
TEST_F(ScreenCredits, AnUpdateTheLinkTookLongToCarryIsAnsweredAtOnce) {
  constexpr int kRounds = 3;
  std::uint64_t seq = 0;
  for (int round = 1; round <= kRounds; ++round) {
    std::this_thread::sleep_for(std::chrono::microseconds(net::kCreditPairGapUs + 20'000));
    // Far from the last: answered at once. (Sent once the subscription reached the host.)
    ASSERT_TRUE(waitFor([&] { return script.sendUpdate(seq + 1); }, 5000)) << round;
    ++seq;
    ASSERT_TRUE(script.sendUpdate(++seq, 20)) << round;
    // Once that one is decoded (so its credit is not sent at once for a backlog) and its
    // credit is due: close behind it, so this one is held.
    ASSERT_TRUE(waitFor([&] { return view->lastSeq() == seq; }, 5000)) << round;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    ASSERT_TRUE(waitFor([&] { return script.sendUpdate(seq + 1); }, 5000)) << round;
    ++seq;
    ASSERT_TRUE(waitFor([&] { return script.returnedTotal() == 3 * round; }, 5000)) << round;
  }
  EXPECT_EQ(script.returned(), std::vector<int>(3 * kRounds, 1));
  EXPECT_EQ(view->lastSeq(), seq);
}
