// Sharp when still, the sharer's bookkeeping: which tiles were last sent lossy (JPEG), when
// each last changed, and what every tile's latest bytes weigh. The capture thread asks it
// which lossy tiles have been still for the still time (oldest first from a rotating start, so
// a large refresh spread over several frames reaches every tile), encodes them losslessly,
// and records what it sends. A lossless tile that would take the stream over
// wire::kMaxSharpStreamBytes is not sent, and not tried again until the tile changes.
// Thread: the capture thread only.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "net/base/tile.h"

namespace huddle::capture {

class StillTiles {
 public:
  // A grid of `tiles` tiles, none sent yet.
  void reset(std::size_t tiles);
  std::size_t size() const { return m_tiles.size(); }

  // Tile `index` was sent as `kind` with `bytes` bytes at `nowUs` because it changed.
  void changed(std::uint32_t index, base::TileKind kind, std::size_t bytes, std::int64_t nowUs);
  // The copy `c` moved pixels at `nowUs` (a grid of tilesX x tilesY tiles of tileSizePx): the
  // tiles it wrote take the exactness of the tiles their pixels came from (lossy if any was,
  // or if the copy covers them in part and they were), and count as changed now. The bytes
  // the stream holds for them do not change. The touched tiles are appended to `touched`.
  void moved(const base::CopyRect& c, int tileSizePx, int tilesX, int tilesY, std::int64_t nowUs,
             std::vector<std::uint32_t>& touched);
  // A patch of kind `kind` changed part of tile `index` at `nowUs`: the tile is lossy if the
  // patch or the rest of it is, and counts as changed now. The bytes the stream holds for it
  // do not change (the host keeps its older whole tile).
  void patched(std::uint32_t index, base::TileKind kind, std::int64_t nowUs);
  // Appends to `out` up to `max` tiles last sent lossy and unchanged since at least
  // `nowUs - stillUs`, starting after the last one handed out.
  void due(std::int64_t nowUs, std::int64_t stillUs, std::size_t max, std::vector<std::uint32_t>& out);
  // A lossless version of `index` of `bytes` bytes is ready: true if it fits the stream's
  // budget (it is then recorded as sent); false if not (the tile is left as it is and not
  // offered again until it changes).
  bool sendLossless(std::uint32_t index, std::size_t bytes);
  // due() looks at `index` first next time: the first tile whose lossless version was made
  // but did not fit this frame's budget.
  void resumeAt(std::uint32_t index) {
    if (index < m_tiles.size()) m_cursor = index;
  }

  // Tiles whose latest version is lossy (JPEG), whether or not due yet.
  std::size_t lossyTiles() const { return m_lossy; }
  // The bytes of every tile's latest version: what the stream holds on the host.
  std::size_t streamBytes() const { return m_streamBytes; }

 private:
  enum class State : std::uint8_t { Exact, Lossy, GivenUp };
  struct Tile {
    State state = State::Exact;
    std::int64_t changedUs = 0;
    std::size_t bytes = 0;
  };
  std::vector<Tile> m_tiles;
  std::size_t m_lossy = 0;  // tiles in Lossy or GivenUp
  std::size_t m_streamBytes = 0;
  std::size_t m_cursor = 0;  // where due() looks first
};

}  // namespace huddle::capture
