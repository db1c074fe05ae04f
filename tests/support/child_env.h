// The environment a test's child process starts with: `extra` ("NAME=value" entries), then
// ours, less any variable `extra` sets.
#pragma once
#include <string>
#include <vector>

extern char** environ;

namespace huddle::test {

inline std::vector<std::string> childEnvironment(std::vector<std::string> extra) {
  const std::size_t given = extra.size();
  for (char** e = environ; *e; ++e) {
    std::string entry = *e;
    std::string name = entry.substr(0, entry.find('=') + 1);
    bool overridden = false;
    for (std::size_t i = 0; i < given && !overridden; ++i) overridden = extra[i].rfind(name, 0) == 0;
    if (!overridden) extra.push_back(std::move(entry));
  }
  return extra;
}

}  // namespace huddle::test
