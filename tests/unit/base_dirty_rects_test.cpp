#include <gtest/gtest.h>

#include "net/base/dirty_rects.h"

namespace huddle::base {
namespace {

TEST(DirtyRects, TilesSideBySideBecomeOneAndApartStayApart) {
  DirtyRects d;
  for (int x = 0; x < 4; ++x) d.add({x * 64, 64, 64, 64});  // a row of tiles
  d.add({1000, 900, 64, 64});                              // far away
  d.add({64, 128, 64, 64});                                // under the row: joins it
  ASSERT_EQ(d.rects().size(), 2u);
  EXPECT_EQ(d.rects()[0], (Rect{1000, 900, 64, 64}));
  EXPECT_EQ(d.rects()[1], (Rect{0, 64, 256, 128}));
  EXPECT_EQ(d.bounds(), (Rect{0, 64, 1064, 900}));
  // Tiles that meet only at a corner stay two: their union would be twice their area.
  DirtyRects corner;
  corner.add({0, 0, 64, 64});
  corner.add({64, 64, 64, 64});
  EXPECT_EQ(corner.rects().size(), 2u);
  EXPECT_EQ(corner.area(), 2 * 64 * 64);
  // Inside one already: nothing new. Empty: ignored.
  corner.add({10, 10, 5, 5});
  corner.add(Rect{});
  EXPECT_EQ(corner.rects().size(), 2u);
}

TEST(DirtyRects, PastTheLimitTheCheapestPairIsJoinedAndNoneOverlap) {
  DirtyRects d(3);
  d.add({0, 0, 10, 10});
  d.add({500, 0, 10, 10});
  d.add({0, 500, 10, 10});
  d.add({20, 0, 10, 10});  // the fourth: joined with its near neighbour, not a far one
  ASSERT_EQ(d.rects().size(), 3u);
  EXPECT_EQ(d.bounds(), (Rect{0, 0, 510, 510}));
  bool joined = false;
  for (const Rect& r : d.rects()) joined = joined || r == Rect{0, 0, 30, 10};
  EXPECT_TRUE(joined);
  // Many scattered rectangles: never more than the limit, never overlapping, all covered.
  DirtyRects many(4);
  std::vector<Rect> added;
  for (int i = 0; i < 50; ++i) {
    const Rect r{(i * 97) % 1800, (i * 53) % 1000, 30 + i % 40, 20 + i % 30};
    many.add(r);
    added.push_back(r);
  }
  ASSERT_LE(many.rects().size(), 4u);
  for (std::size_t i = 0; i < many.rects().size(); ++i)
    for (std::size_t j = i + 1; j < many.rects().size(); ++j)
      EXPECT_TRUE(many.rects()[i].intersected(many.rects()[j]).empty());
  for (const Rect& r : added) {
    bool covered = false;
    for (const Rect& m : many.rects()) covered = covered || m.intersected(r) == r;
    EXPECT_TRUE(covered) << r.x << "," << r.y;
  }
}

}  // namespace
}  // namespace huddle::base
