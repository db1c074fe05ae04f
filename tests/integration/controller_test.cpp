// The session controllers without a window: a HostController and JoinControllers on
// loopback, driven by tick() with a fake clock (the controllers never read one), so the
// trust answers, the outbox, leaving and the reconnect backoff are checked step by step.
// Real connections underneath; every wait is bounded.
#include <gtest/gtest.h>

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <regex>
#include <thread>

#include "app/session/host_controller.h"
#include "app/session/join_controller.h"
#include "tests/integration/controller_support.h"
#include "tests/integration/test_support.h"
#include "tests/support/free_port.h"
#include "tests/support/host_output.h"
#include "tests/support/subprocess.h"

namespace huddle::session {
namespace {

using test::TempConfig;
using namespace huddle::session::testing;

// What `name` asks to join `host` with: its loopback invite link.
JoinRequest inviteTo(const HostController& host, const std::string& name) {
  JoinRequest r;
  r.address = loopbackLink(host);
  r.name = name;
  return r;
}

// The test scene, small and slow: cheap to share in every test.
ShareSpec smallScene() {
  ShareSpec scene;
  scene.source = "scene";
  scene.sceneWidthPx = 160;
  scene.sceneHeightPx = 96;
  scene.settings.fps = 15;
  return scene;
}

TEST(Controller, JoinByInviteChatCommandsAndLeave) {
  TempConfig cfg;
  FakeClock clock;
  HostController host(anyPorts("alice"), cfg.env("host"));
  ASSERT_TRUE(host.start(clock.nowUs)) << host.state().status;
  JoinRequest req = inviteTo(host, "bob");
  JoinController bob(req, cfg.env("bob"));
  bob.start(clock.nowUs);
  // An invite carries the key: no first-meeting question, straight to connecting.
  EXPECT_EQ(bob.state().phase, Phase::Connecting);
  // Typed before the handshake finished: said once in.
  EXPECT_EQ(bob.submitLine("typed early"), LineOutcome::Done);
  ASSERT_TRUE(tickUntil(clock, {&host, &bob}, [&] { return hasLine(host, "bob: typed early"); }));
  EXPECT_EQ(bob.state().phase, Phase::InSession);
  EXPECT_EQ(bob.state().status, "Connected as bob.");
  EXPECT_EQ(bob.state().selfName, "bob");
  EXPECT_EQ(bob.state().sessionTitle, "alice's session");

  // Commands answer in the chat, the same way whichever face typed them.
  bob.submitLine("/msg nobody hello");
  ASSERT_TRUE(tickUntil(clock, {&host, &bob}, [&] { return hasLine(bob, "No user named \"nobody\" is here."); }));
  bob.submitLine("/kick alice");
  EXPECT_TRUE(hasLine(bob, "Only the host can remove people."));
  bob.submitLine("/frobnicate");
  EXPECT_TRUE(hasLine(bob, "Unknown command /frobnicate"));
  ASSERT_TRUE(tickUntil(clock, {&host, &bob}, [&] { return bob.chat().users().size() == 2; }));
  bob.submitLine("/who");
  const std::string who = ChatLog::format(bob.chat().lines().back());
  EXPECT_NE(who.find("Here: "), std::string::npos) << who;
  EXPECT_NE(who.find("alice (host)"), std::string::npos) << who;
  EXPECT_NE(who.find("bob"), std::string::npos) << who;
  host.submitLine("/msg bob just for you");
  ASSERT_TRUE(tickUntil(clock, {&host, &bob}, [&] { return hasLine(bob, "alice -> bob (private): just for you"); }));
  EXPECT_EQ(host.submitLine("/quit"), LineOutcome::ConfirmEnd);  // the host is asked first
  EXPECT_EQ(bob.submitLine("/quit"), LineOutcome::Leave);

  // Leaving: at once, and everything that said "connected" says otherwise.
  bob.leave();
  EXPECT_EQ(bob.state().phase, Phase::Ended);
  EXPECT_TRUE(bob.state().leftByUs);
  EXPECT_EQ(bob.state().status, "Left the session.");
  EXPECT_TRUE(bob.chat().users().empty());
  EXPECT_FALSE(bob.chat().connected());
  ASSERT_TRUE(tickUntil(clock, {&host, &bob}, [&] { return hasLine(host, "bob left"); }));
}

// What a viewer is told: a share that stops is said once in the chat (not a status that
// stays), and when the host ends the session that is what the status says, not that the
// host's share stopped.
TEST(Controller, AStoppedShareIsSaidOnceAndTheHostsEndIsSaidAsSuch) {
  TempConfig cfg;
  FakeClock clock;
  HostController host(anyPorts("alice"), cfg.env("host"));
  ASSERT_TRUE(host.start(clock.nowUs)) << host.state().status;
  JoinRequest req = inviteTo(host, "bob");
  JoinController bob(req, cfg.env("bob"));
  bob.start(clock.nowUs);
  const ShareSpec scene = smallScene();
  bob.shareWhenJoined(scene);
  host.watchWhenShared();
  ASSERT_TRUE(tickUntil(clock, {&host, &bob}, [&] {
    auto ids = host.watchedStreams();
    return ids.size() == 1 && host.view(ids[0]) && host.view(ids[0])->updatesApplied() > 0;
  }));
  EXPECT_TRUE(hasLine(bob, "Sharing: Test scene"));
  const std::string statusBefore = host.state().status;
  bob.stopSharing();
  ASSERT_TRUE(tickUntil(clock, {&host, &bob}, [&] { return host.watchedStreams().empty(); }));
  EXPECT_TRUE(hasLine(host, "bob stopped sharing."));
  EXPECT_EQ(host.state().status, statusBefore);  // nothing sticky

  // The host shares and bob watches; then the host ends the session. Bob first learns that
  // his own stream ended, or he could take it for the first one shared.
  ASSERT_TRUE(tickUntil(clock, {&host, &bob}, [&] { return bob.state().streams.empty(); }));
  host.startSharing(scene);
  bob.watchWhenShared();
  ASSERT_TRUE(tickUntil(clock, {&host, &bob}, [&] {
    auto ids = bob.watchedStreams();
    return ids.size() == 1 && bob.view(ids[0]) && bob.view(ids[0])->updatesApplied() > 0;
  }));
  host.leave();
  EXPECT_EQ(host.state().status, "Session ended.");
  ASSERT_TRUE(tickUntil(clock, {&bob}, [&] { return bob.state().phase == Phase::Ended; }));
  EXPECT_EQ(bob.state().status, "The host ended the session.");
  EXPECT_TRUE(bob.state().sessionEnded);
  EXPECT_FALSE(hasLine(bob, "alice stopped sharing")) << bob.chat().toText();
  EXPECT_FALSE(hasLine(bob, "Screens lost")) << "the end is the chat's to say";
}

// The host drops bob's screen connection alone (as it does a viewer that stalls): the chat
// stays, and the screens come back by themselves after the backoff, said once; bob's
// watched stream shows new frames again and his share is published again.
TEST(Controller, ALostScreenPortComesBackWhileTheChatStays) {
  TempConfig cfg;
  FakeClock clock;
  HostController host(anyPorts("alice"), cfg.env("host"));
  ASSERT_TRUE(host.start(clock.nowUs)) << host.state().status;
  JoinRequest req = inviteTo(host, "bob");
  JoinController bob(req, cfg.env("bob"));
  bob.start(clock.nowUs);
  const ShareSpec scene = smallScene();
  host.shareWhenJoined(scene);
  ASSERT_TRUE(tickUntil(clock, {&host, &bob}, [&] { return bob.state().streams.size() == 1; }));
  bob.watchWhenShared();  // alice's: the only one
  ASSERT_TRUE(tickUntil(clock, {&host, &bob}, [&] {
    auto ids = bob.watchedStreams();
    return ids.size() == 1 && bob.view(ids[0]) && bob.view(ids[0])->updatesApplied() > 0;
  }));
  bob.shareWhenJoined(scene);
  auto bobSharing = [&] {
    for (const auto& s : host.state().streams)
      if (s.ownerName == "bob") return true;
    return false;
  };
  ASSERT_TRUE(tickUntil(clock, {&host, &bob}, bobSharing));
  const std::uint32_t watched = bob.watchedStreams().at(0);
  ASSERT_EQ(bob.view(watched)->info().ownerName, "alice");
  const auto before = bob.view(watched);
  std::uint32_t bobId = 0;
  for (const auto& u : host.chat().users())
    if (u.name == "bob") bobId = u.id;
  ASSERT_NE(bobId, 0u);
  host.hostSession()->screenHub().dropParticipant(bobId, wire::Reason::SlowConsumer);
  ASSERT_TRUE(tickUntil(clock, {&host, &bob}, [&] { return !bob.state().screensConnected; }));
  EXPECT_EQ(bob.state().phase, Phase::InSession) << "the chat stays";
  ASSERT_TRUE(tickUntil(clock, {&host, &bob}, [&] {
    auto v = bob.view(watched);
    return bob.state().screensConnected && v && v != before && v->updatesApplied() > 0 && bobSharing();
  })) << bob.chat().toText();
  int said = 0;
  for (const auto& l : bob.chat().lines()) said += ChatLog::format(l).find("Screens lost") != std::string::npos;
  EXPECT_EQ(said, 1) << bob.chat().toText();
  EXPECT_TRUE(bob.state().sharing);
}

TEST(Controller, FirstMeetingIsAskedAndTheAnswerDecides) {
  TempConfig cfg;
  FakeClock clock;
  HostController host(anyPorts("alice"), cfg.env("host"));
  ASSERT_TRUE(host.start(clock.nowUs)) << host.state().status;
  JoinRequest req;
  req.address = "127.0.0.1:" + std::to_string(host.info().chatPort);
  req.name = "carol";

  // No: nothing is joined, and the host never sees carol.
  {
    JoinController carol(req, cfg.env("carol"));
    carol.start(clock.nowUs);
    EXPECT_EQ(carol.state().phase, Phase::Checking);
    ASSERT_TRUE(tickUntil(clock, {&host, &carol}, [&] { return carol.state().phase == Phase::AskTrust; }));
    EXPECT_EQ(net::shortCode(carol.newHostKey()), host.info().keyCode);
    carol.answerTrust(TrustAnswer::No, clock.nowUs);
    EXPECT_EQ(carol.state().phase, Phase::Ended);
    EXPECT_TRUE(hasLine(carol, "Not joining: the host's key was not accepted."));
  }
  EXPECT_FALSE(hasLine(host, "carol joined"));
  // Once: joined, not remembered (asked again next time). Remember: joined, and the next
  // join pins the key without asking.
  for (const TrustAnswer answer : {TrustAnswer::Once, TrustAnswer::Remember}) {
    JoinController carol(req, cfg.env("carol"));
    carol.start(clock.nowUs);
    ASSERT_TRUE(tickUntil(clock, {&host, &carol}, [&] { return carol.state().phase == Phase::AskTrust; }));
    carol.answerTrust(answer, clock.nowUs);
    ASSERT_TRUE(tickUntil(clock, {&host, &carol}, [&] { return carol.state().phase == Phase::InSession; }));
    EXPECT_EQ(std::filesystem::exists(cfg.root + "/carol/known_hosts"), answer == TrustAnswer::Remember);
    carol.leave();
  }
  JoinController again(req, cfg.env("carol"));
  again.start(clock.nowUs);
  EXPECT_EQ(again.state().phase, Phase::Connecting);
  ASSERT_TRUE(tickUntil(clock, {&host, &again}, [&] { return again.state().phase == Phase::InSession; }));
}

TEST(Controller, AWrongPasswordIsAskedForAgain) {
  TempConfig cfg;
  FakeClock clock;
  HostRequest hr = anyPorts("alice");
  hr.password = "correct horse";
  HostController host(hr, cfg.env("host"));
  ASSERT_TRUE(host.start(clock.nowUs)) << host.state().status;
  JoinRequest req;
  req.address = loopbackLink(host);
  req.name = "dave";
  JoinController dave(req, cfg.env("dave"));
  dave.start(clock.nowUs);
  ASSERT_TRUE(tickUntil(clock, {&host, &dave}, [&] { return dave.state().phase == Phase::AskPassword; }));
  EXPECT_FALSE(dave.passwordWasGiven());
  dave.retryWithPassword("correct horse", clock.nowUs);
  ASSERT_TRUE(tickUntil(clock, {&host, &dave}, [&] { return dave.state().phase == Phase::InSession; }, 15'000));
}

// The host goes away without a word (SIGKILL) and comes back: the client retries on the
// backoff's schedule, which only the fake clock moves, and says what was typed meanwhile.
TEST(Controller, AfterLosingTheHostItRetriesOnScheduleAndSaysTheOutbox) {
  TempConfig cfg;
  const std::string hostConfig = "XDG_CONFIG_HOME=" + cfg.root + "/host";
  auto startHost = [&](const std::string& port) {
    auto h = std::make_unique<test::Subprocess>(
        std::vector<std::string>{HUDDLE_BINARY, "--host", "--headless", "--name", "alice", "--chat-port", port,
                                 "--screen-port", "0"},
        std::vector<std::string>{hostConfig});
    EXPECT_TRUE(h->waitForOutput("Ctrl+C ends the session", 10000)) << h->output();
    return h;
  };
  // The host comes back on the same port: one no other test's connection can take meanwhile.
  const std::string port = std::to_string(test::portOutsideEphemeralRange());
  auto host = startHost(port);
  const std::string invite = test::loopbackInvite(host->output());

  FakeClock clock;
  JoinRequest req;
  req.address = invite;
  req.name = "bob";
  JoinController bob(req, cfg.env("bob"));
  bob.start(clock.nowUs);
  ASSERT_TRUE(tickUntil(clock, {&bob}, [&] { return bob.state().phase == Phase::InSession; }));

  host->signal(SIGKILL);
  host->wait(5000);
  ASSERT_TRUE(tickUntil(clock, {&bob}, [&] { return bob.state().phase == Phase::Reconnecting; }));
  EXPECT_EQ(bob.state().reconnectAttempt, 0);
  EXPECT_TRUE(hasLine(bob, "Reconnecting by itself"));
  bob.submitLine("typed while away");
  EXPECT_TRUE(hasLine(bob, "(will be said when the host is back) typed while away"));
  // The first retry is due 0.25 s less 20% (no jitter drawn) after the loss was seen.
  const std::int64_t due = bob.state().reconnectAtUs;
  clock.nowUs = due - 1000;
  for (int i = 0; i < 20; ++i) {
    bob.tick(clock.nowUs);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(bob.state().reconnectAttempt, 0) << "retried before its time";
  clock.nowUs = due;
  bob.tick(clock.nowUs);
  // Attempt 1 started (with nobody listening it may already have failed within this tick).
  EXPECT_GE(bob.state().reconnectAttempt, 1);
  EXPECT_NE(bob.state().status.find("Reconnecting... (attempt "), std::string::npos) << bob.state().status;

  host = startHost(port);
  ASSERT_TRUE(tickUntil(clock, {&bob}, [&] { return bob.state().phase == Phase::InSession; }, 20'000)) << bob.state().status;
  ASSERT_TRUE(host->waitForOutput("bob: typed while away", 10000)) << host->output();
  const std::string said = host->output();
  EXPECT_EQ(said.find("typed while away"), said.rfind("typed while away"));  // once
  bob.leave();
  host->signal(SIGTERM);
  EXPECT_EQ(host->wait(10000), 0);
}

// Leaving never waits for the network: with the host frozen (SIGSTOP), the polite goodbye
// cannot finish, yet leave() returns with the connection still closing on the teardown
// worker.
// The host's own user dropped (here: it left on its own) and its seat was taken meanwhile: the
// host tries to rejoin at once, then with the clients' backoff, never in a loop, and is back
// once there is room again.
TEST(Controller, TheHostsOwnUserRejoinsWithBackoff) {
  TempConfig cfg;
  FakeClock clock;
  HostRequest r = anyPorts("alice");
  r.maxParticipants = 2;
  HostController host(r, cfg.env("host"));
  ASSERT_TRUE(host.start(clock.nowUs)) << host.state().status;
  ASSERT_TRUE(tickUntil(clock, {&host}, [&] { return host.state().phase == Phase::InSession; }));
  JoinRequest req = inviteTo(host, "bob");
  JoinController bob(req, cfg.env("bob"));
  bob.start(clock.nowUs);
  ASSERT_TRUE(tickUntil(clock, {&host, &bob}, [&] { return bob.state().phase == Phase::InSession; }));
  host.hostSession()->localUser().leave();  // the host's own user is gone; bob stays
  req.name = "carol";
  JoinController carol(req, cfg.env("carol"));
  carol.start(clock.nowUs);
  // carol takes the free seat before the host notices (the host is not ticked meanwhile).
  ASSERT_TRUE(tickUntil(clock, {&bob, &carol}, [&] { return carol.state().phase == Phase::InSession; }));
  // The first rejoin is at once and refused (full); the next waits its backoff however
  // often the host is ticked.
  const std::int64_t frozen = clock.nowUs;
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(800);
  while (std::chrono::steady_clock::now() < until) {
    host.tick(frozen);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(host.state().phase, Phase::Reconnecting);
  EXPECT_EQ(host.state().reconnectAttempt, 2) << "one at once, one waiting its turn";
  EXPECT_GT(host.state().reconnectAtUs, frozen);
  carol.leave();
  ASSERT_TRUE(tickUntil(clock, {&host, &bob}, [&] { return host.state().phase == Phase::InSession; }));
  EXPECT_EQ(host.state().reconnectAttempt, 0);
}

TEST(Controller, LeavingAFrozenHostReturnsAtOnce) {
  TempConfig cfg;
  test::Subprocess host({HUDDLE_BINARY, "--host", "--headless", "--name", "alice", "--chat-port", "0", "--screen-port", "0"},
                        {"XDG_CONFIG_HOME=" + cfg.root + "/host"});
  ASSERT_TRUE(host.waitForOutput("Ctrl+C ends the session", 10000)) << host.output();
  FakeClock clock;
  JoinRequest req;
  req.address = test::loopbackInvite(host.output());
  req.name = "bob";
  ControllerEnv env = cfg.env("bob");
  auto teardown = std::make_shared<Teardown>();
  env.teardown = teardown;
  {
    JoinController bob(req, env);
    bob.start(clock.nowUs);
    ASSERT_TRUE(tickUntil(clock, {&bob}, [&] { return bob.state().phase == Phase::InSession && bob.state().screensConnected; }));
    host.signal(SIGSTOP);
    bob.leave();
    EXPECT_EQ(bob.state().phase, Phase::Ended);
    EXPECT_GE(teardown->pending(), 1u) << "leave() waited for the goodbye";
  }
  host.signal(SIGCONT);
  teardown->drain();
  EXPECT_EQ(teardown->pending(), 0u);
  ASSERT_TRUE(host.waitForOutput("bob left", 10000)) << host.output();
  host.signal(SIGTERM);
  EXPECT_EQ(host.wait(10000), 0);
}

}  // namespace
}  // namespace huddle::session
