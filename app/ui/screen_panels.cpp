// The screen panels: the list of shared screens, a viewer per watched stream (texture, fit /
// 1:1 / fill, zoom and pan, fullscreen, screenshot, overlay), sharing with live sliders,
// and the stats plots.
#include <imgui.h>

#include <algorithm>
#include <cmath>

#include "app/ui/ui_app.h"
#include "app/ui/keys.h"
#include "capture/synthetic_source.h"
#include "capture/x11_source.h"
#include "net/base/clock.h"

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

}  // namespace

// [SECTION] streams and viewers

void UiApp::syncViewers() {
  if (!m_screen) return;
  if (m_reconnecting) return;  // the viewers keep their last image until we are back
  if (m_autoWatch && m_viewers.empty()) {
    auto streams = m_screen->streams();
    if (!streams.empty()) {
      m_autoWatch = false;
      openViewer(streams.front().streamId);
    }
  }
  // Back after a reconnect: viewers take up their streams again where they still exist.
  if (!m_rewatch.empty() && m_screen->connected()) {
    const auto streams = m_screen->streams();
    std::erase_if(m_rewatch, [&](std::uint32_t id) {
      for (const auto& s : streams)
        if (s.streamId == id) {
          if (auto it = m_viewers.find(id); it != m_viewers.end())
            if (auto view = m_screen->watch(id)) it->second.view = std::move(view);
          return true;
        }
      return false;
    });
  }
  const double now = static_cast<double>(base::monoUs()) / 1e6;
  std::vector<std::uint32_t> ended;
  for (auto& [id, v] : m_viewers) {
    const bool waiting = std::find(m_rewatch.begin(), m_rewatch.end(), id) != m_rewatch.end();
    if (waiting) continue;  // its stream may come back
    if (v.view->ended()) {
      ended.push_back(id);
      continue;
    }
    v.texture->update(*v.view);
    if (now - v.lastSampleAt >= 0.5) {
      v.lastSampleAt = now;
      session::StreamStatsSnapshot s = v.view->stats().snapshot(base::monoUs());
      push(v.fps, static_cast<float>(s.updatesPerSec));
      push(v.latencyMs, static_cast<float>(s.latencyMsP50));
      push(v.kbps, static_cast<float>(s.bytesPerSec / 1000.0));
    }
  }
  for (std::uint32_t id : ended) {
    m_status = m_viewers[id].view->info().ownerName + " stopped sharing.";
    m_statusIsError = false;
    closeViewer(id);
  }
  if (capture::CapturePipeline* p = sharePipeline(); p && now - m_lastShareSampleAt >= 0.5) {
    capture::PipelineStats s = p->stats();
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
  if (!m_screen) return;
  auto view = m_screen->watch(streamId);
  if (!view) return;
  Viewer v;
  v.view = std::move(view);
  v.texture = std::make_unique<StreamTexture>();
  m_viewers.emplace(streamId, std::move(v));
  m_layout.addPanel(panel, "screens");
  m_dockView.select(panel);
}

void UiApp::closeViewer(std::uint32_t streamId) {
  if (m_screen) m_screen->unwatch(streamId);
  m_viewers.erase(streamId);
  m_layout.removePanel("viewer:" + std::to_string(streamId));
  if (m_fullscreenStream == streamId) setFullscreenViewer(0);
}

void UiApp::setFullscreenViewer(std::uint32_t streamId) {
  m_fullscreenStream = streamId;
  if (m_window.setFullscreen) m_window.setFullscreen(streamId != 0);
}

void UiApp::drawScreensPanel() {
  if (!m_screen) {
    ImGui::TextDisabled("Host or join a session to see shared screens here.");
    return;
  }
  const auto streams = m_screen->streams();
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
    ImGui::Text("%s: %s (%ux%u)", s.ownerName.c_str(), s.title.c_str(), s.widthPx, s.heightPx);
    ImGui::PopID();
  }
  ImGui::Spacing();
  if (!m_screen->connected()) {
    // Between sessions: nothing to offer here.
  } else if (!sharing()) {
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
  if (auto saved = v.view->pollScreenshot()) v.savedText = saved->ok ? "Saved " + saved->path : "Not saved: " + saved->error;
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
    ImGui::SameLine();
    if (ImGui::Button("Fullscreen (F11)")) setFullscreenViewer(streamId);
    ImGui::SameLine();
    if (ImGui::Button("Save screenshot")) {
      // Copied here, written to the pictures folder on the view's "png" worker.
      std::string error;
      v.savedText = v.view->startScreenshot(error) ? "Saving a screenshot..." : "Not saved: " + error;
    }
    ImGui::SameLine();
    ImGui::Checkbox("Overlay (F3)", &m_settings.overlay);
    if (!v.savedText.empty()) {
      ImGui::TextDisabled("%s", v.savedText.c_str());
      if (v.savedText.rfind("Saved ", 0) == 0) {
        ImGui::SameLine();
        if (ImGui::SmallButton("Copy path")) ImGui::SetClipboardText(v.savedText.substr(6).c_str());
      }
    }
  }
  const ImVec2 origin = ImGui::GetCursorScreenPos();
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  if (avail.x < 4 || avail.y < 4) return;
  ImGui::InvisibleButton("##image", avail);
  const bool hovered = ImGui::IsItemHovered();
  ImDrawList* dl = ImGui::GetWindowDrawList();
  dl->AddRectFilled(origin, ImVec2(origin.x + avail.x, origin.y + avail.y), IM_COL32(12, 12, 14, 255));
  const float w = static_cast<float>(v.texture->widthPx()), h = static_cast<float>(v.texture->heightPx());
  if (w <= 0 || h <= 0 || v.view->updatesApplied() == 0) {
    const char* text = "Waiting for the first image...";
    const ImVec2 ts = ImGui::CalcTextSize(text);
    dl->AddText(ImVec2(origin.x + (avail.x - ts.x) / 2, origin.y + (avail.y - ts.y) / 2), IM_COL32(160, 165, 175, 255), text);
    return;
  }
  // Scale for the mode; at 1:1 the wheel zooms in (up to 8x) and a drag pans.
  float scale = 1.0f;
  if (v.fit == Fit::Fit) scale = std::min(avail.x / w, avail.y / h);
  else if (v.fit == Fit::Fill) scale = std::max(avail.x / w, avail.y / h);
  else scale = v.zoom;
  if (hovered && v.fit == Fit::OneToOne) {
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
  v.texture->setNearest(scale >= 0.999f);
  dl->PushClipRect(origin, ImVec2(origin.x + avail.x, origin.y + avail.y), true);
  dl->AddImage(reinterpret_cast<ImTextureID>(static_cast<std::intptr_t>(v.texture->id())), p0, ImVec2(p0.x + dw, p0.y + dh));
  dl->PopClipRect();
  if (hovered || fullscreen) {
    if (keyPressed(kKeyF3)) m_settings.overlay = !m_settings.overlay;
    if (!fullscreen && keyPressed(kKeyF11)) setFullscreenViewer(streamId);
  }
  if (hovered && ImGui::IsMouseDoubleClicked(ImGuiMouseButton_Left)) setFullscreenViewer(fullscreen ? 0 : streamId);
  if (m_settings.overlay) drawViewerOverlay(v, origin.x + 8, origin.y + 8);
}

void UiApp::drawViewerOverlay(Viewer& v, float x, float y) {
  const session::StreamStatsSnapshot s = v.view->stats().snapshot(base::monoUs());
  char lines[4][96];
  std::snprintf(lines[0], sizeof lines[0], "%.1f fps   %ux%u", s.updatesPerSec, s.widthPx, s.heightPx);
  std::snprintf(lines[1], sizeof lines[1], "latency p50 %.1f ms  p95 %.1f ms", s.latencyMsP50, s.latencyMsP95);
  std::snprintf(lines[2], sizeof lines[2], "%.0f KB/s   decode %.2f ms", s.bytesPerSec / 1000.0, s.decodeMsMean);
  if (v.view->quality() > 0)
    std::snprintf(lines[3], sizeof lines[3], "JPEG quality %d, %s", v.view->quality(), v.view->chroma444() ? "4:4:4" : "4:2:0");
  else
    std::snprintf(lines[3], sizeof lines[3], "JPEG");
  float width = 0;
  for (auto& l : lines) width = std::max(width, ImGui::CalcTextSize(l).x);
  const float lh = ImGui::GetTextLineHeight();
  ImDrawList* dl = ImGui::GetWindowDrawList();
  dl->AddRectFilled(ImVec2(x, y), ImVec2(x + width + 16, y + 4 * lh + 12), IM_COL32(0, 0, 0, 160), 6.0f);
  for (int i = 0; i < 4; ++i)
    dl->AddText(ImVec2(x + 8, y + 6 + static_cast<float>(i) * lh), IM_COL32(235, 240, 245, 255), lines[i]);
}

// [SECTION] sharing

bool UiApp::sharing() const {
  if (m_mode == Mode::Hosting && m_host) return m_host->sharing();
  return m_screen && m_screen->sharing();
}

capture::CapturePipeline* UiApp::sharePipeline() {
  if (m_mode == Mode::Hosting && m_host) return m_host->sharePipeline();
  return m_screen ? m_screen->sharePipeline() : nullptr;
}

capture::CaptureSettings UiApp::shareSettings() const {
  capture::CaptureSettings s;
  s.quality = m_settings.quality;
  s.fps = m_settings.fps;
  s.scalePercent = m_settings.scalePercent;
  s.subsampling = m_settings.chroma444 ? capture::Subsampling::S444 : capture::Subsampling::S420;
  return s.clamped();
}

void UiApp::startSharing() {
  m_shareError.clear();
  std::unique_ptr<capture::ScreenSource> source;
  const std::string& kind = m_settings.shareSource;
  if (kind == "scene") {
    const std::string& m = m_options.sceneMotion;
    source = std::make_unique<capture::SyntheticSource>(
        m_options.sceneWidthPx, m_options.sceneHeightPx,
        m == "full" ? capture::SceneMotion::Full : m == "static" ? capture::SceneMotion::Static : capture::SceneMotion::Partial);
  } else {
    capture::X11Region region;
    if (kind == "monitor") {
      region.kind = capture::X11Region::Kind::Monitor;
      region.monitor = m_settings.monitor;
    } else if (kind == "region") {
      region.kind = capture::X11Region::Kind::Rect;
      region.x = m_settings.regionX;
      region.y = m_settings.regionY;
      region.w = m_settings.regionW;
      region.h = m_settings.regionH;
    }
    source = std::make_unique<capture::X11Source>("", region);
  }
  std::string error;
  bool ok = false;
  if (m_mode == Mode::Hosting && m_host) ok = m_host->startSharing(std::move(source), shareSettings(), 0, error);
  else if (m_screen) ok = m_screen->startSharing(std::move(source), shareSettings(), 0, error);
  else error = "not in a session";
  if (!ok) m_shareError = "Cannot share: " + error;
  m_lastFramesCaptured = 0;
  m_lastShareSampleAt = 0;
  m_shareFps.clear();
  m_encodeMs.clear();
  saveState();
}

void UiApp::stopSharing() {
  if (m_mode == Mode::Hosting && m_host) m_host->stopSharing();
  else if (m_screen) m_screen->stopSharing();
}

void UiApp::drawSharePanel() {
  const bool on = sharing();
  const bool inSession = m_screen && m_screen->connected();
  ImGui::TextUnformatted("What to share");
  static const char* const kKinds[] = {"screen", "monitor", "region", "scene"};
  static const char* const kNames[] = {"Whole screen", "One monitor", "A region", "Test scene"};
  int kind = static_cast<int>(std::find(std::begin(kKinds), std::end(kKinds), m_settings.shareSource) - std::begin(kKinds));
  ImGui::BeginDisabled(on);  // the source is chosen before sharing; the sliders work live
  ImGui::SetNextItemWidth(-1);
  if (ImGui::Combo("##source", &kind, kNames, 4)) m_settings.shareSource = kKinds[std::clamp(kind, 0, 3)];
  if (m_settings.shareSource == "monitor") {
    // Asking the X server opens a connection: do it every few seconds, not every frame.
    const double now = static_cast<double>(base::monoUs()) / 1e6;
    std::string error;
    if (now - m_monitorsAt > 5) {
      m_monitors = capture::listX11Monitors("", error);
      m_monitorsAt = now;
    }
    const auto& monitors = m_monitors;
    if (monitors.empty()) ImGui::TextDisabled("No monitors found.");
    for (std::size_t i = 0; i < monitors.size(); ++i) {
      char label[96];
      std::snprintf(label, sizeof label, "%s (%dx%d)##m%zu", monitors[i].name.c_str(), monitors[i].w, monitors[i].h, i);
      ImGui::RadioButton(label, &m_settings.monitor, static_cast<int>(i));
    }
  } else if (m_settings.shareSource == "region") {
    int r[4] = {m_settings.regionX, m_settings.regionY, m_settings.regionW, m_settings.regionH};
    if (ImGui::InputInt4("x y w h", r)) {
      m_settings.regionX = std::clamp(r[0], 0, 16384);
      m_settings.regionY = std::clamp(r[1], 0, 16384);
      m_settings.regionW = std::clamp(r[2], 16, 8192);
      m_settings.regionH = std::clamp(r[3], 16, 8192);
    }
  }
  ImGui::EndDisabled();
  ImGui::Spacing();
  ImGui::TextUnformatted("Quality and speed (apply at once)");
  ImGui::SliderInt("Quality", &m_settings.quality, 1, 100);
  ImGui::SliderInt("FPS", &m_settings.fps, 1, 120);
  ImGui::TextUnformatted("Scale");
  for (int p : {100, 75, 50}) {
    ImGui::SameLine();
    char label[16];
    std::snprintf(label, sizeof label, "%d%%", p);
    ImGui::RadioButton(label, &m_settings.scalePercent, p);
  }
  ImGui::TextUnformatted("Colour");
  ImGui::SameLine();
  int chroma = m_settings.chroma444 ? 1 : 0;
  ImGui::RadioButton("4:2:0 (smaller)", &chroma, 0);
  ImGui::SameLine();
  ImGui::RadioButton("4:4:4 (sharper)", &chroma, 1);
  m_settings.chroma444 = chroma == 1;
  if (capture::CapturePipeline* p = sharePipeline()) {
    const capture::CaptureSettings want = shareSettings(), have = p->settings();
    if (want.quality != have.quality || want.fps != have.fps || want.scalePercent != have.scalePercent ||
        want.subsampling != have.subsampling)
      p->setSettings(want);
  }
  ImGui::Spacing();
  ImGui::BeginDisabled(!inSession && !on);
  if (ImGui::Button(on ? "Stop sharing" : "Start sharing", ImVec2(-1, 0))) on ? stopSharing() : startSharing();
  ImGui::EndDisabled();
  if (!inSession && !on) ImGui::TextDisabled("Host or join a session first.");
  if (!m_shareError.empty()) ImGui::TextColored(ImVec4(0.95f, 0.45f, 0.40f, 1.0f), "%s", m_shareError.c_str());
  if (capture::CapturePipeline* p = sharePipeline()) {
    const capture::PipelineStats s = p->stats();
    ImGui::Separator();
    ImGui::Text("Sharing \"%s\"", p->title().c_str());
    ImGui::Text("%.1f fps captured, %llu dropped", m_shareFps.empty() ? 0.0f : m_shareFps.back(),
                static_cast<unsigned long long>(s.framesDropped));
    ImGui::Text("capture %.2f ms, damage %.2f ms, encode %.2f ms", s.captureMs, s.damageMs, s.encodeMs);
    if (!s.lastError.empty()) ImGui::TextColored(ImVec4(0.95f, 0.45f, 0.40f, 1.0f), "%s", s.lastError.c_str());
  }
}

// [SECTION] stats

void UiApp::drawStatsPanel() {
  const float h = ImGui::GetFontSize() * 3.2f;
  if (m_viewers.empty() && !sharePipeline() && !m_host) ImGui::TextDisabled("Watch or share a screen to see figures here.");
  for (auto& [id, v] : m_viewers) {
    const wire::StreamInfo info = v.view->info();
    ImGui::PushID(static_cast<int>(id));
    if (ImGui::CollapsingHeader((info.ownerName + "'s screen").c_str(), ImGuiTreeNodeFlags_DefaultOpen)) {
      plot("fps", v.fps, "", h);
      plot("latency p50", v.latencyMs, "ms", h);
      plot("bandwidth", v.kbps, "KB/s", h);
      ImGui::TextDisabled("texture upload %.2f ms, %.1f MB uploaded", v.texture->lastUploadMs(),
                          static_cast<double>(v.texture->bytesUploaded()) / 1e6);
    }
    ImGui::PopID();
  }
  if (sharePipeline()) {
    if (ImGui::CollapsingHeader("My share", ImGuiTreeNodeFlags_DefaultOpen)) {
      plot("captured fps", m_shareFps, "", h);
      plot("encode", m_encodeMs, "ms", h);
    }
  }
  if (m_mode == Mode::Hosting && m_host) {
    if (ImGui::CollapsingHeader("Host", ImGuiTreeNodeFlags_DefaultOpen)) {
      const net::ScreenHubStats s = m_host->screenHub().stats();
      ImGui::Text("%zu viewers on %zu streams", s.viewers, s.streams);
      ImGui::Text("%llu updates sent (%llu shared), %.1f MB", static_cast<unsigned long long>(s.updatesSent),
                  static_cast<unsigned long long>(s.updatesShared), static_cast<double>(s.updateBytesSent) / 1e6);
    }
  }
}

}  // namespace huddle::ui
