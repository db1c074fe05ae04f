#include "app/session/stream_view.h"

namespace huddle::session {

bool StreamView::savePng(const std::string& path, std::string& error) const {
  std::lock_guard lock(m_mutex);
  if (m_applied.load() == 0) return error = "no image has arrived yet", false;
  return m_fb.savePng(path, error);
}

wire::StreamInfo StreamView::info() const {
  std::lock_guard lock(m_mutex);
  return m_info;
}

void StreamView::setInfo(const wire::StreamInfo& info) {
  std::lock_guard lock(m_mutex);
  m_info = info;
}

bool StreamView::apply(const wire::TileBatch& batch, capture::TileDecoder& decoder, std::string& error) {
  std::lock_guard lock(m_mutex);
  if (m_fb.widthPx() != static_cast<int>(batch.widthPx) || m_fb.heightPx() != static_cast<int>(batch.heightPx)) {
    m_fb.resize(static_cast<int>(batch.widthPx), static_cast<int>(batch.heightPx));
    m_stats.setSize(batch.widthPx, batch.heightPx);
  }
  bool ok = m_fb.apply(batch.tiles, batch.tileSizePx, decoder, error);
  for (const auto& t : batch.tiles)
    if (t.kind == base::TileKind::JpegScan) {
      m_quality = t.jpegQuality;
      m_chroma444 = t.jpeg444;
      break;
    }
  m_lastSeq = batch.seq;
  ++m_applied;
  return ok;
}

}  // namespace huddle::session
