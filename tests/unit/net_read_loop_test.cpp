// The shared read loop (net/read_loop.h) and connections read by it: one thread serves every
// socket; remove() returns only once a call under way is over; a reader that throws, or that
// is still in when the loop stops, is told it was dropped; connections on a loop deliver their
// bytes in order, have no reader thread, and end once each, whoever ends them.
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "net/connection.h"
#include "net/read_loop.h"
#include "net_loopback.h"
#include "net_threads.h"

using namespace huddle;
using namespace huddle::net;
using huddle::net::test::loopbackPair;

namespace {

// Waits (bounded: 5 s) until `done` holds.
template <typename F>
bool eventually(F done) {
  for (int i = 0; i < 500; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done();
}

// One end of a socket pair, read by the loop: keeps what came and on which thread.
struct PairReader : ReadLoop::Reader {
  PairReader() {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) throw std::runtime_error("socketpair");
    mine = fds[0];
    theirs = fds[1];
  }
  ~PairReader() override {
    ::close(mine);
    if (theirs >= 0) ::close(theirs);
  }
  bool onReadable() override {
    char buf[256];
    const ssize_t n = ::recv(mine, buf, sizeof buf, MSG_DONTWAIT);
    std::lock_guard lock(mutex);
    ++calls;
    threads.push_back(std::this_thread::get_id());
    if (n > 0) got.append(buf, static_cast<std::size_t>(n));
    if (n == 0) ended = true;
    if (inCall) inCall();
    return n != 0;
  }
  void onDropped(const std::string& why) override {
    std::lock_guard lock(mutex);
    dropped.push_back(why);
  }
  void write(const std::string& s) { ASSERT_EQ(::send(theirs, s.data(), s.size(), MSG_NOSIGNAL), ssize_t(s.size())); }
  std::string received() {
    std::lock_guard lock(mutex);
    return got;
  }
  int callCount() {
    std::lock_guard lock(mutex);
    return calls;
  }
  int mine = -1, theirs = -1;
  std::mutex mutex;
  std::string got;
  int calls = 0;
  bool ended = false;
  std::vector<std::thread::id> threads;
  std::vector<std::string> dropped;
  std::function<void()> inCall;  // run inside onReadable (with `mutex` held)
};

}  // namespace

TEST(ReadLoop, OneThreadServesEverySocketAndAnEndedOneIsLetGo) {
  ReadLoop loop;
  std::string error;
  ASSERT_TRUE(loop.start("test", error)) << error;
  std::vector<std::unique_ptr<PairReader>> readers;
  for (int i = 0; i < 8; ++i) {
    readers.push_back(std::make_unique<PairReader>());
    ASSERT_TRUE(loop.add(readers.back()->mine, readers.back().get()));
  }
  for (int i = 0; i < 8; ++i) readers[std::size_t(i)]->write("hello " + std::to_string(i));
  for (int i = 0; i < 8; ++i) {
    PairReader& r = *readers[std::size_t(i)];
    ASSERT_TRUE(eventually([&] { return r.received() == "hello " + std::to_string(i); })) << r.received();
  }
  std::thread::id loopThread;
  for (auto& r : readers) {
    std::lock_guard lock(r->mutex);
    for (auto id : r->threads) {
      if (loopThread == std::thread::id()) loopThread = id;
      EXPECT_EQ(id, loopThread);
    }
  }
  EXPECT_NE(loopThread, std::this_thread::get_id());
  // The peer hangs up: the reader sees the end, returns false and is called no more.
  PairReader& first = *readers[0];
  ::close(first.theirs);
  first.theirs = -1;
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(first.mutex);
    return first.ended;
  }));
  const int callsAtEnd = first.callCount();
  readers[1]->write("more");
  ASSERT_TRUE(eventually([&] { return readers[1]->received() == "hello 1more"; }));
  EXPECT_EQ(first.callCount(), callsAtEnd);
  loop.remove(&first);  // let go already: no error, no wait
  for (auto& r : readers) loop.remove(r.get());
  loop.stop();
  for (auto& r : readers) {
    std::lock_guard lock(r->mutex);
    EXPECT_TRUE(r->dropped.empty());  // all removed before the stop: none dropped
  }
}

// remove() from another thread while the reader is being called returns only once that call
// is over; from inside the call it returns at once (no deadlock), and the reader is not
// called again.
TEST(ReadLoop, RemoveWaitsForACallUnderWay) {
  ReadLoop loop;
  std::string error;
  ASSERT_TRUE(loop.start("test", error)) << error;
  PairReader slow;
  std::atomic<bool> entered{false}, left{false};
  slow.inCall = [&] {
    entered = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    left = true;
  };
  ASSERT_TRUE(loop.add(slow.mine, &slow));
  slow.write("x");
  ASSERT_TRUE(eventually([&] { return entered.load(); }));
  loop.remove(&slow);
  EXPECT_TRUE(left.load()) << "remove() returned while the reader was still being called";
  const int calls = slow.callCount();
  slow.write("y");
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(slow.callCount(), calls);

  PairReader self;
  self.inCall = [&] { loop.remove(&self); };
  ASSERT_TRUE(loop.add(self.mine, &self));
  self.write("a");
  ASSERT_TRUE(eventually([&] { return self.callCount() == 1; }));
  self.write("b");
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(self.callCount(), 1);
  EXPECT_EQ(self.received(), "a");
}

TEST(ReadLoop, AThrowingReaderIsDroppedAndTheOthersGoOn) {
  ReadLoop loop;
  std::string error;
  ASSERT_TRUE(loop.start("test", error)) << error;
  PairReader bad, good;
  bad.inCall = [] { throw std::runtime_error("boom"); };
  ASSERT_TRUE(loop.add(bad.mine, &bad));
  ASSERT_TRUE(loop.add(good.mine, &good));
  bad.write("x");
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(bad.mutex);
    return !bad.dropped.empty();
  }));
  {
    std::lock_guard lock(bad.mutex);
    ASSERT_EQ(bad.dropped.size(), 1u);
    EXPECT_EQ(bad.dropped[0], "reader: boom");
  }
  bad.write("y");
  good.write("fine");
  ASSERT_TRUE(eventually([&] { return good.received() == "fine"; }));
  EXPECT_EQ(bad.callCount(), 1);
  loop.remove(&good);
}

TEST(ReadLoop, StopDropsTheReadersStillInAndTakesNoMore) {
  ReadLoop loop;
  std::string error;
  ASSERT_TRUE(loop.start("test", error)) << error;
  PairReader a, b, c;
  ASSERT_TRUE(loop.add(a.mine, &a));
  ASSERT_TRUE(loop.add(b.mine, &b));
  loop.stop();
  EXPECT_FALSE(loop.running());
  for (PairReader* r : {&a, &b}) {
    std::lock_guard lock(r->mutex);
    ASSERT_EQ(r->dropped.size(), 1u);
    EXPECT_EQ(r->dropped[0], "the read loop stopped");
  }
  EXPECT_FALSE(loop.add(c.mine, &c));
  // And it starts again.
  ASSERT_TRUE(loop.start("test", error)) << error;
  ASSERT_TRUE(loop.add(c.mine, &c));
  c.write("again");
  ASSERT_TRUE(eventually([&] { return c.received() == "again"; }));
  loop.remove(&c);
}

// stop() tells each reader still in, one at a time: a remove() of the one being told waits
// until it has been, and a remove() of one not yet told takes it out (it is told nothing).
TEST(ReadLoop, RemoveDuringStopWaitsForTheDropUnderWay) {
  ReadLoop loop;
  std::string error;
  ASSERT_TRUE(loop.start("test", error)) << error;
  struct HeldDrop : PairReader {
    std::atomic<bool> entered{false}, release{false}, left{false};
    void onDropped(const std::string& why) override {
      entered = true;
      for (int i = 0; i < 500 && !release; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
      PairReader::onDropped(why);
      left = true;
    }
  };
  HeldDrop a, b;
  ASSERT_TRUE(loop.add(a.mine, &a));
  ASSERT_TRUE(loop.add(b.mine, &b));
  std::thread stopper([&] { loop.stop(); });
  ASSERT_TRUE(eventually([&] { return a.entered || b.entered; }));
  HeldDrop& told = a.entered ? a : b;
  HeldDrop& waiting = a.entered ? b : a;
  loop.remove(&waiting);  // not yet told: taken out at once
  std::atomic<bool> removed{false};
  std::thread remover([&] {
    loop.remove(&told);
    removed = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(removed.load()) << "remove() returned while its reader was being told it was dropped";
  told.release = true;
  remover.join();
  stopper.join();
  EXPECT_TRUE(told.left.load());
  EXPECT_FALSE(waiting.entered.load());
}

namespace {

// Keeps a connection's bytes and how it ended.
struct KeepingHandler : Connection::Handler {
  void onReceive(std::span<const std::uint8_t> bytes) override {
    std::lock_guard lock(mutex);
    received.insert(received.end(), bytes.begin(), bytes.end());
  }
  void onClosed(wire::Reason r, const std::string&) override {
    std::lock_guard lock(mutex);
    reason = r;
    ++closed;
  }
  std::size_t receivedBytes() {
    std::lock_guard lock(mutex);
    return received.size();
  }
  std::mutex mutex;
  base::ByteVec received;
  wire::Reason reason = wire::Reason::None;
  int closed = 0;
};

}  // namespace

// Six connections on one loop: each gets its client's 200 KB in order, no connection has a
// reader thread, and each ends once, the way it was ended: closed by its owner, by its peer,
// or by a final frame the peer reads before hanging up.
TEST(ReadLoop, ConnectionsOnALoopReadInOrderAndEndOnceEachWay) {
  ReadLoop loop;
  std::string error;
  ASSERT_TRUE(loop.start("test", error)) << error;
  constexpr int kConns = 6;
  constexpr std::size_t kBytes = 200 * 1024;
  std::vector<std::unique_ptr<TcpSocket>> clients;
  std::vector<std::unique_ptr<KeepingHandler>> handlers;
  std::vector<std::unique_ptr<Connection>> conns;
  Connection::Options options;
  options.readLoop = &loop;
  for (int i = 0; i < kConns; ++i) {
    auto [client, server] = loopbackPair();
    ASSERT_TRUE(client && server);
    clients.push_back(std::move(client));
    handlers.push_back(std::make_unique<KeepingHandler>());
    conns.push_back(std::make_unique<Connection>(std::move(server), options));
    ASSERT_TRUE(conns.back()->start(handlers.back().get()));
  }
  for (const auto& t : test::threadsOfThisProcess()) EXPECT_NE(t.name, "conn-read");
  std::vector<base::ByteVec> sent(kConns);
  for (int i = 0; i < kConns; ++i) {
    sent[std::size_t(i)].resize(kBytes);
    for (std::size_t k = 0; k < kBytes; ++k) sent[std::size_t(i)][k] = static_cast<std::uint8_t>(i * 31 + k * 7 + (k >> 10));
  }
  // Interleaved pieces, as many peers' bytes come.
  for (std::size_t at = 0; at < kBytes; at += 8192)
    for (int i = 0; i < kConns; ++i)
      ASSERT_TRUE(clients[std::size_t(i)]->sendAll(sent[std::size_t(i)].data() + at, std::min<std::size_t>(8192, kBytes - at)));
  for (int i = 0; i < kConns; ++i) {
    KeepingHandler& h = *handlers[std::size_t(i)];
    ASSERT_TRUE(eventually([&] { return h.receivedBytes() == kBytes; })) << i << ": " << h.receivedBytes();
    std::lock_guard lock(h.mutex);
    EXPECT_EQ(h.received, sent[std::size_t(i)]) << i;
  }
  // 0, 1: closed here. 2, 3: their peers hang up. 4, 5: a final frame, then the peer hangs up.
  conns[0]->close(wire::Reason::Kicked, "test");
  conns[1]->close(wire::Reason::Shutdown, "test");
  clients[2].reset();
  clients[3].reset();
  for (int i : {4, 5}) conns[std::size_t(i)]->sendFinal(base::makeBytes(base::ByteVec(100, std::uint8_t(i))), wire::Reason::Rejected, "bye");
  for (int i : {4, 5}) {
    std::vector<std::uint8_t> buf(256);
    std::size_t got = 0;
    for (int k = 0; k < 200 && got < 100; ++k) {
      if (clients[std::size_t(i)]->waitReadable(10) <= 0) continue;
      const int n = clients[std::size_t(i)]->recv(buf.data(), 256);
      if (n <= 0) break;
      got += std::size_t(n);
    }
    EXPECT_EQ(got, 100u);
    clients[std::size_t(i)].reset();
  }
  const wire::Reason want[kConns] = {wire::Reason::Kicked, wire::Reason::Shutdown, wire::Reason::IoEof,
                                     wire::Reason::IoEof,  wire::Reason::Rejected,   wire::Reason::Rejected};
  for (int i = 0; i < kConns; ++i) {
    ASSERT_TRUE(eventually([&] { return conns[std::size_t(i)]->finished(); })) << i;
    conns[std::size_t(i)]->join();
    KeepingHandler& h = *handlers[std::size_t(i)];
    std::lock_guard lock(h.mutex);
    EXPECT_EQ(h.closed, 1) << i;
    EXPECT_EQ(h.reason, want[i]) << i << ": " << wire::reasonName(h.reason);
  }
  conns.clear();
  EXPECT_TRUE(loop.running());
}

// A loop stopped under connections still open ends each of them (once), and their owners
// can join them.
TEST(ReadLoop, ConnectionsEndWhenTheirLoopStops) {
  ReadLoop loop;
  std::string error;
  ASSERT_TRUE(loop.start("test", error)) << error;
  auto [client, server] = loopbackPair();
  ASSERT_TRUE(client && server);
  KeepingHandler handler;
  Connection::Options options;
  options.readLoop = &loop;
  Connection conn(std::move(server), options);
  ASSERT_TRUE(conn.start(&handler));
  loop.stop();
  ASSERT_TRUE(eventually([&] { return conn.finished(); }));
  conn.join();
  std::lock_guard lock(handler.mutex);
  EXPECT_EQ(handler.closed, 1);
  EXPECT_EQ(handler.reason, wire::Reason::Internal);
  // A connection started on a stopped loop keeps a reader thread of its own.
  auto [client2, server2] = loopbackPair();
  ASSERT_TRUE(client2 && server2);
  KeepingHandler handler2;
  Connection conn2(std::move(server2), options);
  ASSERT_TRUE(conn2.start(&handler2));
  ASSERT_TRUE(client2->sendAll("hi", 2));
  ASSERT_TRUE(eventually([&] { return handler2.receivedBytes() == 2; }));
}

// A connection destroyed on the loop's own thread (by another connection's handler) does not
// wait for the loop to read its close: that would never come.
TEST(ReadLoop, AConnectionDestroyedOnTheLoopsThreadDoesNotWaitForIt) {
  ReadLoop loop;
  std::string error;
  ASSERT_TRUE(loop.start("test", error)) << error;
  Connection::Options options;
  options.readLoop = &loop;
  auto [clientA, serverA] = loopbackPair();
  auto [clientB, serverB] = loopbackPair();
  ASSERT_TRUE(clientA && serverA && clientB && serverB);
  KeepingHandler handlerB;
  auto connB = std::make_unique<Connection>(std::move(serverB), options);
  ASSERT_TRUE(connB->start(&handlerB));
  struct Dropper : KeepingHandler {
    std::unique_ptr<Connection>* victim = nullptr;
    std::atomic<bool> dropped{false};
    void onReceive(std::span<const std::uint8_t> bytes) override {
      KeepingHandler::onReceive(bytes);
      victim->reset();
      dropped = true;
    }
  } handlerA;
  handlerA.victim = &connB;
  Connection connA(std::move(serverA), options);
  ASSERT_TRUE(connA.start(&handlerA));
  ASSERT_TRUE(clientA->sendAll("x", 1));
  ASSERT_TRUE(eventually([&] { return handlerA.dropped.load(); }));
  {
    std::lock_guard lock(handlerB.mutex);
    EXPECT_EQ(handlerB.closed, 1);
  }
  ASSERT_TRUE(clientA->sendAll("y", 1));  // the loop goes on
  ASSERT_TRUE(eventually([&] { return handlerA.receivedBytes() == 2; }));
}
