// Shared pieces of the fuzz targets: a socket-free peer link that keeps what the hub sends,
// splitting one fuzz input into the chunks a socket would deliver, and the client fuzzer's clock.
#pragma once
#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "net/peer_link.h"

namespace huddle::fuzz {

class SinkLink : public net::PeerLink {
 public:
  bool send(base::Bytes frame) override {
    std::lock_guard lock(m_mutex);
    if (m_closed) return false;
    m_bytes += frame->size();
    return true;
  }
  void close(wire::Reason, const std::string&) override {
    std::lock_guard lock(m_mutex);
    m_closed = true;
  }
  void closeAfterFlush(wire::Reason r, const std::string& d) override { close(r, d); }
  std::string address() const override { return "127.0.0.77:1"; }
  std::uint32_t ipv4() const override { return 0x7F00004D; }
  bool closed() {
    std::lock_guard lock(m_mutex);
    return m_closed;
  }

 private:
  std::mutex m_mutex;
  std::size_t m_bytes = 0;
  bool m_closed = false;
};

// The client fuzzer's wall clock: it starts here and steps once per chunk, so seeds can
// stamp pongs and welcomes that make sense.
inline constexpr std::int64_t kWallClockUs = 1'700'000'000'000'000;
inline constexpr std::int64_t kWallClockStepUs = 1000;

// The input's first byte picks a chunk size (1..256): the same bytes arrive split differently,
// as TCP may split them. Calls deliver(chunk) until the input is used up.
template <typename Deliver>
void inChunks(const std::uint8_t* data, std::size_t size, Deliver&& deliver) {
  if (size == 0) return;
  const std::size_t chunk = std::size_t(data[0]) + 1;
  for (std::size_t at = 1; at < size; at += chunk) deliver(std::span<const std::uint8_t>(data + at, std::min(chunk, size - at)));
}

}  // namespace huddle::fuzz
