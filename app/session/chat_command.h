// What a line typed into a chat box means: a message, a private message (/msg NAME text),
// or a command (/who, /quit, /kick NAME, /password, /voice [on|off], /mute, /unmute, /send PATH [NAME], /help). Shared by the window and the terminal.
// Thread: any (pure).
#pragma once
#include <optional>
#include <string>

namespace huddle::session {

struct ChatCommand {
  enum class Kind { Empty, Say, Private, Who, Quit, Kick, Ban, Password, Help, Voice, Mute, Unmute, Send, Error };
  Kind kind = Kind::Empty;
  std::string target;  // Private, Kick, Ban; Send: who to (empty: everyone)
  std::string text;    // Voice: "on", "off" or "" (toggle); Say, Private; Password: the new one ("" = make one, "off" = none);
                       // Error: what is wrong; Send: the file's path
};

ChatCommand parseChatLine(const std::string& line);
// The password a `/password` command asks for: a made-up one for "", none ("") for "off";
// nothing if one could not be made (never silently "no password").
std::optional<std::string> requestedPassword(const std::string& arg);
std::string chatHelpText();

}  // namespace huddle::session
