#include "tests/bench/transport_floor.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <exception>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "net/socket.h"
#include "net/tls_engine.h"
#include "tests/bench/process_figures.h"

namespace huddle::bench {
namespace {

// One receiver: a loopback TCP connection (the sockets every Huddle connection uses) whose far
// end a thread reads and drops, and the sending side's TLS engine, its handshake done in
// memory with a client engine.
struct Receiver {
  std::unique_ptr<net::TcpSocket> near, far;
  std::unique_ptr<net::TlsEngine> tls;
  std::thread reader;
  ~Receiver() {
    if (far) far->shutdownBoth();  // the reader sees the end and stops
    if (reader.joinable()) reader.join();
  }
};

bool handshake(const net::HostIdentity& identity, Receiver& r, std::string& error) {
  r.tls = net::TlsEngine::server(identity, error);
  std::unique_ptr<net::TlsEngine> client = net::TlsEngine::client({}, error);
  if (!r.tls || !client) return false;  // error says why
  if (client->start() != net::TlsEngine::Status::Ok) return error = "floor handshake: " + client->error(), false;
  base::ByteVec plaintext;
  for (int flight = 0; flight < 8 && !(r.tls->handshakeDone() && client->handshakeDone()); ++flight) {
    if (client->hasCiphertext() && r.tls->feed(client->takeCiphertext(), plaintext) != net::TlsEngine::Status::Ok)
      return error = "floor handshake: " + r.tls->error(), false;
    if (r.tls->hasCiphertext() && client->feed(r.tls->takeCiphertext(), plaintext) != net::TlsEngine::Status::Ok)
      return error = "floor handshake: " + client->error(), false;
  }
  r.tls->takeCiphertext();  // tickets for a client that is gone
  if (!r.tls->handshakeDone()) return error = "floor handshake did not finish", false;
  return true;
}

// `n` receivers on a fresh listening socket on loopback; empty with `error` if any part fails.
std::vector<std::unique_ptr<Receiver>> connect(const net::HostIdentity& identity, int n, std::string& error) {
  std::vector<std::unique_ptr<Receiver>> out;
  // Loopback only (TcpListener listens on every interface): a socket of our own.
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in at{};
  at.sin_family = AF_INET;
  at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof at;
  if (listener < 0 || ::bind(listener, reinterpret_cast<sockaddr*>(&at), sizeof at) != 0 ||
      ::getsockname(listener, reinterpret_cast<sockaddr*>(&at), &len) != 0 || ::listen(listener, n) != 0) {
    if (listener >= 0) ::close(listener);
    error = "floor: cannot listen on loopback";
    return out;
  }
  for (int i = 0; i < n; ++i) {
    auto r = std::make_unique<Receiver>();
    net::ConnectResult c = net::connectTcp("127.0.0.1", ntohs(at.sin_port), 2000);
    const int accepted = c.socket ? ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC) : -1;
    if (accepted < 0) {
      error = "floor: cannot connect on loopback: " + c.error;
      break;
    }
    r->near = std::make_unique<net::TcpSocket>(accepted);
    r->far = std::move(c.socket);
    try {
      r->reader = std::thread([far = r->far.get()] {
        std::vector<char> sink(256 * 1024);
        while (far->recv(sink.data(), static_cast<int>(sink.size())) > 0) {
        }
      });
    } catch (const std::exception& e) {
      error = std::string("floor: cannot start a reader: ") + e.what();
      break;
    }
    if (!handshake(identity, *r, error)) {
      if (error.empty()) error = "floor handshake failed";
      break;
    }
    out.push_back(std::move(r));
  }
  ::close(listener);
  if (!error.empty() || static_cast<int>(out.size()) != n) out.clear();
  if (out.empty() && error.empty()) error = "floor: fewer receivers than asked for";
  return out;
}

// The sending thread's CPU per frame, sending `update` to each receiver `fps` times a second
// for `seconds` (after half a second's warm-up); -1 if a send fails.
double sendUs(std::vector<std::unique_ptr<Receiver>>& receivers, const base::ByteVec& update, double fps,
              double seconds) {
  const auto interval = std::chrono::nanoseconds(static_cast<long long>(1e9 / fps));
  const int warm = static_cast<int>(fps / 2), measured = static_cast<int>(fps * seconds);
  auto next = std::chrono::steady_clock::now();
  double cpu0 = 0;
  for (int frame = 0; frame < warm + measured; ++frame) {
    if (frame == warm) cpu0 = threadCpuUs();
    for (auto& r : receivers) {
      if (r->tls->write(update) != net::TlsEngine::Status::Ok) return -1;
      const base::ByteVec ciphertext = r->tls->takeCiphertext();
      if (!r->near->sendAll(ciphertext.data(), ciphertext.size())) return -1;
    }
    next += interval;
    std::this_thread::sleep_until(next);
  }
  return (threadCpuUs() - cpu0) / measured;
}

}  // namespace

TransportFloor measureTransportFloor(std::size_t bytesPerUpdate, int most, double fps, double seconds, int rounds) {
  TransportFloor f;
  std::unique_ptr<net::HostIdentity> identity = net::HostIdentity::generate(f.error);
  if (!identity) return f;
  base::ByteVec update(bytesPerUpdate);
  std::mt19937 random(12);
  for (auto& b : update) b = static_cast<std::uint8_t>(random());
  double one = 0, many = 0;
  for (int round = 0; round < rounds; ++round)
    for (int n : {1, most}) {
      auto receivers = connect(*identity, n, f.error);
      if (receivers.empty()) return f;
      const double us = sendUs(receivers, update, fps, seconds);
      if (us < 0) return f.error = "floor: a send failed", f;
      (n == 1 ? one : many) += us / rounds;
    }
  f.oneUsPerFrame = one;
  f.mostUsPerFrame = many;
  f.addedUs = most > 1 ? (many - one) / (most - 1) : 0;
  return f;
}

}  // namespace huddle::bench
