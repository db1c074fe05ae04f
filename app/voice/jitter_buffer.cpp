#include "app/voice/jitter_buffer.h"

#include <algorithm>
#include <vector>

namespace huddle::voice {

namespace {
// Timestamps are u32 frame counts (497 days); differences within the buffer's reach are small.
std::int64_t ahead(std::uint32_t ts, std::uint32_t from) {
  return static_cast<std::int32_t>(ts - from);
}
}  // namespace

std::int64_t JitterBuffer::minTransit() const {
  std::int64_t m = m_transits.empty() ? 0 : m_transits.front().transitUs;
  for (const Transit& t : m_transits) m = std::min(m, t.transitUs);
  return m;
}

void JitterBuffer::noteTransit(std::int64_t transitUs, std::int64_t nowUs) {
  m_transits.push_back({nowUs, transitUs});
  while (m_transits.size() > kJitterWindowFrames || nowUs - m_transits.front().atUs > kJitterWindowUs)
    m_transits.pop_front();
  updateDesired();
}

void JitterBuffer::updateDesired() {
  if (m_transits.empty()) return;
  const std::int64_t base = minTransit();
  std::vector<std::int64_t> jitter;
  jitter.reserve(m_transits.size());
  for (const Transit& t : m_transits) jitter.push_back(t.transitUs - base);
  const std::size_t k = jitter.size() * static_cast<std::size_t>(m_tuning.percentile) / 100;
  std::nth_element(jitter.begin(), jitter.begin() + static_cast<std::ptrdiff_t>(k), jitter.end());
  const std::int64_t fec = lossy() || m_tuning.fecFrameAlways ? kFrameUs : 0;
  const std::int64_t desired =
      std::clamp(jitter[k] + m_tuning.marginUs + fec, m_tuning.minTargetUs, wire::kMaxVoiceJitterDelayUs);
  if (desired > m_targetUs) m_targetUs = desired;  // rises at once; falls in pop()
  m_desiredUs = desired;
}

std::int64_t JitterBuffer::delayOf(std::uint32_t timestamp, std::int64_t nowUs) const {
  return nowUs - (static_cast<std::int64_t>(timestamp) * kFrameUs + minTransit());
}

void JitterBuffer::resync(bool forgetJitter) {
  m_playing = false;
  m_havePlayed = false;
  if (forgetJitter) m_transits.clear();
  m_idle = 0;
}

bool JitterBuffer::push(VoiceFrame frame, std::int64_t nowUs) {
  const std::uint32_t ts = frame.timestamp;
  if (m_playing) {
    const std::int64_t d = ahead(ts, m_next);
    if (d < 0) return ++m_stats.late, false;
    if (d >= static_cast<std::int64_t>(wire::kMaxVoiceJitterFrames)) {
      // Far ahead: a speaker whose clock restarted, or one back from a long silence. With
      // nothing buffered that is a new start; otherwise it is noise.
      if (!m_frames.empty()) return ++m_stats.overflow, false;
      resync(true);
    }
  } else if (!m_frames.empty()) {
    // Waiting to start: keep a run of at most kMaxVoiceJitterFrames from the earliest.
    const std::uint32_t first = m_frames.begin()->first;
    const std::int64_t span = std::max(ahead(ts, first), ahead(m_frames.rbegin()->first, ts));
    if (span >= static_cast<std::int64_t>(wire::kMaxVoiceJitterFrames)) return ++m_stats.overflow, false;
  }
  if (m_frames.count(ts)) return ++m_stats.duplicate, false;
  if (m_frames.size() >= wire::kMaxVoiceJitterFrames) return ++m_stats.overflow, false;
  noteTransit(nowUs - static_cast<std::int64_t>(ts) * kFrameUs, nowUs);
  m_frames.emplace(ts, Entry{std::move(frame), nowUs});
  ++m_stats.received;
  return true;
}

void JitterBuffer::noteLoss() {
  const bool was = lossy();
  m_sinceLoss = 0;
  if (!was) updateDesired();
}

PlayResult JitterBuffer::pop(std::int64_t nowUs, VoiceDecoder& decoder, PcmFrameOut out) {
  if (m_sinceLoss < kLossMemoryPops && ++m_sinceLoss == kLossMemoryPops) updateDesired();
  if (m_targetUs > m_desiredUs) m_targetUs = std::max(m_desiredUs, m_targetUs - kTargetShrinkUsPerPop);
  if (!m_playing) {
    if (m_frames.empty() || delayOf(m_frames.begin()->first, nowUs) < m_targetUs) {
      std::fill(out.begin(), out.end(), std::int16_t{0});
      return PlayResult::Silent;
    }
    m_playing = true;
    m_next = m_frames.begin()->first;
    m_idle = 0;
  }
  ++m_sinceDrop;
  std::int64_t delay = delayOf(m_next, nowUs);
  // Well above the target: skip the frame due now (a frame of silence if there is one).
  if (delay > m_targetUs + kFrameUs + kFrameUs / 2 && m_sinceDrop >= kDropIntervalPops && m_frames.size() >= 2) {
    m_frames.erase(m_next);
    ++m_next;
    ++m_stats.skipped;
    m_sinceDrop = 0;
    delay -= kFrameUs;
  }
  // A gap the sequence shows no loss in is silence the speaker did not send (DTX, or the send
  // gate): playing less of it costs nothing, so the delay comes down to the target at once.
  if (const auto first = m_frames.lower_bound(m_next);
      m_havePlayed && first != m_frames.end() && first->first != m_next && first->second.frame.sequence == m_lastSequence + 1) {
    for (; m_next != first->first && delay >= m_targetUs + kFrameUs; ++m_next, delay -= kFrameUs) ++m_stats.skipped;
  }
  auto it = m_frames.find(m_next);
  const bool have = it != m_frames.end();
  auto nextIt = m_frames.find(m_next + 1);
  // Below the target: hold (when the frame is missing, wait for it rather than lose it).
  const bool hold = have ? delay < m_targetUs - kFrameUs - kFrameUs / 2
                         : delay < m_targetUs && nextIt == m_frames.end() && !m_frames.empty();
  PlayResult result;
  if (hold) {
    decoder.conceal(out);
    ++m_stats.concealed;
    m_delayUs = delay;
    return PlayResult::Concealed;
  }
  if (have) {
    decoder.decode(it->second.frame.opus, out);
    m_lastSequence = it->second.frame.sequence;
    m_havePlayed = true;
    ++m_stats.played;
    result = PlayResult::Played;
  } else if (nextIt != m_frames.end() && !(m_havePlayed && nextIt->second.frame.sequence == m_lastSequence + 1)) {
    // (A gap the sequence does not show is DTX, not loss: conceal it, comfort noise.)
    decoder.recover(nextIt->second.frame.opus, out);
    ++m_stats.recovered;
    result = PlayResult::Recovered;
    noteLoss();
  } else {
    decoder.conceal(out);
    ++m_stats.concealed;
    result = PlayResult::Concealed;
    // Lost or late if the sequence shows it (a gap it does not show is DTX).
    const auto later = m_frames.upper_bound(m_next);
    if (m_havePlayed && later != m_frames.end() && later->second.frame.sequence != m_lastSequence + 1) noteLoss();
  }
  m_delayUs = delay;
  ++m_next;
  while (!m_frames.empty() && ahead(m_frames.begin()->first, m_next) < 0) m_frames.erase(m_frames.begin());
  if (m_frames.empty()) {
    if (++m_idle >= kIdlePops) resync(false);
  } else {
    m_idle = 0;
  }
  return result;
}

}  // namespace huddle::voice
