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

}  // namespace huddle::base
