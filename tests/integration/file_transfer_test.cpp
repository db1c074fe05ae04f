// Files in the chat between session controllers on loopback (a HostController and
// JoinControllers, real connections, a fake clock for the controllers): a large file to three
// receivers while a screen streams, an offer to one person declined then taken, and the bad
// cases with a scripted sender speaking the file messages itself (a hash that does not match,
// a sender who vanishes); and, with the huddle binary as the host, a receive cut by the host
// being killed and restarted that goes on from where it stopped. Every wait is bounded.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <random>
#include <regex>
#include <thread>

#include "app/session/host_controller.h"
#include "app/session/join_controller.h"
#include "app/session/trust.h"
#include "net/wire/file_messages.h"
#include "tests/integration/controller_support.h"
#include "tests/integration/test_support.h"
#include "tests/support/file_sender.h"
#include "tests/support/free_port.h"
#include "tests/support/host_output.h"
#include "tests/support/subprocess.h"

namespace huddle::session {
namespace {

namespace fs = std::filesystem;
using test::TempConfig;
using namespace huddle::session::testing;
using test::ScriptedSender;
using test::scriptedSender;

// Deterministic bytes of `size`, written to `path`.
std::vector<std::uint8_t> writeRandomFile(const std::string& path, std::size_t size, std::uint32_t seed) {
  std::vector<std::uint8_t> data(size);
  std::mt19937 rng(seed);
  for (std::size_t i = 0; i + 4 <= size; i += 4) {
    const std::uint32_t v = rng();
    std::memcpy(&data[i], &v, 4);
  }
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(size));
  return data;
}

std::vector<std::uint8_t> readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<std::uint8_t>(std::istreambuf_iterator<char>(in), {});
}

wire::Sha256 sha256Of(const std::vector<std::uint8_t>& data) {
  wire::Sha256 out{};
  unsigned len = 0;
  EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr);
  return out;
}

std::vector<std::string> namesIn(const std::string& dir) {
  std::vector<std::string> v;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) v.push_back(e.path().filename().string());
  std::sort(v.begin(), v.end());
  return v;
}

// How many of this process's descriptors are open on `path`.
int openDescriptorsOf(const std::string& path) {
  int n = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc/self/fd", ec)) {
    std::error_code lec;
    n += fs::read_symlink(e.path(), lec) == fs::path(path);
  }
  return n;
}

// The newest offer of that name to `c` (null if none).
const IncomingFile* incomingNamed(const SessionController& c, const std::string& name) {
  static thread_local std::vector<IncomingFile> keep;
  keep = c.incomingFiles();
  const IncomingFile* found = nullptr;
  for (const auto& f : keep)
    if (f.name == name) found = &f;
  return found;
}

bool received(const SessionController& c, const std::string& name) {
  const IncomingFile* f = incomingNamed(c, name);
  return f && f->state == IncomingFile::State::Done;
}

TEST(Files, ALargeFileReachesThreeReceiversWhileAScreenStreams) {
  TempConfig cfg;
  FakeClock clock;
  HostController host(anyPorts("alice"), cfg.env("alice"));
  ASSERT_TRUE(host.start(clock.nowUs)) << host.state().status;
  ShareSpec scene;
  scene.source = "scene";
  scene.sceneWidthPx = 320;
  scene.sceneHeightPx = 192;
  scene.sceneMotion = "full";
  scene.settings.fps = 20;
  host.shareWhenJoined(scene);
  std::vector<std::unique_ptr<JoinController>> people;
  std::vector<SessionController*> all{&host};
  for (const char* name : {"bob", "carol", "dave"}) {
    JoinRequest r;
    r.address = loopbackLink(host);
    r.name = name;
    people.push_back(std::make_unique<JoinController>(r, cfg.env(name)));
    people.back()->acceptFilesInto(cfg.root + "/" + name + "/in");
    people.back()->watchWhenShared();
    people.back()->start(clock.nowUs);
    all.push_back(people.back().get());
  }
  // Everyone watches the stream and has had an image.
  auto updates = [&](JoinController& p) -> std::uint64_t {
    const auto ids = p.watchedStreams();
    auto v = ids.empty() ? nullptr : p.view(ids.front());
    return v ? v->updatesApplied() : 0;
  };
  ASSERT_TRUE(tickUntil(clock, all, [&] {
    for (auto& p : people)
      if (updates(*p) == 0) return false;
    return true;
  })) << allLines(*people[0]);

  // 200 MiB, as the issue asks; under the sanitizers (several times slower) 32 MiB, which still
  // crosses each receiver's window hundreds of times.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  const std::size_t size = 32u << 20;
#else
  const std::size_t size = 200u << 20;
#endif
  const std::string path = cfg.root + "/big.bin";
  const auto data = writeRandomFile(path, size, 14);
  std::vector<std::uint64_t> before;
  for (auto& p : people) before.push_back(updates(*p));
  host.submitLine("/send " + path);
  std::size_t maxInFlight = 0;
  ASSERT_TRUE(tickUntil(clock, all, [&] {
    maxInFlight = std::max(maxInFlight, host.hostSession()->chatHub().fileStats().piecesInFlight);
    for (auto& p : people)
      if (!received(*p, "big.bin")) return false;
    return true;
  }, 180'000)) << allLines(host) << allLines(*people[0]);
  for (auto& p : people) {
    const IncomingFile* f = incomingNamed(*p, "big.bin");
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(f->path, cfg.root + "/" + p->state().selfName + "/in/big.bin");
    EXPECT_TRUE(readFile(f->path) == data) << p->state().selfName;
    // Only the file: no .part left behind.
    EXPECT_EQ(namesIn(cfg.root + "/" + p->state().selfName + "/in"), std::vector<std::string>{"big.bin"});
    EXPECT_TRUE(hasLine(*p, "alice offers big.bin (" + std::to_string(size >> 20) + ".0 MiB)")) << allLines(*p);
  }
  // The sender sees who took it.
  ASSERT_TRUE(tickUntil(clock, all, [&] {
    return hasLine(host, "bob received big.bin") && hasLine(host, "carol received big.bin") &&
           hasLine(host, "dave received big.bin");
  })) << allLines(host);
  // The host never held more than each receiver's credit.
  EXPECT_LE(maxInFlight, 3 * wire::kFileWindowChunks);
  // The screen went on streaming to every viewer while the file went.
  for (std::size_t i = 0; i < people.size(); ++i) EXPECT_GT(updates(*people[i]), before[i]) << i;
  for (auto& p : people) p->leave();
  host.leave();
}

TEST(Files, AnOfferToOnePersonIsDeclinedThenTakenAndTheSenderSeesBoth) {
  TempConfig cfg;
  FakeClock clock;
  HostController host(anyPorts("alice"), cfg.env("alice"));
  ASSERT_TRUE(host.start(clock.nowUs)) << host.state().status;
  JoinRequest rb, rc;
  rb.address = rc.address = loopbackLink(host);
  rb.name = "bob";
  rc.name = "carol";
  JoinController bob(rb, cfg.env("bob")), carol(rc, cfg.env("carol"));
  bob.start(clock.nowUs);
  carol.start(clock.nowUs);
  std::vector<SessionController*> all{&host, &bob, &carol};
  ASSERT_TRUE(tickUntil(clock, all, [&] { return host.chat().users().size() == 3; }));
  const std::string path = cfg.root + "/notes.txt";
  writeRandomFile(path, 100'000, 1);
  host.submitLine("/send " + path + " bob");
  // The offer is a line of its own in bob's chat (the window puts buttons on it), added on the
  // tick after the offer itself is known.
  auto offerLine = [&] {
    for (const auto& l : bob.chat().lines())
      if (l.fileOffer != 0) return true;
    return false;
  };
  ASSERT_TRUE(tickUntil(clock, all, [&] { return incomingNamed(bob, "notes.txt") != nullptr && offerLine(); }))
      << allLines(bob);
  bob.declineFile(incomingNamed(bob, "notes.txt")->id);
  ASSERT_TRUE(tickUntil(clock, all, [&] { return hasLine(host, "bob declined notes.txt"); })) << allLines(host);
  EXPECT_EQ(incomingNamed(carol, "notes.txt"), nullptr);  // meant for bob only

  host.submitLine("/send " + path + " bob");
  ASSERT_TRUE(tickUntil(clock, all, [&] {
    const IncomingFile* f = incomingNamed(bob, "notes.txt");
    return f && f->state == IncomingFile::State::Offered;
  }));
  const std::string dir = cfg.root + "/bob/downloads";
  fs::create_directories(dir);
  writeRandomFile(dir + "/notes.txt", 10, 2);  // a file of that name is already there
  ASSERT_TRUE(bob.acceptFile(incomingNamed(bob, "notes.txt")->id, dir));
  ASSERT_TRUE(tickUntil(clock, all, [&] { return received(bob, "notes.txt") && hasLine(host, "bob received notes.txt"); }))
      << allLines(bob) << allLines(host);
  EXPECT_EQ(incomingNamed(bob, "notes.txt")->path, dir + "/notes (2).txt");
  EXPECT_EQ(readFile(dir + "/notes (2).txt"), readFile(path));
  EXPECT_EQ(readFile(dir + "/notes.txt").size(), 10u);  // untouched
  // Typed wrong: said, nothing offered.
  host.submitLine("/send " + cfg.root + "/no-such-file");
  EXPECT_TRUE(hasLine(host, "Cannot send")) << allLines(host);
  bob.leave();
  carol.leave();
  host.leave();
}

// A receiver who leaves part-way costs the others nothing: pieces it had asked for that the
// sender sends after it left are dropped by the host (not taken for a broken stream that would
// cut the sender off), and the other receiver gets the whole file.
TEST(Files, AReceiverWhoLeavesPartWayCostsTheSenderAndTheOthersNothing) {
  TempConfig cfg;
  FakeClock clock;
  HostController host(anyPorts("alice"), cfg.env("alice"));
  ASSERT_TRUE(host.start(clock.nowUs)) << host.state().status;
  std::vector<std::unique_ptr<JoinController>> people;
  std::vector<SessionController*> all{&host};
  for (const char* name : {"bob", "carol"}) {
    JoinRequest r;
    r.address = loopbackLink(host);
    r.name = name;
    people.push_back(std::make_unique<JoinController>(r, cfg.env(name)));
    people.back()->acceptFilesInto(cfg.root + "/" + name + "/in");
    people.back()->start(clock.nowUs);
    all.push_back(people.back().get());
  }
  JoinController &bob = *people[0], &carol = *people[1];
  auto dave = scriptedSender(loopbackLink(host), "dave");
  ASSERT_TRUE(tickUntil(clock, all, [&] { return dave->joined() && host.chat().users().size() == 4; }));
  dave->data.resize(2u << 20);
  for (std::size_t i = 0; i < dave->data.size(); ++i) dave->data[i] = static_cast<std::uint8_t>(i * 7 + i / 4096);
  std::uint32_t carolId = 0;
  for (const auto& u : host.chat().users())
    if (u.name == "carol") carolId = u.id;
  ASSERT_NE(carolId, 0u);
  dave->holdFor = carolId;
  dave->offer(1, "big.bin", sha256Of(dave->data));
  ASSERT_TRUE(tickUntil(clock, all, [&] { return dave->heldCount() > 0; })) << allLines(carol);
  carol.leave();
  all.pop_back();
  ASSERT_TRUE(tickUntil(clock, all, [&] { return host.chat().users().size() == 3; }));
  ASSERT_GT(dave->releaseHeld(), 0u);  // carol's pieces, after she left
  ASSERT_TRUE(tickUntil(clock, all, [&] { return received(bob, "big.bin"); }, 60'000)) << allLines(bob);
  EXPECT_TRUE(readFile(incomingNamed(bob, "big.bin")->path) == dave->data);
  EXPECT_TRUE(dave->joined()) << "the sender was cut off";
  dave->leave();
  bob.leave();
  host.leave();
}

// A file offered to one person is for their seat (the token the host gave them), not their
// name: it reaches them again through a reconnect, even one the host saw as a leave, and never
// whoever takes the name after they left.
TEST(Files, AnOfferToOnePersonFollowsTheirSeatNotTheirName) {
  TempConfig cfg;
  FakeClock clock;
  HostController host(anyPorts("alice"), cfg.env("alice"));
  ASSERT_TRUE(host.start(clock.nowUs)) << host.state().status;
  const std::string path = cfg.root + "/private.bin";
  writeRandomFile(path, 100'000, 9);
  auto bob = scriptedSender(loopbackLink(host), "bob");
  ASSERT_TRUE(tickUntil(clock, {&host}, [&] { return bob->joined() && host.chat().users().size() == 2; }));
  ASSERT_TRUE(host.sendFile(path, "bob"));
  ASSERT_TRUE(tickUntil(clock, {&host}, [&] { return bob->offered.load() == 1; })) << allLines(host);
  // Bob's connection replaced by a reconnect that shows his token: offered to him again.
  auto bob2 = scriptedSender(loopbackLink(host), "bob", bob->client.token());
  ASSERT_TRUE(tickUntil(clock, {&host}, [&] { return bob2->joined() && bob2->offered.load() == 1; }));
  bob->leave();
  // Bob goes; someone else takes the name "bob": not told of it (what reaches it after the
  // host's line would have come before it).
  const std::uint64_t seat = bob2->client.token();
  bob2->leave();
  ASSERT_TRUE(tickUntil(clock, {&host}, [&] { return host.chat().users().size() == 1; }));
  auto mallory = scriptedSender(loopbackLink(host), "bob");
  ASSERT_TRUE(tickUntil(clock, {&host}, [&] { return mallory->joined() && host.chat().users().size() == 2; }));
  host.submitLine("welcome");
  ASSERT_TRUE(tickUntil(clock, {&host}, [&] {
    mallory->joined();
    return std::find(mallory->heard.begin(), mallory->heard.end(), "welcome") != mallory->heard.end();
  }));
  EXPECT_EQ(mallory->offered.load(), 0);
  mallory->leave();
  ASSERT_TRUE(tickUntil(clock, {&host}, [&] { return host.chat().users().size() == 1; }));
  // Bob back on his seat after the host had seen him go: his again.
  auto bob3 = scriptedSender(loopbackLink(host), "bob", seat);
  ASSERT_TRUE(tickUntil(clock, {&host}, [&] { return bob3->joined() && bob3->offered.load() == 1; }));
  bob3->leave();
  host.leave();
}

TEST(Files, AFileWhoseHashDoesNotMatchIsNotKept) {
  TempConfig cfg;
  FakeClock clock;
  HostController host(anyPorts("alice"), cfg.env("alice"));
  ASSERT_TRUE(host.start(clock.nowUs)) << host.state().status;
  const std::string dir = cfg.root + "/alice/in";
  host.acceptFilesInto(dir);
  auto mallory = scriptedSender(loopbackLink(host), "mallory");
  // The host's own seat too: an offer made while the sender is alone is refused (nobody to take it).
  ASSERT_TRUE(tickUntil(clock, {&host}, [&] { return mallory->joined() && host.chat().users().size() == 2; }));
  mallory->data.assign(3 * wire::kFileChunkBytes + 5, 0x42);
  mallory->corrupt = true;  // the pieces do not add up to the announced hash
  mallory->offer(1, "payload.bin", sha256Of(mallory->data));
  // The failure's line is logged at the controller's next tick: a failure seen between a tick
  // and this look has none yet.
  ASSERT_TRUE(tickUntil(clock, {&host}, [&] {
    const IncomingFile* f = incomingNamed(host, "payload.bin");
    return f && f->state == IncomingFile::State::Failed && hasLine(host, "Could not receive payload.bin");
  })) << allLines(host);
  EXPECT_NE(incomingNamed(host, "payload.bin")->error.find("SHA-256 does not match"), std::string::npos);
  EXPECT_TRUE(namesIn(dir).empty());  // neither the file nor its .part

  // A name with a path in it never reaches anyone (the host refuses it).
  mallory->corrupt = false;
  mallory->offer(2, "../../escape.bin", sha256Of(mallory->data));
  mallory->offer(3, "fine.bin", sha256Of(mallory->data));
  ASSERT_TRUE(tickUntil(clock, {&host}, [&] { return received(host, "fine.bin"); })) << allLines(host);
  EXPECT_EQ(incomingNamed(host, "../../escape.bin"), nullptr);
  EXPECT_EQ(namesIn(dir), std::vector<std::string>{"fine.bin"});
  EXPECT_FALSE(fs::exists(cfg.root + "/escape.bin"));
  mallory->leave();
  host.leave();
}

// bob receives half.bin from mallory, who leaves after two pieces of ten: bob's receive is
// paused, its .part kept.
struct PausedHalfReceive {
  TempConfig cfg;
  FakeClock clock;
  HostController host{anyPorts("alice"), cfg.env("alice")};
  const std::string dir = cfg.root + "/bob/in";
  std::unique_ptr<JoinController> bob;

  void run() {
    ASSERT_TRUE(host.start(clock.nowUs)) << host.state().status;
    JoinRequest r;
    r.address = loopbackLink(host);
    r.name = "bob";
    bob = std::make_unique<JoinController>(r, cfg.env("bob"));
    bob->acceptFilesInto(dir);
    bob->start(clock.nowUs);
    auto mallory = scriptedSender(loopbackLink(host), "mallory");
    ASSERT_TRUE(tickUntil(clock, {&host, bob.get()}, [&] { return mallory->joined() && host.chat().users().size() == 3; }));
    mallory->data.assign(10 * wire::kFileChunkBytes, 0x17);
    mallory->serveBelow = 2 * wire::kFileChunkBytes;  // two pieces, then silence
    mallory->offer(1, "half.bin", sha256Of(mallory->data));
    ASSERT_TRUE(tickUntil(clock, {&host, bob.get()}, [&] {
      const IncomingFile* f = incomingNamed(*bob, "half.bin");
      return f && f->received == 2 * wire::kFileChunkBytes;
    })) << allLines(*bob);
    mallory->leave();
    ASSERT_TRUE(tickUntil(clock, {&host, bob.get()}, [&] {
      const IncomingFile* f = incomingNamed(*bob, "half.bin");
      return f && f->state == IncomingFile::State::Paused;
    })) << allLines(*bob);
  }
  // Never offered again: the pause's limit passes.
  void expire() {
    bob->tick(clock.nowUs);
    clock.nowUs += FileTransfers::kPausedReceiveExpiryUs;
    bob->tick(clock.nowUs);
  }
  ~PausedHalfReceive() {
    if (bob) bob->leave();
    host.leave();
  }
};

TEST(Files, ASenderWhoVanishesLeavesNothingThatLooksFinished) {
  PausedHalfReceive p;
  ASSERT_NO_FATAL_FAILURE(p.run());
  EXPECT_TRUE(hasLine(*p.bob, "half.bin stopped at 20% (mallory left)")) << allLines(*p.bob);
  // Only the hidden part, never the final name.
  EXPECT_EQ(namesIn(p.dir), std::vector<std::string>{".half.bin.part"});
  // Paused, it holds no descriptor (bob runs in this process: none of ours points at it).
  EXPECT_EQ(openDescriptorsOf(p.dir + "/.half.bin.part"), 0);
  // Never offered again: given up after the pause's limit, its .part removed.
  p.bob->tick(p.clock.nowUs);
  p.clock.nowUs += FileTransfers::kPausedReceiveExpiryUs - 1;
  p.bob->tick(p.clock.nowUs);
  EXPECT_EQ(incomingNamed(*p.bob, "half.bin")->state, IncomingFile::State::Paused);
  p.clock.nowUs += 1;
  p.bob->tick(p.clock.nowUs);
  EXPECT_EQ(incomingNamed(*p.bob, "half.bin")->state, IncomingFile::State::Failed);
  EXPECT_TRUE(hasLine(*p.bob, "Gave up half.bin: it was paused for 10 minutes")) << allLines(*p.bob);
  EXPECT_TRUE(namesIn(p.dir).empty());
  p.bob->leave();
  p.host.leave();
  p.bob.reset();  // its connection's last reference goes with its teardown
  ASSERT_TRUE(test::waitFor([&] { return namesIn(p.dir).empty(); }, 5000)) << namesIn(p.dir).size();
}

// While it waited, the user put a file of their own at the .part's name: giving up removes
// only the part Huddle made, never what is there now.
TEST(Files, GivingUpAPausedReceiveLeavesAFilePutInItsPlace) {
  PausedHalfReceive p;
  ASSERT_NO_FATAL_FAILURE(p.run());
  const std::string part = p.dir + "/.half.bin.part";
  ASSERT_TRUE(fs::exists(part));
  {
    std::ofstream theirs(p.dir + "/theirs");
    theirs << "the user's own";
  }
  fs::rename(p.dir + "/theirs", part);  // replaces the .part (a new inode)
  p.expire();
  EXPECT_EQ(incomingNamed(*p.bob, "half.bin")->state, IncomingFile::State::Failed);
  ASSERT_TRUE(fs::exists(part));
  std::ifstream kept(part);
  std::string text((std::istreambuf_iterator<char>(kept)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "the user's own");
}

// The huddle binary hosts; bob (a controller) receives from a scripted sender, which stops
// answering halfway. The host is killed and started again on the same port; both come back,
// the file is offered again, and bob goes on from where it stopped: nothing before that is
// asked for again, and the whole file's SHA-256 matches.
TEST(Files, AReceiveCutByAHostRestartGoesOnFromWhereItStopped) {
  TempConfig cfg;
  FakeClock clock;
  const std::string hostConfig = "XDG_CONFIG_HOME=" + cfg.root + "/host";
  auto startHost = [&](const std::string& port) {
    auto h = std::make_unique<test::Subprocess>(
        std::vector<std::string>{HUDDLE_BINARY, "--host", "--headless", "--name", "alice", "--chat-port", port,
                                 "--screen-port", "0", "--voice-port", "0"},
        std::vector<std::string>{hostConfig});
    EXPECT_TRUE(h->waitForOutput("Ctrl+C ends the session", 10000)) << h->output();
    return h;
  };
  // The host comes back on the same port: one no other test's connection can take meanwhile.
  const std::string port = std::to_string(test::portOutsideEphemeralRange());
  auto host = startHost(port);
  const std::string invite = test::loopbackInvite(host->output());
  JoinRequest r;
  r.address = invite;
  r.name = "bob";
  const std::string dir = cfg.root + "/bob/in";
  JoinController bob(r, cfg.env("bob"));
  bob.acceptFilesInto(dir);
  bob.start(clock.nowUs);
  std::vector<std::uint8_t> data(12 * wire::kFileChunkBytes + 777);
  std::mt19937 rng(5);
  for (auto& b : data) b = static_cast<std::uint8_t>(rng());
  const auto sha = sha256Of(data);
  const std::uint64_t cut = 5 * wire::kFileChunkBytes;
  auto sam = scriptedSender(invite, "sam");
  sam->data = data;
  sam->serveBelow = cut;
  ASSERT_TRUE(tickUntil(clock, {&bob}, [&] { return sam->joined() && bob.state().phase == Phase::InSession; }));
  sam->offer(1, "resume.bin", sha);
  ASSERT_TRUE(tickUntil(clock, {&bob}, [&] {
    const IncomingFile* f = incomingNamed(bob, "resume.bin");
    return f && f->received == cut;
  })) << allLines(bob);

  host->signal(SIGKILL);
  host->wait(5000);
  host = startHost(port);
  ASSERT_TRUE(tickUntil(clock, {&bob}, [&] {
    const IncomingFile* f = incomingNamed(bob, "resume.bin");
    return f && f->state == IncomingFile::State::Paused && bob.state().phase == Phase::InSession;
  }, 30'000)) << allLines(bob);
  EXPECT_EQ(namesIn(dir), std::vector<std::string>{".resume.bin.part"});
  // The sender is back too (a new connection) and offers the same file again.
  auto sam2 = scriptedSender(invite, "sam");
  sam2->data = data;
  ASSERT_TRUE(tickUntil(clock, {&bob}, [&] { return sam2->joined(); }));
  sam2->offer(1, "resume.bin", sha);
  ASSERT_TRUE(tickUntil(clock, {&bob}, [&] { return received(bob, "resume.bin"); }, 30'000)) << allLines(bob);
  EXPECT_EQ(sam2->lowestAsked.load(), cut);  // nothing before the cut was asked for again
  EXPECT_TRUE(readFile(dir + "/resume.bin") == data);
  EXPECT_EQ(namesIn(dir), std::vector<std::string>{"resume.bin"});
  EXPECT_TRUE(hasLine(bob, "Resuming resume.bin from 41%")) << allLines(bob);
  sam->leave();
  sam2->leave();
  bob.leave();
  host->signal(SIGTERM);
  host->wait(5000);
}


// The terminal faces as a script uses them: a headless receiver with --accept-files takes the
// file a headless sender offers with /send; the sender is told, and with its stdin closed
// it stays until the file is taken.
TEST(Files, TheTerminalSendsWithSlashSendAndTakesWithAcceptFiles) {
  TempConfig cfg;
  test::Subprocess host({HUDDLE_BINARY, "--host", "--headless", "--name", "alice", "--chat-port", "0", "--screen-port",
                         "0", "--voice-port", "0", "--max-file-size", "1M"},
                        {"XDG_CONFIG_HOME=" + cfg.root + "/host"});
  ASSERT_TRUE(host.waitForOutput("Ctrl+C ends the session", 10000)) << host.output();
  const std::string invite = test::loopbackInvite(host.output());
  const std::string dir = cfg.root + "/carol-in";
  test::Subprocess carol({HUDDLE_BINARY, "--join", invite, "--headless", "--name", "carol", "--accept-files", dir},
                         {"XDG_CONFIG_HOME=" + cfg.root + "/carol"});
  test::Subprocess bob({HUDDLE_BINARY, "--join", invite, "--headless", "--name", "bob"},
                       {"XDG_CONFIG_HOME=" + cfg.root + "/bob"});
  ASSERT_TRUE(carol.waitForOutput(" as carol.", 10000)) << carol.output();
  ASSERT_TRUE(bob.waitForOutput(" as bob.", 10000)) << bob.output();
  const std::string path = cfg.root + "/report.pdf";
  const auto data = writeRandomFile(path, 300'000, 3);
  writeRandomFile(cfg.root + "/huge.bin", 2'000'000, 4);
  bob.writeLine("/send " + cfg.root + "/huge.bin");  // over the host's 1 MiB cap
  bob.writeLine("/send " + path);
  bob.closeStdin();
  ASSERT_TRUE(bob.waitForOutput("carol received report.pdf", 10000)) << bob.output();
  EXPECT_NE(bob.output().find("the host takes files up to 1 MiB"), std::string::npos) << bob.output();
  ASSERT_TRUE(carol.waitForOutput("Received report.pdf from bob", 10000)) << carol.output();
  EXPECT_TRUE(readFile(dir + "/report.pdf") == data);
  EXPECT_EQ(namesIn(dir), std::vector<std::string>{"report.pdf"});
  EXPECT_EQ(bob.wait(10000), 0) << bob.output();  // left by itself once it was taken
  carol.closeStdin();
  EXPECT_EQ(carol.wait(10000), 0) << carol.output();
}

}  // namespace
}  // namespace huddle::session
