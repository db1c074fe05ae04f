// Unit tests for huddle_session's pure parts: the command line and chat input.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "app/session/app_settings.h"
#include "app/session/chat_command.h"
#include "app/session/config_files.h"
#include "app/session/chat_log.h"
#include "app/session/host_controller.h"
#include "app/session/nearby.h"
#include "app/session/options.h"
#include "app/session/session_controller.h"
#include "app/session/stream_stats.h"
#include "app/session/reconnect.h"
#include "app/session/screen_session.h"
#include "app/session/trust.h"
#include "net/room_auth.h"
#include "net/wire/limits.h"

using namespace huddle::session;
namespace net = huddle::net;

TEST(Options, Defaults) {
  auto r = parseOptions({});
  ASSERT_TRUE(r.error.empty());
  EXPECT_EQ(r.options.role, Role::Ask);
  EXPECT_EQ(r.options.chatPort, huddle::wire::kDefaultChatPort);
  EXPECT_EQ(r.options.screenPort, huddle::wire::kDefaultScreenPort);
}

TEST(Options, HostAndJoin) {
  auto r = parseOptions({"--host", "--headless", "--name", "alice", "--chat-port", "7000", "--screen-port=7001"});
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.options.role, Role::Host);
  EXPECT_TRUE(r.options.headless);
  EXPECT_EQ(r.options.name, "alice");
  EXPECT_EQ(r.options.chatPort, 7000);
  EXPECT_EQ(r.options.screenPort, 7001);
  r = parseOptions({"--join", "192.168.1.5:9000"});
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.options.role, Role::Join);
  EXPECT_EQ(r.options.joinAddress, "192.168.1.5:9000");
}

TEST(Options, ErrorsNameTheOption) {
  EXPECT_EQ(parseOptions({"--frobnicate"}).error, "unknown option '--frobnicate'");
  EXPECT_EQ(parseOptions({"stray"}).error, "unexpected argument 'stray'");
  EXPECT_NE(parseOptions({"--chat-port", "-1"}).error.find("--chat-port"), std::string::npos);
  EXPECT_NE(parseOptions({"--chat-port", "65536"}).error.find("--chat-port"), std::string::npos);
  EXPECT_NE(parseOptions({"--screen-port", "12x"}).error.find("--screen-port"), std::string::npos);
  EXPECT_NE(parseOptions({"--name"}).error.find("--name"), std::string::npos);
  EXPECT_NE(parseOptions({"--name", "a b"}).error.find("spaces"), std::string::npos);
  EXPECT_NE(parseOptions({"--headless=yes"}).error.find("--headless"), std::string::npos);
  EXPECT_NE(parseOptions({"--join", ":9"}).error.find("bad host"), std::string::npos);
  EXPECT_NE(parseOptions({"--join", "h:0"}).error.find("port 0"), std::string::npos);
}

TEST(Options, SharingAndViewing) {
  auto r = parseOptions({"--host", "--share", "synthetic", "--scene-size", "1366x768", "--scene-motion", "full",
                         "--quality", "90", "--fps", "60", "--scale", "50", "--subsampling", "444"});
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.options.share, "synthetic");
  EXPECT_EQ(r.options.sceneWidthPx, 1366);
  EXPECT_EQ(r.options.sceneHeightPx, 768);
  EXPECT_EQ(r.options.sceneMotion, "full");
  EXPECT_EQ(r.options.quality, 90);
  EXPECT_EQ(r.options.fps, 60);
  EXPECT_EQ(r.options.scalePercent, 50);
  EXPECT_TRUE(r.options.chroma444);

  // Sharp when still: on by default at the default still time; off, and the still time at
  // its caps (cap-1, cap, cap+1 at both ends).
  EXPECT_TRUE(r.options.sharpWhenStill);
  EXPECT_EQ(r.options.stillMs, huddle::wire::kDefaultStillMs);
  EXPECT_EQ(shareSpecFrom(r.options).settings.stillMs, huddle::wire::kDefaultStillMs);
  r = parseOptions({"--host", "--share", "synthetic", "--scene-motion", "settle", "--sharp-when-still", "off",
                    "--still-ms", "1200"});
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.options.sceneMotion, "settle");
  EXPECT_FALSE(r.options.sharpWhenStill);
  EXPECT_FALSE(shareSpecFrom(r.options).settings.sharpWhenStill);
  EXPECT_EQ(shareSpecFrom(r.options).settings.stillMs, 1200);
  for (int ms : {huddle::wire::kMinStillMs - 1, huddle::wire::kMinStillMs, huddle::wire::kMinStillMs + 1, huddle::wire::kMaxStillMs - 1,
                 huddle::wire::kMaxStillMs, huddle::wire::kMaxStillMs + 1}) {
    r = parseOptions({"--host", "--still-ms", std::to_string(ms)});
    const bool allowed = ms >= huddle::wire::kMinStillMs && ms <= huddle::wire::kMaxStillMs;
    EXPECT_EQ(r.error.empty(), allowed) << ms << ": " << r.error;
    if (allowed) {
      EXPECT_EQ(r.options.stillMs, ms);
    }
  }
  EXPECT_NE(parseOptions({"--host", "--sharp-when-still", "yes"}).error.find("on or off"), std::string::npos);
  EXPECT_NE(parseOptions({"--join", "h", "--snapshot-when-sharp=1"}).error.find("takes no value"), std::string::npos);
  EXPECT_TRUE(parseOptions({"--join", "h", "--snapshot", "--snapshot-when-sharp"}).options.snapshotWhenSharp);

  r = parseOptions({"--join", "h", "--watch", "--seconds", "2.5", "--stats-json", "s.json"});
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_TRUE(r.options.watch);
  EXPECT_EQ(r.options.watchStream, 0u);
  EXPECT_DOUBLE_EQ(r.options.seconds, 2.5);
  EXPECT_EQ(r.options.statsJson, "s.json");
  EXPECT_TRUE(r.options.headless);  // viewing tools are headless by nature

  r = parseOptions({"--join", "h", "--watch", "7"});
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.options.watchStream, 7u);
  r = parseOptions({"--join", "h", "--snapshot"});
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_TRUE(r.options.snapshot);
  EXPECT_TRUE(r.options.snapshotPath.empty());
  r = parseOptions({"--snapshot", "a.png", "--join", "h"});
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.options.snapshotPath, "a.png");
}

TEST(Options, SharingErrorsNameTheOption) {
  auto err = [](std::vector<std::string> args) { return parseOptions(args).error; };
  EXPECT_NE(err({"--share", "vnc"}).find("--share"), std::string::npos);
  EXPECT_NE(err({"--scene-size", "0x10"}).find("--scene-size"), std::string::npos);
  EXPECT_NE(err({"--scene-size", "10x"}).find("--scene-size"), std::string::npos);
  EXPECT_NE(err({"--scene-size", "9000x10"}).find("--scene-size"), std::string::npos);
  EXPECT_NE(err({"--scene-motion", "some"}).find("--scene-motion"), std::string::npos);
  EXPECT_NE(err({"--quality", "0"}).find("--quality"), std::string::npos);
  EXPECT_NE(err({"--quality", "101"}).find("--quality"), std::string::npos);
  EXPECT_NE(err({"--fps", "121"}).find("--fps"), std::string::npos);
  EXPECT_NE(err({"--fps", "ten"}).find("--fps"), std::string::npos);
  EXPECT_NE(err({"--scale", "60"}).find("--scale"), std::string::npos);
  EXPECT_NE(err({"--subsampling", "422"}).find("--subsampling"), std::string::npos);
  EXPECT_NE(err({"--join", "h", "--watch", "x"}).find("--watch"), std::string::npos);
  EXPECT_NE(err({"--join", "h", "--watch", "0"}).find("--watch"), std::string::npos);
  EXPECT_NE(err({"--join", "h", "--seconds", "0"}).find("--seconds"), std::string::npos);
  EXPECT_NE(err({"--join", "h", "--stats-json"}).find("--stats-json"), std::string::npos);
  EXPECT_NE(err({"--host", "--watch"}).find("--join"), std::string::npos);
  EXPECT_NE(err({"--snapshot"}).find("--join"), std::string::npos);
  EXPECT_NE(err({"--host", "--max-participants", "65"}).find("--max-participants"), std::string::npos);
  EXPECT_NE(err({"--host", "--max-participants", "1"}).find("--max-participants"), std::string::npos);
  EXPECT_NE(err({"--join", "h", "--read-limit", "0"}).find("--read-limit"), std::string::npos);
}

TEST(Options, RangesAtTheirCaps) {
  namespace wire = huddle::wire;
  auto ok = [](std::vector<std::string> args) { return parseOptions(args).error.empty(); };
  const int minP = static_cast<int>(wire::kMinParticipants), maxP = static_cast<int>(wire::kMaxParticipants);
  for (int n : {minP - 1, minP, maxP, maxP + 1})
    EXPECT_EQ(ok({"--host", "--max-participants", std::to_string(n)}), n >= minP && n <= maxP) << n;
  EXPECT_EQ(parseOptions({}).options.maxParticipants, static_cast<int>(wire::kDefaultParticipants));
  for (int fps : {0, 1, wire::kMaxCaptureFps, wire::kMaxCaptureFps + 1})
    EXPECT_EQ(ok({"--host", "--fps", std::to_string(fps)}), fps >= 1 && fps <= wire::kMaxCaptureFps) << fps;
  for (int s : {wire::kMaxOptionSeconds, wire::kMaxOptionSeconds + 1})
    EXPECT_EQ(ok({"--quit-after", std::to_string(s)}), s <= wire::kMaxOptionSeconds) << s;
  for (int k : {wire::kMaxReadLimitKBps, wire::kMaxReadLimitKBps + 1})
    EXPECT_EQ(ok({"--join", "h", "--read-limit", std::to_string(k)}), k <= wire::kMaxReadLimitKBps) << k;
  const int side = static_cast<int>(wire::kMaxStreamSidePx);
  for (int w : {side, side + 1})
    EXPECT_EQ(ok({"--scene-size", std::to_string(w) + "x10"}), w <= side) << w;
}

TEST(Options, SplitHostPort) {
  std::string host, error;
  std::uint16_t port = 0;
  const std::uint16_t fallback = huddle::wire::kDefaultChatPort;
  ASSERT_TRUE(splitHostPort("example.lan", host, port, fallback, error));
  EXPECT_EQ(host, "example.lan");
  EXPECT_EQ(port, fallback);
  ASSERT_TRUE(splitHostPort("10.0.0.2:1234", host, port, fallback, error));
  EXPECT_EQ(host, "10.0.0.2");
  EXPECT_EQ(port, 1234);
  EXPECT_FALSE(splitHostPort("10.0.0.2:", host, port, fallback, error));
}

TEST(Options, Voice) {
  auto r = parseOptions({"--join", "h", "--voice", "--mute"});
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_TRUE(r.options.voice);
  EXPECT_TRUE(r.options.mute);
  EXPECT_EQ(parseOptions({}).options.voicePort, huddle::wire::kDefaultVoicePort);
  EXPECT_FALSE(parseOptions({}).options.voice);
  r = parseOptions({"--host", "--voice-port", "0", "--voice-loss", "20"});
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.options.voicePort, 0);
  EXPECT_EQ(r.options.voiceLossPercent, 20);
  for (int p : {-1, 0, 100, 101})
    EXPECT_EQ(parseOptions({"--host", "--voice-loss", std::to_string(p)}).error.empty(), p >= 0 && p <= 100) << p;
  EXPECT_NE(parseOptions({"--host", "--voice-port", "70000"}).error.find("--voice-port"), std::string::npos);
  EXPECT_NE(parseOptions({"--voice=yes"}).error.find("--voice"), std::string::npos);
  // Devices and gain control.
  r = parseOptions({"--join", "h", "--voice", "--mic", "USB Headset Mono", "--speaker=Built-in", "--no-agc"});
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.options.mic, "USB Headset Mono");
  EXPECT_EQ(r.options.speaker, "Built-in");
  EXPECT_FALSE(r.options.autoGain);
  EXPECT_TRUE(parseOptions({}).options.autoGain);
  EXPECT_TRUE(parseOptions({"--list-audio"}).options.listAudio);
  EXPECT_NE(parseOptions({"--mic"}).error.find("--list-audio"), std::string::npos);
  EXPECT_NE(parseOptions({"--speaker", std::string(300, 'x')}).error.find("--speaker"), std::string::npos);
}

TEST(ChatLine, VoiceCommands) {
  EXPECT_EQ(parseChatLine("/voice").kind, ChatCommand::Kind::Voice);
  EXPECT_EQ(parseChatLine("/voice").text, "");
  EXPECT_EQ(parseChatLine("/voice on").text, "on");
  EXPECT_EQ(parseChatLine("/voice off").text, "off");
  EXPECT_EQ(parseChatLine("/voice maybe").kind, ChatCommand::Kind::Error);
  EXPECT_EQ(parseChatLine("/mute").kind, ChatCommand::Kind::Mute);
  EXPECT_EQ(parseChatLine("/unmute").kind, ChatCommand::Kind::Unmute);
  EXPECT_EQ(parseChatLine("/mute everyone").kind, ChatCommand::Kind::Error);
}

TEST(ChatLine, SayPrivateAndCommands) {
  auto c = parseChatLine("hello there\r\n");
  EXPECT_EQ(c.kind, ChatCommand::Kind::Say);
  EXPECT_EQ(c.text, "hello there");
  c = parseChatLine("/msg bob  hi bob");
  EXPECT_EQ(c.kind, ChatCommand::Kind::Private);
  EXPECT_EQ(c.target, "bob");
  EXPECT_EQ(c.text, "hi bob");
  EXPECT_EQ(parseChatLine("/msg bob").kind, ChatCommand::Kind::Error);
  EXPECT_EQ(parseChatLine("//slash").text, "/slash");
  EXPECT_EQ(parseChatLine("/who").kind, ChatCommand::Kind::Who);
  EXPECT_EQ(parseChatLine("/quit").kind, ChatCommand::Kind::Quit);
  c = parseChatLine("/kick eve being rude");
  EXPECT_EQ(c.kind, ChatCommand::Kind::Kick);
  EXPECT_EQ(c.target, "eve");
  EXPECT_EQ(parseChatLine("/nope").kind, ChatCommand::Kind::Error);
  EXPECT_EQ(parseChatLine("   ").kind, ChatCommand::Kind::Empty);
  EXPECT_EQ(parseChatLine("bad \xFF").kind, ChatCommand::Kind::Error);
  EXPECT_EQ(parseChatLine(std::string(5000, 'x')).kind, ChatCommand::Kind::Error);
}

TEST(ChatLog, AppliesEventsAndFormatsLines) {
  ChatLog log;
  huddle::net::ChatClientEvent ev;
  ev.kind = huddle::net::ChatClientEvent::Kind::Connected;
  ev.text = "bob";
  ev.hostName = "alice";
  EXPECT_TRUE(log.apply(ev));
  EXPECT_TRUE(log.connected());
  EXPECT_EQ(log.selfName(), "bob");

  ev = {};
  ev.kind = huddle::net::ChatClientEvent::Kind::Chat;
  ev.chat.kind = huddle::wire::ChatKind::Public;
  ev.chat.from = "bob";
  ev.chat.text = "hi";
  EXPECT_TRUE(log.apply(ev));
  std::string line = ChatLog::format(log.lines().back());
  EXPECT_EQ(line.substr(0, 1), "[");
  EXPECT_EQ(line.substr(10), " bob: hi");
  ev.chat.kind = huddle::wire::ChatKind::Join;
  log.apply(ev);
  EXPECT_EQ(ChatLog::format(log.lines().back()).substr(10), " * bob joined");
  ev.chat.kind = huddle::wire::ChatKind::Private;
  ev.chat.to = "carol";
  log.apply(ev);
  EXPECT_EQ(ChatLog::format(log.lines().back()).substr(10), " bob -> carol (private): hi");
  EXPECT_EQ(log.unread(), 4);
  log.markRead();
  EXPECT_EQ(log.unread(), 0);

  ev = {};
  ev.kind = huddle::net::ChatClientEvent::Kind::Users;
  ev.users = {{1, "alice", huddle::wire::UserInfo::kFlagHost}, {2, "bob", 0}};
  EXPECT_FALSE(log.apply(ev));
  EXPECT_EQ(log.users().size(), 2u);

  ev = {};
  ev.kind = huddle::net::ChatClientEvent::Kind::Disconnected;
  ev.text = "The host ended the session.";
  ev.sessionEnded = true;
  log.apply(ev);
  EXPECT_FALSE(log.connected());
  EXPECT_TRUE(log.sessionEnded());
  EXPECT_TRUE(log.users().empty());
  EXPECT_NE(log.toText().find("* The host ended the session.\n"), std::string::npos);
}

TEST(ChatLog, MultiLineTextCannotForgeALineOfItsOwn) {
  ChatLine l;
  l.style = ChatLine::Style::Message;
  l.from = "mallory";
  l.text = "hi\n[12:00:00] * The host ended the session.\n[12:00:01] alice: bye";
  const std::string out = ChatLog::format(l);
  std::vector<std::string> lines;
  for (std::size_t at = 0, nl; at <= out.size(); at = nl + 1) {
    nl = out.find('\n', at);
    if (nl == std::string::npos) nl = out.size();
    lines.push_back(out.substr(at, nl - at));
  }
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].substr(10), " mallory: hi");
  for (std::size_t i = 1; i < lines.size(); ++i) {
    EXPECT_EQ(lines[i].rfind(ChatLog::kContinuation, 0), 0u) << lines[i];  // every continuation is marked
    EXPECT_NE(lines[i][0], '[') << lines[i];
  }
  EXPECT_EQ(lines[1], std::string(ChatLog::kContinuation) + "[12:00:00] * The host ended the session.");
}

TEST(Limits, DecodeQueueBytesAtItsCap) {
  const std::uint64_t cap = huddle::wire::kMaxDecodeQueueBytes;
  for (std::uint64_t total : {cap - 1, cap, cap + 1})
    EXPECT_EQ(huddle::session::ScreenSession::decodeQueueTakes(1000, total - 1000), total <= cap) << total;
  EXPECT_TRUE(huddle::session::ScreenSession::decodeQueueTakes(0, cap + 1)) << "an empty queue takes any one update";
}

TEST(ChatLog, IsBounded) {
  ChatLog log(10);
  for (int i = 0; i < 25; ++i) log.addLocal(ChatLine::Style::Notice, std::to_string(i));
  ASSERT_EQ(log.lines().size(), 10u);
  EXPECT_EQ(log.lines().front().text, "15");
}

TEST(StreamStats, RatesAndPercentilesOverTheWindow) {
  huddle::session::StreamStats stats(1'000'000);
  for (int i = 0; i < 100; ++i)
    stats.record(10'000'000 + i * 10'000, 1000, 2, 1.0, static_cast<double>(i + 1));  // 100 updates in 1 s
  auto s = stats.snapshot(10'990'000);
  EXPECT_NEAR(s.updatesPerSec, 100.0, 0.01);
  EXPECT_NEAR(s.bytesPerSec, 100000.0, 0.1);
  EXPECT_DOUBLE_EQ(s.latencyMsP50, 50.0);
  EXPECT_DOUBLE_EQ(s.latencyMsP95, 95.0);
  EXPECT_DOUBLE_EQ(s.latencyMsP99, 99.0);
  EXPECT_EQ(s.updates, 100u);
  EXPECT_EQ(s.tiles, 200u);
  // Two seconds later the window is empty but the totals remain.
  auto later = stats.snapshot(13'000'000);
  EXPECT_EQ(later.updatesPerSec, 0.0);
  EXPECT_EQ(later.updates, 100u);
  EXPECT_EQ(stats.allLatenciesMs().size(), 100u);
}

TEST(StreamStats, PercentileEdgeCases) {
  EXPECT_EQ(huddle::session::percentile({}, 50), 0.0);
  EXPECT_EQ(huddle::session::percentile({7}, 99), 7.0);
  EXPECT_EQ(huddle::session::percentile({3, 1, 2}, 0), 1.0);
  EXPECT_EQ(huddle::session::percentile({3, 1, 2}, 100), 3.0);
}

TEST(StreamStats, TheTierAndItsMovesShowInTheSnapshot) {
  huddle::session::StreamStats stats;
  EXPECT_EQ(stats.snapshot(0).tier, 0);
  stats.setTier(0);  // the first TierSwitch of a subscription: no move
  EXPECT_EQ(stats.snapshot(0).tierSwitches, 0u);
  stats.setTier(2);
  stats.setTier(2);
  stats.setTier(1);
  const auto s = stats.snapshot(0);
  EXPECT_EQ(s.tier, 1);
  EXPECT_EQ(s.tierSwitches, 2u);
}

TEST(AppSettings, SaveAndLoadRoundTrip) {
  AppSettings s;
  s.name = "alice";
  s.address = "192.168.1.5";
  s.chatPort = 7000;
  s.screenPort = 7001;
  s.shareSource = "region";
  s.regionX = 10;
  s.regionY = 20;
  s.regionW = 640;
  s.regionH = 480;
  s.quality = 55;
  s.fps = 12;
  s.scalePercent = 75;
  s.chroma444 = true;
  s.sharpWhenStill = false;
  s.stillMs = 900;
  s.overlay = false;
  s.voiceMic = "USB Headset Mono";
  s.voiceSpeaker = "Built-in Audio Analog Stereo";
  s.voiceAutoGain = false;
  s.voicePushToTalk = true;
  s.voiceTalkKey = 345;
  std::vector<std::string> warnings;
  AppSettings back = AppSettings::parse(s.serialize(), warnings);
  EXPECT_TRUE(warnings.empty());
  EXPECT_EQ(back.serialize(), s.serialize());
  EXPECT_EQ(back.voiceMic, "USB Headset Mono");
  EXPECT_FALSE(back.voiceAutoGain);
  EXPECT_TRUE(back.voicePushToTalk);
  EXPECT_EQ(back.voiceTalkKey, 345);
}

TEST(AppSettings, BadValuesKeepDefaultsAndSayWhy) {
  std::vector<std::string> warnings;
  AppSettings s = AppSettings::parse(
      "quality = 500\nfps = -3\nscale = 60\nname = two words\nregion = 1 2\nfuture_key = 1\nno equals sign\n"
      "chat_port = 7000\n",
      warnings);
  EXPECT_EQ(s.quality, 80);
  EXPECT_EQ(s.fps, 30);
  EXPECT_EQ(s.scalePercent, 100);
  EXPECT_EQ(s.name, "");
  EXPECT_EQ(s.regionW, 1280);
  EXPECT_EQ(s.chatPort, 7000);  // the good line still counts
  EXPECT_EQ(warnings.size(), 6u);
}

TEST(ConfigFiles, WritesAtomicallyWithPrivatePermissions) {
  const std::string dir = ::testing::TempDir() + "huddle-config-test-" + std::to_string(::getpid());
  const std::string path = dir + "/sub/settings.ini";
  std::string error, text;
  ASSERT_TRUE(writeFileAtomically(path, "one\n", error)) << error;
  ASSERT_TRUE(writeFileAtomically(path, "two\n", error)) << error;
  ASSERT_TRUE(readSmallFile(path, 1024, text, error)) << error;
  EXPECT_EQ(text, "two\n");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((dir + "/sub").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  EXPECT_FALSE(readSmallFile(path, 2, text, error));
  EXPECT_NE(error.find("larger"), std::string::npos);
  EXPECT_FALSE(readSmallFile(dir + "/missing", 100, text, error));
  std::filesystem::remove_all(dir);
}

TEST(ConfigFiles, ConfigDirFollowsXdg) {
  const char* old = std::getenv("XDG_CONFIG_HOME");
  std::string saved = old ? old : "";
  ::setenv("XDG_CONFIG_HOME", "/tmp/xdg-test", 1);
  EXPECT_EQ(configDir(), "/tmp/xdg-test/huddle");
  ::setenv("XDG_CONFIG_HOME", "relative", 1);  // not absolute: ignored, as the spec says
  EXPECT_NE(configDir(), "relative/huddle");
  if (old) ::setenv("XDG_CONFIG_HOME", saved.c_str(), 1);
  else ::unsetenv("XDG_CONFIG_HOME");
}

TEST(Trust, InviteLinks) {
  huddle::net::Fingerprint key{};
  for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::uint8_t>(i * 7 + 3);
  const std::string link = inviteLink("192.168.1.5", 7000, key);
  EXPECT_EQ(link.rfind("huddle://192.168.1.5:7000/?fp=HUDL-", 0), 0u) << link;
  Invite inv;
  std::string error;
  ASSERT_TRUE(parseInvite(link, inv, error)) << error;
  EXPECT_EQ(inv.host, "192.168.1.5");
  EXPECT_EQ(inv.port, 7000);
  EXPECT_EQ(inv.keyBytes, 10u);
  EXPECT_TRUE(std::equal(key.begin(), key.begin() + 10, inv.key.begin()));
  // Later versions may add parameters; the port may be left out.
  ASSERT_TRUE(parseInvite("huddle://host.lan/?v=2&fp=" + huddle::net::shortCode(key), inv, error)) << error;
  EXPECT_EQ(inv.port, huddle::wire::kDefaultChatPort);
  EXPECT_FALSE(parseInvite("huddle://host:7000/", inv, error));
  EXPECT_NE(error.find("key code"), std::string::npos);
  EXPECT_FALSE(parseInvite("huddle://host:7000/?fp=HUDL-0000", inv, error));
  EXPECT_FALSE(parseInvite("huddle://:7000/?fp=" + huddle::net::shortCode(key), inv, error));
  EXPECT_FALSE(parseInvite("http://host/?fp=x", inv, error));
  // --join takes them.
  EXPECT_TRUE(parseOptions({"--join", link}).error.empty());
  EXPECT_NE(parseOptions({"--join", "huddle://host:1/?fp=junk"}).error.find("--join"), std::string::npos);
  // So does the bare command line a clicked link gives ("Exec=huddle %u"): the same join.
  ParseResult clicked = parseOptions({link});
  ASSERT_TRUE(clicked.error.empty()) << clicked.error;
  EXPECT_EQ(clicked.options.role, Role::Join);
  EXPECT_EQ(clicked.options.joinAddress, link);
  clicked = parseOptions({"--name", "bob", "--headless", link});
  ASSERT_TRUE(clicked.error.empty()) << clicked.error;
  EXPECT_EQ(clicked.options.joinAddress, link);
  EXPECT_EQ(clicked.options.name, "bob");
  EXPECT_NE(parseOptions({"huddle://host:1/?fp=junk"}).error.find("invite link"), std::string::npos);
  EXPECT_NE(parseOptions({"--host", link}).error.find("--host"), std::string::npos);
  EXPECT_NE(parseOptions({"--join", "h", link}).error.find("one address"), std::string::npos);
  EXPECT_NE(parseOptions({link, link}).error.find("one address"), std::string::npos);
  // Anything else on its own is still a mistake, not an address.
  EXPECT_NE(parseOptions({"192.168.1.5"}).error.find("unexpected argument"), std::string::npos);
}

TEST(Trust, KnownHostsRoundTripAndBadLines) {
  huddle::net::Fingerprint a{}, b{};
  a.fill(1);
  b.fill(2);
  const std::uint16_t port = huddle::wire::kDefaultChatPort;
  const std::string at2 = "10.0.0.2:" + std::to_string(port), at3 = "10.0.0.3:" + std::to_string(port);
  KnownHosts k;
  k.remember(at2, a, "alice");
  k.remember(at3, b, "bob the builder");
  k.remember(at2, b, "alice again");  // replaces
  ASSERT_EQ(k.entries().size(), 2u);
  // A label that would start a line of its own is not written.
  k.remember("10.0.0.5:1", a, "mallory\n10.0.0.6:1 " + huddle::net::fingerprintText(b) + " forged");
  EXPECT_EQ(k.find("10.0.0.5:1")->label, "");
  k.forget("10.0.0.5:1");
  const std::string path = ::testing::TempDir() + "huddle-known-" + std::to_string(::getpid());
  std::string error;
  ASSERT_TRUE(k.save(path, error)) << error;
  std::string text;
  ASSERT_TRUE(readSmallFile(path, 100000, text, error));
  text += "garbage line\n10.0.0.9:1 NOTAKEY x\n";
  ASSERT_TRUE(writeFileAtomically(path, text, error));
  std::vector<std::string> warnings;
  KnownHosts back = KnownHosts::load(path, warnings);
  EXPECT_EQ(warnings.size(), 2u);
  ASSERT_NE(back.find(at2), nullptr);
  EXPECT_EQ(back.find(at2)->key, b);
  EXPECT_EQ(back.find(at2)->label, "alice again");
  EXPECT_EQ(back.find(at3)->label, "bob the builder");
  EXPECT_EQ(back.find("10.0.0.4:" + std::to_string(port)), nullptr);
  // What gets pinned: the invite beats the remembered key.
  JoinTarget t;
  ASSERT_TRUE(resolveJoinTarget("10.0.0.3", port, t, error));
  huddle::net::TlsEngine::ClientTrust pin;
  ASSERT_TRUE(pinFor(t, back, pin));
  EXPECT_EQ(pin.pin, b);
  EXPECT_EQ(pin.pinBytes, 32u);
  ASSERT_TRUE(resolveJoinTarget(inviteLink("10.0.0.3", port, a), port, t, error));
  ASSERT_TRUE(pinFor(t, back, pin));
  EXPECT_EQ(pin.pinBytes, 10u);
  ASSERT_TRUE(resolveJoinTarget("10.0.0.8:1234", port, t, error));
  EXPECT_FALSE(pinFor(t, back, pin));  // new: probe and ask
  std::filesystem::remove(path);
}

TEST(Trust, HostIdentityIsMadeOnceAndKeptPrivate) {
  const std::string dir = ::testing::TempDir() + "huddle-identity-" + std::to_string(::getpid()) + "/huddle";
  std::filesystem::remove_all(std::filesystem::path(dir).parent_path());
  bool created = false;
  std::string error;
  auto first = loadOrCreateHostIdentity(dir, created, error);
  ASSERT_TRUE(first) << error;
  EXPECT_TRUE(created);
  auto again = loadOrCreateHostIdentity(dir, created, error);
  ASSERT_TRUE(again) << error;
  EXPECT_FALSE(created);
  EXPECT_EQ(again->fingerprint(), first->fingerprint());
  ASSERT_EQ(::chmod((dir + "/host_key.pem").c_str(), 0640), 0);
  EXPECT_FALSE(loadOrCreateHostIdentity(dir, created, error));
  EXPECT_NE(error.find("can be read by others"), std::string::npos) << error;
  ASSERT_EQ(::chmod((dir + "/host_key.pem").c_str(), 0600), 0);
  // A damaged key is refused with what to do, not replaced behind the user's back.
  ASSERT_TRUE(writeFileAtomically(dir + "/host_key.pem", "not a key", error));
  EXPECT_FALSE(loadOrCreateHostIdentity(dir, created, error));
  EXPECT_NE(error.find("unusable"), std::string::npos) << error;
  std::filesystem::remove_all(std::filesystem::path(dir).parent_path());
}

TEST(ChatLine, KickAndBan) {
  ChatCommand c = parseChatLine("/ban mallory spamming");
  EXPECT_EQ(c.kind, ChatCommand::Kind::Ban);
  EXPECT_EQ(c.target, "mallory");
  EXPECT_EQ(c.text, "spamming");
  EXPECT_EQ(parseChatLine("/kick bob").kind, ChatCommand::Kind::Kick);
  EXPECT_EQ(parseChatLine("/ban").kind, ChatCommand::Kind::Error);
}

TEST(ChatLine, PasswordAsksForAGivenOneAMadeUpOneOrNone) {
  ChatCommand c = parseChatLine("/password correct horse");
  EXPECT_EQ(c.kind, ChatCommand::Kind::Password);
  EXPECT_EQ(requestedPassword(c.text), "correct horse");
  EXPECT_EQ(requestedPassword(parseChatLine("/password off").text), "");
  const std::string made = requestedPassword(parseChatLine("/password").text).value_or("");
  EXPECT_TRUE(huddle::net::validateRoomPassword(made).empty()) << made;
  EXPECT_NE(made, requestedPassword("").value_or(""));
}

namespace {
huddle::net::ChatClientEvent connected(std::uint64_t session) {
  huddle::net::ChatClientEvent ev;
  ev.kind = huddle::net::ChatClientEvent::Kind::Connected;
  ev.text = "bob";
  ev.hostName = "alice";
  ev.sessionId = session;
  return ev;
}
huddle::net::ChatClientEvent said(std::uint64_t seq, const std::string& text, bool history) {
  huddle::net::ChatClientEvent ev;
  ev.kind = huddle::net::ChatClientEvent::Kind::Chat;
  ev.chat.seq = seq;
  ev.chat.from = "carol";
  ev.chat.text = text;
  if (history) ev.chat.flags = huddle::wire::ChatEvent::kFlagHistory;
  return ev;
}
int countText(const ChatLog& log, const std::string& text) {
  int n = 0;
  for (const auto& l : log.lines()) n += l.text.find(text) != std::string::npos;
  return n;
}
}  // namespace

TEST(ChatLog, AfterAReconnectMissedMessagesAppearOnceAndInOrder) {
  ChatLog log;
  log.apply(connected(7));
  log.apply(said(1, "one", true));
  log.apply(said(2, "two", false));
  log.apply(said(3, "three", false));
  huddle::net::ChatClientEvent gone;
  gone.kind = huddle::net::ChatClientEvent::Kind::Disconnected;
  gone.text = "Lost connection";
  log.apply(gone);
  // Back in the same session: the host replays its history, which overlaps what we had.
  log.apply(connected(7));
  EXPECT_EQ(countText(log, "Back in the session"), 1);
  for (auto [seq, text] : {std::pair{1, "one"}, {2, "two"}, {3, "three"}, {4, "four"}, {5, "five"}})
    log.apply(said(seq, text, true));
  log.apply(said(6, "six", false));
  for (const char* t : {"one", "two", "three", "four", "five", "six"}) EXPECT_EQ(countText(log, t), 1) << t;
  EXPECT_EQ(countText(log, "may be missing"), 0);
  std::vector<std::string> order;
  for (const auto& l : log.lines())
    if (l.from == "carol") order.push_back(l.text);
  EXPECT_EQ(order, (std::vector<std::string>{"one", "two", "three", "four", "five", "six"}));
}

TEST(ChatLog, AGapLongerThanTheHostsHistoryIsSaid) {
  ChatLog log;
  log.apply(connected(7));
  log.apply(said(10, "ten", false));
  log.apply(connected(7));
  log.apply(said(900, "much later", true));  // the ring no longer reaches back to 10
  log.apply(said(901, "and more", true));
  EXPECT_EQ(countText(log, "may be missing"), 1);
  EXPECT_EQ(countText(log, "much later"), 1);
}

TEST(ChatLog, ANewSessionStartsAfresh) {
  ChatLog log;
  log.apply(connected(7));
  log.apply(said(5, "old session", false));
  log.apply(connected(8));  // the host was restarted: seqs start again
  log.apply(said(1, "new one", true));
  EXPECT_EQ(countText(log, "new one"), 1);
  EXPECT_EQ(countText(log, "Joined the session"), 2);
}

TEST(Reconnect, OnlyLostConnectionsAreRetriedWithBackoffAndJitter) {
  huddle::net::ChatClientEvent lost;
  lost.kind = huddle::net::ChatClientEvent::Kind::Disconnected;
  EXPECT_TRUE(worthRetrying(lost, true, 0));
  EXPECT_TRUE(worthRetrying(lost, true, 100));
  EXPECT_FALSE(worthRetrying(lost, false, 0));  // never joined: say why, do not retry
  huddle::net::ChatClientEvent busy = lost;
  busy.hostBusy = true;  // ...unless the host was too busy to start the handshake
  EXPECT_TRUE(worthRetrying(busy, false, 0));
  EXPECT_TRUE(worthRetrying(busy, false, kBusyRetries - 1));
  EXPECT_FALSE(worthRetrying(busy, false, kBusyRetries));
  for (auto field : {&huddle::net::ChatClientEvent::sessionEnded, &huddle::net::ChatClientEvent::hostKeyMismatch,
                     &huddle::net::ChatClientEvent::needsPassword}) {
    huddle::net::ChatClientEvent ev = lost;
    ev.*field = true;
    EXPECT_FALSE(worthRetrying(ev, true, 0));
  }
  const std::int64_t expected[] = {250'000, 500'000, 1'000'000, 2'000'000, 2'000'000, 2'000'000};
  for (int attempt = 1; attempt <= 6; ++attempt) {
    const std::int64_t mid = retryDelayUs(attempt, 500), lo = retryDelayUs(attempt, 0), hi = retryDelayUs(attempt, 1000);
    EXPECT_EQ(mid, expected[attempt - 1]) << attempt;
    EXPECT_EQ(lo, expected[attempt - 1] * 4 / 5) << attempt;
    EXPECT_EQ(hi, expected[attempt - 1] * 6 / 5) << attempt;
  }
}

TEST(Options, SceneCursorAndSnapshotCursor) {
  auto r = parseOptions({"--host", "--share", "synthetic", "--scene-cursor", "still"});
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.options.sceneCursor, "still");
  EXPECT_EQ(parseOptions({"--host"}).options.sceneCursor, "moving");
  r = parseOptions({"--host", "--scene-cursor", "wobbly"});
  EXPECT_NE(r.error.find("--scene-cursor"), std::string::npos) << r.error;

  r = parseOptions({"--join", "h", "--snapshot", "--snapshot-cursor"});
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_TRUE(r.options.snapshot);
  EXPECT_TRUE(r.options.snapshotCursor);
  EXPECT_TRUE(r.options.snapshotPath.empty()) << "--snapshot-cursor is not the snapshot's file name";
  r = parseOptions({"--join", "h", "--snapshot-cursor"});
  EXPECT_NE(r.error.find("--snapshot-cursor"), std::string::npos) << r.error;
}

TEST(Options, PointWatchesAndTakesStreamPixels) {
  auto r = parseOptions({"--join", "h", "--point", "120,45", "--seconds", "3"});
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_TRUE(r.options.point);
  EXPECT_EQ(r.options.pointX, 120);
  EXPECT_EQ(r.options.pointY, 45);
  EXPECT_TRUE(r.options.watch) << "pointing watches the stream it points at";
  EXPECT_TRUE(r.options.headless);
  r = parseOptions({"--join", "h", "--point=0,0"});
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_FALSE(parseOptions({"--join", "h"}).options.point);
  const int last = int(huddle::wire::kMaxStreamSidePx) - 1;
  EXPECT_TRUE(parseOptions({"--join", "h", "--point", std::to_string(last) + ",0"}).error.empty());
  for (std::string bad : std::vector<std::string>{"12", "12,", ",3", "a,b", "-1,4", "4,-1", "1,2,3", std::to_string(last + 1) + ",0", ""}) {
    r = parseOptions({"--join", "h", "--point", bad});
    EXPECT_NE(r.error.find("--point"), std::string::npos) << bad << ": " << r.error;
  }
  r = parseOptions({"--host", "--point", "1,2"});
  EXPECT_NE(r.error.find("--point"), std::string::npos) << r.error;
}

// Sharing part of the X screen from the command line: one window, one monitor, a region;
// each names what to share (so implies --share x11) and only one goes at a time.
TEST(Options, OneWindowAMonitorOrARegion) {
  auto r = parseOptions({"--host", "--share", "window:Quarterly notes"});
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.options.share, "x11");
  ShareSpec spec = shareSpecFrom(r.options);
  EXPECT_EQ(spec.source, "window");
  EXPECT_EQ(spec.window, "Quarterly notes");

  r = parseOptions({"--host", "--monitor", "2"});
  ASSERT_TRUE(r.error.empty()) << r.error;
  spec = shareSpecFrom(r.options);
  EXPECT_EQ(spec.source, "monitor");
  EXPECT_EQ(spec.monitor, 1);  // the second, counted from 0
  EXPECT_EQ(spec.monitorName, "");
  r = parseOptions({"--host", "--monitor", "DP-1"});
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(shareSpecFrom(r.options).monitorName, "DP-1");

  r = parseOptions({"--host", "--region", "100,50,1280,720"});
  ASSERT_TRUE(r.error.empty()) << r.error;
  spec = shareSpecFrom(r.options);
  EXPECT_EQ(spec.source, "region");
  EXPECT_EQ(spec.regionX, 100);
  EXPECT_EQ(spec.regionY, 50);
  EXPECT_EQ(spec.regionW, 1280);
  EXPECT_EQ(spec.regionH, 720);

  r = parseOptions({"--host", "--share", "x11"});
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(shareSpecFrom(r.options).source, "screen");

  auto err = [](std::vector<std::string> args) { return parseOptions(args).error; };
  EXPECT_NE(err({"--share", "window:"}).find("--share needs"), std::string::npos);
  EXPECT_NE(err({"--monitor", "0"}).find("--monitor: '0' is not a monitor number"), std::string::npos);
  EXPECT_NE(err({"--monitor", "17"}).find("--monitor"), std::string::npos);
  EXPECT_NE(err({"--region", "1,2,3"}).find("--region needs X,Y,W,H"), std::string::npos);
  EXPECT_NE(err({"--region", "0,0,8,8"}).find("--region"), std::string::npos);  // too small to be a stream
  EXPECT_NE(err({"--region", "0,0,1280,720,5"}).find("--region"), std::string::npos);
  EXPECT_NE(err({"--region", "-1,0,1280,720"}).find("--region"), std::string::npos);
  EXPECT_EQ(err({"--monitor", "1", "--region", "0,0,100,100"}), "share one thing: a window, a monitor or a region");
  EXPECT_NE(err({"--share", "synthetic", "--monitor", "1"}).find("not the test scene"), std::string::npos);
}

TEST(Options, ListAndNoAnnounce) {
  auto r = parseOptions({"--list"});
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_TRUE(r.options.list);
  EXPECT_TRUE(r.options.announce);  // a host announces unless told not to
  EXPECT_FALSE(parseOptions({"--list", "--host"}).error.empty());
  EXPECT_FALSE(parseOptions({"--join", "alice", "--list"}).error.empty());
  EXPECT_FALSE(parseOptions({"--list=yes"}).error.empty());
  r = parseOptions({"--host", "--no-announce"});
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_FALSE(r.options.announce);
  EXPECT_FALSE(announceWanted(r.options));
  EXPECT_FALSE(parseOptions({"--join", "10.0.0.5", "--no-announce"}).error.empty());
  // --join NAME parses like a host name; it is looked up among the sessions nearby at run time.
  r = parseOptions({"--join", "alice"});
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.options.joinAddress, "alice");
}

TEST(Nearby, HuddleNoAnnounceTurnsAnnouncingOff) {
  const char* old = std::getenv("HUDDLE_NO_ANNOUNCE");
  const std::string saved = old ? old : "";
  Options o;
  ::setenv("HUDDLE_NO_ANNOUNCE", "1", 1);
  EXPECT_FALSE(announceWanted(o));
  ::setenv("HUDDLE_NO_ANNOUNCE", "0", 1);
  EXPECT_TRUE(announceWanted(o));
  ::unsetenv("HUDDLE_NO_ANNOUNCE");
  EXPECT_TRUE(announceWanted(o));
  if (old) ::setenv("HUDDLE_NO_ANNOUNCE", saved.c_str(), 1);
  // A host controller made without the user's options never announces.
  EXPECT_FALSE(HostRequest{}.announce);
}

TEST(Nearby, SessionNamesAndAddressesAreToldApart) {
  for (const char* name : {"alice", "bob-2", "Zoë"}) EXPECT_TRUE(looksLikeSessionName(name)) << name;
  for (const char* addr : {"10.0.0.5", "alice:9999", "laptop.local", "localhost", "huddle://10.0.0.5:9999/?fp=X", ""})
    EXPECT_FALSE(looksLikeSessionName(addr)) << addr;
}

TEST(Nearby, JoinByNamePicksExactlyOneAndPinsItsKey) {
  auto session = [](const std::string& name, std::uint32_t from, std::uint8_t keyByte) {
    net::NearbySession s;
    s.announcement.sessionName = name;
    s.announcement.hostName = "box";
    s.announcement.chatPort = 9999;
    s.announcement.screenPort = 9998;
    s.announcement.passwordNeeded = keyByte == 3;
    s.fromAddress = from;
    s.key.fill(keyByte);
    return s;
  };
  const std::vector<net::NearbySession> heard = {session("alice", 0x0A000005, 1), session("bob", 0x0A000006, 2),
                                                 session("bob", 0x0A000007, 3)};
  net::NearbySession picked;
  std::string error;
  ASSERT_TRUE(pickNearby(heard, "alice", picked, error)) << error;
  // Its invite link: the address it announced from, its chat port and its key, pinned on join.
  const std::string link = nearbyInvite(picked);
  EXPECT_EQ(link, inviteLink("10.0.0.5", 9999, picked.key));
  Invite invite;
  ASSERT_TRUE(parseInvite(link, invite, error)) << error;
  EXPECT_EQ(invite.host, "10.0.0.5");
  EXPECT_TRUE(std::equal(invite.key.begin(), invite.key.begin() + invite.keyBytes, picked.key.begin()));
  EXPECT_NE(describeNearby(heard[2]).find("password needed"), std::string::npos);
  // Several: an error naming each with its link; none: the ones there are.
  EXPECT_FALSE(pickNearby(heard, "bob", picked, error));
  EXPECT_NE(error.find("2 sessions nearby are named \"bob\""), std::string::npos) << error;
  EXPECT_NE(error.find("10.0.0.7:9999"), std::string::npos) << error;
  EXPECT_FALSE(pickNearby(heard, "carol", picked, error));
  EXPECT_NE(error.find("no session named \"carol\""), std::string::npos) << error;
  EXPECT_NE(error.find("\"alice\" on box at 10.0.0.5:9999"), std::string::npos) << error;
  EXPECT_FALSE(pickNearby({}, "carol", picked, error));
  EXPECT_NE(error.find("no session is announced nearby"), std::string::npos) << error;
}

TEST(Options, PenTakesAStrokeOfStreamPixelsAndNoPointersIsASwitch) {
  auto r = parseOptions({"--join", "h", "--pen", "10,20;30,40;50,60", "--seconds", "3"});
  ASSERT_TRUE(r.error.empty()) << r.error;
  ASSERT_EQ(r.options.penPoints.size(), 3u);
  EXPECT_EQ(r.options.penPoints[2], (std::pair<int, int>{50, 60}));
  EXPECT_TRUE(r.options.watch);
  EXPECT_TRUE(r.options.headless);
  EXPECT_TRUE(parseOptions({"--join", "h", "--pen", "0,0"}).error.empty()) << "one point is a dot";
  for (std::string bad : std::vector<std::string>{"", "1", "1,2;", ";1,2", "1,2;3", "a,b", "-1,2", "8192,0", "1,2,3"}) {
    r = parseOptions({"--join", "h", "--pen", bad});
    EXPECT_NE(r.error.find("--pen"), std::string::npos) << bad << ": " << r.error;
  }
  std::string many;
  for (std::size_t i = 0; i <= huddle::wire::kMaxPenPointsPerStroke; ++i) many += (i ? ";" : "") + std::to_string(i % 100) + ",1";
  EXPECT_NE(parseOptions({"--join", "h", "--pen", many}).error.find("--pen"), std::string::npos) << "over a stroke's cap";
  EXPECT_NE(parseOptions({"--host", "--pen", "1,2"}).error.find("--pen"), std::string::npos);
  EXPECT_TRUE(parseOptions({"--host"}).options.viewerMarks);
  EXPECT_FALSE(parseOptions({"--host", "--no-pointers"}).options.viewerMarks);
}
