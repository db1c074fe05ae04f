// When a client tries again after losing its host (docs/SECURITY.md s.9): only a connection
// that was lost, never one the host ended, refused or that failed its key or password
// check; after 0.25, 0.5, 1, 2, 2, ... s, each stretched or shrunk by up to 20% so that many
// clients dropped at once do not all come back in the same instant.
// Thread: plain functions.
#pragma once
#include <cstdint>

#include "net/chat_client.h"

namespace huddle::session {

// `ev` is a Disconnected event; `wasConnected`: the session had been joined before. A first
// join that fails is reported, not retried, unless the host was busy (it refused before the
// secure handshake): that is tried again, kBusyRetries times at most (`attempt` so far).
inline constexpr int kBusyRetries = 5;
bool worthRetrying(const net::ChatClientEvent& ev, bool wasConnected, int attempt);
// The wait before retry `attempt` (1-based), with `random` supplying the jitter.
std::int64_t retryDelayUs(int attempt, std::uint32_t random);

}  // namespace huddle::session
