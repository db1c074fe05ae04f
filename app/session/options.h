// The command line: what the user asked huddle to do. Parsing never exits the process; it
// returns a one-line error naming the bad option, and main() prints it with a usage hint.
// Thread: any (pure).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "net/wire/limits.h"

namespace huddle::session {

enum class Role { Ask, Host, Join };  // Ask: the window lets the user choose

struct Options {
  Role role = Role::Ask;
  std::string joinAddress;   // --join ADDR (host, host:port, or an invite link huddle://...)
  bool trustNewHost = false; // --trust-new-host: accept a host met for the first time
  std::string passwordFile;  // --password-file FILE: the room password's first line
  bool generatePassword = false;  // --generate-password (host)
  bool keepHistory = false;  // --keep-history: the host keeps chat across restarts
  bool announce = true;      // --no-announce: a host stays off the "sessions nearby" lists
  bool list = false;         // --list: print the sessions nearby and exit
  std::string name;          // --name NAME (empty: a default)
  std::uint16_t chatPort = wire::kDefaultChatPort;
  std::uint16_t screenPort = wire::kDefaultScreenPort;
  bool chatPortGiven = false;
  bool headless = false;
  bool help = false;
  bool version = false;
  std::string logLevel;      // --log-level LEVEL
  // Window testing and bug reports: save what the window shows as a PNG after a delay.
  std::string screenshotPath;       // --screenshot FILE
  double screenshotAfterSec = 3.0;  // --screenshot-after SECONDS
  double quitAfterSec = 0;          // --quit-after SECONDS (0: run until closed)

  // Sharing a screen: --share x11|synthetic, with the test scene's size and motion.
  int maxParticipants = static_cast<int>(wire::kDefaultParticipants);  // --max-participants N, the host included
  // Files in the chat: the host's size cap (--max-file-size SIZE), and a terminal client or
  // host that takes every offer into a folder (--accept-files DIR).
  std::uint64_t maxFileBytes = wire::kDefaultMaxFileBytes;
  std::string acceptFilesDir;
  std::string share;                // "", "x11", "synthetic"
  // What of the X screen (--share x11): all of it, or one window, monitor or region.
  std::string shareWindow;          // --share window:TITLE-OR-ID
  std::string shareMonitor;         // --monitor NAME-OR-INDEX (1 is the first)
  bool shareRegion = false;         // --region X,Y,W,H
  int regionX = 0, regionY = 0, regionW = 0, regionH = 0;
  int sceneWidthPx = 1920, sceneHeightPx = 1080;  // --scene-size WxH
  std::string sceneMotion = "partial";            // --scene-motion full|partial|static|settle
  std::string sceneCursor = "moving";             // --scene-cursor moving|still|none
  int quality = 80;                 // --quality 1-100
  int fps = 30;                     // --fps 1-wire::kMaxCaptureFps
  int scalePercent = 100;           // --scale 100|75|50
  bool chroma444 = false;           // --subsampling 420|444
  bool sharpWhenStill = true;       // --sharp-when-still on|off
  int stillMs = wire::kDefaultStillMs;  // --still-ms MS (wire::kMinStillMs..kMaxStillMs)
  // Headless viewing: --watch [STREAM] --seconds N --stats-json FILE; --snapshot [FILE].
  bool watch = false;
  std::uint32_t watchStream = 0;    // 0: the first stream
  double seconds = 10;
  std::string statsJson;
  bool snapshot = false;
  std::string snapshotPath;         // empty: a timestamped name
  bool snapshotCursor = false;      // --snapshot-cursor: the sharer's cursor drawn into it
  bool snapshotWhenSharp = false;   // --snapshot-when-sharp: wait until every tile is lossless
  int readLimitKBps = 0;            // --read-limit KB/s: read screens like a slow link
  // --point X,Y: watch the first stream and point at stream pixel (X, Y) for --seconds.
  bool point = false;
  int pointX = 0, pointY = 0;
  // --pen X,Y;X,Y;...: watch the first stream and draw a stroke through these stream pixels
  // (again as the last one starts to fade) for --seconds.
  std::vector<std::pair<int, int>> penPoints;
  // --no-pointers: viewers may not point or draw on our share (the Share panel's switch).
  bool viewerMarks = true;
  // Voice: --voice joins it (a headless client whose stdin is closed stays --seconds once it
  // flows), --mute starts with the microphone muted, --voice-port PORT (host, UDP).
  bool voice = false;
  bool mute = false;
  std::uint16_t voicePort = wire::kDefaultVoicePort;
  int voiceLossPercent = 0;  // --voice-loss PERCENT (host; tests): the relay loses this share
  // --mic NAME, --speaker NAME: the devices (names as --list-audio prints them; empty: the
  // system's default); --no-agc: no automatic gain control on the microphone.
  std::string mic, speaker;
  bool autoGain = true;
  bool listAudio = false;  // --list-audio: print the microphones and speakers, and exit
};

struct ParseResult {
  Options options;
  std::string error;  // empty on success
};

ParseResult parseOptions(const std::vector<std::string>& args);
std::string usageText();

// Splits "host", "host:port" into parts; the port falls back to `defaultPort`.
bool splitHostPort(const std::string& address, std::string& host, std::uint16_t& port, std::uint16_t defaultPort,
                   std::string& error);
// The room password from --password-file or $HUDDLE_PASSWORD; empty if neither is given.
// False with `error` if the file cannot be read.
bool roomPassword(const Options& options, std::string& password, std::string& error);
// Parses a decimal int; false on anything else.
bool parseInt(const std::string& text, int& value);
// Parses "WIDTHxHEIGHT", each 1..8192.
bool parseSize(const std::string& text, int& w, int& h);
// Parses a number of seconds, 0..86400; false on anything else.
bool parseSeconds(const std::string& text, double& seconds);
// Parses a TCP port 0..65535 written in decimal; false on anything else.
bool parsePort(const std::string& text, std::uint16_t& port);

}  // namespace huddle::session
