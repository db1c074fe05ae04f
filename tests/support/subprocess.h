// Runs the huddle binary as a child process with piped stdin/stdout, the way a user's shell
// would. The child is ended by its PID when the object goes, even if the test failed.
// Children get a private XDG_CONFIG_HOME and XDG_STATE_HOME (one per test process, removed
// at exit) unless the test gives its own, so no test touches the user's settings, keys,
// known hosts or chat history. They get HUDDLE_NO_ANNOUNCE=1 unless the test gives its own,
// so no host a test starts announces itself on the machine's network (only a test inside a
// network namespace of its own turns that back on).
#pragma once
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/support/child_env.h"

namespace huddle::test {

// The test process's private config folder for its children.
inline const std::string& testConfigHome() {
  struct Dir {
    std::string path = (std::filesystem::temp_directory_path() / ("huddle-test-config-" + std::to_string(::getpid()))).string();
    ~Dir() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  };
  static Dir dir;
  return dir.path;
}

class Subprocess {
 public:
  // Runs argv[0] (a full path); `extraEnv` entries ("NAME=value") are added to ours.
  explicit Subprocess(const std::vector<std::string>& argv, const std::vector<std::string>& extraEnv = {}) {
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) return;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in[0], STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    std::vector<std::string> envStore(extraEnv.begin(), extraEnv.end());
    bool ownConfig = false, ownState = false, ownAnnounce = false;
    for (const auto& x : extraEnv) {
      ownConfig = ownConfig || x.rfind("XDG_CONFIG_HOME=", 0) == 0;
      ownState = ownState || x.rfind("XDG_STATE_HOME=", 0) == 0;
      ownAnnounce = ownAnnounce || x.rfind("HUDDLE_NO_ANNOUNCE=", 0) == 0;
    }
    if (!ownAnnounce) envStore.push_back("HUDDLE_NO_ANNOUNCE=1");
    if (!ownConfig) envStore.push_back("XDG_CONFIG_HOME=" + testConfigHome());
    if (!ownState) envStore.push_back("XDG_STATE_HOME=" + testConfigHome() + "/state");
    envStore = childEnvironment(std::move(envStore));
    std::vector<char*> env;
    for (auto& e : envStore) env.push_back(e.data());
    env.push_back(nullptr);
    if (posix_spawn(&m_pid, args[0], &actions, nullptr, args.data(), env.data()) != 0) m_pid = -1;
    posix_spawn_file_actions_destroy(&actions);
    ::close(in[0]);
    ::close(out[1]);
    m_stdin = in[1];
    m_stdout = out[0];
  }
  ~Subprocess() {
    closeStdin();
    if (m_pid > 0 && !m_exited) {
      ::kill(m_pid, SIGKILL);
      int status;
      ::waitpid(m_pid, &status, 0);
    }
    if (m_stdout >= 0) ::close(m_stdout);
  }
  bool started() const { return m_pid > 0; }
  pid_t pid() const { return m_pid; }

  void writeLine(const std::string& line) {
    std::string s = line + "\n";
    if (m_stdin >= 0) [[maybe_unused]] auto n = ::write(m_stdin, s.data(), s.size());
  }
  void closeStdin() {
    if (m_stdin >= 0) ::close(m_stdin);
    m_stdin = -1;
  }
  void signal(int sig) {
    if (m_pid > 0 && !m_exited) ::kill(m_pid, sig);
  }
  // Reads stdout until `needle` appears or timeoutMs passes; true if it appeared.
  bool waitForOutput(const std::string& needle, int timeoutMs) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
    while (m_output.find(needle) == std::string::npos) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0 || !readSome(static_cast<int>(left.count()))) return m_output.find(needle) != std::string::npos;
    }
    return true;
  }
  // Waits until `needle` has appeared `count` times in the output.
  bool waitForCount(const std::string& needle, std::size_t count, int timeoutMs) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
    while (countOf(needle) < count) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0 || !readSome(static_cast<int>(left.count()))) return countOf(needle) >= count;
    }
    return true;
  }
  std::size_t countOf(const std::string& needle) const {
    std::size_t n = 0;
    for (std::size_t at = m_output.find(needle); at != std::string::npos; at = m_output.find(needle, at + needle.size())) ++n;
    return n;
  }
  // Waits for the process to exit; returns its exit code, or -1 on timeout / signal.
  int wait(int timeoutMs) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
    while (std::chrono::steady_clock::now() < deadline) {
      readSome(10);
      int status = 0;
      pid_t r = ::waitpid(m_pid, &status, WNOHANG);
      if (r == m_pid) {
        m_exited = true;
        while (readSome(0)) {
        }
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
    }
    return -1;
  }
  const std::string& output() const { return m_output; }

 private:
  bool readSome(int timeoutMs) {
    pollfd p{m_stdout, POLLIN, 0};
    if (::poll(&p, 1, timeoutMs) <= 0) return false;
    char buf[4096];
    ssize_t n = ::read(m_stdout, buf, sizeof buf);
    if (n <= 0) return false;
    m_output.append(buf, static_cast<std::size_t>(n));
    return true;
  }
  pid_t m_pid = -1;
  int m_stdin = -1, m_stdout = -1;
  bool m_exited = false;
  std::string m_output;
};

}  // namespace huddle::test
