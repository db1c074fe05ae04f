#include "capture/encoder_pool.h"

#include <algorithm>
#include <system_error>
#include <thread>

#include "net/base/log.h"

namespace huddle::capture {

namespace {
constexpr const char* kTag = "capture/encoder";
// Fewer items than this are not worth waking anyone for.
constexpr std::size_t kMinItemsToShare = 4;
}  // namespace

struct EncoderPool::Job {
  std::size_t count = 0;
  const ItemFn* fn = nullptr;
  std::atomic<std::size_t> next{0};
  std::mutex errorMutex;
  std::string error;  // the first failure

  void fail(const std::string& what) {
    std::lock_guard lock(errorMutex);
    if (error.empty()) error = what;
  }
};

EncoderPool::EncoderPool(int threads) {
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const auto workers = static_cast<std::size_t>(threads - 1);
  for (int i = 0; i < threads; ++i) m_encoders.push_back(std::make_unique<TileEncoder>());
  m_workers.resize(workers);
  m_taken.assign(workers, 0);
  m_done.assign(workers, 0);
  m_alive.assign(workers, false);
  for (std::size_t i = 0; i < workers; ++i) startWorker(i);
}

EncoderPool::~EncoderPool() {
  {
    std::lock_guard lock(m_mutex);
    m_stop = true;
  }
  m_cv.notify_all();
  for (auto& w : m_workers) w.join();  // before the members they use go
}

// Caller's thread. A worker that cannot be started stays out of jobs (the caller and the
// others do its share) and is tried again before the next one.
void EncoderPool::startWorker(std::size_t index) {
  m_workers[index].join();
  {
    std::lock_guard lock(m_mutex);
    m_alive[index] = true;
    m_taken[index] = m_done[index] = m_generation;  // nothing owed from before
  }
  try {
    m_workers[index] = base::Worker("encode-" + std::to_string(index + 1), [this, index] { workerLoop(index); },
                                    [this, index](const std::string& what) { workerFailed(index, what); });
  } catch (const std::system_error&) {
    std::lock_guard lock(m_mutex);
    m_alive[index] = false;
  }
}

void EncoderPool::work(Job& job, TileEncoder& encoder) {
  std::string error;
  for (std::size_t i; (i = job.next.fetch_add(1)) < job.count;) {
    error.clear();
    if (!(*job.fn)(i, encoder, error)) job.fail(error);
  }
}

void EncoderPool::workerLoop(std::size_t index) {
  while (true) {
    Job* job;
    {
      std::unique_lock lock(m_mutex);
      m_cv.wait(lock, [&] { return m_stop || m_generation != m_taken[index]; });
      if (m_stop) return;
      m_taken[index] = m_generation;
      job = m_job;
    }
    work(*job, *m_encoders[index + 1]);  // a throw ends this thread: workerFailed()
    {
      std::lock_guard lock(m_mutex);
      m_done[index] = m_taken[index];
      --m_pending;
    }
    m_doneCv.notify_one();
  }
}

// On the worker's thread, after its loop unwound. If it owed the current job its share, the
// job fails (the caller must not wait for it); the caller starts it again before the next.
void EncoderPool::workerFailed(std::size_t index, const std::string& what) {
  HLOG_ERROR(kTag, "encoder thread %zu stopped: %s", index + 1, what.c_str());
  {
    std::lock_guard lock(m_mutex);
    m_alive[index] = false;
    if (m_job && m_done[index] != m_generation) {
      m_job->fail("an encoder thread stopped: " + what);
      m_done[index] = m_generation;
      --m_pending;
    }
  }
  m_doneCv.notify_one();
}

bool EncoderPool::forEach(std::size_t count, const ItemFn& fn, std::string& error) {
  error.clear();
  if (count == 0) return true;
  for (std::size_t i = 0; i < m_workers.size(); ++i) {
    bool stopped;
    {
      std::lock_guard lock(m_mutex);
      stopped = !m_alive[i];
    }
    if (stopped) {
      startWorker(i);
      ++m_restarted;
    }
  }
  Job job;
  job.count = count;
  job.fn = &fn;
  bool shared = false;
  if (!m_workers.empty() && count >= kMinItemsToShare) {
    std::lock_guard lock(m_mutex);
    m_pending = 0;
    for (bool alive : m_alive) m_pending += alive ? 1 : 0;
    if (m_pending > 0) {
      m_job = &job;
      ++m_generation;  // every live worker takes part in every job, even if late
      shared = true;
    }
  }
  if (shared) m_cv.notify_all();
  try {
    work(job, *m_encoders[0]);
  } catch (const std::exception& e) {
    job.fail(e.what());
  } catch (...) {
    job.fail("an exception that is not a std::exception");
  }
  if (shared) {
    // Every worker is done with the job (or stopped and said so) before `job` goes out of
    // scope; a worker that throws counts itself out in workerFailed().
    std::unique_lock lock(m_mutex);
    m_doneCv.wait(lock, [&] { return m_pending == 0; });
    m_job = nullptr;
  }
  error = job.error;
  return error.empty();
}

bool EncoderPool::encode(const Frame& frame, const std::vector<std::uint32_t>& dirty, int tilesX,
                         const CaptureSettings& settings, std::vector<base::EncodedTile>& out, std::string& error) {
  out.assign(dirty.size(), {});
  if (tilesX <= 0) return error = "no tile grid", false;
  // Items of consecutive dirty tiles, about a quarter of a thread's share (at most 256), each
  // ending at the end of a row of the grid once it holds over half that: tiles side by side in
  // a row become one strip (TileEncoder::encodeRun), the same columns in the rows under them
  // the same strip, so a frame's whole rows are strips of a few rows each (one JPEG's setup
  // for them all: 2 rows an item at 1080p, 1440p and 1920x1024, 3 at 4K, on 2 threads), and
  // the frame still splits into several items a thread.
  const std::size_t target = std::clamp<std::size_t>(dirty.size() / (4 * static_cast<std::size_t>(threads())), 1, 256);
  const auto columns = static_cast<std::uint32_t>(tilesX);
  m_items.clear();
  for (std::size_t first = 0, i = 0; i < dirty.size(); ++i) {
    const std::size_t count = i + 1 - first;
    const bool rowEnds = i + 1 == dirty.size() || dirty[i + 1] / columns != dirty[i] / columns;
    if (count >= target || (rowEnds && count * 2 > target) || i + 1 == dirty.size()) {
      m_items.emplace_back(first, count);
      first = i + 1;
    }
  }
  const std::span<base::EncodedTile> all(out);
  const std::span<const std::uint32_t> indices(dirty);
  // A byte per tile of the grid (a new grid starts again at 0): each tile is in one item, so
  // each byte is one thread's.
  std::size_t tiles = static_cast<std::size_t>(tilesX) *
                      static_cast<std::size_t>((frame.heightPx + settings.tileSizePx - 1) / std::max(1, settings.tileSizePx));
  for (std::uint32_t index : dirty) tiles = std::max<std::size_t>(tiles, std::size_t(index) + 1);
  if (m_paletteSkip.size() != tiles || m_paletteSkipColumns != tilesX) m_paletteSkip.assign(tiles, 0);
  m_paletteSkipColumns = tilesX;
  std::uint8_t* skip = m_paletteSkip.data();
  return forEach(
      m_items.size(),
      [&](std::size_t item, TileEncoder& encoder, std::string& why) {
        const auto [first, count] = m_items[item];
        return encoder.encodeRun(frame, indices.subspan(first, count), tilesX, settings.tileSizePx, settings,
                                 all.subspan(first, count), why, skip);
      },
      error);
}

bool EncoderPool::encodeLossless(const Frame& frame, const std::vector<std::uint32_t>& which, int tilesX,
                                 int tileSizePx, std::vector<base::EncodedTile>& out, std::string& error) {
  out.assign(which.size(), {});
  const auto columns = static_cast<std::uint32_t>(tilesX);
  return forEach(
      which.size(),
      [&](std::size_t i, TileEncoder& encoder, std::string& why) {
        const std::uint32_t index = which[i];
        return encoder.encodeLossless(frame, static_cast<int>(index % columns), static_cast<int>(index / columns),
                                      tileSizePx, out[i], why);
      },
      error);
}

}  // namespace huddle::capture
