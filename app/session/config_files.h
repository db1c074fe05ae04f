// Huddle's files under the user's folders: where they live ($XDG_CONFIG_HOME/huddle, or
// ~/.config/huddle), reading them with a size cap, and writing them atomically (a
// temporary file, fsync, rename) with private permissions: 0700 folder, 0600 files.
// Thread: any (no shared state).
#pragma once
#include <cstddef>
#include <string>

namespace huddle::session {

// $XDG_CONFIG_HOME/huddle, else $HOME/.config/huddle; empty if neither is set.
std::string configDir();
// $XDG_STATE_HOME/huddle, else $HOME/.local/state/huddle (the host's chat history).
std::string stateDir();
// Reads a whole file of at most `maxBytes`; false with `error` (missing, too big, unreadable).
bool readSmallFile(const std::string& path, std::size_t maxBytes, std::string& text, std::string& error);
// Creates the file's folder (0700) if needed and replaces the file with `text` (0600)
// atomically: a crash leaves the old file or the new one, never half of one.
bool writeFileAtomically(const std::string& path, const std::string& text, std::string& error);

}  // namespace huddle::session
