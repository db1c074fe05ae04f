// Finds moved rectangles on the sharer (issue 12): a window dragged sideways and up or down,
// whose pixels are the previous frame's shifted by (dx, dy), so it goes as a copy plus the
// newly exposed pixels instead of being encoded again. The scroll detector (scroll_detector.h)
// calls it with the areas that changed and that no scroll explained.
//
// Both the reference (the previous frame as viewers have it) and the new frame are read only
// inside those areas. Anchors are chosen by content, not by place: a rolling hash of the
// kRunPx pixels ending at each pixel, kept where it is one value in 16 (and the pixel is an
// edge, not inside a flat run); the same content gives the same anchors wherever it moved.
// The reference's anchors go in a table by hash, and the frame's anchors found there vote for
// the offset they moved by (for each of its places, if a hash is found in a few: rows repeat
// down a line of text; hashes found in many are no guide).
// From anchors of the best offsets a rectangle grows, side by side, while the strips it takes
// in still match (copyMatches: memcmp against the reference) and keep clear of the move's
// rectangles found before; then they are applied to the reference furthest along the move
// first, each checked again just before, so every one is checked against the image as viewers
// will have it. A hash collision costs bytes, never a wrong pixel. A frame where most of the screen changed
// (video) is not searched: it costs only the look at which cells changed; after a frame whose
// moves explained less than a quarter of what changed the next 1, 2, 4, up to 32 frames with
// changes are not searched either. Moves straight up or down are left to the scroll detector.
// Thread: one capture thread.
#pragma once
#include <cstdint>
#include <vector>

#include "capture/screen_source.h"
#include "net/base/tile.h"

namespace huddle::capture {

struct MoveStats {
  std::uint64_t searched = 0;   // frames whose changed areas were searched for anchors
  std::uint64_t found = 0;      // moved rectangles verified and applied
  std::uint64_t rejected = 0;   // anchors whose pixels did not match (a hash collision, or a copy rewrote them)
};

class MoveFinder {
 public:
  static constexpr int kRunPx = 64;        // pixels an anchor's hash covers (shorter runs of text repeat)
  static constexpr int kMinMoveW = 64, kMinMoveH = 16;  // smaller moves are cheaper as tiles
  // At most this share of the changed cells (in quarters) is searched: more is a full change.
  static constexpr int kMaxChangedQuarters = 3;

  // `changed`: a cellsX x cellsY grid (row-major) of cells cellW x cellH pixels, non-zero where
  // the frame changed and no copy explains it yet. Appends the moves found (at most `maxCopies`
  // in `out` in all), each already applied to `ref` (refStride bytes a row, the frame's size).
  void find(const Frame& frame, std::uint8_t* ref, std::size_t refStride, const std::vector<std::uint8_t>& changed,
            int cellsX, int cellsY, int cellW, int cellH, std::size_t maxCopies, std::vector<base::CopyRect>& out);
  const MoveStats& stats() const { return m_stats; }

 private:
  struct Box {
    int x0, y0, x1, y1;  // pixels, end exclusive
  };
  void search(const Frame& frame, std::uint8_t* ref, std::size_t refStride, const std::vector<Box>& boxes,
              std::size_t maxCopies, std::vector<base::CopyRect>& out);
  // Grows rectangles of the move (dx, dy) from m_seeds (giving up after `maxTries` that give
  // nothing), then applies them to `ref` and appends them to `out`. `voted`: the seeds are
  // anchors whose hashes matched (a seed whose pixels do not is a collision).
  void place(const Frame& frame, std::uint8_t* ref, std::size_t refStride, const std::vector<Box>& boxes, int dx, int dy,
             bool voted, int maxTries, std::size_t maxCopies, std::vector<base::CopyRect>& out);
  // The largest rectangle inside `box` grown from the run of kRunPx pixels at (x, y) of the
  // frame moved by (dx, dy) whose every pixel matches the reference; false (and `seedMatched`
  // false) if the run itself does not.
  bool grow(const Frame& frame, const std::uint8_t* ref, std::size_t refStride, const Box& box, int x, int y, int dx,
            int dy, base::CopyRect& c, bool& seedMatched);

  struct Anchor {
    std::uint64_t key;
    std::int32_t x, y;
  };
  struct Slot {
    std::uint64_t key;
    std::uint32_t first, count;  // the key's anchors in m_anchors; count 0: a free slot
  };
  struct Vote {
    std::int32_t dx, dy, x, y;  // the offset, and the anchor in the frame
    std::int32_t box;           // the area it is in
  };
  std::vector<Anchor> m_anchors;  // the reference's, by key
  std::vector<Slot> m_table;      // open addressing by key, filled anew each search
  std::vector<Vote> m_votes;
  struct Seed {
    std::int32_t x, y, box;  // a run of kRunPx pixels from (x, y) of the frame, in boxes[box]
  };
  std::vector<Seed> m_seeds;
  struct Found {
    base::CopyRect rect;
    bool send;  // false: the frame there equals the reference already (no copy needed)
  };
  std::vector<Found> m_found;  // one move's rectangles, before they are applied
  bool m_predicted = false;             // last frame had a move: (m_lastDx, m_lastDy)
  int m_lastDx = 0, m_lastDy = 0;
  std::vector<std::int32_t> m_stack, m_component;
  std::vector<std::uint8_t> m_seen;
  int m_skip = 0, m_backoff = 0;  // frames to skip after searches that found nothing
  MoveStats m_stats;
};

}  // namespace huddle::capture
