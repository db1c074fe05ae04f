// A participant's voice (issue 13): the link to the host's voice port and the sound around
// it. One `voice` thread does it all on a 10 ms beat: reads the microphone, encodes each
// 10 ms frame (Opus, FEC, DTX) and sends it sealed unless muted or silent; opens what the
// host forwards into one jitter buffer and decoder per speaker; and keeps the speaker fed
// with their mix. It joins voice with a sealed 'J' (net/voice_hub.h), repeated as a
// keep-alive; the host's 'A' says the path works. Keys come from our chat connection's TLS
// exporter (ClientLink::voiceKeys()), so a reconnect means a new VoiceLink.
// Thread: public methods from the owner's thread (the getters from any); the rest on `voice`.
#pragma once
#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "app/voice/audio_device.h"
#include "app/voice/echo_canceller.h"
#include "app/voice/jitter_buffer.h"
#include "app/voice/voice_codec.h"
#include "app/voice/voice_mixer.h"
#include "net/base/worker.h"
#include "net/voice_seal.h"
#include "net/voice_socket.h"

namespace huddle::voice {

struct VoiceLinkConfig {
  std::string host;  // the host's address (as the chat port was reached)
  std::uint16_t port = 0;
  std::uint32_t participantId = 0;  // ours: the channel and the speaker id of our frames
  net::VoiceKeys keys;
  bool muted = false;
  AudioDeviceChoice devices;
  // Tests: sound from and to this port instead of SDL (owned by the caller, outliving the link).
  AudioPort* audio = nullptr;
  // The fallback when UDP does not get through (no answer for kVoiceFallbackUs): datagrams
  // go by this instead (the chat connection), and come back through inbox() (null: none).
  std::function<bool(std::span<const std::uint8_t>)> streamSend;
  // Echo cancellation and noise suppression on the microphone (speexdsp; measured in
  // voice_echo_test: ~40 dB less echo once learnt, a near-end voice through unchanged).
  bool echoCancel = true;
  // Automatic gain control on the microphone (speexdsp, echo_canceller.h).
  bool autoGain = true;
  // Playback: how many samples to keep queued ahead of the speaker: one device period (the
  // device takes a period at a time; SDL's obtained period if larger).
  std::size_t playbackAheadSamples = kPlaybackPeriodSamples;
  JitterTuning jitter;  // each speaker's jitter buffer
};

inline constexpr std::int64_t kVoiceFallbackUs = 3'000'000;

// Datagrams the host sent over the chat connection, for the voice thread; shared with the
// chat connection's reader, which may outlive the link. Bounded: past the cap the oldest go.
class VoiceInbox {
 public:
  void push(std::vector<std::uint8_t> datagram);
  std::deque<std::vector<std::uint8_t>> take();

 private:
  std::mutex m_mutex;
  std::deque<std::vector<std::uint8_t>> m_datagrams;
};

struct VoiceSpeakerState {
  std::uint32_t participantId = 0;
  bool speaking = false;
  float levelDbfs = kSilenceDbfs;
};

struct VoiceLinkStats {
  std::uint64_t framesSent = 0;
  std::uint64_t framesReceived = 0;  // frames accepted into a jitter buffer
  std::uint64_t bytesSent = 0;       // datagrams, all kinds
  std::uint64_t bytesReceived = 0;
  std::uint64_t dropped = 0;         // datagrams that did not open or parse, or came too late
  std::uint64_t concealed = 0;       // frames made up by Opus (loss)
  std::uint64_t recovered = 0;       // frames rebuilt from FEC
  std::uint64_t played = 0;          // 10 ms frames handed to the speaker (silence included)
  // The jitter buffers' playout delay (a frame's earliest arrival to its taking), summed over
  // the speakers' frames played from a packet: where the receive side's delay goes.
  std::int64_t playoutDelayUsSum = 0;
  std::uint64_t playoutDelayFrames = 0;
  std::int64_t audioStartedUs = 0;   // when the devices started (base::monoUs(), one clock for
                                     // every process on the machine: tests line files up by it)
};

class VoiceLink {
 public:
  VoiceLink() = default;
  ~VoiceLink() { stop(); }
  VoiceLink(const VoiceLink&) = delete;
  VoiceLink& operator=(const VoiceLink&) = delete;

  // Opens the socket and the devices and starts the voice thread; false with `error`.
  bool start(VoiceLinkConfig config, std::string& error);
  // Says 'leave' to the host and stops. Idempotent.
  void stop();
  bool running() const { return m_worker.running(); }

  void setMuted(bool muted) { m_muted = muted; }
  bool muted() const { return m_muted.load(); }
  void setMasterVolume(float gain);
  void setSpeakerVolume(std::uint32_t participantId, float gain);

  // The host answered our join recently: voice flows.
  bool connected() const { return m_connected.load(); }
  // Voice goes over the chat connection (UDP did not get through).
  bool overStream() const { return m_overStream.load(); }
  // Where the chat connection puts what the host sends it for us.
  std::shared_ptr<VoiceInbox> inbox() const { return m_inbox; }
  // What the thread stopped on, if it did.
  std::string failure() const;
  // The microphone's level (dBFS, before mute) and whether we are heard talking now.
  float inputLevelDbfs() const { return m_inputDb.load(); }
  bool selfSpeaking() const { return m_selfSpeaking.load(); }
  // The other speakers heard lately.
  std::vector<VoiceSpeakerState> speakers() const;
  VoiceLinkStats stats() const;

 private:
  void run();

  VoiceLinkConfig m_config;
  net::VoiceEndpoint m_host;
  std::unique_ptr<SdlAudio> m_sdl;
  AudioPort* m_audio = nullptr;
  net::VoiceSocket m_socket;
  std::atomic<bool> m_stop{false};
  std::atomic<bool> m_muted{false};
  std::atomic<bool> m_connected{false};
  std::atomic<bool> m_overStream{false};
  std::shared_ptr<VoiceInbox> m_inbox = std::make_shared<VoiceInbox>();
  std::atomic<float> m_inputDb{kSilenceDbfs};
  std::atomic<bool> m_selfSpeaking{false};
  std::atomic<float> m_masterVolume{1.f};

  mutable std::mutex m_mutex;  // what the getters read, and volume requests
  std::vector<VoiceSpeakerState> m_speakers;
  std::map<std::uint32_t, float> m_volumeRequests;
  VoiceLinkStats m_stats;
  std::string m_failure;
  base::Worker m_worker;
};

}  // namespace huddle::voice
