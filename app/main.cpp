// huddle: host or join a LAN session of chat and screen sharing. Parses the command line,
// then runs the window, or the headless host/client when asked or when there is no display.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "app/session/headless.h"
#include "app/session/nearby.h"
#include "app/session/options.h"
#include "net/base/held_signals.h"
#include "net/base/log.h"
#ifdef HUDDLE_HAVE_GUI
#include "app/ui/window.h"
#endif

namespace {

// Started with stdin, stdout or stderr closed (`huddle <&-` in a script), the next file the
// process opens would take that number: a socket written to as stdout, an eventfd read as the
// terminal's input. /dev/null holds the place instead (closed stdin reads as at its end).
void holdStandardDescriptors() {
  for (int fd = STDIN_FILENO; fd <= STDERR_FILENO; ++fd) {
    if (::fcntl(fd, F_GETFD) != -1 || errno != EBADF) continue;
    const int opened = ::open("/dev/null", fd == STDIN_FILENO ? O_RDONLY : O_WRONLY);
    // The lowest free number is this one; anything else is not ours to keep.
    if (opened >= 0 && opened != fd) ::close(opened);
  }
}

}  // namespace

int main(int argc, char** argv) {
  using namespace huddle;
  holdStandardDescriptors();
  std::vector<std::string> args(argv + 1, argv + argc);
  session::ParseResult parsed = session::parseOptions(args);
  if (!parsed.error.empty()) {
    std::fprintf(stderr, "huddle: %s\nTry 'huddle --help' for usage.\n", parsed.error.c_str());
    return 2;
  }
  session::Options options = parsed.options;
  if (options.help) {
    std::fputs(session::usageText().c_str(), stdout);
    return 0;
  }
  if (options.version) {
    std::printf("huddle %s\n", HUDDLE_VERSION);
    return 0;
  }
  base::LogLevel level = base::LogLevel::Warn;
  if (!options.logLevel.empty()) base::parseLogLevel(options.logLevel.c_str(), level);
  base::setLogLevel(level);
  if (options.list) return session::runList();
  if (options.listAudio) return session::runListAudio();
  if (options.role == session::Role::Join) {
    // --join NAME: a session nearby by its name, joined with its announced key pinned.
    std::string note, error;
    if (!session::resolveNearbyJoin(options, note, error)) {
      std::fprintf(stderr, "huddle: --join %s: %s\n", options.joinAddress.c_str(), error.c_str());
      return 2;
    }
    if (!note.empty()) std::printf("huddle: %s\n", note.c_str()), std::fflush(stdout);
  }

  // From here on these reach only the session's main loop (held_signals.h): before any of its
  // threads starts (the steps above take their default action, and join what they start).
  base::holdSignals({SIGINT, SIGTERM, SIGUSR1, SIGUSR2});
  if (!options.headless) {
    const char* display = std::getenv("DISPLAY");
    const char* wayland = std::getenv("WAYLAND_DISPLAY");
    bool haveDisplay = (display && *display) || (wayland && *wayland);
#ifdef HUDDLE_HAVE_GUI
    if (haveDisplay) return ui::runWindow(options);
    std::fprintf(stderr, "huddle: no display found (DISPLAY is not set), so there is no window.\n");
#else
    (void)haveDisplay;
    std::fprintf(stderr, "huddle: this build has no window (built without HUDDLE_BUILD_GUI).\n");
#endif
    if (options.role == session::Role::Join) {
      std::fprintf(stderr, "huddle: joining as a terminal chat client instead.\n");
    } else {
      std::fprintf(stderr, "huddle: hosting a headless session instead, sharing a test scene (Ctrl+C ends it).\n");
      options.role = session::Role::Host;
      if (options.share.empty()) options.share = "synthetic";
    }
    options.headless = true;
  }
  if (options.role == session::Role::Ask) options.role = session::Role::Host;
  return session::runHeadless(options);
}
