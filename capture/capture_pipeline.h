// One shared screen's engine on the sharing side: a capture thread ("capture") paced at the
// target frame rate (next += interval; a missed deadline drops frames instead of queueing
// them), then scale, damage and parallel JPEG encoding, handing each frame's changed tiles
// to a callback. Sharp when still: tiles sent as JPEG that then stay unchanged for the still
// time go again losslessly, beside a frame's changed tiles, only while that frame's work is
// under half its interval and at most wire::kSharpBytesPerTick a frame, so moving content
// never waits for them. Settings change live and apply from the next frame. A frame that fails
// (capture or encoding) is skipped with lastError set; a throw on the capture thread (the
// source, the callback, an allocation) stops the pipeline: running() turns false, failure()
// and PipelineStats::failure say why, and the owner's FailureHandler is told.
// Thread: start()/stop()/setSettings() from any thread; the callback runs on the capture
// thread and must not block for long (it hands the tiles on).
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "capture/capture_settings.h"
#include "capture/screen_source.h"
#include "net/base/tile.h"
#include "net/base/worker.h"

namespace huddle::capture {

// The cursor as the stream shows it (scaled with the stream): a new shape when it changed
// (or the scale did), and its position, handed on only when either changed.
struct CursorUpdate {
  // null: the shape last handed on still holds (else valid during the callback only)
  const base::CursorImage* shape = nullptr;
  base::CursorPos pos;
};

struct EncodedUpdate {
  std::uint32_t widthPx = 0, heightPx = 0;  // the stream (after scaling)
  std::uint16_t tileSizePx = 64;
  std::uint64_t seq = 0;                    // frame number
  std::int64_t captureTimeUs = 0;           // wall clock at capture
  // Scrolls found in this frame: applied in order to the previous image, before the tiles.
  std::vector<base::CopyRect> copies;
  // Changed rectangles inside tiles (only with copies): after the copies, before the tiles.
  std::vector<base::TilePatch> patches;
  std::vector<base::EncodedTile> tiles;     // changed tiles (all of them after a reset), then
                                            // still tiles sent again losslessly
  bool full = false;                        // every tile is included (first frame, resize, reset)
  // Its quality tier (tierSettings): 0 the sharer's settings; a lower tier's geometry is its
  // own, and it has no copies.
  int tier = 0;
  // The cursor, when it changed with this frame (the top tier's update only; a frame with no
  // update of the top hands it to the cursor callback alone).
  std::optional<CursorUpdate> cursor;
};

struct PipelineStats {
  std::uint64_t framesCaptured = 0, framesWithChanges = 0, framesDropped = 0;
  std::uint64_t tilesEncoded = 0, jpegBytes = 0;      // changed tiles and their bytes
  std::uint64_t sharpTiles = 0, sharpBytes = 0;       // still tiles sent again losslessly
  std::size_t lossyTiles = 0;                         // tiles whose latest version is JPEG, now
  // Scrolls sent as copies, the tiles they changed (mostly not encoded), and tiles encoded
  // again only because a copy had changed them (the refresh that keeps the host's image whole).
  std::uint64_t copies = 0, copiedTiles = 0, refreshTiles = 0;
  // Dirty tiles sent as patches (their changed rectangle only) and the patches' bytes.
  std::uint64_t patches = 0, patchBytes = 0;
  // Lower quality tiers (the viewers on slow links): tiles encoded for them and their bytes,
  // and the tiers encoded in the last frame (bit t: tier t).
  std::uint64_t tierTiles = 0, tierBytes = 0;
  std::uint8_t tiersEncoded = 1;
  double captureMs = 0, damageMs = 0, encodeMs = 0;  // per frame, smoothed
  std::string lastError;                             // the latest frame that failed, or the stop below
  std::string failure;                               // why the capture thread stopped on its own
};

class CapturePipeline {
 public:
  using UpdateCallback = std::function<void(EncodedUpdate&&)>;
  // Told once, on the capture thread, what it threw; the pipeline has stopped and the owner
  // should stop sharing (stop() then returns at once).
  using FailureHandler = std::function<void(const std::string& what)>;
  // Told on the capture thread, after that frame's tiles, when the cursor moved or changed.
  using CursorCallback = std::function<void(const CursorUpdate&)>;

  CapturePipeline(std::unique_ptr<ScreenSource> source, CaptureSettings settings, int encoderThreads,
                  UpdateCallback onUpdate, FailureHandler onFailure = {});
  ~CapturePipeline();

  // Opens the source and starts the capture thread; false with a reason.
  bool start(std::string& error);
  // Stops and joins the capture thread (returns within one frame's work).
  void stop();
  // Any thread. New settings are looked at at once on a quiet screen too (see nudge()).
  void setSettings(const CaptureSettings& settings);
  // Any thread: something the capture thread asks for changed (the tiers wanted). A quiet
  // screen is looked at only now and then; nudged, the next frame comes at the frame rate.
  void nudge();
  // Set before start(), on the capture thread before each frame: whether this frame may go as
  // copies (a publisher with an unsent frame waiting cannot merge a copy into it).
  void setCopyGate(std::function<bool()> mayCopy) { m_mayCopy = std::move(mayCopy); }
  // Set before start(), asked on the capture thread before each frame: which quality tiers
  // anyone watches (bit t: tier t; see tierSettings). Only those are encoded, each once; a
  // tier that comes on is sent whole. Unset: tier 0 only.
  void setTierGate(std::function<std::uint8_t()> wanted) { m_wantedTiers = std::move(wanted); }
  // Set before start(): the source's cursor is polled each frame and, when it changed, handed
  // on with the top tier's update (EncodedUpdate::cursor), or here when there is none.
  void setCursorCallback(CursorCallback onCursor) { m_onCursor = std::move(onCursor); }
  CaptureSettings settings() const;
  PipelineStats stats() const;
  std::string title() const { return m_source->title(); }
  // False before start(), after stop(), and once the capture thread stopped on a throw.
  bool running() const { return m_running.load(); }
  // What the capture thread threw, if it stopped on its own ("" otherwise).
  std::string failure() const;

 private:
  void run();
  // The capture thread is over: `what` says why; `isError` false when the source simply ended.
  void failed(const std::string& what, bool isError = true);

  std::unique_ptr<ScreenSource> m_source;
  int m_encoderThreads;
  UpdateCallback m_onUpdate;
  FailureHandler m_onFailure;
  CursorCallback m_onCursor;
  std::function<bool()> m_mayCopy;
  std::function<std::uint8_t()> m_wantedTiers;
  base::Worker m_thread;
  std::atomic<bool> m_running{false};
  std::atomic<bool> m_stop{false};
  std::atomic<bool> m_nudged{false};
  mutable std::mutex m_mutex;  // guards m_settings and m_stats
  CaptureSettings m_settings;
  PipelineStats m_stats;
};

// Lets other threads nudge() a pipeline that its owner may stop meanwhile: the owner set()s it
// once started and set(nullptr)s it before stopping it; a nudge between finds none.
// Thread: any.
class PipelineNudge {
 public:
  void set(CapturePipeline* pipeline) {
    std::lock_guard lock(m_mutex);
    m_pipeline = pipeline;
  }
  void nudge() {
    std::lock_guard lock(m_mutex);
    if (m_pipeline) m_pipeline->nudge();  // a flag and an eventfd write: no lock of the pipeline's
  }

 private:
  std::mutex m_mutex;
  CapturePipeline* m_pipeline = nullptr;
};

}  // namespace huddle::capture
