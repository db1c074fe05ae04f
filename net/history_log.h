// The host's optional durable chat history: an append-only file of checksummed records
// (u32 length, u32 CRC-32 of the payload, payload = an encoded ChatEvent), read back on the
// next start. A torn tail (the host died mid-write) or a damaged record ends the readable
// part; the file is cut back there so new records follow good ones. Nothing private is kept:
// only what everyone in the room saw (public messages, joins, leaves).
// Thread: one owner (the chat hub, under its lock).
#pragma once
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <vector>

#include "net/wire/messages.h"

namespace huddle::net {

class ChatHistoryLog {
 public:
  ChatHistoryLog() = default;
  ~ChatHistoryLog();
  ChatHistoryLog(const ChatHistoryLog&) = delete;
  ChatHistoryLog& operator=(const ChatHistoryLog&) = delete;

  // Opens (or creates, 0600) `path` and reads back every good record into `events`, oldest
  // first. `warning` says what was cut off, if anything. False with `error` if unusable.
  bool open(const std::string& path, std::vector<wire::ChatEvent>& events, std::string& warning, std::string& error);
  // Appends one event; false if the write failed (the hub carries on without it).
  bool append(const wire::ChatEvent& event);

 private:
  int m_fd = -1;
};

// CRC-32 (IEEE 802.3, as zlib), for the records' checksums.
std::uint32_t crc32(std::span<const std::uint8_t> bytes);

}  // namespace huddle::net
