// huddle-bench's frame code (tests/bench/screen_stamp.h): what the X load draws is read back
// after JPEG 4:2:0 at the bench's quality and below, off the 16-px grid too, and a torn or
// smudged code reads as none rather than as a wrong number.
#include <gtest/gtest.h>
#include <turbojpeg.h>

#include <cstdint>
#include <vector>

#include "tests/bench/screen_stamp.h"

namespace huddle::bench {
namespace {

constexpr int kW = 320, kH = 64;

// A grey image with the code of `number` at (x0, y0).
std::vector<std::uint8_t> imageWith(std::uint32_t number, int x0, int y0) {
  std::vector<std::uint8_t> px(std::size_t(kW) * kH * 4, 0x80);
  for (int y = 0; y < kStampH; ++y)
    for (int x = 0; x < kStampW; ++x) {
      const std::uint8_t v = stampWhite(number, x, y) ? 0xFF : 0x00;
      std::uint8_t* p = px.data() + (std::size_t(y0 + y) * kW + std::size_t(x0 + x)) * 4;
      p[0] = p[1] = p[2] = v;
    }
  return px;
}

std::vector<std::uint8_t> throughJpeg(const std::vector<std::uint8_t>& px, int quality) {
  tjhandle c = tjInitCompress(), d = tjInitDecompress();
  unsigned char* jpeg = nullptr;
  unsigned long size = 0;
  std::vector<std::uint8_t> out(px.size());
  EXPECT_EQ(tjCompress2(c, px.data(), kW, kW * 4, kH, TJPF_BGRX, &jpeg, &size, TJSAMP_420, quality, TJFLAG_FASTDCT), 0);
  EXPECT_EQ(tjDecompress2(d, jpeg, size, out.data(), kW, kW * 4, kH, TJPF_BGRX, 0), 0);
  tjFree(jpeg);
  tjDestroy(c);
  tjDestroy(d);
  return out;
}

TEST(ScreenStamp, ReadsBackThroughJpeg420) {
  for (std::uint32_t number : {0u, 1u, 0x5A5Au, 0xA5A5u, 0xFFFFu, 12345u})
    for (int quality : {80, 50, 30})
      for (auto [x0, y0] : {std::pair{0, 0}, std::pair{16, 16}, std::pair{7, 13}}) {
        const auto px = throughJpeg(imageWith(number, x0, y0), quality);
        EXPECT_EQ(readStamp(px.data() + (std::size_t(y0) * kW + std::size_t(x0)) * 4, kW * 4), number)
            << number << " q" << quality << " at " << x0 << "," << y0;
      }
}

TEST(ScreenStamp, TornOrSmudgedReadsAsNone) {
  // The top row of one number over the inverted row of another (a capture between two draws).
  auto a = imageWith(0x1234, 0, 0), b = imageWith(0x4321, 0, 0);
  std::copy(b.begin() + std::ptrdiff_t(kStampBlockPx) * kW * 4, b.end(), a.begin() + std::ptrdiff_t(kStampBlockPx) * kW * 4);
  EXPECT_EQ(readStamp(a.data(), kW * 4), -1);
  // Shifted by half a block (a scroll caught between the copy and the new code).
  const auto c = imageWith(0x1234, 0, 8);
  EXPECT_EQ(readStamp(c.data(), kW * 4), -1);
  // No code at all.
  std::vector<std::uint8_t> grey(std::size_t(kW) * kH * 4, 0x80);
  EXPECT_EQ(readStamp(grey.data(), kW * 4), -1);
}

TEST(ScreenStamp, LatencyOncePerCodeAndOnlyForThisRunsFrames) {
  StampLatency l;
  auto drawn = [](std::uint32_t code) -> std::int64_t { return code == 9 ? 0 : 1'000'000 + std::int64_t(code) * 16'667; };
  l.baseline(1);
  l.shown(1, 2'000'000, drawn);   // the first image's code: no sample
  l.shown(2, 1'050'000, drawn);   // 16.7 ms after frame 2 was drawn
  l.shown(2, 1'060'000, drawn);   // the same code again: no second sample
  l.shown(-1, 1'070'000, drawn);  // unreadable
  l.shown(9, 1'080'000, drawn);   // never drawn
  l.shown(3, 1'070'000, drawn);   // 20 ms after
  l.shown(4, 1'090'000, drawn);   // 23.3 ms after
  ASSERT_EQ(l.samples(), 3u);
  EXPECT_NEAR(l.percentileMs(50), 19.999, 0.01);
  EXPECT_NEAR(l.percentileMs(95), 23.332, 0.01);
}

}  // namespace
}  // namespace huddle::bench
