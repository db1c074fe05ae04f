// A participant that speaks the file messages itself, on a real chat connection: offers a
// file it holds in memory and answers each request for a piece from it, up to a point (then
// it holds them back until told). The integration and GUI tests' sender.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "app/session/trust.h"
#include "net/chat_client.h"
#include "net/wire/file_messages.h"

namespace huddle::test {

// A participant that speaks the file messages itself: offers what it is told and answers
// requests from `data`, but only below `serveBelow` (then it stops answering), recording what
// it was asked for.
struct ScriptedSender {
  std::vector<std::uint8_t> data;
  std::atomic<std::uint64_t> serveBelow{~0ull};
  std::atomic<std::uint64_t> lowestAsked{~0ull};
  std::atomic<bool> corrupt{false};  // flips a byte of every piece
  std::atomic<std::uint32_t> holdFor{0};  // a receiver whose asks wait for releaseHeld()
  std::atomic<bool> holdBeyond{false};    // asks at serveBelow or past wait for releaseHeld()
  std::atomic<int> offered{0};            // offers shown to it (FileOffered)
  std::vector<std::string> heard;         // chat lines it was told, gathered by joined()

  void start(const std::string& invite, const std::string& name, std::uint64_t resumeToken = 0) {
    client.setFileSink(std::make_shared<Sink>(this));
    session::Invite inv;
    std::string error;
    if (!session::parseInvite(invite, inv, error)) return;  // never joins: the caller's wait says so
    net::ChatClientConfig c;
    c.host = inv.host;
    c.port = inv.port;
    c.name = name;
    c.resumeToken = resumeToken;
    c.tls = session::pinOf(inv.key, inv.keyBytes);
    client.start(c);
  }
  bool joined() {
    for (auto& ev : client.events().drain())
      if (ev.kind == net::ChatClientEvent::Kind::Chat) heard.push_back(ev.chat.text);
    return client.connected();
  }
  void offer(std::uint32_t offerId, const std::string& name, const wire::Sha256& sha) {
    wire::FileOffer o;
    o.offerId = offerId;
    o.name = name;
    o.size = data.size();
    o.sha256 = sha;
    client.sendFileFrame(wire::encodeFrame(o));
  }
  void leave() {
    client.setFileSink(nullptr);
    client.leave();
  }
  std::size_t heldCount() {
    std::lock_guard lock(heldMutex);
    return held.size();
  }
  // Sends the pieces held back (for `holdFor`, or past `serveBelow`), late, in order; how many.
  std::size_t releaseHeld() {
    std::lock_guard lock(heldMutex);
    for (const auto& r : held) sendPiece(r);
    return std::exchange(held, {}).size();
  }

 private:
  struct Sink : net::ChatClient::FileSink {
    explicit Sink(ScriptedSender* s) : self(s) {}
    void onFileFrame(const wire::Frame& frame) override { self->answer(frame); }
    void onLinkDrained() override {}
    ScriptedSender* self;
  };
  void answer(const wire::Frame& frame) {
    if (frame.type == static_cast<std::uint16_t>(wire::MsgType::FileOffered)) ++offered;
    wire::FileRequest r;
    if (frame.type != static_cast<std::uint16_t>(wire::MsgType::FileRequest) || !wire::decodePayload(frame.payload, r))
      return;
    std::uint64_t low = lowestAsked.load();
    while (r.offset < low && !lowestAsked.compare_exchange_weak(low, r.offset)) {}
    // Decided and sent under the lock releaseHeld() sends under: pieces go out in the order
    // asked (the host takes only the next one asked for), never one overtaking a held one.
    std::lock_guard lock(heldMutex);
    const bool beyond = r.offset >= serveBelow.load();
    if (beyond && !holdBeyond) return;
    if (beyond || r.peerId == holdFor.load()) {
      held.push_back(r);
      return;
    }
    sendPiece(r);
  }
  void sendPiece(const wire::FileRequest& r) {
    wire::FileChunk c;
    c.transferId = r.transferId;
    c.peerId = r.peerId;
    c.offset = r.offset;
    c.data.assign(data.begin() + static_cast<std::ptrdiff_t>(r.offset),
                  data.begin() + static_cast<std::ptrdiff_t>(r.offset + r.length));
    if (corrupt) c.data[0] ^= 1;
    client.sendFileFrame(wire::encodeFrame(c));
  }
  std::mutex heldMutex;
  std::vector<wire::FileRequest> held;

 public:
  net::ChatClient client;  // last: its threads stop before the rest goes
};

inline std::unique_ptr<ScriptedSender> scriptedSender(const std::string& invite, const std::string& name,
                                                      std::uint64_t resumeToken = 0) {
  auto s = std::make_unique<ScriptedSender>();
  s->start(invite, name, resumeToken);
  return s;
}

}  // namespace huddle::test
