// Unit tests for huddle_session's pure parts: the command line and chat input.
#include <gtest/gtest.h>

#include "app/session/chat_command.h"
#include "app/session/options.h"

using namespace huddle::session;

TEST(Options, Defaults) {
  auto r = parseOptions({});
  ASSERT_TRUE(r.error.empty());
  EXPECT_EQ(r.options.role, Role::Ask);
  EXPECT_EQ(r.options.chatPort, 9999);
  EXPECT_EQ(r.options.screenPort, 9998);
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

TEST(Options, SplitHostPort) {
  std::string host, error;
  std::uint16_t port = 0;
  ASSERT_TRUE(splitHostPort("example.lan", host, port, 9999, error));
  EXPECT_EQ(host, "example.lan");
  EXPECT_EQ(port, 9999);
  ASSERT_TRUE(splitHostPort("10.0.0.2:1234", host, port, 9999, error));
  EXPECT_EQ(host, "10.0.0.2");
  EXPECT_EQ(port, 1234);
  EXPECT_FALSE(splitHostPort("10.0.0.2:", host, port, 9999, error));
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

TEST(ChatLine, Format) {
  huddle::wire::ChatEvent e;
  e.timeUs = 0;
  e.kind = huddle::wire::ChatKind::Public;
  e.from = "bob";
  e.text = "hi";
  std::string line = formatChatLine(e);
  EXPECT_EQ(line.substr(0, 1), "[");
  EXPECT_EQ(line.substr(10), " bob: hi");
  e.kind = huddle::wire::ChatKind::Join;
  EXPECT_EQ(formatChatLine(e).substr(10), " * bob joined");
  e.kind = huddle::wire::ChatKind::Private;
  e.to = "carol";
  EXPECT_EQ(formatChatLine(e).substr(10), " bob -> carol (private): hi");
}
