// Huddle without a window: a host that serves until SIGINT/SIGTERM, or a terminal chat
// client (stdin lines are said, events go to stdout, EOF leaves). Scriptable; the tests
// drive the binary through it. Thread: the caller's (main) thread.
#pragma once
#include "app/session/options.h"

namespace huddle::session {

// Runs until the session ends; returns the process exit code (0 ended normally, 1 failed).
int runHeadless(const Options& options);
// --list-audio: prints the microphones and speakers (the names --mic and --speaker take).
int runListAudio();

}  // namespace huddle::session
