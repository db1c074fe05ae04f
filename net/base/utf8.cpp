#include "net/base/utf8.h"

#include <cstdint>

namespace huddle::base {

// Decodes one code point at s[i]; returns its length, or 0 if malformed.
static std::size_t decodeOne(std::string_view s, std::size_t i, std::uint32_t& cp) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  std::size_t left = s.size() - i;
  unsigned char c = p[i];
  if (c < 0x80) { cp = c; return 1; }
  std::size_t len;
  std::uint32_t min;
  if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; min = 0x80; }
  else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; min = 0x800; }
  else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; min = 0x10000; }
  else return 0;
  if (len > left) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    unsigned char cc = p[i + k];
    if ((cc & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

bool isValidUtf8(std::string_view s) {
  std::uint32_t cp;
  for (std::size_t i = 0; i < s.size();) {
    std::size_t n = decodeOne(s, i, cp);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

bool hasForbiddenControls(std::string_view s, bool allowNewline) {
  std::uint32_t cp;
  for (std::size_t i = 0; i < s.size();) {
    std::size_t n = decodeOne(s, i, cp);
    if (n == 0) return true;
    i += n;
    if (cp == '\t' || (allowNewline && cp == '\n')) continue;
    if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0)) return true;
    // Bidi embeddings/overrides (U+202A..202E) and isolates (U+2066..2069).
    if ((cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069)) return true;
  }
  return false;
}

}  // namespace huddle::base
