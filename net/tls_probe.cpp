#include "net/tls_probe.h"

#include "net/base/clock.h"
#include "net/socket.h"

namespace huddle::net {

bool probeHostKey(const std::string& host, std::uint16_t port, int timeoutMs, Fingerprint& out, std::string& error,
                  const std::atomic<bool>* cancel) {
  const std::int64_t deadline = base::monoUs() + std::int64_t{timeoutMs} * 1000;
  ConnectResult cr = connectTcp(host, port, timeoutMs, cancel);
  if (!cr.socket) return error = cr.error, false;
  const std::string where = host + ":" + std::to_string(port);
  auto tls = TlsEngine::client(TlsEngine::ClientTrust{}, error);  // no pin: accept and report
  if (!tls) return false;
  auto flush = [&] {
    base::ByteVec flight = tls->takeCiphertext();
    return flight.empty() || cr.socket->sendAll(flight.data(), flight.size());
  };
  if (tls->start() != TlsEngine::Status::Ok || !flush()) return error = "Failed to reach " + where + ".", false;
  std::vector<std::uint8_t> buf(16 * 1024);
  base::ByteVec plaintext;
  while (!tls->handshakeDone()) {
    if ((cancel && cancel->load()) || base::monoUs() > deadline)
      return error = "The host at " + where + " did not complete a secure handshake in time.", false;
    int ready = cr.socket->waitReadable(100);
    if (ready == 0) continue;
    int n = ready > 0 ? cr.socket->recv(buf.data(), static_cast<int>(buf.size())) : -1;
    if (n <= 0) return error = "The host at " + where + " closed the connection during the secure handshake.", false;
    if (tls->feed({buf.data(), static_cast<std::size_t>(n)}, plaintext) != TlsEngine::Status::Ok)
      return error = "Failed to join " + where + ": the secure connection failed (" + tls->error() + ").", false;
    if (!flush()) return error = "Failed to reach " + where + ".", false;
  }
  out = tls->peerFingerprint();
  return true;
}

}  // namespace huddle::net
