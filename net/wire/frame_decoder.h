// Resumable frame reassembler: fed byte chunks of any size (TCP or, later, TLS records split
// anywhere), it yields whole frames `[u32 length][u16 type][payload]`. The length is checked
// against the per-type cap before any payload is buffered. Thread: owned by one reader.
#pragma once
#include <cstdint>
#include <span>
#include <string>

#include "net/base/bytes.h"
#include "net/wire/reason.h"

namespace huddle::wire {

struct Frame {
  std::uint16_t type = 0;
  std::span<const std::uint8_t> payload;  // valid until the next push() or next()
};

// Returns the largest payload accepted for `type` now, or -1 if the type is not allowed.
using PayloadLimitFn = std::int64_t (*)(std::uint16_t type, bool handshakeDone);

class FrameDecoder {
 public:
  enum class Status { Frame, NeedMore, Error };

  explicit FrameDecoder(PayloadLimitFn limit) : m_limit(limit) {}

  // Appends received bytes. Call next() until it returns NeedMore before pushing again, so
  // the buffer never holds more than one partial frame plus one chunk.
  void push(std::span<const std::uint8_t> bytes);
  // Extracts at most one frame; on Error, reason() and detail() say why (the stream is dead).
  Status next(Frame& out);

  void setHandshakeDone(bool done) { m_handshakeDone = done; }
  // True if bytes of an unfinished frame are buffered (for stall and mid-frame EOF checks).
  bool hasPartial() const { return m_end > m_start; }
  // The type of the unfinished frame, once its header is in (-1: none, or not yet known).
  int partialType() const;
  Reason reason() const { return m_reason; }
  const std::string& detail() const { return m_detail; }

 private:
  PayloadLimitFn m_limit;
  base::ByteVec m_buf;
  std::size_t m_start = 0, m_end = 0;
  bool m_handshakeDone = false;
  Reason m_reason = Reason::None;
  std::string m_detail;
};

}  // namespace huddle::wire
