// Voice through a really lossy link (issue 13): the host, alice and bob in a network
// namespace this test makes for itself (as root: unshare(CLONE_NEWNET), then lo brought up),
// where the kernel drops a share of the datagrams to the host's voice port: netem
// (`tc qdisc ... netem loss N%`) where the kernel has it, else xtables' statistic match
// (`iptables -m statistic --mode random`), which kernels without netem often still have.
// Either way the loss is the kernel's, on the real UDP path, not the relay's own
// --voice-loss; the rule dies with the namespace, and is taken out at the end of each test
// even when it fails. bob must still hear alice's sentence (the same envelope measure and
// threshold as the loopback test at 20% loss) and the delay must not grow over it.
// Skipped, saying why, where the namespace or the loss cannot be made.
#include <gtest/gtest.h>

#include <ifaddrs.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

#include "tests/integration/netns/netns_support.h"
#include "tests/integration/voice_run.h"

using namespace huddle::voice;
using namespace huddle::voice::test;

namespace {

constexpr std::uint16_t kVoicePort = 9996;  // inside our namespace: nothing else has it

bool run(const std::string& command) {
  const int status = std::system((command + " >/dev/null 2>&1").c_str());
  return status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// The kernel drops `percent` % of the datagrams to the voice port on lo, until destroyed.
class LossyLink {
 public:
  explicit LossyLink(int percent) {
    const std::string p = std::to_string(percent);
    const std::string port = std::to_string(kVoicePort);
    // netem on lo would also drop the chat connection's segments and the host's datagrams to
    // bob; a filter keeps it to alice's voice where the kernel has prio and u32.
    if (run("tc qdisc add dev lo root handle 1: prio") &&
        run("tc qdisc add dev lo parent 1:3 handle 30: netem loss " + p + "%") &&
        run("tc filter add dev lo parent 1:0 protocol ip prio 1 u32 match ip protocol 17 0xff match ip dport " + port +
            " 0xffff flowid 1:3")) {
      m_undo = "tc qdisc del dev lo root";
      m_how = "tc netem loss " + p + "%";
      return;
    }
    run("tc qdisc del dev lo root");
    char probability[16];
    std::snprintf(probability, sizeof probability, "%.2f", percent / 100.0);
    const std::string rule = "INPUT -p udp --dport " + port + " -m statistic --mode random --probability " + probability + " -j DROP";
    for (const char* tool : {"iptables-legacy", "iptables"}) {
      if (run(std::string(tool) + " -A " + rule)) {
        m_undo = std::string(tool) + " -D " + rule;
        m_how = std::string(tool) + " statistic drop " + p + "% (this kernel has no netem)";
        return;
      }
    }
  }
  ~LossyLink() {
    if (!m_undo.empty()) run(m_undo);
  }
  LossyLink(const LossyLink&) = delete;
  LossyLink& operator=(const LossyLink&) = delete;
  bool ok() const { return !m_undo.empty(); }
  const std::string& how() const { return m_how; }

 private:
  std::string m_undo, m_how;
};

void talkThroughLoss(int percent) {
  ASSERT_GT(sentence().size(), 2u * kSampleRate) << "espeak-ng is needed (third_party/install_deps.sh)";
  ENTER_OWN_NETWORK_NAMESPACE();
  LossyLink link(percent);
  if (!link.ok()) GTEST_SKIP() << "neither tc netem nor iptables' statistic match works here (iproute2, iptables)";
  std::printf("[figures] lossy link: %s on datagrams to the voice port\n", link.how().c_str());
  TempDir dir;
  const VoiceRun r = talk(dir, sentence(), {.aliceArgs = {}, .relayLossPercent = 0, .voicePort = kVoicePort});
  // The loopback test's threshold at 20% loss (voice_process_test.cpp), for both.
  expectSameSpeech(r, 0.75, (std::to_string(percent) + "% loss in the kernel").c_str());
  EXPECT_GT(voiceFigure(r.bob, "recovered") + voiceFigure(r.bob, "concealed"), 0u) << r.bob;
}

}  // namespace

TEST(VoiceNetns, AtFivePercentLossOnTheLinkTheSpeechComesThrough) { talkThroughLoss(5); }

TEST(VoiceNetns, AtTwentyPercentLossOnTheLinkTheSpeechComesThrough) { talkThroughLoss(20); }
