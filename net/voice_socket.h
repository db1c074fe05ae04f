// A UDP socket for voice datagrams (IPv4, POSIX): the host binds its voice port, a client
// binds any port and talks to the host's. Non-blocking; wait() polls with a timeout so the
// owner's loop can see its stop flag. Datagrams larger than wire::kMaxVoiceDatagramBytes are
// read as oversize (the rest cut off) and reported so the caller drops and counts them.
// Thread: one owner thread at a time (the voice relay's or the voice link's).
#pragma once
#include <cstdint>
#include <span>
#include <string>

#include "net/base/bytes.h"

namespace huddle::net {

struct VoiceEndpoint {
  std::uint32_t ipv4 = 0;  // host order
  std::uint16_t port = 0;
  // Nonzero: not UDP but the chat connection of this participant (UDP did not get through).
  std::uint32_t stream = 0;
  bool operator==(const VoiceEndpoint&) const = default;
  std::string text() const;
};

class VoiceSocket {
 public:
  VoiceSocket() = default;
  ~VoiceSocket();
  VoiceSocket(const VoiceSocket&) = delete;
  VoiceSocket& operator=(const VoiceSocket&) = delete;

  // Binds `port` (0: any free one) on every local address (`loopbackOnly`: 127.0.0.1 only).
  bool open(std::uint16_t port, std::string& error, bool loopbackOnly = false);
  void close();
  bool isOpen() const { return m_fd >= 0; }
  std::uint16_t port() const { return m_port; }
  // Waits up to timeoutMs for a datagram to read; false on timeout or error.
  bool wait(int timeoutMs) const;
  // Ends a wait() at once, from another thread, and every wait after it (shutdown(2) of the
  // receiving side): for the owner's stop, before it joins the thread that waits.
  void interrupt();
  // Reads one datagram without blocking. Returns its size (0: nothing to read), with
  // `oversize` set if it was larger than the buffer.
  std::size_t receive(base::ByteVec& buffer, VoiceEndpoint& from, bool& oversize);
  // Sends one datagram; false if the system refused it (a full buffer drops it: voice
  // never waits).
  bool send(std::span<const std::uint8_t> datagram, const VoiceEndpoint& to);

 private:
  int m_fd = -1;
  std::uint16_t m_port = 0;
};

// Resolves `host` (a name or dotted IPv4) to an address; false with `error`.
bool resolveVoiceHost(const std::string& host, std::uint16_t port, VoiceEndpoint& out, std::string& error);

}  // namespace huddle::net
