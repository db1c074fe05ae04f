// One watched stream on a participant's side: the decoded image (a Framebuffer), what the
// window has not uploaded yet, and the viewer statistics. Written by the decode thread,
// read by the window (GL upload) and by snapshots.
// Thread: any; the image is guarded by a lock held only while decoding one update or
// while the reader copies.
#pragma once
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

#include "app/session/stream_stats.h"
#include "capture/framebuffer.h"
#include "net/wire/screen_messages.h"

namespace huddle::session {

class StreamView {
 public:
  explicit StreamView(const wire::StreamInfo& info) : m_info(info) {}

  // Calls f(const capture::Framebuffer&, base::Rect dirty) under the image lock and clears the
  // dirty rectangle: the window uploads exactly what changed since its last look.
  template <typename F>
  void consume(F&& f) {
    std::lock_guard lock(m_mutex);
    base::Rect dirty = m_fb.takeDirty();
    f(static_cast<const capture::Framebuffer&>(m_fb), dirty);
  }
  // Saves the current image as a PNG; false with `error` (e.g. nothing received yet).
  bool savePng(const std::string& path, std::string& error) const;

  wire::StreamInfo info() const;
  void setInfo(const wire::StreamInfo& info);
  StreamStats& stats() { return m_stats; }
  std::uint64_t updatesApplied() const { return m_applied.load(); }
  // The publisher's frame number of the newest update shown.
  std::uint64_t lastSeq() const { return m_lastSeq.load(); }
  bool ended() const { return m_ended.load(); }
  // The JPEG quality and subsampling of the newest tiles (0 until one arrives).
  int quality() const { return m_quality.load(); }
  bool chroma444() const { return m_chroma444.load(); }
  void markEnded() { m_ended = true; }

  // Decode thread: applies one update; false if a tile was bad (then ask for a refresh).
  bool apply(const wire::TileBatch& batch, capture::TileDecoder& decoder, std::string& error);

 private:
  mutable std::mutex m_mutex;  // guards m_fb and m_info
  capture::Framebuffer m_fb;
  wire::StreamInfo m_info;
  StreamStats m_stats;
  std::atomic<std::uint64_t> m_applied{0};
  std::atomic<std::uint64_t> m_lastSeq{0};
  std::atomic<bool> m_ended{false};
  std::atomic<int> m_quality{0};
  std::atomic<bool> m_chroma444{false};
};

}  // namespace huddle::session
