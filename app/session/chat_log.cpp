#include "app/session/chat_log.h"

#include "net/base/clock.h"

namespace huddle::session {

void ChatLog::push(ChatLine line) {
  if (!line.history) ++m_unread;
  ++m_added;
  m_lines.push_back(std::move(line));
  while (m_lines.size() > m_maxLines) m_lines.pop_front();
}

std::uint32_t ChatLog::colourOf(const std::string& name) const {
  for (const auto& u : m_users)
    if (u.name == name) return participantColour(u.id);
  return colourForName(name);
}

void ChatLog::addLocal(ChatLine::Style style, const std::string& text) {
  ChatLine l;
  l.style = style;
  l.timeUs = base::wallUs();
  l.text = text;
  push(std::move(l));
}

void ChatLog::addFileOffer(const std::string& text, std::uint32_t fileId) {
  ChatLine l;
  l.style = ChatLine::Style::System;
  l.timeUs = base::wallUs();
  l.text = text;
  l.fileOffer = fileId;
  push(std::move(l));
}

bool ChatLog::apply(const net::ChatClientEvent& ev) {
  using Kind = net::ChatClientEvent::Kind;
  switch (ev.kind) {
    case Kind::Connected: {
      const bool sameSession = ev.sessionId != 0 && ev.sessionId == m_sessionId;
      m_resuming = sameSession && m_lastSeq > 0;
      m_replayOverlaps = false;
      if (!sameSession) m_lastSeq = 0;
      m_sessionId = ev.sessionId;
      m_connected = true;
      m_selfName = ev.text;
      m_hostName = ev.hostName;
      m_endText.clear();
      m_sessionEnded = false;
      addLocal(ChatLine::Style::System, (sameSession ? "Back in the session of " : "Joined the session of ") +
                                            ev.hostName + " as " + ev.text + ".");
      return true;
    }
    case Kind::Users:
      m_users = ev.users;
      return false;
    case Kind::Notice:
      addLocal(ChatLine::Style::Notice, ev.text);
      return true;
    case Kind::Disconnected:
      m_connected = false;
      m_endText = ev.text;
      m_sessionEnded = ev.sessionEnded;
      m_users.clear();
      addLocal(ChatLine::Style::System, ev.text);
      return true;
    case Kind::Chat: {
      const wire::ChatEvent& c = ev.chat;
      const bool replayed = c.flags & wire::ChatEvent::kFlagHistory;
      if (m_resuming && replayed) {
        if (c.seq <= m_lastSeq) {  // seen before the drop: once is enough
          m_replayOverlaps = true;
          return false;
        }
        if (!m_replayOverlaps) {
          // The host's history does not reach back to what we last saw: some of what was
          // said while we were away fell out of it.
          addLocal(ChatLine::Style::Notice, "Some messages from while you were away may be missing "
                                            "(the host keeps the last " + std::to_string(wire::kHistoryMessages) + ").");
          m_replayOverlaps = true;  // say it once
        }
      } else if (!replayed) {
        m_resuming = false;
      }
      m_lastSeq = std::max(m_lastSeq, c.seq);
      ChatLine l;
      l.timeUs = c.timeUs;
      l.from = c.from;
      l.to = c.to;
      l.history = c.flags & wire::ChatEvent::kFlagHistory;
      switch (c.kind) {
        case wire::ChatKind::Public: l.style = ChatLine::Style::Message; l.text = c.text; break;
        case wire::ChatKind::Private: l.style = ChatLine::Style::Private; l.text = c.text; break;
        case wire::ChatKind::Join: l.style = ChatLine::Style::System; l.text = c.from + " joined"; break;
        case wire::ChatKind::Leave:
          l.style = ChatLine::Style::System;
          l.text = c.from + " left" + (c.text.empty() ? "" : " (" + c.text + ")");
          break;
        case wire::ChatKind::System: l.style = ChatLine::Style::System; l.text = c.text; break;
      }
      push(std::move(l));
      return true;
    }
  }
  return false;
}

std::string ChatLog::format(const ChatLine& l) {
  std::string out = "[" + base::formatClock(l.timeUs) + "] ";
  switch (l.style) {
    case ChatLine::Style::Message: out += l.from + ": "; break;
    case ChatLine::Style::Private: out += l.from + " -> " + l.to + " (private): "; break;
    case ChatLine::Style::Notice: out += "! "; break;
    case ChatLine::Style::System: out += "* "; break;
  }
  // Chat text may hold newlines: every continuation starts with kContinuation, so no text can
  // print a line that looks like a new message or a system line of its own.
  for (char c : l.text) {
    out += c;
    if (c == '\n') out += kContinuation;
  }
  return out;
}

std::string ChatLog::toText() const {
  std::string out;
  for (const auto& l : m_lines) out += format(l) + '\n';
  return out;
}

}  // namespace huddle::session
