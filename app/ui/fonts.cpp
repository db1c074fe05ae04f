// Glyphs for any script (see fonts.h): which code points text needs, their stand-ins above
// U+FFFF, and the ImGui font atlas built from Debian's fonts. Thread: main thread only.
#include "app/ui/fonts.h"

#include <fontconfig/fontconfig.h>
#include <imgui.h>
#include <stb_image.h>
#include <stb_image_resize.h>
#include <stb_truetype.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <set>

#include "net/base/log.h"

namespace huddle::ui {

namespace {
constexpr const char* kTag = "ui/fonts";
constexpr char32_t kReplacement = 0xFFFD;

bool isStandIn(char32_t c) { return c >= FontGlyphs::kFirstStandIn && c <= FontGlyphs::kLastStandIn; }
// Parts of an emoji sequence that only a shaping engine could apply (joiners, presentation
// selectors, skin tones, tags): drawn alone they are '?' or a stray swatch, so they are left out.
bool isEmojiJoiner(char32_t c) {
  return c == 0x200D || c == 0xFE0E || c == 0xFE0F || (c >= 0x1F3FB && c <= 0x1F3FF) || (c >= 0xE0020 && c <= 0xE007F);
}
}  // namespace

char32_t decodeUtf8(std::string_view s, std::size_t& at) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char b0 = byte(at);
  int len = 0;
  char32_t c = 0, min = 0;
  if (b0 < 0x80) return ++at, b0;
  if ((b0 & 0xE0) == 0xC0) len = 2, c = b0 & 0x1F, min = 0x80;
  else if ((b0 & 0xF0) == 0xE0) len = 3, c = b0 & 0x0F, min = 0x800;
  else if ((b0 & 0xF8) == 0xF0) len = 4, c = b0 & 0x07, min = 0x10000;
  else return ++at, kReplacement;
  if (at + static_cast<std::size_t>(len) > s.size()) return ++at, kReplacement;
  for (int i = 1; i < len; ++i) {
    const unsigned char b = byte(at + static_cast<std::size_t>(i));
    if ((b & 0xC0) != 0x80) return ++at, kReplacement;
    c = c << 6 | (b & 0x3F);
  }
  if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return ++at, kReplacement;
  at += static_cast<std::size_t>(len);
  return c;
}

void appendUtf8(std::string& out, char32_t c) {
  if (c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) c = kReplacement;
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | c >> 6);
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xE0 | c >> 12);
    out += static_cast<char>(0x80 | (c >> 6 & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | c >> 18);
    out += static_cast<char>(0x80 | (c >> 12 & 0x3F));
    out += static_cast<char>(0x80 | (c >> 6 & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
}

// ---------------------------------------------------------------------------------------------
// FontGlyphs

FontGlyphs::FontGlyphs() : m_known(0x10000 / 64, 0) {
  // What the atlas starts with: ASCII, Latin-1, the ellipsis ImGui clips with, and U+FFFD.
  for (char32_t c = 0x20; c <= 0x7E; ++c) note(c);
  for (char32_t c = 0xA0; c <= 0xFF; ++c) note(c);
  note(0x2026);
  note(kReplacement);
  m_new.clear();
}

void FontGlyphs::note(char32_t c) {
  if (c <= 0xFFFF) m_known[c >> 6] |= std::uint64_t{1} << (c & 63);
  m_all.push_back(c);
  m_new.push_back(c);
}

void FontGlyphs::need(std::string_view utf8) {
  for (std::size_t at = 0; at < utf8.size();) {
    if (static_cast<unsigned char>(utf8[at]) < 0x80) {
      ++at;  // ASCII is always there
      continue;
    }
    const char32_t c = decodeUtf8(utf8, at);
    if (isEmojiJoiner(c)) continue;
    if (c > 0xFFFF) standIn(c);
    else if (!noted(c) && !isStandIn(c) && m_extra < kMaxExtra) note(c), ++m_extra;
  }
}

char32_t FontGlyphs::standIn(char32_t codePoint) {
  if (codePoint <= 0xFFFF) return codePoint;
  if (auto it = m_standInOf.find(codePoint); it != m_standInOf.end()) return it->second;
  if (m_realOf.size() > kLastStandIn - kFirstStandIn || m_extra >= kMaxExtra || codePoint > 0x10FFFF) return 0;
  const char32_t s = kFirstStandIn + static_cast<char32_t>(m_realOf.size());
  m_standInOf.emplace(codePoint, s);
  m_realOf.push_back(codePoint);
  ++m_extra;
  m_all.push_back(codePoint);
  m_new.push_back(codePoint);
  return s;
}

char32_t FontGlyphs::realOf(char32_t s) const {
  if (!isStandIn(s) || s - kFirstStandIn >= m_realOf.size()) return 0;
  return m_realOf[s - kFirstStandIn];
}

std::string FontGlyphs::forDisplay(std::string_view utf8) {
  std::string out;
  out.reserve(utf8.size());
  for (std::size_t at = 0; at < utf8.size();) {
    const unsigned char b = static_cast<unsigned char>(utf8[at]);
    if (b < 0x80) {
      out += static_cast<char>(b);
      ++at;
      continue;
    }
    char32_t c = decodeUtf8(utf8, at);
    if (isEmojiJoiner(c)) continue;
    if (isStandIn(c)) c = kReplacement;  // a real one: no glyph means anything, and ours are taken
    if (c > 0xFFFF) {
      c = standIn(c);
      if (c == 0) c = kReplacement;
    } else if (!noted(c) && m_extra < kMaxExtra) {
      note(c), ++m_extra;
    }
    appendUtf8(out, c);
  }
  return out;
}

std::string FontGlyphs::fromDisplay(std::string_view display) const {
  // Stand-ins are U+E000..U+F8FF: UTF-8 lead byte 0xEE or 0xEF. Without those, nothing to do.
  if (display.find_first_of("\xEE\xEF") == std::string_view::npos) return std::string(display);
  std::string out;
  out.reserve(display.size() + 8);
  for (std::size_t at = 0; at < display.size();) {
    const std::size_t from = at;
    const char32_t c = decodeUtf8(display, at);
    if (const char32_t real = realOf(c); real != 0) appendUtf8(out, real);
    else out.append(display.substr(from, at - from));
  }
  return out;
}

std::vector<char32_t> FontGlyphs::takeNew() {
  std::vector<char32_t> taken;
  taken.swap(m_new);
  return taken;
}

std::string FontGlyphs::beyondLatin1() const {
  std::string out;
  for (char32_t c : m_all)
    if (c > 0xFF) appendUtf8(out, c);
  return out;
}

FontGlyphs& fontGlyphs() {
  static FontGlyphs glyphs;
  return glyphs;
}

// ---------------------------------------------------------------------------------------------
// Font files

namespace {

// Font files are read whole (Noto CJK is 19 MB) and at most 64 MB.
std::vector<unsigned char> readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return {};
  const std::streamoff size = in.tellg();
  if (size <= 0 || size > (std::streamoff{64} << 20)) return {};
  std::vector<unsigned char> data(static_cast<std::size_t>(size));
  in.seekg(0);
  if (!in.read(reinterpret_cast<char*>(data.data()), size)) return {};
  return data;
}

// An outline font (TrueType glyf or OpenType CFF, also one face of a .ttc), read with
// stb_truetype when first asked for.
struct OutlineFont {
  std::string path;
  int face = 0;
  bool tried = false, ok = false;
  std::vector<unsigned char> data;
  stbtt_fontinfo info{};

  bool load() {
    if (tried) return ok;
    tried = true;
    data = readFile(path);
    if (data.empty()) return false;
    const int offset = stbtt_GetFontOffsetForIndex(data.data(), face);
    ok = offset >= 0 && stbtt_InitFont(&info, data.data(), offset) != 0;
    if (!ok) HLOG_WARN(kTag, "cannot read the font %s", path.c_str());
    if (!ok) data.clear();
    return ok;
  }
  int glyph(char32_t c) { return load() ? stbtt_FindGlyphIndex(&info, static_cast<int>(c)) : 0; }
};

// A colour bitmap font with PNG glyphs in CBDT/CBLC tables (Noto Color Emoji), which
// stb_truetype cannot read: its cmap (format 12) and bitmap tables are read here.
struct ColourFont {
  std::string path;
  bool tried = false, ok = false;
  std::vector<unsigned char> data;
  std::size_t cmap12 = 0, cblc = 0, cbdt = 0, strike = 0;

  std::uint32_t u8(std::size_t o) const { return o < data.size() ? data[o] : 0; }
  std::uint32_t u16(std::size_t o) const { return u8(o) << 8 | u8(o + 1); }
  std::uint32_t u32(std::size_t o) const { return u16(o) << 16 | u16(o + 2); }

  bool load() {
    if (tried) return ok;
    tried = true;
    data = readFile(path);
    if (data.size() < 12) return false;
    std::size_t cmap = 0;
    for (std::uint32_t i = 0, n = u16(4); i < n; ++i) {
      const std::size_t rec = 12 + 16 * std::size_t{i};
      const std::string tag(reinterpret_cast<const char*>(data.data()) + std::min(rec, data.size()),
                            rec + 4 <= data.size() ? 4 : 0);
      const std::size_t offset = u32(rec + 8);
      if (tag == "cmap") cmap = offset;
      else if (tag == "CBLC") cblc = offset;
      else if (tag == "CBDT") cbdt = offset;
    }
    for (std::uint32_t i = 0, n = cmap ? u16(cmap + 2) : 0; i < n; ++i) {
      const std::size_t sub = cmap + u32(cmap + 4 + 8 * std::size_t{i} + 4);
      if (u16(sub) == 12) cmap12 = sub;
    }
    // The largest strike (Noto Color Emoji has one, 109 pixels per em).
    std::uint32_t bestPpem = 0;
    for (std::uint32_t i = 0, n = cblc ? u32(cblc + 4) : 0; i < n && i < 64; ++i) {
      const std::size_t size = cblc + 8 + 48 * std::size_t{i};
      if (u8(size + 45) > bestPpem) bestPpem = u8(size + 45), strike = size;
    }
    ok = cmap12 && cblc && cbdt && strike;
    if (!ok) {
      HLOG_WARN(kTag, "cannot read the colour font %s", path.c_str());
      data.clear();
    }
    return ok;
  }

  std::uint32_t glyph(char32_t c) {
    if (!load()) return 0;
    std::uint32_t lo = 0, hi = std::min<std::uint32_t>(u32(cmap12 + 12), 1u << 20);
    while (lo < hi) {
      const std::uint32_t mid = (lo + hi) / 2;
      const std::size_t g = cmap12 + 16 + 12 * std::size_t{mid};
      if (c < u32(g)) hi = mid;
      else if (c > u32(g + 4)) lo = mid + 1;
      else return u32(g + 8) + (c - u32(g));
    }
    return 0;
  }

  // The PNG of glyph `g` in the chosen strike, or false.
  bool png(std::uint32_t g, const unsigned char*& bytes, std::size_t& length) const {
    if (g < u16(strike + 40) || g > u16(strike + 42)) return false;
    const std::size_t array = cblc + u32(strike);
    for (std::uint32_t j = 0, n = std::min<std::uint32_t>(u32(strike + 8), 1u << 16); j < n; ++j) {
      const std::size_t entry = array + 8 * std::size_t{j};
      const std::uint32_t first = u16(entry), last = u16(entry + 2);
      if (g < first || g > last) continue;
      const std::size_t header = array + u32(entry + 4);
      const std::uint32_t indexFormat = u16(header), imageFormat = u16(header + 2);
      const std::size_t imageData = cbdt + u32(header + 4);
      const std::uint32_t k = g - first;
      std::size_t from = 0, to = 0;
      switch (indexFormat) {
        case 1: from = u32(header + 8 + 4 * std::size_t{k}), to = u32(header + 12 + 4 * std::size_t{k}); break;
        case 3: from = u16(header + 8 + 2 * std::size_t{k}), to = u16(header + 10 + 2 * std::size_t{k}); break;
        case 2: from = std::size_t{u32(header + 8)} * k, to = from + u32(header + 8); break;
        default: return false;  // formats 4 and 5 (sparse) are not used by Debian's emoji font
      }
      std::size_t at = imageData + from;
      const std::size_t end = imageData + to;
      if (imageFormat == 17) at += 5;       // small glyph metrics
      else if (imageFormat == 18) at += 8;  // big glyph metrics
      else if (imageFormat != 19) return false;
      length = u32(at);
      at += 4;
      if (to <= from || end > data.size() || at > end || length > end - at) return false;
      bytes = data.data() + at;
      return true;
    }
    return false;
  }
};

// A glyph drawn by us into an atlas rectangle: one above U+FFFF (as its stand-in) or a colour one.
struct Bitmap {
  int width = 0, height = 0;
  float advance = 0, offsetX = 0, offsetY = 0;  // offsetY from the top of the line, as ImGui's
  bool colour = false;
  std::vector<unsigned char> rgba;
};

// The Noto CJK face for the user's language: the same character is drawn differently in
// Chinese, Japanese and Korean.
int cjkFace() {
  const char* lang = std::getenv("LC_ALL");
  if (!lang || !*lang) lang = std::getenv("LC_CTYPE");
  if (!lang || !*lang) lang = std::getenv("LANG");
  const std::string l = lang ? lang : "";
  if (l.rfind("ko", 0) == 0) return 1;
  if (l.rfind("zh_CN", 0) == 0 || l.rfind("zh_SG", 0) == 0) return 2;
  if (l.rfind("zh_TW", 0) == 0) return 3;
  if (l.rfind("zh_HK", 0) == 0 || l.rfind("zh_MO", 0) == 0) return 4;
  return 0;  // Japanese
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// FontAtlas

struct FontAtlas::Impl {
  float px;
  // In the order they are asked for a code point up to U+FFFF; above it the colour font first.
  OutlineFont dejavu, cjk, symbola;
  ColourFont emoji;
  // Other installed fonts found through fontconfig for scripts the four lack (fonts-noto-core:
  // Thai, Devanagari, Ethiopic, ...), and code points no font has, so they are not looked for
  // again.
  static constexpr std::size_t kMaxFallbacks = 24;
  std::vector<std::unique_ptr<OutlineFont>> fallbacks;
  std::set<char32_t> inNoFont;
  std::map<char32_t, Bitmap> drawn;  // kept across rebuilds: each is rasterised once
  std::vector<std::vector<ImWchar>> ranges;  // must outlive the atlas's build

  Bitmap colourBitmap(std::uint32_t g) {
    Bitmap b;
    const unsigned char* png = nullptr;
    std::size_t length = 0;
    if (!emoji.png(g, png, length) || length > (1u << 24)) return b;
    int w = 0, h = 0, n = 0;
    unsigned char* src = stbi_load_from_memory(png, static_cast<int>(length), &w, &h, &n, 4);
    if (!src) return b;
    if (w > 0 && h > 0 && w <= 1024 && h <= 1024) {
      // About the height of a capital plus descender, centred on the line as text is.
      b.height = std::max(1, static_cast<int>(std::lround(px * 0.9f)));
      b.width = std::max(1, static_cast<int>(std::lround(static_cast<float>(w) * b.height / h)));
      b.rgba.resize(static_cast<std::size_t>(b.width) * b.height * 4);
      stbir_resize_uint8_srgb(src, w, h, 0, b.rgba.data(), b.width, b.height, 0, 4, 3, 0);
      b.advance = static_cast<float>(b.width) + std::round(px * 0.08f);
      b.offsetY = std::floor((px - static_cast<float>(b.height)) * 0.5f);
      b.colour = true;
    }
    stbi_image_free(src);
    return b;
  }

  // Glyph `g` of an outline font placed as ImGui places a merged font's glyphs: its baseline
  // at the main font's ascent (rounded as ImGui rounds it).
  Bitmap outlineBitmap(OutlineFont& f, int g) {
    Bitmap b;
    const float scale = stbtt_ScaleForPixelHeight(&f.info, sizeFor(f));
    int x0 = 0, y0 = 0, x1 = 0, y1 = 0, advance = 0, bearing = 0;
    stbtt_GetGlyphBitmapBox(&f.info, g, scale, scale, &x0, &y0, &x1, &y1);
    stbtt_GetGlyphHMetrics(&f.info, g, &advance, &bearing);
    b.advance = std::round(static_cast<float>(advance) * scale);
    b.width = std::max(0, x1 - x0);
    b.height = std::max(0, y1 - y0);
    if (b.width == 0 || b.height == 0 || b.width > 1024 || b.height > 1024) return b.width = b.height = 0, b;
    std::vector<unsigned char> alpha(static_cast<std::size_t>(b.width) * b.height);
    stbtt_MakeGlyphBitmap(&f.info, alpha.data(), b.width, b.height, b.width, scale, scale, g);
    b.rgba.resize(alpha.size() * 4);
    for (std::size_t i = 0; i < alpha.size(); ++i) {
      b.rgba[4 * i] = b.rgba[4 * i + 1] = b.rgba[4 * i + 2] = 0xFF;
      b.rgba[4 * i + 3] = alpha[i];
    }
    b.offsetX = static_cast<float>(x0);
    b.offsetY = mainAscent() + static_cast<float>(y0);
    return b;
  }

  // A font (other than the four) that has `c`: one found before, else fontconfig's best match
  // for sans-serif text with that character. Colour fonts are skipped (stb_truetype draws
  // outlines only), as are bitmap-only ones.
  OutlineFont* fallbackFor(char32_t c) {
    if (inNoFont.count(c)) return nullptr;
    for (auto& f : fallbacks)
      if (f->glyph(c)) return f.get();
    OutlineFont* found = nullptr;
    if (fallbacks.size() < kMaxFallbacks && FcInit()) {
      FcPattern* pattern = FcPatternCreate();
      FcCharSet* wanted = FcCharSetCreate();
      FcCharSetAddChar(wanted, static_cast<FcChar32>(c));
      FcPatternAddCharSet(pattern, FC_CHARSET, wanted);
      FcPatternAddString(pattern, FC_FAMILY, reinterpret_cast<const FcChar8*>("sans-serif"));
      FcPatternAddBool(pattern, FC_SCALABLE, FcTrue);
      FcConfigSubstitute(nullptr, pattern, FcMatchPattern);
      FcDefaultSubstitute(pattern);
      FcResult result = FcResultNoMatch;
      FcFontSet* fonts = FcFontSort(nullptr, pattern, FcTrue, nullptr, &result);
      for (int i = 0; fonts && i < fonts->nfont && !found; ++i) {
        FcPattern* font = fonts->fonts[i];
        FcCharSet* has = nullptr;
        FcBool colour = FcFalse;
        FcChar8* file = nullptr;
        int index = 0;
        if (FcPatternGetCharSet(font, FC_CHARSET, 0, &has) != FcResultMatch || !FcCharSetHasChar(has, static_cast<FcChar32>(c)))
          continue;
        if (FcPatternGetBool(font, FC_COLOR, 0, &colour) == FcResultMatch && colour) continue;
        if (FcPatternGetString(font, FC_FILE, 0, &file) != FcResultMatch) continue;
        FcPatternGetInteger(font, FC_INDEX, 0, &index);
        const std::string path = reinterpret_cast<const char*>(file);
        if (path == dejavu.path || path == cjk.path || path == symbola.path || path == emoji.path) continue;
        auto f = std::make_unique<OutlineFont>();
        f->path = path;
        f->face = index & 0xFFFF;  // the upper bits name a variable font's instance
        if (f->glyph(c)) {
          HLOG_INFO(kTag, "U+%04X from %s", static_cast<unsigned>(c), path.c_str());
          fallbacks.push_back(std::move(f));
          found = fallbacks.back().get();
        }
      }
      if (fonts) FcFontSetDestroy(fonts);
      FcCharSetDestroy(wanted);
      FcPatternDestroy(pattern);
    }
    if (!found) inNoFont.insert(c);
    return found;
  }

  // The size to give ImGui for a fallback font so that its em is as big as DejaVu's: Noto CJK
  // asked for the same pixel height has a taller line, so its characters came out 20% smaller.
  float sizeFor(OutlineFont& f) {
    if (&f == &dejavu || !dejavu.load() || !f.load()) return px;
    const float emPx = stbtt_ScaleForPixelHeight(&dejavu.info, px) / stbtt_ScaleForMappingEmToPixels(&dejavu.info, 1);
    return emPx * stbtt_ScaleForMappingEmToPixels(&f.info, 1) / stbtt_ScaleForPixelHeight(&f.info, 1);
  }

  float mainAscent() {
    if (!dejavu.load()) return std::round(px * 0.8f);
    int ascent = 0, descent = 0, gap = 0;
    stbtt_GetFontVMetrics(&dejavu.info, &ascent, &descent, &gap);
    const float scale = stbtt_ScaleForPixelHeight(&dejavu.info, px);
    return std::round(std::floor(static_cast<float>(ascent) * scale + (ascent > 0 ? 1.0f : -1.0f)));
  }
};

FontAtlas::FontAtlas(float pixelSize, std::string fontDir) : m_impl(std::make_unique<Impl>()) {
  m_impl->px = pixelSize;
  m_impl->dejavu.path = fontDir + "/truetype/dejavu/DejaVuSans.ttf";
  m_impl->cjk.path = fontDir + "/opentype/noto/NotoSansCJK-Regular.ttc";
  m_impl->cjk.face = cjkFace();
  m_impl->symbola.path = fontDir + "/truetype/ancient-scripts/Symbola_hint.ttf";
  m_impl->emoji.path = fontDir + "/truetype/noto/NotoColorEmoji.ttf";
}

FontAtlas::~FontAtlas() = default;

bool FontAtlas::rebuild(FontGlyphs& glyphs) {
  const auto started = std::chrono::steady_clock::now();
  Impl& im = *m_impl;
  glyphs.takeNew();
  ImFontAtlas* atlas = ImGui::GetIO().Fonts;
  atlas->Clear();
  im.ranges.clear();
  m_stats = Stats{};

  if (!im.dejavu.load()) {
    // No DejaVu: ImGui's own font, ASCII only; say once why everything else is '?'.
    static bool said = false;
    if (!said) HLOG_WARN(kTag, "no %s: only ASCII can be shown (install fonts-dejavu-core)", im.dejavu.path.c_str());
    said = true;
    ImFontConfig config;
    config.SizePixels = std::round(im.px * 13.0f / 16.0f);
    atlas->AddFontDefault(&config);
    m_stats.missing = glyphs.all();
  } else {
    // Which font draws each code point: up to U+FFFF DejaVu, then CJK, then colour emoji, then
    // Symbola; above it (emoji, mostly) the colour font first, then the same order.
    std::vector<char32_t> fromDejavu, fromCjk, fromSymbola;
    std::map<OutlineFont*, std::vector<char32_t>> fromFallback;
    std::vector<std::pair<char32_t, Bitmap*>> custom;  // (atlas code point, bitmap)
    for (char32_t c : glyphs.all()) {
      const bool bmp = c <= 0xFFFF;
      const char32_t id = glyphs.standIn(c);
      if (id == 0) continue;
      auto drawn = im.drawn.find(c);
      if (drawn == im.drawn.end()) {
        Bitmap b;
        bool found = false;
        if (!bmp) {
          if (std::uint32_t g = im.emoji.glyph(c)) b = im.colourBitmap(g), found = true;
          else if (int g1 = im.dejavu.glyph(c)) b = im.outlineBitmap(im.dejavu, g1), found = true;
          else if (int g2 = im.cjk.glyph(c)) b = im.outlineBitmap(im.cjk, g2), found = true;
          else if (int g3 = im.symbola.glyph(c)) b = im.outlineBitmap(im.symbola, g3), found = true;
          else if (OutlineFont* f = im.fallbackFor(c)) b = im.outlineBitmap(*f, f->glyph(c)), found = true;
        } else if (im.dejavu.glyph(c)) {
          fromDejavu.push_back(c);
          continue;
        } else if (im.cjk.glyph(c)) {
          fromCjk.push_back(c);
          continue;
        } else if (std::uint32_t g = im.emoji.glyph(c)) {
          b = im.colourBitmap(g), found = true;
        } else if (im.symbola.glyph(c)) {
          fromSymbola.push_back(c);
          continue;
        } else if (OutlineFont* f = im.fallbackFor(c)) {
          fromFallback[f].push_back(c);
          continue;
        }
        if (!found) {
          m_stats.missing.push_back(c);
          continue;
        }
        drawn = im.drawn.emplace(c, std::move(b)).first;
      }
      custom.emplace_back(id, &drawn->second);
    }

    auto addFont = [&](OutlineFont& f, const std::vector<char32_t>& cps, bool merge, int oversample) {
      if (cps.empty() && merge) return;
      std::vector<char32_t> sorted = cps;
      std::sort(sorted.begin(), sorted.end());
      std::vector<ImWchar> r;
      for (std::size_t i = 0; i < sorted.size();) {
        std::size_t j = i;
        while (j + 1 < sorted.size() && sorted[j + 1] == sorted[j] + 1) ++j;
        r.push_back(static_cast<ImWchar>(sorted[i]));
        r.push_back(static_cast<ImWchar>(sorted[j]));
        i = j + 1;
      }
      r.push_back(0);
      im.ranges.push_back(std::move(r));
      ImFontConfig config;
      config.FontData = f.data.data();
      config.FontDataSize = static_cast<int>(f.data.size());
      config.FontDataOwnedByAtlas = false;  // ours, kept across rebuilds
      config.FontNo = f.face;
      config.SizePixels = im.sizeFor(f);
      config.MergeMode = merge;
      config.OversampleH = oversample;
      config.GlyphRanges = im.ranges.back().data();
      atlas->AddFont(&config);
    };
    // Big CJK glyphs are not oversampled: it would triple their share of the atlas.
    addFont(im.dejavu, fromDejavu, false, 3);
    addFont(im.cjk, fromCjk, true, 1);
    addFont(im.symbola, fromSymbola, true, 1);
    std::size_t fromFallbacks = 0;
    for (const auto& [f, cps] : fromFallback) addFont(*f, cps, true, 1), fromFallbacks += cps.size();

    ImFont* font = atlas->Fonts[0];
    std::vector<std::pair<int, const Bitmap*>> rects;
    for (const auto& [id, b] : custom) {
      if (b->width == 0 || b->height == 0) {
        // Nothing to draw (a space): still a glyph, so it is not drawn as '?'.
        rects.emplace_back(atlas->AddCustomRectFontGlyph(font, static_cast<ImWchar>(id), 1, 1, b->advance), nullptr);
        continue;
      }
      // A clear pixel around each: ImGui packs these rectangles edge to edge, and a glyph drawn
      // at a fractional position would blend in a sliver of its neighbour. The glyph's quad is
      // drawn inside that border (see below).
      rects.emplace_back(atlas->AddCustomRectFontGlyph(font, static_cast<ImWchar>(id), b->width + 2, b->height + 2,
                                                       b->advance, ImVec2(b->offsetX - 1, b->offsetY - 1)),
                         b);
      m_stats.colour += b->colour;
    }
    m_stats.glyphs = fromDejavu.size() + fromCjk.size() + fromSymbola.size() + fromFallbacks + custom.size();

    if (!atlas->Build()) {
      // ImGui cannot draw without a font: its own, ASCII only, rather than none.
      HLOG_ERROR(kTag, "cannot build the font atlas (%zu glyphs); using ImGui's own font", m_stats.glyphs);
      atlas->Clear();
      ImFontConfig config;
      config.SizePixels = std::round(im.px * 13.0f / 16.0f);
      atlas->AddFontDefault(&config);
      atlas->Build();
      m_stats = Stats{};
      m_stats.missing = glyphs.all();
      return false;
    }
    unsigned char* pixels = nullptr;
    int texW = 0, texH = 0;
    atlas->GetTexDataAsRGBA32(&pixels, &texW, &texH);
    std::set<unsigned> bordered;
    for (const auto& [index, b] : rects) {
      if (!b) continue;
      const ImFontAtlasCustomRect* r = atlas->GetCustomRectByIndex(index);
      if (!r->IsPacked()) continue;
      for (int y = 0; y < b->height; ++y)
        std::memcpy(pixels + (static_cast<std::size_t>(r->Y + 1 + y) * texW + r->X + 1) * 4,
                    b->rgba.data() + static_cast<std::size_t>(y) * b->width * 4, static_cast<std::size_t>(b->width) * 4);
      bordered.insert(r->GlyphID);
    }
    // Each such glyph's quad covers its bitmap only: filtering at its edges reads the clear
    // border, never the neighbouring rectangle.
    const float du = 1.0f / static_cast<float>(texW), dv = 1.0f / static_cast<float>(texH);
    for (ImFontGlyph& g : font->Glyphs) {
      if (!bordered.count(g.Codepoint)) continue;
      g.X0 += 1, g.X1 -= 1, g.Y0 += 1, g.Y1 -= 1;
      g.U0 += du, g.U1 -= du, g.V0 += dv, g.V1 -= dv;
    }
  }
  if (!atlas->IsBuilt() && !atlas->Build()) return false;
  unsigned char* pixels = nullptr;
  atlas->GetTexDataAsRGBA32(&pixels, &m_stats.texWidth, &m_stats.texHeight);
  m_stats.lastBuildMs =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  HLOG_INFO(kTag, "font atlas: %zu glyphs (%zu colour), %zu without a font, %dx%d, built in %.1f ms", m_stats.glyphs,
            m_stats.colour, m_stats.missing.size(), m_stats.texWidth, m_stats.texHeight, m_stats.lastBuildMs);
  return true;
}

}  // namespace huddle::ui
