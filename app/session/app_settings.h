// What the window remembers between runs: the last name, address and ports, the sharing
// sliders and source, the overlay switch. Saved as "key = value" lines in
// configDir()/settings.ini. Reading is forgiving: unknown keys are skipped (a newer
// version wrote them) and a bad value keeps its default, with a warning to log.
// Thread: plain data.
#pragma once
#include <string>
#include <vector>

#include "net/wire/limits.h"

namespace huddle::session {

struct AppSettings {
  std::string name;
  std::string address = "127.0.0.1";
  int chatPort = wire::kDefaultChatPort;
  int screenPort = wire::kDefaultScreenPort;
  // Sharing.
  std::string shareSource = "screen";  // screen, monitor, region, window, scene
  int monitor = 0;
  std::string shareWindow;             // "window": the title of the window last shared
  int regionX = 0, regionY = 0, regionW = 1280, regionH = 720;
  int quality = 80;
  int fps = 30;
  int scalePercent = 100;
  bool chroma444 = false;
  bool sharpWhenStill = true;  // still parts sent again losslessly
  int stillMs = wire::kDefaultStillMs;
  // Viewing.
  bool overlay = true;
  bool showCursor = true;  // viewers draw the sharer's cursor over the stream
  // Voice: the devices chosen (empty: the system's default) and the microphone's gain control.
  std::string voiceMic, voiceSpeaker;
  bool voiceAutoGain = true;
  bool voicePushToTalk = false;
  int voiceTalkKey = 293;  // push to talk: the key held (GLFW's code; 293 is F4)
  // The window's size when it was last closed.
  int windowW = 1280, windowH = 800;

  std::string serialize() const;
  static AppSettings parse(const std::string& text, std::vector<std::string>& warnings);
  // configDir()/settings.ini ("" if there is no config folder).
  static std::string path();
  // What was saved (defaults if nothing was, or the file cannot be read); `warnings` names
  // each value that was bad.
  static AppSettings load(std::vector<std::string>& warnings);
};

}  // namespace huddle::session
