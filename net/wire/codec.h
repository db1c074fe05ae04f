// Little-endian writer and bounds-checked reader for message payloads. The reader never
// reads past its span: a short or malformed field sets a sticky failure flag that the
// decoder checks once at the end. Thread: any (no shared state).
#pragma once
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include "net/base/bytes.h"

namespace huddle::wire {

class Writer {
 public:
  explicit Writer(base::ByteVec& out) : m_out(out) {}
  void u8(std::uint8_t v) { m_out.push_back(v); }
  void u16(std::uint16_t v) { putLe(v, 2); }
  void u32(std::uint32_t v) { putLe(v, 4); }
  void u64(std::uint64_t v) { putLe(v, 8); }
  void i32(std::int32_t v) { putLe(static_cast<std::uint32_t>(v), 4); }
  void i64(std::int64_t v) { putLe(static_cast<std::uint64_t>(v), 8); }
  // u16 length + bytes; the caller keeps strings within limits (asserted by encoders).
  void str(std::string_view s) {
    u16(static_cast<std::uint16_t>(s.size()));
    raw(s.data(), s.size());
  }
  // u32 length + bytes.
  void blob(std::span<const std::uint8_t> b) {
    u32(static_cast<std::uint32_t>(b.size()));
    raw(b.data(), b.size());
  }
  void raw(const void* p, std::size_t n) {
    const auto* b = static_cast<const std::uint8_t*>(p);
    m_out.insert(m_out.end(), b, b + n);
  }
  std::size_t size() const { return m_out.size(); }

 private:
  void putLe(std::uint64_t v, int n) {
    for (int i = 0; i < n; ++i) m_out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  }
  base::ByteVec& m_out;
};

class Reader {
 public:
  explicit Reader(std::span<const std::uint8_t> in) : m_in(in) {}
  std::uint8_t u8() { return static_cast<std::uint8_t>(getLe(1)); }
  std::uint16_t u16() { return static_cast<std::uint16_t>(getLe(2)); }
  std::uint32_t u32() { return static_cast<std::uint32_t>(getLe(4)); }
  std::uint64_t u64() { return getLe(8); }
  std::int32_t i32() { return static_cast<std::int32_t>(static_cast<std::uint32_t>(getLe(4))); }
  std::int64_t i64() { return static_cast<std::int64_t>(getLe(8)); }
  // Reads exactly `n` bytes (no length prefix) as a view into the input.
  std::span<const std::uint8_t> bytes(std::size_t n) {
    if (!m_ok || n > remaining()) return fail(), std::span<const std::uint8_t>();
    auto s = m_in.subspan(m_pos, n);
    m_pos += n;
    return s;
  }
  // Reads a u16-length string of at most `maxBytes`; longer fails the reader.
  std::string str(std::size_t maxBytes) {
    std::size_t n = u16();
    if (!m_ok || n > maxBytes || n > remaining()) return fail(), std::string();
    std::string s(reinterpret_cast<const char*>(m_in.data() + m_pos), n);
    m_pos += n;
    return s;
  }
  // Reads a u32-length blob of at most `maxBytes` as a view into the input.
  std::span<const std::uint8_t> blob(std::size_t maxBytes) {
    std::size_t n = u32();
    if (!m_ok || n > maxBytes || n > remaining()) return fail(), std::span<const std::uint8_t>();
    auto s = m_in.subspan(m_pos, n);
    m_pos += n;
    return s;
  }
  std::size_t remaining() const { return m_in.size() - m_pos; }
  bool ok() const { return m_ok; }
  // True if every field was read and nothing is left over: the whole payload was understood.
  bool done() const { return m_ok && m_pos == m_in.size(); }
  void fail() { m_ok = false; }

 private:
  std::uint64_t getLe(std::size_t n) {
    if (!m_ok || n > remaining()) { m_ok = false; return 0; }
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) v |= std::uint64_t(m_in[m_pos + i]) << (8 * i);
    m_pos += n;
    return v;
  }
  std::span<const std::uint8_t> m_in;
  std::size_t m_pos = 0;
  bool m_ok = true;
};

}  // namespace huddle::wire
