// Process-wide signals (Ctrl+C, SIGTERM, a script's SIGUSR1/SIGUSR2) handled on the main thread
// only, between two steps of its loop. The kernel hands a process's signal to any thread that
// does not block it; one blocked in recv() runs the handler at once, but under TSan a handler
// waits until that thread next enters the runtime, which for an idle connection's reader or an
// accept can be never: the flag the main loop waits for was not set (a host under TSan ignored
// SIGTERM). So the signals are held from main's first line, in every thread started after it,
// and the main loop lets them in once a turn.
#pragma once

#include <poll.h>

#include <initializer_list>

namespace huddle::base {

// Blocks `signals` in the calling thread (and so in every thread it starts afterwards). Call
// before any thread starts. A signal that comes meanwhile waits, pending, for letHeldSignalsIn().
void holdSignals(std::initializer_list<int> signals);

// Unblocks the held signals for a moment on this thread: the handlers of those pending run
// here, now. Does nothing if none are held.
void letHeldSignalsIn();

// poll() with the held signals let in for the wait: one that comes ends it at once (-1, EINTR)
// after its handler ran, as a plain poll() ended before signals were held. `fds` may be null
// with `count` 0 (a sleep a signal cuts short).
int pollLettingSignalsIn(pollfd* fds, nfds_t count, int timeoutMs);

}  // namespace huddle::base
