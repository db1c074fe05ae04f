// Strict UTF-8 validation for text that crosses the wire (chat, names).
#pragma once
#include <string_view>

namespace huddle::base {

// True if `s` is well-formed UTF-8: no overlongs, no surrogates, nothing above U+10FFFF.
bool isValidUtf8(std::string_view s);
// True if `s` holds a C0/C1 control character (other than tab) or a bidi override/isolate;
// such text is refused in names and chat so nobody can spoof or garble others' lines.
bool hasForbiddenControls(std::string_view s, bool allowNewline);

}  // namespace huddle::base
