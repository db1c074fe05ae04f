#include "app/ui/dock_view.h"

#include <imgui.h>

#include <cmath>
#include <cstdio>

namespace huddle::ui {

namespace {

constexpr ImGuiWindowFlags kLeafFlags = ImGuiWindowFlags_NoTitleBar | ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoResize |
                                        ImGuiWindowFlags_NoCollapse | ImGuiWindowFlags_NoBringToFrontOnFocus |
                                        ImGuiWindowFlags_NoSavedSettings | ImGuiWindowFlags_NoScrollbar |
                                        ImGuiWindowFlags_NoScrollWithMouse;

ImVec2 toIm(int x, int y) { return ImVec2(static_cast<float>(x), static_cast<float>(y)); }

}  // namespace

bool DockView::draw(dock::DockLayout& layout, float x, float y, float w, float h, const DockCallbacks& cb,
                    std::vector<std::string>& closed) {
  bool changed = false;
  const base::Rect area{static_cast<int>(x), static_cast<int>(y), static_cast<int>(w), static_cast<int>(h)};
  const float scale = ImGui::GetFontSize() / 16.0f;
  layout.layout(area, static_cast<int>(std::round(6 * std::max(1.0f, scale))));

  // Splitters: each a small window over its gap (no leaf overlaps a gap, so nothing hides
  // them and they hide nothing).
  int index = 0;
  for (const dock::Splitter& s : layout.splitters()) {
    char name[32];
    std::snprintf(name, sizeof name, "##split%d", index++);
    ImGui::SetNextWindowPos(toIm(s.rect.x, s.rect.y));
    ImGui::SetNextWindowSize(ImVec2(static_cast<float>(std::max(1, s.rect.w)), static_cast<float>(std::max(1, s.rect.h))));
    ImGui::PushStyleVar(ImGuiStyleVar_WindowPadding, ImVec2(0, 0));
    ImGui::PushStyleVar(ImGuiStyleVar_WindowMinSize, ImVec2(1, 1));
    ImGui::Begin(name, nullptr, kLeafFlags | ImGuiWindowFlags_NoBackground | ImGuiWindowFlags_NoNav);
    ImGui::PopStyleVar(2);
    ImGui::InvisibleButton("##split", ImGui::GetContentRegionAvail());
    const bool horizontal = s.split->axis == dock::Axis::Horizontal;
    if (ImGui::IsItemHovered() || ImGui::IsItemActive())
      ImGui::SetMouseCursor(horizontal ? ImGuiMouseCursor_ResizeEW : ImGuiMouseCursor_ResizeNS);
    if (ImGui::IsItemActive()) {
      const ImVec2 d = ImGui::GetIO().MouseDelta;
      const float delta = horizontal ? d.x : d.y;
      if (delta != 0) {
        layout.dragSplitter(s.split, static_cast<int>(std::round(delta)));
        changed = true;
      }
    }
    ImGui::End();
  }

  // Leaves. Changes to the tree wait until every leaf is drawn (a change may free a leaf).
  std::string dragStarted, floatId;
  base::Rect floatRect;
  for (dock::DockNode* leaf : layout.leaves()) {
    ImGui::SetNextWindowPos(toIm(leaf->rect.x, leaf->rect.y));
    ImGui::SetNextWindowSize(toIm(leaf->rect.w, leaf->rect.h));
    char name[48];
    std::snprintf(name, sizeof name, "##leaf%p", static_cast<void*>(leaf));
    ImGui::Begin(name, nullptr, kLeafFlags);
    if (leaf->tabs.empty()) {
      ImGui::TextDisabled("Drag a tab here.");
    } else if (ImGui::BeginTabBar("tabs", ImGuiTabBarFlags_FittingPolicyScroll)) {
      const std::vector<std::string> tabs = leaf->tabs;  // callbacks may change the layout
      for (std::size_t i = 0; i < tabs.size(); ++i) {
        const std::string& id = tabs[i];
        const std::string label = cb.title(id) + "###" + id;
        bool open = true;
        ImGuiTabItemFlags flags = m_select == id ? ImGuiTabItemFlags_SetSelected : 0;
        const bool visible = ImGui::BeginTabItem(label.c_str(), cb.closable(id) ? &open : nullptr, flags);
        // A tab pulled away from its bar starts a panel drag.
        if (ImGui::IsItemActive() && ImGui::IsMouseDragging(ImGuiMouseButton_Left, 12.0f * scale) && m_dragging.empty())
          dragStarted = id;
        if (ImGui::BeginPopupContextItem()) {
          if (ImGui::MenuItem("Float")) {
            const ImVec2 m = ImGui::GetMousePos();
            floatId = id;
            floatRect = {static_cast<int>(m.x) - 40, static_cast<int>(m.y) - 10, std::max(320, leaf->rect.w / 2),
                         std::max(240, leaf->rect.h / 2)};
          }
          if (cb.closable(id) && ImGui::MenuItem("Close")) open = false;
          ImGui::EndPopup();
        }
        if (visible) {
          if (leaf->active != static_cast<int>(i) && layout.leafOf(id) == leaf) {
            leaf->active = static_cast<int>(i);
            changed = true;
          }
          ImGui::BeginChild("panel", ImVec2(0, 0), false, ImGuiWindowFlags_NoScrollbar | ImGuiWindowFlags_NoScrollWithMouse);
          cb.draw(id);
          ImGui::EndChild();
          ImGui::EndTabItem();
        }
        if (m_select == id) m_select.clear();
        if (!open) closed.push_back(id);
      }
      ImGui::EndTabBar();
    }
    ImGui::End();
  }

  if (!floatId.empty()) {
    layout.floatPanel(floatId, floatRect);
    changed = true;
  }

  // Floating panels: ordinary windows; their position and size are kept in the layout.
  for (std::size_t i = 0; i < layout.floating().size(); ++i) {
    dock::FloatingPanel f = layout.floating()[i];
    ImGui::SetNextWindowPos(toIm(f.rect.x, f.rect.y), ImGuiCond_Appearing);
    ImGui::SetNextWindowSize(toIm(f.rect.w, f.rect.h), ImGuiCond_Appearing);
    bool open = true;
    const std::string label = cb.title(f.id) + "###float:" + f.id;
    if (m_select == f.id) {
      ImGui::SetNextWindowFocus();
      m_select.clear();
    }
    bool dockBack = false;
    if (ImGui::Begin(label.c_str(), cb.closable(f.id) ? &open : nullptr,
                     ImGuiWindowFlags_MenuBar | ImGuiWindowFlags_NoSavedSettings)) {
      if (ImGui::BeginMenuBar()) {
        if (ImGui::MenuItem("Dock")) dockBack = true;
        ImGui::EndMenuBar();
      }
      cb.draw(f.id);
    }
    const ImVec2 p = ImGui::GetWindowPos(), s = ImGui::GetWindowSize();
    ImGui::End();
    const base::Rect now{static_cast<int>(p.x), static_cast<int>(p.y), static_cast<int>(s.x), static_cast<int>(s.y)};
    if (i < layout.floating().size() && layout.floating()[i].id == f.id && !(now == f.rect)) {
      layout.floating()[i].rect = now;
      changed = true;
    }
    if (dockBack) {
      dock::DockNode* biggest = nullptr;
      for (dock::DockNode* l : layout.leaves())
        if (!biggest || l->rect.area() > biggest->rect.area()) biggest = l;
      layout.dock(f.id, biggest, dock::DropZone::Center);
      changed = true;
      break;  // the floating list changed under us
    }
    if (!open) closed.push_back(f.id);
  }

  // A tab being dragged: show where it would land; drop it on release.
  if (!dragStarted.empty()) m_dragging = dragStarted;
  if (!m_dragging.empty() && !ImGui::IsMousePosValid()) {
    m_dragging.clear();  // the pointer left for nowhere: no drop
  } else if (!m_dragging.empty()) {
    const ImVec2 m = ImGui::GetMousePos();
    dock::DockNode* target = layout.leafAt(static_cast<int>(m.x), static_cast<int>(m.y));
    ImDrawList* fg = ImGui::GetForegroundDrawList();
    const dock::DockNode* source = layout.leafOf(m_dragging);
    if (target) {
      const dock::DropZone zone = dock::dropZoneAt(target->rect, static_cast<int>(m.x), static_cast<int>(m.y));
      const bool tearOff = target == source && zone == dock::DropZone::Center;
      const base::Rect r = tearOff ? base::Rect{static_cast<int>(m.x) - 40, static_cast<int>(m.y) - 10, 320, 240}
                                   : dock::dropPreview(target->rect, zone);
      fg->AddRectFilled(toIm(r.x, r.y), toIm(r.right(), r.bottom()), IM_COL32(70, 130, 220, 70), 4.0f);
      fg->AddRect(toIm(r.x, r.y), toIm(r.right(), r.bottom()), IM_COL32(90, 150, 240, 200), 4.0f, 0, 2.0f);
      if (!ImGui::IsMouseDown(ImGuiMouseButton_Left)) {
        if (tearOff) {
          if (source && source->tabs.size() > 1) layout.floatPanel(m_dragging, {r.x, r.y, std::max(320, source->rect.w / 2),
                                                                                std::max(240, source->rect.h / 2)});
        } else {
          layout.dock(m_dragging, target, zone);
        }
        select(m_dragging);
        changed = true;
      }
    }
    fg->AddText(ImVec2(m.x + 14, m.y + 4), IM_COL32(230, 235, 245, 255), cb.title(m_dragging).c_str());
    if (!ImGui::IsMouseDown(ImGuiMouseButton_Left)) m_dragging.clear();
  }
  return changed;
}

}  // namespace huddle::ui
