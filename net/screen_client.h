// A participant's screen-port connection: logs in with the chat session's token, learns
// which streams exist, subscribes and returns credits as it consumes updates, and can
// publish its own stream. Updates are handed to a Listener on the reader thread, which must
// only queue them (decoding happens elsewhere).
// Thread: public methods from any thread; Listener calls on the connection's reader thread.
#pragma once
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "net/client_link.h"
#include "net/wire/screen_messages.h"

namespace huddle::net {

struct ScreenClientConfig {
  ClientLinkSettings link;  // host, screen port, timeouts, wake
  std::string name;
  std::uint64_t token = 0;  // from the chat session's Welcome
  std::optional<SeatKey> seatKey;  // from the chat link's seatKey(): proves the seat over TLS
};

class ScreenClient : public ClientLink {
 public:
  // The largest frame sent on the calling thread (ClientLinkSettings::inlineSendMaxBytes).
  static constexpr std::size_t kInlineSendMaxBytes = 16 * 1024;
  struct Listener {
    virtual ~Listener() = default;
    virtual void onScreenConnected() {}
    virtual void onStreamAnnounced(const wire::StreamInfo&) {}
    virtual void onStreamEnded(std::uint32_t /*streamId*/, const std::string& /*reason*/) {}
    // One update; `batch.tiles` point into a buffer the batch keeps alive.
    virtual void onUpdate(wire::TileBatch&&) {}
    virtual void onPublishAccepted(std::uint32_t /*streamId*/) {}
    // The host will not relay our stream; `reason` is its words for a person.
    virtual void onPublishRefused(const std::string& /*reason*/) {}
    virtual void onPublishAck(std::uint64_t /*seq*/) {}
    // The sharer's cursor of a stream: a shape to cache by id, and where it is now.
    virtual void onCursorShape(std::uint32_t /*streamId*/, base::CursorImage&&) {}
    virtual void onCursorPosition(std::uint32_t /*streamId*/, const base::CursorPos&) {}
    // A cursor message from the host that was not understood: dropped, the stream goes on.
    virtual void onCursorDropped(const std::string& /*why*/) {}
    // Someone's pointer on a stream we watch or share (or its gone), named by the host.
    virtual void onPointer(const wire::Pointer&) {}
    // The next points of someone's pen stroke on such a stream (or all theirs gone).
    virtual void onPen(const wire::Pen&) {}
    // Whether viewers may point and draw on a stream (its sharer's switch).
    virtual void onViewerMarks(std::uint32_t /*streamId*/, bool /*allowed*/) {}
    // Our updates of a stream are of this tier and geometry from now on (the image starts over).
    virtual void onTierSwitch(const wire::TierSwitch&) {}
    // The tiers of our stream anyone watches: encode those only (a newly wanted one whole).
    virtual void onTiersWanted(std::uint32_t /*streamId*/, std::uint8_t /*mask*/) {}
    virtual void onNotice(const std::string&) {}
    virtual void onScreenEnded(const LinkEnd&) {}
  };

  explicit ScreenClient(Listener& listener);
  ~ScreenClient() override;

  void start(ScreenClientConfig config);

  bool subscribe(std::uint32_t streamId, std::uint8_t credits);
  bool unsubscribe(std::uint32_t streamId);
  // Returns credits after consuming updates; `fullRefresh` asks for every tile again.
  bool requestUpdate(std::uint32_t streamId, std::uint8_t credits, bool fullRefresh = false);

  bool publishStart(const std::string& title, std::uint32_t widthPx, std::uint32_t heightPx, std::uint16_t tileSizePx);
  // With `cursor`, our stream's cursor position goes just ahead of them, in the same write.
  bool publishTiles(const wire::TileBatch& batch, const base::CursorPos* cursor = nullptr);
  // Tiles of a lower tier (1..) of our stream, in its own geometry.
  bool publishTierTiles(std::uint8_t tier, const wire::TileBatch& batch);
  bool publishStop();
  // Our stream's cursor, ahead of any tiles still queued: a shape once per change, then
  // positions, a newer one replacing one not yet sent.
  bool publishCursorShape(const base::CursorImage& shape);
  bool publishCursorPosition(const base::CursorPos& pos);
  // Our pointer on a stream we watch (stream pixels), or gone; latest-wins ahead of the queue.
  bool pointAt(std::uint32_t streamId, std::int32_t x, std::int32_t y, bool present);
  // The next points of our pen stroke on such a stream, in order, ahead of the queue.
  bool penStroke(const wire::PenStroke& stroke);
  // Our stream's switch: whether viewers may point and draw on it.
  bool setViewerMarks(std::uint32_t streamId, bool allowed);

  // The screen port's half of the client protocol, without a connection (this class runs
  // it on its link; tests/fuzz runs it on bytes): hands one message from the host to
  // `listener`. Empty if fine, else what the host did wrong (for a person), with `reason` set.
  static std::string deliver(const wire::Frame& frame, Listener& listener, wire::Reason& reason);

 private:
  // Our cursor position waiting in the urgent lane: a newer one takes its place.
  static constexpr std::uint64_t kCursorPositionKey = 1;
  static base::Bytes cursorPositionFrame(const base::CursorPos& pos);
  void onWelcome(const wire::Welcome& welcome) override;
  void onFrame(const wire::Frame& frame) override;
  void onEnded(const LinkEnd& end) override;

  // Takes one of the credits we gave for `streamId`: false if the host has none left.
  bool takeCredit(std::uint32_t streamId);
  void grantCredits(std::uint32_t streamId, std::uint8_t credits);

  Listener& m_listener;
  // Updates we allowed per stream and not yet received: a host sending more is not held to
  // credits and could flood our decode queue, so it is dropped. Counted before the grant is
  // sent, so an update answering it never arrives first. Only ever more lenient than the
  // host's own count (it caps and resets credits), never less.
  std::mutex m_creditMutex;
  std::map<std::uint32_t, std::uint32_t> m_credits;  // (m_creditMutex)
};

}  // namespace huddle::net
