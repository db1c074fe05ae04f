#include "app/session/download_dir.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "net/base/utf8.h"
#include "net/wire/file_messages.h"

namespace huddle::session {

namespace fs = std::filesystem;

namespace {
constexpr std::size_t kMaxLocalNameBytes = 200;

// Cuts `s` to at most `max` bytes at a UTF-8 character boundary.
std::string cutUtf8(std::string s, std::size_t max) {
  if (s.size() <= max) return s;
  s.resize(max);
  while (!s.empty() && (static_cast<unsigned char>(s.back()) & 0xC0) == 0x80) s.pop_back();
  if (!s.empty() && static_cast<unsigned char>(s.back()) >= 0xC0) s.pop_back();
  return s;
}
}  // namespace

std::string xdgDownloadDir(const std::string& home, const std::string& configHome) {
  const std::string fallback = home.empty() ? std::string() : home + "/Downloads";
  const std::string config = !configHome.empty() ? configHome : home.empty() ? std::string() : home + "/.config";
  if (config.empty()) return fallback;
  std::ifstream in(config + "/user-dirs.dirs");
  std::string line;
  for (int n = 0; n < 1000 && std::getline(in, line); ++n) {
    const std::string key = "XDG_DOWNLOAD_DIR=";
    std::size_t at = line.find_first_not_of(" \t");
    if (at == std::string::npos || line.compare(at, key.size(), key) != 0) continue;
    std::string value = line.substr(at + key.size());
    while (!value.empty() && (value.back() == ' ' || value.back() == '\r')) value.pop_back();
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
    if (value.rfind("$HOME", 0) == 0) {
      if (home.empty()) return fallback;
      value = home + value.substr(5);
    }
    // The spec says "$HOME/..." or an absolute path; anything else is not trusted.
    if (value.empty() || value[0] != '/' || value.find("/../") != std::string::npos) return fallback;
    while (value.size() > 1 && value.back() == '/') value.pop_back();
    // A download folder set to $HOME itself means "no download folder" (xdg-user-dirs).
    if (value == home) return fallback;
    return value;
  }
  return fallback;
}

std::string downloadDir() {
  const char* home = std::getenv("HOME");
  const char* config = std::getenv("XDG_CONFIG_HOME");
  return xdgDownloadDir(home ? home : "", config ? config : "");
}

bool ensureDir(const std::string& dir, std::string& error) {
  if (dir.empty()) {
    error = "there is no download folder (HOME is not set)";
    return false;
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (!fs::is_directory(dir, ec)) {
    error = "cannot make the folder " + dir + (ec ? ": " + ec.message() : std::string());
    return false;
  }
  return true;
}

std::string safeFileName(const std::string& offered) {
  std::string s = base::isValidUtf8(offered) ? offered : std::string();
  if (s.empty() && !offered.empty()) {
    // Not UTF-8: keep the ASCII, the rest becomes '_'.
    for (char c : offered) s += static_cast<unsigned char>(c) < 0x80 ? c : '_';
  }
  for (char& c : s) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F || c == '/' || c == '\\' || c == ':' || c == '*' || c == '?' || c == '"' || c == '<' ||
        c == '>' || c == '|')
      c = '_';
  }
  // Forbidden C1 controls (U+0080..U+009F, as UTF-8 C2 80..C2 9F) become "__".
  for (std::size_t i = 0; i + 1 < s.size(); ++i)
    if (static_cast<unsigned char>(s[i]) == 0xC2 && static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
        static_cast<unsigned char>(s[i + 1]) <= 0x9F)
      s[i] = s[i + 1] = '_';
  while (!s.empty() && (s.front() == '.' || s.front() == ' ')) s.erase(s.begin());
  while (!s.empty() && (s.back() == '.' || s.back() == ' ')) s.pop_back();
  if (s.empty()) s = "file";
  if (s.size() > kMaxLocalNameBytes) {
    const std::size_t dot = s.rfind('.');
    const std::string ext = dot != std::string::npos && s.size() - dot <= 16 ? s.substr(dot) : std::string();
    s = cutUtf8(s.substr(0, s.size() - ext.size()), kMaxLocalNameBytes - ext.size()) + ext;
  }
  if (!wire::validateFileName(s).empty()) s = "_" + s;  // reserved (CON, NUL, ...): no longer
  return s;
}

std::string uniqueFileName(const std::string& dir, const std::string& name) {
  std::error_code ec;
  if (!fs::exists(fs::path(dir) / name, ec) && !fs::is_symlink(fs::path(dir) / name, ec)) return name;
  const std::size_t dot = name.rfind('.');
  const std::string stem = dot == std::string::npos || dot == 0 ? name : name.substr(0, dot);
  const std::string ext = dot == std::string::npos || dot == 0 ? std::string() : name.substr(dot);
  for (int i = 2; i < 100000; ++i) {
    const std::string candidate = stem + " (" + std::to_string(i) + ")" + ext;
    if (!fs::exists(fs::path(dir) / candidate, ec) && !fs::is_symlink(fs::path(dir) / candidate, ec)) return candidate;
  }
  return stem + " (" + std::to_string(std::rand()) + ")" + ext;
}

std::string partFileName(const std::string& name) { return "." + name + ".part"; }

bool renameNoReplace(const std::string& from, const std::string& to) {
  return ::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0;
}

std::string giveFinalName(const std::string& partPath, const std::string& dir, const std::string& name, bool hardLinks) {
  bool noReplace = true;  // renameat2's flag, until the file system says it has none
  for (int tries = 0; tries < 100; ++tries) {
    const std::string candidate = (fs::path(dir) / uniqueFileName(dir, name)).string();
    if (hardLinks) {
      // link() fails if the name exists; the .part goes once the file has its name.
      if (::link(partPath.c_str(), candidate.c_str()) == 0) {
        ::unlink(partPath.c_str());
        return candidate;
      }
      if (errno == EEXIST) continue;
      hardLinks = false;  // a file system without hard links: rename, never over anything
    }
    if (noReplace) {
      if (renameNoReplace(partPath, candidate)) return candidate;
      if (errno == EEXIST) continue;
      if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP) return {};
      noReplace = false;
    }
    // Neither: the name is taken first (O_EXCL), then the file is renamed onto our own
    // empty placeholder, so nothing another made is ever replaced.
    const int fd = ::open(candidate.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) {
      if (errno == EEXIST) continue;
      return {};
    }
    ::close(fd);
    if (::rename(partPath.c_str(), candidate.c_str()) == 0) return candidate;
    const int err = errno;
    ::unlink(candidate.c_str());
    errno = err;
    return {};
  }
  errno = EEXIST;
  return {};
}

}  // namespace huddle::session
