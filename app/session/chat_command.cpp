#include "app/session/chat_command.h"

#include "net/room_auth.h"
#include "net/wire/messages.h"

namespace huddle::session {

namespace {
std::string trimRight(std::string s) {
  while (!s.empty() && (s.back() == '\r' || s.back() == '\n' || s.back() == ' ' || s.back() == '\t')) s.pop_back();
  return s;
}
// Splits "word rest" at the first run of spaces.
void splitWord(const std::string& s, std::string& word, std::string& rest) {
  std::size_t sp = s.find(' ');
  word = s.substr(0, sp);
  rest.clear();
  if (sp != std::string::npos) {
    std::size_t start = s.find_first_not_of(' ', sp);
    if (start != std::string::npos) rest = s.substr(start);
  }
}
}  // namespace

ChatCommand parseChatLine(const std::string& rawLine) {
  ChatCommand c;
  std::string line = trimRight(rawLine);
  if (line.empty()) return c;
  auto error = [&](std::string text) {
    c.kind = ChatCommand::Kind::Error;
    c.text = std::move(text);
    return c;
  };
  // "//text" says "/text" literally.
  if (line[0] != '/' || line.rfind("//", 0) == 0) {
    c.kind = ChatCommand::Kind::Say;
    c.text = line[0] == '/' ? line.substr(1) : line;
    if (std::string why = wire::validateChatText(c.text); !why.empty()) return error("Not sent: " + why + ".");
    return c;
  }
  std::string cmd, rest;
  splitWord(line, cmd, rest);
  if (cmd == "/msg" || cmd == "/m") {
    std::string to, text;
    splitWord(rest, to, text);
    if (to.empty() || text.empty()) return error("Usage: /msg NAME text");
    if (std::string why = wire::validateChatText(text); !why.empty()) return error("Not sent: " + why + ".");
    c.kind = ChatCommand::Kind::Private;
    c.target = to;
    c.text = text;
  } else if (cmd == "/who") {
    c.kind = ChatCommand::Kind::Who;
  } else if (cmd == "/quit" || cmd == "/leave") {
    c.kind = ChatCommand::Kind::Quit;
  } else if (cmd == "/kick" || cmd == "/ban") {
    std::string who, why;
    splitWord(rest, who, why);
    if (who.empty()) return error("Usage: " + cmd + " NAME [reason]");
    c.kind = cmd == "/kick" ? ChatCommand::Kind::Kick : ChatCommand::Kind::Ban;
    c.target = who;
    c.text = why;
  } else if (cmd == "/password") {
    c.kind = ChatCommand::Kind::Password;
    c.text = rest;
  } else if (cmd == "/voice") {
    if (!rest.empty() && rest != "on" && rest != "off") return error("Usage: /voice [on|off]");
    c.kind = ChatCommand::Kind::Voice;
    c.text = rest;
  } else if (cmd == "/mute" || cmd == "/unmute") {
    if (!rest.empty()) return error("Usage: " + cmd);
    c.kind = cmd == "/mute" ? ChatCommand::Kind::Mute : ChatCommand::Kind::Unmute;
  } else if (cmd == "/send") {
    // /send PATH [NAME]; a path with spaces goes in double quotes.
    std::string path, who;
    if (!rest.empty() && rest[0] == '"') {
      const std::size_t close = rest.find('"', 1);
      if (close == std::string::npos) return error("Usage: /send PATH [NAME] (a path with spaces in \"quotes\")");
      path = rest.substr(1, close - 1);
      std::string after = rest.substr(close + 1), more;
      const std::size_t start = after.find_first_not_of(' ');
      splitWord(start == std::string::npos ? std::string() : after.substr(start), who, more);
      if (!more.empty()) return error("Usage: /send PATH [NAME]");
    } else {
      std::string more;
      splitWord(rest, path, who);
      splitWord(std::string(who), who, more);
      if (!more.empty()) return error("Usage: /send PATH [NAME] (a path with spaces in \"quotes\")");
    }
    if (path.empty()) return error("Usage: /send PATH [NAME]");
    if (!who.empty())
      if (std::string why = wire::validateName(who); !why.empty()) return error("Not sent: " + why + ".");
    c.kind = ChatCommand::Kind::Send;
    c.text = path;
    c.target = who;
  } else if (cmd == "/help" || cmd == "/?") {
    c.kind = ChatCommand::Kind::Help;
  } else {
    return error("Unknown command " + cmd + " (try /help).");
  }
  return c;
}

std::optional<std::string> requestedPassword(const std::string& arg) {
  if (arg == "off") return std::string();
  if (!arg.empty()) return arg;
  std::string made = net::generateRoomPassword();
  if (made.empty()) return std::nullopt;
  return made;
}

std::string chatHelpText() {
  return "Commands: /msg NAME text (private message), /who (who is here), /kick NAME and /ban NAME (host only), "
         "/password [NEW|off] (host only: a new room password, made up if not given; people here stay), "
         "/voice [on|off] (join or leave the voice), /mute and /unmute (your microphone), "
         "/send PATH [NAME] (offer a file to everyone, or to NAME), "
         "/quit (leave), //text (say text starting with '/').";
}

}  // namespace huddle::session
