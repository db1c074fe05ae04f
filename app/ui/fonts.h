// Glyphs for any script: the text panels draw says which code points the font atlas needs, and
// the window rebuilds the atlas between frames with them. Thread: main thread only.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace huddle::ui {

// Debian's Dear ImGui 1.86 draws 16-bit code points only, so each code point above U+FFFF that
// text needs (emoji, rarer CJK, maths letters) gets a stand-in from the Private Use Area
// U+E000..U+F8FF, whose atlas glyph is drawn from a font that has the real one. Text goes
// through forDisplay() before ImGui draws it (which also notes any glyph the atlas lacks) and
// what an ImGui input holds comes back through fromDisplay().
class FontGlyphs {
 public:
  static constexpr char32_t kFirstStandIn = 0xE000, kLastStandIn = 0xF8FF;
  // Code points the atlas may hold beyond the ones it starts with: enough for a long CJK chat
  // (everyday Chinese uses ~3500 characters) at an atlas of a few MB. Past it, '?' is drawn.
  static constexpr std::size_t kMaxExtra = 6000;

  FontGlyphs();

  // Notes the code points of `utf8` the atlas lacks; the window adds them before the next frame.
  void need(std::string_view utf8);
  // `utf8` as ImGui can draw it: code points above U+FFFF become their stand-ins; the parts of
  // emoji sequences only a shaping engine could apply (joiners, variation selectors, skin
  // tones; ImGui would draw them as '?' or a swatch) are left out; real
  // Private Use Area code points and invalid bytes become U+FFFD. Notes what it needs.
  std::string forDisplay(std::string_view utf8);
  // Back from what forDisplay made, or an ImGui input holds, to the real text.
  std::string fromDisplay(std::string_view display) const;

  // The stand-in for `codePoint` (itself if it is U+FFFF or below), assigned and noted as
  // needed on first use; 0 once every stand-in is taken or the limit is reached.
  char32_t standIn(char32_t codePoint);
  // The code point a stand-in stands for (0 if none).
  char32_t realOf(char32_t standIn) const;

  // For the window: code points noted since the last takeNew(), so an atlas rebuild is due.
  bool hasNew() const { return !m_new.empty(); }
  // Takes them: from now on they count as in the atlas (whether a font has them or not).
  std::vector<char32_t> takeNew();
  // Every code point the atlas should hold: the starting set and all noted since, in order.
  const std::vector<char32_t>& all() const { return m_all; }
  // Code points above U+00FF in all(), as UTF-8 (what the window reports with its screenshot).
  std::string beyondLatin1() const;

 private:
  bool noted(char32_t c) const { return c <= 0xFFFF && (m_known[c >> 6] >> (c & 63) & 1); }
  void note(char32_t c);

  std::vector<std::uint64_t> m_known;  // BMP code points noted, one bit each
  std::unordered_map<char32_t, char32_t> m_standInOf;
  std::vector<char32_t> m_realOf;  // by stand-in - kFirstStandIn
  std::vector<char32_t> m_all;
  std::vector<char32_t> m_new;
  std::size_t m_extra = 0;
};

// The window's glyph set, which panels feed.
FontGlyphs& fontGlyphs();

// What panels call on any text they draw with ImGui (chat lines, names, titles):
// `fontGlyphs().forDisplay(utf8)`. For text read back from an InputText: fromDisplay().
inline std::string forDisplay(std::string_view utf8) { return fontGlyphs().forDisplay(utf8); }
inline std::string fromDisplay(std::string_view display) { return fontGlyphs().fromDisplay(display); }

// UTF-8 helpers (invalid or overlong bytes decode as U+FFFD, one byte at a time).
char32_t decodeUtf8(std::string_view s, std::size_t& at);
void appendUtf8(std::string& out, char32_t c);

// The window's font atlas: DejaVu Sans for Latin, Greek, Cyrillic and symbols; Noto Sans CJK
// for Chinese, Japanese and Korean; Noto Color Emoji for emoji (colour bitmaps); Symbola for
// symbols and emoji the others lack, in monochrome; for other scripts (Thai, Devanagari, ...)
// whatever installed font fontconfig finds (fonts-noto-core). Fonts are read the first time a
// glyph is looked for in them. Needs an ImGui context; no GL (the window re-creates the texture).
// No shaping: Arabic and Hebrew show unjoined, left to right; Indic marks are not positioned.
class FontAtlas {
 public:
  // pixelSize: the UI's font size in pixels; fontDir: where Debian puts fonts (tests may
  // point elsewhere to see the fallbacks work).
  explicit FontAtlas(float pixelSize, std::string fontDir = "/usr/share/fonts");
  ~FontAtlas();
  FontAtlas(const FontAtlas&) = delete;
  FontAtlas& operator=(const FontAtlas&) = delete;

  // Rebuilds ImGui's atlas (io.Fonts) with glyphs for every code point in glyphs.all(); takes
  // glyphs' new ones. Call between frames (after Render, before NewFrame), then re-create the
  // renderer's font texture. False if the atlas could not be built at all.
  bool rebuild(FontGlyphs& glyphs);

  struct Stats {
    std::size_t glyphs = 0;        // code points in the atlas
    std::size_t colour = 0;        // of them, colour emoji
    std::vector<char32_t> missing; // noted but in no font (drawn as '?')
    int texWidth = 0, texHeight = 0;
    double lastBuildMs = 0;
  };
  const Stats& stats() const { return m_stats; }

 private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
  Stats m_stats;
};

}  // namespace huddle::ui
