#include "app/voice/audio_device.h"

#include <SDL.h>

#include <algorithm>

#include "app/voice/voice_codec.h"

namespace huddle::voice {

namespace {
SDL_AudioSpec voiceSpec(std::size_t periodSamples) {
  SDL_AudioSpec want{};
  want.freq = kSampleRate;
  want.format = AUDIO_S16SYS;
  want.channels = 1;
  want.samples = static_cast<Uint16>(periodSamples);
  want.callback = nullptr;  // queued: the voice thread reads and writes on its own clock
  return want;
}
}  // namespace

bool SdlAudio::open(const AudioDeviceChoice& choice, std::string& error) {
  close();
  if (SDL_InitSubSystem(SDL_INIT_AUDIO) != 0) return error = std::string("no audio: ") + SDL_GetError(), false;
  m_init = true;
  SDL_AudioSpec have{};
  // A device asked for by name must be one SDL lists (where it lists any), so a typo says so.
  auto unknown = [](const std::string& name, bool capture) {
    if (name.empty()) return false;
    const auto names = audioDeviceNames(capture);
    return !names.empty() && std::find(names.begin(), names.end(), name) == names.end();
  };
  for (const bool capture : {true, false}) {
    const std::string& name = capture ? choice.capture : choice.playback;
    if ((capture ? choice.openCapture : choice.openPlayback) && unknown(name, capture)) {
      error = std::string("no ") + (capture ? "microphone" : "speaker") + " named \"" + name + "\" (huddle --list-audio lists them)";
      close();
      return false;
    }
  }
  // No changes allowed: SDL converts whatever the device does to 48 kHz mono S16 for us.
  if (choice.openCapture) {
    const SDL_AudioSpec want = voiceSpec(kCapturePeriodSamples);
    m_capture = SDL_OpenAudioDevice(choice.capture.empty() ? nullptr : choice.capture.c_str(), 1, &want, &have, 0);
    if (m_capture == 0) {
      error = std::string("cannot open the microphone: ") + SDL_GetError();
      close();
      return false;
    }
  }
  if (choice.openPlayback) {
    // SDL's disk driver (the tests' devices) paces each device by sleeping whole milliseconds
    // a period, so a 5 ms speaker would drift from a 10 ms microphone: there both keep 10 ms.
    const char* driver = SDL_GetCurrentAudioDriver();
    const bool disk = driver && std::string(driver) == "disk";
    const SDL_AudioSpec want = voiceSpec(disk ? kCapturePeriodSamples : kPlaybackPeriodSamples);
    m_playback = SDL_OpenAudioDevice(choice.playback.empty() ? nullptr : choice.playback.c_str(), 0, &want, &have, 0);
    if (m_playback == 0) {
      error = std::string("cannot open the speaker: ") + SDL_GetError();
      close();
      return false;
    }
    m_playbackPeriod = have.samples;
  }
  if (m_capture) SDL_PauseAudioDevice(m_capture, 0);
  if (m_playback) SDL_PauseAudioDevice(m_playback, 0);
  return true;
}

void SdlAudio::close() {
  if (m_capture) SDL_CloseAudioDevice(m_capture);
  if (m_playback) SDL_CloseAudioDevice(m_playback);
  m_capture = m_playback = 0;
  m_playbackPeriod = 0;
  if (m_init) SDL_QuitSubSystem(SDL_INIT_AUDIO);
  m_init = false;
}

std::string SdlAudio::driver() const {
  const char* d = m_init ? SDL_GetCurrentAudioDriver() : nullptr;
  return d ? d : "";
}

void SdlAudio::readCaptured(std::vector<std::int16_t>& out) {
  if (!m_capture) return;
  std::int16_t buf[kFrameSamples * 4];
  while (true) {
    const Uint32 got = SDL_DequeueAudio(m_capture, buf, sizeof buf);
    if (got == 0) break;
    out.insert(out.end(), buf, buf + got / sizeof(std::int16_t));
    if (got < sizeof buf) break;
  }
}

std::size_t SdlAudio::queuedSamples() const {
  return m_playback ? SDL_GetQueuedAudioSize(m_playback) / sizeof(std::int16_t) : 0;
}

void SdlAudio::play(std::span<const std::int16_t> samples) {
  if (m_playback && !samples.empty())
    SDL_QueueAudio(m_playback, samples.data(), static_cast<Uint32>(samples.size_bytes()));
}

std::vector<std::string> audioDeviceNames(bool capture, std::string* driver) {
  std::vector<std::string> names;
  if (driver) driver->clear();
  if (SDL_InitSubSystem(SDL_INIT_AUDIO) != 0) return names;
  if (const char* d = SDL_GetCurrentAudioDriver(); d && driver) *driver = d;
  const int n = SDL_GetNumAudioDevices(capture ? 1 : 0);
  for (int i = 0; i < n; ++i)
    if (const char* name = SDL_GetAudioDeviceName(i, capture ? 1 : 0)) names.emplace_back(name);
  SDL_QuitSubSystem(SDL_INIT_AUDIO);
  return names;
}

}  // namespace huddle::voice
