#include "app/session/presenter.h"

#include <algorithm>

#include "net/wire/limits.h"

namespace huddle::session {

namespace {
// Just over the host's rate, so a steady drag is never cut by its bucket.
constexpr std::int64_t kPointerGapUs = std::int64_t(1e6 / wire::kPointerPositionsPerSec) + 1000;
constexpr std::int64_t kKeepAliveUs = std::int64_t(wire::kPointerKeepAliveMs) * 1000;
}  // namespace

std::optional<PointerPacer::Send> PointerPacer::next(std::int64_t nowUs) {
  if (!m_held) {
    if (!m_shown) return std::nullopt;
    m_shown = false;
    return Send{};
  }
  const std::int64_t since = nowUs - m_sentUs;
  const bool moved = m_x != m_sentX || m_y != m_sentY;
  if (m_shown && !(moved && since >= kPointerGapUs) && since < kKeepAliveUs) return std::nullopt;
  if (!m_shown && since < kPointerGapUs && m_sentUs != 0) return std::nullopt;  // pressed again at once
  m_shown = true;
  m_sentX = m_x, m_sentY = m_y, m_sentUs = nowUs;
  return Send{true, m_x, m_y};
}

namespace {
// A little under the host's bucket, so arrival jitter never puts a batch over it there.
constexpr double kPenRate = wire::kPenPointsPerSec * 0.8;
constexpr double kPenBurst = wire::kPenPointsBurst / 2;
}  // namespace

void PenPacer::down(std::uint32_t strokeId, std::uint16_t x, std::uint16_t y) {
  if (m_drawing) up();
  m_drawing = true;
  m_strokeId = strokeId;
  m_batches.push_back(Batch{strokeId, {}, false});
  m_strokePoints = 1;
  m_last = {x, y};
  m_batches.back().points.push_back(m_last);
}

void PenPacer::to(std::uint16_t x, std::uint16_t y) {
  if (!m_drawing || (wire::PenPoint{x, y} == m_last) || m_strokePoints >= wire::kMaxPenPointsPerStroke) return;
  if (m_batches.empty() || m_batches.back().strokeId != m_strokeId) m_batches.push_back(Batch{m_strokeId, {}, false});
  m_last = {x, y};
  m_batches.back().points.push_back(m_last);
  ++m_strokePoints;
}

void PenPacer::up() {
  if (!m_drawing) return;
  m_drawing = false;
  if (m_batches.empty() || m_batches.back().strokeId != m_strokeId) m_batches.push_back(Batch{m_strokeId, {}, false});
  m_batches.back().end = true;
}

std::optional<wire::PenStroke> PenPacer::next(std::uint32_t streamId, std::int64_t nowUs) {
  if (m_refillUs == 0) m_tokens = kPenBurst;
  else if (nowUs > m_refillUs) m_tokens = std::min(kPenBurst, m_tokens + double(nowUs - m_refillUs) * kPenRate / 1e6);
  if (nowUs > m_refillUs) m_refillUs = nowUs;
  if (m_batches.empty()) return std::nullopt;
  Batch& b = m_batches.front();
  const bool full = b.points.size() >= wire::kMaxPenPointsPerMessage;
  // While drawing, points gather for a moment; a finished stroke (or a full batch) goes now.
  if (!b.end && !full && m_batches.size() == 1 && nowUs - m_sentUs < std::int64_t(kPenBatchGapMs) * 1000) return std::nullopt;
  const std::size_t n = std::min({b.points.size(), wire::kMaxPenPointsPerMessage, std::size_t(std::max(0.0, m_tokens))});
  if (n == 0 && !b.points.empty()) return std::nullopt;  // over the budget: wait
  wire::PenStroke out;
  out.streamId = streamId;
  out.strokeId = b.strokeId;
  out.points.assign(b.points.begin(), b.points.begin() + std::ptrdiff_t(n));
  b.points.erase(b.points.begin(), b.points.begin() + std::ptrdiff_t(n));
  out.end = b.end && b.points.empty();
  if (b.points.empty()) m_batches.erase(m_batches.begin());  // more points start a batch of their own
  m_tokens -= double(std::max<std::size_t>(1, n));
  m_sentUs = nowUs;
  return out;
}

void PenPacer::lost() {
  m_batches.clear();
  m_drawing = false;  // the rest of the stroke is not drawn; the next press starts anew
}

}  // namespace huddle::session
