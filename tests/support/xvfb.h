// Starts a private Xvfb (or an Xephyr nested in one, for RandR) for a test on a free display
// number and ends it (by its PID) when the object goes, even if the test failed. Tests that
// need a display skip when the server is not installed.
#pragma once
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/child_env.h"

namespace huddle::test {

class Xvfb {
 public:
  // Tries displays :first..:last whose lock file is absent; waits (bounded) for the socket.
  explicit Xvfb(int first = 80, int last = 99, const std::string& screen = "1920x1080x24") {
    if (access("/usr/bin/Xvfb", X_OK) != 0) return;
    launch(first, last, [&](const std::string& display) {
      return std::vector<std::string>{"/usr/bin/Xvfb", display, "-screen", "0", screen, "-nolisten", "tcp", "-noreset"};
    }, {});
  }
  // Xephyr shown on `parentDisplay` (a test's own Xvfb): a screen whose size RandR can change
  // (xrandr -s WxH), which Xvfb's cannot. Not running() when Xephyr is not installed.
  struct Nested {
    std::string parentDisplay;
    std::string size = "1280x720";
  };
  explicit Xvfb(const Nested& nested, int first = 80, int last = 99) {
    if (access("/usr/bin/Xephyr", X_OK) != 0 || nested.parentDisplay.empty()) return;
    launch(first, last, [&](const std::string& display) {
      return std::vector<std::string>{"/usr/bin/Xephyr", display, "-screen", nested.size, "-resizeable", "-nolisten",
                                      "tcp", "-noreset"};
    }, {"DISPLAY=" + nested.parentDisplay});
  }
  ~Xvfb() {
    if (m_pid > 0) {
      kill(m_pid, SIGTERM);
      int status = 0;
      bool reaped = false;
      for (int i = 0; i < 50 && !(reaped = waitpid(m_pid, &status, WNOHANG) == m_pid); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      if (!reaped) {  // still ours (not reaped, so its PID cannot have been reused)
        kill(m_pid, SIGKILL);
        waitpid(m_pid, nullptr, 0);
      }
    }
  }
  Xvfb(const Xvfb&) = delete;
  Xvfb& operator=(const Xvfb&) = delete;

  bool running() const { return m_pid > 0; }
  const std::string& display() const { return m_display; }
  pid_t pid() const { return m_pid; }

 private:
  // Starts the server argvFor(":n") gives on the first free display, with `env` added to ours.
  template <typename ArgvFor>
  void launch(int first, int last, ArgvFor&& argvFor, const std::vector<std::string>& env) {
    std::vector<std::string> envStrings = childEnvironment(env);
    std::vector<char*> envp;
    for (auto& e : envStrings) envp.push_back(e.data());
    envp.push_back(nullptr);
    for (int n = first; n <= last && m_pid <= 0; ++n) {
      std::string lock = "/tmp/.X" + std::to_string(n) + "-lock";
      if (access(lock.c_str(), F_OK) == 0) continue;
      std::string display = ":" + std::to_string(n);
      std::vector<std::string> argv = argvFor(display);
      std::vector<char*> args;
      for (auto& a : argv) args.push_back(a.data());
      args.push_back(nullptr);
      posix_spawn_file_actions_t actions;
      posix_spawn_file_actions_init(&actions);
      posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
      posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
      pid_t pid = -1;
      int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), envp.data());
      posix_spawn_file_actions_destroy(&actions);
      if (rc != 0) continue;
      std::string socket = "/tmp/.X11-unix/X" + std::to_string(n);
      bool ready = false;
      for (int i = 0; i < 100 && !ready; ++i) {  // up to 10 s
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        int status = 0;
        if (waitpid(pid, &status, WNOHANG) == pid) break;  // it died: display taken, try the next
        struct stat st {};
        // The socket and the lock must be this server's: another test's, started on the same
        // display a moment before, is there too until ours sees its lock and exits.
        ready = stat(socket.c_str(), &st) == 0 && lockOwner(lock) == pid;
      }
      if (ready) {
        m_pid = pid;
        m_display = display;
      } else {
        kill(pid, SIGKILL);
        waitpid(pid, nullptr, 0);
      }
    }
  }

  // The PID an X server wrote in its lock file, or -1.
  static pid_t lockOwner(const std::string& lock) {
    std::FILE* f = std::fopen(lock.c_str(), "r");
    if (!f) return -1;
    long pid = -1;
    if (std::fscanf(f, "%ld", &pid) != 1) pid = -1;
    std::fclose(f);
    return static_cast<pid_t>(pid);
  }

  pid_t m_pid = -1;
  std::string m_display;
};

}  // namespace huddle::test
