#include "net/wire/frame_decoder.h"

#include <cstring>

#include "net/wire/limits.h"

namespace huddle::wire {

namespace {
// The header's fields: u32 payload length, u16 type, little-endian.
std::uint32_t headerLength(const std::uint8_t* h) {
  return std::uint32_t(h[0]) | std::uint32_t(h[1]) << 8 | std::uint32_t(h[2]) << 16 | std::uint32_t(h[3]) << 24;
}
std::uint16_t headerType(const std::uint8_t* h) { return static_cast<std::uint16_t>(h[4] | h[5] << 8); }
}  // namespace

void FrameDecoder::push(std::span<const std::uint8_t> bytes) {
  if (m_reason != Reason::None || bytes.empty()) return;
  // Compact: move the unfinished tail to the front before growing.
  if (m_start > 0) {
    std::memmove(m_buf.data(), m_buf.data() + m_start, m_end - m_start);
    m_end -= m_start;
    m_start = 0;
  }
  if (m_buf.size() - m_end < bytes.size()) m_buf.resize(m_end + bytes.size());
  std::memcpy(m_buf.data() + m_end, bytes.data(), bytes.size());
  m_end += bytes.size();
}

FrameDecoder::Status FrameDecoder::next(Frame& out) {
  if (m_reason != Reason::None) return Status::Error;
  std::size_t avail = m_end - m_start;
  if (avail < kFrameHeaderBytes) return Status::NeedMore;
  const std::uint8_t* h = m_buf.data() + m_start;
  const std::uint32_t len = headerLength(h);
  const std::uint16_t type = headerType(h);
  std::int64_t cap = m_limit(type, m_handshakeDone);
  if (cap < 0) {
    m_reason = m_handshakeDone ? Reason::ProtoHeader : Reason::ProtoState;
    m_detail = "message type " + std::to_string(type) + " not allowed" +
               (m_handshakeDone ? "" : " before the handshake");
    return Status::Error;
  }
  if (len > static_cast<std::uint64_t>(cap)) {
    m_reason = Reason::ProtoOversize;
    m_detail = "type=" + std::to_string(type) + " len=" + std::to_string(len) + " cap=" + std::to_string(cap);
    return Status::Error;
  }
  if (avail - kFrameHeaderBytes < len) return Status::NeedMore;
  out.type = type;
  out.payload = std::span<const std::uint8_t>(h + kFrameHeaderBytes, len);
  m_start += kFrameHeaderBytes + len;
  if (m_start == m_end) m_start = m_end = 0;
  return Status::Frame;
}

int FrameDecoder::partialType() const {
  return m_end - m_start >= kFrameHeaderBytes ? int(headerType(m_buf.data() + m_start)) : -1;
}

}  // namespace huddle::wire
