#include "app/session/options.h"

#include "app/session/config_files.h"
#include "app/session/trust.h"

#include <charconv>
#include <cstdlib>

#include "capture/synthetic_source.h"
#include "net/wire/limits.h"
#include "net/wire/messages.h"

namespace huddle::session {

bool parsePort(const std::string& text, std::uint16_t& port) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty() || value > 65535) return false;
  port = static_cast<std::uint16_t>(value);
  return true;
}

// "123", "64K", "200M", "4G" (binary multiples).
bool parseByteSize(const std::string& text, std::uint64_t& value) {
  if (text.empty()) return false;
  std::uint64_t unit = 1;
  std::string digits = text;
  switch (digits.back()) {
    case 'K': case 'k': unit = 1ull << 10; break;
    case 'M': case 'm': unit = 1ull << 20; break;
    case 'G': case 'g': unit = 1ull << 30; break;
    default: break;
  }
  if (unit != 1) digits.pop_back();
  std::uint64_t n = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec != std::errc() || end != digits.data() + digits.size() || n > wire::kMaxFileBytes / unit) return false;
  value = n * unit;
  return true;
}

bool parseInt(const std::string& text, int& value) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty();
}

bool parseSize(const std::string& text, int& w, int& h) {
  std::size_t x = text.find('x');
  if (x == std::string::npos) return false;
  int a = 0, b = 0;
  if (!parseInt(text.substr(0, x), a) || !parseInt(text.substr(x + 1), b)) return false;
  constexpr int kMaxSide = static_cast<int>(wire::kMaxStreamSidePx);
  if (a < 1 || b < 1 || a > kMaxSide || b > kMaxSide) return false;
  w = a;
  h = b;
  return true;
}

bool parseSeconds(const std::string& text, double& seconds) {
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty() || !(value >= 0 && value <= wire::kMaxOptionSeconds))
    return false;
  seconds = value;
  return true;
}

bool splitHostPort(const std::string& address, std::string& host, std::uint16_t& port, std::uint16_t defaultPort,
                   std::string& error) {
  std::size_t colon = address.rfind(':');
  host = address.substr(0, colon);
  port = defaultPort;
  if (colon != std::string::npos && !parsePort(address.substr(colon + 1), port)) {
    error = "bad port in address '" + address + "'";
    return false;
  }
  if (host.empty() || host.find_first_of(" /\\") != std::string::npos) {
    error = "bad host in address '" + address + "'";
    return false;
  }
  if (colon != std::string::npos && port == 0) {
    error = "port 0 in address '" + address + "'";
    return false;
  }
  return true;
}

std::string usageText() {
  using std::to_string;
  return "Usage: huddle [--host | --join ADDR] [options]\n"
         "   or: huddle [options] huddle://HOST:PORT/?fp=CODE\n"
         "   or: huddle --list\n"
         "\n"
         "Hosts or joins a LAN session to chat and share screens. With no role, the window\n"
         "lets you choose.\n"
         "\n"
         "  --host               host a session\n"
         "  --join ADDR          join the session at ADDR: host, host:port, or the\n"
         "                       invite link a host shows (huddle://host:port/?fp=...),\n"
         "                       or the name of a session nearby (see --list): joins it\n"
         "                       with its announced key code, like an invite link\n"
         "  --list               print the sessions announced on this network (heard\n"
         "                       within 2 s), newest first, and exit\n"
         "  --no-announce        host without announcing the session on this network\n"
         "                       (also: HUDDLE_NO_ANNOUNCE=1)\n"
         "  huddle://...         an invite link on its own joins like --join LINK (what\n"
         "                       opens Huddle when someone clicks a link)\n"
         "  --name NAME          your name in the session\n"
         "  --chat-port PORT     chat port (default " + to_string(wire::kDefaultChatPort) + "; 0 picks a free one when hosting)\n"
         "  --screen-port PORT   screen port (default " + to_string(wire::kDefaultScreenPort) +
         "; 0 picks a free one when hosting)\n"
         "  --headless           no window: a host prints where to join; a client is a\n"
         "                       terminal chat (lines on stdin are said; EOF leaves)\n"
         "  --log-level LEVEL    debug, info, warn (default) or error, on stderr\n"
         "  --screenshot FILE    save what the window shows as a PNG (after 3 s, or\n"
         "                       --screenshot-after SECONDS)\n"
         "  --quit-after SECONDS\n"
         "                       close the window (or end a terminal session) after\n"
         "                       that long, as closing it would (for scripts)\n"
         "\n"
         "  --max-participants N\n"
         "                       how many may be in the session, the host included\n"
         "                       (" + to_string(wire::kMinParticipants) + "-" + to_string(wire::kMaxParticipants) +
         ", default " + to_string(wire::kDefaultParticipants) + ")\n"
         "  --password-file FILE\n"
         "                       the room password (its first line): a host asks for it,\n"
         "                       a client gives it; or set HUDDLE_PASSWORD\n"
         "  --generate-password  host with a new random room password, shown to you\n"
         "  --keep-history       a host keeps its chat in $XDG_STATE_HOME/huddle and shows\n"
         "                       it again after a restart\n"
         "  --max-file-size SIZE a host takes files in the chat up to this size (bytes, or\n"
         "                       with K, M or G; default 4G)\n"
         "  --accept-files DIR   take every file offered in the chat into DIR (terminal)\n"
         "  --trust-new-host     join a host met for the first time without asking to\n"
         "                       compare its key code (scripts; an invite link is safer)\n"
         "\n"
         "Sharing:\n"
         "  --share x11|synthetic  share this X screen, or a test scene (default for a\n"
         "                       host without a display)\n"
         "  --share window:TITLE-OR-ID  share one window (its title, part of it, or its\n"
         "                       X id), even while other windows cover it\n"
         "  --monitor NAME-OR-INDEX  share one monitor (its name, e.g. DP-1, or 1 for the\n"
         "                       first)\n"
         "  --region X,Y,W,H     share a rectangle of the screen\n"
         "  --scene-size WxH     test scene size (default 1920x1080)\n"
         "  --scene-motion M     full, partial (about 10% changes, default), static, or\n"
         "                       settle (full motion for " + to_string(int(capture::kSettleFrames)) + " frames, then still)\n"
         "  --scene-cursor C     the test scene's cursor: moving (default), still or none\n"
         "  --quality N          JPEG quality 1-100 (default 80)\n"
         "  --fps N              frames per second 1-" + to_string(wire::kMaxCaptureFps) + " (default 30)\n"
         "  --scale P            100, 75 or 50 percent (default 100)\n"
         "  --subsampling S      420 (default) or 444\n"
         "  --sharp-when-still on|off  send still parts again losslessly, pixel for\n"
         "                       pixel (default on)\n"
         "  --no-pointers        do not let viewers point or draw on my shared screen\n"
         "  --still-ms MS        how long a part must stay still for that, " + to_string(wire::kMinStillMs) + "-" +
         to_string(wire::kMaxStillMs) + " (default " + to_string(wire::kDefaultStillMs) + ")\n"
         "\n"
         "Voice:\n"
         "  --voice              join the voice (microphone and speaker); a headless client\n"
         "                       with nothing on its input stays in it for --seconds\n"
         "  --mute               start with the microphone muted (/mute, /unmute)\n"
         "  --voice-port PORT    the host's voice port, UDP (default " + to_string(wire::kDefaultVoicePort) + ")\n"
         "  --voice-loss PERCENT  (testing) the host's voice relay loses this share of\n"
         "                       what it receives, like a lossy network\n"
         "  --mic NAME           the microphone to use (default: the system's)\n"
         "  --speaker NAME       the speaker to use (default: the system's)\n"
         "  --list-audio         print the microphones and speakers there are, and exit\n"
         "  --no-agc             no automatic gain control on the microphone\n"
         "\n"
         "Viewing without a window (with --join):\n"
         "  --watch [STREAM]     watch a stream (default: the first) and measure it; in\n"
         "                       the window: open the first shared screen\n"
         "  --seconds N          how long to watch (default 10)\n"
         "  --stats-json FILE    write the viewer's statistics as JSON when done\n"
         "  --snapshot [FILE]    save one full frame as a PNG and exit (default name:\n"
         "                       huddle-snapshot-YYYYMMDD-HHMMSS.png)\n"
         "  --snapshot-cursor    draw the sharer's cursor into the snapshot\n"
         "  --point X,Y          watch the first shared screen and point at pixel X,Y of it for --seconds\n"
         "  --pen X,Y;X,Y;...    watch the first shared screen and draw a stroke through those pixels\n"
         "                       (again as the last one starts to fade) for --seconds\n"
         "  --snapshot-when-sharp  with --snapshot: wait until the image is sharp (every\n"
         "                       tile lossless, up to 20 s) before saving it\n"
         "  --read-limit KBPS    read screens no faster than this, like a slow link\n"
         "  --help               show this help\n"
         "  --version            show the version\n";
}

ParseResult parseOptions(const std::vector<std::string>& args) {
  ParseResult r;
  Options& o = r.options;
  auto fail = [&](std::string msg) {
    r.error = std::move(msg);
    return r;
  };
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string arg = args[i];
    std::string value;
    bool hasInlineValue = false;
    if (arg.rfind("--", 0) == 0) {
      if (std::size_t eq = arg.find('='); eq != std::string::npos) {
        value = arg.substr(eq + 1);
        arg = arg.substr(0, eq);
        hasInlineValue = true;
      }
    }
    auto needValue = [&](std::string& out) -> bool {
      if (hasInlineValue) {
        out = value;
        return true;
      }
      if (i + 1 >= args.size()) return false;
      out = args[++i];
      return true;
    };
    auto noValue = [&]() { return !hasInlineValue; };

    if (arg == "--host") {
      if (!noValue()) return fail("option --host takes no value");
      if (o.role == Role::Join) return fail("--host and --join cannot be used together");
      o.role = Role::Host;
    } else if (arg == "--join") {
      if (!needValue(o.joinAddress) || o.joinAddress.empty()) return fail("option --join needs an address");
      if (o.role == Role::Host) return fail("--host and --join cannot be used together");
      if (o.role == Role::Join) return fail("give one address to join, not two");
      o.role = Role::Join;
    } else if (arg == "--list") {
      if (!noValue()) return fail("option --list takes no value");
      o.list = true;
    } else if (arg == "--no-announce") {
      if (!noValue()) return fail("option --no-announce takes no value");
      o.announce = false;
    } else if (arg == "--name") {
      if (!needValue(o.name) || o.name.empty()) return fail("option --name needs a name");
      if (std::string why = wire::validateName(o.name); !why.empty()) return fail("option --name: " + why);
    } else if (arg == "--chat-port" || arg == "--screen-port") {
      std::string text;
      if (!needValue(text)) return fail("option " + arg + " needs a port number");
      std::uint16_t& port = arg == "--chat-port" ? o.chatPort : o.screenPort;
      if (!parsePort(text, port)) return fail("option " + arg + ": '" + text + "' is not a port number (0-65535)");
      if (arg == "--chat-port") o.chatPortGiven = true;
    } else if (arg == "--headless") {
      if (!noValue()) return fail("option --headless takes no value");
      o.headless = true;
    } else if (arg == "--log-level") {
      if (!needValue(o.logLevel)) return fail("option --log-level needs a level");
      if (o.logLevel != "debug" && o.logLevel != "info" && o.logLevel != "warn" && o.logLevel != "error")
        return fail("option --log-level: unknown level '" + o.logLevel + "'");
    } else if (arg == "--screenshot") {
      if (!needValue(o.screenshotPath) || o.screenshotPath.empty()) return fail("option --screenshot needs a file name");
    } else if (arg == "--screenshot-after" || arg == "--quit-after") {
      std::string text;
      if (!needValue(text)) return fail("option " + arg + " needs a number of seconds");
      double& out = arg == "--quit-after" ? o.quitAfterSec : o.screenshotAfterSec;
      if (!parseSeconds(text, out)) return fail("option " + arg + ": '" + text + "' is not a number of seconds (0-" +
                    std::to_string(wire::kMaxOptionSeconds) + ")");
    } else if (arg == "--share") {
      std::string what;
      if (needValue(what) && what.rfind("window:", 0) == 0 && what.size() > 7) {
        o.share = "x11";
        o.shareWindow = what.substr(7);
      } else if (what == "x11" || what == "synthetic") {
        o.share = what;
      } else {
        return fail("option --share needs 'x11' (this screen), 'window:TITLE-OR-ID' (one window) or 'synthetic' (a "
                    "test scene)");
      }
    } else if (arg == "--monitor") {
      if (!needValue(o.shareMonitor) || o.shareMonitor.empty() || o.shareMonitor.size() > 64)
        return fail("option --monitor needs a monitor's name (e.g. DP-1) or number (1 is the first)");
      int index = 0;
      if (parseInt(o.shareMonitor, index) && (index < 1 || index > 16))
        return fail("option --monitor: '" + o.shareMonitor + "' is not a monitor number (1-16)");
    } else if (arg == "--region") {
      std::string text;
      int v[4] = {};
      std::size_t at = 0;
      bool ok = needValue(text);
      for (int k = 0; ok && k < 4; ++k) {
        const std::size_t comma = k < 3 ? text.find(',', at) : text.size();
        ok = comma != std::string::npos && parseInt(text.substr(at, comma - at), v[k]);
        at = comma + 1;
      }
      constexpr int kMaxSide = static_cast<int>(wire::kMaxStreamSidePx);
      if (!ok || v[0] < 0 || v[1] < 0 || v[0] > 2 * kMaxSide || v[1] > 2 * kMaxSide || v[2] < 16 || v[3] < 16 ||
          v[2] > kMaxSide || v[3] > kMaxSide)
        return fail("option --region needs X,Y,W,H in screen pixels (width and height 16-" + std::to_string(kMaxSide) +
                    ", e.g. 0,0,1280,720)");
      o.shareRegion = true;
      o.regionX = v[0], o.regionY = v[1], o.regionW = v[2], o.regionH = v[3];
    } else if (arg == "--scene-size") {
      std::string text;
      if (!needValue(text) || !parseSize(text, o.sceneWidthPx, o.sceneHeightPx))
        return fail("option --scene-size needs WIDTHxHEIGHT, each 1-" + std::to_string(wire::kMaxStreamSidePx) +
                    " (e.g. 1920x1080)");
    } else if (arg == "--scene-cursor") {
      if (!needValue(o.sceneCursor) || (o.sceneCursor != "moving" && o.sceneCursor != "still" && o.sceneCursor != "none"))
        return fail("option --scene-cursor needs moving, still or none");
    } else if (arg == "--point") {
      std::string text;
      const auto comma = needValue(text) ? text.find(',') : std::string::npos;
      if (comma == std::string::npos || !parseInt(text.substr(0, comma), o.pointX) ||
          !parseInt(text.substr(comma + 1), o.pointY) || o.pointX < 0 || o.pointY < 0 ||
          o.pointX >= int(wire::kMaxStreamSidePx) || o.pointY >= int(wire::kMaxStreamSidePx))
        return fail("option --point needs X,Y in stream pixels, each 0-" + std::to_string(wire::kMaxStreamSidePx - 1));
      o.point = true;
    } else if (arg == "--pen") {
      // Stream pixels through which one stroke goes: "X,Y;X,Y;..." (at least one point).
      std::string text;
      if (!needValue(text)) return fail("option --pen needs X,Y;X,Y;... in stream pixels");
      o.penPoints.clear();
      std::size_t start = 0;
      while (start <= text.size()) {
        const std::size_t end = std::min(text.find(';', start), text.size());
        const std::string one = text.substr(start, end - start);
        const auto comma = one.find(',');
        int x = -1, y = -1;
        if (comma == std::string::npos || !parseInt(one.substr(0, comma), x) || !parseInt(one.substr(comma + 1), y) ||
            x < 0 || y < 0 || x >= int(wire::kMaxStreamSidePx) || y >= int(wire::kMaxStreamSidePx) ||
            o.penPoints.size() >= wire::kMaxPenPointsPerStroke)
          return fail("option --pen needs X,Y;X,Y;... in stream pixels, each 0-" +
                      std::to_string(wire::kMaxStreamSidePx - 1) + ", at most " +
                      std::to_string(wire::kMaxPenPointsPerStroke) + " points");
        o.penPoints.push_back({x, y});
        start = end + 1;
      }
    } else if (arg == "--no-pointers") {
      o.viewerMarks = false;
    } else if (arg == "--voice" || arg == "--mute") {
      if (!noValue()) return fail("option " + arg + " takes no value");
      (arg == "--voice" ? o.voice : o.mute) = true;
    } else if (arg == "--mic" || arg == "--speaker") {
      std::string text;
      if (!needValue(text) || text.empty() || text.size() > 256)
        return fail("option " + arg + " needs a device name (huddle --list-audio lists them)");
      (arg == "--mic" ? o.mic : o.speaker) = text;
    } else if (arg == "--list-audio" || arg == "--no-agc") {
      if (!noValue()) return fail("option " + arg + " takes no value");
      if (arg == "--list-audio") o.listAudio = true;
      else o.autoGain = false;
    } else if (arg == "--voice-loss") {
      std::string text;
      if (!needValue(text) || !parseInt(text, o.voiceLossPercent) || o.voiceLossPercent < 0 || o.voiceLossPercent > 100)
        return fail("option --voice-loss needs a percentage (0-100)");
    } else if (arg == "--voice-port") {
      std::string text;
      if (!needValue(text) || !parsePort(text, o.voicePort))
        return fail("option --voice-port needs a port number (0-65535)");
    } else if (arg == "--snapshot-cursor") {
      o.snapshotCursor = true;
    } else if (arg == "--scene-motion") {
      if (!needValue(o.sceneMotion) || (o.sceneMotion != "full" && o.sceneMotion != "partial" &&
                                        o.sceneMotion != "static" && o.sceneMotion != "settle"))
        return fail("option --scene-motion needs full, partial, static or settle");
    } else if (arg == "--sharp-when-still") {
      std::string text;
      if (!needValue(text) || (text != "on" && text != "off")) return fail("option --sharp-when-still needs on or off");
      o.sharpWhenStill = text == "on";
    } else if (arg == "--still-ms") {
      std::string text;
      int n = 0;
      if (!needValue(text) || !parseInt(text, n) || n < wire::kMinStillMs || n > wire::kMaxStillMs)
        return fail("option --still-ms needs a number of milliseconds within " + std::to_string(wire::kMinStillMs) +
                    "-" + std::to_string(wire::kMaxStillMs));
      o.stillMs = n;
    } else if (arg == "--snapshot-when-sharp") {
      if (hasInlineValue) return fail("option --snapshot-when-sharp takes no value");
      o.snapshotWhenSharp = true;
    } else if (arg == "--quality" || arg == "--fps" || arg == "--scale" || arg == "--subsampling") {
      std::string text;
      int n = 0;
      if (!needValue(text) || !parseInt(text, n)) return fail("option " + arg + " needs a number");
      if (arg == "--quality") {
        if (n < 1 || n > 100) return fail("option --quality: " + text + " is not within 1-100");
        o.quality = n;
      } else if (arg == "--fps") {
        if (n < 1 || n > wire::kMaxCaptureFps)
          return fail("option --fps: " + text + " is not within 1-" + std::to_string(wire::kMaxCaptureFps));
        o.fps = n;
      } else if (arg == "--scale") {
        if (n != 100 && n != 75 && n != 50) return fail("option --scale: use 100, 75 or 50");
        o.scalePercent = n;
      } else {
        if (n != 420 && n != 444) return fail("option --subsampling: use 420 or 444");
        o.chroma444 = n == 444;
      }
    } else if (arg == "--watch" || arg == "--snapshot") {
      // Both take an optional value: a stream id for --watch, a file for --snapshot.
      std::string optional;
      bool given = hasInlineValue || (i + 1 < args.size() && args[i + 1].rfind("--", 0) != 0);
      if (given) needValue(optional);
      if (arg == "--watch") {
        o.watch = true;
        int id = 0;
        if (given && (!parseInt(optional, id) || id <= 0))
          return fail("option --watch: '" + optional + "' is not a stream number");
        o.watchStream = static_cast<std::uint32_t>(id);
      } else {
        o.snapshot = true;
        o.snapshotPath = optional;
      }
    } else if (arg == "--seconds") {
      std::string text;
      if (!needValue(text) || !parseSeconds(text, o.seconds) || o.seconds <= 0)
        return fail("option --seconds needs a number of seconds (more than 0)");
    } else if (arg == "--password-file") {
      if (!needValue(o.passwordFile) || o.passwordFile.empty()) return fail("option --password-file needs a file name");
    } else if (arg == "--keep-history") {
      if (hasInlineValue) return fail("option --keep-history takes no value");
      o.keepHistory = true;
    } else if (arg == "--generate-password") {
      if (hasInlineValue) return fail("option --generate-password takes no value");
      o.generatePassword = true;
    } else if (arg == "--trust-new-host") {
      if (hasInlineValue) return fail("option --trust-new-host takes no value");
      o.trustNewHost = true;
    } else if (arg == "--max-participants") {
      std::string text;
      if (!needValue(text) || !parseInt(text, o.maxParticipants) ||
          o.maxParticipants < static_cast<int>(wire::kMinParticipants) || o.maxParticipants > static_cast<int>(wire::kMaxParticipants))
        return fail("option --max-participants needs a number from " + std::to_string(wire::kMinParticipants) + " to " +
                    std::to_string(wire::kMaxParticipants) + " (the host counts as one)");
    } else if (arg == "--max-file-size") {
      std::string text;
      if (!needValue(text) || !parseByteSize(text, o.maxFileBytes) || o.maxFileBytes < 1 || o.maxFileBytes > wire::kMaxFileBytes)
        return fail("option --max-file-size needs a size from 1 byte to 1024G (bytes, or with K, M or G)");
    } else if (arg == "--accept-files") {
      if (!needValue(o.acceptFilesDir) || o.acceptFilesDir.empty()) return fail("option --accept-files needs a folder");
    } else if (arg == "--read-limit") {
      std::string text;
      if (!needValue(text) || !parseInt(text, o.readLimitKBps) || o.readLimitKBps < 1 || o.readLimitKBps > wire::kMaxReadLimitKBps)
        return fail("option --read-limit needs kilobytes per second (1-" + std::to_string(wire::kMaxReadLimitKBps) + ")");
    } else if (arg == "--stats-json") {
      if (!needValue(o.statsJson) || o.statsJson.empty()) return fail("option --stats-json needs a file name");
    } else if (arg == "--help" || arg == "-h") {
      o.help = true;
    } else if (arg == "--version") {
      o.version = true;
    } else if (arg.rfind("-", 0) == 0) {
      return fail("unknown option '" + arg + "'");
    } else if (isInviteLink(arg)) {
      // An invite link on its own: what a browser or chat passes when someone clicks it
      // (the .desktop file's "Exec=huddle %u"). It joins exactly like --join LINK.
      if (o.role == Role::Host) return fail("an invite link joins a session; it cannot be used with --host");
      if (o.role == Role::Join) return fail("give one address to join: '" + o.joinAddress + "' or '" + arg + "'");
      Invite invite;
      std::string error;
      if (!parseInvite(arg, invite, error)) return fail("invite link '" + arg + "': " + error);
      o.joinAddress = arg;
      o.role = Role::Join;
    } else {
      return fail("unexpected argument '" + arg + "'");
    }
  }
  if (o.role == Role::Join) {
    std::string host, error;
    std::uint16_t port = 0;
    if (isInviteLink(o.joinAddress)) {
      Invite invite;
      if (!parseInvite(o.joinAddress, invite, error)) return fail("option --join: " + error);
    } else if (!splitHostPort(o.joinAddress, host, port, o.chatPort, error)) {
      return fail("option --join: " + error);
    }
  }
  if (o.list && o.role != Role::Ask) return fail("--list only prints the sessions nearby; it cannot be used with --host or --join");
  if (!o.announce && o.role == Role::Join) return fail("--no-announce is for hosting");
  if (o.role == Role::Join && o.chatPort == 0) return fail("option --chat-port: 0 only makes sense when hosting");
  const bool pen = !o.penPoints.empty();
  if ((o.watch || o.snapshot || o.point || pen) && o.role != Role::Join)
    return fail("--watch, --snapshot, --point and --pen need --join ADDR");
  if (o.point || pen) o.watch = true;  // pointing or drawing watches the stream it marks
  if (o.snapshotCursor && !o.snapshot) return fail("--snapshot-cursor goes with --snapshot");
  if (int(!o.shareWindow.empty()) + int(!o.shareMonitor.empty()) + int(o.shareRegion) > 1)
    return fail("share one thing: a window, a monitor or a region");
  if (!o.shareMonitor.empty() || o.shareRegion) {
    if (o.share == "synthetic") return fail("--monitor and --region share part of the X screen, not the test scene");
    o.share = "x11";  // naming what to share says to share it
  }
  if (o.generatePassword && o.role == Role::Join) return fail("--generate-password is for hosting");
  if (o.keepHistory && o.role == Role::Join) return fail("--keep-history is for hosting");
  // Snapshots and JSON figures are headless tools by nature; --watch alone in the window
  // opens the first shared screen.
  if ((o.snapshot || o.point || pen || !o.statsJson.empty()) && !o.headless && o.role == Role::Join) o.headless = true;
  return r;
}

bool roomPassword(const Options& options, std::string& password, std::string& error) {
  password.clear();
  if (!options.passwordFile.empty()) {
    std::string text;
    if (!readSmallFile(options.passwordFile, wire::kMaxPasswordFileBytes, text, error)) return false;
    password = text.substr(0, text.find_first_of("\r\n"));
    return true;
  }
  if (const char* env = std::getenv("HUDDLE_PASSWORD")) password = env;
  return true;
}

}  // namespace huddle::session
