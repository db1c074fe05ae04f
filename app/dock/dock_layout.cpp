#include "app/dock/dock_layout.h"

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <sstream>

// Text form, one token stream, depth first:
//   huddle-layout 1
//   split h 0.25        (two children follow)
//   leaf 0 connection share stats      (active tab index, then the tabs)
//   float chat 100 80 420 300          (after the tree: floating panels and their rects)
namespace huddle::dock {

namespace {

constexpr int kMaxDepth = 16;
constexpr std::size_t kMaxTabs = 64;
constexpr std::size_t kMaxFloating = 32;
constexpr float kMinRatio = 0.05f, kMaxRatio = 0.95f;

std::unique_ptr<DockNode> leafWith(std::vector<std::string> tabs) {
  auto n = std::make_unique<DockNode>();
  n->tabs = std::move(tabs);
  return n;
}

std::unique_ptr<DockNode> splitOf(Axis axis, float ratio, std::unique_ptr<DockNode> a, std::unique_ptr<DockNode> b) {
  auto n = std::make_unique<DockNode>();
  n->axis = axis;
  n->ratio = ratio;
  n->first = std::move(a);
  n->second = std::move(b);
  n->first->parent = n.get();
  n->second->parent = n.get();
  return n;
}

void collectLeaves(DockNode* n, std::vector<DockNode*>& out) {
  if (!n) return;
  if (!n->isSplit()) {
    out.push_back(n);
    return;
  }
  collectLeaves(n->first.get(), out);
  collectLeaves(n->second.get(), out);
}

void writeNode(const DockNode& n, std::ostringstream& out) {
  if (n.isSplit()) {
    out << "split " << (n.axis == Axis::Horizontal ? 'h' : 'v') << ' ' << n.ratio << '\n';
    writeNode(*n.first, out);
    writeNode(*n.second, out);
    return;
  }
  out << "leaf " << n.active;
  for (const auto& t : n.tabs) out << ' ' << t;
  out << '\n';
}

}  // namespace

const std::string* DockNode::activeTab() const {
  if (tabs.empty()) return nullptr;
  return &tabs[static_cast<std::size_t>(std::clamp(active, 0, static_cast<int>(tabs.size()) - 1))];
}

bool validPanelId(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ':' || c == '_' || c == '-';
  });
}

DropZone dropZoneAt(const base::Rect& r, int x, int y) {
  if (r.empty()) return DropZone::Center;
  // Distances to each edge as a share of the size; the nearest edge within a quarter wins.
  const float fx = static_cast<float>(x - r.x) / static_cast<float>(r.w);
  const float fy = static_cast<float>(y - r.y) / static_cast<float>(r.h);
  struct Edge {
    float d;
    DropZone zone;
  } edges[] = {{fx, DropZone::Left}, {1 - fx, DropZone::Right}, {fy, DropZone::Top}, {1 - fy, DropZone::Bottom}};
  const Edge* nearest = std::min_element(std::begin(edges), std::end(edges), [](const Edge& a, const Edge& b) { return a.d < b.d; });
  return nearest->d < 0.25f ? nearest->zone : DropZone::Center;
}

base::Rect dropPreview(const base::Rect& r, DropZone zone) {
  switch (zone) {
    case DropZone::Center: return r;
    case DropZone::Left: return {r.x, r.y, r.w / 2, r.h};
    case DropZone::Right: return {r.x + r.w - r.w / 2, r.y, r.w / 2, r.h};
    case DropZone::Top: return {r.x, r.y, r.w, r.h / 2};
    case DropZone::Bottom: return {r.x, r.y + r.h - r.h / 2, r.w, r.h / 2};
  }
  return r;
}

DockLayout::DockLayout() : m_root(leafWith({})) {}

DockLayout DockLayout::standard() {
  DockLayout l;
  auto side = leafWith({"connection", "share", "stats"});
  auto screens = leafWith({"screens"});
  auto chat = leafWith({"chat"});
  l.m_root = splitOf(Axis::Horizontal, 0.26f, std::move(side),
                     splitOf(Axis::Horizontal, 0.66f, std::move(screens), std::move(chat)));
  return l;
}

void DockLayout::layout(const base::Rect& area, int gapPx) {
  m_splitters.clear();
  std::function<void(DockNode*, base::Rect)> place = [&](DockNode* n, base::Rect r) {
    n->rect = r;
    if (!n->isSplit()) return;
    const bool h = n->axis == Axis::Horizontal;
    const int total = std::max(0, (h ? r.w : r.h) - gapPx);
    const int a = static_cast<int>(static_cast<float>(total) * n->ratio + 0.5f);
    base::Rect ra = r, rb = r, gap = r;
    if (h) {
      ra.w = a;
      gap.x = r.x + a;
      gap.w = gapPx;
      rb.x = gap.x + gapPx;
      rb.w = std::max(0, r.right() - rb.x);
    } else {
      ra.h = a;
      gap.y = r.y + a;
      gap.h = gapPx;
      rb.y = gap.y + gapPx;
      rb.h = std::max(0, r.bottom() - rb.y);
    }
    m_splitters.push_back({n, gap});
    place(n->first.get(), ra);
    place(n->second.get(), rb);
  };
  place(m_root.get(), area);
}

void DockLayout::dragSplitter(DockNode* split, int deltaPx, int minPx) {
  if (!split || !split->isSplit()) return;
  const bool h = split->axis == Axis::Horizontal;
  const float size = static_cast<float>(h ? split->rect.w : split->rect.h);
  if (size <= 0) return;
  float ratio = split->ratio + static_cast<float>(deltaPx) / size;
  // Each side keeps minPx where the space allows it.
  const float minShare = std::min(0.5f, static_cast<float>(minPx) / size);
  split->ratio = std::clamp(ratio, std::max(kMinRatio, minShare), std::min(kMaxRatio, 1 - minShare));
}

std::vector<DockNode*> DockLayout::leaves() {
  std::vector<DockNode*> out;
  collectLeaves(m_root.get(), out);
  return out;
}

DockNode* DockLayout::leafAt(int x, int y) {
  for (DockNode* l : leaves())
    if (x >= l->rect.x && x < l->rect.right() && y >= l->rect.y && y < l->rect.bottom()) return l;
  return nullptr;
}

DockNode* DockLayout::leafOf(const std::string& id) {
  for (DockNode* l : leaves())
    if (std::find(l->tabs.begin(), l->tabs.end(), id) != l->tabs.end()) return l;
  return nullptr;
}

bool DockLayout::contains(const std::string& id) const {
  return const_cast<DockLayout*>(this)->leafOf(id) != nullptr || isFloating(id);
}

bool DockLayout::isFloating(const std::string& id) const {
  return std::any_of(m_floating.begin(), m_floating.end(), [&](const FloatingPanel& f) { return f.id == id; });
}

void DockLayout::addPanel(const std::string& id, const std::string& near) {
  if (contains(id)) return;
  DockNode* target = near.empty() ? nullptr : leafOf(near);
  if (!target) {
    for (DockNode* l : leaves())
      if (!target || l->rect.area() > target->rect.area()) target = l;
  }
  target->tabs.push_back(id);
  target->active = static_cast<int>(target->tabs.size()) - 1;
}

void DockLayout::removePanel(const std::string& id) {
  m_floating.erase(std::remove_if(m_floating.begin(), m_floating.end(), [&](const FloatingPanel& f) { return f.id == id; }),
                   m_floating.end());
  DockNode* leaf = leafOf(id);
  if (!leaf) return;
  auto it = std::find(leaf->tabs.begin(), leaf->tabs.end(), id);
  const int index = static_cast<int>(it - leaf->tabs.begin());
  leaf->tabs.erase(it);
  if (leaf->active > index || leaf->active >= static_cast<int>(leaf->tabs.size()))
    leaf->active = std::max(0, leaf->active - 1);
  if (!leaf->tabs.empty() || !leaf->parent) return;
  // The emptied leaf goes; its sibling takes the parent's place.
  DockNode* parent = leaf->parent;
  std::unique_ptr<DockNode> sibling = std::move(parent->first.get() == leaf ? parent->second : parent->first);
  sibling->parent = parent->parent;
  if (!parent->parent) {
    m_root = std::move(sibling);
  } else {
    DockNode* grand = parent->parent;
    (grand->first.get() == parent ? grand->first : grand->second) = std::move(sibling);
  }
}

bool DockLayout::dock(const std::string& id, DockNode* target, DropZone zone) {
  if (!target || target->isSplit()) return false;
  DockNode* source = leafOf(id);
  if (source == target && target->tabs.size() == 1) return false;  // onto itself: nothing to do
  if (source == target && zone == DropZone::Center) return false;
  removePanel(id);
  // Removing never frees `target`: only an emptied leaf goes, and `target` still holds tabs.
  if (zone == DropZone::Center) {
    target->tabs.push_back(id);
    target->active = static_cast<int>(target->tabs.size()) - 1;
    return true;
  }
  const Axis axis = zone == DropZone::Left || zone == DropZone::Right ? Axis::Horizontal : Axis::Vertical;
  const bool newFirst = zone == DropZone::Left || zone == DropZone::Top;
  DockNode* parent = target->parent;
  std::unique_ptr<DockNode>& slot = !parent ? m_root : (parent->first.get() == target ? parent->first : parent->second);
  std::unique_ptr<DockNode> old = std::move(slot);
  auto fresh = leafWith({id});
  slot = newFirst ? splitOf(axis, 0.5f, std::move(fresh), std::move(old))
                  : splitOf(axis, 0.5f, std::move(old), std::move(fresh));
  slot->parent = parent;
  return true;
}

void DockLayout::floatPanel(const std::string& id, const base::Rect& rect) {
  if (!leafOf(id)) return;
  removePanel(id);
  m_floating.push_back({id, rect});
}

void DockLayout::activate(const std::string& id) {
  if (DockNode* l = leafOf(id))
    l->active = static_cast<int>(std::find(l->tabs.begin(), l->tabs.end(), id) - l->tabs.begin());
}

std::string DockLayout::serialize() const {
  std::ostringstream out;
  out << "huddle-layout 1\n";
  writeNode(*m_root, out);
  for (const auto& f : m_floating)
    out << "float " << f.id << ' ' << f.rect.x << ' ' << f.rect.y << ' ' << f.rect.w << ' ' << f.rect.h << '\n';
  return out.str();
}

bool DockLayout::parse(const std::string& text, std::string& error) {
  std::istringstream in(text);
  std::string line;
  std::vector<std::string> lines;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) lines.push_back(line);
    if (lines.size() > 512) return error = "layout too long", false;
  }
  if (lines.empty() || lines[0] != "huddle-layout 1") return error = "not a Huddle layout (version 1)", false;
  std::size_t next = 1;
  std::vector<std::string> seen;
  auto claim = [&](const std::string& id) {
    if (!validPanelId(id)) return error = "bad panel name '" + id + "'", false;
    if (std::find(seen.begin(), seen.end(), id) != seen.end()) return error = "panel '" + id + "' appears twice", false;
    seen.push_back(id);
    return true;
  };
  std::function<std::unique_ptr<DockNode>(int)> readNode = [&](int depth) -> std::unique_ptr<DockNode> {
    if (depth > kMaxDepth) return error = "layout nested too deeply", nullptr;
    if (next >= lines.size()) return error = "layout ends early", nullptr;
    std::istringstream ls(lines[next++]);
    std::string kind;
    ls >> kind;
    if (kind == "split") {
      std::string axis;
      float ratio = 0;
      if (!(ls >> axis >> ratio) || (axis != "h" && axis != "v") || !(ratio >= kMinRatio && ratio <= kMaxRatio))
        return error = "bad split on line " + std::to_string(next), nullptr;
      auto a = readNode(depth + 1);
      if (!a) return nullptr;
      auto b = readNode(depth + 1);
      if (!b) return nullptr;
      return splitOf(axis == "h" ? Axis::Horizontal : Axis::Vertical, ratio, std::move(a), std::move(b));
    }
    if (kind == "leaf") {
      auto n = std::make_unique<DockNode>();
      if (!(ls >> n->active)) return error = "bad leaf on line " + std::to_string(next), nullptr;
      for (std::string id; ls >> id;) {
        if (!claim(id)) return nullptr;
        if (n->tabs.size() >= kMaxTabs) return error = "too many tabs", nullptr;
        n->tabs.push_back(id);
      }
      n->active = n->tabs.empty() ? 0 : std::clamp(n->active, 0, static_cast<int>(n->tabs.size()) - 1);
      return n;
    }
    return error = "expected 'split' or 'leaf' on line " + std::to_string(next), nullptr;
  };
  auto root = readNode(0);
  if (!root) return false;
  std::vector<FloatingPanel> floating;
  for (; next < lines.size(); ++next) {
    std::istringstream ls(lines[next]);
    std::string kind;
    FloatingPanel f;
    if (!(ls >> kind >> f.id >> f.rect.x >> f.rect.y >> f.rect.w >> f.rect.h) || kind != "float")
      return error = "bad line " + std::to_string(next + 1), false;
    if (!claim(f.id)) return false;
    if (f.rect.w < 50 || f.rect.h < 50 || f.rect.w > 16384 || f.rect.h > 16384 || std::abs(f.rect.x) > 16384 ||
        std::abs(f.rect.y) > 16384)
      return error = "floating panel '" + f.id + "' has an odd size", false;
    if (floating.size() >= kMaxFloating) return error = "too many floating panels", false;
    floating.push_back(f);
  }
  // Leaves left empty by hand-editing would be dead space: only the root may be empty.
  std::vector<DockNode*> all;
  collectLeaves(root.get(), all);
  for (DockNode* l : all)
    if (l->tabs.empty() && l != root.get()) return error = "a leaf without panels", false;
  m_root = std::move(root);
  m_floating = std::move(floating);
  m_splitters.clear();
  return true;
}

}  // namespace huddle::dock
