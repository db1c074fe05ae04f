// The host's file relay driven with no sockets: offers and their refusals (bad names, the size
// cap, offers at once and per minute), each receiver's credit, pieces checked against what was
// asked, and people leaving. Also the limits' rows (cap-1, cap, cap+1).
#include <gtest/gtest.h>

#include <mutex>

#include "net/base/utf8.h"
#include "net/file_hub.h"
#include "net/wire/file_messages.h"
#include "net/wire/frame_decoder.h"

using namespace huddle;
using namespace huddle::net;
using namespace huddle::wire;

namespace {

std::int64_t acceptAll(std::uint16_t, bool) { return 1 << 20; }

// Keeps what the hub sends, decoded on demand.
class FileLink : public PeerLink {
 public:
  bool send(base::Bytes frame) override {
    std::lock_guard lock(m);
    out.insert(out.end(), frame->begin(), frame->end());
    return true;
  }
  void close(Reason, const std::string&) override {}
  void closeAfterFlush(Reason, const std::string&) override {}
  std::string address() const override { return "127.0.0.9:1"; }
  std::uint32_t ipv4() const override { return 0x7F000009; }
  template <typename M>
  std::vector<M> take() {
    std::lock_guard lock(m);
    FrameDecoder d(&acceptAll);
    d.push(out);
    std::vector<M> v;
    Frame f;
    while (d.next(f) == FrameDecoder::Status::Frame) {
      M msg;
      if (f.type == static_cast<std::uint16_t>(M::kType) && decodePayload(f.payload, msg)) v.push_back(msg);
    }
    return v;
  }
  void clear() {
    std::lock_guard lock(m);
    out.clear();
  }
  std::mutex m;
  base::ByteVec out;
};

struct Person {
  FileHub::Member member;
  std::shared_ptr<FileLink> link;
};

Person person(std::uint32_t id, const std::string& name, std::uint64_t token = 0) {
  auto link = std::make_shared<FileLink>();
  return {{id, name, link, token}, link};
}

template <typename M>
std::string send(FileHub& hub, const Person& from, const M& msg, const std::vector<Person>& room = {},
                 std::int64_t nowUs = 1'000'000) {
  base::Bytes bytes = encodeFrame(msg);
  Frame f;
  f.type = static_cast<std::uint16_t>(M::kType);
  f.payload = std::span<const std::uint8_t>(bytes->data() + kFrameHeaderBytes, bytes->size() - kFrameHeaderBytes);
  std::vector<FileHub::Member> members;
  for (const auto& p : room) members.push_back(p.member);
  return hub.handle(from.member, f, members, nowUs);
}

FileOffer offerOf(std::uint32_t offerId, const std::string& name, std::uint64_t size, const std::string& to = {}) {
  FileOffer o;
  o.offerId = offerId;
  o.name = name;
  o.size = size;
  o.to = to;
  o.sha256.fill(7);
  return o;
}

FileRequest ask(std::uint64_t tid, std::uint64_t offset, std::uint32_t length) {
  FileRequest r;
  r.transferId = tid;
  r.offset = offset;
  r.length = length;
  return r;
}

FileChunk piece(std::uint64_t tid, std::uint32_t to, std::uint64_t offset, std::size_t length) {
  FileChunk c;
  c.transferId = tid;
  c.peerId = to;
  c.offset = offset;
  c.data.assign(length, 0x5A);
  return c;
}

class FileHubTest : public ::testing::Test {
 protected:
  FileHub hub;
  Person alice = person(1, "alice"), bob = person(2, "bob"), carol = person(3, "carol");
  std::vector<Person> room{alice, bob, carol};
};

TEST_F(FileHubTest, AnOfferGoesToEveryoneElseAndBackToItsSender) {
  ASSERT_EQ(send(hub, alice, offerOf(1, "notes.txt", 1000), room), "");
  const std::uint64_t tid = fileTransferId(1, 1);
  for (auto* p : {&alice, &bob, &carol}) {
    auto offers = p->link->take<FileOffered>();
    ASSERT_EQ(offers.size(), 1u);
    EXPECT_EQ(offers[0].transferId, tid);
    EXPECT_EQ(offers[0].from, "alice");
    EXPECT_EQ(offers[0].name, "notes.txt");
    EXPECT_EQ(offers[0].size, 1000u);
  }
  EXPECT_EQ(hub.stats().openOffers, 1u);
}

TEST_F(FileHubTest, AnOfferToOnePersonReachesOnlyThem) {
  ASSERT_EQ(send(hub, alice, offerOf(1, "a.bin", 10, "carol"), room), "");
  EXPECT_EQ(carol.link->take<FileOffered>().size(), 1u);
  EXPECT_TRUE(bob.link->take<FileOffered>().empty());
  ASSERT_EQ(send(hub, alice, offerOf(2, "a.bin", 10, "nobody"), room), "");
  auto st = alice.link->take<FileStatus>();
  ASSERT_EQ(st.size(), 1u);
  EXPECT_EQ(st[0].code, FileStatusCode::Refused);
  EXPECT_NE(st[0].text.find("nobody named \"nobody\""), std::string::npos) << st[0].text;
}

TEST_F(FileHubTest, BadNamesAreRefusedWithAClearReason) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"../etc/passwd", "path separator"}, {"a\\b", "path separator"}, {"..", "\"..\""},
      {"a\x01z", "control characters"},    {"CON", "reserved"},         {"lpt1.txt", "reserved"},
      {"", "empty"},
  };
  std::uint32_t n = 1;
  for (const auto& [name, why] : bad) {
    alice.link->clear();
    ASSERT_EQ(send(hub, alice, offerOf(n++, name, 10), room), "") << name;
    auto st = alice.link->take<FileStatus>();
    ASSERT_EQ(st.size(), 1u) << name;
    EXPECT_EQ(st[0].code, FileStatusCode::Refused) << name;
    EXPECT_NE(st[0].text.find(why), std::string::npos) << name << ": " << st[0].text;
  }
  EXPECT_TRUE(bob.link->take<FileOffered>().empty());
  EXPECT_EQ(hub.stats().openOffers, 0u);
  EXPECT_EQ(validateFileName("report.pdf"), "");
  EXPECT_EQ(validateFileName("consul.txt"), "");  // only the exact reserved stems
  EXPECT_EQ(validateFileName(std::string(kMaxFileNameBytes, 'a')), "");
  EXPECT_NE(validateFileName(std::string(kMaxFileNameBytes + 1, 'a')), "");
}

TEST_F(FileHubTest, TheSizeCapAtItsEdge) {
  FileHubConfig c;
  c.maxFileBytes = 1000;
  FileHub small(c);
  EXPECT_EQ(send(small, alice, offerOf(1, "a", 999), room), "");
  EXPECT_EQ(send(small, alice, offerOf(2, "b", 1000), room), "");
  EXPECT_EQ(send(small, alice, offerOf(3, "c", 1001), room), "");
  auto st = alice.link->take<FileStatus>();
  ASSERT_EQ(st.size(), 1u);
  EXPECT_EQ(st[0].transferId, fileTransferId(1, 3));
  EXPECT_NE(st[0].text.find("up to 1000 bytes"), std::string::npos) << st[0].text;
  EXPECT_EQ(small.stats().openOffers, 2u);
}

TEST_F(FileHubTest, OffersAtOnceAndPerMinuteAtTheirCaps) {
  FileHubConfig c;
  c.maxOffersPerPerson = 3;
  c.offerBurst = 100;
  FileHub hub3(c);
  for (std::uint32_t i = 1; i <= 3; ++i) EXPECT_EQ(send(hub3, alice, offerOf(i, "f" + std::to_string(i), 1), room), "");
  EXPECT_TRUE(alice.link->take<FileStatus>().empty());
  EXPECT_EQ(send(hub3, alice, offerOf(4, "f4", 1), room), "");
  auto st = alice.link->take<FileStatus>();
  ASSERT_EQ(st.size(), 1u);
  EXPECT_NE(st[0].text.find("already offer 3"), std::string::npos) << st[0].text;

  // Per minute: the burst, then one more after 60 s / rate.
  FileHubConfig r;
  r.offerBurst = 2;
  r.offersPerMinute = 6;  // one every 10 s
  FileHub rate(r);
  alice.link->clear();
  EXPECT_EQ(send(rate, alice, offerOf(1, "f1", 1), room, 0), "");
  EXPECT_EQ(send(rate, alice, offerOf(2, "f2", 1), room, 0), "");
  EXPECT_EQ(send(rate, alice, offerOf(3, "f3", 1), room, 0), "");
  st = alice.link->take<FileStatus>();
  ASSERT_EQ(st.size(), 1u);
  EXPECT_NE(st[0].text.find("too many offers"), std::string::npos);
  EXPECT_EQ(send(rate, alice, offerOf(4, "f4", 1), room, 10'000'000), "");
  EXPECT_EQ(alice.link->take<FileStatus>().size(), 1u);  // still only the one refusal
}

TEST_F(FileHubTest, EachReceiverPullsWithinItsCreditAndPiecesAreRelayedAsAsked) {
  const std::uint64_t size = 5 * kFileChunkBytes + 10;
  ASSERT_EQ(send(hub, alice, offerOf(1, "big.iso", size), room), "");
  const std::uint64_t tid = fileTransferId(1, 1);
  // bob asks for a window's worth; the sender hears it was accepted, then each request.
  for (std::size_t i = 0; i < kFileWindowChunks; ++i)
    ASSERT_EQ(send(hub, bob, ask(tid, i * kFileChunkBytes, kFileChunkBytes)), "");
  auto st = alice.link->take<FileStatus>();
  ASSERT_EQ(st.size(), 1u);
  EXPECT_EQ(st[0].code, FileStatusCode::Accepted);
  EXPECT_EQ(st[0].text, "bob");
  auto reqs = alice.link->take<FileRequest>();
  ASSERT_EQ(reqs.size(), kFileWindowChunks);
  EXPECT_EQ(reqs[0].peerId, 2u);
  EXPECT_EQ(hub.stats().piecesInFlight, kFileWindowChunks);
  // One more than the credit breaks the stream.
  EXPECT_NE(send(hub, bob, ask(tid, kFileWindowChunks * kFileChunkBytes, kFileChunkBytes)), "");
  // Past the announced end, too.
  EXPECT_NE(send(hub, carol, ask(tid, size - 5, 10)), "");
  // The sender's piece goes to bob, tagged with the sender.
  ASSERT_EQ(send(hub, alice, piece(tid, 2, 0, kFileChunkBytes)), "");
  auto got = bob.link->take<FileChunk>();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].peerId, 1u);
  EXPECT_EQ(got[0].offset, 0u);
  EXPECT_TRUE(carol.link->take<FileChunk>().empty());
  // A piece nobody asked for (wrong offset, wrong length, wrong receiver, not the sender).
  EXPECT_NE(send(hub, alice, piece(tid, 2, 5 * kFileChunkBytes, 10)), "");
  EXPECT_NE(send(hub, alice, piece(tid, 2, kFileChunkBytes, 100)), "");
  EXPECT_NE(send(hub, alice, piece(tid, 3, 0, kFileChunkBytes)), "");
  EXPECT_NE(send(hub, carol, piece(tid, 2, kFileChunkBytes, kFileChunkBytes)), "");
  EXPECT_EQ(hub.stats().chunksRelayed, 1u);
}

TEST_F(FileHubTest, ReceivesAtOnceAtTheirCap) {
  FileHubConfig c;
  c.maxReceivesPerPerson = 2;
  FileHub two(c);
  for (std::uint32_t i = 1; i <= 3; ++i) ASSERT_EQ(send(two, alice, offerOf(i, "f" + std::to_string(i), 100), room), "");
  EXPECT_EQ(send(two, bob, ask(fileTransferId(1, 1), 0, 100)), "");
  EXPECT_EQ(send(two, bob, ask(fileTransferId(1, 2), 0, 100)), "");
  EXPECT_TRUE(bob.link->take<FileStatus>().empty());
  EXPECT_EQ(send(two, bob, ask(fileTransferId(1, 3), 0, 100)), "");
  auto st = bob.link->take<FileStatus>();
  ASSERT_EQ(st.size(), 1u);
  EXPECT_EQ(st[0].code, FileStatusCode::Refused);
  EXPECT_NE(st[0].text.find("receiving 2 files"), std::string::npos) << st[0].text;
}

TEST_F(FileHubTest, DoneAndDeclinedReachTheSenderAndAOnePersonOfferCloses) {
  ASSERT_EQ(send(hub, alice, offerOf(1, "f", 100, "bob"), room), "");
  const std::uint64_t tid = fileTransferId(1, 1);
  FileStatus declined;
  declined.transferId = tid;
  declined.code = FileStatusCode::Declined;
  ASSERT_EQ(send(hub, bob, declined), "");
  auto st = alice.link->take<FileStatus>();
  ASSERT_EQ(st.size(), 2u);
  EXPECT_EQ(st[0].code, FileStatusCode::Declined);
  EXPECT_EQ(st[0].text, "bob");
  EXPECT_EQ(st[1].code, FileStatusCode::Closed);
  EXPECT_EQ(hub.stats().openOffers, 0u);
  // A receiver cannot cancel the sender's offer, nor a sender say "done".
  ASSERT_EQ(send(hub, alice, offerOf(2, "g", 100), room), "");
  FileStatus wrong;
  wrong.transferId = fileTransferId(1, 2);
  wrong.code = FileStatusCode::Cancelled;
  EXPECT_NE(send(hub, bob, wrong), "");
  wrong.code = FileStatusCode::Done;
  EXPECT_NE(send(hub, alice, wrong), "");
}

TEST_F(FileHubTest, ASenderWhoLeavesEndsItsOffersForTheirReceivers) {
  ASSERT_EQ(send(hub, alice, offerOf(1, "f", 1000), room), "");
  const std::uint64_t tid = fileTransferId(1, 1);
  ASSERT_EQ(send(hub, bob, ask(tid, 0, 100)), "");
  hub.left(1);
  for (auto* p : {&bob, &carol}) {
    auto st = p->link->take<FileStatus>();
    ASSERT_EQ(st.size(), 1u);
    EXPECT_EQ(st[0].code, FileStatusCode::Cancelled);
    EXPECT_EQ(st[0].text, "alice left");
  }
  EXPECT_EQ(hub.stats().openOffers, 0u);
  EXPECT_EQ(hub.stats().piecesInFlight, 0u);
  // Its piece arriving late is nothing.
  EXPECT_EQ(send(hub, alice, piece(tid, 2, 0, 100)), "");
}

TEST_F(FileHubTest, AReceiverBackFromAReconnectIsOfferedItAgain) {
  ASSERT_EQ(send(hub, alice, offerOf(1, "f", 1000), room), "");
  const std::uint64_t tid = fileTransferId(1, 1);
  ASSERT_EQ(send(hub, bob, ask(tid, 0, 100)), "");
  hub.left(2);
  auto st = alice.link->take<FileStatus>();
  ASSERT_EQ(st.back().code, FileStatusCode::Failed);
  EXPECT_EQ(st.back().text, "bob: left");
  // The piece bob had asked for was on its way when he left: dropped, alice keeps her link.
  EXPECT_EQ(send(hub, alice, piece(tid, 2, 0, 100)), "");
  EXPECT_EQ(hub.stats().chunksRelayed, 0u);
  Person bob2 = person(4, "bob");
  hub.joined(bob2.member);
  auto again = bob2.link->take<FileOffered>();
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].transferId, tid);
  EXPECT_EQ(send(hub, bob2, ask(tid, 100, 100)), "");  // from where it stopped
  EXPECT_EQ(alice.link->take<FileRequest>().back().offset, 100u);
}

TEST_F(FileHubTest, AnOfferToOnePersonIsForTheirSeatNotWhoeverTakesTheirName) {
  Person bobSeat = person(2, "bob", 0xB0B1);
  std::vector<Person> here{alice, bobSeat, carol};
  ASSERT_EQ(send(hub, alice, offerOf(1, "secret.txt", 1000, "bob"), here), "");
  const std::uint64_t tid = fileTransferId(1, 1);
  ASSERT_EQ(bobSeat.link->take<FileOffered>().size(), 1u);
  hub.left(2);
  // Someone else joins as "bob" (bob's name was free): it is not told, and cannot fetch it.
  Person mallory = person(4, "bob", 0x3A11);
  hub.joined(mallory.member, 0);
  EXPECT_TRUE(mallory.link->take<FileOffered>().empty());
  EXPECT_NE(send(hub, mallory, ask(tid, 0, 100)), "");
  EXPECT_TRUE(alice.link->take<FileRequest>().empty());
  // A wrong token back is no better than none.
  Person guess = person(5, "bob", 0x5555);
  hub.joined(guess.member, 0x9999);
  EXPECT_TRUE(guess.link->take<FileOffered>().empty());
  hub.left(4);
  hub.left(5);
  // Bob back on his seat (the token his Welcome gave him), under another name even: his offer.
  Person bobBack = person(6, "bob_2", 0xB0B2);
  hub.joined(bobBack.member, 0xB0B1);
  auto again = bobBack.link->take<FileOffered>();
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].transferId, tid);
  EXPECT_EQ(send(hub, bobBack, ask(tid, 0, 100)), "");
  EXPECT_EQ(alice.link->take<FileRequest>().size(), 1u);
  // And again after a second reconnect: the seat moved to his new token.
  hub.left(6);
  Person bobAgain = person(7, "bob", 0xB0B3);
  hub.joined(bobAgain.member, 0xB0B2);
  EXPECT_EQ(bobAgain.link->take<FileOffered>().size(), 1u);
}

TEST_F(FileHubTest, TheSameFileOfferedTwiceIsRefusedAndTheFirstGoesOn) {
  ASSERT_EQ(send(hub, alice, offerOf(1, "f", 1000), room), "");
  alice.link->clear();
  bob.link->clear();
  ASSERT_EQ(send(hub, alice, offerOf(2, "f", 1000), room), "");
  auto st = alice.link->take<FileStatus>();
  ASSERT_EQ(st.size(), 1u);
  EXPECT_EQ(st[0].code, FileStatusCode::Refused);
  EXPECT_EQ(st[0].text, "Not offered: you already offer f to everyone.");
  EXPECT_TRUE(bob.link->take<FileOffered>().empty());
  EXPECT_EQ(hub.stats().openOffers, 1u);
  // The first one is whole: bob fetches it.
  ASSERT_EQ(send(hub, bob, ask(fileTransferId(1, 1), 0, 100)), "");
  ASSERT_EQ(send(hub, alice, piece(fileTransferId(1, 1), 2, 0, 100)), "");
  EXPECT_EQ(bob.link->take<FileChunk>().size(), 1u);
  // Another file, or the same one to one person, is another offer.
  EXPECT_EQ(send(hub, alice, offerOf(3, "f", 1000, "bob"), room), "");
  EXPECT_EQ(send(hub, alice, offerOf(4, "g", 1000), room), "");
  EXPECT_EQ(hub.stats().openOffers, 3u);
}

TEST_F(FileHubTest, AnOfferHandledAfterItsSenderLeftLeavesNothing) {
  // The chat hub calls us after its lock: a sender's leave can be handled before its offer.
  hub.left(1);
  ASSERT_EQ(send(hub, alice, offerOf(1, "f", 1000), room), "");
  EXPECT_EQ(hub.stats().openOffers, 0u);
  EXPECT_TRUE(bob.link->take<FileOffered>().empty());
  // And a receiver already gone is not waited for: an offer to it alone is refused.
  hub.left(2);
  ASSERT_EQ(send(hub, carol, offerOf(1, "f", 1000, "bob"), room), "");
  auto st = carol.link->take<FileStatus>();
  ASSERT_EQ(st.size(), 1u);
  EXPECT_EQ(st[0].code, FileStatusCode::Refused);
  EXPECT_EQ(hub.stats().openOffers, 0u);
}

TEST_F(FileHubTest, AStatusTextCutToItsLimitIsCutBetweenCharacters) {
  ASSERT_EQ(send(hub, alice, offerOf(1, "f", 1000), room), "");
  alice.link->clear();
  FileStatus failed;
  failed.transferId = fileTransferId(1, 1);
  failed.code = FileStatusCode::Failed;
  for (int i = 0; i < 127; ++i) failed.text += "\xC3\xA9";  // 254 bytes; "bob: " before it makes 259
  ASSERT_EQ(send(hub, bob, failed), "");
  auto st = alice.link->take<FileStatus>();
  ASSERT_EQ(st.size(), 1u);
  EXPECT_LE(st[0].text.size(), kMaxReasonBytes);
  EXPECT_TRUE(base::isValidUtf8(st[0].text)) << st[0].text;
  EXPECT_EQ(st[0].text.size(), 5u + 250u);
  EXPECT_EQ(cutUtf8("a\xE2\x82\xAC", 3), "a");
  EXPECT_EQ(cutUtf8("a\xE2\x82\xAC", 4), "a\xE2\x82\xAC");
  EXPECT_EQ(cutUtf8("abc", 2), "ab");
}

}  // namespace
