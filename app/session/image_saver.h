// Screenshots: where they go (the XDG pictures folder, created if missing) and writing a
// copied image as a PNG on a small owned worker ("png") that the owner polls, so the window
// never waits for an encoder or a disk.
// Thread: ImageSaver from its owner's thread (the UI); the encoding on its worker. The free
// functions from any thread.
#pragma once
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "net/base/worker.h"

namespace huddle::session {

// A copy of a view's image, handed to whoever writes it (see StreamView::copyImage()).
struct BgrxImage {
  int widthPx = 0, heightPx = 0;
  std::vector<std::uint8_t> pixels;  // BGRX, widthPx * 4 bytes a row
};

struct SaveResult {
  bool ok = false;
  std::string path;   // the file written (ok), or where it was going ("" if not known)
  std::string error;  // why not (not ok)
};

// XDG_PICTURES_DIR from $XDG_CONFIG_HOME/user-dirs.dirs (else ~/.config/user-dirs.dirs),
// else ~/Pictures; "" if neither that file nor HOME says. Reads a file: not on the UI thread.
std::string picturesDir();
// "huddle-<owner, letters and digits only>-<local time>": a screenshot's name without ".png".
std::string screenshotStem(const std::string& ownerName, std::int64_t wallUs);
// Writes `image` as an RGB PNG at `path`, converting it in place (it is spent afterwards).
// An existing file is replaced only if `replace` (a path the user named). False with `error`.
bool writePng(BgrxImage& image, const std::string& path, std::string& error, bool replace = false);
// Creates `folder` if missing and writes `image` there as `<stem>.png`, or `<stem>-2.png` and
// so on if that name is taken. Synchronous; ImageSaver runs it on its worker.
SaveResult saveImage(BgrxImage image, const std::string& folder, const std::string& stem);

class ImageSaver {
 public:
  ImageSaver() = default;
  // Waits for a save under way: the user asked for that file.
  ~ImageSaver() = default;
  ImageSaver(const ImageSaver&) = delete;
  ImageSaver& operator=(const ImageSaver&) = delete;

  // Starts writing `image` into `folder` ("" = picturesDir()) as `<stem>.png` on the worker.
  // False (and nothing started) while the previous save is still under way.
  bool start(BgrxImage image, std::string stem, std::string folder = {});
  // The outcome of the last start(), once, when it is done; nothing while it runs.
  std::optional<SaveResult> poll();
  bool busy() const;

 private:
  struct Shared {
    std::mutex mutex;
    bool done = false;
    std::optional<SaveResult> result;
  };
  std::shared_ptr<Shared> m_shared;
  base::Worker m_worker;  // last: joined before the state it writes goes
};

}  // namespace huddle::session
