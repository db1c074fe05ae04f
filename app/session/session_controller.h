// What a participant does, once, for every face: the window and the terminal client both
// drive one of these (JoinController or HostController) and only draw what it reports.
// The controller owns the session's connections, the chat log, the watched streams and the
// share; it is driven by tick(now) from the owner's loop, takes commands as method calls
// (a typed chat line, watch, share, leave, ...) and reports through state() and the chat
// log. It never reads a clock itself (tests drive it with a fake one) and never blocks on
// the network: connecting, probing and ending happen on owned workers.
// Thread: the owner's thread only (the window's UI thread, or the terminal's loop).
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "app/voice/voice_link.h"
#include "app/session/chat_log.h"
#include "app/session/file_transfers.h"
#include "app/session/options.h"
#include "app/session/presenter.h"
#include "app/session/screen_session.h"
#include "app/session/stream_view.h"
#include "app/session/teardown.h"
#include "capture/capture_pipeline.h"
#include "net/chat_client.h"

namespace huddle::session {

// What to share and how: the source ("screen", "monitor", "region", "window" or "scene") and the
// encoder's settings. The window keeps one in its settings; the terminal builds one from
// the command line.
struct ShareSpec {
  std::string source = "screen";                      // screen, monitor, region, window, scene
  int monitor = 0;                                    // "monitor": which one (0-based)...
  std::string monitorName;                            // ...or its name, when given
  std::string window;                                 // "window": its title or id (X11Region::window)
  int regionX = 0, regionY = 0, regionW = 1280, regionH = 720;  // "region"
  int sceneWidthPx = 1920, sceneHeightPx = 1080;      // "scene"
  std::string sceneMotion = "partial";                // "scene": full, partial, static, settle
  std::string sceneCursor = "moving";                 // "scene": moving, still, none
  capture::CaptureSettings settings;                  // sharp when still included

  // The encoder's settings from the sliders' values (clamped to what they allow).
  void setEncoding(int quality, int fps, int scalePercent, bool chroma444);
  // Sharp when still: on or off, and how long a tile must stay still (clamped).
  void setSharp(bool on, int stillMs);
};
// What the command line asks to share (--share, --scene-*, --quality, --fps, ...).
ShareSpec shareSpecFrom(const Options& options);
// The screen source a spec names (the X server's, or the animated test scene).
std::unique_ptr<capture::ScreenSource> makeShareSource(const ShareSpec& spec);

// What every controller is given by its face.
struct ControllerEnv {
  std::function<void()> wake;       // called on network threads when there is news
  std::string configDir;            // host key and known_hosts ("": none kept)
  std::string stateDir;             // chat history (--keep-history)
  std::function<std::uint32_t()> random;  // reconnect jitter; null: the system's
  std::shared_ptr<Teardown> teardown;     // ends sessions off the owner's thread; null: one of its own
  int readLimitKBps = 0;            // read screens like a slow link (tests, benchmark)
};

// Where a session is, for whoever draws it.
enum class Phase {
  Idle,          // nothing started
  Checking,      // joining a host met for the first time: learning its key
  AskTrust,      // ...and waiting for the user to compare it (answerTrust)
  Connecting,    // the chat handshake is under way
  InSession,     // joined, or hosting
  Reconnecting,  // lost the host; trying again by itself
  AskPassword,   // the host wants a (different) room password (retryWithPassword)
  Ended,         // over: left, sent away, refused or failed (state().status says which)
};
const char* phaseName(Phase phase);

struct ControllerState {
  Phase phase = Phase::Idle;
  bool hosting = false;
  std::string status;          // one line in plain words ("Connected as bob.")
  bool statusIsError = false;
  std::string selfName;        // our name in the session, once known
  std::string sessionTitle;    // "alice's session", or the address before we know
  bool everJoined = false;     // this controller was in the session at least once
  bool leftByUs = false;       // Ended because we left (or ended the session)
  bool sessionEnded = false;   // Ended because the host ended it or removed us
  int reconnectAttempt = 0;    // Reconnecting: the attempt under way or next
  std::int64_t reconnectAtUs = 0;  // Reconnecting: when the next attempt starts
  // Screens.
  bool screensConnected = false;  // the screen port is ours: watching and sharing work
  std::vector<wire::StreamInfo> streams;
  bool sharing = false;
  std::string shareTitle;
  std::string shareError;      // why sharing stopped or could not start
  capture::PipelineStats shareStats;
  // Voice.
  bool voiceWanted = false;     // the user is in voice (kept across reconnects)
  bool voiceOn = false;         // the voice link runs
  bool voiceConnected = false;  // the host answers it: voice flows
  bool voiceOverStream = false; // ... over the chat connection (UDP did not get through)
  bool voiceMuted = false;
  std::string voiceError;       // why voice is not on, when it was wanted
  float voiceLevelDbfs = -96.f; // our microphone's level (before mute)
  std::uint32_t selfId = 0;     // our participant id (the user list's ids)
  std::vector<std::uint32_t> speaking;  // participant ids heard talking now (ours included)
};

// A typed line's effect beyond the chat log.
enum class LineOutcome { Done, Leave, ConfirmEnd };

class SessionController {
 public:
  virtual ~SessionController();
  SessionController(const SessionController&) = delete;
  SessionController& operator=(const SessionController&) = delete;

  // Moves the session on: drains what the connections said, starts due retries, notices
  // ended streams and finished workers. Call every frame or loop turn with the time now
  // (monotonic microseconds).
  void tick(std::int64_t nowUs);
  const ControllerState& state() const { return m_state; }
  const ChatLog& chat() const { return m_chat; }
  ChatLog& chat() { return m_chat; }
  bool hosting() const { return m_state.hosting; }
  // Lines typed while not (yet) in the session, to be said once in.
  std::size_t outboxLines() const { return m_outbox.size(); }

  // A line typed into the chat box: a message, or a command (see chat_command.h). What it
  // did is said in the chat log; the outcome tells the face when to leave or confirm.
  // Lines typed before the session is joined, or while the host is away, are kept and
  // said once in (messages typed while away are marked so in the log).
  LineOutcome submitLine(const std::string& line);
  // Adds a line to the chat log that never crossed the network.
  void note(const std::string& text, ChatLine::Style style = ChatLine::Style::Notice);

  // Screens: start watching a stream (kept across reconnects until unwatched).
  std::shared_ptr<StreamView> watch(std::uint32_t streamId);
  void unwatch(std::uint32_t streamId);
  // The view of a watched stream (null if not watched, or its stream is not back yet).
  std::shared_ptr<StreamView> view(std::uint32_t streamId) const;
  bool watching(std::uint32_t streamId) const { return m_watched.count(streamId) != 0; }
  std::vector<std::uint32_t> watchedStreams() const;
  // Pointing at a stream we watch (or share): stream pixel (x, y) now, or released. Say it as
  // often as you like; what goes to the host, and when (the rate, keep-alives while held, one
  // gone on release, again after a lost screen port), is the controller's (PointerPacer).
  void pointAt(std::uint32_t streamId, std::int32_t x, std::int32_t y);
  void pointGone(std::uint32_t streamId);
  // Our pointer on `streamId` went to the host (and no gone since).
  bool pointerShown(std::uint32_t streamId) const;
  // Everyone's pointers on a stream still to be drawn at `nowUs` (held or fading).
  std::vector<PointerMark> pointers(std::uint32_t streamId, std::int64_t nowUs) const;
  // The vanishing pen on a stream we watch (or share): down starts a stroke, to extends it,
  // up finishes it; the batches go to the host as PenPacer says.
  void penDown(std::uint32_t streamId, std::uint16_t x, std::uint16_t y);
  void penTo(std::uint32_t streamId, std::uint16_t x, std::uint16_t y);
  void penUp(std::uint32_t streamId);
  // Everyone's pen strokes on a stream still to be drawn at `nowUs`.
  std::vector<StrokeMark> strokes(std::uint32_t streamId, std::int64_t nowUs) const;
  // Whether the sharer of `streamId` lets viewers point and draw.
  bool viewerMarksAllowed(std::uint32_t streamId) const;
  // Our share's switch: "Let viewers point and draw" (kept across shares; on by default).
  void setViewerMarks(bool allowed);
  bool viewerMarks() const { return m_viewerMarks; }
  // Watch the first stream that appears (or this one), once.
  void watchWhenShared(std::uint32_t streamId = 0) { m_autoWatch = true, m_autoWatchId = streamId; }

  // Shares a screen through the session; false with state().shareError set.
  bool startSharing(const ShareSpec& spec);
  // Shares once the screen port is ours (a share asked for before joining).
  void shareWhenJoined(const ShareSpec& spec);
  void stopSharing();
  // New quality/FPS/scale/colour settings for the share under way.
  void setShareSettings(const capture::CaptureSettings& settings);

  // Voice: in or out (kept across reconnects: a lost link brings it back by itself), the
  // microphone muted or live, volumes (linear gains, 1 as sent), the devices (used from the
  // next time voice starts).
  void setVoice(bool on);
  void setMuted(bool muted);
  void setMasterVolume(float gain);
  void setSpeakerVolume(std::uint32_t participantId, float gain);
  void setVoiceDevices(const voice::AudioDeviceChoice& devices) { m_voiceDevices = devices; }
  // Automatic gain control on the microphone (on by default); takes effect when voice starts.
  void setVoiceAutoGain(bool on) { m_voiceAutoGain = on; }
  // Tests: sound from and to `port` instead of the devices (it outlives the controller).
  void setVoiceAudio(voice::AudioPort* port) { m_voiceAudio = port; }
  voice::VoiceLinkStats voiceStats() const;
  bool speaking(std::uint32_t participantId) const;

  // Files in the chat (app/session/file_transfers.h): offer one to everyone (`to` empty) or
  // one person (false with why in the chat), answer an offer to us (into the download folder,
  // or `dir`), stop offering one of ours; what is offered and arriving, for the faces.
  bool sendFile(const std::string& path, const std::string& to);
  bool acceptFile(std::uint32_t id, const std::string& dir = {});
  void declineFile(std::uint32_t id);
  void cancelFileOffer(std::uint32_t id) { m_files->cancelOffer(id); }
  // Every offer from now on is taken into `dir` (the terminal's --accept-files).
  void acceptFilesInto(const std::string& dir) { m_files->acceptAllInto(dir); }
  std::vector<IncomingFile> incomingFiles() const { return m_files->incoming(); }
  std::vector<OutgoingFile> outgoingFiles() const { return m_files->outgoing(); }
  // A file is arriving, or an offer of ours is being taken or not answered by anyone yet.
  bool filesBusy() const { return m_files->busy(); }

  // Leaves (a client) or ends the session for everyone (the host), at once: the
  // connections close on the teardown worker.
  void leave();

 protected:
  explicit SessionController(ControllerEnv env);

  // The chat connection of this participant (the host's own user, for the host).
  virtual net::ChatClient* chatClient() = 0;
  // Role hooks, called from tick() with each event from the chat connection.
  virtual void onConnected(const net::ChatClientEvent& ev, std::int64_t nowUs) = 0;
  virtual void onDisconnected(const net::ChatClientEvent& ev, std::int64_t nowUs) = 0;
  // Role work in tick(), before the events are drained.
  virtual void tickRole(std::int64_t nowUs) = 0;
  // Host-only commands; a client answers "Only the host can ...".
  virtual void kick(const std::string& name, const std::string& reason, bool ban);
  virtual void changePassword(const std::string& request);
  // Where a share goes: the relay itself (host) or the screen port (client).
  virtual bool startSharingOn(std::unique_ptr<capture::ScreenSource> source, const capture::CaptureSettings& settings,
                              std::string& error) = 0;
  virtual void stopSharingOn() = 0;
  virtual capture::CapturePipeline* sharePipeline() = 0;
  // Our share's switch, applied where the share goes (the relay, or the screen port).
  virtual void applyViewerMarks(bool allowed) = 0;
  // Why the host refused the share under way ("" if it did not).
  virtual std::string shareRefusal() const { return {}; }
  // Hands the role's connections to the teardown worker.
  virtual void retireRole() = 0;
  // The host's address as the chat port was reached (the voice port is on it).
  virtual std::string hostAddress() const = 0;

  // Opens the screen port once the chat port said where it is.
  void startScreens(const std::string& host, std::uint16_t port, const net::TlsEngine::ClientTrust& pin,
                    const std::string& name, std::uint64_t token, std::optional<net::SeatKey> seatKey);
  // Closes the screen port (on the teardown worker); watched streams wait for it to return.
  void retireScreens();
  void setStatus(std::string text, bool error = false);
  // A share cut off by a lost link starts again once the session is back.
  void resumeShareWhenBack();
  void sayOutbox();
  Teardown& teardown() { return *m_env.teardown; }
  std::uint32_t random() { return m_env.random(); }

  ControllerEnv m_env;
  ControllerState m_state;
  ChatLog m_chat;
  std::unique_ptr<ScreenSession> m_screen;
  std::vector<std::string> m_outbox;  // lines typed before joining or while away
  bool m_leaving = false;

 private:
  struct Watched {
    std::shared_ptr<StreamView> view;  // null while its stream is away (a reconnect)
  };
  void drainEvents(std::int64_t nowUs);
  // The screen port dropped while the chat stays up: opened again with backoff.
  void reopenLostScreens(std::int64_t nowUs);
  // Starts the voice link if voice is wanted and the session offers it; stops it.
  void startVoice();
  void retireVoice();
  void syncVoice();
  void syncStreams(std::int64_t nowUs);
  void refreshShareState();
  // Sends what our pointers and pens need sent now (see PointerPacer, PenPacer).
  void pacePointers(std::int64_t nowUs);

  // Files: attached to each chat connection once joined; its notes go to the chat log.
  void tickFiles();
  std::shared_ptr<FileTransfers> m_files = FileTransfers::create();

  std::map<std::uint32_t, Watched> m_watched;
  std::map<std::uint32_t, PointerPacer> m_pointing;  // our pointer, by stream
  std::map<std::uint32_t, PenPacer> m_pens;          // our pen, by stream
  std::uint32_t m_nextStrokeId = 1;
  bool m_viewerMarks = true;
  std::int64_t m_nowUs = 0;                          // the last tick's time
  std::int64_t m_screensSinceUs = 0;  // when the screen port last joined
  // Where the screen port of this chat session is (set by startScreens), to open it again.
  struct ScreenTarget {
    std::string host;
    std::uint16_t port = 0;
    net::TlsEngine::ClientTrust pin;
    std::string name;
    std::uint64_t token = 0;
    std::optional<net::SeatKey> seatKey;
  };
  std::optional<ScreenTarget> m_screenTarget;
  int m_screenRetries = 0;            // reopenings since the screen port last stayed up
  std::int64_t m_screenRetryAtUs = 0;  // when the lost screen port is opened again (0: not lost)
  bool m_autoWatch = false;
  std::uint32_t m_autoWatchId = 0;
  std::unique_ptr<ShareSpec> m_autoShare;
  ShareSpec m_shareSpec;  // the share under way (or last started)
  std::unique_ptr<voice::VoiceLink> m_voice;
  std::uint16_t m_voicePort = 0;  // of this chat session (0: none, or not joined)
  voice::AudioDeviceChoice m_voiceDevices;
  bool m_voiceAutoGain = true;
  voice::AudioPort* m_voiceAudio = nullptr;
  float m_masterVolume = 1.f;
  std::map<std::uint32_t, float> m_speakerVolumes;
  bool m_voiceAnnounced = false;  // "Voice connected." said for this link
  std::int64_t m_voiceStartedUs = 0;  // when this link started
  bool m_voiceSilenceNoted = false;   // "no answer on the voice port" said for this link
  bool m_voiceStreamNoted = false;    // "voice over the chat connection" said for this link
};

}  // namespace huddle::session
