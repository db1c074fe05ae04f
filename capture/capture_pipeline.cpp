#include "capture/capture_pipeline.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <ctime>
#include <system_error>
#include <thread>

#include "capture/change_schedule.h"
#include "capture/copy_rect.h"
#include "capture/damage.h"
#include "capture/encoder_pool.h"
#include "capture/scaler.h"
#include "capture/scroll_detector.h"
#include "capture/still_tiles.h"
#include "net/base/clock.h"
#include "net/base/log.h"

namespace huddle::capture {

namespace {
constexpr const char* kTag = "capture/pipeline";
// After word of a change, how long a pause in the drawing ends its burst (the capture then).
constexpr auto kSettleAfterChange = std::chrono::microseconds(1500);
// The longest a drawing that goes on holds its capture back (half an interval, if shorter).
constexpr auto kSettleAtMost = std::chrono::microseconds(8000);
// The longest one wait of the capture thread's lasts, bar the quiet tick (stop() and nudge()
// end that one at once: ScreenSource::interrupt()).
constexpr auto kWaitStep = std::chrono::milliseconds(20);
// While captures are held back to the frame rate, how often at most drawings are looked for:
// when they land is known that closely.
constexpr auto kHeldLook = std::chrono::milliseconds(2);
// A source that says when it is drawn on and when the pointer moves needs no frames at the
// frame rate while nothing happens: after this long with no change, no move and nothing left
// to refresh, it is looked at every kQuietTick, and at once on news: its own (a drawing, a
// move, the shared window's end) or the owner's (nudge(): settings, tiers wanted; stop()).
// The tick is for what no event tells: a pointer warped by a program (XWarpPointer, xdotool)
// makes no XInput2 motion and is seen only when a frame asks where the pointer is, and a new
// cursor shape waits for a frame too (X11Source::waitForChange says why).
constexpr auto kQuietAfter = std::chrono::milliseconds(500);
constexpr auto kQuietTick = std::chrono::milliseconds(250);

// Exponential smoothing for per-frame figures shown live.
void smooth(double& avg, double sample) { avg = avg == 0 ? sample : avg * 0.9 + sample * 0.1; }

// Sharp when still: appends to `tiles` lossless versions of the tiles that have been still for
// the still time, a few at a time across the pool, until the frame's work (since
// `frameStartUs`) reaches half its interval or the refresh reaches kSharpBytesPerTick.
// Returns the bytes added; false in `ok` with `error` if encoding failed (those tiles stay due).
std::size_t addStillTiles(EncoderPool& pool, StillTiles& still, const Frame& frame, int tilesX,
                          const CaptureSettings& s, std::int64_t frameStartUs, std::int64_t intervalUs,
                          std::vector<base::EncodedTile>& tiles, bool& ok, std::string& error) {
  ok = true;
  const std::int64_t stillUs = std::int64_t(s.stillMs) * 1000;
  const std::size_t chunk = std::size_t(pool.threads()) * 2;
  std::vector<std::uint32_t> due;
  std::vector<base::EncodedTile> made;
  std::size_t bytes = 0;
  while (base::monoUs() - frameStartUs < intervalUs / 2) {
    due.clear();
    still.due(frameStartUs, stillUs, chunk, due);
    if (due.empty()) break;
    if (!pool.encodeLossless(frame, due, tilesX, s.tileSizePx, made, error)) {
      ok = false;
      return bytes;
    }
    for (std::size_t i = 0; i < due.size(); ++i) {
      const std::size_t size = made[i].jpeg.size;
      if (bytes > 0 && bytes + size > wire::kSharpBytesPerTick) {
        still.resumeAt(due[i]);  // first next frame
        return bytes;
      }
      if (!still.sendLossless(due[i], size)) continue;  // over the stream's budget: stays JPEG
      bytes += size;
      tiles.push_back(std::move(made[i]));
    }
  }
  return bytes;
}

// Patches (issue 12): the part of dirty tile `index` that changed (`changed`, stream pixels),
// widened to kPatchAlignPx inside the tile (JPEG's 4:2:0 blocks are 16 pixels), or false if
// that is more than half the tile (then the whole tile costs about as much).
constexpr int kPatchAlignPx = 16;
bool patchPlace(std::uint32_t index, const base::Rect& changed, int tilesX, int tileSizePx, int widthPx, int heightPx,
                base::TilePatch& out) {
  const int tx = int(index % std::uint32_t(tilesX)), ty = int(index / std::uint32_t(tilesX));
  const int x0 = tx * tileSizePx, y0 = ty * tileSizePx;
  const int tw = std::min(tileSizePx, widthPx - x0), th = std::min(tileSizePx, heightPx - y0);
  if (changed.empty() || tw <= 0 || th <= 0) return false;
  const int left = std::max(0, changed.x - x0) / kPatchAlignPx * kPatchAlignPx;
  const int top = std::max(0, changed.y - y0) / kPatchAlignPx * kPatchAlignPx;
  const int right = std::min(tw, (changed.right() - x0 + kPatchAlignPx - 1) / kPatchAlignPx * kPatchAlignPx);
  const int bottom = std::min(th, (changed.bottom() - y0 + kPatchAlignPx - 1) / kPatchAlignPx * kPatchAlignPx);
  if (right <= left || bottom <= top) return false;
  if (std::int64_t(right - left) * (bottom - top) * 2 > std::int64_t(tw) * th) return false;
  out = {};
  out.tile.tx = static_cast<std::uint16_t>(tx);
  out.tile.ty = static_cast<std::uint16_t>(ty);
  out.x = static_cast<std::uint16_t>(left);
  out.y = static_cast<std::uint16_t>(top);
  out.w = static_cast<std::uint16_t>(right - left);
  out.h = static_cast<std::uint16_t>(bottom - top);
  return true;
}

// Encodes each patch's rectangle of `frame` across the pool, with the tile codecs (exact when
// few colours, else JPEG) at the rectangle's size.
bool encodePatches(EncoderPool& pool, const Frame& frame, int tileSizePx, const CaptureSettings& s,
                   std::vector<base::TilePatch>& patches, std::string& error) {
  return pool.forEach(patches.size(), [&](std::size_t i, TileEncoder& encoder, std::string& itemError) {
    base::TilePatch& p = patches[i];
    Frame part;
    part.widthPx = p.w;
    part.heightPx = p.h;
    part.strideBytes = frame.strideBytes;
    part.pixels = frame.pixels + std::size_t(p.tile.ty * tileSizePx + p.y) * frame.strideBytes +
                  std::size_t(p.tile.tx * tileSizePx + p.x) * kBytesPerPixel;
    const std::uint16_t tx = p.tile.tx, ty = p.tile.ty;
    if (!encoder.encode(part, 0, 0, tileSizePx, s, p.tile, itemError)) return false;
    p.tile.tx = tx;
    p.tile.ty = ty;
    return true;
  }, error);
}
}  // namespace

CapturePipeline::CapturePipeline(std::unique_ptr<ScreenSource> source, CaptureSettings settings, int encoderThreads,
                                 UpdateCallback onUpdate, FailureHandler onFailure)
    : m_source(std::move(source)), m_encoderThreads(encoderThreads), m_onUpdate(std::move(onUpdate)),
      m_onFailure(std::move(onFailure)), m_settings(settings.clamped()) {}

CapturePipeline::~CapturePipeline() { stop(); }

bool CapturePipeline::start(std::string& error) {
  if (m_running) return true;
  if (!m_source->open(error)) return false;
  m_thread.join();  // a capture thread that stopped on a throw is over: let it go
  m_stop = false;
  {
    std::lock_guard lock(m_mutex);
    m_stats.failure.clear();
  }
  m_running = true;
  try {
    m_thread = base::Worker("capture", [this] { run(); }, [this](const std::string& what) { failed(what); });
  } catch (const std::system_error& e) {
    m_running = false;
    error = std::string("cannot start the capture thread: ") + e.what();
    return false;
  }
  return true;
}

void CapturePipeline::stop() {
  m_stop = true;
  m_source->interrupt();
  m_thread.join();
  m_running = false;
}

// On the capture thread, after run() unwound: nothing more is captured or handed on.
void CapturePipeline::failed(const std::string& what, bool isError) {
  if (isError) HLOG_ERROR(kTag, "sharing stopped: %s", what.c_str());
  else HLOG_INFO(kTag, "sharing stopped: %s", what.c_str());
  {
    std::lock_guard lock(m_mutex);
    m_stats.failure = what;
    m_stats.lastError = "Sharing stopped: " + what;
  }
  m_running = false;
  if (m_onFailure) m_onFailure(what);
}

std::string CapturePipeline::failure() const {
  std::lock_guard lock(m_mutex);
  return m_stats.failure;
}

void CapturePipeline::setSettings(const CaptureSettings& settings) {
  {
    std::lock_guard lock(m_mutex);
    m_settings = settings.clamped();
  }
  nudge();
}

void CapturePipeline::nudge() {
  m_nudged = true;
  m_source->interrupt();
}

CaptureSettings CapturePipeline::settings() const {
  std::lock_guard lock(m_mutex);
  return m_settings;
}

PipelineStats CapturePipeline::stats() const {
  std::lock_guard lock(m_mutex);
  return m_stats;
}

void CapturePipeline::run() {
  EncoderPool pool(m_encoderThreads);
  DamageTracker damage;
  StillTiles still;
  int gridX = 0, gridY = 0, gridTile = 0;  // the grid `still` follows
  ScrollDetector scroll;
  std::vector<base::CopyRect> copies;
  std::vector<base::TilePatch> patches;
  // Tiles a copy changed that have not been encoded since: the host holds older bytes for
  // them. Encoded again kCopyRefreshMs after the first of them, so its image becomes whole.
  std::vector<std::uint8_t> stale;
  std::size_t staleCount = 0;
  std::int64_t staleSinceUs = 0;
  std::vector<std::uint32_t> touched, work;
  Scaler scaler;
  // The lower quality tiers' own scaling and damage (each compared with its own last image).
  struct LowerTier {
    Scaler scaler;
    DamageTracker damage;
    CaptureSettings applied;
    bool active = false;
    std::vector<std::uint32_t> work;
    std::vector<base::EncodedTile> tiles;
  };
  std::array<LowerTier, wire::kMaxScreenTiers - 1> lower;
  bool topIdle = false;  // nobody watched tier 0 last frame: it is sent whole when wanted again
  int topW = 0, topH = 0, topTile = 0;  // the top's geometry when it was last encoded
  CaptureSettings applied;
  bool first = true;
  std::vector<base::EncodedTile> tiles;
  auto next = std::chrono::steady_clock::now();
  ChangeSchedule changes(next);  // when a capture for a drawing may come
  // Drawings that land while captures are held back to the rate. Its pieces are noted up to
  // kHeldLook apart, and each may end in a quiet window.
  HeldDrawings held(kHeldLook + kSettleAfterChange);
  auto activeAt = next;  // the last frame that changed something, or moved the cursor
  std::uint64_t dropped = 0;
  // The cursor: the source's shape as last seen, and what was last handed on.
  base::CursorImage sourceShape, streamShape;
  bool haveShape = false;
  int shapeScale = 0;
  base::CursorPos lastPos;
  bool sentPos = false;
  m_source->keep(nullptr);  // the damage tracker keeps its reference through keep()
  while (!m_stop.load()) {
    CaptureSettings s = settings();
    if (first || s.changesEncoding(applied)) damage.reset();
    damage.setTileSize(s.tileSizePx);
    applied = s;
    first = false;

    // Pacing: sleep to the next deadline in small steps (stop stays responsive); if we are
    // more than a frame late, skip ahead instead of capturing a burst to catch up.
    const auto interval = std::chrono::microseconds(1'000'000 / s.fps);
    auto now = std::chrono::steady_clock::now();
    bool quiet = m_source->notifiesPointer() && now - activeAt >= kQuietAfter && staleCount == 0 &&
                 (!s.sharpWhenStill || still.lossyTiles() == 0);
    const auto paced = next + interval;  // the next frame at the frame rate
    next += quiet ? std::chrono::duration_cast<std::chrono::microseconds>(kQuietTick) : interval;
    if (now > next + interval) {
      dropped += static_cast<std::uint64_t>((now - next) / interval);
      next = now;
    }
    // A source told of drawings (XDamage) is captured as soon as one comes, when the frame
    // rate allows: a drawing then waits for nothing, not up to a whole interval for the clock
    // (which still ticks, for the cursor and the sharp refresh), as ChangeSchedule allows.
    const bool notified = m_source->notifiesChanges();
    const auto earliest = changes.earliest(interval);
    // Word comes with the first drawing of a burst (a scroll, then the new line, a picture in
    // pieces, ...): the rest of it lands in this frame, not the next, as long as it keeps
    // coming, up to kSettleAtMost (drawing that never pauses, a terminal flooded with output,
    // is still captured at the frame rate).
    auto settleDrawing = [&] {
      m_source->settle(kSettleAfterChange.count(), std::min<std::int64_t>(interval.count() / 2, kSettleAtMost.count()));
      next = std::chrono::steady_clock::now();  // the clock starts again from this frame
    };
    auto ms = [](std::chrono::steady_clock::duration d) {
      return int(std::chrono::ceil<std::chrono::milliseconds>(d).count());
    };
    while (!m_stop.load()) {
      now = std::chrono::steady_clock::now();
      if (m_nudged.exchange(false)) {
        // The owner's news (settings, tiers wanted): frames at the rate again, as after a change.
        activeAt = now;
        if (quiet) next = std::min(next, std::max(paced, now));
        quiet = false;
      }
      if (notified && now >= earliest && held.waiting()) {
        // A drawing landed while captures were held back: taken now, or the next one, fresh,
        // if it is due soon (HeldDrawings says which, and how long to wait for it). Pieces
        // that landed since the last look (in the kHeldLook sleep) are noted first.
        if (m_source->waitForDrawing(0)) held.drawn(now, true);
        const auto until = held.waitUntil(now, interval);
        bool fresh = false;  // looked for in steps, so stop() stays responsive at a low rate
        for (auto t = now; t < until && !fresh && !m_stop.load(); t = std::chrono::steady_clock::now())
          fresh = m_source->waitForDrawing(ms(std::min<std::chrono::steady_clock::duration>(until - t, kWaitStep)));
        if (fresh) {
          held.drawn(std::chrono::steady_clock::now(), false);
          settleDrawing();
        } else if (std::chrono::steady_clock::now() - held.lastPieceAt() < kSettleAfterChange) {
          settleDrawing();  // the one waiting may still be being drawn
        }
        break;
      }
      if (now >= next) break;
      const auto until = notified && now < earliest ? std::min(next, earliest) : next;
      const auto wait = std::min<std::chrono::steady_clock::duration>(until - now, quiet ? kQuietTick : kWaitStep);
      if (notified && now >= earliest) {
        if (m_source->waitForChange(ms(wait))) {
          held.drawn(std::chrono::steady_clock::now(), false);
          settleDrawing();
          break;
        }
      } else if (notified) {
        // Held back to the rate: when drawings land is noted (and they are kept for the next
        // capture), looked for at most every kHeldLook (each look is a few X requests).
        if (m_source->waitForDrawing(ms(wait))) {
          held.drawn(std::chrono::steady_clock::now(), true);
          std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(kHeldLook, earliest - std::chrono::steady_clock::now()));
        }
      } else {
        std::this_thread::sleep_for(wait);
      }
    }
    if (m_stop.load()) break;
    held.captured();

    const std::int64_t t0 = base::monoUs();
    const auto capturedAt = std::chrono::steady_clock::now();
    Frame raw;
    std::string error;
    CaptureResult r = m_source->capture(raw, error);
    if (r == CaptureResult::Ended) {  // the shared window closed: the share is over, as on a failure
      failed(error, false);
      return;
    }
    const bool drawn = !raw.changed || !raw.changed->empty();
    // The cursor, if it changed (shape or place) since last handed on; polled once a frame.
    bool cursorPolled = !m_onCursor;
    auto pollCursor = [&]() -> std::optional<CursorUpdate> {
      cursorPolled = true;
      base::CursorPos pos;
      bool shapeChanged = false;
      if (!m_onCursor || !m_source->cursor(pos, sourceShape, shapeChanged)) return std::nullopt;
      if (shapeChanged) haveShape = true;
      CursorUpdate cu;
      if (haveShape && (shapeChanged || shapeScale != s.scalePercent)) {
        streamShape = base::scaledCursor(sourceShape, s.scalePercent);
        shapeScale = s.scalePercent;
        cu.shape = &streamShape;
      }
      if (!haveShape) pos.visible = false;
      pos.shapeId = streamShape.id;
      pos.x = static_cast<std::int32_t>(std::int64_t(pos.x) * s.scalePercent / 100);
      pos.y = static_cast<std::int32_t>(std::int64_t(pos.y) * s.scalePercent / 100);
      if (!pos.visible) pos.x = pos.y = 0;
      if (!cu.shape && sentPos && pos == lastPos) return std::nullopt;
      // A moving pointer wakes the capture (XInput2) at the frame rate at most, like drawings.
      if (!drawn) changes.captured(capturedAt, interval);
      activeAt = std::chrono::steady_clock::now();
      cu.pos = pos;
      lastPos = pos;
      sentPos = true;
      return cu;
    };
    if (drawn) {
      changes.captured(capturedAt, interval);
      activeAt = capturedAt;
    }
    if (r == CaptureResult::Error) {
      std::lock_guard lock(m_mutex);
      if (m_stats.lastError != error) HLOG_WARN(kTag, "capture failed: %s", error.c_str());
      m_stats.lastError = error;
      continue;
    }
    // Another image (a moved area of the same size) may be in other buffers: compare whole.
    if (r == CaptureResult::Reinit) damage.reset();
    Frame frame = scaler.scale(raw, s.scalePercent);
    std::uint8_t wanted = m_wantedTiers ? m_wantedTiers() : 1;
    if (wanted == 0) wanted = 1;  // no stream yet: its first frame is the top
    // A new size of the top goes out even while nobody watches it: the host learns the
    // stream's size from it, and a lower tier may never be larger than that.
    const bool topResized = topW != 0 && (frame.widthPx != topW || frame.heightPx != topH || s.tileSizePx != topTile);
    const bool topWanted = (wanted & 1) || topResized;
    if (!topWanted) {
      topIdle = true;
    } else if (topIdle) {
      damage.reset();
      topIdle = false;
    }
    const std::int64_t t1 = base::monoUs();
    if (topWanted) {
      topW = frame.widthPx;
      topH = frame.heightPx;
      topTile = s.tileSizePx;
      // Scrolls first: found against the reference and applied to it, so damage then finds
      // only what still differs (the newly exposed pixels).
      copies.clear();
      const bool refreshDue = staleCount > 0 && t0 - staleSinceUs >= std::int64_t(wire::kCopyRefreshMs) * 1000;
      const bool mayCopy = s.copyDetect && !refreshDue && (!m_mayCopy || m_mayCopy());
      scroll.process(frame, mayCopy ? damage.reference(frame.widthPx, frame.heightPx) : nullptr,
                     damage.referenceStrideBytes(), wire::kMaxCopiesPerBatch, copies);
      // Tiles a verified copy wrote whole already equal the frame: damage need not compare them.
      for (const base::CopyRect& c : copies) {
        const int t = damage.tileSizePx(), cols = damage.tilesX();
        for (int ty = c.dstY / t; ty * t < c.dstY + c.h; ++ty)
          for (int tx = c.dstX / t; tx * t < c.dstX + c.w; ++tx) {
            const int x1 = std::min((tx + 1) * t, frame.widthPx), y1 = std::min((ty + 1) * t, frame.heightPx);
            if (tx * t >= c.dstX && ty * t >= c.dstY && x1 <= c.dstX + c.w && y1 <= c.dstY + c.h)
              damage.knownEqual(static_cast<std::uint32_t>(ty * cols + tx));
          }
      }
      // Changed tiles' exact bounds only serve patches, which go only beside copies.
      const std::vector<std::uint32_t>& dirty = damage.update(frame, s.tilePatches && !copies.empty());
      m_source->keep(damage.kept());  // the reference may be the frame's own buffer now
      if (damage.tilesX() != gridX || damage.tilesY() != gridY || s.tileSizePx != gridTile) {
        gridX = damage.tilesX();
        gridY = damage.tilesY();
        gridTile = s.tileSizePx;
        still.reset(std::size_t(gridX) * std::size_t(gridY));
        stale.assign(still.size(), 0);
        staleCount = 0;
      }
      touched.clear();
      for (const base::CopyRect& c : copies) still.moved(c, gridTile, gridX, gridY, t0, touched);
      for (std::uint32_t i : touched)
        if (i < stale.size() && !stale[i]) {
          if (staleCount++ == 0) staleSinceUs = t0;
          stale[i] = 1;
        }
      // With copies (the tiles around them are stale on the host anyway, and viewers are
      // replayed in order), a dirty tile whose changes fit a small part of it goes as a patch.
      patches.clear();
      work.clear();
      const std::vector<base::Rect>& changed = damage.changedRects();
      for (std::size_t k = 0; k < dirty.size(); ++k) {
        base::TilePatch p;
        if (s.tilePatches && !copies.empty() && k < changed.size() && patches.size() < wire::kMaxPatchesPerBatch &&
            patchPlace(dirty[k], changed[k], damage.tilesX(), s.tileSizePx, frame.widthPx, frame.heightPx, p))
          patches.push_back(p);
        else
          work.push_back(dirty[k]);
      }
      std::size_t refreshTiles = 0;
      if (refreshDue) {
        for (std::uint32_t i : work) stale[i] |= 2;  // encoded anyway
        for (std::uint32_t i = 0; i < stale.size(); ++i) {
          if (stale[i] == 1) work.push_back(i), ++refreshTiles;
          stale[i] &= 1;
        }
        // In grid order again: tiles side by side in a row go in one strip.
        if (refreshTiles > 0) std::sort(work.begin(), work.end());
      }
      const bool full = work.size() == std::size_t(damage.tilesX()) * damage.tilesY();
      const std::int64_t t2 = base::monoUs();
      bool ok = pool.encode(frame, work, damage.tilesX(), s, tiles, error);
      if (ok && !patches.empty()) ok = encodePatches(pool, frame, s.tileSizePx, s, patches, error);
      std::uint64_t jpegBytes = 0, patchBytes = 0;
      for (const auto& p : patches) patchBytes += p.tile.jpeg.size;
      for (const auto& t : tiles) jpegBytes += t.jpeg.size;
      const std::size_t changedTiles = tiles.size();
      std::size_t sharpBytes = 0;
      bool sharpOk = true;
      std::string sharpError;
      if (ok) {
        for (std::size_t i = 0; i < work.size(); ++i) still.changed(work[i], tiles[i].kind, tiles[i].jpeg.size, t0);
        // A patched tile is stale on the host (it keeps the older whole tile), as under a copy.
        for (const auto& p : patches) {
          const std::uint32_t i = std::uint32_t(p.tile.ty) * std::uint32_t(gridX) + p.tile.tx;
          still.patched(i, p.tile.kind, t0);
          if (i < stale.size() && !stale[i]) {
            if (staleCount++ == 0) staleSinceUs = t0;
            stale[i] = 1;
          }
        }
        if (s.sharpWhenStill)
          sharpBytes = addStillTiles(pool, still, frame, damage.tilesX(), s, t0, interval.count(), tiles, sharpOk,
                                     sharpError);
      }
      if (ok) {
        // Every tile sent now holds its current pixels on the host.
        for (const auto& t : tiles) {
          const std::size_t i = std::size_t(t.ty) * gridX + t.tx;
          if (i < stale.size() && stale[i]) stale[i] = 0, --staleCount;
        }
      }
      const std::int64_t t3 = base::monoUs();
      {
        std::lock_guard lock(m_mutex);
        ++m_stats.framesCaptured;
        m_stats.framesDropped = dropped;
        if (!dirty.empty()) ++m_stats.framesWithChanges;
        m_stats.tilesEncoded += changedTiles;
        m_stats.jpegBytes += jpegBytes;
        m_stats.sharpTiles += tiles.size() - changedTiles;
        m_stats.sharpBytes += sharpBytes;
        m_stats.lossyTiles = still.lossyTiles();
        m_stats.copies += copies.size();
        m_stats.copiedTiles += touched.size();
        m_stats.refreshTiles += refreshTiles;
        m_stats.patches += patches.size();
        m_stats.patchBytes += patchBytes;
        smooth(m_stats.captureMs, static_cast<double>(t1 - t0) / 1e3);
        smooth(m_stats.damageMs, static_cast<double>(t2 - t1) / 1e3);
        smooth(m_stats.encodeMs, static_cast<double>(t3 - t2) / 1e3);
        if (!ok) m_stats.lastError = error;
        else if (!sharpOk) m_stats.lastError = sharpError;
      }
      if (!ok) {
        HLOG_WARN(kTag, "encoding failed: %s", error.c_str());
        damage.reset();  // try the whole frame again next time (every tile: nothing stale after it)
        continue;
      }
      if (!sharpOk) HLOG_WARN(kTag, "lossless encoding failed: %s", sharpError.c_str());  // those tiles stay due
      if (!tiles.empty() || !copies.empty() || !patches.empty()) {
        EncodedUpdate u;
        u.widthPx = static_cast<std::uint32_t>(frame.widthPx);
        u.heightPx = static_cast<std::uint32_t>(frame.heightPx);
        u.tileSizePx = static_cast<std::uint16_t>(s.tileSizePx);
        u.seq = frame.seq;
        u.captureTimeUs = frame.captureTimeUs;
        u.tiles = std::move(tiles);
        u.copies = copies;
        u.patches = std::move(patches);
        patches.clear();
        u.full = full;
        // Polled after the tiles are encoded, so it is as fresh as they are, and handed on with
        // them: the relay sends each viewer both in one write.
        u.cursor = pollCursor();
        cursorPolled = true;
        m_onUpdate(std::move(u));
        tiles.clear();
      }
    }
    // The lower tiers anyone watches, after the top (its viewers never wait for them): each
    // scaled from the captured frame, compared with its own last image, encoded once.
    for (int t = 1; t < wire::kMaxScreenTiers; ++t) {
      LowerTier& lt = lower[std::size_t(t - 1)];
      if (!(wanted >> t & 1)) {
        lt.active = false;
        continue;
      }
      const CaptureSettings ts = tierSettings(s, t);
      if (!lt.active || ts.changesEncoding(lt.applied)) {
        lt.scaler = Scaler();  // its image may be stale: scaled whole, and sent whole
        lt.damage.reset();
      }
      lt.active = true;
      lt.applied = ts;
      lt.damage.setTileSize(ts.tileSizePx);
      Frame tierFrame = lt.scaler.scale(raw, ts.scalePercent);
      tierFrame.keepable = nullptr;  // the top's damage tracker may keep the source's buffer
      const std::vector<std::uint32_t>& tierDirty = lt.damage.update(tierFrame, false);
      if (tierDirty.empty()) continue;
      lt.work.assign(tierDirty.begin(), tierDirty.end());
      std::string tierError;
      if (!pool.encode(tierFrame, lt.work, lt.damage.tilesX(), ts, lt.tiles, tierError)) {
        HLOG_WARN(kTag, "encoding tier %d failed: %s", t, tierError.c_str());
        lt.damage.reset();  // whole next time
        continue;
      }
      EncodedUpdate u;
      u.tier = t;
      u.widthPx = static_cast<std::uint32_t>(tierFrame.widthPx);
      u.heightPx = static_cast<std::uint32_t>(tierFrame.heightPx);
      u.tileSizePx = static_cast<std::uint16_t>(ts.tileSizePx);
      u.seq = frame.seq;
      u.captureTimeUs = frame.captureTimeUs;
      u.full = lt.work.size() == std::size_t(lt.damage.tilesX()) * lt.damage.tilesY();
      std::uint64_t bytes = 0;
      for (const auto& tile : lt.tiles) bytes += tile.jpeg.size;
      {
        std::lock_guard lock(m_mutex);
        m_stats.tierTiles += lt.tiles.size();
        m_stats.tierBytes += bytes;
      }
      u.tiles = std::move(lt.tiles);
      lt.tiles.clear();
      m_onUpdate(std::move(u));
    }
    {
      std::lock_guard lock(m_mutex);
      m_stats.tiersEncoded = wanted;
    }
    if (!cursorPolled) {
      // No update of the top went this frame: the cursor goes alone.
      std::optional<CursorUpdate> cu = pollCursor();
      if (cu) m_onCursor(*cu);
    }
  }
}

}  // namespace huddle::capture
