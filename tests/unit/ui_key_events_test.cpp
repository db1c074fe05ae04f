// KeyEventQueue: what Dear ImGui 1.86 is handed each frame, for taps shorter than a frame and
// text typed faster than frames (no window: the queue is pure logic).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "app/ui/key_events.h"

using huddle::ui::KeyEventQueue;

namespace {

constexpr int kEnter = 257, kEscape = 256, kBackspace = 259, kF3 = 292, kLeftShift = 340, kLeftControl = 341;
constexpr int kA = 65, kV = 86;
constexpr int kPress = KeyEventQueue::kPress, kRelease = KeyEventQueue::kRelease;

// One frame's share, written as "+K" (key K down), "-K" (up) and the characters themselves.
std::string frame(KeyEventQueue& q) {
  std::string out;
  KeyEventQueue::Sink sink;
  sink.key = [&](int key, int, bool down, int) { out += (down ? "+" : "-") + std::to_string(key) + " "; };
  sink.character = [&](char32_t c) { out += c < 0x80 ? std::string(1, static_cast<char>(c)) + " " : "U+" + std::to_string(c) + " "; };
  q.startFrame(sink);
  return out;
}

void typeKey(KeyEventQueue& q, int key, char32_t c, int mods = 0) {
  q.key(key, 0, kPress, mods);
  if (c) q.character(c);
  q.key(key, 0, kRelease, mods);
}

}  // namespace

TEST(KeyEvents, ATapWithinOneFrameIsDownForAFrameAndPressedExactlyOnce) {
  KeyEventQueue q;
  q.key(kEscape, 9, kPress, 0);
  q.key(kEscape, 9, kRelease, 0);
  EXPECT_EQ(frame(q), "+256 ");
  EXPECT_TRUE(q.pressed(kEscape));
  EXPECT_TRUE(q.pending());
  EXPECT_EQ(frame(q), "-256 ");
  EXPECT_FALSE(q.pressed(kEscape));
  EXPECT_EQ(frame(q), "");
  EXPECT_FALSE(q.pressed(kEscape));
  EXPECT_FALSE(q.pending());
}

TEST(KeyEvents, AHeldKeyIsPressedOnceAndRepeatsAreNotPresses) {
  KeyEventQueue q;
  q.key(kF3, 0, kPress, 0);
  EXPECT_EQ(frame(q), "+292 ");
  EXPECT_TRUE(q.pressed(kF3));
  q.key(kF3, 0, KeyEventQueue::kRepeat, 0);
  EXPECT_EQ(frame(q), "");
  EXPECT_FALSE(q.pressed(kF3));
  q.key(kF3, 0, kRelease, 0);
  EXPECT_EQ(frame(q), "-292 ");
}

TEST(KeyEvents, TextAfterEnterWaitsUntilTheInputHasItsFocusBack) {
  KeyEventQueue q;
  typeKey(q, kA, 'a');
  typeKey(q, 66, 'b');
  typeKey(q, kEnter, 0);
  typeKey(q, 67, 'c');
  typeKey(q, kEnter, 0);
  // The line's text and its Enter in one frame (ImGui takes a frame's text before its Enter)...
  EXPECT_EQ(frame(q), "+65 a +66 b +257 ");
  EXPECT_TRUE(q.pressed(kEnter));
  // ...then a frame in which the input becomes active again and takes no text...
  EXPECT_EQ(frame(q), "-65 -66 -257 ");
  // ...then the next line, and its Enter.
  EXPECT_EQ(frame(q), "+67 c +257 ");
  EXPECT_TRUE(q.pressed(kEnter));
  EXPECT_EQ(frame(q), "-67 -257 ");
  EXPECT_EQ(frame(q), "");
  EXPECT_FALSE(q.pending());
}

TEST(KeyEvents, EditingKeysApplyAfterTheTextBeforeThem) {
  KeyEventQueue q;
  typeKey(q, kA, 'a');
  typeKey(q, kBackspace, 0);
  typeKey(q, 66, 'b');
  EXPECT_EQ(frame(q), "+65 a +259 ");
  EXPECT_EQ(frame(q), "-65 -259 +66 b ");
  EXPECT_EQ(frame(q), "-66 ");
}

TEST(KeyEvents, ShiftedTextFlowsInOneFrame) {
  KeyEventQueue q;
  q.key(kLeftShift, 0, kPress, 0);
  typeKey(q, kA, 'A', 1);
  q.key(kLeftShift, 0, kRelease, 1);
  typeKey(q, 66, 'b');
  EXPECT_EQ(frame(q), "+340 +65 A +66 b ");
  EXPECT_EQ(frame(q), "-65 -340 -66 ");
}

TEST(KeyEvents, ControlShortcutsSeeControlStillDown) {
  KeyEventQueue q;
  q.key(kLeftControl, 0, kPress, 0);
  q.key(kV, 0, kPress, KeyEventQueue::kModControl);
  q.key(kV, 0, kRelease, KeyEventQueue::kModControl);
  q.key(kLeftControl, 0, kRelease, KeyEventQueue::kModControl);
  typeKey(q, kA, 'a');
  EXPECT_EQ(frame(q), "+341 +86 ");
  EXPECT_EQ(frame(q), "-86 -341 +65 a ");  // Control was still down when V acted
  EXPECT_EQ(frame(q), "-65 ");
}

TEST(KeyEvents, ASecondPressOfTheSameKeyWaitsForItsRelease) {
  KeyEventQueue q;
  typeKey(q, kA, 'a');
  typeKey(q, kA, 'a');
  EXPECT_EQ(frame(q), "+65 a ");
  EXPECT_EQ(frame(q), "-65 ");
  EXPECT_EQ(frame(q), "+65 a ");
  EXPECT_EQ(frame(q), "-65 ");
  EXPECT_FALSE(q.pending());
}

TEST(KeyEvents, TextAfterAnEmojiWaitsForTheFrameAfterIt) {
  KeyEventQueue q;
  q.character('a');
  q.character(0x1F600);
  q.character('b');
  EXPECT_EQ(frame(q), "a U+128512 ");
  EXPECT_EQ(frame(q), "b ");
}

TEST(KeyEvents, WhichKeysAct) {
  EXPECT_FALSE(KeyEventQueue::actsOnPress(kA, 0));
  EXPECT_FALSE(KeyEventQueue::actsOnPress(kLeftShift, 0));
  EXPECT_FALSE(KeyEventQueue::actsOnPress(320, 0));  // keypad 0 types a digit
  EXPECT_TRUE(KeyEventQueue::actsOnPress(335, 0));   // keypad Enter
  EXPECT_TRUE(KeyEventQueue::actsOnPress(kA, KeyEventQueue::kModControl));
  EXPECT_TRUE(KeyEventQueue::actsOnPress(kEnter, 0));
  EXPECT_TRUE(KeyEventQueue::actsOnPress(kF3, 0));
  EXPECT_TRUE(KeyEventQueue::movesFocus(kEnter));
  EXPECT_FALSE(KeyEventQueue::movesFocus(kBackspace));
}
