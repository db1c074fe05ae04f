// docs/SECURITY.md s.7.2 at the screen hub: streams per session at cap-1, cap and cap+1, and the
// geometry a stream may have; the room password's length and the password-check cost a
// client accepts, at their caps; s.7.1: a refused connection's grace and its place in its
// address's pending share.
#include <gtest/gtest.h>

#include "net/chat_hub.h"
#include "net/wire/frame_decoder.h"
#include "net/room_auth.h"
#include "net/screen_hub.h"

using namespace huddle;
using namespace huddle::net;

namespace {

// Records how the hub closes it: hard (close) or after its last frame (closeAfterFlush).
struct CloseLink : PeerLink {
  bool send(base::Bytes) override { return true; }
  void close(wire::Reason r, const std::string&) override {
    if (hard == wire::Reason::None) hard = r;
  }
  void closeAfterFlush(wire::Reason, const std::string&) override { flushing = true; }
  std::string address() const override { return "10.0.0.7:1"; }
  std::uint32_t ipv4() const override { return ip; }
  std::uint32_t ip = 0x0A000007;
  wire::Reason hard = wire::Reason::None;
  bool flushing = false;
};

// Connects and says Hello in a protocol version the host does not speak: refused, told why.
// Connects from `ip` and says Hello (`token`: resuming a seat); true if it was let in.
bool joins(ChatHub& hub, std::uint32_t ip, std::uint64_t token = 0, std::uint64_t* newToken = nullptr) {
  struct WelcomeLink : CloseLink {
    bool send(base::Bytes frame) override {
      wire::FrameDecoder d([](std::uint16_t, bool) -> std::int64_t { return 1 << 20; });
      d.push(*frame);
      wire::Frame f;
      if (d.next(f) == wire::FrameDecoder::Status::Frame && f.type == static_cast<std::uint16_t>(wire::MsgType::Welcome))
        welcomed = wire::decodePayload(f.payload, welcome);
      return true;
    }
    bool welcomed = false;
    wire::Welcome welcome;
  };
  auto link = std::make_shared<WelcomeLink>();
  link->ip = ip;
  const PeerId id = hub.attach(link, 1'000'000'000);
  wire::Hello h;
  h.name = "churn";
  h.token = token;
  hub.receive(id, base::view(wire::encodeFrame(h)), 1'000'000'000);
  if (link->welcomed && newToken) *newToken = link->welcome.token;
  return link->welcomed;
}

std::shared_ptr<CloseLink> refusedPeer(ChatHub& hub, std::int64_t nowUs) {
  auto link = std::make_shared<CloseLink>();
  const PeerId id = hub.attach(link, nowUs);
  wire::Hello h;
  h.version = wire::kProtocolVersion + 1;
  h.name = "x";
  hub.receive(id, base::view(wire::encodeFrame(h)), nowUs);
  return link;
}

}  // namespace

TEST(Limits, ARefusedConnectionIsClosedHardAtItsGraceNotBefore) {
  ChatHub hub(ChatHubConfig{});
  const std::int64_t t0 = 1'000'000'000;
  auto link = refusedPeer(hub, t0);
  ASSERT_TRUE(link->flushing);
  hub.tick(t0);  // the watchdog sees the refusal
  hub.tick(t0 + wire::kRefusedGraceUs - 1);
  EXPECT_EQ(link->hard, wire::Reason::None);
  hub.tick(t0 + wire::kRefusedGraceUs);
  EXPECT_EQ(link->hard, wire::Reason::Rejected);
}

TEST(Limits, RefusedButOpenConnectionsCountAgainstTheirAddress) {
  for (std::size_t open : {wire::kMaxPendingPerAddress - 1, wire::kMaxPendingPerAddress, wire::kMaxPendingPerAddress + 1}) {
    ChatHub hub(ChatHubConfig{});
    const std::int64_t t0 = 1'000'000'000;
    for (std::size_t i = 0; i < open; ++i) refusedPeer(hub, t0);
    auto newcomer = std::make_shared<CloseLink>();
    hub.attach(newcomer, t0);
    EXPECT_EQ(newcomer->hard == wire::Reason::Busy, open >= wire::kMaxPendingPerAddress) << open;
    // Another address is not held up by them.
    auto other = std::make_shared<CloseLink>();
    other->ip = 0x0A000008;
    hub.attach(other, t0);
    EXPECT_EQ(other->hard, wire::Reason::None) << open;
  }
}

TEST(Limits, SixteenScreensPerSessionAndNoMore) {
  ScreenHub hub(ScreenHubConfig{}, [](std::uint64_t, std::uint32_t&, std::string&) { return false; },
                [](std::uint32_t, bool) {});
  std::string error;
  for (std::size_t i = 0; i + 1 < wire::kMaxStreamsPerSession; ++i)
    ASSERT_NE(hub.startLocalStream(1, "host", "s" + std::to_string(i), 64, 64, 64, error), 0u) << error;
  const std::uint32_t last = hub.startLocalStream(1, "host", "last", 64, 64, 64, error);
  EXPECT_NE(last, 0u) << error;
  EXPECT_EQ(hub.startLocalStream(1, "host", "over", 64, 64, 64, error), 0u);
  EXPECT_NE(error.find("too many"), std::string::npos) << error;
  EXPECT_EQ(hub.streams().size(), wire::kMaxStreamsPerSession);
  // One ends: there is room again.
  hub.endStream(last, "done");
  EXPECT_NE(hub.startLocalStream(1, "host", "again", 64, 64, 64, error), 0u) << error;
}

TEST(Limits, AStreamOutsideTheGeometryCapsIsRefused) {
  ScreenHub hub(ScreenHubConfig{}, [](std::uint64_t, std::uint32_t&, std::string&) { return false; },
                [](std::uint32_t, bool) {});
  std::string error;
  EXPECT_NE(hub.startLocalStream(1, "host", "8K", 7680, 4320, 256, error), 0u) << error;
  EXPECT_NE(hub.startLocalStream(1, "host", "tiny", 1, 1, 64, error), 0u) << error;
  EXPECT_EQ(hub.startLocalStream(1, "host", "wide", wire::kMaxStreamSidePx + 1, 64, 64, error), 0u);
  EXPECT_EQ(hub.startLocalStream(1, "host", "huge", 8192, 8192, 64, error), 0u);
  EXPECT_EQ(hub.startLocalStream(1, "host", "empty", 0, 0, 64, error), 0u);
  EXPECT_EQ(hub.startLocalStream(1, "host", "odd tile", 640, 480, 100, error), 0u);
  EXPECT_EQ(hub.streams().size(), 2u);
}

TEST(Limits, RoomPasswordLengthAtItsCaps) {
  for (std::size_t n : {wire::kMinRoomPasswordBytes - 1, wire::kMinRoomPasswordBytes, wire::kMinRoomPasswordBytes + 1})
    EXPECT_EQ(validateRoomPassword(std::string(n, 'p')).empty(), n >= wire::kMinRoomPasswordBytes) << n;
  for (std::size_t n : {wire::kMaxRoomPasswordBytes - 1, wire::kMaxRoomPasswordBytes, wire::kMaxRoomPasswordBytes + 1})
    EXPECT_EQ(validateRoomPassword(std::string(n, 'p')).empty(), n <= wire::kMaxRoomPasswordBytes) << n;
}

TEST(Limits, PasswordCheckCostAtItsCaps) {
  std::string why;
  KdfParams p;
  for (std::uint32_t ops : {wire::kMinKdfOps - 1, wire::kMinKdfOps, wire::kMaxKdfOps, wire::kMaxKdfOps + 1}) {
    p.ops = ops;
    EXPECT_EQ(kdfParamsAcceptable(p, why), ops >= wire::kMinKdfOps && ops <= wire::kMaxKdfOps) << ops;
  }
  p.ops = wire::kMinKdfOps;
  for (std::uint32_t mem : {wire::kMinKdfMemBytes - 1, wire::kMinKdfMemBytes, wire::kMaxKdfMemBytes, wire::kMaxKdfMemBytes + 1}) {
    p.memBytes = mem;
    EXPECT_EQ(kdfParamsAcceptable(p, why), mem >= wire::kMinKdfMemBytes && mem <= wire::kMaxKdfMemBytes) << mem;
  }
}

// Join churn (docs/SECURITY.md s.7.2): one address joins its burst and no more (the rest of the
// minute refills slowly); one seat resumed over and over, from anywhere, likewise.
TEST(Limits, JoinsPerAddressAndPerSeatAtTheirBursts) {
  const auto burstAddr = static_cast<std::size_t>(wire::kJoinBurstPerAddress);
  for (std::size_t n : {burstAddr - 1, burstAddr, burstAddr + 1}) {
    ChatHubConfig c;
    c.maxParticipants = wire::kMaxParticipants;
    ChatHub hub(c);
    std::size_t in = 0;
    for (std::size_t i = 0; i < n; ++i) in += joins(hub, 0x0A000001);
    EXPECT_EQ(in, std::min(n, burstAddr)) << n;
    EXPECT_TRUE(joins(hub, 0x0A000002)) << "another address is not held up";
  }
  const auto burstSeat = static_cast<std::size_t>(wire::kJoinBurstPerSeat);
  for (std::size_t n : {burstSeat - 1, burstSeat, burstSeat + 1}) {
    ChatHub hub(ChatHubConfig{});
    std::uint64_t token = 0;
    ASSERT_TRUE(joins(hub, 0x0A000100, 0, &token));
    std::size_t in = 0;
    for (std::size_t i = 0; i < n; ++i) in += joins(hub, 0x0A000200 + static_cast<std::uint32_t>(i), token, &token);
    EXPECT_EQ(in, std::min(n, burstSeat)) << n;
  }
}
