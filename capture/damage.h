// Finds the tiles that changed since the previous frame by comparing them block by block
// against a reference: the previous frame as the viewers have it (like TigerVNC's
// ComparingUpdateTracker). The first frame, a new size, or reset() makes every tile dirty.
// The reference is a private copy, where only changed tiles are copied, or, with a keepable
// frame (a double-buffered source, Frame::keepable), the frame itself: when fewer tiles went
// uncompared than changed, those few are copied from the old reference into the frame, which
// becomes the reference (the caller then tells the source to keep it: kept()). A full change
// then costs no copy at all. Either way the reference ends as the same image.
// Thread: one capture thread.
#pragma once
#include <cstdint>
#include <vector>

#include "capture/screen_source.h"

namespace huddle::capture {

struct DamageStats {
  std::uint64_t tilesCompared = 0;
  std::uint64_t tilesChanged = 0;
  std::uint64_t tilesCopied = 0;  // tiles (or their changed rows) copied into the reference
  std::uint64_t framesKept = 0;   // keepable frames that became the reference
};

class DamageTracker {
 public:
  explicit DamageTracker(int tileSizePx = 64) : m_tile(tileSizePx) {}

  // Returns the indices (row-major: ty * tilesX + tx) of tiles that differ from last time.
  // `changedBounds`: find each dirty tile's changed rectangle exactly (below); without, the
  // rectangle is the tile from its first changed row down, and a changed tile costs only the
  // rows down to that one (on video, where nothing uses the bounds, the look for them went
  // on through row after row of both images while the tile's edge pixels stayed the same).
  const std::vector<std::uint32_t>& update(const Frame& frame, bool changedBounds = true);
  // After update(): for each dirty tile (same order), the smallest rectangle holding every
  // changed pixel, in stream pixels (the whole tile when everything was dirty; without
  // changedBounds, see update()).
  const std::vector<base::Rect>& changedRects() const { return m_rects; }
  // Tile `index` is known to equal the next frame already (a verified copy wrote it into the
  // reference): update() skips comparing it. Forgotten after that update().
  void knownEqual(std::uint32_t index) {
    if (m_valid && index < std::size_t(m_tilesX) * m_tilesY) {
      m_equal.resize(std::size_t(m_tilesX) * m_tilesY, 0);
      m_equal[index] = 1;
    }
  }
  // Everything is dirty next time (settings changed, a viewer lost track, ...).
  void reset() { m_valid = false; }
  void setTileSize(int tileSizePx);

  // The reference (the previous frame as viewers have it, widthPx * 4 bytes a row) when it is
  // valid for a frame of this size and grid, else null: copies found for the next frame are
  // applied to it, so update() then compares against the image as the viewers will have it.
  std::uint8_t* reference(int widthPx, int heightPx) {
    return m_valid && widthPx == m_width && heightPx == m_height ? m_ref : nullptr;
  }
  std::size_t referenceStrideBytes() const { return m_refStride; }
  // The keepable frame buffer that is the reference, which its source must keep (null: the
  // reference is private).
  const std::uint8_t* kept() const { return m_kept ? m_ref : nullptr; }
  int tileSizePx() const { return m_tile; }
  int tilesX() const { return m_tilesX; }
  int tilesY() const { return m_tilesY; }
  const DamageStats& stats() const { return m_stats; }

 private:
  int m_tile;
  int m_width = 0, m_height = 0, m_tilesX = 0, m_tilesY = 0;
  bool m_valid = false;
  std::vector<std::uint8_t> m_previous;  // the private reference: tightly packed BGRX
  std::uint8_t* m_ref = nullptr;         // the reference: m_previous, or a kept frame's buffer
  std::size_t m_refStride = 0;
  bool m_kept = false;
  std::vector<std::uint16_t> m_firstRow;  // per dirty tile: its first row that differs
  std::vector<std::uint32_t> m_uncompared;  // tiles taken as unchanged without a look
  std::vector<std::uint32_t> m_dirty;
  std::vector<base::Rect> m_rects;  // per dirty tile: what changed in it
  std::vector<std::uint8_t> m_hinted;  // per tile: inside the source's changed rectangles
  std::vector<std::uint8_t> m_equal;   // per tile: known equal this once (knownEqual)
  DamageStats m_stats;
};

}  // namespace huddle::capture
