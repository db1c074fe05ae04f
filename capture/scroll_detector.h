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
// not looked at (a scroll that starts then goes as tiles for at most that long); a frame
// compared where most did not change ends the back-off. "Most changed" by the source's word
// counts the frame before's damage too (their union): a picture captured in two parts (its
// drawing paused part way) is one full change, and its halves do not end the back-off.
// Thread: one capture thread.
#pragma once
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
};

class ScrollDetector {
 public:
  static constexpr int kSegmentPx = 64;
  static constexpr int kMinCopyRows = 16;  // shorter blocks are cheaper sent as tiles
  // Frames: 0.4 s at 60 fps, 0.8 s at 30, reached after 42 frames of full change (1, 2, 4, 8
  // and 16 skipped before it, each run followed by a frame to hash and one to compare).
  static constexpr int kMaxSkip = 24;

  // Hashes `frame` (call it for every frame that goes through the damage tracker, in order).
  // When `ref` is non-null (the previous frame as viewers have it: `refStride` bytes a row,
  // the frame's size) and the previous hashes belong to it, appends to `out` the copies found
  // (at most `maxCopies`), each already applied to `ref` in order.
  void process(const Frame& frame, std::uint8_t* ref, std::size_t refStride, std::size_t maxCopies,
               std::vector<base::CopyRect>& out);
  // The previous hashes are not the reference any more (a frame was not sent, ...).
  void reset() {
    m_valid = false;
    m_cover.clear();  // the frames in between were not seen
  }
  const ScrollStats& stats() const { return m_stats; }
  // Moved rectangles (sideways, or both ways) found after the scrolls: their own figures.
  const MoveStats& moveStats() const { return m_moves.stats(); }

  // The hash of `bytes` bytes (a multiple of 4) at `p`.
  static std::uint64_t hashRow(const std::uint8_t* p, std::size_t bytes);

 private:
  void hash(const Frame& frame);
  // Whether the source says most of the frame changed in it or in the frame before (about the
  // union of their damage: the larger of the two in each kCoverCellPx cell; no word from the
  // source: all of it). Keeps this frame's: called once a frame.
  bool mostChanged(const Frame& frame);
  // `mostChanged`: whether most of the hashed segments differed.
  void detect(const Frame& frame, std::uint8_t* ref, std::size_t refStride, std::size_t maxCopies,
              std::vector<base::CopyRect>& out, bool& mostChanged);
  // Rectangles where rows at dy match, outside cells already claimed; verified and applied.
  void extract(const Frame& frame, std::uint8_t* ref, std::size_t refStride, int dy, std::size_t maxCopies,
               std::vector<base::CopyRect>& out);
  bool verify(const Frame& frame, const std::uint8_t* ref, std::size_t refStride, const base::CopyRect& c) const;
  // Widens `c` pixel by pixel to the left (if `left`) and right (if `right`) while whole
  // columns still match.
  void widen(const Frame& frame, const std::uint8_t* ref, std::size_t refStride, base::CopyRect& c, bool left,
             bool right) const;
  // Narrows `c` from the left and right past columns the frame did not change in place (equal
  // to the reference there): the part of a copy over them would move nothing.
  void trimStill(const Frame& frame, const std::uint8_t* ref, std::size_t refStride, base::CopyRect& c) const;

  int m_width = 0, m_height = 0, m_cols = 0;
  bool m_valid = false;
  int m_skip = 0, m_backoff = 0;  // frames still to skip, and the last run's length
  static constexpr int kCoverCellPx = 32;
  std::vector<std::uint16_t> m_cover, m_coverNew;  // the last frame's damaged pixels, by cell
  int m_coverCols = 0;
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
