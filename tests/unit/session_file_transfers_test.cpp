// A participant's side of files in the chat with no connection: an offer is prepared (its
// SHA-256 read) on a worker, not on the caller's thread, with progress; it can be cancelled
// while being prepared, and shutting down stops the worker at once; only a regular file is
// offered (a pipe or a device never blocks the caller); the same file twice is one offer; and
// a finished file's final name never replaces another file.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <sstream>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <thread>

#include "app/session/download_dir.h"
#include "app/session/file_transfers.h"

using namespace huddle;
using namespace huddle::session;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("huddle-ft-" + std::to_string(::getpid()) + "-" +
                                               ::testing::UnitTest::GetInstance()->current_test_info()->name());
  TempDir() {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string file(const std::string& name, std::uint64_t size) {
    const std::string p = (path / name).string();
    std::ofstream(p, std::ios::binary) << std::string(static_cast<std::size_t>(std::min<std::uint64_t>(size, 4096)), 'x');
    fs::resize_file(p, size);  // the rest sparse: cheap to make, read like any other
    return p;
  }
};

// Waits (bounded) until `done` holds.
bool waitFor(const std::function<bool()>& done, int ms = 10'000) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (!done()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

OutgoingFile only(const FileTransfers& t) {
  auto v = t.outgoing();
  return v.size() == 1 ? v[0] : OutgoingFile{};
}

bool hasNote(std::vector<FileNote>& notes, const std::string& text) {
  for (const auto& n : notes)
    if (n.text.find(text) != std::string::npos) return true;
  return false;
}

// A gate the worker stops at after its first block, until the test opens it.
struct Gate {
  std::mutex m;
  std::condition_variable cv;
  bool reached = false, open = false;
  int steps = 0;
  void step() {
    std::unique_lock lock(m);
    ++steps;
    reached = true;
    cv.notify_all();
    cv.wait_for(lock, std::chrono::seconds(10), [&] { return open; });
  }
  bool waitReached() {
    std::unique_lock lock(m);
    return cv.wait_for(lock, std::chrono::seconds(10), [&] { return reached; });
  }
  void release() {
    std::lock_guard lock(m);
    open = true;
    cv.notify_all();
  }
};

}  // namespace

TEST(FileTransfers, AnOfferIsPreparedOnAWorkerThenMade) {
  TempDir dir;
  auto t = FileTransfers::create();
  const std::string path = dir.file("big.bin", 3u << 20);
  Gate gate;
  std::thread::id worker;
  t->setHashStepForTest([&](std::uint64_t) {
    worker = std::this_thread::get_id();
    gate.step();
  });
  // offer() returns while the worker is held at its first block: nothing is read here.
  ASSERT_EQ(t->offer(path, ""), "");
  ASSERT_TRUE(gate.waitReached());
  EXPECT_NE(worker, std::this_thread::get_id());
  OutgoingFile f = only(*t);
  EXPECT_EQ(f.state, OutgoingFile::State::Preparing);
  EXPECT_EQ(f.size, 3u << 20);
  EXPECT_TRUE(t->busy());
  auto notes = t->takeNotes();
  EXPECT_TRUE(hasNote(notes, "Preparing big.bin (3.0 MiB) for everyone")) << notes.size();
  gate.release();
  ASSERT_TRUE(waitFor([&] { return only(*t).state == OutgoingFile::State::Offered; }));
  EXPECT_EQ(only(*t).prepared, 3u << 20);
  notes = t->takeNotes();
  EXPECT_TRUE(hasNote(notes, "Offering big.bin (3.0 MiB) to everyone once connected."));
}

TEST(FileTransfers, AnOfferBeingPreparedCanBeCancelledAndIsNeverMade) {
  TempDir dir;
  auto t = FileTransfers::create();
  Gate gate;
  t->setHashStepForTest([&](std::uint64_t) { gate.step(); });
  ASSERT_EQ(t->offer(dir.file("big.bin", 8u << 20), "bob"), "");
  ASSERT_TRUE(gate.waitReached());
  t->cancelOffer(only(*t).id);
  EXPECT_EQ(only(*t).state, OutgoingFile::State::Cancelled);
  gate.release();
  t->shutdown();  // joins the worker: whatever it did after the cancel is done
  EXPECT_EQ(gate.steps, 1);  // it stopped at the next block
  EXPECT_EQ(only(*t).state, OutgoingFile::State::Cancelled);
  auto notes = t->takeNotes();
  EXPECT_TRUE(hasNote(notes, "Stopped preparing big.bin."));
  EXPECT_FALSE(hasNote(notes, "Offering"));
  EXPECT_FALSE(t->busy());
}

TEST(FileTransfers, ShuttingDownStopsTheWorkerWithinABlock) {
  TempDir dir;
  auto t = FileTransfers::create();
  std::atomic<int> steps{0};
  bool sawStop = false;
  t->setHashStepForTest([&](std::uint64_t) {
    // Held at the first block until shutdown() has begun.
    if (++steps == 1) sawStop = waitFor([&] { return t->stopping(); });
  });
  ASSERT_EQ(t->offer(dir.file("huge.bin", 64u << 20), ""), "");
  ASSERT_TRUE(waitFor([&] { return steps >= 1; }));
  t->shutdown();
  EXPECT_TRUE(sawStop);
  EXPECT_EQ(steps, 1);  // not one block more
  EXPECT_EQ(only(*t).state, OutgoingFile::State::Preparing);  // never offered
  EXPECT_NE(t->offer(dir.file("late.bin", 10), ""), "");     // nothing is prepared after
  t->shutdown();                                              // twice is fine
}

TEST(FileTransfers, OnlyARegularFileIsOfferedAndAPipeNeverBlocks) {
  TempDir dir;
  auto t = FileTransfers::create();
  const std::string fifo = (dir.path / "pipe").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  // Without a writer, a blocking open of a pipe waits forever: run it aside, bounded.
  auto result = std::async(std::launch::async, [&] { return t->offer(fifo, ""); });
  if (result.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
    const int w = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);  // lets it go, to end the test
    result.wait();
    if (w >= 0) ::close(w);
    FAIL() << "offering a pipe blocked";
  }
  EXPECT_EQ(result.get(), "Cannot send " + fifo + ": a pipe; only a regular file can be sent.");
  EXPECT_EQ(t->offer(dir.path.string(), ""), "Cannot send " + dir.path.string() + ": a folder; only a regular file can be sent.");
  EXPECT_EQ(t->offer("/dev/null", ""), "Cannot send /dev/null: a device; only a regular file can be sent.");
  EXPECT_NE(t->offer((dir.path / "missing").string(), "").find("No such file"), std::string::npos);
  EXPECT_TRUE(t->outgoing().empty());
}

TEST(FileTransfers, TheSameFileOfferedTwiceIsOneOffer) {
  TempDir dir;
  auto t = FileTransfers::create();
  const std::string path = dir.file("same.bin", 100'000);
  ASSERT_EQ(t->offer(path, ""), "");
  ASSERT_TRUE(waitFor([&] { return only(*t).state == OutgoingFile::State::Offered; }));
  ASSERT_EQ(t->offer(path, ""), "");
  ASSERT_TRUE(waitFor([&] { return t->outgoing().size() == 2 && t->outgoing()[1].state != OutgoingFile::State::Preparing; }));
  const OutgoingFile second = t->outgoing()[1];
  EXPECT_EQ(second.state, OutgoingFile::State::Refused);
  EXPECT_EQ(second.error, "Not offered: you already offer same.bin to everyone.");
  // To one person it is another offer.
  ASSERT_EQ(t->offer(path, "bob"), "");
  ASSERT_TRUE(waitFor([&] { return t->outgoing().size() == 3 && t->outgoing()[2].state != OutgoingFile::State::Preparing; }));
  EXPECT_EQ(t->outgoing()[2].state, OutgoingFile::State::Offered);
}

TEST(DownloadDir, AFinalNameNeverReplacesAnotherFile) {
  TempDir dir;
  const std::string a = (dir.path / "a.txt").string(), part = (dir.path / ".a.txt.part").string();
  std::ofstream(a) << "theirs";
  std::ofstream(part) << "ours";
  // The rename itself refuses to replace what is there (a name taken meanwhile).
  EXPECT_FALSE(renameNoReplace(part, a));
  EXPECT_EQ(errno, EEXIST);
  std::stringstream theirs;
  theirs << std::ifstream(a).rdbuf();
  EXPECT_EQ(theirs.str(), "theirs");
  // Without hard links: the next free name, and the .part is gone.
  EXPECT_EQ(giveFinalName(part, dir.path.string(), "a.txt", false), (dir.path / "a (2).txt").string());
  EXPECT_FALSE(fs::exists(part));
  std::stringstream ours;
  ours << std::ifstream(dir.path / "a (2).txt").rdbuf();
  EXPECT_EQ(ours.str(), "ours");
  // With them: the same, by a link.
  std::ofstream(part) << "more";
  EXPECT_EQ(giveFinalName(part, dir.path.string(), "a.txt"), (dir.path / "a (3).txt").string());
  EXPECT_FALSE(fs::exists(part));
}
