// The viewer's side of credits: when each goes back to the host. Pure (no clock, no
// sockets): the viewer's decode thread says when an update is decoded and asks what is due.
//
// Why. A credit goes back once its update is decoded (a viewer that decodes slowly is sent
// less). With many viewers, these small messages and the wakes that read them are near half
// of what each viewer costs the host a frame. So while updates come close together, every
// other credit is held until the next update is decoded and the two go in one message: half
// the messages. The host measures only the newest update a message answers
// (TierPolicy::acked), so a held credit does not read as a slow link.
// A credit is not held:
//  - when more updates wait to be decoded: a viewer behind answers at once, the host may be
//    waiting on it;
//  - when updates come far apart (over kCreditPairGapUs): a slow link the host paces sends the
//    next update only once this credit is back, and a quiet screen has no next update to pair;
//  - when the link is busy carrying them (an update took over half the time since the last to
//    come in): the host keeps such a link full with a second update behind the first, and a
//    held credit would leave it none to send;
//  - after a failed decode: the full refresh it asks for goes at once.
// A held credit goes back kCreditHoldUs after its decode at the latest (the screen went quiet);
// alone, the host reads its round trip with the hold in it: at most once a burst of updates,
// and then 50 ms of a drop threshold of 300 (net/screen_tiers.h).
// Thread: the caller's (the decode thread).
#pragma once
#include <cstdint>
#include <map>
#include <vector>

namespace huddle::net {

// Longest gap between two updates' arrivals that still pairs their credits: a 30 fps stream's
// frames with room for jitter. A link paced to one update in flight takes far longer (over
// TierPolicyConfig::queueTargetUs) per update.
inline constexpr std::int64_t kCreditPairGapUs = 40'000;
inline constexpr std::int64_t kCreditHoldUs = 50'000;

class CreditReturns {
 public:
  struct Due {
    std::uint32_t streamId = 0;
    std::uint64_t subscription = 0;  // as given to decoded()
    std::uint8_t credits = 0;
  };

  // An update, decoded.
  struct Decoded {
    std::uint32_t streamId = 0;
    std::uint64_t subscription = 0;  // which watch of the stream: the caller sends a held credit only to the same
    std::int64_t startedUs = 0, arrivedUs = 0;  // when its first and its last bytes came
    bool backlog = false;  // more updates wait to be decoded
    bool failed = false;   // its decode failed
  };
  // `update` is decoded at `nowUs`: the credits to send now (0: its credit is held).
  std::uint8_t decoded(const Decoded& update, std::int64_t nowUs);
  // Takes the held credits whose time is up at `nowUs`.
  std::vector<Due> due(std::int64_t nowUs);
  // When the next held credit is due (-1: none held).
  std::int64_t nextDueUs() const;
  // Credits held now, over every stream.
  std::size_t held() const;

 private:
  struct Stream {
    std::int64_t lastArrivedUs = -1;
    std::uint64_t subscription = 0;
    std::uint8_t held = 0;
    std::int64_t dueUs = 0;
  };
  std::map<std::uint32_t, Stream> m_streams;
};

}  // namespace huddle::net
