// The window's dock layout, without any drawing: a split tree filling the window, whose
// leaves hold panels as tabs, plus panels floating on top. Dropping a tab onto a leaf's
// centre adds it to that leaf's tabs; onto an edge, splits the leaf there. The layout
// saves to and loads from a small text format. The window (app/ui/dock_view) draws it with
// ImGui and turns drags into the operations here.
// Thread: UI thread only (plain data).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "net/base/rect.h"

namespace huddle::dock {

enum class Axis { Horizontal, Vertical };  // Horizontal: children side by side
enum class DropZone { Center, Left, Right, Top, Bottom };

struct DockNode {
  // A split has two children; a leaf has tabs.
  Axis axis = Axis::Horizontal;
  float ratio = 0.5f;  // the first child's share of the split
  std::unique_ptr<DockNode> first, second;
  std::vector<std::string> tabs;
  int active = 0;
  DockNode* parent = nullptr;
  base::Rect rect;     // from the last layout()

  bool isSplit() const { return first != nullptr; }
  const std::string* activeTab() const;
};

struct FloatingPanel {
  std::string id;
  base::Rect rect;
};

// Where a splitter sits after layout(): dragging it moves `split`'s ratio.
struct Splitter {
  DockNode* split = nullptr;
  base::Rect rect;
};

class DockLayout {
 public:
  DockLayout();

  // The layout a new user gets: a side column (connection, share, stats), the screens,
  // and the chat.
  static DockLayout standard();

  // Computes every node's rectangle inside `area`; splitters take `gapPx` between children.
  void layout(const base::Rect& area, int gapPx = 6);
  const std::vector<Splitter>& splitters() const { return m_splitters; }
  // Moves a splitter by `deltaPx` along its axis; each side keeps at least `minPx`.
  void dragSplitter(DockNode* split, int deltaPx, int minPx = 80);

  std::vector<DockNode*> leaves();
  DockNode* root() { return m_root.get(); }
  DockNode* leafAt(int x, int y);
  DockNode* leafOf(const std::string& id);
  bool contains(const std::string& id) const;
  bool isFloating(const std::string& id) const;
  std::vector<FloatingPanel>& floating() { return m_floating; }

  // Adds a panel as a tab (made active) next to `near` if that is docked, else in the
  // largest leaf. Nothing happens if the panel is already there.
  void addPanel(const std::string& id, const std::string& near = "");
  // Takes a panel out of the layout; an emptied leaf disappears (the root leaf stays).
  void removePanel(const std::string& id);
  // Moves a panel onto `target` (a leaf of this layout) at `zone`. False if that would
  // change nothing (a leaf's only tab dropped onto itself).
  bool dock(const std::string& id, DockNode* target, DropZone zone);
  // Takes a panel out of the tree into its own floating window at `rect`.
  void floatPanel(const std::string& id, const base::Rect& rect);
  // Makes `id` the active tab of its leaf.
  void activate(const std::string& id);

  // Text form (see dock_layout.cpp) and back. parse() leaves this layout untouched and
  // returns false with `error` on anything malformed.
  std::string serialize() const;
  bool parse(const std::string& text, std::string& error);

 private:
  std::unique_ptr<DockNode> m_root;
  std::vector<FloatingPanel> m_floating;
  std::vector<Splitter> m_splitters;
};

// Which part of `leafRect` the point (x, y) is over: an edge band (a quarter of the size)
// splits, the middle adds a tab.
DropZone dropZoneAt(const base::Rect& leafRect, int x, int y);
// The rectangle a drop at `zone` would give the panel (for the preview).
base::Rect dropPreview(const base::Rect& leafRect, DropZone zone);
// Panel ids are short and simple: letters, digits, ':', '_', '-' (1-64 characters).
bool validPanelId(const std::string& id);

}  // namespace huddle::dock
