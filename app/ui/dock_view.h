// Draws a dock::DockLayout with ImGui: one borderless window per leaf with its panels as
// tabs, splitters in the gaps, floating panels as ordinary windows. Dragging a tab shows
// where it would land (a leaf's middle: a tab there; its edge: a split); dropping it on
// its own leaf's middle tears it off into a floating window. Right-click on a tab: float or
// close; a floating panel's menu docks it back.
// Thread: UI thread only.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "app/dock/dock_layout.h"

namespace huddle::ui {

struct DockCallbacks {
  std::function<void(const std::string& id)> draw;         // the panel's content
  std::function<std::string(const std::string& id)> title;  // its tab label
  std::function<bool(const std::string& id)> closable;      // viewers close; fixed panels do not
};

class DockView {
 public:
  // Draws `layout` in the given area (window pixels). Panels the user closed are appended
  // to `closed` (the caller ends what they showed). True if the layout changed (to save).
  bool draw(dock::DockLayout& layout, float x, float y, float w, float h, const DockCallbacks& cb,
            std::vector<std::string>& closed);
  // Brings a panel's tab to the front next frame.
  void select(const std::string& id) { m_select = id; }

 private:
  std::string m_dragging;  // the panel whose tab is being dragged
  std::string m_select;
};

}  // namespace huddle::ui
