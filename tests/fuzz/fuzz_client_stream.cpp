// A client fed arbitrary bytes as if from a hostile host, through the client's own code: the
// socket-free ClientProtocol (frame limits, handshake, password challenge, ping/pong, session
// end), then on the chat port ChatClient's events into a real ChatLog, and on the screen port
// ScreenClient's messages into real StreamViews (the viewer's framebuffer and tile decoder).
// Nothing may crash, hang or grow without bound.
// Input: [mode][chunk size][host's bytes...]; mode bit 0 = screen port, bit 1 = we have a
// room password (a challenge then reaches the key derivation). Bytes that arrive after a
// link closed go to the next one, as after a reconnect.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>

#include "app/session/chat_log.h"
#include "app/session/stream_marks.h"
#include "app/session/stream_view.h"
#include "capture/tile_codec.h"
#include "net/base/log.h"
#include "net/chat_client.h"
#include "net/client_protocol.h"
#include "net/screen_client.h"
#include "tests/fuzz/fuzz_support.h"

using namespace huddle;

namespace {

// Stands in for Argon2id (tens of MiB and milliseconds a call). The client may only get here
// with parameters Huddle allows (at most 10 passes over 256 MiB, net/room_auth.cpp): anything
// costlier means a hostile challenge got past the guard. The upper half of the allowed memory
// fails as an allocation would, so both outcomes are reached.
bool checkedDerive(const std::string&, const net::KdfParams& p, net::RoomKey& out, std::string& error) {
  if (p.ops > 10 || p.memBytes > (256u << 20)) std::abort();
  if (p.memBytes > (128u << 20)) return error = "not enough memory to check the password", false;
  out.fill(p.salt[0]);
  return true;
}

// What outlives a connection in the app: the chat panel's log and the viewer's streams,
// watched as they are announced (ScreenSession's bookkeeping, decoding at once instead of on
// its decode thread). A reconnect keeps both, as the app does.
class Owner : public net::ScreenClient::Listener {
 public:
  // The chat panel: apply, then format the new line as it would be drawn.
  void apply(const net::ChatClientEvent& ev) {
    if (m_log.apply(ev)) (void)session::ChatLog::format(m_log.lines().back());
  }
  // The app closes: what it showed (printed with HUDDLE_FUZZ_TRACE=1, to see where an input got).
  void finish() {
    static const bool trace = std::getenv("HUDDLE_FUZZ_TRACE") != nullptr;
    for (auto& [id, watched] : m_views) {
      watched.view->markEnded();
      if (trace)
        std::fprintf(stderr, "stream %u: %ux%u, %llu updates\n", id, watched.widthPx, watched.heightPx,
                     static_cast<unsigned long long>(watched.view->updatesApplied()));
    }
    std::string text = m_log.toText();
    if (trace) std::fprintf(stderr, "%s", text.c_str());
  }

 private:
  // A person watches a few streams. An update of new dimensions costs a whole new image (up to
  // 144 MB, over a second under ASan), so each input may resize only so much: past the budget
  // such updates are dropped, or a few dozen 40-byte updates would hit the 10 s timeout.
  static constexpr std::size_t kMaxWatched = 4;
  static constexpr std::uint64_t kResizeBudgetPx = 2 * wire::kMaxStreamPixels;
  struct Watched {
    std::shared_ptr<session::StreamView> view;
    std::uint32_t widthPx = 0, heightPx = 0;  // of the image, once an update arrived
  };

  void onStreamAnnounced(const wire::StreamInfo& info) override {
    auto it = m_views.find(info.streamId);
    if (it != m_views.end())
      it->second.view->setInfo(info);
    else if (m_views.size() < kMaxWatched)
      m_views.emplace(info.streamId, Watched{std::make_shared<session::StreamView>(info)});
  }
  void onStreamEnded(std::uint32_t streamId, const std::string&) override {
    if (auto it = m_views.find(streamId); it != m_views.end()) {
      it->second.view->markEnded();
      m_views.erase(it);
    }
  }
  // The sharer's cursor into the view, and drawn into an image as --snapshot-cursor does.
  void onCursorShape(std::uint32_t streamId, base::CursorImage&& shape) override {
    if (auto it = m_views.find(streamId); it != m_views.end()) {
      std::string why;
      it->second.view->setCursorShape(std::move(shape), why);
    }
  }
  void onCursorPosition(std::uint32_t streamId, const base::CursorPos& pos) override {
    auto it = m_views.find(streamId);
    if (it == m_views.end()) return;
    std::string why;
    if (!it->second.view->setCursorPosition(pos, why)) return;
    session::BgrxImage image;
    image.widthPx = 64;
    image.heightPx = 48;
    image.pixels.assign(std::size_t(image.widthPx) * image.heightPx * 4, 0);
    it->second.view->drawCursorInto(image);
  }
  void onPointer(const wire::Pointer& p) override {
    auto it = m_views.find(p.streamId);
    if (it == m_views.end()) return;
    const wire::StreamInfo info = it->second.view->info();
    m_marks[p.streamId].applyPointer(p, info.widthPx, info.heightPx, m_markUs += 7000);
    (void)m_marks[p.streamId].pointers(m_markUs);
  }
  void onPen(const wire::Pen& p) override {
    auto it = m_views.find(p.streamId);
    if (it == m_views.end()) return;
    const wire::StreamInfo info = it->second.view->info();
    m_marks[p.streamId].applyPen(p, info.widthPx, info.heightPx, m_markUs += 7000);
    (void)m_marks[p.streamId].strokes(m_markUs);
  }
  void onViewerMarks(std::uint32_t streamId, bool allowed) override {
    if (m_views.count(streamId)) m_marks[streamId].setAllowed(allowed);
  }
  void onUpdate(wire::TileBatch&& batch) override {
    auto it = m_views.find(batch.streamId);
    if (it == m_views.end()) return;  // not watched
    Watched& watched = it->second;
    if (batch.widthPx != watched.widthPx || batch.heightPx != watched.heightPx) {
      const std::uint64_t px = std::uint64_t(batch.widthPx) * batch.heightPx;
      if (px > kResizeBudgetPx - m_resizedPx) return;
      m_resizedPx += px;
      watched.widthPx = batch.widthPx;
      watched.heightPx = batch.heightPx;
    }
    static capture::TileDecoder decoder;  // one TurboJPEG handle for every run
    session::StreamView& view = *watched.view;
    std::string error;
    view.apply(batch, decoder, error);
    view.stats().record(0, 0, static_cast<std::uint32_t>(batch.tiles.size()), 0, -1);
    // The window's upload: read what it is told changed.
    view.consume([](const capture::Framebuffer& fb, const base::DirtyRects& changed) {
      for (const base::Rect& dirty : changed.rects()) {
        if (dirty.empty() || dirty.x < 0 || dirty.y < 0 || dirty.right() > fb.widthPx() || dirty.bottom() > fb.heightPx())
          std::abort();
        volatile std::uint8_t sink = 0;
        for (int y = dirty.y; y < dirty.bottom(); ++y) {
          const std::uint8_t* row = fb.pixels() + std::size_t(y) * fb.strideBytes();
          sink = sink + row[std::size_t(dirty.x) * 4] + row[std::size_t(dirty.right()) * 4 - 1];
        }
      }
    });
  }

  session::ChatLog m_log;
  std::map<std::uint32_t, Watched> m_views;
  // Pointers and strokes as a viewer keeps them, on a clock of our own (bounded by the marks).
  std::map<std::uint32_t, session::StreamMarks> m_marks;
  std::int64_t m_markUs = 1'000'000'000;
  std::uint64_t m_resizedPx = 0;  // of kResizeBudgetPx
};

// One connection, minus the socket: sends are checked, a close stops its input,
// and the port's messages go through ChatClient's or ScreenClient's own handling to the owner.
class Link : public net::ClientProtocol::Peer {
 public:
  Link(Owner& owner, bool screen, bool password)
      : m_owner(owner),
        m_screen(screen),
        m_protocol(screen ? &wire::screenPortPayloadLimit : &wire::chatPortPayloadLimit,
                   screen ? wire::PortKind::Screen : wire::PortKind::Chat, *this) {
    net::ClientIdentity id;
    id.name = "bob";
    id.token = 42;
    if (password) id.password = "correct horse";
    id.where = "192.0.2.1:" + std::to_string(wire::kDefaultChatPort);
    id.deriveKey = &checkedDerive;
    m_protocol.setIdentity(std::move(id));
    sendToHost(m_protocol.hello());
  }

  // The host's next bytes, handled as ClientLink::onReceive does (nothing once closed).
  void receive(std::span<const std::uint8_t> bytes, std::int64_t nowWallUs) {
    if (m_closed) return;
    m_protocol.push(bytes);
    while (m_protocol.processNext(nowWallUs)) {
      if (m_closed) return;
    }
  }
  bool closed() const { return m_closed; }

  // The connection is gone (with the first reason given, else EOF): the owner's last event.
  void finish() {
    net::LinkEnd end = m_closed ? m_protocol.ended(m_closeReason, m_closeDetail)
                                : m_protocol.ended(wire::Reason::IoEof, "fuzz input ended");
    if (end.text.empty() || m_protocol.joined()) std::abort();  // a person is always told why
    if (!m_screen) m_owner.apply(net::ChatClient::disconnectedEvent(end));
  }

 private:
  void sendToHost(base::Bytes frame) override {
    if (!frame || frame->size() < wire::kFrameHeaderBytes) std::abort();  // whole frames only
  }
  bool exportKeyingMaterial(const std::string&, std::span<std::uint8_t> out) override {
    std::fill(out.begin(), out.end(), std::uint8_t{0x11});  // as if over TLS: the proof is built
    return true;
  }
  void closeLink(wire::Reason reason, const std::string& detail, bool) override {
    if (m_closed) return;  // a Connection keeps the first reason
    m_closed = true;
    m_closeReason = reason;
    m_closeDetail = detail;
  }
  void onJoined(const wire::Welcome& welcome) override {
    if (!m_protocol.joined()) std::abort();
    if (!m_screen) m_owner.apply(net::ChatClient::connectedEvent(welcome));
  }
  void onPortFrame(const wire::Frame& frame) override {
    wire::Reason reason = wire::Reason::None;
    std::string why;
    if (m_screen) {
      why = net::ScreenClient::deliver(frame, m_owner, reason);
    } else {
      net::ChatClientEvent ev;
      why = net::ChatClient::eventFor(frame, ev, reason);
      if (why.empty()) m_owner.apply(ev);
    }
    if (!why.empty()) m_protocol.fail(reason, why);
  }

  Owner& m_owner;
  const bool m_screen;
  net::ClientProtocol m_protocol;
  bool m_closed = false;
  wire::Reason m_closeReason = wire::Reason::None;
  std::string m_closeDetail;
};

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  base::setLogLevel(base::LogLevel::Off);  // a bad frame per run is the point, not news
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const bool screen = data[0] & 1, password = data[0] & 2;
  // Once a link has closed, the next bytes go to a new one (the app reconnects and keeps its
  // log and views): that reaches the chat log's replay after a reconnect.
  constexpr int kMaxLinks = 3;
  Owner owner;
  auto link = std::make_unique<Link>(owner, screen, password);
  int links = 1;
  std::int64_t nowWallUs = fuzz::kWallClockUs;
  fuzz::inChunks(data + 1, size - 1, [&](std::span<const std::uint8_t> chunk) {
    if (link->closed() && links < kMaxLinks) {
      link->finish();
      link = std::make_unique<Link>(owner, screen, password);
      ++links;
    }
    link->receive(chunk, nowWallUs);
    nowWallUs += fuzz::kWallClockStepUs;
  });
  link->finish();
  owner.finish();
  return 0;
}
