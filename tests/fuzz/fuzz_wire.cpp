// Everything a client parses from a host, and a host from a client: arbitrary bytes through
// the frame decoder of either port, each frame decoded as its type says.
#include <cstddef>
#include <cstdint>

#include "net/wire/frame_decoder.h"
#include "net/wire/messages.h"
#include "net/wire/screen_messages.h"

using namespace huddle;
using namespace huddle::wire;

namespace {

template <typename M>
void decodeAs(const Frame& f) {
  M m;
  decodePayload(f.payload, m);
}

void decodeFrame(const Frame& f) {
  switch (f.type) {
    case static_cast<std::uint16_t>(MsgType::Hello): decodeAs<Hello>(f); break;
    case static_cast<std::uint16_t>(MsgType::Welcome): decodeAs<Welcome>(f); break;
    case static_cast<std::uint16_t>(MsgType::Reject): decodeAs<Reject>(f); break;
    case static_cast<std::uint16_t>(MsgType::Ping): decodeAs<Ping>(f); break;
    case static_cast<std::uint16_t>(MsgType::Pong): decodeAs<Pong>(f); break;
    case static_cast<std::uint16_t>(MsgType::Bye): decodeAs<Bye>(f); break;
    case static_cast<std::uint16_t>(MsgType::SessionEnd): decodeAs<SessionEnd>(f); break;
    case static_cast<std::uint16_t>(MsgType::Notice): decodeAs<Notice>(f); break;
    case static_cast<std::uint16_t>(MsgType::Say): decodeAs<Say>(f); break;
    case static_cast<std::uint16_t>(MsgType::PrivateSay): decodeAs<PrivateSay>(f); break;
    case static_cast<std::uint16_t>(MsgType::ChatEvent): decodeAs<ChatEvent>(f); break;
    case static_cast<std::uint16_t>(MsgType::UserList): decodeAs<UserList>(f); break;
    case static_cast<std::uint16_t>(ScreenType::StreamAnnounce): decodeAs<StreamAnnounce>(f); break;
    case static_cast<std::uint16_t>(ScreenType::StreamEnded): decodeAs<StreamEnded>(f); break;
    case static_cast<std::uint16_t>(ScreenType::Subscribe): decodeAs<Subscribe>(f); break;
    case static_cast<std::uint16_t>(ScreenType::Unsubscribe): decodeAs<Unsubscribe>(f); break;
    case static_cast<std::uint16_t>(ScreenType::UpdateRequest): decodeAs<UpdateRequest>(f); break;
    case static_cast<std::uint16_t>(ScreenType::PublishAccepted): decodeAs<PublishAccepted>(f); break;
    case static_cast<std::uint16_t>(ScreenType::PublishRefused): decodeAs<PublishRefused>(f); break;
    case static_cast<std::uint16_t>(ScreenType::PublishAck): decodeAs<PublishAck>(f); break;
    case static_cast<std::uint16_t>(ScreenType::PublishStop): decodeAs<PublishStop>(f); break;
    case static_cast<std::uint16_t>(ScreenType::PublishStart): decodeAs<PublishStart>(f); break;
    case static_cast<std::uint16_t>(ScreenType::CursorShape): decodeAs<CursorShape>(f); break;
    case static_cast<std::uint16_t>(ScreenType::CursorPosition): {
      CursorPosition m;
      if (decodePayload(f.payload, m)) validateCursorPosition(m.pos, 1920, 1080);
      break;
    }
    case static_cast<std::uint16_t>(ScreenType::PointAt): {
      PointAt m;
      if (decodePayload(f.payload, m)) validatePointer(m.x, m.y, 1920, 1080);
      break;
    }
    case static_cast<std::uint16_t>(ScreenType::Pointer): decodeAs<Pointer>(f); break;
    case static_cast<std::uint16_t>(ScreenType::PenStroke): {
      PenStroke m;
      if (decodePayload(f.payload, m)) validatePenPoints(m.points, 1920, 1080);
      break;
    }
    case static_cast<std::uint16_t>(ScreenType::Pen): decodeAs<Pen>(f); break;
    case static_cast<std::uint16_t>(ScreenType::ViewerMarks): decodeAs<ViewerMarks>(f); break;
    case static_cast<std::uint16_t>(ScreenType::TierSwitch): decodeAs<TierSwitch>(f); break;
    case static_cast<std::uint16_t>(ScreenType::TiersWanted): decodeAs<TiersWanted>(f); break;
    case static_cast<std::uint16_t>(ScreenType::Update):
    case static_cast<std::uint16_t>(ScreenType::PublishTiles):
    case static_cast<std::uint16_t>(ScreenType::CopyUpdate):
    case static_cast<std::uint16_t>(ScreenType::PublishCopyTiles):
    case static_cast<std::uint16_t>(ScreenType::PublishTierTiles): {
      base::Bytes copy = base::makeBytes(base::ByteVec(f.payload.begin(), f.payload.end()));
      Reader r(base::view(copy));
      TileBatch b;
      std::string error;
      if (b.read(r, copy, error, hasCopies(f.type)))
        for (const auto& c : b.copies) validateCopy(c, b.widthPx, b.heightPx);
      break;
    }
    default: break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  // First byte: which port's limits, and whether the handshake is done.
  FrameDecoder decoder(data[0] & 1 ? &screenPortPayloadLimit : &chatPortPayloadLimit);
  if (data[0] & 2) decoder.setHandshakeDone(true);
  decoder.push(std::span<const std::uint8_t>(data + 1, size - 1));
  for (int i = 0; i < 10000; ++i) {
    Frame f;
    if (decoder.next(f) != FrameDecoder::Status::Frame) break;
    decodeFrame(f);
  }
  return 0;
}
