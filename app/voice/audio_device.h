// Where voice meets sound: the microphone and the speaker. AudioPort is what the voice link
// needs (captured samples in, samples to play out), so tests can stand in for devices;
// SdlAudio is the real one, SDL2's audio at 48 kHz mono S16 (capture read with
// SDL_DequeueAudio, playback fed with SDL_QueueAudio, both from the voice thread). Device
// buffers: the microphone's is one 10 ms frame (kCapturePeriodSamples: each buffer is a whole
// frame, so a frame waits for nothing after its last sample), the speaker's half of one
// (kPlaybackPeriodSamples: the speaker's queue need only hold one device period ahead, so a
// smaller period is less delay; 5 ms is what SDL's pulseaudio and ALSA backends keep up with). With SDL_AUDIODRIVER=disk, SDL_DISKAUDIOFILEIN is the microphone (raw S16LE mono
// 48 kHz, read at the pace of the buffer duration, silence after its end) and
// SDL_DISKAUDIOFILE the speaker (the same format), which is how the tests talk end to end.
// Thread: one thread uses a port (the voice thread); open/close from its owner.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace huddle::voice {

class AudioPort {
 public:
  virtual ~AudioPort() = default;
  // Appends the samples captured since the last call (48 kHz mono).
  virtual void readCaptured(std::vector<std::int16_t>& out) = 0;
  // Samples queued for the speaker and not yet played.
  virtual std::size_t queuedSamples() const = 0;
  virtual void play(std::span<const std::int16_t> samples) = 0;
};

inline constexpr std::size_t kCapturePeriodSamples = 480;   // 10 ms at 48 kHz
inline constexpr std::size_t kPlaybackPeriodSamples = 240;  // 5 ms

struct AudioDeviceChoice {
  std::string capture;   // a name from audioDeviceNames(true); empty: the system's default
  std::string playback;  // likewise for the speaker
  bool openCapture = true;
  bool openPlayback = true;
};

class SdlAudio : public AudioPort {
 public:
  SdlAudio() = default;
  ~SdlAudio() override { close(); }
  SdlAudio(const SdlAudio&) = delete;
  SdlAudio& operator=(const SdlAudio&) = delete;

  // Opens the devices asked for and starts them; false with `error` (no audio driver, no
  // such device).
  bool open(const AudioDeviceChoice& choice, std::string& error);
  void close();
  // Which audio driver SDL uses ("pulseaudio", "alsa", "disk", ...), once open.
  std::string driver() const;
  // The speaker's device period SDL gave (samples), 0 when no speaker is open.
  std::size_t playbackPeriodSamples() const { return m_playbackPeriod; }

  void readCaptured(std::vector<std::int16_t>& out) override;
  std::size_t queuedSamples() const override;
  void play(std::span<const std::int16_t> samples) override;

 private:
  bool m_init = false;
  std::uint32_t m_capture = 0;
  std::uint32_t m_playback = 0;
  std::size_t m_playbackPeriod = 0;
};

// The devices SDL can open (input if `capture`), for the window's choice and --list-audio;
// `driver`, if given, gets SDL's audio driver's name ("" when there is none).
std::vector<std::string> audioDeviceNames(bool capture, std::string* driver = nullptr);

}  // namespace huddle::voice
