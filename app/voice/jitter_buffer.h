// One speaker's jitter buffer: frames arrive from the network out of order, late, twice or
// not at all; playback takes exactly one 10 ms frame every 10 ms. The buffer holds frames by
// their timestamp and plays them after an adaptive delay:
//
//  - Each arrival's transit (arrival time minus the speaker's timestamp) is compared with the
//    smallest transit of the arrivals of the last kJitterWindowUs (at most kJitterWindowFrames):
//    the difference is that frame's jitter. The target delay is the window's 99th percentile
//    of jitter plus kJitterMarginUs, plus one frame while frames are being lost (a loss within
//    the last kLossMemoryPops: the next frame, carrying the FEC copy, is then usually there
//    when a frame is missing; on a clean LAN that frame would be 10 ms of delay for nothing),
//    at least kMinTargetDelayUs and at most wire::kMaxVoiceJitterDelayUs. It rises at once
//    and falls by at most kTargetShrinkUsPerPop per pop (slowly: jitter comes in bursts).
//    The window outlives pauses in speech shorter than kJitterWindowUs, so a talk spurt
//    starts with what the last one learnt.
//  - The playout delay is how long after the earliest possible arrival a frame plays. Below
//    the target, playout holds (a concealed frame, the timestamp not advanced); well above
//    it, one frame is skipped, at most one per kDropIntervalPops. A gap of frames never sent
//    (DTX or the send gate: the sequence shows no loss) is shortened at once instead, down to
//    the target: a talk spurt after a pause starts at the target, not where the last one was.
//  - A missing frame is rebuilt from the next frame's FEC when that is buffered and its
//    sequence shows a loss, otherwise concealed by Opus (a DTX gap: comfort noise). Frames behind the playout point are too late and dropped, as are
//    duplicates and frames beyond wire::kMaxVoiceJitterFrames ahead.
//  - After kIdlePops pops with nothing buffered (the speaker stopped, or DTX), playout stops
//    and plays silence; the next frame starts it again after the target delay.
//
// Deterministic: time is the caller's (microseconds, any epoch), nothing runs by itself.
// Thread: one thread (the playback's).
#pragma once
#include <cstdint>
#include <deque>
#include <map>

#include "app/voice/voice_codec.h"
#include "app/voice/voice_frame.h"

namespace huddle::voice {

inline constexpr std::int64_t kMinTargetDelayUs = 4'000;
inline constexpr std::int64_t kInitialTargetDelayUs = 20'000;  // before anything is known
inline constexpr std::int64_t kJitterMarginUs = 2'000;
inline constexpr std::int64_t kTargetShrinkUsPerPop = 100;  // 10 ms per second
inline constexpr std::size_t kJitterWindowFrames = 200;     // 2 s of arrivals
inline constexpr std::int64_t kJitterWindowUs = 2'000'000;
inline constexpr int kLossMemoryPops = 300;                 // 3 s
inline constexpr int kDropIntervalPops = 10;
inline constexpr int kIdlePops = 30;

// The constants above, for a caller that compares settings (huddle-bench runs the ones before
// the delay work beside these).
struct JitterTuning {
  std::int64_t minTargetUs = kMinTargetDelayUs;
  std::int64_t initialTargetUs = kInitialTargetDelayUs;
  std::int64_t marginUs = kJitterMarginUs;
  int percentile = 99;
  bool fecFrameAlways = false;  // hold a frame for FEC even when nothing is lost
};

enum class PlayResult { Silent, Played, Recovered, Concealed };

struct JitterStats {
  std::uint64_t received = 0;   // accepted into the buffer
  std::uint64_t duplicate = 0;  // already buffered
  std::uint64_t late = 0;       // behind the playout point
  std::uint64_t overflow = 0;   // too far ahead, or the buffer full
  std::uint64_t played = 0;
  std::uint64_t recovered = 0;  // rebuilt from the next frame's FEC
  std::uint64_t concealed = 0;  // Opus PLC (losses, holds, gaps)
  std::uint64_t skipped = 0;    // dropped to bring the delay down
};

class JitterBuffer {
 public:
  JitterBuffer() = default;
  explicit JitterBuffer(const JitterTuning& tuning)
      : m_tuning(tuning), m_targetUs(tuning.initialTargetUs), m_desiredUs(tuning.initialTargetUs) {}
  // A frame that arrived at `nowUs`. False if dropped (counted in stats()).
  bool push(VoiceFrame frame, std::int64_t nowUs);
  // The next 10 ms of this speaker at `nowUs`, decoded by `decoder` (the speaker's own).
  PlayResult pop(std::int64_t nowUs, VoiceDecoder& decoder, PcmFrameOut out);

  std::int64_t targetDelayUs() const { return m_targetUs; }
  // The playout delay of the last frame played (see above).
  std::int64_t delayUs() const { return m_delayUs; }
  // A frame was lost lately (the target holds one more frame for FEC).
  bool lossy() const { return m_sinceLoss < kLossMemoryPops; }
  std::size_t buffered() const { return m_frames.size(); }
  bool playing() const { return m_playing; }
  const JitterStats& stats() const { return m_stats; }

 private:
  struct Entry {
    VoiceFrame frame;
    std::int64_t arrivalUs = 0;
  };
  void noteTransit(std::int64_t transitUs, std::int64_t nowUs);
  void updateDesired();
  void noteLoss();
  std::int64_t minTransit() const;
  std::int64_t delayOf(std::uint32_t timestamp, std::int64_t nowUs) const;
  void resync(bool forgetJitter);

  JitterTuning m_tuning;
  std::map<std::uint32_t, Entry> m_frames;  // by timestamp
  struct Transit {
    std::int64_t atUs = 0;
    std::int64_t transitUs = 0;
  };
  std::deque<Transit> m_transits;  // the window's arrivals
  std::int64_t m_targetUs = kInitialTargetDelayUs;
  std::int64_t m_desiredUs = kInitialTargetDelayUs;  // what the window asks for now
  std::int64_t m_delayUs = 0;
  bool m_playing = false;
  std::uint32_t m_next = 0;  // timestamp to play next
  int m_idle = 0;
  bool m_havePlayed = false;       // since the last resync
  std::uint32_t m_lastSequence = 0;  // of the last frame decoded
  int m_sinceDrop = kDropIntervalPops;
  int m_sinceLoss = kLossMemoryPops;
  JitterStats m_stats;
};

}  // namespace huddle::voice
