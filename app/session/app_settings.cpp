#include "app/session/app_settings.h"

#include "app/session/config_files.h"

#include <charconv>
#include <sstream>

#include "app/session/options.h"
#include "net/wire/limits.h"
#include "net/wire/messages.h"

namespace huddle::session {

namespace {

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

}  // namespace

std::string AppSettings::serialize() const {
  std::ostringstream o;
  o << "# Huddle settings (written by the app; safe to edit)\n"
    << "name = " << name << "\naddress = " << address << "\nchat_port = " << chatPort
    << "\nscreen_port = " << screenPort << "\nshare_source = " << shareSource << "\nmonitor = " << monitor
    << "\nshare_window = " << shareWindow
    << "\nregion = " << regionX << ' ' << regionY << ' ' << regionW << ' ' << regionH << "\nquality = " << quality
    << "\nfps = " << fps << "\nscale = " << scalePercent << "\nsubsampling = " << (chroma444 ? 444 : 420)
    << "\nsharp_when_still = " << (sharpWhenStill ? "on" : "off") << "\nstill_ms = " << stillMs
    << "\noverlay = " << (overlay ? "on" : "off") << "\ncursor = " << (showCursor ? "on" : "off") << "\nwindow = " << windowW << ' ' << windowH
    << "\nvoice_mic = " << voiceMic << "\nvoice_speaker = " << voiceSpeaker
    << "\nvoice_agc = " << (voiceAutoGain ? "on" : "off") << "\npush_to_talk = " << (voicePushToTalk ? "on" : "off")
    << "\ntalk_key = " << voiceTalkKey << '\n';
  return o.str();
}

AppSettings AppSettings::parse(const std::string& text, std::vector<std::string>& warnings) {
  AppSettings s;
  std::istringstream in(text);
  std::string line;
  int lineNo = 0;
  while (std::getline(in, line) && lineNo < 1000) {
    ++lineNo;
    line = trim(line);
    if (line.empty() || line[0] == '#') continue;
    const auto eq = line.find('=');
    if (eq == std::string::npos) {
      warnings.push_back("line " + std::to_string(lineNo) + ": no '='");
      continue;
    }
    const std::string key = trim(line.substr(0, eq)), value = trim(line.substr(eq + 1));
    auto bad = [&] { warnings.push_back("line " + std::to_string(lineNo) + ": bad " + key + " '" + value + "'"); };
    auto intIn = [&](int& out, int lo, int hi) {
      int v = 0;
      if (parseInt(value, v) && v >= lo && v <= hi) out = v;
      else bad();
    };
    if (key == "name") {
      if (value.empty() || wire::validateName(value).empty()) s.name = value;
      else bad();
    } else if (key == "address") {
      if (value.size() <= 255 && value.find_first_of(" \t") == std::string::npos) s.address = value;
      else bad();
    } else if (key == "chat_port") {
      intIn(s.chatPort, 0, 65535);  // 0: any free port (hosting)
    } else if (key == "screen_port") {
      intIn(s.screenPort, 0, 65535);
    } else if (key == "share_source") {
      if (value == "screen" || value == "monitor" || value == "region" || value == "window" || value == "scene")
        s.shareSource = value;
      else bad();
    } else if (key == "share_window") {
      if (value.size() <= 256 && value.find_first_of("\r\n") == std::string::npos) s.shareWindow = value;
      else bad();
    } else if (key == "monitor") {
      intIn(s.monitor, 0, 15);
    } else if (key == "region") {
      std::istringstream r(value);
      int x, y, w, h;
      // The region becomes a stream, so it fits one; its corner may be on a second screen.
      const int side = static_cast<int>(wire::kMaxStreamSidePx);
      if (r >> x >> y >> w >> h && x >= 0 && y >= 0 && w >= 16 && h >= 16 && x <= 2 * side && y <= 2 * side && w <= side &&
          h <= side)
        s.regionX = x, s.regionY = y, s.regionW = w, s.regionH = h;
      else
        bad();
    } else if (key == "quality") {
      intIn(s.quality, 1, 100);
    } else if (key == "fps") {
      intIn(s.fps, 1, wire::kMaxCaptureFps);
    } else if (key == "scale") {
      int v = 0;
      if (parseInt(value, v) && (v == 100 || v == 75 || v == 50)) s.scalePercent = v;
      else bad();
    } else if (key == "subsampling") {
      if (value == "420" || value == "444") s.chroma444 = value == "444";
      else bad();
    } else if (key == "voice_mic" || key == "voice_speaker") {
      if (value.size() <= 256) (key == "voice_mic" ? s.voiceMic : s.voiceSpeaker) = value;
      else bad();
    } else if (key == "push_to_talk") {
      if (value == "on" || value == "off") s.voicePushToTalk = value == "on";
      else bad();
    } else if (key == "talk_key") {
      intIn(s.voiceTalkKey, 32, 348);  // GLFW's printable and named keys
    } else if (key == "voice_agc") {
      if (value == "on" || value == "off") s.voiceAutoGain = value == "on";
      else bad();
    } else if (key == "sharp_when_still") {
      if (value == "on" || value == "off") s.sharpWhenStill = value == "on";
      else bad();
    } else if (key == "still_ms") {
      intIn(s.stillMs, wire::kMinStillMs, wire::kMaxStillMs);
    } else if (key == "overlay") {
      if (value == "on" || value == "off") s.overlay = value == "on";
    } else if (key == "cursor") {
      if (value == "on" || value == "off") s.showCursor = value == "on";
      else bad();
    } else if (key == "window") {
      std::istringstream r(value);
      int w = 0, h = 0;
      if (r >> w >> h && w >= 200 && h >= 150 && w <= 16384 && h <= 16384) s.windowW = w, s.windowH = h;
      else bad();
    }
    // Anything else: a newer version's key; skipped quietly.
  }
  return s;
}

std::string AppSettings::path() {
  const std::string dir = configDir();
  return dir.empty() ? "" : dir + "/settings.ini";
}

AppSettings AppSettings::load(std::vector<std::string>& warnings) {
  std::string text, error;
  const std::string file = path();
  if (file.empty() || !readSmallFile(file, wire::kMaxSettingsFileBytes, text, error)) return AppSettings{};
  std::vector<std::string> found;
  AppSettings s = parse(text, found);
  for (const auto& w : found) warnings.push_back(file + ": " + w + " (default kept)");
  return s;
}

}  // namespace huddle::session
