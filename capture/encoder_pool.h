// Encodes the dirty tiles of a frame on several threads ("encode-N"), one TurboJPEG handle
// each. The calling (capture) thread works too, so a pool of N uses N-1 extra threads and no
// handoff is wasted on a frame with few tiles. Items (runs of dirty tiles, see encode()) are
// taken one at a time from a shared counter, so slow (busy) ones do not leave a thread idle.
// Anything thrown while encoding fails that frame only: the call returns false with what was
// thrown, never hangs, and a worker that stopped on a throw is started again before the next
// frame.
// Thread: encode()/forEach() from one thread at a time; workers are internal.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "capture/capture_settings.h"
#include "capture/tile_codec.h"
#include "net/base/worker.h"

namespace huddle::capture {

class EncoderPool {
 public:
  // One item of work on some thread of the pool, with that thread's encoder; false with
  // `error` if the item failed (the others still run).
  using ItemFn = std::function<bool(std::size_t item, TileEncoder& encoder, std::string& error)>;

  // `threads` <= 0: one per core.
  explicit EncoderPool(int threads = 0);
  ~EncoderPool();
  EncoderPool(const EncoderPool&) = delete;
  EncoderPool& operator=(const EncoderPool&) = delete;

  // Encodes tiles `dirty` (row-major indices over a grid `tilesX` wide) of `frame`; the
  // result is in the same order as `dirty`. False with `error` if any tile failed.
  bool encode(const Frame& frame, const std::vector<std::uint32_t>& dirty, int tilesX, const CaptureSettings& settings,
              std::vector<base::EncodedTile>& out, std::string& error);
  // The same for lossless tiles (TileEncoder::encodeLossless) of tiles `which`.
  bool encodeLossless(const Frame& frame, const std::vector<std::uint32_t>& which, int tilesX, int tileSizePx,
                      std::vector<base::EncodedTile>& out, std::string& error);
  // Runs fn for items 0..count-1 across the pool (encode() is this over the dirty tiles)
  // and returns when every item is done or given up. False with the first failure in
  // `error`: an item that failed, or what fn threw (then the thread that threw takes no
  // more items of this call; the others finish them).
  bool forEach(std::size_t count, const ItemFn& fn, std::string& error);
  int threads() const { return static_cast<int>(m_workers.size()) + 1; }
  // Workers started again after stopping on a throw, since the pool was made.
  std::uint64_t workersRestarted() const { return m_restarted; }

 private:
  struct Job;
  void startWorker(std::size_t index);
  void workerLoop(std::size_t index);
  void workerFailed(std::size_t index, const std::string& what);
  static void work(Job& job, TileEncoder& encoder);

  std::vector<std::unique_ptr<TileEncoder>> m_encoders;  // [0] is the caller's, [i + 1] worker i's
  std::vector<std::pair<std::size_t, std::size_t>> m_items;  // encode()'s: first dirty tile, count
  std::vector<std::uint8_t> m_paletteSkip;  // encode()'s: per tile of the grid (TileEncoder::encodeRun)
  int m_paletteSkipColumns = 0;
  std::vector<base::Worker> m_workers;                   // touched by the caller's thread only
  std::uint64_t m_restarted = 0;                         // the caller's thread only

  std::mutex m_mutex;  // guards everything below
  std::condition_variable m_cv, m_doneCv;
  Job* m_job = nullptr;
  std::uint64_t m_generation = 0;       // +1 for every job handed to the workers
  std::vector<std::uint64_t> m_taken;   // per worker: the last generation it took
  std::vector<std::uint64_t> m_done;    // per worker: the last generation it is done with
  std::vector<bool> m_alive;            // per worker: its thread is running its loop
  std::size_t m_pending = 0;            // workers not yet done with the current job
  bool m_stop = false;
};

}  // namespace huddle::capture
