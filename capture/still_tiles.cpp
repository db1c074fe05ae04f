#include "capture/still_tiles.h"

#include "capture/copy_rect.h"
#include "net/wire/limits.h"

namespace huddle::capture {

void StillTiles::reset(std::size_t tiles) {
  m_tiles.assign(tiles, Tile{});
  m_lossy = 0;
  m_streamBytes = 0;
  m_cursor = 0;
}

void StillTiles::changed(std::uint32_t index, base::TileKind kind, std::size_t bytes, std::int64_t nowUs) {
  if (index >= m_tiles.size()) return;
  Tile& t = m_tiles[index];
  const bool wasLossy = t.state != State::Exact;
  const bool lossy = !base::isExactKind(kind);
  t.state = lossy ? State::Lossy : State::Exact;
  t.changedUs = nowUs;
  m_lossy += std::size_t(lossy) - std::size_t(wasLossy);
  m_streamBytes += bytes;
  m_streamBytes -= t.bytes;
  t.bytes = bytes;
}

void StillTiles::patched(std::uint32_t index, base::TileKind kind, std::int64_t nowUs) {
  if (index >= m_tiles.size()) return;
  Tile& t = m_tiles[index];
  const bool wasLossy = t.state != State::Exact;
  const bool lossy = wasLossy || !base::isExactKind(kind);
  t.state = lossy ? State::Lossy : State::Exact;  // a tile given up on may fit again
  t.changedUs = nowUs;
  m_lossy += std::size_t(lossy) - std::size_t(wasLossy);
}

void StillTiles::moved(const base::CopyRect& c, int tileSizePx, int tilesX, int tilesY, std::int64_t nowUs,
                       std::vector<std::uint32_t>& touched) {
  if (m_tiles.size() != std::size_t(tilesX) * std::size_t(tilesY)) return;
  std::vector<std::uint8_t> exact(m_tiles.size());
  for (std::size_t i = 0; i < m_tiles.size(); ++i) exact[i] = m_tiles[i].state == State::Exact;
  const std::size_t first = touched.size();
  moveExactness(exact, c, tileSizePx, tilesX, tilesY, touched);
  for (std::size_t k = first; k < touched.size(); ++k) {
    const std::uint32_t i = touched[k];
    if (i >= m_tiles.size()) continue;
    Tile& t = m_tiles[i];
    const bool wasLossy = t.state != State::Exact;
    t.state = exact[i] ? State::Exact : State::Lossy;  // a tile given up on may fit again
    t.changedUs = nowUs;
    m_lossy += std::size_t(!exact[i]) - std::size_t(wasLossy);
  }
}

void StillTiles::due(std::int64_t nowUs, std::int64_t stillUs, std::size_t max, std::vector<std::uint32_t>& out) {
  if (m_lossy == 0 || m_tiles.empty()) return;
  const std::size_t n = m_tiles.size();
  std::size_t taken = 0, looked = 0;
  for (; looked < n && taken < max; ++looked) {
    const std::size_t i = (m_cursor + looked) % n;
    const Tile& t = m_tiles[i];
    if (t.state == State::Lossy && nowUs - t.changedUs >= stillUs) {
      out.push_back(static_cast<std::uint32_t>(i));
      ++taken;
    }
  }
  m_cursor = (m_cursor + looked) % n;
}

bool StillTiles::sendLossless(std::uint32_t index, std::size_t bytes) {
  if (index >= m_tiles.size()) return false;
  Tile& t = m_tiles[index];
  if (t.state != State::Lossy) return false;
  if (m_streamBytes - t.bytes + bytes > wire::kMaxSharpStreamBytes) {
    t.state = State::GivenUp;  // stays counted as lossy: the viewer's image is not exact there
    return false;
  }
  t.state = State::Exact;
  --m_lossy;
  m_streamBytes += bytes;
  m_streamBytes -= t.bytes;
  t.bytes = bytes;
  return true;
}

}  // namespace huddle::capture
