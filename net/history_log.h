// The host's optional durable chat history: a file of checksummed records (u32 length, u32
// CRC-32 of the payload, payload = an encoded ChatEvent), read back on the next start. A damaged
// record is skipped (reading resumes at the next good one); the file is rewritten with just the
// kept history on start and whenever it would pass wire::kMaxHistoryFileBytes, and a failed
// write is cut back to the last good record. Nothing private is kept: only what everyone in the
// room saw (public messages, joins, leaves).
// Thread: one owner (the chat hub: its queued steps, which run one at a time, after its lock).
#pragma once
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <vector>

#include "net/base/bytes.h"
#include "net/wire/messages.h"

namespace huddle::net {

class ChatHistoryLog {
 public:
  ChatHistoryLog() = default;
  ~ChatHistoryLog();
  ChatHistoryLog(const ChatHistoryLog&) = delete;
  ChatHistoryLog& operator=(const ChatHistoryLog&) = delete;

  // Opens (or creates, 0600) `path`, reads back the newest `keep` good records into `events`,
  // oldest first, and rewrites the file with just those. `warning` says what was skipped, if
  // anything. False with `error` if unusable.
  bool open(const std::string& path, std::size_t keep, std::vector<wire::ChatEvent>& events, std::string& warning,
            std::string& error);
  // Appends one event (compacting to the newest `keep` first if the file would pass its cap);
  // false if the write failed (the file is cut back to its last good record; the hub carries on).
  bool append(const wire::ChatEvent& event);
  // The file's size as this log last left it.
  std::uint64_t fileBytes() const { return m_size; }

 private:
  // Reads the good records of the file's last kMaxHistoryFileBytes, skipping damaged ones.
  bool readRecords(std::vector<base::ByteVec>& records, std::uint64_t& skipped, std::string& error) const;
  // Replaces the file with `records` (a new file renamed over it, so a crash keeps one or the other).
  bool rewrite(const std::vector<base::ByteVec>& records, std::string& error);
  // Keeps the newest m_keep records only.
  bool compact(std::string& error);

  int m_fd = -1;
  std::string m_path;
  std::size_t m_keep = 0;
  std::uint64_t m_size = 0;  // bytes of good records in the file
};

// CRC-32 (IEEE 802.3, as zlib), for the records' checksums.
std::uint32_t crc32(std::span<const std::uint8_t> bytes);

}  // namespace huddle::net
