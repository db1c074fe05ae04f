// Real links for the screen tiers' tests and huddle-bench: from the calling thread's network
// namespace (the host's, one made for the purpose), a veth pair to each viewer, the viewer's
// end in a namespace of its own, the host's end shaped by the kernel: netem (a delay with
// jitter; where the kernel has no netem, none, and `jitter()` says so) feeding tbf (the rate).
// Pair i: "hdl<i>h" here at 10.77.<i>.1/24, "hdl<i>v" there at 10.77.<i>.2/24. Nothing here
// touches a namespace it did not make: the pairs live in the host's, and `inViewerNamespace`
// makes the viewer's from a new thread (unshare(CLONE_NEWNET)); sockets and threads made
// there stay there, and so do processes started there. Each namespace goes with the last
// thread or process in it; the pairs are also deleted when this is destroyed.
// Thread: one (the one in the host's namespace).
#pragma once
#include <sched.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <future>
#include <string>
#include <thread>
#include <vector>

namespace huddle::test {

inline bool runQuietly(const std::string& command) {
  const int status = std::system((command + " >/dev/null 2>&1").c_str());
  return status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

struct LinkShape {
  std::string rate;   // tc's rate: "1gbit", "50mbit", "8mbit"
  std::string burst;  // tbf's bucket: at least rate / HZ
  std::string latency = "200ms";  // tbf's queue: what waits longer is dropped
};

class ShapedLinks {
 public:
  ShapedLinks() = default;
  ShapedLinks(const ShapedLinks&) = delete;
  ShapedLinks& operator=(const ShapedLinks&) = delete;
  ~ShapedLinks() {
    for (int i = 0; i < m_count; ++i) runQuietly("ip link del " + hostEnd(i));
  }

  // A delay of `delay` +- `jitter` (tc's units: "1ms", "2ms") on every pair made after this.
  void setJitter(std::string delay, std::string jitter) {
    m_delay = std::move(delay);
    m_jitter = std::move(jitter);
  }
  // Makes the next pair, shaped `shape`; its index, or -1 with `why`.
  int add(const LinkShape& shape, std::string& why) {
    const int i = m_count;
    const std::string h = hostEnd(i), v = viewerEnd(i);
    if (!runQuietly("ip link add " + h + " type veth peer name " + v)) {
      why = "cannot make a veth pair here (iproute2, the veth module)";
      return -1;
    }
    ++m_count;
    if (!runQuietly("ip addr add " + hostAddress(i) + "/24 dev " + h) || !runQuietly("ip link set " + h + " up")) {
      why = "cannot bring up " + h;
      return -1;
    }
    const std::string tbf = " tbf rate " + shape.rate + " burst " + shape.burst + " latency " + shape.latency;
    bool shaped = false;
    if (!m_delay.empty() && runQuietly("tc qdisc add dev " + h + " root handle 1: netem delay " + m_delay + " " + m_jitter)) {
      shaped = runQuietly("tc qdisc add dev " + h + " parent 1:1 handle 10:" + tbf);
      if (!shaped) runQuietly("tc qdisc del dev " + h + " root");
    }
    if (!m_delay.empty() && !shaped) m_noJitter = true;
    if (!shaped && !runQuietly("tc qdisc add dev " + h + " root" + tbf)) {
      why = "tc tbf does not work here (iproute2, sch_tbf)";
      return -1;
    }
    return i;
  }

  // Runs `body` on a new thread in a network namespace of its own that holds pair i's viewer
  // end (up, at viewerAddress(i)) and lo; returns once body did, "" or why it could not.
  std::string inViewerNamespace(int i, const std::function<void()>& body) {
    std::string error;
    std::promise<pid_t> tid;
    std::promise<bool> handed;
    std::thread side([&] {
      if (::unshare(CLONE_NEWNET) != 0) {
        error = std::string("cannot make the viewer's namespace: ") + std::strerror(errno);
        tid.set_value(0);
        return;
      }
      tid.set_value(static_cast<pid_t>(::syscall(SYS_gettid)));
      if (!handed.get_future().get()) return;
      // Commands run from this thread run in its namespace.
      if (!runQuietly("ip addr add " + viewerAddress(i) + "/24 dev " + viewerEnd(i)) ||
          !runQuietly("ip link set " + viewerEnd(i) + " up") || !runQuietly("ip link set lo up")) {
        error = "cannot set up the viewer's end of pair " + std::to_string(i);
        return;
      }
      body();
    });
    const pid_t sideTid = tid.get_future().get();
    const bool moved = sideTid != 0 && runQuietly("ip link set " + viewerEnd(i) + " netns " + std::to_string(sideTid));
    handed.set_value(moved);
    side.join();
    if (error.empty() && !moved) error = "cannot move " + viewerEnd(i) + " into the viewer's namespace";
    return error;
  }

  // Whether the jitter asked for is on every pair (false: this kernel has no netem).
  bool jitter() const { return !m_delay.empty() && !m_noJitter; }
  static std::string hostAddress(int i) { return "10.77." + std::to_string(i + 1) + ".1"; }
  static std::string viewerAddress(int i) { return "10.77." + std::to_string(i + 1) + ".2"; }

 private:
  static std::string hostEnd(int i) { return "hdl" + std::to_string(i) + "h"; }
  static std::string viewerEnd(int i) { return "hdl" + std::to_string(i) + "v"; }

  int m_count = 0;
  std::string m_delay, m_jitter;
  bool m_noJitter = false;
};

}  // namespace huddle::test
