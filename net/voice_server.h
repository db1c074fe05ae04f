// The host's voice port: a UDP socket and the `voice-relay` thread that feeds each datagram
// to a VoiceHub and sends what it answers. Voice never waits behind screens or chat: it has
// its own socket and thread, and a send the system cannot take at once is dropped.
// Thread: start()/stop() from the owner; the relay runs on its own thread.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "net/base/worker.h"
#include "net/voice_hub.h"
#include "net/voice_socket.h"

namespace huddle::net {

class VoiceServer {
 public:
  explicit VoiceServer(VoiceHub& hub) : m_hub(hub) {}
  ~VoiceServer() { stop(); }
  VoiceServer(const VoiceServer&) = delete;
  VoiceServer& operator=(const VoiceServer&) = delete;

  // Binds `port` (0: any free one) and starts the relay thread.
  bool start(std::uint16_t port, std::string& error, bool loopbackOnly = false);
  void stop();
  std::uint16_t port() const { return m_port; }
  // Tests and benchmarks: the relay loses this share (0-100) of the datagrams it receives, on
  // a fixed pseudo-random pattern, as a lossy network would. Call before start().
  void setLossPercent(int percent) { m_lossPercent = percent; }
  // Where datagrams for a member on its chat connection go (set before start()).
  void setStreamSend(std::function<void(std::uint32_t participantId, base::ByteVec datagram)> send) {
    m_streamSend = std::move(send);
  }
  // Sends the hub's answers: by UDP, or over a member's chat connection. Any thread.
  void dispatch(std::vector<VoiceDatagram>& out);
  // Datagrams the system refused to send (a full socket buffer).
  std::uint64_t sendFailures() const { return m_sendFailures.load(); }

 private:
  void run();

  VoiceHub& m_hub;
  VoiceSocket m_socket;
  std::uint16_t m_port = 0;
  int m_lossPercent = 0;
  std::function<void(std::uint32_t, base::ByteVec)> m_streamSend;
  std::atomic<bool> m_stop{false};
  std::atomic<std::uint64_t> m_sendFailures{0};
  base::Worker m_worker;
};

}  // namespace huddle::net
