#include "capture/encoder_pool.h"

#include "net/base/log.h"

namespace huddle::capture {

struct EncoderPool::Job {
  const Frame* frame;
  const std::vector<std::uint32_t>* dirty;
  int tilesX;
  CaptureSettings settings;
  std::vector<base::EncodedTile>* out;
  std::atomic<std::size_t> next{0};
  std::mutex errorMutex;
  std::string error;
};

EncoderPool::EncoderPool(int threads) {
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  for (int i = 0; i < threads; ++i) m_encoders.push_back(std::make_unique<TileEncoder>());
  for (int i = 1; i < threads; ++i) m_workers.emplace_back([this, i] { workerLoop(static_cast<std::size_t>(i)); });
}

EncoderPool::~EncoderPool() {
  {
    std::lock_guard lock(m_mutex);
    m_stop = true;
  }
  m_cv.notify_all();
  for (auto& t : m_workers) t.join();
}

void EncoderPool::work(Job& job, TileEncoder& encoder) {
  const std::size_t n = job.dirty->size();
  const int tile = job.settings.tileSizePx;
  std::string error;
  for (std::size_t i; (i = job.next.fetch_add(1)) < n;) {
    std::uint32_t index = (*job.dirty)[i];
    int tx = static_cast<int>(index % static_cast<std::uint32_t>(job.tilesX));
    int ty = static_cast<int>(index / static_cast<std::uint32_t>(job.tilesX));
    try {
      if (!encoder.encode(*job.frame, tx, ty, tile, job.settings, (*job.out)[i], error)) {
        std::lock_guard lock(job.errorMutex);
        if (job.error.empty()) job.error = error;
      }
    } catch (const std::exception& e) {  // e.g. allocation failure: carried to the caller
      std::lock_guard lock(job.errorMutex);
      if (job.error.empty()) job.error = e.what();
    }
  }
}

void EncoderPool::workerLoop(std::size_t index) {
  std::uint64_t seen = 0;
  while (true) {
    Job* job;
    {
      std::unique_lock lock(m_mutex);
      m_cv.wait(lock, [&] { return m_stop || m_generation != seen; });
      if (m_stop) return;
      seen = m_generation;
      job = m_job;
    }
    work(*job, *m_encoders[index]);
    {
      std::lock_guard lock(m_mutex);
      --m_pending;
    }
    m_doneCv.notify_one();
  }
}

bool EncoderPool::encode(const Frame& frame, const std::vector<std::uint32_t>& dirty, int tilesX,
                         const CaptureSettings& settings, std::vector<base::EncodedTile>& out, std::string& error) {
  out.assign(dirty.size(), {});
  if (dirty.empty()) return true;
  Job job;
  job.frame = &frame;
  job.dirty = &dirty;
  job.tilesX = tilesX;
  job.settings = settings;
  job.out = &out;
  // Small frames are not worth waking anyone for.
  const bool share = !m_workers.empty() && dirty.size() >= 4;
  if (share) {
    {
      std::lock_guard lock(m_mutex);
      m_job = &job;
      m_pending = m_workers.size();  // every worker takes part in every job, even if late
      ++m_generation;
    }
    m_cv.notify_all();
  }
  work(job, *m_encoders[0]);
  if (share) {
    // Every worker must be done with the job before `job` goes out of scope.
    std::unique_lock lock(m_mutex);
    m_doneCv.wait(lock, [&] { return m_pending == 0; });
    m_job = nullptr;
  }
  error = job.error;
  return error.empty();
}

}  // namespace huddle::capture
