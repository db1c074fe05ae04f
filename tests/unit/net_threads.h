// This process's threads as /proc lists them, for net_test's checks of which threads run and
// how often they wake. Thread: any.
#pragma once
#include <dirent.h>

#include <fstream>
#include <string>
#include <vector>

namespace huddle::net::test {

struct ThreadInfo {
  std::string name;          // as set by base::Worker (at most 15 characters)
  long voluntarySwitches = 0;  // how often it went to sleep: its wakes, not the load's preemptions
};

inline std::vector<ThreadInfo> threadsOfThisProcess() {
  std::vector<ThreadInfo> threads;
  if (DIR* d = ::opendir("/proc/self/task")) {
    while (dirent* e = ::readdir(d)) {
      if (e->d_name[0] == '.') continue;
      const std::string dir = std::string("/proc/self/task/") + e->d_name;
      ThreadInfo t;
      std::ifstream comm(dir + "/comm");
      std::getline(comm, t.name);
      std::ifstream status(dir + "/status");
      for (std::string line; std::getline(status, line);)
        if (line.rfind("voluntary_ctxt_switches:", 0) == 0) t.voluntarySwitches = std::stol(line.substr(line.find(':') + 1));
      threads.push_back(std::move(t));
    }
    ::closedir(d);
  }
  return threads;
}

}  // namespace huddle::net::test
