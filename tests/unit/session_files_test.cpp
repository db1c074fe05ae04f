// Where received files go and what they are called: the XDG download folder, safe names for
// hostile ones, unique names, a final name that never replaces a file, and the /send command.
// And a participant's side of files with no connection: an offer is prepared (its SHA-256
// read) on a worker, not on the caller's thread, with progress; it can be cancelled while
// being prepared, and shutting down stops the worker at once; only a regular file is offered
// (a pipe or a device never blocks the caller); the same file twice is one offer.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <mutex>
#include <sstream>
#include <thread>

#include "app/session/chat_command.h"
#include "app/session/download_dir.h"
#include "app/session/file_transfers.h"
#include "net/base/utf8.h"

using namespace huddle;
using namespace huddle::session;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("huddle-files-" + std::to_string(::getpid()) + "-" +
                                               ::testing::UnitTest::GetInstance()->current_test_info()->name());
  TempDir() {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  void write(const std::string& name, const std::string& text) { std::ofstream(path / name) << text; }
  // A file of `size` bytes (sparse past its first 4 KiB: cheap to make, read like any other).
  std::string file(const std::string& name, std::uint64_t size) {
    const std::string p = (path / name).string();
    std::ofstream(p, std::ios::binary) << std::string(static_cast<std::size_t>(std::min<std::uint64_t>(size, 4096)), 'x');
    fs::resize_file(p, size);
    return p;
  }
};

TEST(DownloadDir, FromUserDirsElseDownloadsInHome) {
  TempDir t;
  const std::string home = (t.path / "home").string();
  const std::string config = (t.path / "config").string();
  fs::create_directories(config);
  EXPECT_EQ(xdgDownloadDir(home, config), home + "/Downloads");  // no user-dirs.dirs
  std::ofstream(config + "/user-dirs.dirs") << "# written by xdg-user-dirs-update\nXDG_DESKTOP_DIR=\"$HOME/Desktop\"\n"
                                               "XDG_DOWNLOAD_DIR=\"$HOME/Telechargements\"\n";
  EXPECT_EQ(xdgDownloadDir(home, config), home + "/Telechargements");
  std::ofstream(config + "/user-dirs.dirs") << "XDG_DOWNLOAD_DIR=\"/srv/dl/\"\n";
  EXPECT_EQ(xdgDownloadDir(home, config), "/srv/dl");
  // Relative, or $HOME itself: not trusted, the fallback.
  std::ofstream(config + "/user-dirs.dirs") << "XDG_DOWNLOAD_DIR=\"dl\"\n";
  EXPECT_EQ(xdgDownloadDir(home, config), home + "/Downloads");
  std::ofstream(config + "/user-dirs.dirs") << "XDG_DOWNLOAD_DIR=\"$HOME\"\n";
  EXPECT_EQ(xdgDownloadDir(home, config), home + "/Downloads");
  // Created if missing.
  std::string error;
  EXPECT_TRUE(ensureDir(home + "/Downloads", error)) << error;
  EXPECT_TRUE(fs::is_directory(home + "/Downloads"));
  t.write("plain", "x");
  EXPECT_FALSE(ensureDir((t.path / "plain").string(), error));
  EXPECT_FALSE(error.empty());
}

TEST(DownloadDir, SafeNamesForHostileOnes) {
  EXPECT_EQ(safeFileName("report.pdf"), "report.pdf");
  EXPECT_EQ(safeFileName("../../etc/passwd"), "_.._etc_passwd");
  EXPECT_EQ(safeFileName(".."), "file");
  EXPECT_EQ(safeFileName("."), "file");
  EXPECT_EQ(safeFileName(""), "file");
  EXPECT_EQ(safeFileName(".bashrc"), "bashrc");
  EXPECT_EQ(safeFileName("a\nb\x1b[31m"), "a_b_[31m");
  EXPECT_EQ(safeFileName("C:\\Windows\\x"), "C__Windows_x");
  EXPECT_EQ(safeFileName("CON"), "_CON");
  EXPECT_EQ(safeFileName("nul.txt"), "_nul.txt");
  EXPECT_EQ(safeFileName("name. . "), "name");
  EXPECT_EQ(safeFileName("\xff\xfe.txt"), "__.txt");
  const std::string longName = std::string(300, 'a') + ".tar.gz";
  const std::string cut = safeFileName(longName);
  EXPECT_LE(cut.size(), 200u);
  EXPECT_EQ(cut.substr(cut.size() - 3), ".gz");
  // Cut at a character boundary: a 2-byte character is never split.
  std::string accents = std::string(151, 'a');
  for (int i = 0; i < 50; ++i) accents += "\xc3\xa9";
  const std::string cutUtf8 = safeFileName(accents);
  EXPECT_LE(cutUtf8.size(), 200u);
  EXPECT_TRUE(base::isValidUtf8(cutUtf8));
  EXPECT_EQ(partFileName("a.txt"), ".a.txt.part");
  for (const char* n : {"../x", "a/b", "..", "", "\x01"}) {
    const std::string s = safeFileName(n);
    EXPECT_EQ(s.find('/'), std::string::npos);
    EXPECT_NE(s, "..");
    EXPECT_NE(s, ".");
  }
}

TEST(DownloadDir, UniqueNamesNeverTakeAnExistingOne) {
  TempDir t;
  const std::string dir = t.path.string();
  EXPECT_EQ(uniqueFileName(dir, "a.txt"), "a.txt");
  t.write("a.txt", "1");
  EXPECT_EQ(uniqueFileName(dir, "a.txt"), "a (2).txt");
  t.write("a (2).txt", "2");
  EXPECT_EQ(uniqueFileName(dir, "a.txt"), "a (3).txt");
  t.write("noext", "1");
  EXPECT_EQ(uniqueFileName(dir, "noext"), "noext (2)");
  // A dangling link counts as taken too.
  fs::create_symlink(t.path / "nowhere", t.path / "link.txt");
  EXPECT_EQ(uniqueFileName(dir, "link.txt"), "link (2).txt");
}

TEST(DownloadDir, TheSendCommand) {
  auto c = parseChatLine("/send /tmp/a.txt");
  EXPECT_EQ(c.kind, ChatCommand::Kind::Send);
  EXPECT_EQ(c.text, "/tmp/a.txt");
  EXPECT_EQ(c.target, "");
  c = parseChatLine("/send /tmp/a.txt bob");
  EXPECT_EQ(c.kind, ChatCommand::Kind::Send);
  EXPECT_EQ(c.target, "bob");
  c = parseChatLine("/send \"/tmp/my file.txt\" bob");
  EXPECT_EQ(c.kind, ChatCommand::Kind::Send);
  EXPECT_EQ(c.text, "/tmp/my file.txt");
  EXPECT_EQ(c.target, "bob");
  EXPECT_EQ(parseChatLine("/send").kind, ChatCommand::Kind::Error);
  EXPECT_EQ(parseChatLine("/send a b c").kind, ChatCommand::Kind::Error);
  EXPECT_EQ(parseChatLine("/send \"unclosed").kind, ChatCommand::Kind::Error);
}

// [SECTION] a participant's side with no connection (FileTransfers)

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

}  // namespace
