#include "net/base/held_signals.h"

#include <csignal>
#include <pthread.h>

namespace huddle::base {

namespace {
sigset_t g_held;
bool g_holding = false;
}  // namespace

void holdSignals(std::initializer_list<int> signals) {
  sigemptyset(&g_held);
  for (int s : signals) sigaddset(&g_held, s);
  g_holding = pthread_sigmask(SIG_BLOCK, &g_held, nullptr) == 0;
}

void letHeldSignalsIn() {
  if (!g_holding) return;
  // Pending signals are delivered as the unblock returns, before they are blocked again.
  pthread_sigmask(SIG_UNBLOCK, &g_held, nullptr);
  pthread_sigmask(SIG_BLOCK, &g_held, nullptr);
}

int pollLettingSignalsIn(pollfd* fds, nfds_t count, int timeoutMs) {
  if (!g_holding) return ::poll(fds, count, timeoutMs);
  sigset_t during;
  pthread_sigmask(SIG_BLOCK, nullptr, &during);
  for (int s = 1; s < NSIG; ++s)
    if (sigismember(&g_held, s) == 1) sigdelset(&during, s);
  const timespec ts{timeoutMs / 1000, long(timeoutMs % 1000) * 1'000'000};
  return ::ppoll(fds, count, timeoutMs < 0 ? nullptr : &ts, &during);
}

}  // namespace huddle::base
