// The dock layer's layout math without a window: splits, drops, sizes, saving and loading.
#include <gtest/gtest.h>

#include "app/dock/dock_layout.h"

using namespace huddle;
using namespace huddle::dock;

namespace {
std::vector<std::string> tabsOf(DockLayout& l, const std::string& id) {
  DockNode* n = l.leafOf(id);
  return n ? n->tabs : std::vector<std::string>{};
}
}  // namespace

TEST(Dock, StandardLayoutFillsTheWindow) {
  DockLayout l = DockLayout::standard();
  l.layout({0, 0, 1000, 600}, 6);
  auto leaves = l.leaves();
  ASSERT_EQ(leaves.size(), 3u);
  EXPECT_EQ(tabsOf(l, "share"), (std::vector<std::string>{"connection", "share", "stats"}));
  // Leaves tile the area: widths plus the two gaps make the whole width, heights are full.
  int width = 0;
  for (DockNode* n : leaves) {
    width += n->rect.w;
    EXPECT_EQ(n->rect.h, 600);
  }
  EXPECT_EQ(width + 2 * 6, 1000);
  EXPECT_EQ(l.splitters().size(), 2u);
  EXPECT_EQ(l.leafAt(10, 10), l.leafOf("connection"));
  EXPECT_EQ(l.leafAt(990, 590), l.leafOf("chat"));
}

TEST(Dock, DropZones) {
  base::Rect r{100, 100, 400, 200};
  EXPECT_EQ(dropZoneAt(r, 300, 200), DropZone::Center);
  EXPECT_EQ(dropZoneAt(r, 110, 200), DropZone::Left);
  EXPECT_EQ(dropZoneAt(r, 495, 200), DropZone::Right);
  EXPECT_EQ(dropZoneAt(r, 300, 105), DropZone::Top);
  EXPECT_EQ(dropZoneAt(r, 300, 298), DropZone::Bottom);
  EXPECT_EQ(dropPreview(r, DropZone::Left), (base::Rect{100, 100, 200, 200}));
  EXPECT_EQ(dropPreview(r, DropZone::Bottom), (base::Rect{100, 200, 400, 100}));
}

TEST(Dock, DropOnCentreAddsATabAndEmptiedLeavesCollapse) {
  DockLayout l = DockLayout::standard();
  l.layout({0, 0, 1000, 600});
  // Chat joins the screens leaf: the chat leaf disappears, two leaves remain.
  ASSERT_TRUE(l.dock("chat", l.leafOf("screens"), DropZone::Center));
  EXPECT_EQ(tabsOf(l, "chat"), (std::vector<std::string>{"screens", "chat"}));
  EXPECT_EQ(l.leafOf("chat")->active, 1);
  EXPECT_EQ(l.leaves().size(), 2u);
  l.layout({0, 0, 1000, 600});
  EXPECT_EQ(l.splitters().size(), 1u);
  // Dropping a leaf's only tab onto itself changes nothing.
  EXPECT_FALSE(l.dock("connection", l.leafOf("stats"), DropZone::Center));
}

TEST(Dock, DropOnAnEdgeSplitsTheLeaf) {
  DockLayout l = DockLayout::standard();
  l.layout({0, 0, 1000, 600});
  DockNode* screens = l.leafOf("screens");
  ASSERT_TRUE(l.dock("stats", screens, DropZone::Bottom));
  l.layout({0, 0, 1000, 600});
  DockNode* stats = l.leafOf("stats");
  ASSERT_NE(stats, nullptr);
  EXPECT_EQ(stats->tabs.size(), 1u);
  EXPECT_EQ(stats->parent->axis, Axis::Vertical);
  EXPECT_EQ(stats->parent->second.get(), stats);  // bottom: the new leaf comes second
  EXPECT_GT(stats->rect.y, l.leafOf("screens")->rect.y);
  EXPECT_EQ(stats->rect.x, l.leafOf("screens")->rect.x);
  EXPECT_EQ(tabsOf(l, "connection"), (std::vector<std::string>{"connection", "share"}));
  // Splitting a leaf by its own tab: the other tabs stay, the panel moves beside them.
  ASSERT_TRUE(l.dock("share", l.leafOf("connection"), DropZone::Left));
  EXPECT_EQ(tabsOf(l, "share"), (std::vector<std::string>{"share"}));
  EXPECT_EQ(tabsOf(l, "connection"), (std::vector<std::string>{"connection"}));
  EXPECT_EQ(l.leaves().size(), 5u);
}

TEST(Dock, SplittersResizeWithinLimits) {
  DockLayout l = DockLayout::standard();
  l.layout({0, 0, 1000, 600}, 6);
  Splitter s = l.splitters()[0];  // the side column's
  const int before = l.leafOf("connection")->rect.w;
  l.dragSplitter(s.split, 100);
  l.layout({0, 0, 1000, 600}, 6);
  EXPECT_NEAR(l.leafOf("connection")->rect.w, before + 100, 1);
  l.dragSplitter(l.splitters()[0].split, -5000);
  l.layout({0, 0, 1000, 600}, 6);
  EXPECT_GE(l.leafOf("connection")->rect.w, 79);  // never below the minimum
}

TEST(Dock, FloatingAndRemovingPanels) {
  DockLayout l = DockLayout::standard();
  l.layout({0, 0, 1000, 600});
  l.floatPanel("chat", {50, 60, 400, 300});
  EXPECT_TRUE(l.isFloating("chat"));
  EXPECT_TRUE(l.contains("chat"));
  EXPECT_EQ(l.leafOf("chat"), nullptr);
  EXPECT_EQ(l.leaves().size(), 2u);
  // Docking a floating panel puts it back in the tree.
  ASSERT_TRUE(l.dock("chat", l.leafOf("screens"), DropZone::Right));
  EXPECT_FALSE(l.isFloating("chat"));
  EXPECT_EQ(l.leaves().size(), 3u);
  // Viewers come and go next to the screens panel.
  l.addPanel("viewer:7", "screens");
  EXPECT_EQ(tabsOf(l, "viewer:7"), (std::vector<std::string>{"screens", "viewer:7"}));
  l.removePanel("viewer:7");
  EXPECT_FALSE(l.contains("viewer:7"));
  EXPECT_EQ(l.leafOf("screens")->active, 0);
  // Removing everything leaves an empty root, never no tree.
  for (auto id : {"connection", "share", "stats", "screens", "chat"}) l.removePanel(id);
  ASSERT_EQ(l.leaves().size(), 1u);
  EXPECT_TRUE(l.leaves()[0]->tabs.empty());
  l.addPanel("chat");
  EXPECT_EQ(tabsOf(l, "chat"), (std::vector<std::string>{"chat"}));
}

TEST(Dock, SavesAndLoadsTheSameLayout) {
  DockLayout l = DockLayout::standard();
  l.layout({0, 0, 1000, 600});
  l.dock("stats", l.leafOf("chat"), DropZone::Top);
  l.dragSplitter(l.splitters()[0].split, 37);
  l.floatPanel("share", {10, 20, 300, 200});
  l.activate("share");
  const std::string text = l.serialize();
  DockLayout back;
  std::string error;
  ASSERT_TRUE(back.parse(text, error)) << error << "\n" << text;
  EXPECT_EQ(back.serialize(), text);
  back.layout({0, 0, 1000, 600});
  l.layout({0, 0, 1000, 600});
  EXPECT_EQ(back.leafOf("stats")->rect, l.leafOf("stats")->rect);
}

TEST(Dock, MalformedLayoutsAreRefusedAndChangeNothing) {
  DockLayout l = DockLayout::standard();
  const std::string before = l.serialize();
  std::string error;
  for (const std::string& bad : {
           std::string(""),
           std::string("huddle-layout 2\nleaf 0 chat\n"),
           std::string("huddle-layout 1\nsplit h 0.5\nleaf 0 chat\n"),          // ends early
           std::string("huddle-layout 1\nsplit x 0.5\nleaf 0 a\nleaf 0 b\n"),   // bad axis
           std::string("huddle-layout 1\nsplit h 1.5\nleaf 0 a\nleaf 0 b\n"),   // bad ratio
           std::string("huddle-layout 1\nsplit h 0.5\nleaf 0 a\nleaf 0 a\n"),   // duplicate
           std::string("huddle-layout 1\nsplit h 0.5\nleaf 0 a\nleaf 0\n"),     // empty leaf
           std::string("huddle-layout 1\nleaf 0 a/b\n"),                        // bad name
           std::string("huddle-layout 1\nleaf 0 a\nfloat b 0 0 10 10\n"),       // tiny float
           std::string("huddle-layout 1\nleaf 0 a\nwhat\n"),
       }) {
    EXPECT_FALSE(l.parse(bad, error)) << bad;
    EXPECT_FALSE(error.empty());
  }
  // Nesting too deep is refused (the parser recurses, so depth is capped).
  std::string deep = "huddle-layout 1\n";
  for (int i = 0; i < 40; ++i) deep += "split h 0.5\n";
  for (int i = 0; i < 41; ++i) deep += "leaf 0 p" + std::to_string(i) + "\n";
  EXPECT_FALSE(l.parse(deep, error));
  EXPECT_EQ(l.serialize(), before);
  // Out-of-range active tabs are clamped, not trusted.
  ASSERT_TRUE(l.parse("huddle-layout 1\nleaf 9 a b\n", error)) << error;
  EXPECT_EQ(l.leaves()[0]->active, 1);
}
