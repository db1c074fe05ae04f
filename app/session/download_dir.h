// Where received files go and what they are called there: the XDG download folder, a safe
// local name for whatever name a sender chose, a unique name in a folder, and the hidden
// name a file has while it arrives. Thread: any (no shared state; the file system is asked).
#pragma once
#include <string>

namespace huddle::session {

// XDG_DOWNLOAD_DIR from `configHome`/user-dirs.dirs ($HOME expanded; only an absolute
// result counts), else `home`/Downloads. Empty `configHome`: `home`/.config.
std::string xdgDownloadDir(const std::string& home, const std::string& configHome);
// The same for this user ($HOME, $XDG_CONFIG_HOME); empty if there is no home.
std::string downloadDir();
// Creates `dir` (and its parents) if missing; false with `error` if it cannot be a folder.
bool ensureDir(const std::string& dir, std::string& error);

// A name safe to create in a folder, whatever was offered: control characters, path
// separators and characters other systems refuse become '_', leading dots and spaces and
// trailing dots and spaces go, a reserved name (CON, NUL, COM1, ...) gets a leading '_', an
// empty result is "file", and a long one is cut (at a character boundary, keeping its
// extension) to 200 bytes. Never "." or "..", never with a '/'.
std::string safeFileName(const std::string& offered);
// `name` if nothing in `dir` has it, else "stem (2).ext", "stem (3).ext", ... (the first free).
std::string uniqueFileName(const std::string& dir, const std::string& name);
// The hidden name a file has while it arrives: ".NAME.part".
std::string partFileName(const std::string& name);

// Renames `from` to `to` unless something is at `to` (renameat2 RENAME_NOREPLACE): false with
// errno (EEXIST: something is there, left as it was).
bool renameNoReplace(const std::string& from, const std::string& to);
// Gives the finished file `partPath` its final name in `dir`: `name`, else the first free
// "stem (n).ext" (uniqueFileName), never over anything there, even one made meanwhile: a hard
// link (`hardLinks`; the .part then goes), else renameNoReplace, else, on a file system with
// neither, a name reserved with O_EXCL and renamed onto. The path, or "" with errno.
std::string giveFinalName(const std::string& partPath, const std::string& dir, const std::string& name,
                          bool hardLinks = true);

}  // namespace huddle::session
