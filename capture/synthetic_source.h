// A deterministic, animated, screen-like test scene: a gradient desktop, windows with title
// bars and lines of text-like glyphs, and a moving "video" panel. How much changes per frame
// is a knob, so tests and benchmarks can ask for full motion, about 10%, a static screen, or
// full motion that then stops.
// Frame N is a pure function of (size, mode, N). Thread: one capture thread.
#pragma once
#include <cstdint>
#include <vector>

#include "capture/screen_source.h"

namespace huddle::capture {

enum class SceneMotion {
  Full,     // every pixel changes every frame (scrolling gradient and text)
  Partial,  // a panel of about 10% of the screen animates; the rest stays
  Static,   // nothing changes after the first frame
  Settle,   // full motion for kSettleFrames frames, then still at the last of them (a
            // screen that goes still: sharp-when-still's tests)
  // Scrolls (issue 12), like Settle still after kScrollFrames frames when `...Settle`:
  Scroll,    // a document filling the screen below a bar scrolls kScrollStepPx a frame
  Terminal,  // a terminal (kTerminalW x kTerminalH, fewer on a small screen) on the still
             // desktop scrolls one line (kTerminalLinePx) a frame
  ScrollSettle,
  TerminalSettle,
  // A moved window (issue 12): a window of text (kDragW x kDragH, fewer on a small screen)
  // dragged kDragStepX, kDragStepY a frame over the still desktop, bouncing at the edges;
  // still after kScrollFrames frames when `...Settle`.
  Drag,
  DragSettle,
};
inline constexpr int kScrollStepPx = 7;
inline constexpr int kTerminalW = 720, kTerminalH = 288, kTerminalLinePx = 16;
inline constexpr int kDragW = 640, kDragH = 420, kDragStepX = 6, kDragStepY = 3;
inline constexpr std::uint64_t kScrollFrames = 60;
inline constexpr std::uint64_t kSettleFrames = 20;

// The scene's mouse cursor (an arrow, not drawn into the pixels: like X, it travels beside
// them). Moving: its hot spot bounces across the screen with the frame clock, whatever the
// scene's motion, so a still screen with a moving cursor is one setting away.
enum class SceneCursor { Moving, Still, None };

// Colours the scene is guaranteed to show (BGRX as 0xXXRRGGBB), so a screenshot of a viewer
// can be checked for them.
inline constexpr std::uint32_t kSceneTitleBar = 0xFF2D5FAA;   // window title bars
inline constexpr std::uint32_t kSceneWindow = 0xFFF2F2EE;     // window bodies
inline constexpr std::uint32_t kSceneAccent = 0xFFE0452F;     // the moving box in the panel
inline constexpr std::uint32_t kSceneCursorFill = 0xFFFF00FF; // the arrow cursor's body (magenta)
inline constexpr std::uint32_t kSceneCursorShapeId = 1;

class SyntheticSource : public ScreenSource {
 public:
  SyntheticSource(int widthPx, int heightPx, SceneMotion motion, SceneCursor cursor = SceneCursor::Moving);

  bool open(std::string& error) override;
  CaptureResult capture(Frame& frame, std::string& error) override;
  std::string title() const override { return "Test scene"; }
  bool cursor(base::CursorPos& pos, base::CursorImage& shape, bool& shapeChanged) override;

  // The arrow (16 x 24, hot spot at its tip) and where its hot spot is in frame `index`.
  static base::CursorImage cursorShape();
  static base::CursorPos cursorAt(int widthPx, int heightPx, SceneCursor cursor, std::uint64_t index);

  // Renders frame `index` into `out` (stride widthPx*4) without touching the source state:
  // what a test compares the received image against.
  static void render(int widthPx, int heightPx, SceneMotion motion, std::uint64_t index, std::vector<std::uint8_t>& out);

 private:
  int m_width, m_height;
  SceneMotion m_motion;
  SceneCursor m_cursor;
  bool m_shapeGiven = false;
  std::uint64_t m_next = 0;
  std::vector<base::Rect> m_changed;  // what the last capture redrew
  std::vector<std::uint8_t> m_pixels;
};

}  // namespace huddle::capture
