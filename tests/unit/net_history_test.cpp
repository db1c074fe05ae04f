// The host's durable chat history: records come back after a restart; a torn or damaged
// record is skipped, never fatal; a failed write is cut back; the file is compacted and capped.
#include <gtest/gtest.h>
#include <unistd.h>

#include <sys/resource.h>

#include <csignal>
#include <filesystem>
#include <fstream>

#include "net/history_log.h"

using namespace huddle;

namespace {
constexpr std::size_t kKeep = 500;
wire::ChatEvent event(std::uint64_t seq, const std::string& text) {
  wire::ChatEvent e;
  e.seq = seq;
  e.timeUs = 1'700'000'000'000'000 + static_cast<std::int64_t>(seq);
  e.kind = wire::ChatKind::Public;
  e.from = "bob";
  e.text = text;
  return e;
}
struct TempFile {
  std::string path = ::testing::TempDir() + "huddle-history-" + std::to_string(::getpid()) + "/chat.log";
  TempFile() { std::filesystem::remove_all(std::filesystem::path(path).parent_path()); }
  ~TempFile() { std::filesystem::remove_all(std::filesystem::path(path).parent_path()); }
};
}  // namespace

TEST(History, Crc32MatchesTheStandard) {
  const std::string s = "123456789";
  EXPECT_EQ(net::crc32({reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}), 0xCBF43926u);
}

TEST(History, RecordsComeBackAfterARestart) {
  TempFile f;
  std::vector<wire::ChatEvent> events;
  std::string warning, error;
  {
    net::ChatHistoryLog log;
    ASSERT_TRUE(log.open(f.path, kKeep, events, warning, error)) << error;
    EXPECT_TRUE(events.empty());
    for (int i = 1; i <= 3; ++i) ASSERT_TRUE(log.append(event(static_cast<std::uint64_t>(i), "m" + std::to_string(i))));
  }
  net::ChatHistoryLog again;
  ASSERT_TRUE(again.open(f.path, kKeep, events, warning, error)) << error;
  EXPECT_TRUE(warning.empty());
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[2].text, "m3");
  EXPECT_EQ(events[2].seq, 3u);
  EXPECT_EQ(events[2].from, "bob");
  EXPECT_EQ(events[2].timeUs, event(3, "m3").timeUs);
}

TEST(History, ATornTailIsCutOffAndAppendingCarriesOn) {
  TempFile f;
  std::vector<wire::ChatEvent> events;
  std::string warning, error;
  {
    net::ChatHistoryLog log;
    ASSERT_TRUE(log.open(f.path, kKeep, events, warning, error)) << error;
    ASSERT_TRUE(log.append(event(1, "kept")));
    ASSERT_TRUE(log.append(event(2, "torn")));
  }
  // The host died in the middle of writing record 2.
  std::filesystem::resize_file(f.path, std::filesystem::file_size(f.path) - 3);
  {
    net::ChatHistoryLog log;
    ASSERT_TRUE(log.open(f.path, kKeep, events, warning, error)) << error;
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].text, "kept");
    EXPECT_NE(warning.find("skipped"), std::string::npos) << warning;
    ASSERT_TRUE(log.append(event(3, "after")));
  }
  events.clear();
  net::ChatHistoryLog log;
  ASSERT_TRUE(log.open(f.path, kKeep, events, warning, error)) << error;
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].text, "after");
}

TEST(History, ADamagedRecordIsSkippedAndTheGoodOnesAfterItAreKept) {
  // Record 2 of three equal records, damaged in its payload, then in its length.
  for (int round = 0; round < 2; ++round) {
    TempFile f;
    std::vector<wire::ChatEvent> events;
    std::string warning, error;
    {
      net::ChatHistoryLog log;
      ASSERT_TRUE(log.open(f.path, kKeep, events, warning, error)) << error;
      for (int i = 1; i <= 3; ++i) ASSERT_TRUE(log.append(event(static_cast<std::uint64_t>(i), "abcdefgh")));
    }
    const auto size = std::filesystem::file_size(f.path);
    {
      std::fstream io(f.path, std::ios::in | std::ios::out | std::ios::binary);
      io.seekp(static_cast<std::streamoff>(round == 0 ? size / 3 + size / 6 : size / 3 + 2));
      io.put('\x7F');
    }
    for (int start = 0; start < 2; ++start) {  // the second start finds the file already clean
      events.clear();
      warning.clear();
      net::ChatHistoryLog log;
      ASSERT_TRUE(log.open(f.path, kKeep, events, warning, error)) << error;
      ASSERT_EQ(events.size(), 2u) << round;
      EXPECT_EQ(events[0].seq, 1u);
      EXPECT_EQ(events[1].seq, 3u);
      EXPECT_EQ(warning.find("skipped") != std::string::npos, start == 0) << warning;
    }
  }
}

TEST(History, AFailedWriteIsCutBackSoTheNextRecordFollowsTheLastGoodOne) {
  TempFile f;
  std::vector<wire::ChatEvent> events;
  std::string warning, error;
  {
    net::ChatHistoryLog log;
    ASSERT_TRUE(log.open(f.path, kKeep, events, warning, error)) << error;
    ASSERT_TRUE(log.append(event(1, "before")));
    // The disk fills mid-record: a real short write (the file size limit), then EFBIG.
    const auto size = std::filesystem::file_size(f.path);
    rlimit old{};
    ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
    rlimit small = old;
    small.rlim_cur = static_cast<rlim_t>(size + 5);
    auto oldHandler = std::signal(SIGXFSZ, SIG_IGN);
    ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
    const bool wrote = log.append(event(2, "torn by a full disk"));
    ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &old), 0);
    std::signal(SIGXFSZ, oldHandler);
    EXPECT_FALSE(wrote);
    EXPECT_EQ(std::filesystem::file_size(f.path), size);
    ASSERT_TRUE(log.append(event(3, "after")));
  }
  events.clear();
  warning.clear();
  net::ChatHistoryLog log;
  ASSERT_TRUE(log.open(f.path, kKeep, events, warning, error)) << error;
  EXPECT_TRUE(warning.empty()) << warning;
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].text, "before");
  EXPECT_EQ(events[1].text, "after");
}

TEST(History, TheFileIsCompactedToTheKeptHistoryOnStart) {
  TempFile f;
  std::vector<wire::ChatEvent> events;
  std::string warning, error;
  std::uint64_t oneRecord = 0;
  {
    net::ChatHistoryLog log;
    ASSERT_TRUE(log.open(f.path, kKeep, events, warning, error)) << error;
    for (int i = 1; i <= 10; ++i) ASSERT_TRUE(log.append(event(static_cast<std::uint64_t>(i), "m" + std::to_string(i % 10))));
    oneRecord = log.fileBytes() / 10;
  }
  net::ChatHistoryLog log;
  ASSERT_TRUE(log.open(f.path, 3, events, warning, error)) << error;
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].seq, 8u);
  EXPECT_EQ(events[2].seq, 10u);
  EXPECT_EQ(std::filesystem::file_size(f.path), 3 * oneRecord);
  EXPECT_EQ(log.fileBytes(), 3 * oneRecord);
}
