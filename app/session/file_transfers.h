// A participant's files in the chat, both ways, on its chat connection: what it offers (the
// file stays where it is; each piece is read when a receiver asks for it) and what it is
// offered (accepted files arrive as a hidden ".NAME.part" beside their final place, their
// SHA-256 is checked, and only then do they get their final, unique name). A receiver asks
// for its pieces itself, at most kFileWindowChunks ahead; a sender keeps at most
// kFileSendQueueBytes of pieces queued, so chat never waits long behind a file. A receive cut
// by a lost connection keeps its .part and goes on from where it stopped once the file is
// offered again (after a reconnect the host replays open offers, and a sender offers again
// what was still open). A paused receive holds no open file; it expires (its .part removed)
// after kPausedReceiveExpiryUs. An offer's SHA-256 is read on a worker thread: the offer shows
// as Preparing (with progress) and goes out when it is ready. The SessionController owns one and hands it each new chat
// connection; the faces read snapshots and say accept, decline, offer.
// Thread: the public methods on the owner's thread; the chat connection's reader and writer
// threads call in through the sink given to each connection. State under one mutex.
#pragma once
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "net/chat_client.h"
#include "net/wire/file_messages.h"

namespace huddle::session {

struct IncomingFile {
  enum class State { Offered, Receiving, Paused, Done, Declined, Failed };
  std::uint32_t id = 0;  // ours, for accept/decline
  std::string from;
  std::string name;      // as offered
  std::uint64_t size = 0;
  std::uint64_t received = 0;
  State state = State::Offered;
  std::string path;      // Done: where it is now
  std::string error;     // Failed: why
};

struct OutgoingFile {
  enum class State { Offered, Closed, Cancelled, Refused, Preparing };  // Preparing: its SHA-256 is being read
  struct Receiver {
    std::string name;
    std::uint64_t sent = 0;  // bytes sent to it so far
    std::string status;      // "receiving", "received", "declined", "failed: ..."
  };
  std::uint32_t id = 0;
  std::string path;
  std::string name;
  std::string to;  // empty: everyone
  std::uint64_t size = 0;
  std::uint64_t prepared = 0;  // Preparing: bytes read for its SHA-256 so far
  State state = State::Offered;
  std::string error;
  std::map<std::uint32_t, Receiver> receivers;  // by participant id
};

// A line for the chat log.
struct FileNote {
  std::string text;
  std::uint32_t offerId = 0;  // an offer to us: its IncomingFile id (the window shows buttons)
  bool error = false;
};

class FileTransfers : public std::enable_shared_from_this<FileTransfers> {
 public:
  static std::shared_ptr<FileTransfers> create() { return std::shared_ptr<FileTransfers>(new FileTransfers()); }
  // A paused receive (its sender or our connection gone) is given up after this long.
  static constexpr std::int64_t kPausedReceiveExpiryUs = 10 * 60 * 1'000'000ll;

  // Stops the hashing worker (joined; an offer still being prepared is not made), removes
  // what did not finish arriving (its .part files) and closes every file.
  ~FileTransfers();
  FileTransfers(const FileTransfers&) = delete;
  FileTransfers& operator=(const FileTransfers&) = delete;

  // A chat connection joined as participant `selfId`: file messages go through it from now
  // on; what we still offer is offered again on it.
  void attach(net::ChatClient& client, std::uint32_t selfId);
  // It is lost (or we leave): nothing more goes through it; receives under way pause.
  void detach();

  // Offers the regular file at `path` to everyone (`to` empty) or one person; "" or why not.
  // Returns at once: its SHA-256 is read on a worker thread (the offer is Preparing meanwhile)
  // and the offer goes out when it is ready.
  std::string offer(const std::string& path, const std::string& to);
  // Accepts an offer into `dir` (created if missing); "" or why not.
  std::string accept(std::uint32_t id, const std::string& dir);
  void decline(std::uint32_t id);
  // Stops offering one of ours (or preparing it).
  void cancelOffer(std::uint32_t id);
  // Every offer from now on is accepted into `dir` (the terminal's --accept-files).
  void acceptAllInto(std::string dir);

  // Queues pieces if the connection has room (a drained signal missed) and gives up receives
  // paused for kPausedReceiveExpiryUs; the owner's tick.
  void tick(std::int64_t nowUs);
  // Stops the hashing worker and waits for it (it stops within one block read); idempotent.
  void shutdown();
  // Tests: called on the worker after each block read for a SHA-256 (bytes read so far).
  void setHashStepForTest(std::function<void(std::uint64_t)> step);
  bool stopping() const;
  std::vector<FileNote> takeNotes();
  std::vector<IncomingFile> incoming() const;
  std::vector<OutgoingFile> outgoing() const;
  // A receive runs, or an offer of ours is being taken or has not been answered by anyone.
  bool busy() const;

 private:
  FileTransfers() = default;
  struct Sink;
  struct In {
    IncomingFile pub;
    std::uint64_t transferId = 0;
    std::uint32_t fromId = 0;
    wire::Sha256 sha256{};
    std::string dir, partPath;
    int fd = -1;                      // open while Receiving only
    std::uint64_t partDev = 0, partIno = 0;  // the .part we made (a paused one is checked on reopening)
    std::int64_t pausedSinceUs = -1;  // Paused: the first tick that saw it
    void* hash = nullptr;     // EVP_MD_CTX of what arrived, in order
    std::uint64_t asked = 0;  // pieces asked for up to here
  };
  struct Out {
    OutgoingFile pub;
    std::uint32_t offerId = 0;
    std::uint64_t transferId = 0;
    wire::Sha256 sha256{};
    int fd = -1;
  };
  struct HashJob {
    std::uint32_t id = 0;  // m_out's
    int fd = -1;           // its own descriptor (the offer's may be closed by a cancel meanwhile)
    std::uint64_t size = 0;
  };
  struct Ask {
    std::uint64_t transferId = 0;
    std::uint32_t peerId = 0;
    std::uint64_t offset = 0;
    std::uint32_t length = 0;
  };

  void onFrame(std::uint64_t generation, const wire::Frame& frame);
  void onDrained(std::uint64_t generation);
  void detachLocked();
  // The rest must hold m_mutex.
  void offeredLocked(const wire::FileOffered& m);
  void requestLocked(const wire::FileRequest& m);
  void chunkLocked(const wire::FileChunk& m);
  void statusLocked(const wire::FileStatus& m);
  std::string acceptLocked(In& in, const std::string& dir);
  void askMoreLocked(In& in);
  void finishLocked(In& in);
  void failLocked(In& in, const std::string& why, bool tellHost);
  void closeInLocked(In& in, bool removePart);
  void pauseLocked(In& in);
  std::string reopenPartLocked(In& in);
  void hashLoop();
  void preparedLocked(Out& out, bool ok, const wire::Sha256& sha);
  void serveLocked();
  void sendOfferLocked(Out& out);
  template <typename Msg>
  bool sendLocked(const Msg& msg);
  void noteLocked(std::string text, bool error = false, std::uint32_t offerId = 0);
  In* inByTransferLocked(std::uint64_t transferId);
  Out* outByTransferLocked(std::uint64_t transferId);

  mutable std::mutex m_mutex;
  net::ChatClient* m_client = nullptr;  // while attached
  std::uint64_t m_generation = 0;       // bumped by attach/detach: old connections are ignored
  std::uint32_t m_selfId = 0;
  std::map<std::uint32_t, In> m_in;
  std::map<std::uint32_t, Out> m_out;
  std::vector<Ask> m_asks;  // pieces asked of us, in order
  std::vector<FileNote> m_notes;
  std::string m_autoDir;
  std::uint32_t m_nextInId = 1;
  std::uint32_t m_nextOfferId = 1;
  // The hashing worker: offers waiting for their SHA-256, in order.
  std::deque<HashJob> m_hashJobs;
  std::condition_variable m_hashCv;
  bool m_stopping = false;
  std::function<void(std::uint64_t)> m_hashStep;
  std::thread m_hasher;  // started by the first offer
};

// "1.5 MiB", "200 KiB", "12 bytes".
std::string fileSizeText(std::uint64_t bytes);

}  // namespace huddle::session
