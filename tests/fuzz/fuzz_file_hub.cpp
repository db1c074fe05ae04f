// The file messages and the host's file relay on arbitrary bytes. The first byte chooses who
// of three participants sends each frame (two bits a frame, cycling); the rest is a stream of
// chat-port frames, split by the chat port's limits. Every file message that decodes must
// encode back to a frame that decodes to the same bytes; each frame then goes to a FileHub as
// the chosen participant's (a relay that keeps pieces it was not asked for, or holds more than
// the credit allows, aborts). Names a valid offer carries are checked against the rule.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <span>
#include <vector>

#include "net/file_hub.h"
#include "net/wire/file_messages.h"
#include "net/wire/frame_decoder.h"
#include "tests/fuzz/fuzz_support.h"

using namespace huddle;

namespace {

template <typename M>
void roundTrips(std::span<const std::uint8_t> payload) {
  M m;
  if (!wire::decodePayload(payload, m)) return;
  base::Bytes again = wire::encodeFrame(m);
  std::span<const std::uint8_t> body(again->data() + wire::kFrameHeaderBytes, again->size() - wire::kFrameHeaderBytes);
  M back;
  if (!wire::decodePayload(body, back)) std::abort();
  base::Bytes third = wire::encodeFrame(back);
  if (*third != *again) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint8_t who = data[0];
  net::FileHubConfig config;
  config.maxFileBytes = 1 << 20;
  net::FileHub hub(config);
  std::vector<net::FileHub::Member> room;
  for (std::uint32_t id = 1; id <= 3; ++id)
    room.push_back({id, id == 1 ? "alice" : id == 2 ? "bob" : "carol", std::make_shared<fuzz::SinkLink>(), 0x1000u + id});
  wire::FrameDecoder decoder(&wire::chatPortPayloadLimit);
  decoder.setHandshakeDone(true);
  decoder.push(std::span<const std::uint8_t>(data + 1, size - 1));
  wire::Frame frame;
  std::int64_t now = 1'000'000;
  for (int n = 0; n < 4096 && decoder.next(frame) == wire::FrameDecoder::Status::Frame; ++n) {
    switch (static_cast<wire::MsgType>(frame.type)) {
      case wire::MsgType::FileOffer: {
        roundTrips<wire::FileOffer>(frame.payload);
        wire::FileOffer o;
        if (wire::decodePayload(frame.payload, o) && wire::validateFileName(o.name).empty() &&
            (o.name.find('/') != std::string::npos || o.name == ".." || o.name.empty()))
          std::abort();
        break;
      }
      case wire::MsgType::FileOffered: roundTrips<wire::FileOffered>(frame.payload); break;
      case wire::MsgType::FileRequest: roundTrips<wire::FileRequest>(frame.payload); break;
      case wire::MsgType::FileChunk: roundTrips<wire::FileChunk>(frame.payload); break;
      case wire::MsgType::FileStatus: roundTrips<wire::FileStatus>(frame.payload); break;
      default: break;
    }
    const auto& from = room[((who >> (2 * (n % 4))) & 3) % 3];
    if (net::FileHub::isFileMessage(frame.type)) hub.handle(from, frame, room, now);
    now += 100'000;
    const net::FileHubStats s = hub.stats();
    // Never more asked-for pieces than every receiver's credit over every open offer.
    if (s.piecesInFlight > s.openOffers * room.size() * config.windowChunks) std::abort();
    if (s.bytesRelayed > s.chunksRelayed * wire::kFileChunkBytes) std::abort();
  }
  if (who & 0x80) hub.left(1 + who % 3);
  // Someone joins as "bob": bob back on his seat (his token) or another person with his name.
  if (who & 0x40) {
    hub.left(2);
    hub.joined({9, "bob", std::make_shared<fuzz::SinkLink>(), 0x2000}, (who & 0x20) ? 0x1002 : 0);
  }
  return 0;
}
