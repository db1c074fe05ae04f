// Host keys and pinning driven as a user would: invite links, the first-meeting question,
// known_hosts, a host whose key changed (a hard stop), and a host key others could read.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "tests/support/free_port.h"
#include "tests/support/host_output.h"
#include "tests/support/subprocess.h"

using huddle::test::Subprocess;

namespace {

// One config folder per role, so host and client keep their own keys and known hosts.
struct Folders {
  std::string root = (std::filesystem::temp_directory_path() / ("huddle-trust-test-" + std::to_string(::getpid()))).string();
  Folders() { std::filesystem::remove_all(root); }
  ~Folders() { std::filesystem::remove_all(root); }
  std::string env(const std::string& who) const { return "XDG_CONFIG_HOME=" + root + "/" + who; }
  std::string file(const std::string& who, const std::string& name) const { return root + "/" + who + "/huddle/" + name; }
};

std::string chatPort(const std::string& hostOutput) {
  std::smatch m;
  return std::regex_search(hostOutput, m, std::regex("Chat port ([0-9]+)")) ? m[1].str() : "";
}

std::string readAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> hostArgs(const std::string& name, const std::string& port) {
  return {HUDDLE_BINARY, "--host", "--headless", "--name", name, "--chat-port", port, "--screen-port", "0"};
}

}  // namespace

TEST(Trust, FirstMeetingAsksThenRemembers) {
  Folders f;
  Subprocess host(hostArgs("alice", "0"), {f.env("host")});
  ASSERT_TRUE(host.waitForOutput("Ctrl+C ends the session", 10000)) << host.output();
  EXPECT_NE(host.output().find("new host key"), std::string::npos) << host.output();
  const std::string addr = "127.0.0.1:" + chatPort(host.output());

  // The host is new: the client shows its key code and waits for an answer before sending
  // anything; the host sees nobody join meanwhile.
  Subprocess bob({HUDDLE_BINARY, "--join", addr, "--headless", "--name", "bob"}, {f.env("bob")});
  ASSERT_TRUE(bob.waitForOutput("Trust this host?", 10000)) << bob.output();
  std::smatch code;
  ASSERT_TRUE(std::regex_search(host.output(), code, std::regex("HUDL(-[A-Z0-9]{4}){4}")));
  EXPECT_NE(bob.output().find(code[0].str()), std::string::npos) << "the client shows the host's own code";
  EXPECT_EQ(host.output().find("bob joined"), std::string::npos);
  bob.writeLine("yes");
  ASSERT_TRUE(bob.waitForOutput("as bob", 10000)) << bob.output();
  bob.closeStdin();
  EXPECT_EQ(bob.wait(10000), 0) << bob.output();
  const std::string known = readAll(f.file("bob", "known_hosts"));
  EXPECT_NE(known.find(addr + " "), std::string::npos) << known;
  EXPECT_NE(known.find(" alice"), std::string::npos) << known;

  // Next time: no question.
  Subprocess again({HUDDLE_BINARY, "--join", addr, "--headless", "--name", "bob"}, {f.env("bob")});
  ASSERT_TRUE(again.waitForOutput("as bob", 10000)) << again.output();
  EXPECT_EQ(again.output().find("Trust this host?"), std::string::npos) << again.output();
  again.closeStdin();
  EXPECT_EQ(again.wait(10000), 0) << again.output();

  // Saying no: nothing is sent, nobody joins.
  Subprocess carol({HUDDLE_BINARY, "--join", addr, "--headless", "--name", "carol"}, {f.env("carol")});
  ASSERT_TRUE(carol.waitForOutput("Trust this host?", 10000)) << carol.output();
  carol.writeLine("no");
  EXPECT_EQ(carol.wait(10000), 1) << carol.output();
  EXPECT_NE(carol.output().find("Not joining"), std::string::npos) << carol.output();
  EXPECT_EQ(host.output().find("carol joined"), std::string::npos) << host.output();
  host.signal(SIGTERM);
  EXPECT_EQ(host.wait(10000), 0) << host.output();
}

TEST(Trust, AChangedHostKeyIsAHardStop) {
  Folders f;
  std::string port;
  {
    Subprocess host(hostArgs("alice", "0"), {f.env("host")});
    ASSERT_TRUE(host.waitForOutput("Ctrl+C ends the session", 10000)) << host.output();
    port = chatPort(host.output());
    Subprocess bob({HUDDLE_BINARY, "--join", "127.0.0.1:" + port, "--headless", "--name", "bob", "--trust-new-host"},
                   {f.env("bob")});
    ASSERT_TRUE(bob.waitForOutput("as bob", 10000)) << bob.output();
    bob.closeStdin();
    EXPECT_EQ(bob.wait(10000), 0) << bob.output();
    host.signal(SIGTERM);
    EXPECT_EQ(host.wait(10000), 0) << host.output();
  }
  // Someone else (another key) now answers at the same address.
  Subprocess impostor(hostArgs("alice", port), {f.env("impostor")});
  ASSERT_TRUE(impostor.waitForOutput("Ctrl+C ends the session", 10000)) << impostor.output();
  Subprocess bob({HUDDLE_BINARY, "--join", "127.0.0.1:" + port, "--headless", "--name", "bob", "--trust-new-host"},
                 {f.env("bob")});
  EXPECT_EQ(bob.wait(10000), 1) << bob.output();
  EXPECT_NE(bob.output().find("WARNING"), std::string::npos) << bob.output();
  EXPECT_NE(bob.output().find("known_hosts"), std::string::npos) << bob.output();
  EXPECT_EQ(impostor.output().find("bob joined"), std::string::npos) << impostor.output();

  // An invite link with another host's code is refused the same way.
  std::string invite = huddle::test::loopbackInvite(impostor.output());
  ASSERT_FALSE(invite.empty());
  std::string wrong = invite.substr(0, invite.size() - 4) + (invite.substr(invite.size() - 4) == "AAAA" ? "BBBB" : "AAAA");
  Subprocess carol({HUDDLE_BINARY, "--join", wrong, "--headless", "--name", "carol"}, {f.env("carol")});
  EXPECT_EQ(carol.wait(10000), 1) << carol.output();
  EXPECT_NE(carol.output().find("WARNING"), std::string::npos) << carol.output();
  EXPECT_EQ(impostor.output().find("carol joined"), std::string::npos) << impostor.output();
  impostor.signal(SIGTERM);
  EXPECT_EQ(impostor.wait(10000), 0) << impostor.output();
}

// What a clicked link runs ("Exec=huddle %u" in the desktop entry): the link alone on the
// command line joins like --join LINK, key pinned, no question; a link with another key is
// the same hard stop.
TEST(Trust, ABareInviteLinkJoinsLikeJoin) {
  Folders f;
  Subprocess host(hostArgs("alice", "0"), {f.env("host")});
  ASSERT_TRUE(host.waitForOutput("Ctrl+C ends the session", 10000)) << host.output();
  const std::string invite = huddle::test::loopbackInvite(host.output());
  ASSERT_FALSE(invite.empty()) << host.output();
  Subprocess bob({HUDDLE_BINARY, "--headless", "--name", "bob", invite}, {f.env("bob")});
  ASSERT_TRUE(bob.waitForOutput("as bob", 10000)) << bob.output();
  EXPECT_EQ(bob.output().find("Trust this host?"), std::string::npos) << bob.output();
  bob.writeLine("clicked my way in");
  EXPECT_TRUE(host.waitForOutput("bob: clicked my way in", 10000)) << host.output();
  bob.closeStdin();
  EXPECT_EQ(bob.wait(10000), 0) << bob.output();

  const std::string wrong =
      invite.substr(0, invite.size() - 4) + (invite.substr(invite.size() - 4) == "AAAA" ? "BBBB" : "AAAA");
  Subprocess carol({HUDDLE_BINARY, "--headless", "--name", "carol", wrong}, {f.env("carol")});
  EXPECT_EQ(carol.wait(10000), 1) << carol.output();
  EXPECT_NE(carol.output().find("WARNING"), std::string::npos) << carol.output();
  EXPECT_EQ(host.output().find("carol joined"), std::string::npos) << host.output();
  host.signal(SIGTERM);
  EXPECT_EQ(host.wait(10000), 0) << host.output();
}

// Run from a script with stdin closed (`<&-`): no input is the end of input. A first meeting
// is a no, and a link (nothing to ask) joins and leaves once it has nothing more to say. The
// closed descriptor must not be taken by a file the process opens (its wake was, once, and
// read as input that never ended).
TEST(Trust, WithStdinClosedAFirstMeetingIsANoAndALinkJoinsAndLeaves) {
  Folders f;
  Subprocess host(hostArgs("alice", "0"), {f.env("host")});
  ASSERT_TRUE(host.waitForOutput("Ctrl+C ends the session", 10000)) << host.output();
  const std::string addr = "127.0.0.1:" + chatPort(host.output());
  const std::string invite = huddle::test::loopbackInvite(host.output());
  ASSERT_FALSE(invite.empty()) << host.output();
  auto closedStdin = [](const std::string& args) {
    return std::vector<std::string>{"/bin/sh", "-c", "exec " + std::string(HUDDLE_BINARY) + " --headless " + args + " <&-"};
  };

  Subprocess dave(closedStdin("--name dave --join " + addr), {f.env("dave")});
  EXPECT_EQ(dave.wait(10000), 1) << dave.output();
  EXPECT_NE(dave.output().find("Trust this host?"), std::string::npos) << dave.output();

  Subprocess erin(closedStdin("--name erin '" + invite + "'"), {f.env("erin")});
  EXPECT_EQ(erin.wait(10000), 0) << erin.output();
  EXPECT_TRUE(host.waitForOutput("erin joined", 10000)) << host.output();
  EXPECT_EQ(host.output().find("dave joined"), std::string::npos) << host.output();
  host.signal(SIGTERM);
  EXPECT_EQ(host.wait(10000), 0) << host.output();
}

TEST(Trust, HostRefusesAKeyOthersCanRead) {
  Folders f;
  {
    Subprocess host(hostArgs("alice", "0"), {f.env("host")});
    ASSERT_TRUE(host.waitForOutput("Ctrl+C ends the session", 10000)) << host.output();
    host.signal(SIGTERM);
    EXPECT_EQ(host.wait(10000), 0) << host.output();
  }
  struct stat st {};
  ASSERT_EQ(::stat(f.file("host", "host_key.pem").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((f.root + "/host/huddle").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(::chmod(f.file("host", "host_key.pem").c_str(), 0644), 0);
  Subprocess host({"/bin/sh", "-c", "exec " + std::string(HUDDLE_BINARY) + " --host --headless --chat-port 0 --screen-port 0 2>&1"},
                  {f.env("host")});
  EXPECT_EQ(host.wait(10000), 1) << host.output();
  EXPECT_NE(host.output().find("can be read by others"), std::string::npos) << host.output();
  EXPECT_NE(host.output().find("chmod 600"), std::string::npos) << host.output();
}

TEST(Trust, RoomPasswordAdmitsOnlyThoseWhoKnowItAndCanBeChangedLive) {
  Folders f;
  std::filesystem::create_directories(f.root);
  const std::string pwFile = f.root + "/room-password";
  std::ofstream(pwFile) << "open sesame 42\n";
  std::vector<std::string> args = hostArgs("alice", "0");
  args.insert(args.end(), {"--password-file", pwFile});
  Subprocess host(args, {f.env("host")});
  ASSERT_TRUE(host.waitForOutput("Ctrl+C ends the session", 10000)) << host.output();
  EXPECT_NE(host.output().find("has a password"), std::string::npos) << host.output();
  EXPECT_EQ(host.output().find("open sesame"), std::string::npos) << "the password is not printed";
  const std::string invite = huddle::test::loopbackInvite(host.output());
  // Without it, and with a wrong one: the same plain answer, and nobody joins.
  Subprocess none({HUDDLE_BINARY, "--join", invite, "--headless", "--name", "bob"}, {f.env("bob")});
  EXPECT_EQ(none.wait(10000), 1) << none.output();
  EXPECT_NE(none.output().find("needs a password"), std::string::npos) << none.output();
  Subprocess wrong({HUDDLE_BINARY, "--join", invite, "--headless", "--name", "bob"},
                   {f.env("bob"), "HUDDLE_PASSWORD=open sesame 43"});
  EXPECT_EQ(wrong.wait(10000), 1) << wrong.output();
  EXPECT_NE(wrong.output().find("wrong password"), std::string::npos) << wrong.output();
  EXPECT_EQ(host.output().find("bob joined"), std::string::npos) << host.output();
  // With it (from a file, like the host), in, and chatting.
  Subprocess right({HUDDLE_BINARY, "--join", invite, "--headless", "--name", "bob", "--password-file", pwFile},
                   {f.env("bob")});
  ASSERT_TRUE(right.waitForOutput("as bob", 10000)) << right.output();
  right.writeLine("hello with the password");
  EXPECT_TRUE(host.waitForOutput("bob: hello with the password", 10000)) << host.output();
  // The host makes a new password: bob stays, the old one opens the door no more.
  host.writeLine("/password");
  ASSERT_TRUE(host.waitForOutput("newcomers need it", 10000)) << host.output();
  std::smatch m;
  const std::string hostSaid = host.output();
  ASSERT_TRUE(std::regex_search(hostSaid, m, std::regex("room password is now ([A-Za-z0-9]+) "))) << hostSaid;
  const std::string newPassword = m[1].str();
  right.writeLine("still here");
  EXPECT_TRUE(host.waitForOutput("bob: still here", 10000)) << host.output();
  Subprocess old({HUDDLE_BINARY, "--join", invite, "--headless", "--name", "carol", "--password-file", pwFile},
                 {f.env("carol")});
  EXPECT_EQ(old.wait(10000), 1) << old.output();
  EXPECT_NE(old.output().find("wrong password"), std::string::npos) << old.output();
  Subprocess fresh({HUDDLE_BINARY, "--join", invite, "--headless", "--name", "carol"},
                   {f.env("carol"), "HUDDLE_PASSWORD=" + newPassword});
  ASSERT_TRUE(fresh.waitForOutput("as carol", 10000)) << fresh.output();
  fresh.closeStdin();
  EXPECT_EQ(fresh.wait(10000), 0) << fresh.output();
  right.closeStdin();
  EXPECT_EQ(right.wait(10000), 0) << right.output();
  host.signal(SIGTERM);
  EXPECT_EQ(host.wait(10000), 0) << host.output();
}

TEST(Reconnect, AClientComesBackByItselfWhenTheHostReturns) {
  Folders f;
  std::string port, invite;
  auto host = std::make_unique<Subprocess>(hostArgs("alice", "0"), std::vector<std::string>{f.env("host")});
  ASSERT_TRUE(host->waitForOutput("Ctrl+C ends the session", 10000)) << host->output();
  port = chatPort(host->output());
  invite = huddle::test::loopbackInvite(host->output());
  Subprocess bob({HUDDLE_BINARY, "--join", invite, "--headless", "--name", "bob"}, {f.env("bob")});
  ASSERT_TRUE(bob.waitForOutput("as bob", 10000)) << bob.output();

  // The host dies without a word (as a crash or a pulled cable would look).
  host->signal(SIGKILL);
  host->wait(5000);
  ASSERT_TRUE(bob.waitForOutput("Reconnecting... (attempt 1)", 10000)) << bob.output();
  bob.writeLine("typed while the host was away");

  // It comes back on the same port with the same key; bob is back within seconds, and
  // what bob typed meanwhile is said exactly once.
  host = std::make_unique<Subprocess>(hostArgs("alice", port), std::vector<std::string>{f.env("host")});
  ASSERT_TRUE(host->waitForOutput("Ctrl+C ends the session", 10000)) << host->output();
  ASSERT_TRUE(host->waitForOutput("* bob joined", 10000)) << bob.output();
  ASSERT_TRUE(host->waitForOutput("bob: typed while the host was away", 10000)) << host->output();
  host->writeLine("welcome back");
  ASSERT_TRUE(bob.waitForOutput("alice: welcome back", 10000)) << bob.output();
  const std::string out = host->output();
  EXPECT_EQ(out.find("typed while the host was away"), out.rfind("typed while the host was away"));
  bob.closeStdin();
  EXPECT_EQ(bob.wait(10000), 0) << bob.output();
  host->signal(SIGTERM);
  EXPECT_EQ(host->wait(10000), 0);
}

// docs/SECURITY.md s.9: the host is killed mid-stream and started again at once (same key, same
// password), twice. The chatters, the sharer and the viewers all come back by themselves,
// the viewers see the shared screen again, and chat flows. Times are printed, not asserted.
TEST(Reconnect, EveryoneIsBackAfterTheHostIsKilledMidStream) {
  Folders f;
  const std::string password = "HUDDLE_PASSWORD=kill and restart";
  auto startHost = [&](const std::string& port) {
    auto h = std::make_unique<Subprocess>(hostArgs("alice", port), std::vector<std::string>{f.env("host"), password});
    EXPECT_TRUE(h->waitForOutput("Ctrl+C ends the session", 10000)) << h->output();
    return h;
  };
  // The host comes back on the same port: one no other test's connection can take meanwhile.
  const std::string port = std::to_string(huddle::test::portOutsideEphemeralRange());
  auto host = startHost(port);
  const std::string invite = huddle::test::loopbackInvite(host->output());
  struct Person {
    std::string name;
    bool viewer = false;
    std::unique_ptr<Subprocess> proc;
  };
  std::vector<Person> people;
  auto join = [&](const std::string& name, bool viewer, std::vector<std::string> extra) {
    std::vector<std::string> args = {HUDDLE_BINARY, "--join", invite, "--headless", "--name", name};
    args.insert(args.end(), extra.begin(), extra.end());
    people.push_back({name, viewer, std::make_unique<Subprocess>(args, std::vector<std::string>{f.env(name), password})});
  };
  join("sam", false, {"--share", "synthetic", "--scene-size", "320x200", "--fps", "15"});
  for (const char* name : {"c1", "c2", "c3", "c4"}) join(name, false, {});
  for (const char* name : {"v1", "v2"}) join(name, true, {"--watch", "--seconds", "600"});
  auto everyoneBack = [&](std::size_t times, int timeoutMs) {
    bool ok = true;
    for (auto& p : people) {
      ok = p.proc->waitForCount(" as " + p.name + ".", times, timeoutMs) && ok;
      if (p.viewer) ok = p.proc->waitForCount("The first image came", times, timeoutMs) && ok;
    }
    return ok;
  };
  ASSERT_TRUE(everyoneBack(1, 20000)) << people.back().proc->output();
  for (std::size_t cycle = 1; cycle <= 2; ++cycle) {
    host->signal(SIGKILL);
    host->wait(5000);
    const auto killedAt = std::chrono::steady_clock::now();
    host = startHost(port);
    if (!everyoneBack(cycle + 1, 20000)) {
      for (auto& p : people) std::fprintf(stderr, "=== %s\n%s", p.name.c_str(), p.proc->output().c_str());
      FAIL() << "cycle " << cycle << ": not everyone is back";
    }
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - killedAt);
    std::printf("cycle %zu: all %zu back, viewers with an image, %lld ms after the kill\n", cycle, people.size(),
                static_cast<long long>(ms.count()));
    host->writeLine("back " + std::to_string(cycle));
    for (auto& p : people)
      EXPECT_TRUE(p.proc->waitForOutput("alice: back " + std::to_string(cycle), 10000)) << p.name << "\n" << p.proc->output();
  }
  // The viewers first: a watch whose stream ends (the sharer leaving) ends with 1, rightly.
  for (bool viewers : {true, false}) {
    for (auto& p : people)
      if (p.viewer == viewers) p.proc->signal(SIGTERM);
    for (auto& p : people) {
      if (p.viewer != viewers) continue;
      EXPECT_EQ(p.proc->wait(10000), 0) << p.name << "\n" << p.proc->output();
    }
  }
  host->signal(SIGTERM);
  EXPECT_EQ(host->wait(10000), 0);
}

TEST(History, AHostThatKeepsHistoryShowsItAfterARestart) {
  Folders f;
  const std::vector<std::string> env = {f.env("host"), "XDG_STATE_HOME=" + f.root + "/state"};
  std::vector<std::string> args = hostArgs("alice", "0");
  args.push_back("--keep-history");
  std::string invite;
  {
    Subprocess host(args, env);
    ASSERT_TRUE(host.waitForOutput("Ctrl+C ends the session", 10000)) << host.output();
    invite = huddle::test::loopbackInvite(host.output());
    Subprocess bob({HUDDLE_BINARY, "--join", invite, "--headless", "--name", "bob"}, {f.env("bob")});
    ASSERT_TRUE(bob.waitForOutput("as bob", 10000)) << bob.output();
    bob.writeLine("remember this");
    ASSERT_TRUE(host.waitForOutput("bob: remember this", 10000)) << host.output();
    bob.closeStdin();
    EXPECT_EQ(bob.wait(10000), 0) << bob.output();
    host.signal(SIGTERM);
    EXPECT_EQ(host.wait(10000), 0) << host.output();
  }
  struct stat st {};
  ASSERT_EQ(::stat((f.root + "/state/huddle/chat-history.log").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // A new host process, a new participant: the old conversation is there.
  Subprocess host2(args, env);
  ASSERT_TRUE(host2.waitForOutput("Ctrl+C ends the session", 10000)) << host2.output();
  Subprocess carol({HUDDLE_BINARY, "--join", huddle::test::loopbackInvite(host2.output()), "--headless", "--name", "carol"},
                   {f.env("carol")});
  ASSERT_TRUE(carol.waitForOutput("bob: remember this", 10000)) << carol.output();
  carol.closeStdin();
  EXPECT_EQ(carol.wait(10000), 0) << carol.output();
  host2.signal(SIGTERM);
  EXPECT_EQ(host2.wait(10000), 0) << host2.output();
}
