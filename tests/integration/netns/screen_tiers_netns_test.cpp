// Every viewer at its own pace over really shaped links, three viewers at once while the
// full-change load runs. The test makes its own network namespaces (as root): this process
// moves into one (unshare(CLONE_NEWNET), lo brought up) where the host runs; each viewer is
// joined from a thread that moves into a namespace of its own, reached over a veth pair whose
// host end the kernel holds to 1 Gbit/s, 50 Mbit/s or 8 Mbit/s (tc tbf) behind 1 ms +- 2 ms of
// delay (tc netem, where the kernel has it: the test says when it does not)
// (tests/integration/netns/shaped_links.h). Threads a viewer's session starts are made from
// its thread, so its sockets live there. All are whole screen sessions (credits back after
// decoding). A functional check only (rates and latencies are huddle-bench's, --only-tiers):
// every viewer gets updates, the 8 Mbit/s one is moved to a lower tier while the 1 Gbit/s one
// stays on the sharer's settings, and the host never holds more than one update per viewer
// in its connections' queues. The namespaces, pairs and shaping go with the test's threads
// and the process, pass or fail (the pairs are also deleted at the end). Skipped, saying why,
// where the namespaces, veth or tbf cannot be made.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdio>

#include "capture/synthetic_source.h"
#include "net/base/clock.h"
#include "tests/integration/netns/netns_support.h"
#include "tests/integration/netns/shaped_links.h"
#include "tests/integration/test_support.h"

using namespace huddle;
using namespace huddle::test;

TEST(ScreenTiersNetns, ThreeViewersAtOneGigabitFiftyAndEightMegabitEachGetTheirOwnPace) {
  ENTER_OWN_NETWORK_NAMESPACE();
  struct Viewer {
    const char* name;
    LinkShape shape;
    ScreenMember member;
    std::shared_ptr<session::StreamView> view;
    int link = -1;
  };
  std::array<Viewer, 3> viewers{{{"gigabit", {"1gbit", "1mb", "50ms"}, {}, {}, -1},
                                 {"fifty", {"50mbit", "128kb", "200ms"}, {}, {}, -1},
                                 {"eight", {"8mbit", "16kb", "400ms"}, {}, {}, -1}}};
  ShapedLinks links;
  links.setJitter("1ms", "2ms");
  std::string why;
  for (auto& v : viewers)
    if ((v.link = links.add(v.shape, why)) < 0) GTEST_SKIP() << why;
  if (!links.jitter()) std::printf("[note] this kernel has no netem: the links are shaped by tbf alone, no jitter\n");
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
  for (auto& v : viewers) {
    const std::string failed = links.inViewerNamespace(v.link, [&] {
      v.member.join(host, v.name, {}, ShapedLinks::hostAddress(v.link));
      v.view = v.member.watchFirst();
    });
    ASSERT_TRUE(failed.empty()) << failed;
    ASSERT_TRUE(v.view) << v.name << " sees no stream";
  }
  Viewer &fast = viewers[0], &slow = viewers[2];
  auto stats = [](const Viewer& v) { return v.view->stats().snapshot(base::monoUs()); };
  // Bounded: it stops as soon as the slow one is on a lower tier and has shown an image of it,
  // and every viewer has had a few updates; the host's queues are looked at all along.
  std::uint64_t mostQueued = 0;
  const bool done = waitFor([&] {
    mostQueued = std::max(mostQueued, host.screenHub().stats().updateBytesQueued);
    const auto st = stats(slow);
    return st.tier > 0 && st.widthPx < 1920 &&
           std::all_of(viewers.begin(), viewers.end(), [&](const Viewer& v) { return stats(v).updates >= 3; });
  }, 60000);
  const auto hub = host.screenHub().stats();
  for (const auto& v : viewers) {
    const auto st = stats(v);
    std::printf("[figure] %s (%s): tier %d (%ux%u), %llu updates, %.0f KB/s, %.1f updates/s\n", v.name,
                v.shape.rate.c_str(), st.tier, st.widthPx, st.heightPx, static_cast<unsigned long long>(st.updates),
                st.bytesPerSec / 1000, st.updatesPerSec);
    EXPECT_GE(st.updates, 1u) << v.name << " got no update";
    EXPECT_EQ(st.decodeErrors, 0u) << v.name;
  }
  std::printf("[figure] host: at most %llu update bytes queued to viewers at once (%llu at the end; the largest "
              "update %llu)\n",
              static_cast<unsigned long long>(hub.maxUpdateBytesQueued),
              static_cast<unsigned long long>(hub.updateBytesQueued),
              static_cast<unsigned long long>(hub.largestUpdateBytes));
  EXPECT_TRUE(done) << "the 8 Mbit/s viewer stayed on tier " << stats(slow).tier << ", or a viewer had under 3 updates";
  EXPECT_GT(stats(slow).tier, 0);
  // No queue grows: the figure sums every update queued to every viewer and not yet gone to
  // the kernel (its connection counts the update itself gone, not just any frame); a viewer's
  // next update waits until its last one went: never more than one each, of the largest size.
  EXPECT_GT(hub.maxUpdateBytesQueued, 0u);
  EXPECT_LE(hub.largestUpdateBytes, wire::kMaxScreenPayload);
  EXPECT_LE(hub.maxUpdateBytesQueued, viewers.size() * hub.largestUpdateBytes);
  EXPECT_LE(mostQueued, viewers.size() * hub.largestUpdateBytes);
  const auto fastStats = stats(fast);
  [[maybe_unused]] const auto slowStats = stats(slow);
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  // A round trip includes the viewer's decode, and a sanitizer makes decoding (and the host's
  // encoding, on the same two cores) several times slower: there the 1 Gbit/s viewer may be
  // slow too (it was, at 1080p quality 90 under ASan). It is never behind the 8 Mbit/s one.
  EXPECT_LE(fastStats.tier, slowStats.tier);
#else
  EXPECT_EQ(fastStats.tier, 0);
  EXPECT_EQ(fastStats.tierSwitches, 0u);
  EXPECT_EQ(fastStats.widthPx, 1920u);
#endif
  host.stopSharing();
}
