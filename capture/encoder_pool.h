// Encodes the dirty tiles of a frame on several threads, one TurboJPEG handle each. The
// calling (capture) thread works too, so a pool of N uses N-1 extra threads and no handoff
// is wasted on a frame with few tiles. Tiles are taken one at a time from a shared counter,
// so slow (busy) tiles do not leave a thread idle.
// Thread: encode() from one thread at a time; workers are internal.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "capture/capture_settings.h"
#include "capture/tile_codec.h"

namespace huddle::capture {

class EncoderPool {
 public:
  // `threads` <= 0: one per core.
  explicit EncoderPool(int threads = 0);
  ~EncoderPool();
  EncoderPool(const EncoderPool&) = delete;
  EncoderPool& operator=(const EncoderPool&) = delete;

  // Encodes tiles `dirty` (row-major indices over a grid `tilesX` wide) of `frame`; the
  // result is in the same order as `dirty`. False with `error` if any tile failed.
  bool encode(const Frame& frame, const std::vector<std::uint32_t>& dirty, int tilesX, const CaptureSettings& settings,
              std::vector<base::EncodedTile>& out, std::string& error);
  int threads() const { return static_cast<int>(m_workers.size()) + 1; }

 private:
  struct Job;
  void workerLoop(std::size_t index);
  void work(Job& job, TileEncoder& encoder);

  std::vector<std::thread> m_workers;
  std::vector<std::unique_ptr<TileEncoder>> m_encoders;  // [0] is the caller's
  std::mutex m_mutex;
  std::condition_variable m_cv, m_doneCv;
  Job* m_job = nullptr;
  std::uint64_t m_generation = 0;
  std::size_t m_pending = 0;  // workers not yet done with the current job
  bool m_stop = false;
};

}  // namespace huddle::capture
