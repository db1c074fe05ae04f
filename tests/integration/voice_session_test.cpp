// Voice inside the session (issue 13): controllers on loopback with sound from and to test
// ports instead of devices. The speaking marks and mute, hostile datagrams at the host's
// voice port dropped and counted while voice goes on, and voice back by itself after the
// host comes back from a crash. Real sockets and threads; every wait is bounded.
#include <gtest/gtest.h>

#include <signal.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <functional>
#include <mutex>
#include <regex>
#include <thread>

#include "app/session/host_controller.h"
#include "app/session/join_controller.h"
#include "tests/integration/test_support.h"
#include "net/voice_hub.h"
#include "net/voice_socket.h"
#include "tests/support/free_port.h"
#include "tests/support/host_output.h"
#include "tests/support/subprocess.h"

namespace huddle::session {
namespace {

// Sound at real-time pace: a microphone that says a tone (or nothing), a speaker that counts
// what it was given and how loud.
class TestAudio : public voice::AudioPort {
 public:
  explicit TestAudio(bool tone) : m_tone(tone), m_start(std::chrono::steady_clock::now()) {}
  void readCaptured(std::vector<std::int16_t>& out) override {
    const auto due = static_cast<std::uint64_t>(elapsedUs() * voice::kSampleRate / 1'000'000);
    for (; m_captured < due; ++m_captured)
      out.push_back(m_tone ? static_cast<std::int16_t>(8000 * std::sin(m_captured * 2 * M_PI * 440 / 48000)) : 0);
  }
  std::size_t queuedSamples() const override {
    std::lock_guard lock(m_mutex);
    const auto played = static_cast<std::uint64_t>(elapsedUs() * voice::kSampleRate / 1'000'000);
    return m_queued > played ? static_cast<std::size_t>(m_queued - played) : 0;
  }
  void play(std::span<const std::int16_t> samples) override {
    std::lock_guard lock(m_mutex);
    const auto played = static_cast<std::uint64_t>(elapsedUs() * voice::kSampleRate / 1'000'000);
    m_queued = std::max(m_queued, played) + samples.size();
    for (std::int16_t s : samples) m_loud += std::abs(static_cast<int>(s)) > 1000;
  }
  std::uint64_t loudSamples() const {
    std::lock_guard lock(m_mutex);
    return m_loud;
  }

 private:
  std::int64_t elapsedUs() const {
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - m_start).count();
  }
  const bool m_tone;
  const std::chrono::steady_clock::time_point m_start;
  std::uint64_t m_captured = 0;  // voice thread only
  mutable std::mutex m_mutex;
  std::uint64_t m_queued = 0;
  std::uint64_t m_loud = 0;
};

using test::TempConfig;

bool tickUntil(std::vector<SessionController*> cs, const std::function<bool()>& done, int timeoutMs = 10'000) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
  while (std::chrono::steady_clock::now() < deadline) {
    for (auto* c : cs) c->tick(base::monoUs());
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return done();
}

JoinRequest joinAt(const std::string& invite, const std::string& name) {
  JoinRequest r;
  r.address = invite;
  r.name = name;
  return r;
}

std::string loopbackLink(const HostController& h) {
  for (const auto& l : h.info().inviteLinks)
    if (l.find("127.0.0.1") != std::string::npos) return l;
  return "";
}

bool hasLineFor(const SessionController& c, const std::string& text) {
  for (const auto& l : c.chat().lines())
    if (ChatLog::format(l).find(text) != std::string::npos) return true;
  return false;
}

// alice (saying a tone) and bob (quiet), both asking for voice, joining at `invite`.
struct VoicePair {
  VoicePair(const TempConfig& cfg, const std::string& invite)
      : alice(joinAt(invite, "alice"), cfg.env("alice")), bob(joinAt(invite, "bob"), cfg.env("bob")) {
    alice.setVoiceAudio(&aliceAudio);
    bob.setVoiceAudio(&bobAudio);
    alice.setVoice(true);  // asked before joining: starts once in
    bob.setVoice(true);
    alice.start(base::monoUs());
    bob.start(base::monoUs());
  }
  TestAudio aliceAudio{true}, bobAudio{false};
  JoinController alice, bob;
};

HostRequest anyPorts() {
  HostRequest r;
  r.name = "host";
  r.chatPort = 0;
  r.screenPort = 0;
  r.voicePort = 0;
  return r;
}

TEST(VoiceSession, SpeakingMarksFollowTheVoiceAndMuteSilencesIt) {
  TempConfig cfg;
  HostController host(anyPorts(), cfg.env("host"));
  ASSERT_TRUE(host.start(base::monoUs())) << host.state().status;
  ASSERT_NE(host.info().voicePort, 0) << host.info().voiceError;
  VoicePair pair(cfg, loopbackLink(host));
  JoinController &alice = pair.alice, &bob = pair.bob;
  TestAudio& bobAudio = pair.bobAudio;
  std::vector<SessionController*> all{&host, &alice, &bob};
  ASSERT_TRUE(tickUntil(all, [&] { return alice.state().voiceConnected && bob.state().voiceConnected; }))
      << alice.state().voiceError << bob.state().voiceError;
  EXPECT_FALSE(host.state().voiceOn);  // the host did not join the voice
  const std::uint32_t aliceId = alice.state().selfId;
  ASSERT_NE(aliceId, 0u);
  // alice talks: bob hears her and marks her speaking; she marks herself; bob is quiet.
  ASSERT_TRUE(tickUntil(all, [&] { return bob.speaking(aliceId) && bobAudio.loudSamples() > 4800; }));
  EXPECT_TRUE(alice.speaking(aliceId));
  EXPECT_FALSE(alice.speaking(bob.state().selfId));
  // Her meter shows her talking: well above silence (its exact level dips when the machine
  // is slow enough for SDL's disk driver to fill gaps with silence, as under TSan).
  EXPECT_GT(alice.state().voiceLevelDbfs, -40.f);
  EXPECT_TRUE(hasLineFor(bob, "Voice connected."));

  // Muted: nothing is sent, the marks go, bob's speaker goes quiet.
  alice.submitLine("/mute");
  EXPECT_TRUE(alice.state().voiceMuted);
  ASSERT_TRUE(tickUntil(all, [&] { return !bob.speaking(aliceId) && !alice.speaking(aliceId); }));
  const std::uint64_t received = bob.voiceStats().framesReceived;
  const std::uint64_t loud = bobAudio.loudSamples();
  tickUntil(all, [] { return false; }, 300);
  EXPECT_EQ(bob.voiceStats().framesReceived, received);
  EXPECT_EQ(bobAudio.loudSamples(), loud);
  alice.submitLine("/unmute");
  ASSERT_TRUE(tickUntil(all, [&] { return bob.speaking(aliceId); }));

  // Leaving the voice: the link goes, the host forgets the member.
  bob.submitLine("/voice off");
  EXPECT_FALSE(bob.state().voiceOn);
  ASSERT_TRUE(tickUntil(all, [&] { return host.hostSession()->voiceHub()->stats().members == 1; }));
  alice.leave();
  bob.leave();
}

TEST(VoiceSession, HostileDatagramsAreDroppedAndCountedWhileVoiceGoesOn) {
  TempConfig cfg;
  HostController host(anyPorts(), cfg.env("host"));
  ASSERT_TRUE(host.start(base::monoUs())) << host.state().status;
  VoicePair pair(cfg, loopbackLink(host));
  JoinController &alice = pair.alice, &bob = pair.bob;
  TestAudio& bobAudio = pair.bobAudio;
  std::vector<SessionController*> all{&host, &alice, &bob};
  ASSERT_TRUE(tickUntil(all, [&] { return alice.state().voiceConnected && bob.state().voiceConnected; }));
  const std::uint32_t aliceId = alice.state().selfId;

  // Someone on the LAN without any key: made-up datagrams for alice's channel (forged tags,
  // a flood, oversize ones, garbage), and for channels nobody holds.
  net::VoiceSocket attacker;
  std::string error;
  ASSERT_TRUE(attacker.open(0, error, true)) << error;
  const net::VoiceEndpoint hostVoice{0x7F000001, host.info().voicePort};
  net::VoiceKey wrong{};
  wrong.fill(7);
  net::VoiceSealer forger(wrong, net::VoiceDirection::Up, aliceId);
  for (int i = 0; i < 200; ++i) forger.seal(base::ByteVec{net::kVoiceJoin});  // counters ahead of alice's
  net::VoiceHub& hub = *host.hostSession()->voiceHub();
  // Group by group, each counted before the next (a burst larger than the socket's buffer
  // would be cut by the kernel, not by the relay).
  auto counted = [&](const std::function<void()>& send, const std::function<bool(const net::VoiceHubStats&)>& seen) {
    send();
    return tickUntil(all, [&] { return seen(hub.stats()); });
  };
  EXPECT_TRUE(counted([&] { for (int i = 0; i < 100; ++i) attacker.send(forger.seal(base::ByteVec{net::kVoiceJoin}), hostVoice); },
                      [](const net::VoiceHubStats& s) { return s.badTag >= 100; })) << hub.stats().badTag;
  EXPECT_TRUE(counted([&] { for (int i = 0; i < 20; ++i) attacker.send(base::ByteVec(wire::kMaxVoiceDatagramBytes + 1, 0x56), hostVoice); },
                      [](const net::VoiceHubStats& s) { return s.oversize >= 20; })) << hub.stats().oversize;
  EXPECT_TRUE(counted([&] { for (int i = 0; i < 20; ++i) attacker.send(base::ByteVec(30, 0x00), hostVoice); },
                      [](const net::VoiceHubStats& s) { return s.malformed >= 20; })) << hub.stats().malformed;
  net::VoiceSealer stranger(wrong, net::VoiceDirection::Up, 999);
  EXPECT_TRUE(counted([&] { for (int i = 0; i < 20; ++i) attacker.send(stranger.seal(base::ByteVec{net::kVoiceJoin}), hostVoice); },
                      [](const net::VoiceHubStats& s) { return s.unknownSeat + s.lookupLimited >= 20; }))
      << hub.stats().unknownSeat << " " << hub.stats().lookupLimited;
  // None of it reached anyone, nor moved alice's seat: bob still hears her.
  const std::uint64_t loud = bobAudio.loudSamples();
  ASSERT_TRUE(tickUntil(all, [&] { return bobAudio.loudSamples() > loud + 4800 && bob.speaking(aliceId); }));
  EXPECT_EQ(bob.voiceStats().dropped, 0u);
  base::ByteVec anything;
  net::VoiceEndpoint from;
  bool oversize = false;
  EXPECT_EQ(attacker.receive(anything, from, oversize), 0u);  // no answer to a forger
  alice.leave();
  bob.leave();
}

// UDP to the host's voice port does not get through (the relay loses everything it gets by
// UDP): each link goes over its chat connection by itself, says so, and voice flows.
TEST(VoiceSession, WhenUdpIsBlockedVoiceGoesOverTheChatConnection) {
  TempConfig cfg;
  HostRequest request = anyPorts();
  request.voiceLossPercent = 100;
  HostController host(request, cfg.env("host"));
  ASSERT_TRUE(host.start(base::monoUs())) << host.state().status;
  VoicePair pair(cfg, loopbackLink(host));
  JoinController &alice = pair.alice, &bob = pair.bob;
  TestAudio& bobAudio = pair.bobAudio;
  std::vector<SessionController*> all{&host, &alice, &bob};
  ASSERT_TRUE(tickUntil(all, [&] { return bob.speaking(alice.state().selfId) && bobAudio.loudSamples() > 4800; },
                        15'000))
      << bob.state().voiceError;
  EXPECT_TRUE(alice.state().voiceOverStream);
  EXPECT_TRUE(bob.state().voiceOverStream);
  EXPECT_TRUE(bob.state().voiceConnected);
  EXPECT_TRUE(hasLineFor(bob, "Voice goes over the chat connection"));
  const net::VoiceHubStats s = host.hostSession()->voiceHub()->stats();
  EXPECT_GT(s.frames, 0u);
  EXPECT_EQ(s.badTag + s.replayed + s.malformed, 0u);
  alice.leave();
  bob.leave();
}

// The host process dies and comes back on the same ports: both clients reconnect by
// themselves, and so does their voice (new keys from the new chat connections).
TEST(VoiceSession, VoiceComesBackAfterAReconnect) {
  TempConfig cfg;
  net::VoiceSocket probe;  // a UDP port number free now, for the host to take twice
  std::string error;
  ASSERT_TRUE(probe.open(0, error, true)) << error;
  const std::string voicePort = std::to_string(probe.port());
  probe.close();
  const std::string hostConfig = "XDG_CONFIG_HOME=" + cfg.root + "/hostproc";
  auto startHost = [&](const std::string& chatPort) {
    auto h = std::make_unique<test::Subprocess>(
        std::vector<std::string>{HUDDLE_BINARY, "--host", "--headless", "--chat-port", chatPort, "--screen-port", "0",
                                 "--voice-port", voicePort},
        std::vector<std::string>{hostConfig});
    EXPECT_TRUE(h->waitForOutput("Ctrl+C ends the session", 10000)) << h->output();
    return h;
  };
  // The host comes back on the same port: one no other test's connection can take meanwhile.
  const std::string chatPort = std::to_string(test::portOutsideEphemeralRange());
  auto host = startHost(chatPort);
  ASSERT_NE(host->output().find("voice port " + voicePort), std::string::npos) << host->output();
  const std::string invite = test::loopbackInvite(host->output());

  VoicePair pair(cfg, invite);
  JoinController &alice = pair.alice, &bob = pair.bob;
  std::vector<SessionController*> both{&alice, &bob};
  ASSERT_TRUE(tickUntil(both, [&] { return bob.speaking(alice.state().selfId); }));

  host->signal(SIGKILL);
  host->wait(5000);
  ASSERT_TRUE(tickUntil(both, [&] { return bob.state().phase == Phase::Reconnecting; }));
  EXPECT_FALSE(bob.state().voiceOn);
  EXPECT_TRUE(bob.state().voiceWanted);  // kept for when the host is back
  host = startHost(chatPort);
  ASSERT_TRUE(tickUntil(both, [&] {
    return alice.state().phase == Phase::InSession && bob.state().phase == Phase::InSession &&
           bob.speaking(alice.state().selfId);
  }, 20'000)) << bob.state().status << " / " << bob.state().voiceError;
  EXPECT_TRUE(bob.state().voiceConnected);
  alice.leave();
  bob.leave();
  host->signal(SIGTERM);
  EXPECT_EQ(host->wait(10000), 0);
}

}  // namespace
}  // namespace huddle::session
