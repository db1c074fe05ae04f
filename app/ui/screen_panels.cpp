// The screen panels: the list of shared screens, a viewer per watched stream (texture, fit /
// 1:1 / fill, zoom and pan, fullscreen, screenshot, overlay), sharing with live sliders,
// and the stats plots.
#include <imgui.h>

#include <algorithm>
#include <cmath>

#include "app/ui/ui_app.h"
#include "app/ui/fonts.h"
#include "app/ui/keys.h"
#include "capture/synthetic_source.h"
#include "capture/x11_source.h"
#include "net/base/clock.h"
#include "net/base/log.h"

namespace huddle::ui {

namespace {

constexpr std::size_t kHistory = 120;  // samples in a plot (one per half second: a minute)

void push(std::deque<float>& d, float v) {
  d.push_back(v);
  while (d.size() > kHistory) d.pop_front();
}

void plot(const char* label, const std::deque<float>& d, const char* unit, float height) {
  std::vector<float> v(d.begin(), d.end());
  const float top = v.empty() ? 1.0f : std::max(1.0f, *std::max_element(v.begin(), v.end()) * 1.15f);
  char overlay[64];
  std::snprintf(overlay, sizeof overlay, "%s %.1f %s", label, v.empty() ? 0.0f : v.back(), unit);
  ImGui::PlotLines(("##" + std::string(label)).c_str(), v.data(), static_cast<int>(v.size()), 0, overlay, 0.0f, top,
                   ImVec2(ImGui::GetContentRegionAvail().x, height));
}

// The next item goes on this line if `label` (with `extra` pixels, e.g. a radio's circle)
// fits, else on the next: a row of choices wraps instead of being cut off at the panel's edge.
void sameLineIfFits(const char* label, float extra) {
  const float need = ImGui::CalcTextSize(label).x + ImGui::GetStyle().FramePadding.x * 2 + extra;
  ImGui::SameLine();
  if (ImGui::GetContentRegionAvail().x < need) ImGui::NewLine();
}

}  // namespace

// [SECTION] streams and viewers

void UiApp::syncViewers() {
  const double now = static_cast<double>(base::monoUs()) / 1e6;
  const std::vector<std::uint32_t> watched = m_session ? m_session->watchedStreams() : std::vector<std::uint32_t>{};
  // A stream the controller watches by itself (--watch) gets its panel; a panel whose
  // stream the controller let go (it ended: the chat says so) closes.
  for (std::uint32_t id : watched)
    if (!m_viewers.count(id)) openViewer(id);
  std::vector<std::uint32_t> gone;
  for (auto& [id, v] : m_viewers) {
    if (std::find(watched.begin(), watched.end(), id) == watched.end()) {
      gone.push_back(id);
      continue;
    }
    std::shared_ptr<session::StreamView> view = m_session->view(id);
    if (!view) continue;  // away with the host: the panel keeps its last image until it is back
    if (view != v.shown) {
      v.shown = view;  // the first view, or the stream taken up again after a reconnect
      v.ownerName = view->info().ownerName;
    }
    if (v.saver)
      if (auto saved = v.saver->poll()) {
        v.savedText = saved->ok ? "Saved " + saved->path : "Not saved: " + saved->error;
        v.savedPath = saved->ok ? saved->path : "";
      }
    if (now - v.lastSampleAt >= 0.5) {
      v.lastSampleAt = now;
      const session::StreamStatsSnapshot s = view->stats().snapshot(base::monoUs());
      v.overlayStats = s;
      push(v.fps, static_cast<float>(s.updatesPerSec));
      push(v.latencyMs, static_cast<float>(s.latencyMsP50));
      push(v.kbps, static_cast<float>(s.bytesPerSec / 1000.0));
    }
  }
  for (std::uint32_t id : gone) closeViewer(id);
  if (m_session && m_session->state().sharing && now - m_lastShareSampleAt >= 0.5) {
    const capture::PipelineStats& s = m_session->state().shareStats;
    const double dt = m_lastShareSampleAt > 0 ? now - m_lastShareSampleAt : 0.5;
    push(m_shareFps, static_cast<float>(static_cast<double>(s.framesCaptured - std::min(s.framesCaptured, m_lastFramesCaptured)) / dt));
    push(m_encodeMs, static_cast<float>(s.encodeMs));
    m_lastFramesCaptured = s.framesCaptured;
    m_lastShareSampleAt = now;
  }
}

void UiApp::openViewer(std::uint32_t streamId) {
  const std::string panel = "viewer:" + std::to_string(streamId);
  if (m_viewers.count(streamId)) {
    m_layout.activate(panel);
    m_dockView.select(panel);
    return;
  }
  if (!m_session || (!m_session->watching(streamId) && !m_session->watch(streamId))) return;
  Viewer v;
  v.texture = std::make_unique<StreamTexture>();
  for (const auto& s : m_session->state().streams)
    if (s.streamId == streamId) v.ownerName = s.ownerName;
  m_viewers.emplace(streamId, std::move(v));
  m_layout.addPanel(panel, "screens");
  m_dockView.select(panel);
  m_frontViewer = streamId;
}

void UiApp::closeViewer(std::uint32_t streamId) {
  if (m_session) m_session->unwatch(streamId);
  m_viewers.erase(streamId);
  m_layout.removePanel("viewer:" + std::to_string(streamId));
  if (m_fullscreenStream == streamId) setFullscreenViewer(0);
}

void UiApp::setFullscreenViewer(std::uint32_t streamId) {
  m_fullscreenStream = streamId;
  if (m_window.setFullscreen) m_window.setFullscreen(streamId != 0);
}

void UiApp::drawScreensPanel() {
  if (!inSession()) {
    ImGui::TextDisabled("Host or join a session to see shared screens here.");
    return;
  }
  const auto& streams = m_session->state().streams;
  if (streams.empty()) {
    ImGui::TextDisabled("Nobody is sharing a screen yet.");
  } else {
    ImGui::TextUnformatted("Shared screens");
    ImGui::Separator();
  }
  for (const auto& s : streams) {
    ImGui::PushID(static_cast<int>(s.streamId));
    const bool open = m_viewers.count(s.streamId) != 0;
    if (ImGui::Button(open ? "Show" : "Watch", ImVec2(ImGui::GetFontSize() * 5, 0))) openViewer(s.streamId);
    ImGui::SameLine();
    ImGui::TextWrapped("%s (%ux%u)", forDisplay(s.ownerName + ": " + s.title).c_str(), s.widthPx, s.heightPx);
    ImGui::PopID();
  }
  ImGui::Spacing();
  if (!m_session->state().screensConnected) {
    // Between sessions: nothing to offer here.
  } else if (!m_session->state().sharing) {
    if (ImGui::Button("Share my screen...")) {
      m_layout.activate("share");
      m_dockView.select("share");
    }
  } else {
    ImGui::TextDisabled("You are sharing (see the Share panel).");
  }
}

void UiApp::drawViewerPanel(std::uint32_t streamId, bool fullscreen) {
  auto it = m_viewers.find(streamId);
  if (it == m_viewers.end()) {
    ImGui::TextDisabled("This screen is no longer shared.");
    return;
  }
  Viewer& v = it->second;
  const std::shared_ptr<session::StreamView> view = v.shown;
  // Uploaded only when drawn: a hidden viewer costs no upload (what changed meanwhile adds
  // up in the view's dirty rectangle and goes up when it is shown again).
  v.drawn = true;
  if (view) v.texture->update(*view);
  if (!fullscreen) {
    int fit = static_cast<int>(v.fit);
    ImGui::RadioButton("Fit", &fit, 0);
    ImGui::SameLine();
    ImGui::RadioButton("1:1", &fit, 1);
    ImGui::SameLine();
    ImGui::RadioButton("Fill", &fit, 2);
    if (fit != static_cast<int>(v.fit)) {
      v.fit = static_cast<Fit>(fit);
      v.zoom = 1.0f;
      v.panX = v.panY = 0;
    }
    // The toolbar wraps rather than cutting its last buttons off in a narrow panel.
    sameLineIfFits("Fullscreen (F11)", 0);
    if (ImGui::Button("Fullscreen (F11)")) setFullscreenViewer(streamId);
    sameLineIfFits("Save screenshot", 0);
    ImGui::BeginDisabled(!view || (v.saver && v.saver->busy()));
    if (ImGui::Button("Save screenshot")) {
      // Copied here; encoded and written to the pictures folder on the viewer's "png" worker.
      session::BgrxImage image;
      std::string error;
      if (!v.saver) v.saver = std::make_unique<session::ImageSaver>();
      if (!view->copyImage(image, error)) v.savedText = "Not saved: " + error;
      else if (v.saver->start(std::move(image), session::screenshotStem(v.ownerName, base::wallUs())))
        v.savedText = "Saving a screenshot...";
      v.savedPath.clear();
    }
    ImGui::EndDisabled();
    sameLineIfFits("Overlay (F3)", ImGui::GetFrameHeight());
    ImGui::Checkbox("Overlay (F3)", &m_settings.overlay);
    sameLineIfFits("Cursor", ImGui::GetFrameHeight());
    ImGui::Checkbox("Cursor", &m_settings.showCursor);
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("Show the sharer's mouse cursor over the screen");
    // Pointing and the pen, unless the sharer turned them off for this stream.
    if (!m_session || m_session->viewerMarksAllowed(streamId) || v.ownerName == m_session->state().selfName) {
      sameLineIfFits("Right-drag: point", 0);
      ImGui::TextDisabled("Right-drag: point");
      if (ImGui::IsItemHovered())
        ImGui::SetTooltip("Hold the right mouse button over the screen: everyone watching it, and its sharer, sees your pointer");
      sameLineIfFits("Pen (left-drag draws)", ImGui::GetFrameHeight());
      ImGui::Checkbox("Pen (left-drag draws)", &v.pen);
      if (ImGui::IsItemHovered())
        ImGui::SetTooltip("Drag with the left button to draw on the screen: everyone watching it, and its sharer,\n"
                          "sees the stroke, which fades a few seconds after you let go");
    } else {
      sameLineIfFits("Pointing and drawing: off (by the sharer)", 0);
      ImGui::TextDisabled("Pointing and drawing: off (by the sharer)");
    }
    // Voice: the sharer is heard talking now.
    if (view && m_session && m_session->speaking(view->info().ownerId)) {
      const std::string talking = forDisplay(v.ownerName) + " is speaking";
      sameLineIfFits(talking.c_str(), 0);
      ImGui::TextColored(ImVec4(90 / 255.f, 220 / 255.f, 120 / 255.f, 1.f), "%s", talking.c_str());
    }
    if (!v.savedText.empty()) {
      if (!v.savedPath.empty()) {
        if (ImGui::SmallButton("Copy path")) ImGui::SetClipboardText(v.savedPath.c_str());
        ImGui::SameLine();
      }
      ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled));
      ImGui::TextWrapped("%s", forDisplay(v.savedText).c_str());
      ImGui::PopStyleColor();
    }
  }
  const ImVec2 origin = ImGui::GetCursorScreenPos();
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  if (avail.x < 4 || avail.y < 4) return;
  ImGui::InvisibleButton("##image", avail);
  const bool hovered = ImGui::IsItemHovered();
  if (hovered) m_frontViewer = streamId;
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const ImU32 backdrop = IM_COL32(12, 12, 14, 255);
  float w = static_cast<float>(v.texture->widthPx()), h = static_cast<float>(v.texture->heightPx());
  if (w <= 0 || h <= 0) {
    dl->AddRectFilled(origin, ImVec2(origin.x + avail.x, origin.y + avail.y), backdrop);
    const char* text = view ? "Waiting for the first image..." : "Waiting for the host to come back...";
    const ImVec2 ts = ImGui::CalcTextSize(text);
    dl->AddText(ImVec2(origin.x + (avail.x - ts.x) / 2, origin.y + (avail.y - ts.y) / 2), IM_COL32(160, 165, 175, 255), text);
    return;
  }
  // At a lower tier the image is smaller than the stream: it is laid out (and the cursor and
  // pointers placed) in the stream's own pixels.
  if (view)
    if (const wire::StreamInfo i = view->info(); i.widthPx > 0 && i.heightPx > 0)
      w = static_cast<float>(i.widthPx), h = static_cast<float>(i.heightPx);
  // Scale for the mode; at 1:1 the wheel zooms in (up to 8x) and a drag pans.
  float scale = 1.0f;
  if (v.fit == Fit::Fit) scale = std::min(avail.x / w, avail.y / h);
  else if (v.fit == Fit::Fill) scale = std::max(avail.x / w, avail.y / h);
  else scale = v.zoom;
  if (hovered && v.fit == Fit::OneToOne && !v.pen) {
    const float wheel = ImGui::GetIO().MouseWheel;
    if (wheel != 0) v.zoom = std::clamp(v.zoom * std::pow(1.15f, wheel), 1.0f, 8.0f);
    if (ImGui::IsItemActive() && ImGui::IsMouseDragging(ImGuiMouseButton_Left, 1.0f)) {
      const ImVec2 d = ImGui::GetIO().MouseDelta;
      v.panX += d.x / scale;
      v.panY += d.y / scale;
    }
  }
  const float dw = w * scale, dh = h * scale;
  // Pan only as far as the image still covers the panel.
  const float maxPanX = std::max(0.0f, (dw - avail.x) / 2 / scale), maxPanY = std::max(0.0f, (dh - avail.y) / 2 / scale);
  v.panX = std::clamp(v.panX, -maxPanX, maxPanX);
  v.panY = std::clamp(v.panY, -maxPanY, maxPanY);
  const ImVec2 p0(std::round(origin.x + (avail.x - dw) / 2 + v.panX * scale), std::round(origin.y + (avail.y - dh) / 2 + v.panY * scale));
  v.texture->setNearest(scale * w / static_cast<float>(v.texture->widthPx()) >= 0.999f);  // texels per pixel
  dl->PushClipRect(origin, ImVec2(origin.x + avail.x, origin.y + avail.y), true);
  // The backdrop only where the image leaves the panel bare (bars beside or above it): a
  // software renderer pays for every pixel drawn twice.
  const ImVec2 end(origin.x + avail.x, origin.y + avail.y), p1(p0.x + dw, p0.y + dh);
  if (p0.y > origin.y) dl->AddRectFilled(origin, ImVec2(end.x, p0.y), backdrop);
  if (p1.y < end.y) dl->AddRectFilled(ImVec2(origin.x, p1.y), end, backdrop);
  if (p0.x > origin.x) dl->AddRectFilled(ImVec2(origin.x, p0.y), ImVec2(p0.x, p1.y), backdrop);
  if (p1.x < end.x) dl->AddRectFilled(ImVec2(p1.x, p0.y), ImVec2(end.x, p1.y), backdrop);
  v.texture->draw(dl, p0, p1);
  if (m_settings.showCursor && view) {
    // The sharer's cursor: a sprite in stream pixels, scaled and panned with the image.
    const session::StreamView::Cursor c = view->cursor();
    if (c.visible) {
      if (!v.cursor) v.cursor = std::make_unique<CursorTexture>();
      const unsigned tex = v.cursor->update(c.shape, scale >= 0.999f);
      const ImVec2 a(p0.x + (static_cast<float>(c.x) - c.shape->hotX) * scale,
                     p0.y + (static_cast<float>(c.y) - c.shape->hotY) * scale);
      dl->AddImage(reinterpret_cast<ImTextureID>(static_cast<std::intptr_t>(tex)), a,
                   ImVec2(a.x + c.shape->widthPx * scale, a.y + c.shape->heightPx * scale));
    }
  }
  pointAndDrawPointers(v, streamId, hovered, p0.x, p0.y, scale, w, h);
  dl->PopClipRect();
  if (hovered && !v.pen && ImGui::IsMouseDoubleClicked(ImGuiMouseButton_Left)) setFullscreenViewer(fullscreen ? 0 : streamId);
  if (m_settings.overlay && view) drawViewerOverlay(v, *view, origin.x + 8, origin.y + 8);
}

void UiApp::pointAndDrawPointers(Viewer& v, std::uint32_t streamId, bool hovered, float originX, float originY,
                                 float scale, float w, float h) {
  if (!m_session) return;
  const ImVec2 p0(originX, originY);
  // Ours: the right button held over the image points at that stream pixel; released (or
  // off the image) lets go. When what goes to the host is the controller's.
  const ImVec2 mouse = ImGui::GetIO().MousePos;
  const float fx = (mouse.x - p0.x) / scale, fy = (mouse.y - p0.y) / scale;
  const bool inside = fx >= 0 && fy >= 0 && fx < w && fy < h;
  // The sharer's switch (which the sharer itself, on its preview, is not held to).
  const bool allowed = m_session->viewerMarksAllowed(streamId) || v.ownerName == m_session->state().selfName;
  if (allowed && hovered && inside && ImGui::IsMouseDown(ImGuiMouseButton_Right)) {
    m_session->pointAt(streamId, static_cast<std::int32_t>(fx), static_cast<std::int32_t>(fy));
    v.pointing = true;
  } else if (v.pointing) {
    m_session->pointGone(streamId);
    v.pointing = false;
  }
  // Our pen: with Pen on, a left drag that starts on the image draws, clamped to the stream.
  const auto px = static_cast<std::uint16_t>(std::clamp(fx, 0.0f, w - 1)), py = static_cast<std::uint16_t>(std::clamp(fy, 0.0f, h - 1));
  if (v.pen && allowed && ImGui::IsItemActive() && ImGui::IsMouseDown(ImGuiMouseButton_Left)) {
    if (!v.drawing && inside) {
      m_session->penDown(streamId, px, py);
      v.drawing = true;
    } else if (v.drawing) {
      m_session->penTo(streamId, px, py);
    }
  } else if (v.drawing) {
    m_session->penUp(streamId);
    v.drawing = false;
  }
  // Everyone's strokes (ours too, as the host relays them), under the pointers: a line in
  // the person's colour over a darker edge, so it shows on light and dark pictures.
  ImDrawList* strokes = ImGui::GetWindowDrawList();
  std::vector<ImVec2> line;
  for (const session::StrokeMark& s : m_session->strokes(streamId, base::monoUs())) {
    const std::uint32_t rgb = session::participantColour(s.participantId);
    const auto a = static_cast<int>(255 * s.alpha);
    line.clear();
    for (const wire::PenPoint& q : s.points)
      line.emplace_back(p0.x + (static_cast<float>(q.x) + 0.5f) * scale, p0.y + (static_cast<float>(q.y) + 0.5f) * scale);
    if (line.empty()) continue;
    const ImU32 colour = IM_COL32(rgb >> 16 & 0xFF, rgb >> 8 & 0xFF, rgb & 0xFF, a), edge = IM_COL32(0, 0, 0, a / 2);
    if (line.size() == 1) {
      strokes->AddCircleFilled(line[0], 4.0f, edge);
      strokes->AddCircleFilled(line[0], 3.0f, colour);
      continue;
    }
    strokes->AddPolyline(line.data(), static_cast<int>(line.size()), edge, ImDrawFlags_None, 6.0f);
    strokes->AddPolyline(line.data(), static_cast<int>(line.size()), colour, ImDrawFlags_None, 3.5f);
  }
  // Everyone's (ours too, as the host relays it back): a dot in the person's colour, the name beside.
  ImDrawList* dl = ImGui::GetWindowDrawList();
  for (const session::PointerMark& p : m_session->pointers(streamId, base::monoUs())) {
    const std::uint32_t rgb = session::participantColour(p.participantId);
    const auto a = static_cast<int>(255 * p.alpha);
    const ImU32 colour = IM_COL32(rgb >> 16 & 0xFF, rgb >> 8 & 0xFF, rgb & 0xFF, a);
    auto at = [&](std::int32_t x, std::int32_t y) {
      return ImVec2(p0.x + (static_cast<float>(x) + 0.5f) * scale, p0.y + (static_cast<float>(y) + 0.5f) * scale);
    };
    const ImVec2 c = at(p.x, p.y);
    // The trail: where it was over the last moment, thinner and fainter with age.
    for (std::size_t i = 1; i < p.trail.size(); ++i) {
      const session::TrailPoint &a0 = p.trail[i - 1], &a1 = p.trail[i];
      const auto ta = static_cast<int>(200 * a1.alpha);
      dl->AddLine(at(a0.x, a0.y), at(a1.x, a1.y), IM_COL32(rgb >> 16 & 0xFF, rgb >> 8 & 0xFF, rgb & 0xFF, ta),
                  2.0f + 4.0f * a1.alpha);
    }
    // A white ring and a dark one outside it: the dot stands out on light and dark pictures.
    dl->AddCircle(c, 9.0f, IM_COL32(0, 0, 0, a * 3 / 5), 0, 1.5f);
    dl->AddCircleFilled(c, 7.0f, colour);
    dl->AddCircle(c, 7.0f, IM_COL32(255, 255, 255, a), 0, 1.5f);
    // The name: light text on a dark pill edged in the person's colour, readable on anything.
    const std::string name = forDisplay(p.name);
    const ImVec2 ts = ImGui::CalcTextSize(name.c_str());
    const ImVec2 t(c.x + 14, c.y - ts.y / 2);
    const ImVec2 r0(t.x - 5, t.y - 2), r1(t.x + ts.x + 5, t.y + ts.y + 2);
    dl->AddRectFilled(r0, r1, IM_COL32(18, 18, 22, a * 7 / 8), 5.0f);
    dl->AddRect(r0, r1, colour, 5.0f, 0, 1.5f);
    dl->AddText(t, IM_COL32(245, 245, 248, a), name.c_str());
  }
}

void UiApp::drawViewerOverlay(const Viewer& v, const session::StreamView& view, float x, float y) {
  const session::StreamStatsSnapshot& s = v.overlayStats;
  char lines[4][96];
  // The tier the host serves us: 0 is the sharer's settings, lower ones a smaller or coarser
  // image when our link or decoder cannot keep up.
  std::snprintf(lines[0], sizeof lines[0], "%.1f fps   %ux%u   tier %d%s", s.updatesPerSec, s.widthPx, s.heightPx,
                s.tier, s.tier == 0 ? " (full)" : " (reduced for this link)");
  std::snprintf(lines[1], sizeof lines[1], "latency p50 %.1f ms  p95 %.1f ms", s.latencyMsP50, s.latencyMsP95);
  std::snprintf(lines[2], sizeof lines[2], "%.0f KB/s   decode %.2f ms", s.bytesPerSec / 1000.0, s.decodeMsMean);
  // Sharp when still: "sharp" once every tile shown is lossless (the sharer's pixels exactly).
  const char* sharpness = view.sharp() ? "sharp" : view.lossyTiles() > 0 ? "JPEG" : "";
  if (view.quality() > 0)
    std::snprintf(lines[3], sizeof lines[3], "%s   JPEG quality %d, %s", sharpness, view.quality(),
                  view.chroma444() ? "4:4:4" : "4:2:0");
  else
    std::snprintf(lines[3], sizeof lines[3], "%s", view.sharp() ? "sharp" : "JPEG");
  float width = 0;
  for (auto& l : lines) width = std::max(width, ImGui::CalcTextSize(l).x);
  const float lh = ImGui::GetTextLineHeight();
  ImDrawList* dl = ImGui::GetWindowDrawList();
  dl->AddRectFilled(ImVec2(x, y), ImVec2(x + width + 16, y + 4 * lh + 12), IM_COL32(0, 0, 0, 160), 6.0f);
  for (int i = 0; i < 4; ++i)
    dl->AddText(ImVec2(x + 8, y + 6 + static_cast<float>(i) * lh), IM_COL32(235, 240, 245, 255), lines[i]);
}

// [SECTION] sharing

session::ShareSpec UiApp::shareSpec() const {
  session::ShareSpec spec = session::shareSpecFrom(m_options);  // the test scene's size and motion
  spec.source = m_settings.shareSource;
  spec.monitor = m_settings.monitor;
  spec.window = m_settings.shareWindow;
  spec.regionX = m_settings.regionX;
  spec.regionY = m_settings.regionY;
  spec.regionW = m_settings.regionW;
  spec.regionH = m_settings.regionH;
  spec.setEncoding(m_settings.quality, m_settings.fps, m_settings.scalePercent, m_settings.chroma444);
  spec.setSharp(m_settings.sharpWhenStill, m_settings.stillMs);
  return spec;
}

void UiApp::startSharing() {
  if (!m_session) return;
  m_session->startSharing(shareSpec());
  m_lastFramesCaptured = 0;
  m_lastShareSampleAt = 0;
  m_shareFps.clear();
  m_encodeMs.clear();
  saveState();
}

void UiApp::startRegionPick() {
  m_regionPickError.clear();
  m_regionPickStop = false;
  m_regionPickDone = false;
  m_regionPicker = base::Worker("region-pick", [this] {
    std::string error;
    capture::ScreenRect picked;
    const capture::PickResult result = capture::pickX11Region("", picked, error, m_regionPickStop);
    m_regionPickResult = result;
    m_regionPicked = picked;
    m_regionPickFailure = result == capture::PickResult::Failed ? "Cannot pick: " + error : "";
    m_regionPickDone = true;  // publishes the three above to the window's thread
  });
}

// On the window's thread: takes a finished pick's region into the settings.
void UiApp::finishRegionPick() {
  if (!m_regionPickDone.load()) return;
  m_regionPicker.join();
  m_regionPickDone = false;
  m_regionPickError = m_regionPickFailure;
  if (m_regionPickResult != capture::PickResult::Picked) return;
  m_settings.regionX = m_regionPicked.x;
  m_settings.regionY = m_regionPicked.y;
  m_settings.regionW = std::clamp(m_regionPicked.w, 16, 8192);
  m_settings.regionH = std::clamp(m_regionPicked.h, 16, 8192);
  saveState();
}

// A shared region is framed on the sharer's screen; anything else, or no share, is not.
void UiApp::syncRegionBorder() {
  const bool framed = m_session && m_session->state().sharing && m_settings.shareSource == "region";
  if (!framed) {
    if (m_regionBorder.shown()) m_regionBorder.hide();
    return;
  }
  if (m_regionBorder.shown()) return;
  std::string error;
  if (!m_regionBorder.show("", {m_settings.regionX, m_settings.regionY, m_settings.regionW, m_settings.regionH}, error))
    HLOG_WARN("ui", "cannot frame the shared region: %s", error.c_str());
}

// Where viewers point on what we share, shown on our real screen at the same place: the
// stream's pixels are the shared area's (a shared window's, wherever it is now), scaled by the
// share's scale. The test scene is not on the screen: its pointers show on the preview only.
void UiApp::syncScreenPointers() {
  std::vector<capture::ScreenPointer> onScreen;
  const session::ControllerState* st = m_session ? &m_session->state() : nullptr;
  const std::string& source = m_settings.shareSource;
  unsigned long window = 0;
  if (st && st->sharing && source == "window") {
    capture::X11Window found;
    std::string error;
    if (capture::findX11Window(m_windows, m_settings.shareWindow, found, error)) window = found.id;
  }
  if (st && st->sharing && (source == "screen" || source == "monitor" || source == "region" || window)) {
    int originX = 0, originY = 0;
    if (source == "region") {
      originX = std::max(m_settings.regionX, 0);
      originY = std::max(m_settings.regionY, 0);
    } else if (source == "monitor" && m_settings.monitor >= 0 && std::size_t(m_settings.monitor) < m_monitors.size()) {
      originX = m_monitors[std::size_t(m_settings.monitor)].x;
      originY = m_monitors[std::size_t(m_settings.monitor)].y;
    }
    const double scale = 100.0 / std::max(m_settings.scalePercent, 1);
    for (const wire::StreamInfo& s : st->streams) {
      if (s.ownerId != st->selfId) continue;
      for (const session::PointerMark& p : m_session->pointers(s.streamId, base::monoUs())) {
        if (p.participantId == st->selfId || p.alpha < 0.3f) continue;  // ours, or faded
        onScreen.push_back({p.participantId, originX + static_cast<int>(p.x * scale), originY + static_cast<int>(p.y * scale),
                            session::participantColour(p.participantId), p.name});
      }
    }
  }
  if (onScreen.empty() && m_pointerOverlay.shown() == 0) return;
  std::string error;
  if (!m_pointerOverlay.update("", onScreen, error, window))
    HLOG_WARN("ui", "cannot show pointers on the screen: %s", error.c_str());
}

void UiApp::drawSharePanel() {
  const bool on = m_session && m_session->state().sharing;
  const bool screens = m_session && m_session->state().screensConnected;
  ImGui::TextUnformatted("What to share");
  static const char* const kKinds[] = {"screen", "monitor", "window", "region", "scene"};
  static const char* const kNames[] = {"Whole screen", "One monitor", "One window", "A region", "Test scene"};
  constexpr int kKindCount = static_cast<int>(std::size(kKinds));
  int kind = static_cast<int>(std::find(std::begin(kKinds), std::end(kKinds), m_settings.shareSource) - std::begin(kKinds));
  ImGui::BeginDisabled(on);  // the source is chosen before sharing; the sliders work live
  ImGui::SetNextItemWidth(-1);
  if (ImGui::Combo("##source", &kind, kNames, kKindCount)) m_settings.shareSource = kKinds[std::clamp(kind, 0, kKindCount - 1)];
  // Asking the X server opens a connection: do it every few seconds, not every frame.
  const double now = static_cast<double>(base::monoUs()) / 1e6;
  if ((m_settings.shareSource == "monitor" || m_settings.shareSource == "window") && now - m_monitorsAt > 3) {
    std::string error;
    m_monitors = capture::listX11Monitors("", error);
    m_windows = capture::listX11Windows("", error);
    m_windowIcons.clear();  // made again from the new list (a window may have a new icon)
    m_monitorsAt = now;
  }
  if (m_settings.shareSource == "window") {
    // By title: ids change from run to run, titles are what people know their windows by.
    if (m_windows.empty()) ImGui::TextDisabled("No windows found.");
    ImGui::BeginChild("##windows", ImVec2(0, std::min(8.0f, std::max(2.0f, float(m_windows.size()))) * ImGui::GetFrameHeightWithSpacing()),
                      true);
    for (std::size_t i = 0; i < m_windows.size(); ++i) {
      const capture::X11Window& w = m_windows[i];
      const float iconSide = ImGui::GetFrameHeight();
      if (w.iconW > 0) {  // the application's icon, where it gives one
        std::unique_ptr<ImageTexture>& icon = m_windowIcons[w.id];
        if (!icon) icon = std::make_unique<ImageTexture>(w.iconW, w.iconH, w.iconRgba);
        ImGui::Image(reinterpret_cast<ImTextureID>(static_cast<std::intptr_t>(icon->texture())), ImVec2(iconSide, iconSide));
      } else {
        ImGui::Dummy(ImVec2(iconSide, iconSide));
      }
      ImGui::SameLine();
      char label[320];
      std::snprintf(label, sizeof label, "%s (%dx%d)##w%lx", forDisplay(m_windows[i].title).c_str(), m_windows[i].w,
                    m_windows[i].h, m_windows[i].id);
      if (ImGui::RadioButton(label, m_settings.shareWindow == m_windows[i].title)) m_settings.shareWindow = m_windows[i].title;
    }
    ImGui::EndChild();
  } else if (m_settings.shareSource == "monitor") {
    const auto& monitors = m_monitors;
    if (monitors.empty()) ImGui::TextDisabled("No monitors found.");
    for (std::size_t i = 0; i < monitors.size(); ++i) {
      char label[96];
      std::snprintf(label, sizeof label, "%s (%dx%d)##m%zu", monitors[i].name.c_str(), monitors[i].w, monitors[i].h, i);
      ImGui::RadioButton(label, &m_settings.monitor, static_cast<int>(i));
    }
  } else if (m_settings.shareSource == "region") {
    finishRegionPick();
    if (m_regionPicker.running()) {
      ImGui::TextWrapped("Drag a frame on the screen. Esc or the right button cancels.");
      if (ImGui::Button("Cancel")) m_regionPickStop = true;
    } else if (ImGui::Button("Pick on screen...", ImVec2(-1, 0))) {
      startRegionPick();
    }
    if (!m_regionPickError.empty()) ImGui::TextColored(ImVec4(0.95f, 0.45f, 0.40f, 1.0f), "%s", m_regionPickError.c_str());
    int r[4] = {m_settings.regionX, m_settings.regionY, m_settings.regionW, m_settings.regionH};
    if (ImGui::InputInt4("x y w h", r)) {  // numbers remain, for precision
      m_settings.regionX = std::clamp(r[0], 0, 16384);
      m_settings.regionY = std::clamp(r[1], 0, 16384);
      m_settings.regionW = std::clamp(r[2], 16, 8192);
      m_settings.regionH = std::clamp(r[3], 16, 8192);
    }
  }
  ImGui::EndDisabled();
  ImGui::Spacing();
  ImGui::TextUnformatted("Quality and speed (apply at once)");
  const float sliderWidth = std::max(ImGui::GetFontSize() * 6, ImGui::GetContentRegionAvail().x - ImGui::CalcTextSize("Quality").x -
                                                                   ImGui::GetStyle().ItemInnerSpacing.x);
  ImGui::SetNextItemWidth(sliderWidth);
  ImGui::SliderInt("Quality", &m_settings.quality, 1, 100);
  ImGui::SetNextItemWidth(sliderWidth);
  ImGui::SliderInt("FPS", &m_settings.fps, 1, 120);
  const float radio = ImGui::GetFrameHeight() + ImGui::GetStyle().ItemInnerSpacing.x;
  ImGui::TextUnformatted("Scale");
  for (int p : {100, 75, 50}) {
    char label[16];
    std::snprintf(label, sizeof label, "%d%%", p);
    sameLineIfFits(label, radio);
    ImGui::RadioButton(label, &m_settings.scalePercent, p);
  }
  ImGui::TextUnformatted("Colour");
  int chroma = m_settings.chroma444 ? 1 : 0;
  sameLineIfFits("4:2:0 (smaller)", radio);
  ImGui::RadioButton("4:2:0 (smaller)", &chroma, 0);
  sameLineIfFits("4:4:4 (sharper)", radio);
  ImGui::RadioButton("4:4:4 (sharper)", &chroma, 1);
  m_settings.chroma444 = chroma == 1;
  ImGui::Checkbox("Sharp when still", &m_settings.sharpWhenStill);
  if (ImGui::IsItemHovered())
    ImGui::SetTooltip("Parts of the screen that stay still for %d ms are sent again losslessly:\n"
                      "text turns exact on every viewer. Moving parts stay JPEG.",
                      m_settings.stillMs);
  if (on) m_session->setShareSettings(shareSpec().settings);  // live: applied from the next frame
  if (ImGui::Checkbox("Let viewers point and draw", &m_viewerMarks) && m_session) m_session->setViewerMarks(m_viewerMarks);
  if (ImGui::IsItemHovered())
    ImGui::SetTooltip("Off: nobody's pointer or pen shows on your screen; the host stops passing them on");
  ImGui::Spacing();
  ImGui::BeginDisabled(!screens && !on);
  if (ImGui::Button(on ? "Stop sharing" : "Start sharing", ImVec2(-1, 0))) on ? m_session->stopSharing() : startSharing();
  ImGui::EndDisabled();
  if (!screens && !on) ImGui::TextDisabled("Host or join a session first.");
  if (m_session && !m_session->state().shareError.empty() && !on) {
    ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(0.95f, 0.45f, 0.40f, 1.0f));
    ImGui::TextWrapped("%s", forDisplay(m_session->state().shareError).c_str());
    ImGui::PopStyleColor();
  }
  if (on) {
    const capture::PipelineStats& s = m_session->state().shareStats;
    ImGui::Separator();
    ImGui::TextWrapped("Sharing \"%s\"", forDisplay(m_session->state().shareTitle).c_str());
    // The sharer's preview is its own stream, watched like anyone's: viewers' pointers and
    // strokes show on it where they point (and the sharer may point and draw too).
    for (const auto& st : m_session->state().streams)
      if (st.ownerName == m_session->state().selfName) {
        if (ImGui::Button(m_viewers.count(st.streamId) ? "Show my preview" : "Preview (see viewers' pointers)"))
          openViewer(st.streamId);
        break;
      }
    ImGui::TextWrapped("%.1f fps captured, %llu dropped", m_shareFps.empty() ? 0.0f : m_shareFps.back(),
                static_cast<unsigned long long>(s.framesDropped));
    ImGui::TextWrapped("capture %.2f ms, damage %.2f ms, encode %.2f ms", s.captureMs, s.damageMs, s.encodeMs);
    if (m_settings.sharpWhenStill)
      ImGui::TextWrapped("%s: %zu tiles JPEG, %.1f MB sent losslessly", s.lossyTiles == 0 ? "sharp" : "not sharp yet",
                         s.lossyTiles, static_cast<double>(s.sharpBytes) / 1e6);
    if (!s.lastError.empty()) ImGui::TextColored(ImVec4(0.95f, 0.45f, 0.40f, 1.0f), "%s", s.lastError.c_str());
  }
}

// [SECTION] stats

void UiApp::drawStatsPanel() {
  const float h = ImGui::GetFontSize() * 3.2f;
  const bool sharing = m_session && m_session->state().sharing;
  session::HostController* host = hosting();
  if (m_viewers.empty() && !sharing && !host) ImGui::TextDisabled("Watch or share a screen to see figures here.");
  for (auto& [id, v] : m_viewers) {
    ImGui::PushID(static_cast<int>(id));
    if (ImGui::CollapsingHeader(forDisplay(v.ownerName + "'s screen").c_str(), ImGuiTreeNodeFlags_DefaultOpen)) {
      plot("fps", v.fps, "", h);
      plot("latency p50", v.latencyMs, "ms", h);
      plot("bandwidth", v.kbps, "KB/s", h);
      ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled));
      ImGui::TextWrapped("texture upload %.2f ms, %.1f MB uploaded", v.texture->lastUploadMs(),
                         static_cast<double>(v.texture->bytesUploaded()) / 1e6);
      ImGui::PopStyleColor();
    }
    ImGui::PopID();
  }
  if (sharing) {
    if (ImGui::CollapsingHeader("My share", ImGuiTreeNodeFlags_DefaultOpen)) {
      plot("captured fps", m_shareFps, "", h);
      plot("encode", m_encodeMs, "ms", h);
    }
  }
  if (host && host->hostSession()) {
    if (ImGui::CollapsingHeader("Host", ImGuiTreeNodeFlags_DefaultOpen)) {
      const net::ScreenHubStats s = host->hostSession()->screenHub().stats();
      ImGui::TextWrapped("%zu viewers on %zu streams", s.viewers, s.streams);
      ImGui::TextWrapped("%llu updates sent (%llu shared), %.1f MB", static_cast<unsigned long long>(s.updatesSent),
                  static_cast<unsigned long long>(s.updatesShared), static_cast<double>(s.updateBytesSent) / 1e6);
    }
  }
}

}  // namespace huddle::ui
