// Self-checking tests of the SDL_net workarounds (docs/SECURITY.md s.6): the recovered fd,
// the raised backlog, SIGPIPE, the fd cap, connects that cannot freeze the caller and leave
// no thread behind, and the watchdog that frees a writer blocked on a peer that stopped reading.
#include <gtest/gtest.h>

#include <SDL2/SDL_net.h>
#include <arpa/inet.h>
#include <csignal>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "net/base/clock.h"
#include "net/connection.h"
#include "net/socket.h"
#include "net/wire/messages.h"
#include "net_loopback.h"
#include "net_threads.h"

using namespace huddle;
using namespace huddle::net;
using huddle::net::test::loopbackPair;

namespace {

void initOrDie() {
  std::string error;
  ASSERT_TRUE(initNetwork(error)) << error;
}

// A raw non-blocking loopback connect; returns the fd (the caller closes it).
int rawConnectNonBlocking(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  return fd;
}

// Counts connects that complete within `waitMs` while nobody accepts.
int completedConnects(std::uint16_t port, int attempts, int waitMs) {
  std::vector<int> fds;
  for (int i = 0; i < attempts; ++i) fds.push_back(rawConnectNonBlocking(port));
  std::this_thread::sleep_for(std::chrono::milliseconds(waitMs));
  int done = 0;
  for (int fd : fds) {
    pollfd p{fd, POLLOUT, 0};
    int err = 0;
    socklen_t len = sizeof err;
    if (::poll(&p, 1, 0) == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0) ++done;
    ::close(fd);
  }
  return done;
}

struct NullHandler : Connection::Handler {
  void onReceive(std::span<const std::uint8_t>) override {}
  void onClosed(wire::Reason r, const std::string&) override { reason = r; }
  std::atomic<wire::Reason> reason{wire::Reason::None};
};

}  // namespace

TEST(Socket, ProcessSetupIgnoresSigpipeAndCapsDescriptors) {
  initOrDie();
  struct sigaction sa {};
  sigaction(SIGPIPE, nullptr, &sa);
  EXPECT_EQ(sa.sa_handler, SIG_IGN);
  rlimit lim{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &lim), 0);
  EXPECT_LE(lim.rlim_cur, 1024u);  // select() in SDLNet_CheckSockets aborts at fd >= 1024
}

TEST(Socket, RecoveredDescriptorMatchesTheKernelsView) {
  initOrDie();
  TcpListener listener;
  std::string error;
  ASSERT_TRUE(listener.open(0, 128, error)) << error;
  ASSERT_NE(listener.port(), 0);
  ConnectResult c = connectTcp("127.0.0.1", listener.port(), 2000);
  ASSERT_TRUE(c.socket) << c.error;
  auto server = listener.accept(2000);
  ASSERT_TRUE(server);
  for (TcpSocket* s : {c.socket.get(), server.get()}) {
    ASSERT_GE(s->fd(), 0);
    sockaddr_in peer{};
    socklen_t len = sizeof peer;
    ASSERT_EQ(getpeername(s->fd(), reinterpret_cast<sockaddr*>(&peer), &len), 0);
    EXPECT_EQ(peer.sin_addr.s_addr, htonl(INADDR_LOOPBACK));
  }
  // Each side's peer port is the other side's local port.
  sockaddr_in clientLocal{}, serverPeer{};
  socklen_t len = sizeof clientLocal;
  getsockname(c.socket->fd(), reinterpret_cast<sockaddr*>(&clientLocal), &len);
  len = sizeof serverPeer;
  getpeername(server->fd(), reinterpret_cast<sockaddr*>(&serverPeer), &len);
  EXPECT_EQ(clientLocal.sin_port, serverPeer.sin_port);
  EXPECT_EQ(c.socket->peerAddress(), "127.0.0.1:" + std::to_string(listener.port()));
}

TEST(Socket, DescriptorCheckRejectsAWrongLayout) {
  initOrDie();
  // A fake "socket" whose channel field is a plain file: the check must refuse it.
  int fileFd = ::open("/dev/null", O_RDONLY);
  struct {
    int ready;
    int channel;
    IPaddress remote, local;
    int sflag;
  } fake{0, fileFd, {}, {}, 0};
  EXPECT_EQ(sdlnetFd(reinterpret_cast<_TCPsocket*>(&fake)), -1);
  fake.sflag = 1;
  EXPECT_EQ(sdlnetFd(reinterpret_cast<_TCPsocket*>(&fake)), -1);
  ::close(fileFd);
}

TEST(Socket, BacklogIsRaisedAboveSdlnetsFive) {
  initOrDie();
  // Nobody accepts: only backlog+1 connections can complete. SDL_net's 5 would allow 6.
  TcpListener listener;
  std::string error;
  ASSERT_TRUE(listener.open(0, 128, error)) << error;
  EXPECT_GE(completedConnects(listener.port(), 24, 300), 24);
  // Control: the same probe against SDL_net's own backlog of 5 sees the queue fill up.
  TcpListener small;
  ASSERT_TRUE(small.open(0, 5, error)) << error;
  EXPECT_LT(completedConnects(small.port(), 24, 300), 24);
}

TEST(Socket, ConnectRefusedSaysSo) {
  initOrDie();
  TcpListener listener;
  std::string error;
  ASSERT_TRUE(listener.open(0, 128, error));
  std::uint16_t port = listener.port();
  listener.close();
  ConnectResult c = connectTcp("127.0.0.1", port, 2000);
  EXPECT_FALSE(c.socket);
  EXPECT_EQ(c.error, "Failed to connect to 127.0.0.1:" + std::to_string(port) +
                         ": connection refused (is a host running there?)");
}

// A raw listener with a backlog of 0 that never accepts: once its queue is full, further
// SYNs are dropped and a connect() hangs, as to an unreachable host.
struct HungListener {
  HungListener() {
    lfd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok = ::bind(lfd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0 && ::listen(lfd, 0) == 0;
    socklen_t len = sizeof sa;
    getsockname(lfd, reinterpret_cast<sockaddr*>(&sa), &len);
    port = ntohs(sa.sin_port);
    for (int i = 0; i < 4; ++i) fillers.push_back(rawConnectNonBlocking(port));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ~HungListener() {
    for (int fd : fillers) ::close(fd);
    ::close(lfd);
  }
  int lfd = -1;
  bool ok = false;
  std::uint16_t port = 0;
  std::vector<int> fillers;
};

// Threads of this process right now.
int threadCount() { return static_cast<int>(test::threadsOfThisProcess().size()); }

TEST(Socket, ConnectThatHangsIsAbandonedAtTheDeadline) {
  initOrDie();
  HungListener hung;
  ASSERT_TRUE(hung.ok);
  std::int64_t start = base::monoUs();
  ConnectResult c = connectTcp("127.0.0.1", hung.port, 400);
  std::int64_t tookMs = (base::monoUs() - start) / 1000;
  EXPECT_FALSE(c.socket);
  EXPECT_NE(c.error.find("timed out"), std::string::npos) << c.error;
  EXPECT_LT(tookMs, 5000);  // bounded by the deadline, not by the kernel's ~2 min retry

  std::atomic<bool> cancel{true};
  c = connectTcp("127.0.0.1", hung.port, 60000, &cancel);
  EXPECT_NE(c.error.find("cancelled"), std::string::npos) << c.error;
}

TEST(Socket, AConnectLeavesNoThreadBehind) {
  initOrDie();
  HungListener hung;
  ASSERT_TRUE(hung.ok);
  // A sanitizer's runtime starts a thread of its own with the first thread a program makes
  // (TSan does): make one first, so only ours are counted.
  std::thread([] {}).join();
  const int before = threadCount();
  ASSERT_GT(before, 0);
  // Given up at its deadline and cancelled from another thread while it waits: either way,
  // nothing is still connecting once the call has returned.
  ConnectResult c = connectTcp("127.0.0.1", hung.port, 300);
  EXPECT_NE(c.error.find("timed out"), std::string::npos) << c.error;
  EXPECT_EQ(threadCount(), before);
  std::atomic<bool> cancel{false};
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    cancel = true;
  });
  c = connectTcp("127.0.0.1", hung.port, 60000, &cancel);
  canceller.join();
  EXPECT_NE(c.error.find("cancelled"), std::string::npos) << c.error;
  EXPECT_EQ(threadCount(), before);
}

TEST(Socket, AConnectedClientSocketCarriesDataBothWays) {
  initOrDie();
  TcpListener listener;
  std::string error;
  ASSERT_TRUE(listener.open(0, 128, error)) << error;
  ConnectResult c = connectTcp("localhost", listener.port(), 2000);  // resolved, then connected
  ASSERT_TRUE(c.socket) << c.error;
  auto server = listener.accept(2000);
  ASSERT_TRUE(server);
  int nodelay = 0;
  socklen_t len = sizeof nodelay;
  ASSERT_EQ(getsockopt(c.socket->fd(), IPPROTO_TCP, TCP_NODELAY, &nodelay, &len), 0);
  EXPECT_NE(nodelay, 0);  // as SDL_net sets on the sockets it opens
  EXPECT_EQ(fcntl(c.socket->fd(), F_GETFL) & O_NONBLOCK, 0);  // blocking again for the threads
  const char hello[] = "hello";
  ASSERT_TRUE(c.socket->sendAll(hello, sizeof hello));
  char got[sizeof hello] = {};
  ASSERT_EQ(server->waitReadable(2000), 1);
  ASSERT_EQ(server->recv(got, sizeof got), static_cast<int>(sizeof got));
  EXPECT_STREQ(got, hello);
  ASSERT_TRUE(server->sendAll("ok", 2));
  ASSERT_EQ(c.socket->waitReadable(2000), 1);
  char back[2] = {};
  ASSERT_EQ(c.socket->recv(back, 2), 2);
  EXPECT_EQ(std::string(back, 2), "ok");
  server.reset();  // the host hangs up: readable, then end of stream
  ASSERT_EQ(c.socket->waitReadable(2000), 1);
  EXPECT_EQ(c.socket->recv(back, 2), 0);
}

TEST(Connection, WatchdogFreesAWriterBlockedOnAPeerThatStoppedReading) {
  auto [client, server] = loopbackPair();
  ASSERT_TRUE(client && server);
  // The client never reads. The server queues far more than the socket buffers hold.
  Connection::Options options;
  options.sendStallUs = 300'000;
  options.maxQueuedBytes = 64 * 1024 * 1024;
  NullHandler handler;
  Connection conn(std::move(server), options);
  ASSERT_TRUE(conn.start(&handler));
  auto chunk = base::makeBytes(base::ByteVec(1 << 20, 0x55));
  for (int i = 0; i < 32; ++i) conn.send(chunk);
  // Bounded loop: tick the watchdog until the connection gives up.
  for (int i = 0; i < 200 && !conn.finished(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
    conn.checkDeadlines(base::monoUs());
  }
  ASSERT_TRUE(conn.finished());
  EXPECT_EQ(handler.reason.load(), wire::Reason::SendStall);
  EXPECT_LT(conn.bytesOut(), 32u << 20);
  conn.join();
}

// The stall timer times progress, not the whole send: a reader that takes one large send
// slowly but steadily (longer in all than the stall limit) keeps its connection; once it stops
// reading, it is dropped.
TEST(Connection, ASlowButSteadyReaderIsKeptAndOneThatStopsIsDropped) {
  auto [client, server] = loopbackPair(16 * 1024);
  ASSERT_TRUE(client && server);
  Connection::Options options;
  options.sendStallUs = 1'000'000;
  options.socketSendBufferBytes = 16 * 1024;
  options.maxQueuedBytes = 64 * 1024 * 1024;
  NullHandler handler;
  Connection conn(std::move(server), options);
  ASSERT_TRUE(conn.start(&handler));
  // One frame, one send: about 4 s at the reader's pace below, four times the stall limit.
  constexpr std::size_t kBytes = 3 << 20;
  ASSERT_TRUE(conn.send(base::makeBytes(base::ByteVec(kBytes, 0x55))));
  std::atomic<bool> reading{true};
  std::atomic<std::size_t> received{0};
  std::thread reader([&] {
    std::vector<std::uint8_t> buf(16 * 1024);
    // Bounded: 16 KiB every 20 ms until everything came, the connection ended, or 60 s passed.
    for (int i = 0; i < 3000 && reading && received < kBytes; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      if (client->waitReadable(0) <= 0) continue;
      const int n = client->recv(buf.data(), static_cast<int>(buf.size()));
      if (n <= 0) break;
      received += static_cast<std::size_t>(n);
    }
  });
  // The watchdog, ticking while the reader keeps up (bounded: 60 s).
  for (int i = 0; i < 2400 && received < kBytes && !conn.closing(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
    conn.checkDeadlines(base::monoUs());
  }
  reader.join();
  EXPECT_EQ(received.load(), kBytes);
  EXPECT_FALSE(conn.closing());
  EXPECT_EQ(handler.reason.load(), wire::Reason::None);
  // Now it stops reading while more is sent: dropped for no progress.
  for (int i = 0; i < 8; ++i) conn.send(base::makeBytes(base::ByteVec(1 << 20, 0x66)));
  for (int i = 0; i < 400 && !conn.finished(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
    conn.checkDeadlines(base::monoUs());
  }
  ASSERT_TRUE(conn.finished());
  EXPECT_EQ(handler.reason.load(), wire::Reason::SendStall);
  conn.join();
}

TEST(Connection, QueueOverflowClosesAsSlowConsumer) {
  auto [client, server] = loopbackPair();
  ASSERT_TRUE(client && server);
  Connection::Options options;
  options.maxQueuedMessages = 4;
  NullHandler handler;
  Connection conn(std::move(server), options);
  // Not started: nothing drains the queue, so the fifth frame overflows it.
  auto frame = base::makeBytes(base::ByteVec(10, 1));
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(conn.send(frame));
  EXPECT_FALSE(conn.send(frame));
  EXPECT_TRUE(conn.closing());
}

TEST(Connection, ReadLimitReadsNoFasterThanAsked) {
  auto [client, server] = loopbackPair();
  ASSERT_TRUE(client && server);
  Connection::Options options;
  options.readLimitBytesPerSec = 100'000;
  NullHandler handler;
  Connection conn(std::move(server), options);
  // Timed from before the reader starts: it may read before conn.start() returns.
  const std::int64_t start = base::monoUs();
  ASSERT_TRUE(conn.start(&handler));
  // The peer offers 4 MB at once, from a thread (its send blocks when the buffers are full).
  std::thread writer([&] {
    base::ByteVec data(4 << 20, 0x5A);
    client->sendAll(data.data(), data.size());
  });
  for (int i = 0; i < 200 && conn.bytesIn() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_GT(conn.bytesIn(), 0u);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  // An upper bound only (a busy machine reads less, never more): the budget so far plus one
  // read's worth.
  const double elapsedSec = static_cast<double>(base::monoUs() - start) / 1e6;
  EXPECT_LE(static_cast<double>(conn.bytesIn()), 100'000 * elapsedSec + 2'000 + 1);
  // Closing does not wait for the slow reads to finish the 4 MB; the peer's blocked send
  // fails once our socket is gone.
  conn.close(wire::Reason::Shutdown, "test over");
  conn.join();
  writer.join();
  EXPECT_TRUE(conn.finished());
}

namespace {

// A handler that throws where its owner's code would: in onReceive (reader thread) or in
// onDrained (writer thread), as a std::exception or as anything else.
struct ThrowingHandler : Connection::Handler {
  enum class Where { Receive, Drained };
  ThrowingHandler(Where w, bool notStd) : where(w), nonStd(notStd) {}
  void onReceive(std::span<const std::uint8_t>) override {
    {
      std::lock_guard lock(mutex);
      char name[16] = {};
      pthread_getname_np(pthread_self(), name, sizeof name);
      receivedOn = name;
    }
    if (where == Where::Receive) raise();
  }
  void onDrained(std::size_t) override {
    if (where == Where::Drained) raise();
  }
  void onClosed(wire::Reason r, const std::string& d) override {
    std::lock_guard lock(mutex);
    reason = r;
    detail = d;
    ++closed;
  }
  void raise() {
    if (nonStd) throw 42;
    throw std::runtime_error("handler bug");
  }
  Where where;
  bool nonStd;
  std::mutex mutex;
  wire::Reason reason = wire::Reason::None;
  std::string detail;
  std::string receivedOn;  // the name of the thread onReceive() ran on
  int closed = 0;
};

// Runs one connection whose handler throws and checks how it ended; with `loop`, read there.
void expectAThrowClosesOnlyThisConnection(ThrowingHandler::Where where, bool nonStd, const std::string& detailStart,
                                          ReadLoop* loop = nullptr) {
  auto [client, server] = loopbackPair();
  ASSERT_TRUE(client && server);
  ThrowingHandler handler(where, nonStd);
  Connection::Options options;
  options.readLoop = loop;
  Connection conn(std::move(server), options);
  ASSERT_TRUE(conn.start(&handler));
  if (where == ThrowingHandler::Where::Receive) ASSERT_TRUE(client->sendAll("x", 1));
  else ASSERT_TRUE(conn.send(base::makeBytes(base::ByteVec(16, 1))));
  for (int i = 0; i < 400 && !conn.finished(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_TRUE(conn.finished());
  conn.join();
  {
    std::lock_guard lock(handler.mutex);
    EXPECT_EQ(handler.closed, 1);
    EXPECT_EQ(handler.reason, wire::Reason::Internal);
    EXPECT_EQ(handler.detail.rfind(detailStart, 0), 0u) << handler.detail;
    if (where == ThrowingHandler::Where::Receive) {
      EXPECT_EQ(handler.receivedOn, loop ? "test-read" : "conn-read");
    }
  }
  // The peer sees the connection end (the process, and this test, carry on).
  ASSERT_EQ(client->waitReadable(2000), 1);
  char buf[64];
  while (client->recv(buf, sizeof buf) > 0) {
  }
}

}  // namespace

TEST(Connection, AReaderThatThrowsClosesThatConnectionWithAReason) {
  expectAThrowClosesOnlyThisConnection(ThrowingHandler::Where::Receive, false, "reader: handler bug");
  expectAThrowClosesOnlyThisConnection(ThrowingHandler::Where::Receive, true, "reader: an exception that is not");
}

TEST(Connection, AWriterThatThrowsClosesThatConnectionWithAReason) {
  expectAThrowClosesOnlyThisConnection(ThrowingHandler::Where::Drained, false, "writer: handler bug");
  expectAThrowClosesOnlyThisConnection(ThrowingHandler::Where::Drained, true, "writer: an exception that is not");
}

// The same where a shared read loop reads: the loop and its other connections go on.
TEST(Connection, AThrowOnASharedReadLoopClosesThatConnectionWithAReason) {
  ReadLoop loop;
  std::string error;
  ASSERT_TRUE(loop.start("test", error)) << error;
  expectAThrowClosesOnlyThisConnection(ThrowingHandler::Where::Receive, false, "reader: handler bug", &loop);
  expectAThrowClosesOnlyThisConnection(ThrowingHandler::Where::Receive, true, "reader: an exception that is not", &loop);
  expectAThrowClosesOnlyThisConnection(ThrowingHandler::Where::Drained, false, "writer: handler bug", &loop);
  expectAThrowClosesOnlyThisConnection(ThrowingHandler::Where::Drained, true, "writer: an exception that is not", &loop);
  EXPECT_TRUE(loop.running());
}

// The urgent lane (cursor positions): while a large frame is on its way to a peer that has not
// read yet, urgent frames go ahead of the frames queued behind it, and a newer urgent frame with
// the same key replaces the one still waiting (latest wins); frames stay whole.
TEST(Connection, UrgentFramesJumpTheQueueAndTheLatestWins) {
  auto [client, server] = loopbackPair();
  ASSERT_TRUE(client && server);
  Connection::Options options;
  options.maxQueuedBytes = 64 * 1024 * 1024;
  NullHandler handler;
  Connection conn(std::move(server), options);
  ASSERT_TRUE(conn.start(&handler));
  // Frames of the wire's framing (u32 length, u16 type), so the reader can cut them apart.
  auto frame = [](std::uint16_t type, std::size_t payload, std::uint8_t fill) {
    base::ByteVec out(wire::kFrameHeaderBytes, 0);
    out.resize(wire::kFrameHeaderBytes + payload, fill);
    return wire::sealFrame(std::move(out), type);
  };
  // 8 MiB, far more than the socket buffers hold: the writer is inside it until we read.
  ASSERT_TRUE(conn.send(frame(1, 8 << 20, 0xAA)));
  for (int i = 0; i < 400 && conn.queuedBytes() != 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_EQ(conn.queuedBytes(), 0u) << "the writer did not take the large frame";
  ASSERT_TRUE(conn.send(frame(2, 1 << 20, 0xBB)));       // queued behind it
  ASSERT_TRUE(conn.sendUrgent(frame(3, 17, 0x01), 7));  // a position...
  ASSERT_TRUE(conn.sendUrgent(frame(4, 100, 0x02), 0)); // a shape (kept, in order)
  ASSERT_TRUE(conn.sendUrgent(frame(3, 17, 0x03), 7));  // ...replaced by a newer one
  // Now read everything and list the frames as they came.
  std::vector<std::pair<std::uint16_t, std::uint8_t>> got;  // type, first payload byte
  base::ByteVec buffer;
  std::vector<std::uint8_t> chunk(1 << 16);
  const std::size_t total = (wire::kFrameHeaderBytes * 4) + (8 << 20) + (1 << 20) + 100 + 17;
  for (int i = 0; i < 20000 && buffer.size() < total; ++i) {
    if (client->waitReadable(100) != 1) continue;
    const int n = client->recv(chunk.data(), static_cast<int>(chunk.size()));
    if (n <= 0) break;
    buffer.insert(buffer.end(), chunk.begin(), chunk.begin() + n);
  }
  ASSERT_EQ(buffer.size(), total);
  for (std::size_t at = 0; at + wire::kFrameHeaderBytes <= buffer.size();) {
    const std::uint32_t length = buffer[at] | buffer[at + 1] << 8 | buffer[at + 2] << 16 | std::uint32_t(buffer[at + 3]) << 24;
    const std::uint16_t type = static_cast<std::uint16_t>(buffer[at + 4] | buffer[at + 5] << 8);
    got.emplace_back(type, buffer[at + wire::kFrameHeaderBytes]);
    at += wire::kFrameHeaderBytes + length;
  }
  const std::vector<std::pair<std::uint16_t, std::uint8_t>> want = {{1, 0xAA}, {4, 0x02}, {3, 0x03}, {2, 0xBB}};
  EXPECT_EQ(got, want);
  conn.close(wire::Reason::Shutdown, "done");
  conn.join();
}

namespace {

// Counts onDrained() calls and the tracked frames they report, remembers the thread of the
// last one; keeps what it receives, and the order of the calls ("drained", "closed").
struct RecordingHandler : Connection::Handler {
  void onReceive(std::span<const std::uint8_t> bytes) override {
    std::lock_guard lock(mutex);
    received.insert(received.end(), bytes.begin(), bytes.end());
  }
  void onClosed(wire::Reason, const std::string&) override {
    std::lock_guard lock(mutex);
    calls.push_back("closed");
  }
  void onDrained(std::size_t tracked) override {
    std::unique_lock lock(mutex);
    ++drained;
    trackedGone += tracked;
    drainedOn = std::this_thread::get_id();
    calls.push_back("drained");
    // Held here (bounded: 10 s) while the test looks at what else happens meanwhile.
    if (hold) {
      holding = true;
      changed.notify_all();
      changed.wait_for(lock, std::chrono::seconds(10), [&] { return !hold; });
      holding = false;
    }
  }
  void onSecured() override { secured = true; }
  std::size_t receivedBytes() {
    std::lock_guard lock(mutex);
    return received.size();
  }
  std::mutex mutex;
  std::condition_variable changed;
  base::ByteVec received;
  int drained = 0;
  std::size_t trackedGone = 0;
  std::thread::id drainedOn;
  std::vector<std::string> calls;
  bool hold = false, holding = false;
  std::atomic<bool> secured{false};
};

base::Bytes patterned(std::size_t size, std::uint8_t seed) {
  base::ByteVec v(size);
  for (std::size_t i = 0; i < size; ++i) v[i] = static_cast<std::uint8_t>(seed + i * 7 + (i >> 9));
  return base::makeBytes(std::move(v));
}

}  // namespace

// inlineSends (the screen port): a frame sent while the connection is idle is encrypted and
// handed to the kernel on the sending thread, which is then told it drained, before send()
// returns (no writer wakeup); frames that find it busy, and large ones, go through the writer.
// Whatever way each went, the peer reads every byte in order. A frame sent `tracked` (the
// screen hub's updates) counts in onDrained(); any other drains the connection with 0.
TEST(Connection, AnIdleConnectionSendsOnTheCallersThreadAndTheBytesArriveInOrder) {
  auto [client, accepted] = loopbackPair();
  ASSERT_TRUE(client && accepted);
  std::string error;
  auto identity = HostIdentity::generate(error);
  ASSERT_TRUE(identity) << error;
  Connection::Options options;
  options.inlineSends = true;
  options.maxQueuedBytes = 64 * 1024 * 1024;
  RecordingHandler serverSide, clientSide;
  Connection server(std::move(accepted), options);
  server.setTls(TlsEngine::server(*identity, error));
  TlsEngine::ClientTrust trust;
  trust.pin = identity->fingerprint();
  trust.pinBytes = trust.pin.size();
  Connection clientConn(std::move(client), Connection::Options{});
  clientConn.setTls(TlsEngine::client(trust, error));
  ASSERT_TRUE(server.start(&serverSide));
  ASSERT_TRUE(clientConn.start(&clientSide));
  for (int i = 0; i < 500 && !serverSide.secured; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_TRUE(serverSide.secured);

  base::ByteVec want;
  auto add = [&](const base::Bytes& f) { want.insert(want.end(), f->begin(), f->end()); };
  const base::Bytes first = patterned(40 * 1024, 1);  // an update's size at 10% change
  add(first);
  ASSERT_TRUE(server.send(first, true));
  {
    std::lock_guard lock(serverSide.mutex);
    EXPECT_EQ(serverSide.drained, 1) << "not drained when send() returned: the writer sent it";
    EXPECT_EQ(serverSide.trackedGone, 1u);
    EXPECT_EQ(serverSide.drainedOn, std::this_thread::get_id());
  }
  const base::Bytes urgent = patterned(20, 9);
  add(urgent);
  ASSERT_TRUE(server.sendUrgent(urgent, 7));
  {
    std::lock_guard lock(serverSide.mutex);
    EXPECT_EQ(serverSide.drained, 2);  // the urgent lane's frame went at once too
    EXPECT_EQ(serverSide.trackedGone, 1u);  // and is not the sender's own
  }
  // A cursor position with its frame's update: both at once, in one write, the update tracked.
  const base::Bytes position = patterned(24, 11), update = patterned(9000, 12);
  add(position);
  add(update);
  ASSERT_TRUE(server.sendAfterUrgent(position, 7, update, true));
  {
    std::lock_guard lock(serverSide.mutex);
    EXPECT_EQ(serverSide.drained, 3);
    EXPECT_EQ(serverSide.trackedGone, 2u);
    EXPECT_EQ(serverSide.drainedOn, std::this_thread::get_id());
  }
  // Larger than kInlineSendMaxBytes: the writer's, and what follows it waits its turn.
  for (std::uint8_t k = 2; k < 8; ++k) {
    const base::Bytes f = patterned(k % 2 ? Connection::kInlineSendMaxBytes + 1000 : 3000, k);
    add(f);
    ASSERT_TRUE(server.send(f));
  }
  for (int i = 0; i < 1000 && clientSide.receivedBytes() < want.size(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  {
    std::lock_guard lock(clientSide.mutex);
    EXPECT_EQ(clientSide.received, want);
  }
  server.close(wire::Reason::Shutdown, "done");
  clientConn.close(wire::Reason::Shutdown, "done");
  server.join();
  clientConn.join();
}

// A frame the kernel takes only part of at once (a small send buffer, a peer not reading yet):
// the rest is left to the writer, ahead of anything sent after it, and onDrained() comes, and
// counts it if it was sent tracked, once all of it went: not when a frame after it could not go
// at once either.
TEST(Connection, WhatAnInlineSendLeavesGoesFirstThroughTheWriter) {
  auto [client, accepted] = loopbackPair(8 * 1024);
  ASSERT_TRUE(client && accepted);
  Connection::Options options;
  options.inlineSends = true;
  options.socketSendBufferBytes = 8 * 1024;
  RecordingHandler handler;
  Connection conn(std::move(accepted), options);
  ASSERT_TRUE(conn.start(&handler));
  const base::Bytes big = patterned(200 * 1024, 3), small = patterned(100, 5), urgent = patterned(30, 8);
  ASSERT_TRUE(conn.send(big, true));
  {
    std::lock_guard lock(handler.mutex);
    EXPECT_EQ(handler.drained, 0) << "200 KiB went at once into an 8 KiB buffer";
  }
  ASSERT_TRUE(conn.send(small));
  ASSERT_TRUE(conn.sendUrgent(urgent, 7));
  {
    std::lock_guard lock(handler.mutex);
    EXPECT_EQ(handler.trackedGone, 0u) << "counted before it went";
  }
  base::ByteVec got;
  std::vector<std::uint8_t> chunk(1 << 16);
  for (int i = 0; i < 2000 && got.size() < big->size() + small->size() + urgent->size(); ++i) {
    if (client->waitReadable(100) != 1) continue;
    const int n = client->recv(chunk.data(), static_cast<int>(chunk.size()));
    if (n <= 0) break;
    got.insert(got.end(), chunk.begin(), chunk.begin() + n);
  }
  // All of the big frame first. Then the urgent frame, after what was begun and before the
  // queue, unless the writer had already taken the small frame into the send it began when the
  // kernel took the rest of the big one (it merges small frames into one send): a slow run
  // (the sanitizers) gives it that time between the two calls above.
  base::ByteVec want(big->begin(), big->end()), orWant(big->begin(), big->end());
  want.insert(want.end(), urgent->begin(), urgent->end());
  want.insert(want.end(), small->begin(), small->end());
  orWant.insert(orWant.end(), small->begin(), small->end());
  orWant.insert(orWant.end(), urgent->begin(), urgent->end());
  EXPECT_TRUE(got == want || got == orWant) << "got " << got.size() << " bytes of " << want.size();
  for (int i = 0; i < 200 && conn.bytesOut() < want.size(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(conn.bytesOut(), want.size());
  auto trackedGone = [&] {
    std::lock_guard lock(handler.mutex);
    return handler.trackedGone;
  };
  for (int i = 0; i < 200 && trackedGone() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(trackedGone(), 1u);
  conn.close(wire::Reason::Shutdown, "done");
  conn.join();
}

// onClosed() is the last call a handler gets: an inline send's onDrained() still running on the
// sending thread when the peer hangs up is waited for.
TEST(Connection, OnClosedWaitsForAnInlineSendsOnDrained) {
  auto [client, accepted] = loopbackPair();
  ASSERT_TRUE(client && accepted);
  Connection::Options options;
  options.inlineSends = true;
  RecordingHandler handler;
  Connection conn(std::move(accepted), options);
  ASSERT_TRUE(conn.start(&handler));
  {
    std::lock_guard lock(handler.mutex);
    handler.hold = true;
  }
  std::thread sender([&] { conn.send(patterned(100, 1), true); });
  {
    std::unique_lock lock(handler.mutex);
    EXPECT_TRUE(handler.changed.wait_for(lock, std::chrono::seconds(10), [&] { return handler.holding; }));
  }
  client.reset();  // the peer hangs up while the sender is inside onDrained()
  // The reader sees the end and would tell the handler at once; it waits (bounded look: 300 ms).
  bool closedMeanwhile = false;
  for (int i = 0; i < 30 && !closedMeanwhile; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    std::lock_guard lock(handler.mutex);
    closedMeanwhile = handler.calls.size() != 1;
  }
  EXPECT_FALSE(closedMeanwhile) << "onClosed() came while onDrained() was running";
  {
    std::lock_guard lock(handler.mutex);
    handler.hold = false;
  }
  handler.changed.notify_all();
  sender.join();
  for (int i = 0; i < 400 && !conn.finished(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_TRUE(conn.finished());
  conn.join();
  std::lock_guard lock(handler.mutex);
  EXPECT_EQ(handler.calls, (std::vector<std::string>{"drained", "closed"}));
}
