// Finds vertical scrolls on the sharer (issue 12): where blocks of rows of the new frame equal
// rows of the previous one shifted up or down, inside a band of columns (the whole screen, a
// window, a terminal), so the frame goes as a copy plus the newly exposed pixels.
//
// Each frame's rows are hashed once, in 64-pixel segments (a fast 64-bit hash, only where the
// source says pixels changed; elsewhere the previous hashes stand), and the hashes become the
// next frame's "previous". Changed segments vote for the offset their content came from
// (segments whose content repeats, such as blank rows, do not vote); the best offsets are
// turned into rectangles of rows that match across a run of columns (one ends where more
// columns move with it again, past a small change beside it), widened to the pixel,
// and every rectangle is checked row by row with memcmp against the reference (the previous
// frame as viewers have it) before it is used and applied to that reference, so a hash
// collision can cost an encoded tile, never a wrong pixel. What changed and no scroll explains
// then goes to the move finder (move_finder.h), for windows moved sideways or both ways.
// Hashing a whole changed screen and voting costs about a seventh of a video frame's sender
// CPU and finds nothing there, so after a frame where most of the screen changed and nothing
// was found, the next 1, 2, 4, up to kMaxSkip frames where the source says most changed are
// not looked at; a frame compared where most did not change, with the frame before it (a
// picture captured in two parts is one change), ends the back-off. While backing
// off, the frames that are looked at are only probed: every kProbeEvery-th column of segments
// (so a scrolling window wider than 320 pixels holds one) is hashed and votes, and a sign of a
// scroll there ends the back-off, the two frames after it being hashed whole and compared (a
// scroll that starts during the back-off goes as tiles for at most kMaxSkip + 3 frames).
// Thread: one capture thread.
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>

#include "capture/move_finder.h"
#include "capture/screen_source.h"
#include "net/base/tile.h"

namespace huddle::capture {

struct ScrollStats {
  std::uint64_t framesHashed = 0;
  std::uint64_t copiesFound = 0;     // verified and applied
  std::uint64_t copiesRejected = 0;  // candidates whose pixels did not match (hash collisions)
  std::uint64_t framesSkipped = 0;   // most changed, after full changes that held no scroll
  std::uint64_t framesProbed = 0;    // only a few columns hashed, while backing off
};

class ScrollDetector {
 public:
  static constexpr int kSegmentPx = 64;
  static constexpr int kMinCopyRows = 16;  // shorter blocks are cheaper sent as tiles
  static constexpr int kMaxSkip = 12;      // frames: 200 ms at 60 fps
  static constexpr int kProbeEvery = 5;    // columns of segments: a probe hashes one in five

  // Hashes `frame` (call it for every frame that goes through the damage tracker, in order).
  // When `ref` is non-null (the previous frame as viewers have it: `refStride` bytes a row,
  // the frame's size) and the previous hashes belong to it, appends to `out` the copies found
  // (at most `maxCopies`), each already applied to `ref` in order.
  void process(const Frame& frame, std::uint8_t* ref, std::size_t refStride, std::size_t maxCopies,
               std::vector<base::CopyRect>& out);
  // The previous hashes are not the reference any more (a frame was not sent, ...).
  void reset() { m_valid = false; }
  const ScrollStats& stats() const { return m_stats; }
  // Moved rectangles (sideways, or both ways) found after the scrolls: their own figures.
  const MoveStats& moveStats() const { return m_moves.stats(); }

  // The hash of `bytes` bytes (a multiple of 4) at `p`.
  static std::uint64_t hashRow(const std::uint8_t* p, std::size_t bytes);

 private:
  // The probe's first column: the middle of the first five (or the last, on a narrow frame).
  int probeFirst() const { return std::min(kProbeEvery / 2, m_cols - 1); }
  // `probe`: only the probe's columns (the others keep their previous hashes).
  void hash(const Frame& frame, bool probe);
  // The share of the frame the source says changed (no word from it: all of it).
  static double changedShare(const Frame& frame);
  // `mostChanged`: whether most of the hashed segments differed. Probing, nothing is found or
  // applied: `scrolled` says whether the probe's columns voted for a scroll.
  void detect(const Frame& frame, std::uint8_t* ref, std::size_t refStride, std::size_t maxCopies, bool probe,
              std::vector<base::CopyRect>& out, bool& mostChanged, bool& scrolled);
  // Rectangles where rows at dy match, outside cells already claimed; verified and applied.
  void extract(const Frame& frame, std::uint8_t* ref, std::size_t refStride, int dy, std::size_t maxCopies,
               std::vector<base::CopyRect>& out);
  bool verify(const Frame& frame, const std::uint8_t* ref, std::size_t refStride, const base::CopyRect& c) const;
  // Widens `c` pixel by pixel to the left and right while whole columns still match.
  void widen(const Frame& frame, const std::uint8_t* ref, std::size_t refStride, base::CopyRect& c) const;

  int m_width = 0, m_height = 0, m_cols = 0;
  bool m_valid = false;
  bool m_partial = false;  // m_old holds a probe's columns only
  double m_lastShare = 0;  // changedShare() of the frame before
  int m_skip = 0, m_backoff = 0;  // frames still to skip, and the last run's length
  std::vector<std::uint64_t> m_old, m_new;  // [col * m_height + y]: a column's rows in a run
  std::vector<std::uint8_t> m_claimed;      // destination cells taken by a copy this frame
  std::vector<std::uint32_t> m_votes;       // by dy + m_height
  struct Slot {
    std::uint64_t hash = 0;
    std::int32_t y = -1;            // -2: the hash repeats
    std::uint32_t generation = 0;   // empty unless m_generation
  };
  std::vector<Slot> m_table;  // open addressing, one column's previous hashes at a time
  std::uint32_t m_generation = 0;
  std::vector<std::uint64_t> m_oldWindows, m_newWindows;  // one column's window hashes
  std::vector<std::uint8_t> m_changedCells;  // for m_moves: what changed that no scroll explains
  MoveFinder m_moves;
  ScrollStats m_stats;
};

}  // namespace huddle::capture
