#include "net/screen_credits.h"

#include <algorithm>
#include <utility>

namespace huddle::net {

namespace {
// A stream not heard of for this long is forgotten (its next update starts afresh).
constexpr std::int64_t kForgetUs = 10'000'000;
}  // namespace

std::uint8_t CreditReturns::decoded(const Decoded& u, std::int64_t nowUs) {
  std::erase_if(m_streams, [&](const auto& entry) {
    return entry.first != u.streamId && entry.second.held == 0 && entry.second.lastArrivedUs < nowUs - kForgetUs;
  });
  Stream& s = m_streams[u.streamId];
  if (s.subscription != u.subscription) s = Stream{-1, u.subscription};  // watched afresh: nothing of the old one counts
  const std::int64_t gapUs = s.lastArrivedUs >= 0 ? u.arrivedUs - s.lastArrivedUs : -1;
  const bool close = gapUs >= 0 && gapUs <= kCreditPairGapUs;
  const bool linkBusy = (u.arrivedUs - u.startedUs) * 2 > gapUs;
  s.lastArrivedUs = std::max(s.lastArrivedUs, u.arrivedUs);
  if (close && !linkBusy && !u.backlog && !u.failed && s.held == 0) {
    s.held = 1;
    s.dueUs = nowUs + kCreditHoldUs;
    return 0;
  }
  return static_cast<std::uint8_t>(std::exchange(s.held, std::uint8_t{0}) + 1);
}

std::vector<CreditReturns::Due> CreditReturns::due(std::int64_t nowUs) {
  std::vector<Due> out;
  for (auto& [id, s] : m_streams)
    if (s.held > 0 && s.dueUs <= nowUs) out.push_back({id, s.subscription, std::exchange(s.held, std::uint8_t{0})});
  return out;
}

std::int64_t CreditReturns::nextDueUs() const {
  std::int64_t next = -1;
  for (const auto& [id, s] : m_streams)
    if (s.held > 0 && (next < 0 || s.dueUs < next)) next = s.dueUs;
  return next;
}

std::size_t CreditReturns::held() const {
  std::size_t n = 0;
  for (const auto& [id, s] : m_streams) n += s.held;
  return n;
}

}  // namespace huddle::net
