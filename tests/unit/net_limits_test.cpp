// docs/SECURITY.md s.7.2 at the screen hub: streams per session at cap-1, cap and cap+1, and the
// geometry a stream may have.
#include <gtest/gtest.h>

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
