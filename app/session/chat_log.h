// What a participant's chat panel shows: the event log (bounded), the user list, the unread
// count and the session status, built from ChatClientEvents. No ImGui: the window draws it,
// tests check it. Thread: the owner's (UI) thread only.
#pragma once
#include <algorithm>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "app/session/participant_colour.h"
#include "net/chat_client.h"

namespace huddle::session {

struct ChatLine {
  enum class Style { Message, Private, Notice, System };
  Style style = Style::Message;
  std::int64_t timeUs = 0;
  std::string from;   // empty for system lines
  std::string to;     // private messages
  std::string text;
  bool history = false;
  std::uint32_t fileOffer = 0;  // a file offered to us: FileTransfers' id (accept/decline)
};

class ChatLog {
 public:
  explicit ChatLog(std::size_t maxLines = 5000) : m_maxLines(maxLines) {}

  // Applies one event; returns true if it added a line. Back in the same session after a
  // reconnect, the host's history replay adds only what was missed, once, and says so if
  // more was missed than the host keeps.
  bool apply(const net::ChatClientEvent& ev);
  // Adds a local line (command feedback, errors) that never crossed the network.
  void addLocal(ChatLine::Style style, const std::string& text);
  // A file offered to us (app/session/file_transfers.h): a line the window gives buttons.
  void addFileOffer(const std::string& text, std::uint32_t fileId);

  const std::deque<ChatLine>& lines() const { return m_lines; }
  // How many lines were ever added (the log keeps the newest maxLines): a face that prints
  // new lines keeps the count it has printed up to and calls forEachSince().
  std::uint64_t added() const { return m_added; }
  template <typename F>
  void forEachSince(std::uint64_t& printed, F&& f) const {
    const std::uint64_t first = m_added - m_lines.size();
    for (std::uint64_t i = std::max(printed, first); i < m_added; ++i) f(m_lines[static_cast<std::size_t>(i - first)]);
    printed = m_added;
  }
  // We left: nobody is listed any more.
  void clearUsers() {
    m_users.clear();
    m_connected = false;
  }
  const std::vector<wire::UserInfo>& users() const { return m_users; }
  // The colour (0xRRGGBB) of the person named `name`: participantColour() of their id while
  // they are here, so a name in the chat matches their entry in the list and their pointer.
  std::uint32_t colourOf(const std::string& name) const;
  const std::string& selfName() const { return m_selfName; }
  const std::string& hostName() const { return m_hostName; }
  bool connected() const { return m_connected; }
  // Why the session ended or failed, for the status line; empty while connected.
  const std::string& endText() const { return m_endText; }
  bool sessionEnded() const { return m_sessionEnded; }

  // Lines added since markRead(); the chat tab shows this when it is not focused.
  int unread() const { return m_unread; }
  void markRead() { m_unread = 0; }
  // The whole log as text, one formatted line each (for "copy").
  std::string toText() const;
  // One line as the terminal shows it: "[HH:MM:SS] bob: hi", "[HH:MM:SS] * bob joined",
  // "[HH:MM:SS] a -> b (private): hi", "[HH:MM:SS] ! notice". Text of several lines prints
  // each line after the first behind kContinuation.
  static std::string format(const ChatLine& line);
  static constexpr const char* kContinuation = "           | ";  // as wide as "[HH:MM:SS] "


 private:
  void push(ChatLine line);

  std::size_t m_maxLines;
  std::deque<ChatLine> m_lines;
  std::vector<wire::UserInfo> m_users;
  std::string m_selfName, m_hostName, m_endText;
  bool m_connected = false, m_sessionEnded = false;
  std::uint64_t m_sessionId = 0;
  std::uint64_t m_lastSeq = 0;  // newest chat event seen in this session
  bool m_resuming = false;      // replayed history after a reconnect is being deduplicated
  bool m_replayOverlaps = false;  // the replay reached back to what we had
  int m_unread = 0;
  std::uint64_t m_added = 0;
};

}  // namespace huddle::session
