// One watched stream on a participant's side: the decoded image (a Framebuffer), what the
// window has not uploaded yet, and the viewer statistics (the window writes screenshots of
// a copyImage() with an ImageSaver).
// Thread: the decode thread writes: it decodes an update into its own staging area with no
// lock held, then takes the image lock only to copy in what changed (publish). The window
// reads under the same lock (its texture upload of what changed, a copy for a screenshot),
// so neither side ever waits for a decoder or an encoder.
#pragma once
#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "app/session/image_saver.h"
#include "app/session/stream_stats.h"
#include "capture/framebuffer.h"
#include "net/base/cursor.h"
#include "net/wire/screen_messages.h"

namespace huddle::session {

class StreamView {
 public:
  explicit StreamView(const wire::StreamInfo& info) : m_info(info) {}

  // This view's identity, never given to another (a view made after this one is gone may
  // take its address, not its id): what a credit held for this watch is held for.
  std::uint64_t watchId() const { return m_watchId; }

  // Calls f(const capture::Framebuffer&, const base::DirtyRects& dirty) under the image lock and
  // clears the dirty rectangles: the window uploads exactly what changed since its last look. Never
  // waits for a decode, only for the copy-in of one decoded update.
  template <typename F>
  void consume(F&& f) {
    std::lock_guard lock(m_mutex);
    const base::DirtyRects dirty = m_fb.takeDirty();
    f(static_cast<const capture::Framebuffer&>(m_fb), dirty);
  }
  // Copies the current image (the lock is held for the copy only); false with `error` if
  // nothing has arrived yet.
  bool copyImage(BgrxImage& out, std::string& error) const;
  // Saves the current image as a PNG at `path`, here and now (headless snapshots); the
  // encoding happens outside the image lock. False with `error`.
  bool savePng(const std::string& path, std::string& error, bool withCursor = false) const;

  // The sharer's cursor (beside the image, never in it). Shapes are cached by id, the
  // oldest out past wire::kMaxCursorShapesCached (the host mirrors this cache); a position
  // far outside the stream, or naming a shape not cached, shows no cursor.
  struct Cursor {
    bool visible = false;
    std::int32_t x = 0, y = 0;                       // hot spot, stream pixels
    std::shared_ptr<const base::CursorImage> shape;  // set when visible
    std::uint64_t version = 0;                       // +1 per change
  };
  // Reader thread. False with `why` if the message was dropped.
  bool setCursorShape(base::CursorImage&& shape, std::string& why);
  bool setCursorPosition(const base::CursorPos& pos, std::string& why);
  Cursor cursor() const;
  // Composites the cursor (if shown) into an image copied from this view.
  void drawCursorInto(BgrxImage& image) const;

  wire::StreamInfo info() const;
  void setInfo(const wire::StreamInfo& info);
  // Whether a window shows this view now (its tab is in front). A decoded update wakes the
  // window only then: a hidden viewer keeps decoding but costs no redraws. Headless: always.
  void setOnScreen(bool on) { m_onScreen.store(on); }
  bool onScreen() const { return m_onScreen.load(); }
  StreamStats& stats() { return m_stats; }
  std::uint64_t updatesApplied() const { return m_applied.load(); }
  // The publisher's frame number of the newest update shown. Set with the image, under its
  // lock: read inside consume(), it is the number of the image consume() shows.
  std::uint64_t lastSeq() const { return m_lastSeq.load(); }
  bool ended() const { return m_ended.load(); }
  // The JPEG quality and subsampling of the newest tiles (0 until one arrives).
  int quality() const { return m_quality.load(); }
  bool chroma444() const { return m_chroma444.load(); }
  // Sharp when still: tiles whose latest version is lossy (JPEG, or none yet), and whether
  // the whole image shown is exactly the sharer's (every tile solid or lossless).
  std::size_t lossyTiles() const { return m_lossyTiles.load(); }
  bool sharp() const { return m_applied.load() > 0 && m_lossyTiles.load() == 0; }
  // Lossless tile bytes received so far (their part of the stream's cost).
  std::uint64_t losslessBytes() const { return m_losslessBytes.load(); }
  // How long the image took to turn sharp after its last lossy tile arrived, in ms (monotonic
  // clock, as shown); -1 while it is not sharp.
  double msToSharp() const;
  void markEnded() { m_ended = true; }

  // Decode thread: applies one update, decode() then publish(); false if a tile was bad (then
  // ask for a refresh; the good tiles are shown).
  bool apply(const wire::TileBatch& batch, capture::TileDecoder& decoder, std::string& error);
  // Decode thread, the slow half: decodes `batch` into the staging area without taking the
  // image lock, so readers go on meanwhile. False with `error` naming the first bad tile.
  bool decode(const wire::TileBatch& batch, capture::TileDecoder& decoder, std::string& error);
  // Decode thread, the quick half: makes the last decode() the shown image, under the image
  // lock for a copy of the changed tiles only.
  void publish();

 private:
  static inline std::atomic<std::uint64_t> s_nextWatchId{1};
  const std::uint64_t m_watchId = s_nextWatchId.fetch_add(1, std::memory_order_relaxed);
  // One tile of the update being decoded: a solid colour, or pixels in m_staging.
  struct StagedTile {
    base::Rect rect;
    bool solid = false;
    bool exact = false;  // solid or lossless: the sharer's pixels exactly
    bool patch = false;  // part of its tile only: exact leaves the tile as it was
    std::uint32_t bgrx = 0;
    std::size_t offset = 0;  // into m_staging, rect.w * rect.h * 4 bytes
  };

  mutable std::mutex m_mutex;  // guards m_fb
  capture::Framebuffer m_fb;   // written under the lock by the decode thread only
  mutable std::mutex m_cursorMutex;  // guards the cursor state below
  std::map<std::uint32_t, std::shared_ptr<const base::CursorImage>> m_cursorShapes;
  std::deque<std::uint32_t> m_cursorShapeOrder;  // oldest first
  base::CursorPos m_cursorPos;
  std::uint64_t m_cursorVersion = 0;
  mutable std::mutex m_infoMutex;
  wire::StreamInfo m_info;
  StreamStats m_stats;
  std::atomic<std::uint64_t> m_applied{0};
  std::atomic<std::uint64_t> m_lastSeq{0};
  std::atomic<bool> m_ended{false};
  std::atomic<bool> m_onScreen{true};
  std::atomic<int> m_quality{0};
  std::atomic<bool> m_chroma444{false};
  std::atomic<std::size_t> m_lossyTiles{0};
  std::atomic<std::uint64_t> m_losslessBytes{0};
  std::atomic<std::int64_t> m_lastLossyUs{0};  // when the newest lossy tile was shown
  std::atomic<std::int64_t> m_sharpAtUs{0};    // when the image last turned sharp (0: it is not)
  // The decode thread's own: per tile of the shown image's grid, whether it is exact.
  std::vector<std::uint8_t> m_exact;
  std::uint32_t m_exactTile = 0;

  // The decode thread's own: the update decoded and not yet published.
  std::uint32_t m_stagedW = 0, m_stagedH = 0, m_stagedTile = 0;
  std::uint64_t m_stagedLosslessBytes = 0;
  std::uint64_t m_stagedSeq = 0;
  int m_stagedQuality = 0;  // of the first JpegScan tile, 0 if none
  bool m_stagedChroma444 = false;
  bool m_stagedAny = false;
  std::vector<StagedTile> m_staged;
  std::vector<const base::EncodedTile*> m_stripTiles;  // decode()'s strip at hand
  std::vector<base::CopyRect> m_stagedCopies;  // applied before the tiles (none if one was bad)
  std::vector<std::uint32_t> m_touched;
  std::vector<std::int32_t> m_slotOfTile;  // tile index -> m_staged index this update, or -1
  std::unique_ptr<std::uint8_t[]> m_staging;
  std::size_t m_stagingBytes = 0;  // allocated
  std::size_t m_stagingUsed = 0;
};

}  // namespace huddle::session
