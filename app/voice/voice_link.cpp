#include "app/voice/voice_link.h"

#include <algorithm>
#include <utility>

#include "app/voice/voice_frame.h"
#include "net/base/clock.h"
#include "net/base/log.h"
#include "net/voice_hub.h"
#include "net/wire/limits.h"

namespace huddle::voice {

namespace {
constexpr const char* kTag = "voice";
// Joins are sent this often until the host answers, then every kVoiceKeepAliveUs; without an
// answer for kAckTimeoutUs the link says it is not connected (and keeps trying).
constexpr std::int64_t kJoinRetryUs = 200'000;
constexpr std::int64_t kAckTimeoutUs = 3 * wire::kVoiceKeepAliveUs;
constexpr std::int64_t kSelfSpeakingHangoverUs = 300'000;
constexpr std::int64_t kForgetSpeakerUs = 30'000'000;
constexpr std::int64_t kPublishIntervalUs = 50'000;
// The send gate: a frame goes if the encoder heard voice (not DTX) and the microphone was
// above kGateDbfs within the last kGateHangoverFrames, so a quiet room sends nothing even
// in the ~200 ms before Opus's DTX decides it is silence (and a word's tail is not cut).
constexpr float kGateDbfs = -60.f;
constexpr int kGateHangoverFrames = 30;
}  // namespace

void VoiceInbox::push(std::vector<std::uint8_t> datagram) {
  std::lock_guard lock(m_mutex);
  if (m_datagrams.size() >= 256) m_datagrams.pop_front();
  m_datagrams.push_back(std::move(datagram));
}

std::deque<std::vector<std::uint8_t>> VoiceInbox::take() {
  std::lock_guard lock(m_mutex);
  return std::exchange(m_datagrams, {});
}

bool VoiceLink::start(VoiceLinkConfig config, std::string& error) {
  stop();
  m_config = std::move(config);
  if (m_config.port == 0) return error = "the host offers no voice", false;
  if (!net::resolveVoiceHost(m_config.host, m_config.port, m_host, error)) return false;
  if (!m_socket.open(0, error)) return false;
  if (m_config.audio) {
    m_audio = m_config.audio;
  } else {
    m_sdl = std::make_unique<SdlAudio>();
    if (!m_sdl->open(m_config.devices, error)) {
      m_sdl.reset();
      m_socket.close();
      return false;
    }
    m_audio = m_sdl.get();
    m_config.playbackAheadSamples = std::max(m_config.playbackAheadSamples, m_sdl->playbackPeriodSamples());
    HLOG_INFO(kTag, "audio driver %s, speaker period %zu samples", m_sdl->driver().c_str(),
              m_sdl->playbackPeriodSamples());
  }
  const std::int64_t audioStartedUs = base::monoUs();
  m_muted = m_config.muted;
  m_stop = false;
  m_connected = false;
  m_overStream = false;
  m_inbox->take();
  {
    std::lock_guard lock(m_mutex);
    m_stats = {};
    m_stats.audioStartedUs = audioStartedUs;
    m_speakers.clear();
    m_failure.clear();
  }
  m_worker = base::Worker("voice", [this] { run(); }, [this](const std::string& what) {
    std::lock_guard lock(m_mutex);
    m_failure = what;
  });
  return true;
}

void VoiceLink::stop() {
  m_stop = true;
  m_worker.join();
  m_worker = base::Worker();
  if (m_sdl) m_sdl->close();
  m_sdl.reset();
  m_audio = nullptr;
  m_socket.close();
  m_connected = false;
  m_selfSpeaking = false;
}

void VoiceLink::setMasterVolume(float gain) { m_masterVolume = gain; }

void VoiceLink::setSpeakerVolume(std::uint32_t participantId, float gain) {
  std::lock_guard lock(m_mutex);
  m_volumeRequests[participantId] = gain;
}

std::string VoiceLink::failure() const {
  std::lock_guard lock(m_mutex);
  return m_failure;
}

std::vector<VoiceSpeakerState> VoiceLink::speakers() const {
  std::lock_guard lock(m_mutex);
  return m_speakers;
}

VoiceLinkStats VoiceLink::stats() const {
  std::lock_guard lock(m_mutex);
  return m_stats;
}

void VoiceLink::run() {
  // A frame every 10 ms and a speaker period every 5: late wake-ups are heard (underruns,
  // and a jitter buffer that has to grow), so this thread goes before bulk work if allowed.
  HLOG_INFO(kTag, "voice thread %s", base::raiseThreadToAudioPriority() ? "at real-time priority" : "at normal priority");
  const std::uint32_t self = m_config.participantId;
  net::VoiceSealer sealer(m_config.keys.up, net::VoiceDirection::Up, self);
  net::VoiceOpener opener(m_config.keys.down, net::VoiceDirection::Down);
  VoiceEncoder encoder;
  VoiceMixer mixer;
  std::unique_ptr<EchoCanceller> aec =
      m_config.echoCancel || m_config.autoGain
          ? std::make_unique<EchoCanceller>(MicProcessing{m_config.echoCancel, m_config.echoCancel, m_config.autoGain})
          : nullptr;
  std::array<std::int16_t, kFrameSamples> cleaned{};
  struct Speaker {
    explicit Speaker(const JitterTuning& t) : jitter(t) {}
    JitterBuffer jitter;
    VoiceDecoder decoder;
    std::int64_t lastHeardUs = 0;
  };
  std::map<std::uint32_t, std::unique_ptr<Speaker>> speakers;
  VoiceLinkStats stats;
  {
    std::lock_guard lock(m_mutex);
    stats.audioStartedUs = m_stats.audioStartedUs;
  }
  std::vector<std::int16_t> captured;
  std::uint32_t sequence = 0, timestamp = 0;
  bool wasSending = false;
  int gateOpen = 0;  // frames left before the gate closes
  const std::int64_t startUs = base::monoUs();
  std::int64_t lastJoinUs = startUs - wire::kVoiceKeepAliveUs, lastAckUs = -1, lastSpokeUs = -1, publishedUs = 0;
  std::uint64_t playedFrames = 0;
  base::ByteVec datagram, plain;

  bool overStream = false;
  auto sendPlain = [&](std::span<const std::uint8_t> p) {
    const base::ByteVec d = sealer.seal(p);
    if (d.empty()) return;
    if (overStream ? m_config.streamSend(d) : m_socket.send(d, m_host)) stats.bytesSent += d.size();
  };
  // One datagram from the host (by UDP or the chat connection): an ack, or a speaker's frame.
  auto received = [&](const base::ByteVec& d, std::int64_t at) {
    stats.bytesReceived += d.size();
    if (opener.open(d, plain) != net::VoiceOpener::Result::Ok) {
      ++stats.dropped;
      return;
    }
    if (plain.size() == 1 && plain[0] == net::kVoiceJoinAck) {
      lastAckUs = at;
      return;
    }
    VoiceFrame frame;
    std::string why;
    if (!parseVoiceFrame(plain, frame, why) || frame.speaker == self || frame.speaker == 0) {
      ++stats.dropped;
      return;
    }
    auto it = speakers.find(frame.speaker);
    if (it == speakers.end()) {
      if (speakers.size() >= wire::kMaxParticipants) {
        ++stats.dropped;
        return;
      }
      it = speakers.emplace(frame.speaker, std::make_unique<Speaker>(m_config.jitter)).first;
    }
    it->second->lastHeardUs = at;
    if (it->second->jitter.push(std::move(frame), at)) ++stats.framesReceived;
    else ++stats.dropped;
  };

  while (!m_stop.load()) {
    std::int64_t now = base::monoUs();
    const bool acked = lastAckUs >= 0 && now - lastAckUs < kAckTimeoutUs;
    if (now - lastJoinUs >= (acked ? wire::kVoiceKeepAliveUs : kJoinRetryUs)) {
      sendPlain(std::span<const std::uint8_t>(&net::kVoiceJoin, 1));
      lastJoinUs = now;
    }
    m_connected = acked;

    // No answer by UDP for a while: over the chat connection instead (said by the session).
    if (!overStream && lastAckUs < 0 && m_config.streamSend && now - startUs >= kVoiceFallbackUs) {
      overStream = true;
      m_overStream = true;
      lastJoinUs = now - wire::kVoiceKeepAliveUs;  // join that way at once
    }

    // What the host forwarded: into each speaker's jitter buffer.
    if (m_socket.wait(2)) {
      for (int i = 0; i < 256; ++i) {
        net::VoiceEndpoint from;
        bool oversize = false;
        if (m_socket.receive(datagram, from, oversize) == 0) break;
        if (oversize || !(from == m_host)) {
          ++stats.dropped;
          continue;
        }
        received(datagram, base::monoUs());
      }
    }
    for (auto& d : m_inbox->take()) received(d, base::monoUs());

    // The microphone: one frame at a time, sent unless muted or silent.
    m_audio->readCaptured(captured);
    std::size_t used = 0;
    for (; captured.size() - used >= kFrameSamples; used += kFrameSamples) {
      PcmFrame pcm(captured.data() + used, kFrameSamples);
      if (aec) {  // what the speaker played, taken back out
        aec->capture(pcm, cleaned);
        pcm = PcmFrame(cleaned);
      }
      const float db = frameLevelDbfs(pcm);
      const float shown = m_inputDb.load();
      m_inputDb = db > shown ? db : std::max(db, shown - 1.5f);
      bool sent = false;
      gateOpen = db > kGateDbfs ? kGateHangoverFrames : std::max(0, gateOpen - 1);
      if (!m_muted.load() && gateOpen > 0) {
        EncodedVoice enc = encoder.encode(pcm);
        if (!enc.silent && !enc.opus.empty() && enc.opus.size() <= wire::kMaxVoiceOpusBytes) {
          VoiceFrame f;
          f.speaker = self;
          f.sequence = sequence++;
          f.timestamp = timestamp;
          f.flags = kVoiceSpeaking | (wasSending ? 0 : kVoiceTalkStart);
          f.opus = std::move(enc.opus);
          sendPlain(encodeVoiceFrame(f));
          ++stats.framesSent;
          sent = true;
          lastSpokeUs = now;
        }
      }
      wasSending = sent;
      ++timestamp;
    }
    captured.erase(captured.begin(), captured.begin() + static_cast<std::ptrdiff_t>(used));
    m_selfSpeaking = !m_muted.load() && lastSpokeUs >= 0 && now - lastSpokeUs < kSelfSpeakingHangoverUs;

    // The speaker: kept a little ahead, never more than real time allows (a device that
    // takes everything at once does not make us run ahead of the senders).
    for (int n = 0; n < 5 && m_audio->queuedSamples() < m_config.playbackAheadSamples &&
                    playedFrames * kFrameUs < static_cast<std::uint64_t>(now - startUs) + 5 * kFrameUs;
         ++n) {
      std::vector<std::array<std::int16_t, kFrameSamples>> pcm(speakers.size());
      std::vector<SpeakerAudio> inputs;
      inputs.reserve(speakers.size());
      std::size_t k = 0;
      for (auto& [id, s] : speakers) {
        auto& buf = pcm[k++];
        const PlayResult played = s->jitter.pop(base::monoUs(), s->decoder, buf);
        if (played == PlayResult::Silent) continue;
        if (played == PlayResult::Played) {
          stats.playoutDelayUsSum += s->jitter.delayUs();
          ++stats.playoutDelayFrames;
        }
        inputs.push_back({id, PcmFrame(buf)});
      }
      std::array<std::int16_t, kFrameSamples> out{};
      mixer.mix(inputs, out);
      if (aec) aec->playback(out);
      m_audio->play(out);
      ++playedFrames;
    }

    if (now - publishedUs >= kPublishIntervalUs) {
      publishedUs = now;
      mixer.setMasterVolume(m_masterVolume.load());
      std::lock_guard lock(m_mutex);
      for (const auto& [id, gain] : m_volumeRequests) mixer.setSpeakerVolume(id, gain);
      m_volumeRequests.clear();
      for (auto it = speakers.begin(); it != speakers.end();) {
        if (now - it->second->lastHeardUs > kForgetSpeakerUs && !it->second->jitter.playing()) {
          mixer.forget(it->first);
          it = speakers.erase(it);
        } else {
          ++it;
        }
      }
      m_speakers.clear();
      stats.concealed = stats.recovered = 0;
      for (const auto& [id, s] : speakers) {
        m_speakers.push_back({id, mixer.speaking(id), mixer.levelDbfs(id)});
        stats.concealed += s->jitter.stats().concealed;
        stats.recovered += s->jitter.stats().recovered;
      }
      stats.played = playedFrames;
      m_stats = stats;
    }
  }
  sendPlain(std::span<const std::uint8_t>(&net::kVoiceLeave, 1));
  std::lock_guard lock(m_mutex);
  m_stats = stats;
}

}  // namespace huddle::voice
