// A participant's screen port: which streams exist, watching some of them (decoded on a
// worker thread into StreamViews), and sharing its own screen through the host. The host's
// own user watches through one of these too; its sharing goes to the relay directly (see
// HostSession), since it is the relay.
// Thread: public methods from the owner (UI or headless loop); network and decode threads
// inside. Never blocks the caller on the network.
#pragma once
#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "app/session/participant_colour.h"
#include "app/session/stream_marks.h"
#include "app/session/stream_view.h"
#include "capture/capture_pipeline.h"
#include "net/base/event_queue.h"
#include "net/base/log_throttle.h"
#include "net/base/worker.h"
#include "net/screen_client.h"
#include "net/screen_tiers.h"

namespace huddle::session {

struct ScreenSessionConfig {
  net::ClientLinkSettings link;  // host, screen port, tls, wake
  std::string name;
  std::uint64_t token = 0;       // from the chat Welcome
  std::optional<net::SeatKey> seatKey;  // from the chat link: proves the seat over TLS
  std::uint8_t credits = 2;      // updates in flight per watched stream
};

class ScreenSession : private net::ScreenClient::Listener {
 public:
  // Whether the decode queue, holding `queuedBytes`, takes an update of `updateBytes`.
  static bool decodeQueueTakes(std::uint64_t queuedBytes, std::uint64_t updateBytes) {
    return queuedBytes == 0 || queuedBytes + updateBytes <= wire::kMaxDecodeQueueBytes;
  }

  ScreenSession();
  ~ScreenSession() override;

  void start(ScreenSessionConfig config);
  bool connected() const { return m_client.connected(); }
  bool finished() const { return m_client.finished(); }
  std::string endText() const;

  std::vector<wire::StreamInfo> streams() const;
  // Starts watching; the view fills as updates arrive. Null if there is no such stream.
  std::shared_ptr<StreamView> watch(std::uint32_t streamId);
  void unwatch(std::uint32_t streamId);
  std::shared_ptr<StreamView> view(std::uint32_t streamId) const;

  // Shares `source` through the host. False with a reason (already sharing, source fails).
  // Tiles go to the host only once it has accepted the stream.
  bool startSharing(std::unique_ptr<capture::ScreenSource> source, const capture::CaptureSettings& settings,
                    int encoderThreads, std::string& error);
  void stopSharing();
  bool sharing() const;
  // Why the host would not relay our screen (its words, e.g. it relays as many as it may),
  // or empty. Once set, captured frames are dropped: the owner shows it and calls
  // stopSharing(). It stays until the next startSharing().
  std::string shareError() const;
  capture::CapturePipeline* sharePipeline() { return m_pipeline.get(); }

  // Points at `streamId` (watched, or our own) at stream pixel (x, y); pointGone() releases it.
  bool pointAt(std::uint32_t streamId, std::int32_t x, std::int32_t y) { return m_client.pointAt(streamId, x, y, true); }
  bool pointGone(std::uint32_t streamId) { return m_client.pointAt(streamId, 0, 0, false); }
  // Everyone's pointers on `streamId` still to be drawn at `nowMonoUs` (held, or fading).
  std::vector<PointerMark> pointers(std::uint32_t streamId, std::int64_t nowMonoUs) const;
  // The next points of our pen stroke (see PenPacer).
  bool penStroke(const wire::PenStroke& stroke) { return m_client.penStroke(stroke); }
  // Everyone's pen strokes on `streamId` still to be drawn at `nowMonoUs`.
  std::vector<StrokeMark> strokes(std::uint32_t streamId, std::int64_t nowMonoUs) const;
  // Whether the sharer of `streamId` lets viewers point and draw (as its host last said).
  bool viewerMarksAllowed(std::uint32_t streamId) const;
  // Our share's switch for viewers' pointers and pens: sent once the host has accepted the
  // stream, and again on each change (kept across sharing runs).
  void setViewerMarks(bool allowed);

  // Host wall clock minus ours (for latency).
  std::int64_t clockOffsetUs() const { return m_client.clockOffsetUs(); }
  void leave() { stopSharing(); m_client.leave(); }

 private:
  struct Decode {
    std::uint32_t streamId;
    wire::TileBatch batch;
    std::int64_t startedMonoUs;  // its first bytes came
    std::int64_t arrivedMonoUs;  // and its last
    std::uint64_t bytes;  // what it holds, against kMaxDecodeQueueBytes
  };

  void onScreenConnected() override {}
  void onStreamAnnounced(const wire::StreamInfo& info) override;
  void onStreamEnded(std::uint32_t streamId, const std::string& reason) override;
  void onUpdate(wire::TileBatch&& batch) override;
  void onPublishAccepted(std::uint32_t streamId) override;
  void onPublishRefused(const std::string& reason) override;
  void onPublishAck(std::uint64_t seq) override;
  void onCursorShape(std::uint32_t streamId, base::CursorImage&& shape) override;
  void onCursorPosition(std::uint32_t streamId, const base::CursorPos& pos) override;
  void onCursorDropped(const std::string& why) override;
  void onPointer(const wire::Pointer& pointer) override;
  void onPen(const wire::Pen& pen) override;
  void onViewerMarks(std::uint32_t streamId, bool allowed) override;
  void onTierSwitch(const wire::TierSwitch& tier) override;
  void onTiersWanted(std::uint32_t streamId, std::uint8_t mask) override;
  void onCursor(const capture::CursorUpdate& cursor);
  // A captured frame's tiles: pending, and sent now if the host may take them.
  void takeCapturedLocked(capture::EncodedUpdate&& u);
  // The sharer's cursor changed (alone, or with a frame's update): kept, and sent once
  // accepted; the position at once, or (`positionNow` false) due to go with the tiles.
  void cursorLocked(const capture::CursorUpdate& c, bool positionNow = true);
  void sendCursorLocked(bool positionNow = true);
  void onScreenEnded(const net::LinkEnd& end) override;
  void decodeLoop();
  void onCaptured(capture::EncodedUpdate&& update);
  // Sends the next pending message: the top's or a lower tier's, in turn.
  void sendPendingLocked();
  void sendTopLocked();

  ScreenSessionConfig m_config;
  net::ScreenClient m_client{*this};
  base::EventQueue<Decode> m_decodeQueue{1024};
  std::mutex m_decodeBytesMutex;
  std::uint64_t m_decodeBytes = 0;  // (m_decodeBytesMutex) bytes of the updates in m_decodeQueue
  // Updates queued or being decoded. A cursor position that comes while one is (the sharer
  // sends it right after its frame's tiles) wakes nobody: the decode's own wake, after it,
  // shows both in one redraw instead of two.
  std::atomic<int> m_decodesInFlight{0};
  // A cursor position skipped its wake: the next decode to end wakes, whichever stream it was.
  std::atomic<bool> m_wakeOwed{false};
  base::Worker m_decoder;  // "decode"

  mutable std::mutex m_mutex;  // guards the maps (the owner's streams(), watch(), ...)
  // Guards the publishing state below and is held while a frame is handed to the link, so
  // publishing frames (serialising a batch) never holds up the owner's calls on m_mutex.
  mutable std::mutex m_publishMutex;
  std::map<std::uint32_t, wire::StreamInfo> m_streams;
  std::map<std::uint32_t, std::shared_ptr<StreamView>> m_views;
  // The tier (and its geometry) the host serves each watched stream at, as it last said:
  // updates of another size are dropped.
  std::map<std::uint32_t, wire::TierSwitch> m_tiers;
  std::string m_endText;
  base::LogThrottle m_logThrottle;  // warnings about a misbehaving host, per stream
  // Pointers (and their trails) on streams we watch or share (m_mutex), by stream.
  std::map<std::uint32_t, StreamMarks> m_marks;

  // Sharing: capture thread -> coalesced pending frame -> once the host accepted the stream,
  // at most wire::kMaxPublishInFlight unacked.
  std::unique_ptr<capture::CapturePipeline> m_pipeline;
  capture::PipelineNudge m_shareNudge;  // the screen link's thread tells the pipeline of tiers wanted
  bool m_publishing = false;   // between startSharing() and stopSharing()
  bool m_accepted = false;     // the host took our PublishStart
  std::string m_shareError;    // the host refused it: why
  std::string m_shareTitle;
  std::uint32_t m_shareW = 0, m_shareH = 0;
  std::uint16_t m_shareTile = 0;
  std::map<std::uint32_t, base::EncodedTile> m_pendingTiles;  // by tile index: newest wins
  std::vector<base::CopyRect> m_pendingCopies;  // before those tiles (only when none waited)
  std::vector<base::TilePatch> m_pendingPatches;  // after the copies (made with them, only then)
  wire::TileBatch m_pendingHeader;
  // The lower quality tiers of our stream (1..), pending like the top's, in their own geometry;
  // and the tiers the host says anyone watches, with how often each was turned off (the
  // capture thread asks each frame, through a TierGate, so one off and on again between two
  // frames is still sent whole).
  struct TierPending {
    wire::TileBatch header;
    std::map<std::uint32_t, base::EncodedTile> tiles;
  };
  std::array<TierPending, wire::kMaxScreenTiers - 1> m_tierPending;
  net::WantedTiers m_wantedTiers;
  int m_sendTurn = 0;  // which of them goes first next
  int m_inFlight = 0;
  std::atomic<std::uint32_t> m_publishedId{0};
  // Our cursor (m_publishMutex): its latest shape and position, sent once the host accepted
  // the stream; a shape goes once per change.
  base::CursorImage m_cursorShape;
  bool m_cursorShapeSent = true;
  base::CursorPos m_cursorPos;
  bool m_haveCursor = false;
  bool m_cursorPositionDue = false;  // (m_publishMutex) to go with the tiles sent next in this onCaptured()
  bool m_viewerMarks = true;  // (m_publishMutex) our share's switch
};

}  // namespace huddle::session
