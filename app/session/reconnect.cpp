#include "app/session/reconnect.h"

#include <algorithm>

namespace huddle::session {

bool worthRetrying(const net::ChatClientEvent& ev, bool wasConnected, int attempt) {
  if (ev.kind != net::ChatClientEvent::Kind::Disconnected || ev.sessionEnded || ev.hostKeyMismatch || ev.needsPassword)
    return false;
  return wasConnected || (ev.hostBusy && attempt < kBusyRetries);
}

std::int64_t retryDelayUs(int attempt, std::uint32_t random) {
  const std::int64_t base = 250'000LL << std::clamp(attempt - 1, 0, 3);  // 0.25, 0.5, 1, 2 s
  const std::int64_t capped = std::min<std::int64_t>(base, 2'000'000);
  // +-20%: random maps onto [-0.2, +0.2] of the delay.
  const std::int64_t jitter = capped * 2 / 5 * static_cast<std::int64_t>(random % 1001) / 1000 - capped / 5;
  return capped + jitter;
}

}  // namespace huddle::session
