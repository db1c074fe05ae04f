// The chat port's protocol core, with no sockets: handshake, unique names, server-stamped
// messages in one session-wide order, private messages, history replay, user list,
// heartbeats, rate limits and every bad-input rule. Fed bytes by a TcpServer (or a test),
// it answers through PeerLinks.
// Thread: receive() runs on each peer's reader thread; tick() on the watchdog; the rest on
// any thread. Room state is under one mutex (PeerTable's); what is sent, logged, written to
// the history file or told to the owner is done after it is released, in the room's order.
#pragma once
#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "net/base/clock.h"
#include "net/file_hub.h"
#include "net/history_log.h"
#include "net/peer_table.h"
#include "net/room_auth.h"
#include "net/voice_seal.h"
#include "net/wire/messages.h"
#include "net/wire/reason.h"

namespace huddle::net {

struct ChatHubConfig {
  std::string hostName = "host";
  GuardLimits guard;  // handshake, partial-frame and heartbeat deadlines, pings, flood rate
  // A Hello carrying this token is the host's own user (shown with the host flag).
  std::uint64_t hostToken = 0;
  std::size_t historyMessages = wire::kHistoryMessages;
  std::size_t maxParticipants = wire::kDefaultParticipants;  // the host included
  double chatRatePerSec = wire::kChatRatePerSec;
  double chatBurst = wire::kChatBurst;
  // Told (after the hub's lock is released) when a participant leaves, so its screen
  // connections go too.
  std::function<void(std::uint32_t participantId)> onLeave;
  // A voice datagram a participant sent over its chat connection (UDP did not get through);
  // called on that participant's reader thread, no lock held. Null: such frames are dropped.
  std::function<void(std::uint32_t participantId, std::vector<std::uint8_t> datagram)> onVoice;
  // A room password: newcomers (not the host's own user) must prove they know K.
  bool passwordRequired = false;
  KdfParams kdf;
  RoomKey roomKey{};
  // Failed proofs: every failure is answered after the same delay; this many from one
  // address lock it out, for lockoutUs, doubling each time.
  std::int64_t authFailureDelayUs = wire::kAuthFailureDelayUs;
  int maxAuthFailures = wire::kMaxAuthFailures;
  std::int64_t lockoutUs = wire::kLockoutUs;
  std::int64_t maxLockoutUs = wire::kMaxLockoutUs;
  // Many failures from everywhere (a distributed guesser): over this many in a minute, every
  // proof answer, right or wrong, comes this much later still.
  int busyFailuresPerMinute = wire::kBusyFailuresPerMinute;
  std::int64_t busyFailureExtraDelayUs = wire::kBusyFailureExtraDelayUs;
  std::size_t maxLockoutEntries = wire::kMaxLockoutEntries;
  // Join churn: joins from one address and resumes of one seat, each a token bucket (burst,
  // then per minute); the host's own user is exempt.
  double joinBurstPerAddress = wire::kJoinBurstPerAddress;
  double joinsPerAddressPerMinute = wire::kJoinsPerAddressPerMinute;
  double joinBurstPerSeat = wire::kJoinBurstPerSeat;
  double joinsPerSeatPerMinute = wire::kJoinsPerSeatPerMinute;  // full: the entry failed longest ago goes
  // The monotonic clock for join times, lockouts and join rates (tests set their own).
  std::int64_t (*monoClock)() = &base::monoUs;
  // Files in the chat: the relay's caps (the size cap is the host's --max-file-size).
  FileHubConfig files;
  // Keep what everyone saw in this append-only file and show it again after a restart
  // (empty: history lives in memory only).
  std::string historyPath;
};

struct ChatHubStats {
  std::size_t participants = 0;
  std::size_t pending = 0;  // handshakes under way (not those already refused or evicted)
  std::uint64_t messagesRelayed = 0;
  std::size_t joinRateEntries = 0;  // addresses and seats whose join rate is remembered
  std::array<std::uint64_t, static_cast<std::size_t>(wire::Reason::Count)> closedByReason{};
};

struct ChatPeer;  // one connection's state (chat_hub.cpp)
struct ScreenSeat;  // net/screen_hub.h
extern template class PeerTable<ChatPeer>;  // instantiated in chat_hub.cpp, where ChatPeer is known

class ChatHub : public PeerTable<ChatPeer> {
 public:
  explicit ChatHub(ChatHubConfig config);
  // With a history file: reads it back (call before serving). False with `error` if the file
  // cannot be used; `warning` says what a damaged tail lost.
  bool loadHistory(std::string& warning, std::string& error);
  ~ChatHub() override;

  // Says goodbye to everyone ("host ended the session") and refuses newcomers.
  void shutdown(const std::string& reason);
  // Removes a participant by name at once (out of the user list, screens closed, told why);
  // they may join again. False if nobody has that name.
  bool kick(const std::string& name, const std::string& why);
  // Kicks, and refuses that participant's address for the rest of the session (the host's
  // own user is never refused). False if nobody has that name.
  bool ban(const std::string& name, const std::string& why);
  // Changes the room password at once (or removes it: `required` false). Participants stay;
  // newcomers need the new one; anyone caught proving the old one is told it changed (not
  // counted as a wrong guess).
  void setRoomKey(bool required, const KdfParams& kdf, const RoomKey& key);
  // Marks a participant as sharing a screen (shown in the user list).
  void setSharing(std::uint32_t participantId, bool sharing);
  // The screen port told to everyone who joins (set once the screen server listens).
  void setScreenPort(std::uint16_t port);
  // Looks up a joined participant by the token its Welcome carried (screen-port login).
  bool findByToken(std::uint64_t token, ScreenSeat& seat) const;
  // The voice port told to everyone who joins (set once the voice relay listens).
  void setVoicePort(std::uint16_t port);
  // The voice keys of a joined participant (net/voice_hub.h); false if there is none or its
  // connection has no TLS.
  bool findVoiceKeys(std::uint32_t participantId, VoiceKeys& keys, std::uint32_t& ipv4) const;
  // Sends a voice datagram to a joined participant over its chat connection; false if there
  // is none.
  bool sendVoice(std::uint32_t participantId, std::vector<std::uint8_t> datagram);

  std::vector<wire::UserInfo> users() const;
  ChatHubStats stats() const;
  FileHubStats fileStats() const { return m_files.stats(); }

 private:
  using PeerPtr = std::shared_ptr<ChatPeer>;
  // PeerTable's hooks.
  PeerPtr makePeerLocked(PeerId id, std::shared_ptr<PeerLink> link, std::int64_t nowUs) override;
  bool pendingLocked(const ChatPeer& peer) const override;
  bool admittedLocked(const ChatPeer& peer) const override;
  void handleFrame(const PeerPtr& peer, const wire::Frame& frame, std::int64_t nowUs) override;
  void detachedLocked(ChatPeer& peer, wire::Reason reason) override;
  std::int64_t tickLocked(ChatPeer& peer, std::int64_t nowUs) override;

  void handleHello(const PeerPtr& peer, const wire::Frame& frame);
  void handleProof(const PeerPtr& peer, const wire::Frame& frame, std::int64_t nowUs);
  void handleSay(const PeerPtr& peer, const std::string& to, const std::string& text);
  void handleFile(const PeerPtr& peer, const wire::Frame& frame, std::int64_t nowUs);
  bool removeByName(const std::string& name, const std::string& why, bool banAddress);

  // The rest must hold m_mutex.
  // Lets a greeted (and, with a password, proven) peer into the room.
  void admitLocked(const PeerPtr& peer, const wire::Hello& hello);
  // Takes a joined participant out of the room (leave event, user list, onLeave).
  void leaveRoomLocked(ChatPeer& peer, wire::Reason reason);
  // Stamps, records (unless `keep` is false: live only) and delivers one event to everyone joined.
  void broadcastLocked(wire::ChatEvent event, bool keep = true);
  void broadcastUsersLocked();
  std::string uniqueNameLocked(const std::string& wanted) const;
  FileHub::Member fileMemberLocked(const ChatPeer& peer) const;
  bool seatedTokenLocked(std::uint64_t token) const;
  std::vector<wire::UserInfo> usersLocked() const;

  ChatHubConfig m_config;  // (m_mutex) for what setRoomKey() changes
  std::set<std::uint32_t> m_bannedIpv4;
  struct Lockout {
    int failures = 0;
    std::int64_t lockedUntilUs = 0;
    std::int64_t nextLockUs = 0;
    std::uint64_t lastFailure = 0;  // m_failureSerial at its last failure: the oldest makes room
  };
  std::map<std::uint32_t, Lockout> m_lockouts;  // by IPv4
  struct JoinBucket {
    double tokens = 0;
    std::int64_t updatedUs = 0;
  };
  // Takes one join from `bucket` (made full if new); false if it has none left.
  static bool takeJoin(std::map<std::uint64_t, JoinBucket>& buckets, std::uint64_t key, double burst, double perMinute,
                       std::int64_t nowUs);
  std::map<std::uint64_t, JoinBucket> m_joinsByAddress;  // by IPv4
  std::map<std::uint64_t, JoinBucket> m_joinsBySeat;     // by the token that resumes a seat
  std::uint32_t m_keyGeneration = 0;            // bumped by each setRoomKey()
  std::int64_t m_failureWindowStartUs = 0;      // failures from all addresses, per window
  int m_failuresInWindow = 0;
  std::uint64_t m_failureSerial = 0;            // counts failures, to order the lockout entries
  // Shared with the steps that send and record them after the lock.
  std::deque<std::shared_ptr<const wire::ChatEvent>> m_history;
  ChatHistoryLog m_historyLog;  // written only by queued steps (one at a time), read by loadHistory()
  std::uint32_t m_nextParticipantId = 1;
  std::uint64_t m_sessionId = 0;  // random, told in every Welcome
  std::uint64_t m_nextSeq = 1;
  std::uint16_t m_screenPort = 0;
  std::uint16_t m_voicePort = 0;
  ChatHubStats m_stats;
  FileHub m_files;  // its own lock; called with none of ours held
};

}  // namespace huddle::net
