// The host's relay of files in the chat, with no sockets and no file data kept: a transfer is
// the sender's offer and, per recipient, the pieces that recipient asked for and has not got
// yet (at most kFileWindowChunks). A receiver's FileRequest goes to the sender, the sender's
// FileChunk for that receiver comes back and goes on to it, checked against what was asked:
// the host holds at most a window of pieces per receiver (in its connection's queue), and a
// slow receiver asks less without slowing the others. Limits: the size cap, open offers per
// person and in all, files received at once per person, offers per minute.
// ChatHub owns one and calls it with the joined participants (who sent a frame, who is in
// the room) after its own lock is released.
// Thread: any; state under one mutex, frames handed to links after it is released.
#pragma once
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "net/peer_link.h"
#include "net/wire/file_messages.h"
#include "net/wire/frame_decoder.h"
#include "net/wire/messages.h"

namespace huddle::net {

struct FileHubConfig {
  std::uint64_t maxFileBytes = wire::kDefaultMaxFileBytes;
  std::size_t maxOffersPerPerson = wire::kMaxFileOffersPerPerson;
  std::size_t maxReceivesPerPerson = wire::kMaxFileReceivesPerPerson;
  std::size_t maxOpenOffers = wire::kMaxOpenFileOffers;
  std::size_t windowChunks = wire::kFileWindowChunks;
  double offerBurst = wire::kFileOfferBurst;
  double offersPerMinute = wire::kFileOffersPerMinute;
};

struct FileHubStats {
  std::size_t openOffers = 0;
  std::uint64_t offers = 0;          // accepted by the host
  std::uint64_t refused = 0;         // offers and requests refused (a limit, a bad name)
  std::uint64_t chunksRelayed = 0;
  std::uint64_t bytesRelayed = 0;
  std::size_t piecesInFlight = 0;    // asked for and not yet relayed, over every receiver
};

class FileHub {
 public:
  struct Member {
    std::uint32_t id = 0;
    std::string name;
    std::shared_ptr<PeerLink> link;
    // Its seat: the resume token its Welcome carried, which only it was told. A one-person
    // offer is tied to this, never to the name (someone else may take the name later).
    std::uint64_t token = 0;
  };

  explicit FileHub(FileHubConfig config = {});
  static bool isFileMessage(std::uint16_t type);

  // One file message from the joined participant `from`; `room` is everyone joined now (the
  // sender included). Returns "" if handled (refusals included: they are answered), else why
  // the stream is broken (a malformed or unasked-for message): the caller drops the peer.
  std::string handle(const Member& from, const wire::Frame& frame, const std::vector<Member>& room, std::int64_t nowUs);
  // A participant joined: it is told of the open offers meant for everyone, and of those
  // meant for it alone if it came back to its seat (`resumedFrom`: the token its Hello
  // showed, its previous connection's), where a receiver resumes from them.
  void joined(const Member& member, std::uint64_t resumedFrom = 0);
  // A participant left: its offers end for their receivers (told why); what it was
  // receiving ends for the sender. An offer of its handled after this is refused.
  void left(std::uint32_t participantId);

  // How many departed participants are remembered (an offer racing its sender's leave).
  static constexpr std::size_t kRecentlyLeft = 4096;

  FileHubStats stats() const;

 private:
  struct Piece {
    std::uint64_t offset = 0;
    std::uint32_t length = 0;
  };
  struct Receive {
    Member receiver;
    bool fetching = false;      // asked for a piece at least once
    bool finished = false;      // done, declined, failed or gone
    std::vector<Piece> asked;   // in the order asked, at most the window
  };
  struct Transfer {
    Member sender;
    wire::FileOffered offer;
    std::uint64_t toToken = 0;  // a one-person offer: the seat it is for (its current token)
    std::map<std::uint32_t, Receive> receivers;  // by participant id
  };
  using Sends = std::vector<std::pair<std::shared_ptr<PeerLink>, base::Bytes>>;

  std::string handleOffer(const Member& from, const wire::FileOffer& offer, const std::vector<Member>& room,
                          std::int64_t nowUs, Sends& out);
  std::string handleRequest(const Member& from, const wire::FileRequest& req, Sends& out);
  std::string handleChunk(const Member& from, wire::FileChunk chunk, Sends& out);
  std::string handleStatus(const Member& from, const wire::FileStatus& status, Sends& out);
  // Ends a transfer whose recipients are all finished (the sender is told it is closed).
  void closeIfFinishedLocked(std::map<std::uint64_t, Transfer>::iterator it, Sends& out);
  static void flush(Sends& out);

  const FileHubConfig m_config;
  mutable std::mutex m_mutex;
  std::map<std::uint64_t, Transfer> m_transfers;
  struct Bucket {
    double tokens = 0;
    std::int64_t updatedUs = 0;
  };
  std::map<std::uint32_t, Bucket> m_offerBuckets;  // by participant id; forgotten when it leaves
  // Participants who left, the latest kRecentlyLeft (ids are never reused): a frame of theirs
  // handled after their leave (the chat hub calls us after its lock) changes nothing.
  std::set<std::uint32_t> m_left;
  std::deque<std::uint32_t> m_leftOrder;
  FileHubStats m_stats;
};

}  // namespace huddle::net
