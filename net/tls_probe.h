// Learns a host's key without telling it anything: connect, run the TLS handshake, take
// the certificate's fingerprint, close. No application byte is sent, so a client that has
// never met this host can show the code to its user first (trust on first use) and then
// connect for real with that key pinned.
// Thread: blocking; run it off the UI thread (it gives up after its deadline).
#pragma once
#include <atomic>
#include <string>

#include "net/tls_engine.h"

namespace huddle::net {

// False with `error` in plain words ("Failed to connect to ...: connection refused").
bool probeHostKey(const std::string& host, std::uint16_t port, int timeoutMs, Fingerprint& out, std::string& error,
                  const std::atomic<bool>* cancel = nullptr);

}  // namespace huddle::net
