// What a line typed into a chat box means: a message, a private message (/msg NAME text),
// or a command (/who, /quit, /kick NAME, /help). Shared by the window and the terminal.
// Thread: any (pure).
#pragma once
#include <string>

namespace huddle::session {

struct ChatCommand {
  enum class Kind { Empty, Say, Private, Who, Quit, Kick, Ban, Help, Error };
  Kind kind = Kind::Empty;
  std::string target;  // Private, Kick, Ban
  std::string text;    // Say, Private; Error: what is wrong
};

ChatCommand parseChatLine(const std::string& line);
std::string chatHelpText();

}  // namespace huddle::session
