#include "app/session/presenter.h"

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

}  // namespace huddle::session
