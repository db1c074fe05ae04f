#include "net/voice_server.h"

#include <algorithm>

#include "net/base/clock.h"
#include "net/base/log.h"

namespace huddle::net {

namespace {
constexpr std::int64_t kTickUs = 500'000;  // the hub's tick: seats' and senders' expiry
}  // namespace

bool VoiceServer::start(std::uint16_t port, std::string& error, bool loopbackOnly) {
  if (!m_socket.open(port, error, loopbackOnly)) return false;
  m_port = m_socket.port();
  m_stop = false;
  m_worker = base::Worker("voice-relay", [this] { run(); });
  return true;
}

void VoiceServer::stop() {
  m_stop = true;
  m_socket.interrupt();  // its wait lasts to the next tick otherwise
  m_worker.join();
  m_socket.close();
}

void VoiceServer::dispatch(std::vector<VoiceDatagram>& out) {
  for (auto& d : out) {
    if (d.to.stream != 0) {
      if (m_streamSend) m_streamSend(d.to.stream, std::move(d.bytes));
    } else if (!m_socket.send(d.bytes, d.to)) {
      m_sendFailures.fetch_add(1);
    }
  }
}

void VoiceServer::run() {
  // Forwarding is a few microseconds a frame, so a better nice level keeps it prompt; not
  // real-time, because what it reads is not yet authenticated (see raiseThreadNiceness).
  base::raiseThreadNiceness();
  base::ByteVec buffer;
  std::vector<VoiceDatagram> out;
  std::int64_t lastTickUs = base::monoUs();
  std::uint32_t lossState = 0x9E3779B9u;  // xorshift32: the same losses every run
  while (!m_stop.load()) {
    // Datagrams, or the hub's next tick: an idle relay wakes twice a second, not ten times.
    const std::int64_t toTickMs = (lastTickUs + kTickUs - base::monoUs()) / 1000 + 1;
    if (m_socket.wait(static_cast<int>(std::clamp<std::int64_t>(toTickMs, 1, kTickUs / 1000)))) {
      // Everything waiting, then back to the stop flag.
      for (int i = 0; i < 256 && !m_stop.load(); ++i) {
        VoiceEndpoint from;
        bool oversize = false;
        if (m_socket.receive(buffer, from, oversize) == 0) break;
        if (m_lossPercent > 0) {
          lossState ^= lossState << 13, lossState ^= lossState >> 17, lossState ^= lossState << 5;
          if (static_cast<int>(lossState % 100) < m_lossPercent) continue;
        }
        out.clear();
        m_hub.receive(buffer, from, base::monoUs(), out, oversize);
        dispatch(out);
      }
    }
    if (const std::int64_t now = base::monoUs(); now - lastTickUs >= kTickUs) {
      m_hub.tick(now);
      lastTickUs = now;
    }
  }
}

}  // namespace huddle::net
