// docs/SECURITY.md s.7.2 at the screen hub: streams per session at cap-1, cap and cap+1, and the
// geometry a stream may have; the room password's length and the password-check cost a
// client accepts, at their caps; the history file's size at its cap.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "net/history_log.h"
#include "net/room_auth.h"
#include "net/screen_hub.h"

using namespace huddle;
using namespace huddle::net;

TEST(Limits, SixteenScreensPerSessionAndNoMore) {
  ScreenHub hub(ScreenHubConfig{}, [](std::uint64_t, std::uint32_t&, std::string&) { return false; },
                [](std::uint32_t, bool) {});
  std::string error;
  for (std::size_t i = 0; i + 1 < wire::kMaxStreamsPerSession; ++i)
    ASSERT_NE(hub.startLocalStream(1, "host", "s" + std::to_string(i), 64, 64, 64, error), 0u) << error;
  const std::uint32_t last = hub.startLocalStream(1, "host", "last", 64, 64, 64, error);
  EXPECT_NE(last, 0u) << error;
  EXPECT_EQ(hub.startLocalStream(1, "host", "over", 64, 64, 64, error), 0u);
  EXPECT_NE(error.find("too many"), std::string::npos) << error;
  EXPECT_EQ(hub.streams().size(), wire::kMaxStreamsPerSession);
  // One ends: there is room again.
  hub.endStream(last, "done");
  EXPECT_NE(hub.startLocalStream(1, "host", "again", 64, 64, 64, error), 0u) << error;
}

TEST(Limits, AStreamOutsideTheGeometryCapsIsRefused) {
  ScreenHub hub(ScreenHubConfig{}, [](std::uint64_t, std::uint32_t&, std::string&) { return false; },
                [](std::uint32_t, bool) {});
  std::string error;
  EXPECT_NE(hub.startLocalStream(1, "host", "8K", 7680, 4320, 256, error), 0u) << error;
  EXPECT_NE(hub.startLocalStream(1, "host", "tiny", 1, 1, 64, error), 0u) << error;
  EXPECT_EQ(hub.startLocalStream(1, "host", "wide", wire::kMaxStreamSidePx + 1, 64, 64, error), 0u);
  EXPECT_EQ(hub.startLocalStream(1, "host", "huge", 8192, 8192, 64, error), 0u);
  EXPECT_EQ(hub.startLocalStream(1, "host", "empty", 0, 0, 64, error), 0u);
  EXPECT_EQ(hub.startLocalStream(1, "host", "odd tile", 640, 480, 100, error), 0u);
  EXPECT_EQ(hub.streams().size(), 2u);
}

TEST(Limits, RoomPasswordLengthAtItsCaps) {
  for (std::size_t n : {wire::kMinRoomPasswordBytes - 1, wire::kMinRoomPasswordBytes, wire::kMinRoomPasswordBytes + 1})
    EXPECT_EQ(validateRoomPassword(std::string(n, 'p')).empty(), n >= wire::kMinRoomPasswordBytes) << n;
  for (std::size_t n : {wire::kMaxRoomPasswordBytes - 1, wire::kMaxRoomPasswordBytes, wire::kMaxRoomPasswordBytes + 1})
    EXPECT_EQ(validateRoomPassword(std::string(n, 'p')).empty(), n <= wire::kMaxRoomPasswordBytes) << n;
}

TEST(Limits, PasswordCheckCostAtItsCaps) {
  std::string why;
  KdfParams p;
  for (std::uint32_t ops : {wire::kMinKdfOps - 1, wire::kMinKdfOps, wire::kMaxKdfOps, wire::kMaxKdfOps + 1}) {
    p.ops = ops;
    EXPECT_EQ(kdfParamsAcceptable(p, why), ops >= wire::kMinKdfOps && ops <= wire::kMaxKdfOps) << ops;
  }
  p.ops = wire::kMinKdfOps;
  for (std::uint32_t mem : {wire::kMinKdfMemBytes - 1, wire::kMinKdfMemBytes, wire::kMaxKdfMemBytes, wire::kMaxKdfMemBytes + 1}) {
    p.memBytes = mem;
    EXPECT_EQ(kdfParamsAcceptable(p, why), mem >= wire::kMinKdfMemBytes && mem <= wire::kMaxKdfMemBytes) << mem;
  }
}

TEST(Limits, HistoryFileAtItsCap) {
  // The file is filled to cap-1, cap and cap+1 by its last record: up to the cap it just grows;
  // past it, it is compacted to the kept history (2 here) first.
  const std::uint64_t cap = wire::kMaxHistoryFileBytes;
  for (int over : {-1, 0, 1}) {
    const std::string dir = ::testing::TempDir() + "huddle-cap-" + std::to_string(::getpid());
    std::filesystem::remove_all(dir);
    ChatHistoryLog log;
    std::vector<wire::ChatEvent> events;
    std::string warning, error;
    ASSERT_TRUE(log.open(dir + "/chat.log", 2, events, warning, error)) << error;
    wire::ChatEvent e;
    e.kind = wire::ChatKind::Public;
    e.from = "bob";
    e.text = "x";
    ASSERT_TRUE(log.append(e));
    const std::uint64_t base = log.fileBytes() - 1;  // a record's bytes besides its text
    auto add = [&](std::uint64_t textBytes) {
      ++e.seq;
      e.text.assign(textBytes, 'x');
      return log.append(e);
    };
    while (cap - log.fileBytes() > 2 * (base + 3000)) ASSERT_TRUE(add(3000));
    const std::uint64_t target = cap + static_cast<std::uint64_t>(over + 1) - 1;  // cap + over
    const std::uint64_t lastRecord = base + 2000;
    ASSERT_TRUE(add(target - lastRecord - log.fileBytes() - base));  // a filler
    ASSERT_EQ(log.fileBytes() + lastRecord, target);
    ASSERT_TRUE(add(2000));
    if (over <= 0) {
      EXPECT_EQ(log.fileBytes(), cap - static_cast<std::uint64_t>(-over)) << over;
    } else {
      EXPECT_LT(log.fileBytes(), 4 * (base + 3000)) << "compacted to the two kept and the new one";
    }
    EXPECT_EQ(std::filesystem::file_size(dir + "/chat.log"), log.fileBytes());
    std::filesystem::remove_all(dir);
  }
}
