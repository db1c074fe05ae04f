#include "tests/bench/voice_bench.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "app/voice/echo_canceller.h"
#include "app/voice/jitter_buffer.h"
#include "app/voice/voice_frame.h"
#include "app/voice/voice_link.h"
#include "net/base/clock.h"
#include "net/voice_hub.h"
#include "net/voice_server.h"
#include "tests/bench/process_figures.h"
#include "tests/unit/voice_support.h"

namespace huddle::bench {

namespace {

using namespace huddle::voice;

net::VoiceKeys keysOf(std::uint32_t id) {
  net::VoiceKeys k;
  k.up.fill(static_cast<std::uint8_t>(id * 3));
  k.down.fill(static_cast<std::uint8_t>(id * 3 + 1));
  return k;
}

// Sound on one clock for both ends: the microphone releases sample i at i/48000 s after the
// start; the speaker plays what it is given back to back from the start, so a sample queued
// at position p sounds at p/48000 s. The delay between them is mouth to ear without devices.
struct Clocked {
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  std::uint64_t samplesNow() const {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start).count() *
        kSampleRate / 1'000'000);
  }
};

// The microphone as a capture device: its samples come in whole device periods, a period
// when its last sample is in (as SDL hands them over).
class BurstMic : public AudioPort {
 public:
  explicit BurstMic(const Clocked& c, std::size_t period) : m_clock(c), m_period(period) {}
  // 150 ms of a tone every 500 ms, silence between: each burst's onset is a moment to time.
  static bool loud(std::uint64_t i) { return i % 24000 < 7200; }
  void readCaptured(std::vector<std::int16_t>& out) override {
    const std::uint64_t now = m_clock.samplesNow();
    for (const std::uint64_t due = now / m_period * m_period; m_next < due; ++m_next) {
      if ((m_next + 1) % m_period == 0) {  // a period handed over `now - m_next` samples late
        m_waitSamples += static_cast<double>(now - m_next - 1);
        ++m_periods;
      }
      out.push_back(loud(m_next) ? static_cast<std::int16_t>(9000 * std::sin(m_next * 2 * M_PI * 300 / 48000)) : 0);
    }
  }
  std::size_t queuedSamples() const override { return 0; }
  void play(std::span<const std::int16_t>) override {}
  // How long a period waited between its last sample and the voice thread reading it.
  double meanReadWaitMs() const { return m_periods ? m_waitSamples / m_periods * 1000.0 / kSampleRate : 0; }

 private:
  const Clocked& m_clock;
  std::size_t m_period;
  std::uint64_t m_next = 0;
  double m_waitSamples = 0;
  std::uint64_t m_periods = 0;
};

// The speaker as a playback device: at each period boundary it takes one period from the
// queue (silence for what is missing) and plays it over that period, as SDL's queue feeds a
// device. What it played is recorded on the clock's timeline.
class RecordingSpeaker : public AudioPort {
 public:
  RecordingSpeaker(const Clocked& c, std::size_t period) : m_clock(c), m_period(period) {}
  void readCaptured(std::vector<std::int16_t>&) override {}
  std::size_t queuedSamples() const override {
    std::lock_guard lock(m_mutex);
    advance();
    return m_queue.size();
  }
  void play(std::span<const std::int16_t> samples) override {
    std::lock_guard lock(m_mutex);
    advance();
    // These samples sound once what is queued and the current period have played.
    const double soundsAt = static_cast<double>(m_record.size() + m_queue.size());
    m_queueWaitSamples += soundsAt - static_cast<double>(m_clock.samplesNow());
    ++m_plays;
    m_queue.insert(m_queue.end(), samples.begin(), samples.end());
  }
  std::vector<std::int16_t> record() const {
    std::lock_guard lock(m_mutex);
    advance();
    return m_record;
  }
  double meanQueueWaitMs() const {
    std::lock_guard lock(m_mutex);
    return m_plays ? m_queueWaitSamples / static_cast<double>(m_plays) * 1000.0 / kSampleRate : 0;
  }
  std::uint64_t underruns() const {
    std::lock_guard lock(m_mutex);
    return m_underruns;
  }

 private:
  void advance() const {
    const std::uint64_t now = m_clock.samplesNow();
    while (m_record.size() <= now) {  // the period starting at m_record.size() is due
      const std::size_t take = std::min(m_period, m_queue.size());
      if (take < m_period && m_plays > 0) ++m_underruns;
      m_record.insert(m_record.end(), m_queue.begin(), m_queue.begin() + static_cast<std::ptrdiff_t>(take));
      m_record.resize(m_record.size() + (m_period - take), 0);
      m_queue.erase(m_queue.begin(), m_queue.begin() + static_cast<std::ptrdiff_t>(take));
    }
  }
  const Clocked& m_clock;
  std::size_t m_period;
  mutable std::mutex m_mutex;
  mutable std::deque<std::int16_t> m_queue;
  mutable std::vector<std::int16_t> m_record;
  mutable std::uint64_t m_underruns = 0;
  double m_queueWaitSamples = 0;
  std::uint64_t m_plays = 0;
};

// `before`: the settings before the delay work (speaker period and queue 10 ms, jitter target
// p95 + a frame always, at least 20 ms, 30 ms at first), for the figures' comparison.
void measureMouthToEar(double seconds, bool echoCancel, bool before, VoiceBenchResult& r) {
  net::VoiceHub hub({}, [](std::uint32_t id, net::VoiceKeys& keys, std::uint32_t& ipv4) {
    if (id < 1 || id > 2) return false;
    keys = keysOf(id);
    ipv4 = 0x7F000001;  // both talkers are on loopback
    return true;
  });
  net::VoiceServer server(hub);
  if (!server.start(0, r.error, true)) return;
  Clocked clock;
  BurstMic mic(clock, kCapturePeriodSamples);
  const std::size_t speakerPeriod = before ? kFrameSamples : kPlaybackPeriodSamples;
  RecordingSpeaker speaker(clock, speakerPeriod);
  VoiceLink alice, bob;
  auto config = [&](std::uint32_t id, AudioPort* port) {
    VoiceLinkConfig c;
    c.host = "127.0.0.1";
    c.port = server.port();
    c.participantId = id;
    c.keys = keysOf(id);
    c.audio = port;
    return c;
  };
  auto bobConfig = config(2, &speaker), aliceConfig = config(1, &mic);
  bobConfig.echoCancel = aliceConfig.echoCancel = echoCancel;
  bobConfig.playbackAheadSamples = speakerPeriod;
  if (before) bobConfig.jitter = {.minTargetUs = 20'000, .initialTargetUs = 30'000, .marginUs = 0, .percentile = 95, .fecFrameAlways = true};
  if (!bob.start(bobConfig, r.error) || !alice.start(aliceConfig, r.error)) return;
  std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int>(seconds * 1000)));
  const std::uint64_t underruns = speaker.underruns();  // while playing (stopping leaves gaps)
  alice.stop();
  bob.stop();
  server.stop();
  const std::vector<std::int16_t> heard = speaker.record();
  // Each burst's onset at the microphone, and the first loud sample at the speaker after it.
  std::vector<double> delays;
  for (std::uint64_t onset = 24000; onset + 24000 < heard.size(); onset += 24000) {
    for (std::uint64_t i = onset; i < onset + 24000 && i < heard.size(); ++i) {
      if (std::abs(static_cast<int>(heard[i])) > 2000) {
        delays.push_back(static_cast<double>(i - onset) * 1000.0 / kSampleRate);
        break;
      }
    }
  }
  VoiceDelay& d = before ? r.before : echoCancel ? r.withAec : r.withoutAec;
  d.bursts = static_cast<int>(delays.size());
  if (delays.empty()) {
    r.error = "nothing heard";
    return;
  }
  std::sort(delays.begin(), delays.end());
  d.medianMs = delays[delays.size() / 2];
  d.p95Ms = delays[std::min(delays.size() - 1, delays.size() * 95 / 100)];
  d.captureWaitMs = mic.meanReadWaitMs();
  d.lookaheadMs = VoiceEncoder().lookahead() * 1000.0 / kSampleRate;
  const VoiceLinkStats heardStats = bob.stats();
  d.jitterMs = heardStats.playoutDelayFrames
                   ? static_cast<double>(heardStats.playoutDelayUsSum) / static_cast<double>(heardStats.playoutDelayFrames) / 1000.0
                   : 0;
  d.queueMs = speaker.meanQueueWaitMs();
  d.rest = d.medianMs - (kFrameUs / 1000.0 + d.captureWaitMs + d.lookaheadMs + d.jitterMs + d.queueMs);
  d.underruns = underruns;
  d.concealed = heardStats.concealed;
}

// Offline: what one speaker sends and what its frames cost each end.
void measureCosts(VoiceBenchResult& r) {
  std::vector<std::int16_t> speech = test::speak("The quick brown fox jumps over the lazy dog near the river bank.");
  if (speech.size() < kSampleRate) {
    speech.assign(3 * kSampleRate, 0);
    for (std::size_t i = 0; i < speech.size(); ++i) speech[i] = static_cast<std::int16_t>(8000 * std::sin(i * 0.04));
  }
  const std::size_t frames = speech.size() / kFrameSamples;
  VoiceEncoder enc;
  net::VoiceSealer sealer(keysOf(1).up, net::VoiceDirection::Up, 1);
  std::vector<base::ByteVec> sealed;
  std::vector<VoiceFrame> sent;
  double bytes = 0;
  double t0 = threadCpuUs();
  for (std::size_t f = 0; f < frames; ++f) {
    EncodedVoice e = enc.encode(PcmFrame(speech.data() + f * kFrameSamples, kFrameSamples));
    VoiceFrame vf;
    vf.speaker = 1;
    vf.sequence = static_cast<std::uint32_t>(f);
    vf.timestamp = static_cast<std::uint32_t>(f);
    vf.flags = kVoiceSpeaking;
    vf.opus = std::move(e.opus);
    base::ByteVec d = sealer.seal(encodeVoiceFrame(vf));
    bytes += static_cast<double>(d.size());
    sealed.push_back(std::move(d));
    sent.push_back(std::move(vf));
  }
  r.clientSendUsPerFrame = (threadCpuUs() - t0) / static_cast<double>(frames);
  // The echo canceller on the microphone (speech played, its echo captured 30 ms later).
  {
    EchoCanceller aec;
    std::array<std::int16_t, kFrameSamples> mic{}, cleaned{};
    t0 = threadCpuUs();
    for (std::size_t f = 3; f < frames; ++f) {
      for (std::size_t i = 0; i < kFrameSamples; ++i) mic[i] = static_cast<std::int16_t>(speech[(f - 3) * kFrameSamples + i] / 2);
      aec.playback(PcmFrame(speech.data() + f * kFrameSamples, kFrameSamples));
      aec.capture(mic, cleaned);
    }
    r.echoCancelUsPerFrame = (threadCpuUs() - t0) / static_cast<double>(frames - 3);
  }
  r.bytesPerSecTalking = bytes / (static_cast<double>(frames) / 100.0);
  // Silent: nothing but a sealed 'J' a second.
  r.bytesPerSecSilent = static_cast<double>(net::kVoiceHeaderBytes + 1 + net::kVoiceTagBytes) *
                        (1'000'000.0 / static_cast<double>(wire::kVoiceKeepAliveUs));

  // The listener: the host's re-sealed frames, opened, parsed, buffered, decoded and mixed.
  net::VoiceSealer down(keysOf(2).down, net::VoiceDirection::Down, 2);
  std::vector<base::ByteVec> forwarded;
  for (const auto& f : sent) forwarded.push_back(down.seal(encodeVoiceFrame(f)));
  net::VoiceOpener opener(keysOf(2).down, net::VoiceDirection::Down);
  JitterBuffer jitter;
  VoiceDecoder dec;
  VoiceMixer mixer;
  std::array<std::int16_t, kFrameSamples> pcm{}, out{};
  base::ByteVec plain;
  t0 = threadCpuUs();
  std::int64_t now = 0;
  for (const auto& d : forwarded) {
    opener.open(d, plain);
    VoiceFrame f;
    std::string why;
    parseVoiceFrame(plain, f, why);
    jitter.push(std::move(f), now);
    jitter.pop(now + 40'000, dec, pcm);  // played after the buffer's delay: decoded, not held
    SpeakerAudio a{1, PcmFrame(pcm)};
    mixer.mix(std::span<const SpeakerAudio>(&a, 1), out);
    now += kFrameUs;
  }
  r.clientReceiveUsPerFrame = (threadCpuUs() - t0) / static_cast<double>(forwarded.size());

  // The host: one speaker's frames to 1 and to 8 listeners.
  for (int listeners : {1, 8}) {
    net::VoiceHub hub({}, [](std::uint32_t id, net::VoiceKeys& keys, std::uint32_t& ipv4) {
      keys = keysOf(id);
      ipv4 = 0x7F000001;
      return id >= 1 && id <= 9;
    });
    std::vector<net::VoiceDatagram> outs;
    for (std::uint32_t id = 1; id <= static_cast<std::uint32_t>(listeners) + 1; ++id) {
      net::VoiceSealer s(keysOf(id).up, net::VoiceDirection::Up, id);
      hub.receive(s.seal(base::ByteVec{net::kVoiceJoin}), {0x7F000001, static_cast<std::uint16_t>(1000 + id)}, 0, outs);
    }
    net::VoiceSealer up(keysOf(1).up, net::VoiceDirection::Up, 1);
    up.seal(base::ByteVec{net::kVoiceJoin});  // the join above used counter 0
    std::vector<base::ByteVec> ups;
    for (const auto& f : sent) ups.push_back(up.seal(encodeVoiceFrame(f)));
    t0 = threadCpuUs();
    std::int64_t at = 0;
    for (const auto& d : ups) {
      outs.clear();
      hub.receive(d, {0x7F000001, 1001}, at += kFrameUs, outs);
    }
    const double us = (threadCpuUs() - t0) / static_cast<double>(ups.size());
    if (hub.stats().forwarded < ups.size() * static_cast<std::size_t>(listeners)) r.error = "the relay dropped frames";
    (listeners == 1 ? r.hostUsPerFrame1 : r.hostUsPerFrame8) = us;
  }
}

}  // namespace

VoiceBenchResult measureVoice(double seconds) {
  VoiceBenchResult r;
  measureCosts(r);
  measureMouthToEar(seconds, true, true, r);
  measureMouthToEar(seconds, true, false, r);
  measureMouthToEar(seconds, false, false, r);
  r.mouthToEarMedianMs = r.withAec.medianMs;
  r.mouthToEarP95Ms = r.withAec.p95Ms;
  r.mouthToEarNoAecMedianMs = r.withoutAec.medianMs;
  r.bursts = r.withAec.bursts;
  return r;
}

void printVoice(const VoiceBenchResult& r) {
  std::printf("\nVoice (48 kHz mono, 10 ms Opus frames, loopback; devices modelled: the microphone hands over %zu-sample "
              "periods, the speaker takes %zu-sample periods)\n",
              kCapturePeriodSamples, kPlaybackPeriodSamples);
  if (!r.error.empty()) std::printf("  error: %s\n", r.error.c_str());
  std::printf("  mouth to ear: median %.1f ms, p95 %.1f ms over %d talk spurts; without echo cancellation %.1f ms "
              "(a real device adds its own output buffer)\n",
              r.mouthToEarMedianMs, r.mouthToEarP95Ms, r.bursts, r.mouthToEarNoAecMedianMs);
  std::printf("  before the delay work (speaker period and queue 10 ms, jitter target >= 20 ms): median %.1f ms, p95 %.1f ms\n",
              r.before.medianMs, r.before.p95Ms);
  for (const VoiceDelay* d : {&r.before, &r.withAec, &r.withoutAec})
    std::printf("  where it goes (%s): frame %.1f + microphone period read late %.1f + Opus lookahead %.1f + jitter buffer "
                "%.1f + speaker queue %.1f + the rest %.1f (network, relay, wake-ups, onset) ms; %llu speaker underruns, "
                "%llu frames concealed\n",
                d == &r.before ? "before" : d == &r.withAec ? "echo cancellation on" : "off", kFrameUs / 1000.0, d->captureWaitMs, d->lookaheadMs,
                d->jitterMs, d->queueMs, d->rest, static_cast<unsigned long long>(d->underruns),
                static_cast<unsigned long long>(d->concealed));
  std::printf("  one speaker sends %.0f B/s talking, %.0f B/s silent\n", r.bytesPerSecTalking, r.bytesPerSecSilent);
  std::printf("  client per speaker: send %.1f us/frame (%.2f%% of a core), receive %.1f us/frame (%.2f%%); "
              "echo cancellation %.1f us/frame (%.2f%%)\n",
              r.clientSendUsPerFrame, r.clientSendUsPerFrame / 100.0, r.clientReceiveUsPerFrame,
              r.clientReceiveUsPerFrame / 100.0, r.echoCancelUsPerFrame, r.echoCancelUsPerFrame / 100.0);
  std::printf("  host per speaker: %.1f us/frame to 1 listener (%.3f%% of a core), %.1f us/frame to 8 (%.3f%%)\n",
              r.hostUsPerFrame1, r.hostUsPerFrame1 / 100.0, r.hostUsPerFrame8, r.hostUsPerFrame8 / 100.0);
}

void writeVoiceJson(std::FILE* f, const VoiceBenchResult& r) {
  std::fprintf(f,
               "  \"voice\": {\"mouth_to_ear_ms\": {\"p50\": %.1f, \"p95\": %.1f, \"p50_without_aec\": %.1f, \"p50_before\": %.1f, "
               "\"jitter_buffer\": %.1f, \"speaker_queue\": %.1f}, \"talk_spurts\": %d, "
               "\"bytes_per_sec_talking\": %.0f, \"bytes_per_sec_silent\": %.0f, \"client_send_us_per_frame\": %.1f, "
               "\"client_receive_us_per_frame\": %.1f, \"echo_cancel_us_per_frame\": %.1f, \"host_us_per_frame_1_listener\": %.2f, "
               "\"host_us_per_frame_8_listeners\": %.2f, \"ok\": %s}",
               r.mouthToEarMedianMs, r.mouthToEarP95Ms, r.mouthToEarNoAecMedianMs, r.before.medianMs, r.withAec.jitterMs,
               r.withAec.queueMs, r.bursts, r.bytesPerSecTalking, r.bytesPerSecSilent,
               r.clientSendUsPerFrame, r.clientReceiveUsPerFrame, r.echoCancelUsPerFrame, r.hostUsPerFrame1,
               r.hostUsPerFrame8,
               r.error.empty() ? "true" : "false");
}

}  // namespace huddle::bench
