// Unit tests for huddle_base: UTF-8 rules, rects, event queue, workers.
#include <gtest/gtest.h>

#include <poll.h>
#include <pthread.h>

#include <atomic>
#include <stdexcept>
#include <thread>

#include "net/base/clock.h"
#include "net/base/event_queue.h"
#include "net/base/jpeg_check.h"
#include "net/base/log_throttle.h"
#include "net/base/rect.h"
#include "net/base/tick_alarm.h"
#include "net/base/utf8.h"
#include "net/base/wake_fd.h"
#include "net/base/worker.h"

using namespace huddle::base;

TEST(Utf8, AcceptsWellFormed) {
  EXPECT_TRUE(isValidUtf8(""));
  EXPECT_TRUE(isValidUtf8("plain ascii"));
  EXPECT_TRUE(isValidUtf8("caf\xC3\xA9"));               // é
  EXPECT_TRUE(isValidUtf8("\xE2\x82\xAC"));              // €
  EXPECT_TRUE(isValidUtf8("\xF0\x9F\x98\x80"));          // 😀
  EXPECT_TRUE(isValidUtf8("\xF4\x8F\xBF\xBF"));          // U+10FFFF
}

TEST(Utf8, RejectsMalformed) {
  EXPECT_FALSE(isValidUtf8("\xC0\xAF"));                 // overlong '/'
  EXPECT_FALSE(isValidUtf8("\xE0\x80\xAF"));             // overlong
  EXPECT_FALSE(isValidUtf8("\xED\xA0\x80"));             // surrogate D800
  EXPECT_FALSE(isValidUtf8("\xF4\x90\x80\x80"));         // > U+10FFFF
  EXPECT_FALSE(isValidUtf8("\xC3"));                     // truncated
  EXPECT_FALSE(isValidUtf8("\x80"));                     // lone continuation
  EXPECT_FALSE(isValidUtf8("\xFF"));
  EXPECT_FALSE(isValidUtf8(std::string_view("a\xE2\x82", 3)));
}

TEST(Utf8, ForbiddenControls) {
  EXPECT_FALSE(hasForbiddenControls("hello\tworld", false));
  EXPECT_TRUE(hasForbiddenControls("line\nbreak", false));
  EXPECT_FALSE(hasForbiddenControls("line\nbreak", true));
  EXPECT_TRUE(hasForbiddenControls(std::string("nul\0x", 5), true));
  EXPECT_TRUE(hasForbiddenControls("esc\x1b[31m", true));
  EXPECT_TRUE(hasForbiddenControls("\xC2\x85", true));          // C1 NEL
  EXPECT_TRUE(hasForbiddenControls("evil\xE2\x80\xAEtxt", true)); // RLO
  EXPECT_TRUE(hasForbiddenControls("\xE2\x81\xA6x", true));       // LRI
  EXPECT_FALSE(hasForbiddenControls("caf\xC3\xA9 \xF0\x9F\x98\x80", true));
}

TEST(Rect, UniteAndIntersect) {
  Rect a{0, 0, 10, 10}, b{5, 5, 10, 10};
  EXPECT_EQ(a.united(b), (Rect{0, 0, 15, 15}));
  EXPECT_EQ(a.intersected(b), (Rect{5, 5, 5, 5}));
  EXPECT_TRUE(a.intersected(Rect{20, 20, 1, 1}).empty());
  EXPECT_EQ(Rect{}.united(b), b);
  EXPECT_EQ(a.area(), 100);
}

// A scan is cut at its restart markers only when they come in order (RST0..RST7, then RST0
// again), no more than asked for; stuffed 0xFF00 bytes are data, any other marker or a scan
// ending inside one is refused.
TEST(JpegScan, RestartsAreFoundInOrderAndAnythingElseIsRefused) {
  std::vector<std::uint8_t> scan = {1, 0xFF, 0x00, 2};
  for (int k = 0; k < 10; ++k) scan.insert(scan.end(), {0xFF, std::uint8_t(0xD0 + k % 8), std::uint8_t(k)});
  std::vector<std::size_t> at;
  ASSERT_TRUE(findRestarts(scan, 10, at));
  ASSERT_EQ(at.size(), 10u);
  EXPECT_EQ(at[0], 4u);
  EXPECT_EQ(restartPiece(at, scan.size(), 0), (std::pair<std::size_t, std::size_t>{0, 4}));
  EXPECT_EQ(restartPiece(at, scan.size(), 1), (std::pair<std::size_t, std::size_t>{6, 7}));
  EXPECT_EQ(restartPiece(at, scan.size(), 10), (std::pair<std::size_t, std::size_t>{scan.size() - 1, scan.size()}));
  EXPECT_FALSE(findRestarts(scan, 9, at)) << "more than asked for";
  auto bent = scan;
  bent[5] = 0xD1;  // RST1 first
  EXPECT_FALSE(findRestarts(bent, 10, at));
  bent = scan;
  bent[5] = 0xD9;  // EOI inside
  EXPECT_FALSE(findRestarts(bent, 10, at));
  bent = scan;
  bent.push_back(0xFF);  // ends inside a marker
  EXPECT_FALSE(findRestarts(bent, 10, at));
  EXPECT_TRUE(findRestarts({}, 0, at));
  EXPECT_TRUE(at.empty());
}

// A scan from a peer: stuffed 0xFF00 bytes and restart markers pass, wherever they fall (the
// first byte, the last two); any other marker, or a scan ending inside one, is refused.
TEST(JpegScan, AScansMarkersAreCheckedWhereverTheyFall) {
  std::string error;
  EXPECT_TRUE(checkJpegScan(std::vector<std::uint8_t>{0xFF, 0x00, 7, 0xFF, 0xD3, 9, 0xFF, 0x00}, error)) << error;
  EXPECT_TRUE(checkJpegScan(std::vector<std::uint8_t>(5000, 0x12), error)) << error;
  EXPECT_FALSE(checkJpegScan({}, error));
  EXPECT_FALSE(checkJpegScan(std::vector<std::uint8_t>{1, 2, 0xFF}, error));
  EXPECT_EQ(error, "JPEG scan ends inside a marker");
  EXPECT_FALSE(checkJpegScan(std::vector<std::uint8_t>{1, 0xFF, 0xFF, 0x00}, error));  // fill is not data
  EXPECT_EQ(error, "marker inside a JPEG scan");
  EXPECT_FALSE(checkJpegScan(std::vector<std::uint8_t>{0xFF, 0xD9}, error));
  std::vector<std::uint8_t> far(4096, 0x34);
  far[4000] = 0xFF;
  far[4001] = 0xC4;  // a table inside the data, far in
  EXPECT_FALSE(checkJpegScan(far, error));
}

TEST(EventQueue, FifoWithCap) {
  EventQueue<int> q(3);
  EXPECT_TRUE(q.push(1));
  EXPECT_TRUE(q.push(2));
  EXPECT_TRUE(q.push(3));
  EXPECT_FALSE(q.push(4));
  EXPECT_EQ(*q.take(std::chrono::milliseconds(0)), 1);
  auto rest = q.drain();
  EXPECT_EQ(rest, (std::vector<int>{2, 3}));
  q.stop();
  EXPECT_FALSE(q.push(5));
}

TEST(Clock, Formats) {
  EXPECT_EQ(formatClock(wallUs()).size(), 8u);
  EXPECT_EQ(formatFileStamp(wallUs()).size(), 15u);
  // Two statements: the order in which a macro's arguments are evaluated is unspecified.
  const std::int64_t first = monoUs();
  const std::int64_t second = monoUs();
  EXPECT_LE(first, second);
}

TEST(LogThrottle, TenLinesASecondPerKeyThenSaysHowManyWereHeldBack) {
  huddle::base::LogThrottle t(10, 4);
  std::uint64_t held = 0;
  const std::uint64_t a = huddle::base::LogThrottle::key(0x0A000001, huddle::base::LogThrottle::Drop, 7),
                      b = huddle::base::LogThrottle::key(0x0A000002, huddle::base::LogThrottle::Drop, 7);
  int written = 0;
  for (int i = 0; i < 25; ++i) written += t.allow(a, 1'000'000, held);
  EXPECT_EQ(written, 10);
  EXPECT_TRUE(t.allow(b, 1'000'000, held)) << "another address is not held back";
  EXPECT_EQ(held, 0u);
  ASSERT_TRUE(t.allow(a, 2'000'000, held));
  EXPECT_EQ(held, 15u);
  EXPECT_EQ(huddle::base::heldBackNote(held), " (15 more like it not logged)");
  // Bounded: many keys start the table over instead of growing it.
  for (std::uint32_t ip = 0; ip < 100; ++ip) t.allow(huddle::base::LogThrottle::key(ip, huddle::base::LogThrottle::Closed, 1), 2'000'000, held);
  EXPECT_TRUE(t.allow(a, 2'000'001, held));
}

TEST(Worker, RunsNamedAndJoinsInItsDestructor) {
  std::atomic<bool> ran{false};
  std::string seenName;
  {
    Worker w("huddle-test", [&] {
      char name[16] = {};
      pthread_getname_np(pthread_self(), name, sizeof name);
      seenName = name;
      ran = true;
    });
    EXPECT_TRUE(w.running());
  }  // joined here: the body has finished
  EXPECT_TRUE(ran.load());
  EXPECT_EQ(seenName, "huddle-test");
}

TEST(Worker, AThrowIsHandedToTheOwnerNotTheProcess) {
  std::string handed;
  Worker w("thrower", [] { throw std::runtime_error("bad tile"); },
           [&](const std::string& what) { handed = what; });
  w.join();
  EXPECT_EQ(handed, "bad tile");
  EXPECT_EQ(w.failure(), "bad tile");
  Worker quiet("fine", [] {});
  quiet.join();
  EXPECT_EQ(quiet.failure(), "");
  Worker nonStd("odd", [] { throw 42; });
  nonStd.join();
  EXPECT_NE(nonStd.failure().find("not a std::exception"), std::string::npos);
}

TEST(Worker, MoveAssignJoinsTheOldThreadFirst) {
  std::atomic<int> done{0};
  Worker w("first", [&] { done += 1; });
  w = Worker("second", [&] { done += 10; });
  w.join();
  EXPECT_EQ(done.load(), 11);
  EXPECT_FALSE(w.running());
}

TEST(Worker, AHandlerThatThrowsToo) {
  // The owner's handler runs on the worker's thread: its own throw must not end the process.
  bool handed = false;
  Worker w("double", [] { throw std::runtime_error("first"); },
           [&](const std::string&) {
             handed = true;
             throw std::runtime_error("second");
           });
  w.join();
  EXPECT_TRUE(handed);
  EXPECT_EQ(w.failure(), "first");
}

// The watchdog's sleep: to its own plan, sooner when another thread asks, and an ask made
// while it was awake is not lost to the sleep that follows.
TEST(TickAlarm, SleepsToItsPlanOrToAnEarlierAskAndKeepsAnAskMadeWhileAwake) {
  TickAlarm ticker;
  std::int64_t t0 = monoUs();
  ticker.sleepUntil(t0 + 20'000);
  EXPECT_GE(monoUs() - t0, 20'000);

  // Asked while awake (before the sleep): the sleep ends at once, not in a minute.
  ticker.wakeBy(monoUs());
  t0 = monoUs();
  ticker.sleepUntil(t0 + 60'000'000);
  EXPECT_LT(monoUs() - t0, 5'000'000);

  // That ask is spent: the next sleep goes to its plan.
  t0 = monoUs();
  ticker.sleepUntil(t0 + 20'000);
  EXPECT_GE(monoUs() - t0, 20'000);

  // Asked from another thread while asleep: earlier than the plan wakes it, later does not.
  std::atomic<bool> asleep{false};
  std::thread waker([&] {
    while (!asleep.load()) std::this_thread::yield();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ticker.wakeBy(monoUs() + 120'000'000);  // after the plan: changes nothing
    ticker.wakeBy(monoUs());
  });
  t0 = monoUs();
  asleep = true;
  ticker.sleepUntil(t0 + 60'000'000);
  EXPECT_LT(monoUs() - t0, 5'000'000);
  waker.join();
}

// The ring that ends a poll: rings before the look are one wake, taken once; from another
// thread it ends a wait that would otherwise last a minute.
TEST(WakeFd, RingsAddUpToOneWakeThatEndsAPollFromAnotherThread) {
  WakeFd wake;
  ASSERT_GE(wake.fd(), 0);
  EXPECT_FALSE(wake.take());
  wake.ring();
  wake.ring();
  EXPECT_TRUE(wake.take());
  EXPECT_FALSE(wake.take());

  std::thread ringer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    wake.ring();
  });
  pollfd p{wake.fd(), POLLIN, 0};
  const std::int64_t t0 = monoUs();
  EXPECT_EQ(::poll(&p, 1, 60'000), 1);
  EXPECT_LT(monoUs() - t0, 30'000'000);
  EXPECT_TRUE(wake.take());
  ringer.join();
}
