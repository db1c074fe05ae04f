// The chat protocol core driven with no sockets: fake links record what the hub sends.
#include <gtest/gtest.h>

#include <mutex>

#include "net/base/clock.h"
#include "net/chat_hub.h"
#include "net/screen_hub.h"
#include "net/wire/frame_decoder.h"

using namespace huddle;
using namespace huddle::net;
using namespace huddle::wire;

namespace {

std::int64_t accept_all(std::uint16_t, bool) { return 1 << 20; }

class FakeLink : public PeerLink {
 public:
  bool send(base::Bytes frame) override {
    std::lock_guard lock(m);
    if (closed) return false;
    out.insert(out.end(), frame->begin(), frame->end());
    return true;
  }
  void close(Reason r, const std::string&) override {
    std::lock_guard lock(m);
    if (!closed) reason = r;
    closed = true;
  }
  void closeAfterFlush(Reason r, const std::string&) override {
    std::lock_guard lock(m);
    if (!closed) reason = r;
    closed = true;
    flushed = true;
  }
  std::string address() const override { return "127.0.0.9:1"; }
  std::uint32_t ipv4() const override { return ip; }
  bool exporter(const std::string&, std::span<std::uint8_t> outBytes) const override {
    if (!tls) return false;
    std::fill(outBytes.begin(), outBytes.end(), exporterByte);
    return true;
  }

  // Decodes everything sent so far into (type, payload) pairs.
  std::vector<std::pair<MsgType, base::ByteVec>> frames() {
    std::lock_guard lock(m);
    FrameDecoder d(&accept_all);
    d.push(out);
    std::vector<std::pair<MsgType, base::ByteVec>> v;
    Frame f;
    while (d.next(f) == FrameDecoder::Status::Frame)
      v.emplace_back(static_cast<MsgType>(f.type), base::ByteVec(f.payload.begin(), f.payload.end()));
    return v;
  }
  template <typename M>
  std::vector<M> all() {
    std::vector<M> v;
    for (auto& [t, p] : frames())
      if (t == M::kType) {
        M msg;
        EXPECT_TRUE(decodePayload(std::span<const std::uint8_t>(p), msg));
        v.push_back(msg);
      }
    return v;
  }

  std::mutex m;
  std::uint32_t ip = 0x7F000009;
  std::uint8_t exporterByte = 0x11;  // stands for this connection's TLS session
  bool tls = true;                   // false: a plaintext connection (no exporter)
  base::ByteVec out;
  bool closed = false, flushed = false;
  Reason reason = Reason::None;
};

struct Client {
  std::shared_ptr<FakeLink> link = std::make_shared<FakeLink>();
  PeerId id = 0;
};

class HubTest : public ::testing::Test {
 protected:
  ChatHubConfig config() {
    ChatHubConfig c;
    c.hostName = "alice";
    c.guard.handshakeTimeoutUs = 1'000'000;
    c.guard.heartbeatTimeoutUs = 5'000'000;
    return c;
  }
  template <typename M>
  void feed(Client& c, const M& msg) {
    hub->receive(c.id, base::view(encodeFrame(msg)), now);
  }
  // Connects from `ip` and says Hello (with `token`: a returning participant or the host).
  Client greet(const std::string& name, std::uint32_t ip = 0x7F000009, std::uint64_t token = 0,
               std::uint8_t tlsSession = 0x11) {
    Client c;
    c.link->ip = ip;
    c.link->exporterByte = tlsSession;
    c.id = hub->attach(c.link, now);
    Hello h;
    h.name = name;
    h.token = token;
    feed(c, h);
    return c;
  }
  Client join(const std::string& name) { return greet(name); }
  std::unique_ptr<ChatHub> hub = std::make_unique<ChatHub>(config());
  std::int64_t now = 1'000'000'000;
};

// The proof a screen connection `screen` makes for the seat joined over `chat`.
std::array<std::uint8_t, 32> seatProof(const FakeLink& chat, const FakeLink& screen, std::uint64_t token) {
  huddle::net::SeatKey seat{};
  std::array<std::uint8_t, 32> exporter{};
  chat.exporter(huddle::net::kSeatExporterLabel, seat);
  screen.exporter(huddle::net::kAuthExporterLabel, exporter);
  return huddle::net::screenLoginProof(seat, exporter, token);
}

}  // namespace

TEST_F(HubTest, HandshakeWelcomeAndJoinEvent) {
  Client bob = join("bob");
  auto welcomes = bob.link->all<Welcome>();
  ASSERT_EQ(welcomes.size(), 1u);
  EXPECT_EQ(welcomes[0].name, "bob");
  EXPECT_EQ(welcomes[0].hostName, "alice");
  EXPECT_NE(welcomes[0].token, 0u);
  auto events = bob.link->all<ChatEvent>();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, ChatKind::Join);
  EXPECT_EQ(events[0].from, "bob");
  auto lists = bob.link->all<UserList>();
  ASSERT_EQ(lists.size(), 1u);
  EXPECT_EQ(lists[0].users.size(), 1u);
}

TEST_F(HubTest, NameClashGetsSuffixAndIsToldItsName) {
  Client a = join("bob");
  Client b = join("bob");
  Client c = join("bob");
  EXPECT_EQ(b.link->all<Welcome>()[0].name, "bob_2");
  EXPECT_EQ(c.link->all<Welcome>()[0].name, "bob_3");
  Client longName = join(std::string(32, 'x'));
  Client longClash = join(std::string(32, 'x'));
  std::string got = longClash.link->all<Welcome>()[0].name;
  EXPECT_EQ(got.size(), 32u);
  EXPECT_EQ(got.substr(30), "_2");
}

TEST_F(HubTest, MessagesAreStampedOrderedAndSharedByAll) {
  Client a = join("a");
  Client b = join("b");
  Say s;
  s.text = "hello";
  feed(a, s);
  s.text = "world";
  feed(b, s);
  auto ea = a.link->all<ChatEvent>();
  auto eb = b.link->all<ChatEvent>();
  ASSERT_GE(ea.size(), 3u);
  EXPECT_EQ(ea.back().text, "world");
  EXPECT_EQ(ea.back().from, "b");
  EXPECT_GT(ea.back().seq, ea[ea.size() - 2].seq);
  EXPECT_EQ(ea.back().seq, eb.back().seq);
  EXPECT_GT(ea.back().timeUs, 0);
}

TEST_F(HubTest, PrivateMessagesReachOnlyTheirTarget) {
  Client a = join("a");
  Client b = join("b");
  Client c = join("c");
  PrivateSay p;
  p.to = "b";
  p.text = "secret";
  feed(a, p);
  auto has = [](Client& cl) {
    for (auto& e : cl.link->all<ChatEvent>())
      if (e.text == "secret") return e.kind == ChatKind::Private;
    return false;
  };
  EXPECT_TRUE(has(a));  // the sender sees its own message
  EXPECT_TRUE(has(b));
  EXPECT_FALSE(has(c));
  p.to = "nobody";
  feed(a, p);
  auto notices = a.link->all<Notice>();
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_NE(notices[0].text.find("nobody"), std::string::npos);
}

TEST_F(HubTest, NewcomerGetsTheLast500InOrder) {
  Client a = join("a");
  Say s;
  for (int i = 0; i < 600; ++i) {
    s.text = "m" + std::to_string(i);
    now += 30'000;  // stay under the rate limit
    feed(a, s);
  }
  Client late = join("late");
  auto events = late.link->all<ChatEvent>();
  std::vector<ChatEvent> history;
  for (auto& e : events)
    if (e.flags & ChatEvent::kFlagHistory) history.push_back(e);
  ASSERT_EQ(history.size(), 500u);
  EXPECT_EQ(history.back().text, "m599");
  for (std::size_t i = 1; i < history.size(); ++i) EXPECT_EQ(history[i].seq, history[i - 1].seq + 1);
  // After the replay comes the live join.
  EXPECT_EQ(events.back().kind, ChatKind::Join);
  EXPECT_FALSE(events.back().flags & ChatEvent::kFlagHistory);
}

TEST_F(HubTest, VersionMismatchIsRejectedWithBothVersions) {
  Client c;
  c.id = hub->attach(c.link, now);
  base::ByteVec v;
  Writer w(v);
  w.u32(0);
  w.u16(static_cast<std::uint16_t>(MsgType::Hello));
  w.u32(kMagic);
  w.u16(kProtocolVersion + 2);
  v[0] = 6;
  hub->receive(c.id, v, now);
  auto rejects = c.link->all<Reject>();
  ASSERT_EQ(rejects.size(), 1u);
  EXPECT_EQ(rejects[0].code, RejectCode::VersionMismatch);
  EXPECT_EQ(rejects[0].hostVersion, kProtocolVersion);
  EXPECT_TRUE(c.link->flushed);
}

TEST_F(HubTest, BadInputClosesOnlyThatPeer) {
  Client good = join("good");
  struct Case {
    const char* name;
    base::ByteVec bytes;
    Reason expect;
    bool joinFirst;
  };
  auto frame = [](std::uint16_t type, base::ByteVec payload, std::uint32_t len = 0xFFFFFFFF) {
    base::ByteVec v;
    Writer w(v);
    w.u32(len == 0xFFFFFFFF ? static_cast<std::uint32_t>(payload.size()) : len);
    w.u16(type);
    w.raw(payload.data(), payload.size());
    return v;
  };
  base::ByteVec badUtf8;
  {
    Writer w(badUtf8);
    w.u64(1);
    w.str("bad \xC0\xAF");
  }
  std::vector<Case> cases = {
      {"chat before hello", frame(0x0101, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0}), Reason::ProtoState, false},
      {"oversize length", frame(0x0101, {}, 0xFFFFFFF0), Reason::ProtoOversize, true},
      {"unknown type", frame(0x4242, {}), Reason::ProtoHeader, true},
      {"truncated say", frame(0x0101, {1, 2, 3}), Reason::ProtoMalformed, true},
      {"invalid utf8", frame(0x0101, badUtf8), Reason::ChatEncoding, true},
      {"host-only message", frame(0x0103, {}), Reason::ProtoState, true},
      {"garbage hello", frame(0x0001, {1, 2, 3, 4, 5, 6, 7}), Reason::ProtoMalformed, false},
      {"empty voice datagram", frame(0x0105, {}), Reason::ProtoMalformed, true},
      {"oversize voice datagram", frame(0x0105, {}, huddle::wire::kMaxVoiceDatagramBytes + 1), Reason::ProtoOversize, true},
      {"voice before hello", frame(0x0105, {1}), Reason::ProtoState, false},
  };
  for (auto& tc : cases) {
    Client bad = tc.joinFirst ? join(std::string("bad")) : Client{};
    if (!tc.joinFirst) bad.id = hub->attach(bad.link, now);
    hub->receive(bad.id, tc.bytes, now);
    EXPECT_TRUE(bad.link->closed) << tc.name;
    EXPECT_EQ(bad.link->reason, tc.expect) << tc.name;
    hub->detach(bad.id, bad.link->reason, tc.name);
    EXPECT_FALSE(good.link->closed) << tc.name;
  }
  Say s;
  s.text = "still here";
  feed(good, s);
  EXPECT_EQ(good.link->all<ChatEvent>().back().text, "still here");
  auto stats = hub->stats();
  EXPECT_EQ(stats.closedByReason[static_cast<int>(Reason::ProtoState)], 3u);
}

// Voice over the chat connection: handed on with the sender's participant id (the datagram
// says which seat it claims; the relay checks it); sent back to one participant only.
TEST_F(HubTest, VoiceDatagramsGoToTheRelayWithTheirSenderAndBackToOneParticipant) {
  std::vector<std::pair<std::uint32_t, std::vector<std::uint8_t>>> got;
  ChatHubConfig c = config();
  c.onVoice = [&](std::uint32_t id, std::vector<std::uint8_t> d) { got.emplace_back(id, std::move(d)); };
  hub = std::make_unique<ChatHub>(c);
  Client bob = join("bob");
  Client carol = join("carol");
  VoiceDatagram v;
  v.datagram.assign(huddle::wire::kMaxVoiceDatagramBytes, 0x56);  // the largest there may be
  feed(bob, v);
  ASSERT_EQ(got.size(), 1u);
  const std::uint32_t bobId = bob.link->all<Welcome>().at(0).participantId;
  EXPECT_EQ(got[0].first, bobId);
  EXPECT_EQ(got[0].second, v.datagram);
  EXPECT_FALSE(bob.link->closed);
  EXPECT_TRUE(hub->sendVoice(bobId, {1, 2, 3}));
  ASSERT_EQ(bob.link->all<VoiceDatagram>().size(), 1u);
  EXPECT_EQ(bob.link->all<VoiceDatagram>()[0].datagram, (std::vector<std::uint8_t>{1, 2, 3}));
  EXPECT_TRUE(carol.link->all<VoiceDatagram>().empty());
  EXPECT_FALSE(hub->sendVoice(999, {1}));
}

TEST_F(HubTest, FloodOfTinyMessagesIsCutOff) {
  Client good = join("good");
  Client flooder = join("flooder");
  Ping p;
  base::Bytes one = encodeFrame(p);
  base::ByteVec burst;
  for (int i = 0; i < 2000; ++i) burst.insert(burst.end(), one->begin(), one->end());
  hub->receive(flooder.id, burst, now);
  EXPECT_TRUE(flooder.link->closed);
  EXPECT_EQ(flooder.link->reason, Reason::Flood);
  EXPECT_FALSE(good.link->closed);
}

TEST_F(HubTest, ChatOverTheRateIsDroppedWithANotice) {
  Client a = join("a");
  Say s;
  s.text = "spam";
  for (int i = 0; i < 150; ++i) feed(a, s);  // one instant: the burst is 100
  int delivered = 0;
  for (auto& e : a.link->all<ChatEvent>()) delivered += e.text == "spam";
  EXPECT_EQ(delivered, 100);
  EXPECT_EQ(a.link->all<Notice>().size(), 1u);
  EXPECT_FALSE(a.link->closed);
}

TEST_F(HubTest, SilentConnectionsAreDroppedByDeadlines) {
  Client mute;
  mute.id = hub->attach(mute.link, now);
  Client joined = join("j");
  Client partial = join("p");
  Say s;
  s.text = "x";
  base::Bytes f = encodeFrame(s);
  hub->receive(partial.id, std::span<const std::uint8_t>(f->data(), 4), now);
  now += 1'500'000;
  hub->receive(joined.id, base::view(encodeFrame(Pong{})), now);
  hub->tick(now);
  EXPECT_EQ(mute.link->reason, Reason::HandshakeTimeout);
  EXPECT_FALSE(joined.link->closed);
  EXPECT_FALSE(partial.link->closed);
  now += 4'000'000;
  hub->receive(joined.id, base::view(encodeFrame(Pong{})), now);
  hub->tick(now);
  EXPECT_EQ(partial.link->reason, Reason::ProtoStall);
  EXPECT_FALSE(joined.link->closed);
  EXPECT_FALSE(joined.link->all<Ping>().empty());  // the hub keeps the line alive
  now += 6'000'000;
  hub->tick(now);
  EXPECT_EQ(joined.link->reason, Reason::HeartbeatTimeout);
}

TEST_F(HubTest, FramesThatEachEndInTheNextReadAreNotAStall) {
  // A busy peer on a slow link: every read ends part way into the next frame, for longer
  // than the partial-frame deadline, yet each frame comes whole within it.
  Client busy = join("busy");
  Say s;
  s.text = "a line";
  base::Bytes f = encodeFrame(s);
  const std::size_t cut = 4;
  hub->receive(busy.id, std::span<const std::uint8_t>(f->data(), cut), now);
  for (int i = 0; i < 8; ++i) {
    now += 1'000'000;
    base::ByteVec read(f->begin() + long(cut), f->end());
    read.insert(read.end(), f->begin(), f->begin() + long(cut));
    hub->receive(busy.id, read, now);
    hub->tick(now);
    ASSERT_FALSE(busy.link->closed) << "after " << i + 1 << " s: " << int(busy.link->reason);
  }
  // The last one stops part way: that is a stall.
  now += 6'000'000;
  hub->tick(now);
  EXPECT_EQ(busy.link->reason, Reason::ProtoStall);
}

TEST_F(HubTest, LeaveIsAnnouncedAndShutdownSaysGoodbye) {
  Client a = join("a");
  Client b = join("b");
  hub->detach(b.id, Reason::IoEof, "left");
  auto ev = a.link->all<ChatEvent>();
  EXPECT_EQ(ev.back().kind, ChatKind::Leave);
  EXPECT_EQ(ev.back().from, "b");
  EXPECT_EQ(a.link->all<UserList>().back().users.size(), 1u);
  hub->shutdown("The host ended the session.");
  auto ends = a.link->all<SessionEnd>();
  ASSERT_EQ(ends.size(), 1u);
  EXPECT_EQ(ends[0].reason, "The host ended the session.");
  EXPECT_TRUE(a.link->flushed);
  Client late = join("late");
  ASSERT_EQ(late.link->all<Reject>().size(), 1u);
  EXPECT_EQ(late.link->all<Reject>()[0].code, RejectCode::ShuttingDown);
}

TEST_F(HubTest, SessionFullIsRefused) {
  ChatHubConfig c = config();
  c.maxParticipants = 2;
  hub = std::make_unique<ChatHub>(c);
  Client a = join("a");
  Client b = join("b");
  Client d = join("d");
  ASSERT_EQ(d.link->all<Reject>().size(), 1u);
  EXPECT_EQ(d.link->all<Reject>()[0].code, RejectCode::SessionFull);
  EXPECT_FALSE(a.link->closed);
}

// T9: the default room (16, the host included) at cap-1, cap and cap+1.
TEST_F(HubTest, TheDefaultRoomHoldsSixteen) {
  ASSERT_EQ(config().maxParticipants, kDefaultParticipants);
  std::vector<Client> in;
  for (std::size_t i = 0; i + 1 < kDefaultParticipants; ++i) in.push_back(join("p" + std::to_string(i)));
  EXPECT_EQ(hub->users().size(), kDefaultParticipants - 1);
  Client last = join("last");
  EXPECT_EQ(last.link->all<Welcome>().size(), 1u);
  Client over = join("over");
  ASSERT_EQ(over.link->all<Reject>().size(), 1u);
  EXPECT_EQ(over.link->all<Reject>()[0].code, RejectCode::SessionFull);
  EXPECT_EQ(hub->users().size(), kDefaultParticipants);
}

TEST_F(HubTest, KickRemovesByName) {
  Client a = join("a");
  Client b = join("b");
  EXPECT_TRUE(hub->kick("b", ""));
  EXPECT_TRUE(b.link->closed);
  EXPECT_EQ(b.link->reason, Reason::Kicked);
  EXPECT_EQ(b.link->all<SessionEnd>().size(), 1u);
  EXPECT_FALSE(hub->kick("nobody", ""));
  EXPECT_FALSE(a.link->closed);
}

TEST_F(HubTest, KickTakesEffectAtOnceEvenIfThePeerLingers) {
  std::vector<std::uint32_t> left;
  ChatHubConfig c = config();
  c.onLeave = [&](std::uint32_t id) { left.push_back(id); };
  hub = std::make_unique<ChatHub>(c);
  Client a = join("a");
  Client b = join("b");
  const std::uint32_t bId = b.link->all<Welcome>().at(0).participantId;
  ASSERT_TRUE(hub->kick("b", "be nice"));
  // Before b's connection is gone: out of the user list, a told, b's screens closed, and
  // anything b still sends is ignored.
  auto users = hub->users();
  ASSERT_EQ(users.size(), 1u);
  EXPECT_EQ(users[0].name, "a");
  EXPECT_EQ(a.link->all<UserList>().back().users.size(), 1u);
  auto events = a.link->all<ChatEvent>();
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().kind, ChatKind::Leave);
  EXPECT_EQ(left, std::vector<std::uint32_t>{bId});
  EXPECT_EQ(b.link->all<SessionEnd>().at(0).reason, "be nice");
  Say s;
  s.text = "still here?";
  feed(b, s);
  EXPECT_TRUE(a.link->all<ChatEvent>().back().kind == ChatKind::Leave);
  // When the connection finally goes, nothing is announced twice.
  hub->detach(b.id, Reason::IoEof, "gone");
  EXPECT_EQ(left.size(), 1u);
}

// A screen login whose token the chat hub found good an instant before a kick must not outlive
// the kick: the kick's dropParticipant() ran before the login was in the screen hub's table.
TEST_F(HubTest, AScreenLoginCheckedJustBeforeAKickDoesNotSurviveIt) {
  std::unique_ptr<ScreenHub> screens;
  ChatHubConfig c = config();
  c.onLeave = [&](std::uint32_t id) { screens->dropParticipant(id, Reason::IoEof); };
  hub = std::make_unique<ChatHub>(c);
  Client bob = join("bob");
  const std::uint64_t token = bob.link->all<Welcome>().at(0).token;
  int checks = 0;
  screens = std::make_unique<ScreenHub>(
      ScreenHubConfig{},
      [&](std::uint64_t t, ScreenSeat& seat) {
        const bool ok = hub->findByToken(t, seat);
        // The host kicks bob just after his token was found good, before the screen hub admits.
        if (++checks == 1) {
          EXPECT_TRUE(hub->kick("bob", ""));
        }
        return ok;
      },
      [](std::uint32_t, bool) {});
  auto screenLink = std::make_shared<FakeLink>();
  const PeerId screenId = screens->attach(screenLink, now);
  Hello h;
  h.port = PortKind::Screen;
  h.name = "bob";
  h.token = token;
  h.seatProof = seatProof(*bob.link, *screenLink, token);
  screens->receive(screenId, base::view(encodeFrame(h)), now);
  EXPECT_EQ(checks, 2);  // asked again after the leave
  EXPECT_TRUE(screenLink->all<Welcome>().empty());
  EXPECT_EQ(screenLink->all<Reject>().size(), 1u);
  EXPECT_TRUE(screenLink->closed);
}

// The screen port admits a seat only with a proof made over that screen connection's own TLS
// session from the seat key of the chat connection (docs/SECURITY.md s.5): the bare token,
// a proof replayed from another connection, or a plaintext screen connection are refused.
TEST_F(HubTest, AScreenLoginProvesItsSeatOverItsOwnConnection) {
  ScreenHub screens(
      ScreenHubConfig{}, [&](std::uint64_t t, ScreenSeat& seat) { return hub->findByToken(t, seat); },
      [](std::uint32_t, bool) {});
  Client bob = join("bob");
  const std::uint64_t token = bob.link->all<Welcome>().at(0).token;
  auto login = [&](std::uint8_t screenSession, bool tls, std::optional<std::uint8_t> provenOver) {
    auto link = std::make_shared<FakeLink>();
    link->exporterByte = screenSession;
    link->tls = tls;
    const PeerId id = screens.attach(link, now);
    Hello h;
    h.port = PortKind::Screen;
    h.name = "bob";
    h.token = token;
    if (provenOver) {
      FakeLink other;
      other.exporterByte = *provenOver;
      h.seatProof = seatProof(*bob.link, other, token);
    }
    screens.receive(id, base::view(encodeFrame(h)), now);
    return link;
  };
  EXPECT_EQ(login(0x22, true, 0x22)->all<Welcome>().size(), 1u);    // proven over itself
  auto bare = login(0x23, true, std::nullopt);                        // the token alone
  auto replayed = login(0x24, true, 0x22);                            // another connection's proof
  auto plaintext = login(0x25, false, 0x25);                          // no TLS to bind to
  for (auto* link : {bare.get(), replayed.get(), plaintext.get()}) {
    EXPECT_TRUE(link->all<Welcome>().empty());
    ASSERT_EQ(link->all<Reject>().size(), 1u);
    EXPECT_EQ(link->all<Reject>()[0].code, RejectCode::BadHello);
    EXPECT_TRUE(link->closed);
  }
  // A proof made with another seat's key does not open this seat either.
  Client eve = greet("eve", 0x7F00000A, 0, 0x33);
  auto stolen = std::make_shared<FakeLink>();
  stolen->exporterByte = 0x26;
  const PeerId id = screens.attach(stolen, now);
  Hello h;
  h.port = PortKind::Screen;
  h.name = "eve";
  h.token = token;
  h.seatProof = seatProof(*eve.link, *stolen, token);
  screens.receive(id, base::view(encodeFrame(h)), now);
  EXPECT_TRUE(stolen->all<Welcome>().empty());
}

// Join/leave churn (issue: it could flush everyone's history): someone who comes and goes at
// once is seen live, but neither line stays in what a newcomer is replayed.
TEST_F(HubTest, ChurnIsShownLiveButLeavesNoLinesInTheHistory) {
  Client a = join("a");
  Say s;
  s.text = "hello";
  feed(a, s);
  for (int i = 0; i < 3; ++i) {
    Client b = join("b");
    hub->detach(b.id, Reason::IoEof, "gone");
  }
  auto live = a.link->all<ChatEvent>();
  EXPECT_EQ(std::count_if(live.begin(), live.end(), [](const ChatEvent& e) { return e.kind == ChatKind::Leave; }), 3);
  Client c = join("c");
  std::vector<std::string> replayed;
  for (const auto& e : c.link->all<ChatEvent>())
    if (e.flags & ChatEvent::kFlagHistory) replayed.push_back(e.from + ":" + std::to_string(static_cast<int>(e.kind)));
  const std::vector<std::string> expected{"a:" + std::to_string(static_cast<int>(ChatKind::Join)),
                                          "a:" + std::to_string(static_cast<int>(ChatKind::Public))};
  EXPECT_EQ(replayed, expected);
}

TEST_F(HubTest, BanRefusesThatAddressForTheSession) {
  ChatHubConfig c = config();
  c.hostToken = 0x1234;
  hub = std::make_unique<ChatHub>(c);
  Client host = greet("alice", 0x7F000009, 0x1234);
  Client m;
  m.link->ip = 0x0A000005;  // 10.0.0.5
  m.id = hub->attach(m.link, now);
  Hello mh;
  mh.name = "mallory";
  feed(m, mh);
  EXPECT_FALSE(hub->ban("alice", ""));  // the host cannot ban itself
  ASSERT_TRUE(hub->ban("mallory", ""));
  EXPECT_TRUE(m.link->closed);
  // Mallory comes back, under another name, from the same address: refused.
  Client again = greet("not_mallory", 0x0A000005);
  auto rejects = again.link->all<Reject>();
  ASSERT_EQ(rejects.size(), 1u);
  EXPECT_EQ(rejects[0].code, RejectCode::Banned);
  // Someone else is welcome; so is the host's own user, even on the same address.
  Client carol = greet("carol", 0x0A000006);
  EXPECT_EQ(carol.link->all<Welcome>().size(), 1u);
  Client host2 = greet("alice2", 0x0A000005, 0x1234);
  EXPECT_EQ(host2.link->all<Welcome>().size(), 1u);
}

TEST_F(HubTest, HostTokenMarksTheHost) {
  ChatHubConfig c = config();
  c.hostToken = 0xABCDEF;
  hub = std::make_unique<ChatHub>(c);
  Client h = greet("alice", 0x7F000009, 0xABCDEF);
  Client g = join("guest");
  auto users = g.link->all<UserList>().back().users;
  ASSERT_EQ(users.size(), 2u);
  EXPECT_TRUE(users[0].flags & UserInfo::kFlagHost);
  EXPECT_FALSE(users[1].flags & UserInfo::kFlagHost);
}

class PasswordHubTest : public HubTest {
 protected:
  void SetUp() override {
    ChatHubConfig c = config();
    c.passwordRequired = true;
    c.roomKey.fill(0x42);  // K, as the host derived it
    c.hostToken = 0x77;
    hub = std::make_unique<ChatHub>(c);
  }
  // Says Hello and answers the challenge with a proof made from `key` over `exporterByte`.
  Client tryJoin(const std::string& name, std::uint8_t keyByte, std::uint8_t proofExporterByte, std::uint32_t ip = 0x0A000001) {
    Client c;
    c.link->ip = ip;
    c.id = hub->attach(c.link, now);
    Hello h;
    h.name = name;
    feed(c, h);
    EXPECT_EQ(c.link->all<AuthChallenge>().size(), 1u) << name;
    huddle::net::RoomKey key{};
    key.fill(keyByte);
    std::array<std::uint8_t, 32> exporter{};
    exporter.fill(proofExporterByte);
    AuthProofMsg p;
    p.proof = huddle::net::authProof(key, exporter, name);
    feed(c, p);
    return c;
  }
};

TEST_F(PasswordHubTest, TheRightProofJoins) {
  Client c = tryJoin("bob", 0x42, 0x11);
  EXPECT_EQ(c.link->all<Welcome>().size(), 1u);
  EXPECT_FALSE(c.link->closed);
}

TEST_F(PasswordHubTest, WrongRelayedOrMissingProofsGetOneAnswerAfterTheDelay) {
  Client wrong = tryJoin("bob", 0x43, 0x11);          // another password
  Client relayed = tryJoin("eve", 0x42, 0x99);        // right K, another TLS session (a relay)
  // Nothing is said at once: the answer waits for the fixed delay.
  EXPECT_TRUE(wrong.link->all<Reject>().empty());
  now += 100'000;
  hub->tick(now);
  EXPECT_TRUE(wrong.link->all<Reject>().empty());
  now += 200'000;
  hub->tick(now);
  for (Client* c : {&wrong, &relayed}) {
    auto r = c->link->all<Reject>();
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].code, RejectCode::AuthFailed);
    EXPECT_EQ(r[0].text, "wrong password");
    EXPECT_TRUE(c->link->closed);
    EXPECT_TRUE(c->link->all<Welcome>().empty());
  }
  // Anything but a proof after the challenge is a protocol error.
  Client rude = greet("rude", 0x0A000009);
  Say s;
  s.text = "let me in";
  feed(rude, s);
  EXPECT_TRUE(rude.link->closed);
  EXPECT_TRUE(rude.link->all<Welcome>().empty());
}

TEST_F(PasswordHubTest, FiveFailuresLockTheAddressOutButNotOthersOrTheHost) {
  for (int i = 0; i < 5; ++i) tryJoin("guess" + std::to_string(i), 0x50 + static_cast<std::uint8_t>(i), 0x11, 0x0A000002);
  Client locked = greet("again", 0x0A000002);
  auto r = locked.link->all<Reject>();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].code, RejectCode::LockedOut);
  EXPECT_TRUE(locked.link->all<AuthChallenge>().empty());
  // Another address still gets in with the password; the host's own user needs none.
  EXPECT_EQ(tryJoin("carol", 0x42, 0x11, 0x0A000003).link->all<Welcome>().size(), 1u);
  Client host = greet("alice", 0x0A000002, 0x77);
  EXPECT_TRUE(host.link->all<AuthChallenge>().empty());
  EXPECT_EQ(host.link->all<Welcome>().size(), 1u);
}

TEST_F(HubTest, AReconnectWithItsTokenTakesBackTheSeatAndName) {
  Client a = join("a");
  Client b = join("bob");
  const std::uint64_t token = b.link->all<Welcome>().at(0).token;
  // bob's old connection is not known to be dead yet; bob comes back with its token.
  Client again = greet("bob", 0x7F000009, token);
  auto w = again.link->all<Welcome>();
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].name, "bob");  // not bob_2
  EXPECT_TRUE(b.link->closed);
  auto users = hub->users();
  ASSERT_EQ(users.size(), 2u);
  // A stranger with a made-up token is just a newcomer.
  Client stranger = greet("bob", 0x7F000009, token + 2);
  EXPECT_EQ(stranger.link->all<Welcome>().at(0).name, "bob_2");
  EXPECT_FALSE(again.link->closed);
}

TEST_F(PasswordHubTest, ANewPasswordKeepsEveryoneHereAndOnlyItAdmitsNewcomers) {
  Client bob = tryJoin("bob", 0x42, 0x11);
  const std::uint64_t bobToken = bob.link->all<Welcome>().at(0).token;
  Client midway = greet("mid", 0x0A000007);  // challenged for the old password...
  ASSERT_EQ(midway.link->all<AuthChallenge>().size(), 1u);
  huddle::net::KdfParams kdf;
  kdf.salt.fill(0x05);
  huddle::net::RoomKey next{};
  next.fill(0x60);
  hub->setRoomKey(true, kdf, next);
  {
    // ...and answering after the change: told so at once, not counted against its address.
    huddle::net::RoomKey oldKey{};
    oldKey.fill(0x42);
    std::array<std::uint8_t, 32> exporter{};
    exporter.fill(0x11);
    AuthProofMsg p;
    p.proof = huddle::net::authProof(oldKey, exporter, "mid");
    feed(midway, p);
    auto r = midway.link->all<Reject>();
    ASSERT_EQ(r.size(), 1u);
    EXPECT_NE(r[0].text.find("changed"), std::string::npos) << r[0].text;
  }
  EXPECT_FALSE(bob.link->closed);
  EXPECT_EQ(hub->users().size(), 1u);
  // The challenge carries the new salt; the old key no longer opens the door.
  Client old = tryJoin("carol", 0x42, 0x11, 0x0A000004);
  EXPECT_EQ(old.link->all<AuthChallenge>().at(0).salt, kdf.salt);
  now += 300'000;
  hub->tick(now);
  EXPECT_EQ(old.link->all<Reject>().at(0).code, RejectCode::AuthFailed);
  EXPECT_EQ(tryJoin("dave", 0x60, 0x11, 0x0A000005).link->all<Welcome>().size(), 1u);
  // bob, still seated, comes back over a new connection: its token is proof enough.
  Client again = greet("bob", 0x0A000001, bobToken);
  EXPECT_TRUE(again.link->all<AuthChallenge>().empty());
  ASSERT_EQ(again.link->all<Welcome>().size(), 1u);
  EXPECT_EQ(again.link->all<Welcome>()[0].name, "bob");
  // With the password removed anyone may come in.
  hub->setRoomKey(false, {}, {});
  Client eve = greet("eve", 0x0A000006);
  EXPECT_EQ(eve.link->all<Welcome>().size(), 1u);
}

TEST_F(PasswordHubTest, LockoutsAreRememberedForABoundedNumberOfAddresses) {
  ChatHubConfig c = config();
  c.passwordRequired = true;
  c.roomKey.fill(0x42);
  c.maxAuthFailures = 1;
  c.maxLockoutEntries = 4;
  hub = std::make_unique<ChatHub>(c);
  for (std::uint32_t i = 0; i < 4; ++i) tryJoin("g" + std::to_string(i), 0x50, 0x11, 0x0A000100 + i);
  // All four are locked out now; a fifth address's failure still counts: the entry that failed
  // longest ago makes room for it.
  tryJoin("g4", 0x50, 0x11, 0x0A000104);
  auto lockedOut = [&](std::uint32_t ip) {
    Client k = greet("again", ip);
    auto r = k.link->all<Reject>();
    return !r.empty() && r[0].code == RejectCode::LockedOut;
  };
  EXPECT_TRUE(lockedOut(0x0A000104));
  EXPECT_TRUE(lockedOut(0x0A000101));
  EXPECT_TRUE(lockedOut(0x0A000103));
  EXPECT_FALSE(lockedOut(0x0A000100));  // forgotten: the table stays at its bound
}

// Connections that never finish their handshake (slowloris) cannot keep others out.
TEST_F(HubTest, UnfinishedHandshakesAreCappedAndTheHeaviestOrStalledMakeRoom) {
  ChatHubConfig c = config();
  c.guard.handshakeTimeoutUs = 60'000'000;  // only the caps act here
  c.guard.maxPending = 5;
  c.guard.maxPendingPerAddress = 3;
  c.guard.pendingGraceUs = 2'000'000;
  hub = std::make_unique<ChatHub>(c);
  auto arrive = [&](std::uint32_t ip) {
    Client s;
    s.link->ip = ip;
    s.id = hub->attach(s.link, now);
    return s;
  };
  auto gone = [&](Client& s) { hub->detach(s.id, s.link->reason, ""); };
  const std::uint32_t A = 0x0A000001, B = 0x0A000002, C = 0x0A000003, D = 0x0A000004;
  // One address: cap-1 and cap are let in, cap+1 is refused.
  Client a1 = arrive(A), a2 = arrive(A), a3 = arrive(A), a4 = arrive(A);
  for (Client* s : {&a1, &a2, &a3}) EXPECT_FALSE(s->link->closed);
  EXPECT_EQ(a4.link->reason, Reason::Busy);
  gone(a4);
  // The set fills up; a newcomer from elsewhere evicts the oldest of the address holding most.
  Client b1 = arrive(B), c1 = arrive(C);
  Client d1 = arrive(D);
  EXPECT_EQ(a1.link->reason, Reason::Evicted);
  EXPECT_FALSE(d1.link->closed);
  gone(a1);
  // A newcomer from the heaviest address itself is refused instead.
  Client a5 = arrive(A);
  EXPECT_EQ(a5.link->reason, Reason::Busy);
  gone(a5);
  // Once they have stalled, the oldest stalled one makes room for anyone.
  now += 2'000'000;
  Client carol = join("carol");
  EXPECT_EQ(a2.link->reason, Reason::Evicted);
  EXPECT_EQ(carol.link->all<Welcome>().size(), 1u);
  gone(a2);
  for (Client* s : {&a3, &b1, &c1, &d1}) EXPECT_FALSE(s->link->closed);
  auto st = hub->stats();
  EXPECT_EQ(st.participants, 1u);
  EXPECT_EQ(st.pending, 4u);
  EXPECT_EQ(st.closedByReason[static_cast<std::size_t>(Reason::Busy)], 2u);
  EXPECT_EQ(st.closedByReason[static_cast<std::size_t>(Reason::Evicted)], 2u);
}

TEST_F(PasswordHubTest, ManyFailuresFromEverywhereSlowEveryAnswerDown) {
  ChatHubConfig c = config();
  c.passwordRequired = true;
  c.roomKey.fill(0x42);
  c.busyFailuresPerMinute = 3;
  c.guard.handshakeTimeoutUs = wire::kHandshakeTimeoutUs;  // the slowed answers come well within it
  hub = std::make_unique<ChatHub>(c);
  std::vector<Client> calm;
  for (std::uint32_t i = 0; i < 3; ++i) calm.push_back(tryJoin("g" + std::to_string(i), 0x50, 0x11, 0x0A000200 + i));
  Client busy = tryJoin("g3", 0x50, 0x11, 0x0A000210);
  now += 300'000;
  hub->tick(now);
  for (auto& k : calm) EXPECT_EQ(k.link->all<Reject>().size(), 1u);
  EXPECT_TRUE(busy.link->all<Reject>().empty()) << "the fourth failure in a minute waits longer";
  now += 2'000'000;
  hub->tick(now);
  ASSERT_EQ(busy.link->all<Reject>().size(), 1u);
  EXPECT_EQ(busy.link->all<Reject>()[0].code, RejectCode::AuthFailed);
  // While the limiter is active a right proof is answered exactly as late as a wrong one, so a
  // guesser learns nothing sooner from a success.
  Client wrong = tryJoin("g5", 0x50, 0x11, 0x0A000211);
  Client carol = tryJoin("carol", 0x42, 0x11, 0x0A000220);
  now += c.authFailureDelayUs + c.busyFailureExtraDelayUs - 1;
  hub->tick(now);
  EXPECT_TRUE(wrong.link->all<Reject>().empty());
  EXPECT_TRUE(carol.link->all<Welcome>().empty());
  now += 1;
  hub->tick(now);
  EXPECT_EQ(wrong.link->all<Reject>().size(), 1u);
  ASSERT_EQ(carol.link->all<Welcome>().size(), 1u);
  // Admitted by the watchdog: carol's reader takes her chat with the admitted limits.
  Say s;
  s.text = std::string(2000, 'x');  // over the pre-admission frame cap
  feed(carol, s);
  EXPECT_FALSE(carol.link->closed);
  EXPECT_EQ(carol.link->all<ChatEvent>().back().text, s.text);
}
