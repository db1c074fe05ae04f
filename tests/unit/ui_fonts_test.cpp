// FontGlyphs (which code points text needs, stand-ins above U+FFFF) and FontAtlas (ImGui's atlas
// built from Debian's fonts, without a window: an ImGui context needs no GL to build it).
#include <gtest/gtest.h>
#include <imgui.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "app/ui/fonts.h"

using huddle::ui::FontAtlas;
using huddle::ui::FontGlyphs;

namespace {

std::u32string decodeAll(const std::string& s) {
  std::u32string out;
  for (std::size_t at = 0; at < s.size();) out += huddle::ui::decodeUtf8(s, at);
  return out;
}

std::string encode(std::u32string_view s) {
  std::string out;
  for (char32_t c : s) huddle::ui::appendUtf8(out, c);
  return out;
}

bool contains(const std::vector<char32_t>& v, char32_t c) { return std::find(v.begin(), v.end(), c) != v.end(); }

const std::string kScripts = "€ — “quotes” ✓ 日本語 😀";

}  // namespace

TEST(Utf8, RoundTripsAndReplacesWhatIsNotUtf8) {
  const std::u32string text = U"a\u00e9\u20ac\U0001F600";
  EXPECT_EQ(decodeAll(encode(text)), text);
  EXPECT_EQ(encode(text), "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80");
  EXPECT_EQ(decodeAll("\xC3"), U"\uFFFD");              // cut short
  EXPECT_EQ(decodeAll("\xC0\x80z"), U"\uFFFD\uFFFDz");  // overlong
  EXPECT_EQ(decodeAll("\xED\xA0\x80"), U"\uFFFD\uFFFD\uFFFD");  // a surrogate
  EXPECT_EQ(decodeAll("\xFF"), U"\uFFFD");
}

TEST(FontGlyphs, NotesEachCodePointTheAtlasLacksOnce) {
  FontGlyphs g;
  EXPECT_FALSE(g.hasNew());
  g.need("plain ASCII and Latin-1: caf\xC3\xA9");
  EXPECT_FALSE(g.hasNew());
  g.need(kScripts);
  g.need(kScripts);
  const std::vector<char32_t> added = g.takeNew();
  EXPECT_EQ(added.size(), 9u) << encode(std::u32string(added.begin(), added.end()));
  for (char32_t c : U"€—“”✓日本語😀") EXPECT_TRUE(c == 0 || contains(added, c)) << static_cast<unsigned>(c);
  EXPECT_FALSE(g.hasNew());
  g.need("日本");
  EXPECT_FALSE(g.hasNew());
  EXPECT_EQ(g.beyondLatin1(), "…\xEF\xBF\xBD€—“”✓日本語😀");
}

TEST(FontGlyphs, CodePointsAboveFFFFGetStandInsBothWays) {
  FontGlyphs g;
  const std::string shown = g.forDisplay("hi 😀 and 🦀 and 😀 again");
  EXPECT_EQ(decodeAll(shown), U"hi \uE000 and \uE001 and \uE000 again");
  EXPECT_EQ(static_cast<unsigned>(g.realOf(0xE000)), 0x1F600u);
  EXPECT_EQ(static_cast<unsigned>(g.realOf(0xE001)), 0x1F980u);
  EXPECT_EQ(static_cast<unsigned>(g.realOf(0xE002)), 0u);
  EXPECT_EQ(static_cast<unsigned>(g.standIn(0x1F980)), 0xE001u);
  EXPECT_EQ(static_cast<unsigned>(g.standIn(0xE9)), 0xE9u);
  EXPECT_EQ(g.fromDisplay(shown), "hi 😀 and 🦀 and 😀 again");
  // What was typed into an input (stand-ins among text) comes back as the real code points.
  EXPECT_EQ(g.fromDisplay(encode(U"x\uE001y")), "x🦀y");
  EXPECT_EQ(g.fromDisplay("no stand-ins: 日本語"), "no stand-ins: 日本語");
}

TEST(FontGlyphs, DisplayLeavesOutJoinersAndNeverShowsARealPrivateUseCodePointAsAnEmoji) {
  FontGlyphs g;
  g.forDisplay("😀");
  // U+E000 in the text itself is not our stand-in for 😀; VS16 and ZWJ are invisible anyway.
  EXPECT_EQ(decodeAll(g.forDisplay(encode(U"\uE000 \u2764\uFE0F \U0001F468\u200D\U0001F469 \U0001F44D\U0001F3FD"))),
            U"\uFFFD \u2764 \uE001\uE002 \uE003");
}

TEST(FontGlyphs, TheAtlasGrowsOnlyUpToItsLimit) {
  FontGlyphs g;
  std::string many;
  for (char32_t c = 0x4E00; c < 0x4E00 + FontGlyphs::kMaxExtra + 10; ++c) huddle::ui::appendUtf8(many, c);
  g.need(many);
  EXPECT_EQ(g.takeNew().size(), FontGlyphs::kMaxExtra);
  EXPECT_EQ(static_cast<unsigned>(g.standIn(0x1F600)), 0u);
  EXPECT_EQ(decodeAll(g.forDisplay("😀")), U"\uFFFD");
}

class FontAtlasTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"))
      GTEST_SKIP() << "fonts-dejavu-core is not installed (third_party/install_deps.sh)";
    ImGui::CreateContext();
  }
  void TearDown() override {
    if (ImGui::GetCurrentContext()) ImGui::DestroyContext();
  }
  // The atlas's RGBA pixels under glyph `c`'s texture rectangle: (coloured, opaque) counts.
  static std::pair<int, int> pixelsOf(const ImFontGlyph* glyph) {
    unsigned char* px = nullptr;
    int w = 0, h = 0;
    ImGui::GetIO().Fonts->GetTexDataAsRGBA32(&px, &w, &h);
    int coloured = 0, opaque = 0;
    for (int y = static_cast<int>(glyph->V0 * h); y < static_cast<int>(glyph->V1 * h); ++y)
      for (int x = static_cast<int>(glyph->U0 * w); x < static_cast<int>(glyph->U1 * w); ++x) {
        const unsigned char* p = px + (static_cast<std::size_t>(y) * w + x) * 4;
        opaque += p[3] > 128;
        coloured += p[3] > 128 && (std::abs(p[0] - p[2]) > 60 || std::abs(p[1] - p[2]) > 60);
      }
    return {coloured, opaque};
  }
};

TEST_F(FontAtlasTest, TextInManyScriptsGetsRealGlyphs) {
  FontGlyphs glyphs;
  FontAtlas atlas(16.0f);
  ASSERT_TRUE(atlas.rebuild(glyphs));
  ImFont* font = ImGui::GetIO().Fonts->Fonts[0];
  EXPECT_EQ(font->FindGlyphNoFallback(0x20AC), nullptr) << "€ is not in the starting atlas";

  glyphs.forDisplay(kScripts + " 한국어 Ελληνικά Кириллица ⭐ 🦀");
  ASSERT_TRUE(glyphs.hasNew());
  ASSERT_TRUE(atlas.rebuild(glyphs));
  EXPECT_FALSE(glyphs.hasNew());
  font = ImGui::GetIO().Fonts->Fonts[0];
  for (char32_t c : U"€—“”✓日本語한국어ΕληνικάКириллица⭐😀🦀") {
    if (c == 0) continue;
    const char32_t id = glyphs.standIn(c);
    EXPECT_NE(font->FindGlyphNoFallback(static_cast<ImWchar>(id)), nullptr) << "no glyph for U+" << std::hex << static_cast<unsigned>(c);
  }
  EXPECT_TRUE(atlas.stats().missing.empty());
  // Emoji in colour when fonts-noto-color-emoji is there; the others are white (tinted by text).
  if (std::filesystem::exists("/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf")) {
    const auto [coloured, opaque] = pixelsOf(font->FindGlyphNoFallback(static_cast<ImWchar>(glyphs.standIn(0x1F600))));
    EXPECT_GT(coloured, opaque / 2) << "😀 should be a colour glyph";
    EXPECT_GE(atlas.stats().colour, 3u);
  }
  // Scripts beyond the four fonts come from other installed ones (fonts-noto-core), found
  // through fontconfig.
  if (std::filesystem::exists("/usr/share/fonts/truetype/noto/NotoSansThai-Regular.ttf")) {
    glyphs.forDisplay("ไทย हिन्दी አማርኛ");
    ASSERT_TRUE(atlas.rebuild(glyphs));
    font = ImGui::GetIO().Fonts->Fonts[0];
    for (char32_t c : U"ไทยहिन्दीአማርኛ") {
      if (c == 0) continue;
      EXPECT_NE(font->FindGlyphNoFallback(static_cast<ImWchar>(c)), nullptr) << std::hex << static_cast<unsigned>(c);
    }
    EXPECT_TRUE(atlas.stats().missing.empty());
  }
  const auto [colouredE, opaqueE] = pixelsOf(font->FindGlyphNoFallback(0x20AC));
  EXPECT_EQ(colouredE, 0);
  EXPECT_GT(opaqueE, 10);
  // The CJK glyph is drawn about as big as a capital (an em as big as DejaVu's).
  const ImFontGlyph* ri = font->FindGlyphNoFallback(0x65E5);
  const ImFontGlyph* capital = font->FindGlyphNoFallback('E');
  EXPECT_GT(ri->Y1 - ri->Y0, (capital->Y1 - capital->Y0) * 1.05f);
}

TEST_F(FontAtlasTest, WithoutTheColourFontEmojiAreMonochromeFromSymbola) {
  if (!std::filesystem::exists("/usr/share/fonts/truetype/ancient-scripts/Symbola_hint.ttf"))
    GTEST_SKIP() << "fonts-symbola is not installed";
  // A font folder with DejaVu and Symbola only.
  const std::string dir = ::testing::TempDir() + "huddle-fonts-" + std::to_string(::getpid());
  std::filesystem::create_directories(dir + "/truetype/dejavu");
  std::filesystem::create_directories(dir + "/truetype/ancient-scripts");
  std::filesystem::create_symlink("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", dir + "/truetype/dejavu/DejaVuSans.ttf");
  std::filesystem::create_symlink("/usr/share/fonts/truetype/ancient-scripts/Symbola_hint.ttf",
                                  dir + "/truetype/ancient-scripts/Symbola_hint.ttf");
  FontGlyphs glyphs;
  FontAtlas atlas(16.0f, dir);
  glyphs.forDisplay("🦀 ⭐ \u0378");  // U+0378 is unassigned: no font has it
  ASSERT_TRUE(atlas.rebuild(glyphs));
  std::filesystem::remove_all(dir);
  ImFont* font = ImGui::GetIO().Fonts->Fonts[0];
  const ImFontGlyph* crab = font->FindGlyphNoFallback(static_cast<ImWchar>(glyphs.standIn(0x1F980)));
  ASSERT_NE(crab, nullptr);
  const auto [coloured, opaque] = pixelsOf(crab);
  EXPECT_EQ(coloured, 0);
  EXPECT_GT(opaque, 10);
  EXPECT_NE(font->FindGlyphNoFallback(0x2B50), nullptr);
  EXPECT_EQ(atlas.stats().colour, 0u);
  // What no font has gets no glyph (ImGui draws its fallback), and is said to have none.
  EXPECT_EQ(font->FindGlyphNoFallback(0x0378), nullptr);
  ASSERT_EQ(atlas.stats().missing.size(), 1u);
  EXPECT_EQ(static_cast<unsigned>(atlas.stats().missing[0]), 0x0378u);
}
