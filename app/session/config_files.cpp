#include "app/session/config_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

namespace huddle::session {

std::string configDir() {
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg && *xdg == '/') return std::string(xdg) + "/huddle";
  if (const char* home = std::getenv("HOME"); home && *home) return std::string(home) + "/.config/huddle";
  return "";
}

std::string stateDir() {
  if (const char* xdg = std::getenv("XDG_STATE_HOME"); xdg && *xdg == '/') return std::string(xdg) + "/huddle";
  if (const char* home = std::getenv("HOME"); home && *home) return std::string(home) + "/.local/state/huddle";
  return "";
}

bool readSmallFile(const std::string& path, std::size_t maxBytes, std::string& text, std::string& error) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return error = path + ": " + std::strerror(errno), false;
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return error = path + ": not a regular file", false;
  }
  if (static_cast<std::size_t>(st.st_size) > maxBytes) {
    ::close(fd);
    return error = path + ": larger than " + std::to_string(maxBytes) + " bytes", false;
  }
  text.clear();
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return error = path + ": " + std::strerror(errno), false;
    }
    if (n == 0) break;
    text.append(buf, static_cast<std::size_t>(n));
    if (text.size() > maxBytes) {  // grew while we read
      ::close(fd);
      return error = path + ": larger than " + std::to_string(maxBytes) + " bytes", false;
    }
  }
  ::close(fd);
  return true;
}

bool writeFileAtomically(const std::string& path, const std::string& text, std::string& error) {
  const std::filesystem::path target(path);
  const std::filesystem::path dir = target.parent_path();
  if (!dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return error = "cannot create " + dir.string() + ": " + ec.message(), false;
    ::chmod(dir.c_str(), 0700);
  }
  const std::string tmp = path + ".tmp-" + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return error = "cannot write " + tmp + ": " + std::strerror(errno), false;
  std::size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error = "cannot write " + tmp + ": " + std::strerror(errno);
      ::close(fd);
      ::unlink(tmp.c_str());
      return false;
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    error = "cannot write " + tmp + ": " + std::strerror(errno);
    ::unlink(tmp.c_str());
    return false;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    error = "cannot replace " + path + ": " + std::strerror(errno);
    ::unlink(tmp.c_str());
    return false;
  }
  return true;
}

}  // namespace huddle::session
