// Every viewer at its own pace over a really shaped link. The test makes its own network
// namespaces (as root): this process moves into one (unshare(CLONE_NEWNET), lo brought up)
// where the host runs; a thread of it moves into a second one, the slow viewer's, joined to
// the first by a veth pair (10.77.0.1 host side, 10.77.0.2 viewer side) whose host end the
// kernel holds to 8 Mbit/s (tc tbf). Threads the viewer's session starts are made from that
// thread, so its sockets live there; the fast viewer stays in the host's namespace on lo,
// unshaped. Both are whole screen sessions (credits back after decoding). A functional check
// only: the slow one is moved to a lower tier, the fast one stays on the sharer's settings.
// Both namespaces, the pair and its shaping go with the process and its threads, pass or
// fail. Skipped, saying why, where the namespaces, veth or tbf cannot be made.
#include <gtest/gtest.h>

#include <sched.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <future>
#include <thread>

#include "capture/synthetic_source.h"
#include "net/base/clock.h"
#include "tests/integration/netns/netns_support.h"
#include "tests/integration/test_support.h"

using namespace huddle;
using namespace huddle::test;

namespace {

bool run(const std::string& command) {
  const int status = std::system((command + " >/dev/null 2>&1").c_str());
  return status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

}  // namespace


TEST(ScreenTiersNetns, AnEightMegabitViewerDropsATierWhileAFastOneStaysOnTop) {
  ENTER_OWN_NETWORK_NAMESPACE();
  if (!run("ip link add tiers0 type veth peer name tiers1") || !run("ip addr add 10.77.0.1/24 dev tiers0") ||
      !run("ip link set tiers0 up"))
    GTEST_SKIP() << "cannot make a veth pair here (iproute2, the veth module)";
  if (!run("tc qdisc add dev tiers0 root tbf rate 8mbit burst 16kb latency 400ms"))
    GTEST_SKIP() << "tc tbf does not work here (iproute2, sch_tbf)";
  session::HostConfig config = testHostConfig();
  // The policy's own thresholds (a round trip over 300 ms drops a tier), with no probing back
  // up while the test runs.
  config.screenHub.tiers.probeUs = 600'000'000;
  session::HostSession host;
  std::string error;
  ASSERT_TRUE(host.start(config, error)) << error;
  ASSERT_TRUE(waitFor([&] { return host.localUser().connected(); }, 5000));
  // A full-motion 1920 x 1080 screen at quality 90: 8 Mbit/s carries a few of its frames a second.
  capture::CaptureSettings s;
  s.quality = 90;
  s.fps = 15;
  s.sharpWhenStill = false;
  ASSERT_TRUE(host.startSharing(std::make_unique<capture::SyntheticSource>(1920, 1080, capture::SceneMotion::Full), s,
                                2, error)) << error;
  ScreenMember fast, slow;
  fast.join(host, "fast");
  auto fastView = fast.watchFirst();
  // The slow viewer, from a thread in a namespace of its own behind the shaped pair.
  std::shared_ptr<session::StreamView> slowView;
  std::string slowError;
  std::promise<pid_t> tid;
  std::promise<bool> handed;
  std::thread side([&] {
    if (::unshare(CLONE_NEWNET) != 0) {
      slowError = std::string("cannot make the viewer's namespace: ") + std::strerror(errno);
      tid.set_value(0);
      return;
    }
    tid.set_value(static_cast<pid_t>(::syscall(SYS_gettid)));
    if (!handed.get_future().get()) return;
    // Commands run from this thread run in its namespace.
    if (!run("ip addr add 10.77.0.2/24 dev tiers1") || !run("ip link set tiers1 up") || !run("ip link set lo up")) {
      slowError = "cannot set up the viewer's end of the pair";
      return;
    }
    slow.join(host, "slow", {}, "10.77.0.1");
    slowView = slow.watchFirst();
  });
  const pid_t sideTid = tid.get_future().get();
  handed.set_value(sideTid != 0 && run("ip link set tiers1 netns " + std::to_string(sideTid)));
  side.join();
  ASSERT_TRUE(slowError.empty()) << slowError;
  ASSERT_TRUE(fastView && slowView);
  EXPECT_TRUE(run("ip link show tiers0"));  // the host's end is still here
  // Bounded: it stops as soon as the slow one is on a lower tier and has shown an image of it.
  const bool moved = waitFor([&] {
    const auto st = slowView->stats().snapshot(base::monoUs());
    return st.tier > 0 && st.widthPx < 1920;
  }, 60000);
  const auto slowStats = slowView->stats().snapshot(base::monoUs());
  const auto fastStats = fastView->stats().snapshot(base::monoUs());
  std::printf("[figure] 8 Mbit/s viewer: tier %d (%ux%u, %llu updates, %.0f KB/s); unshaped viewer: tier %d "
              "(%ux%u, %llu updates)\n",
              slowStats.tier, slowStats.widthPx, slowStats.heightPx, static_cast<unsigned long long>(slowStats.updates),
              slowStats.bytesPerSec / 1000, fastStats.tier, fastStats.widthPx, fastStats.heightPx,
              static_cast<unsigned long long>(fastStats.updates));
  EXPECT_TRUE(moved) << "the 8 Mbit/s viewer stayed on tier " << slowStats.tier;
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  // A round trip includes the viewer's decode, and a sanitizer makes decoding (and the host's
  // encoding, on the same two cores) several times slower: there the unshaped viewer may be
  // slow too (it was, at 1080p quality 90 under ASan). It is never behind the shaped one.
  EXPECT_LE(fastStats.tier, slowStats.tier);
#else
  EXPECT_EQ(fastStats.tier, 0);
  EXPECT_EQ(fastStats.tierSwitches, 0u);
  EXPECT_EQ(fastStats.widthPx, 1920u);
#endif
  host.stopSharing();
}
