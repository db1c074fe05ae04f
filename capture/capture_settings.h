// What a sharer can tune live: JPEG quality and chroma subsampling, scale, frame rate, and
// sharp when still (still tiles sent again losslessly) with its still time.
// Thread: plain values, copied between threads under the pipeline's lock.
#pragma once
#include <algorithm>
#include <cstdint>

#include "net/wire/limits.h"

namespace huddle::capture {

enum class Subsampling : std::uint8_t { S420, S444 };

struct CaptureSettings {
  int quality = 80;                  // 1..100
  Subsampling subsampling = Subsampling::S420;
  int scalePercent = 100;            // 100, 75 or 50
  int fps = 30;                      // 1..wire::kMaxCaptureFps
  int tileSizePx = 64;               // 64, 128 or 256
  bool sharpWhenStill = true;        // resend lossy tiles losslessly once they stay still
  int stillMs = wire::kDefaultStillMs;  // how long still: wire::kMinStillMs..kMaxStillMs
  // With sharp when still: a changed tile of few colours (text, flat UI) goes exact at once, as
  // a palette tile smaller than its JPEG. Off only to measure or test JPEG alone.
  bool exactFewColours = true;
  bool copyDetect = true;            // scrolls go as a copy plus the newly exposed pixels
  // In a frame with copies, a dirty tile whose changes fit a small part of it goes as a patch of
  // that rectangle (the scroll's newly exposed line), not whole.
  bool tilePatches = true;

  // Brings every field into its allowed range (the nearest allowed scale and tile size).
  CaptureSettings clamped() const {
    CaptureSettings s = *this;
    s.quality = std::clamp(quality, 1, 100);
    s.fps = std::clamp(fps, 1, wire::kMaxCaptureFps);
    s.scalePercent = scalePercent >= 88 ? 100 : scalePercent >= 63 ? 75 : 50;
    s.tileSizePx = tileSizePx >= 192 ? 256 : tileSizePx >= 96 ? 128 : 64;
    s.stillMs = std::clamp(stillMs, wire::kMinStillMs, wire::kMaxStillMs);
    return s;
  }
  // True if a change from `o` to this needs every tile encoded again.
  bool changesEncoding(const CaptureSettings& o) const {
    return quality != o.quality || subsampling != o.subsampling || scalePercent != o.scalePercent ||
           tileSizePx != o.tileSizePx;
  }
};

// Every viewer at its own pace: the settings of quality tier `tier` of a stream shared at
// `top` (tier 0 is `top` itself). Each lower tier is a step smaller and coarser: 1 is one scale
// step down (100 -> 75, else 50) at quality 60 at most, 2 is half size at quality 40 at most;
// both 4:2:0, with no lossless refresh of still tiles.
inline CaptureSettings tierSettings(const CaptureSettings& top, int tier) {
  if (tier <= 0) return top;
  CaptureSettings s = top;
  s.scalePercent = tier == 1 && top.scalePercent == 100 ? 75 : 50;
  s.quality = std::min(top.quality, tier == 1 ? 60 : 40);
  s.subsampling = Subsampling::S420;
  s.sharpWhenStill = false;
  s.copyDetect = false;
  return s;
}

}  // namespace huddle::capture
