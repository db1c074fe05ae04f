#include "app/session/image_saver.h"

#include <fcntl.h>
#include <stb_image_write.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <utility>

#include "app/session/config_files.h"
#include "net/base/clock.h"

namespace huddle::session {

namespace {

constexpr std::size_t kMaxUserDirsBytes = 64 * 1024;  // a real user-dirs.dirs is a few hundred bytes
constexpr int kMaxNameTries = 100;                    // <stem>.png, <stem>-2.png ... in one folder

std::string home() {
  const char* h = std::getenv("HOME");
  return h && *h == '/' ? h : "";
}

// The value of XDG_PICTURES_DIR in a user-dirs.dirs text: a shell assignment of a quoted
// path that is absolute or starts with $HOME (xdg-user-dirs). "" if absent or neither.
std::string picturesFromUserDirs(const std::string& text) {
  std::size_t at = 0;
  while (at < text.size()) {
    std::size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(at, end - at);
    at = end + 1;
    std::size_t i = line.find_first_not_of(" \t");
    if (i == std::string::npos || line.compare(i, 17, "XDG_PICTURES_DIR=") != 0) continue;
    i += 17;
    if (i >= line.size() || line[i] != '"') continue;
    std::string value;
    bool closed = false;
    for (++i; i < line.size(); ++i) {
      if (line[i] == '\\' && i + 1 < line.size()) value += line[++i];
      else if (line[i] == '"') {
        closed = true;
        break;
      } else value += line[i];
    }
    if (!closed) continue;
    if (value.rfind("$HOME", 0) == 0 && (value.size() == 5 || value[5] == '/')) {
      const std::string h = home();
      if (h.empty()) continue;
      value = h + value.substr(5);
    }
    if (!value.empty() && value[0] == '/') return value;
  }
  return "";
}

}  // namespace

std::string picturesDir() {
  std::string userDirs;
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg && *xdg == '/') userDirs = std::string(xdg) + "/user-dirs.dirs";
  else if (!home().empty()) userDirs = home() + "/.config/user-dirs.dirs";
  std::string text, error;
  if (!userDirs.empty() && readSmallFile(userDirs, kMaxUserDirsBytes, text, error))
    if (std::string dir = picturesFromUserDirs(text); !dir.empty()) return dir;
  return home().empty() ? "" : home() + "/Pictures";
}

std::string screenshotStem(const std::string& ownerName, std::int64_t wallUs) {
  std::string safe;
  for (char c : ownerName) safe += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return "huddle-" + safe + "-" + base::formatFileStamp(wallUs);
}

bool writePng(BgrxImage& image, const std::string& path, std::string& error, bool replace) {
  const int w = image.widthPx, h = image.heightPx;
  if (w <= 0 || h <= 0 || image.pixels.size() != std::size_t(w) * h * 4) return error = "there is no image", false;
  // BGRX to RGB in place: each pixel moves to an earlier or the same place.
  std::uint8_t* p = image.pixels.data();
  for (std::size_t i = 0, j = 0, n = std::size_t(w) * h; i < n; ++i, j += 4) {
    const std::uint8_t b = p[j], g = p[j + 1], r = p[j + 2];
    p[i * 3] = r;
    p[i * 3 + 1] = g;
    p[i * 3 + 2] = b;
  }
  // O_EXCL unless asked: a name taken meanwhile (or a link planted there) is not replaced.
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | (replace ? O_TRUNC : O_EXCL), 0644);
  if (fd < 0) return error = "cannot write " + path + ": " + std::strerror(errno), false;
  struct Sink {
    int fd;
    int err = 0;
  } sink{fd};
  // The flip setting is global to stb: say ours each time.
  stbi_flip_vertically_on_write(0);
  const int encoded = stbi_write_png_to_func(
      [](void* context, void* data, int size) {
        auto* s = static_cast<Sink*>(context);
        const auto* bytes = static_cast<const std::uint8_t*>(data);
        for (int done = 0; done < size && s->err == 0;) {
          const ssize_t n = ::write(s->fd, bytes + done, static_cast<std::size_t>(size - done));
          if (n < 0 && errno == EINTR) continue;
          if (n <= 0) s->err = n < 0 ? errno : EIO;
          else done += static_cast<int>(n);
        }
      },
      &sink, w, h, 3, p, w * 3);
  if (::close(fd) != 0 && sink.err == 0) sink.err = errno;
  if (!encoded || sink.err != 0) {
    ::unlink(path.c_str());
    return error = "cannot write " + path + ": " + (encoded ? std::strerror(sink.err) : "PNG encoding failed"), false;
  }
  image.pixels = {};  // spent: give the memory back now
  return true;
}

SaveResult saveImage(BgrxImage image, const std::string& folder, const std::string& stem) {
  SaveResult r;
  if (folder.empty()) return r.error = "no pictures folder: HOME is not set", r;
  std::error_code ec;
  std::filesystem::create_directories(folder, ec);
  if (ec || !std::filesystem::is_directory(folder, ec))
    return r.error = "cannot create the folder " + folder + (ec ? ": " + ec.message() : ""), r;
  for (int n = 1; n <= kMaxNameTries; ++n) {
    r.path = folder + "/" + stem + (n == 1 ? "" : "-" + std::to_string(n)) + ".png";
    if (std::filesystem::exists(r.path, ec) || std::filesystem::is_symlink(r.path, ec)) continue;
    r.ok = writePng(image, r.path, r.error);
    return r;
  }
  return r.error = "too many screenshots named " + stem + " in " + folder, r;
}

bool ImageSaver::start(BgrxImage image, std::string stem, std::string folder) {
  if (busy()) return false;
  auto shared = std::make_shared<Shared>();
  auto finish = [shared](SaveResult r) {
    std::lock_guard lock(shared->mutex);
    shared->result = std::move(r);
    shared->done = true;
  };
  m_shared = shared;
  // Assigning joins the previous worker, which has finished (busy() said so).
  m_worker = base::Worker(
      "png",
      [image = std::move(image), stem = std::move(stem), folder = std::move(folder), finish]() mutable {
        // The folder is looked up here, not by the caller: it reads a file.
        const std::string dir = folder.empty() ? picturesDir() : folder;
        finish(saveImage(std::move(image), dir, stem));
      },
      [finish](const std::string& what) { finish({false, "", "cannot save the screenshot: " + what}); });
  return true;
}

std::optional<SaveResult> ImageSaver::poll() {
  if (!m_shared) return std::nullopt;
  std::lock_guard lock(m_shared->mutex);
  if (!m_shared->done) return std::nullopt;
  return std::exchange(m_shared->result, std::nullopt);
}

bool ImageSaver::busy() const {
  if (!m_shared) return false;
  std::lock_guard lock(m_shared->mutex);
  return !m_shared->done;
}

}  // namespace huddle::session
