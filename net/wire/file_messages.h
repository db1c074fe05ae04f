// Files in the chat: the messages of a transfer on the chat port and the file-name rule both
// the host and a receiver apply. A transfer is pulled by each receiver on its own: it asks
// for pieces (FileRequest, at most kFileWindowChunks outstanding), the host asks the sender,
// the sender answers with the piece (FileChunk) and the host hands it on. See
// net/file_hub.h (the host) and app/session/file_transfers.h (a participant).
// Thread: any (pure functions).
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "net/wire/codec.h"
#include "net/wire/limits.h"
#include "net/wire/messages.h"

namespace huddle::wire {

using Sha256 = std::array<std::uint8_t, 32>;

// A file name as offered: 1..kMaxFileNameBytes of UTF-8, no control characters, no path
// separator ('/' or '\\'), not "." or "..", and not a name a common system reserves (CON,
// PRN, AUX, NUL, COM1-9, LPT1-9, with or without an extension, any case). Empty result =
// valid, else the reason in words.
std::string validateFileName(const std::string& name);

// `text` cut to at most `max` bytes, at a UTF-8 character boundary (never half a character).
inline std::string cutUtf8(std::string text, std::size_t max) {
  if (text.size() <= max) return text;
  std::size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  text.resize(end);
  return text;
}

// The id of a transfer: the sender's participant id and its own offer number, so a sender
// knows it before the host answers and two senders never collide.
inline std::uint64_t fileTransferId(std::uint32_t senderId, std::uint32_t offerId) {
  return std::uint64_t(senderId) << 32 | offerId;
}

struct FileOffer {
  static constexpr MsgType kType = MsgType::FileOffer;
  std::uint32_t offerId = 0;  // the sender's own number, nonzero
  std::string to;             // one person's name, or empty for everyone
  std::string name;
  std::uint64_t size = 0;
  Sha256 sha256{};
  void write(Writer& w) const;
  bool read(Reader& r);
};

struct FileOffered {
  static constexpr MsgType kType = MsgType::FileOffered;
  std::uint64_t transferId = 0;
  std::uint32_t fromId = 0;
  std::string from;
  std::string to;  // empty: everyone
  std::string name;
  std::uint64_t size = 0;
  Sha256 sha256{};
  void write(Writer& w) const;
  bool read(Reader& r);
};

// From a receiver: the piece [offset, offset + length) of a transfer (peerId 0). From the
// host to the sender: the same, for the receiver `peerId`.
struct FileRequest {
  static constexpr MsgType kType = MsgType::FileRequest;
  std::uint64_t transferId = 0;
  std::uint32_t peerId = 0;
  std::uint64_t offset = 0;
  std::uint32_t length = 0;  // 1..kFileChunkBytes
  void write(Writer& w) const;
  bool read(Reader& r);
};

// From the sender: a piece for the receiver `peerId`. From the host to a receiver: the piece,
// `peerId` the sender's id.
struct FileChunk {
  static constexpr MsgType kType = MsgType::FileChunk;
  std::uint64_t transferId = 0;
  std::uint32_t peerId = 0;
  std::uint64_t offset = 0;
  std::vector<std::uint8_t> data;  // 1..kFileChunkBytes
  void write(Writer& w) const;
  bool read(Reader& r);
};

enum class FileStatusCode : std::uint8_t {
  Accepted = 1,   // H->sender: `peerId` asked for its first piece
  Declined = 2,   // receiver->H->sender: `peerId` does not want it
  Done = 3,       // receiver->H->sender: `peerId` has it, its SHA-256 checked
  Failed = 4,     // receiver->H->sender: `peerId` gave up (text says why)
  Cancelled = 5,  // sender->H->receivers: no longer offered (or the sender left: text)
  Refused = 6,    // H->sender or receiver: a limit or a bad offer (text says which)
  Closed = 7,     // H->sender: every recipient is finished; the offer is gone
};

struct FileStatus {
  static constexpr MsgType kType = MsgType::FileStatus;
  std::uint64_t transferId = 0;
  std::uint32_t peerId = 0;
  FileStatusCode code = FileStatusCode::Cancelled;
  std::string text;  // at most kMaxReasonBytes
  void write(Writer& w) const;
  bool read(Reader& r);
};

}  // namespace huddle::wire
