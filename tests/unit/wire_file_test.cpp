// Files in the chat on the wire: each message encodes and decodes to itself, and a reader
// refuses what breaks a rule (an empty or oversized piece, a length of 0, an unknown status,
// sizes past the largest file).
#include <gtest/gtest.h>

#include "net/wire/file_messages.h"

using namespace huddle;
using namespace huddle::wire;

namespace {

template <typename M>
bool roundTrip(const M& in, M& out) {
  base::Bytes frame = encodeFrame(in);
  return decodePayload(std::span<const std::uint8_t>(frame->data() + kFrameHeaderBytes, frame->size() - kFrameHeaderBytes), out);
}

TEST(WireFiles, EveryMessageRoundTrips) {
  FileOffer o{.offerId = 9, .to = "bob", .name = "a b.txt", .size = 123456789, .sha256 = {}};
  o.sha256.fill(0xAB);
  FileOffer o2;
  ASSERT_TRUE(roundTrip(o, o2));
  EXPECT_EQ(o2.to, "bob");
  EXPECT_EQ(o2.name, "a b.txt");
  EXPECT_EQ(o2.size, 123456789u);
  EXPECT_EQ(o2.sha256, o.sha256);

  FileOffered d{.transferId = fileTransferId(3, 9), .fromId = 3, .from = "al", .to = "", .name = "x", .size = 5, .sha256 = {}};
  FileOffered d2;
  ASSERT_TRUE(roundTrip(d, d2));
  EXPECT_EQ(d2.transferId, (std::uint64_t(3) << 32) | 9);

  FileRequest r{.transferId = 1, .peerId = 2, .offset = 3, .length = kFileChunkBytes};
  FileRequest r2;
  ASSERT_TRUE(roundTrip(r, r2));
  EXPECT_EQ(r2.length, kFileChunkBytes);

  FileChunk c;
  c.transferId = 1;
  c.offset = 7;
  c.data.assign(kFileChunkBytes, 1);
  FileChunk c2;
  ASSERT_TRUE(roundTrip(c, c2));
  EXPECT_EQ(c2.data.size(), kFileChunkBytes);
  EXPECT_LE(encodeFrame(c)->size() - kFrameHeaderBytes, kMaxFileChunkPayload);
  EXPECT_EQ(chatPortPayloadLimit(static_cast<std::uint16_t>(MsgType::FileChunk), true), kMaxFileChunkPayload);
  EXPECT_EQ(chatPortPayloadLimit(static_cast<std::uint16_t>(MsgType::FileChunk), false), -1);

  FileStatus s{.transferId = 1, .peerId = 0, .code = FileStatusCode::Closed, .text = "ok"};
  FileStatus s2;
  ASSERT_TRUE(roundTrip(s, s2));
  EXPECT_EQ(s2.code, FileStatusCode::Closed);
}

TEST(WireFiles, ReadersRefuseWhatBreaksARule) {
  FileChunk c;
  FileChunk out;
  EXPECT_FALSE(roundTrip(c, out));  // empty
  c.data.assign(kFileChunkBytes + 1, 1);
  EXPECT_FALSE(roundTrip(c, out));  // over a piece
  FileRequest r{.transferId = 1, .peerId = 0, .offset = 0, .length = 0};
  FileRequest r2;
  EXPECT_FALSE(roundTrip(r, r2));
  r.length = kFileChunkBytes + 1;
  EXPECT_FALSE(roundTrip(r, r2));
  FileOffer o;
  o.offerId = 0;  // an offer needs its number
  o.name = "a";
  FileOffer o2;
  EXPECT_FALSE(roundTrip(o, o2));
  o.offerId = 1;
  o.size = kMaxFileBytes + 1;
  EXPECT_FALSE(roundTrip(o, o2));
  FileStatus s;
  s.code = static_cast<FileStatusCode>(0);
  FileStatus s2;
  EXPECT_FALSE(roundTrip(s, s2));
  s.code = static_cast<FileStatusCode>(8);
  EXPECT_FALSE(roundTrip(s, s2));
  s.code = FileStatusCode::Done;
  s.text = "bad\x1b[2J";
  EXPECT_FALSE(roundTrip(s, s2));
}

}  // namespace
