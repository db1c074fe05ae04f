// One TCP connection with exactly one reader and one writer thread: the reader hands raw
// bytes to a Handler (the socket-free protocol core), the writer sends what is queued. With
// Options::inlineSends, a frame sent while nothing waits and the writer is idle goes out on
// the sending thread at once, without blocking (encrypted and handed to the kernel as far as
// it takes it; the writer sends any rest): one wakeup less per frame and connection, which
// is most of what a viewer costs a host that sends each frame to many. Only one thread sends
// at a time. Closing is a flag plus shutdown(2), so neither thread can hang; a watchdog
// calls checkDeadlines() to cut off a peer that stops reading. With a TlsEngine, the reader
// decrypts before the Handler sees anything and the writer encrypts what it sends; the
// engine is used under its own lock, never held across a socket call. With Options::readLoop
// the connection has no reader thread: a shared ReadLoop reads it with many others, and the
// writer thread makes the last calls once reading is over. Either side throwing (a Handler's
// bug, an allocation) closes this connection alone with wire::Reason::Internal and a logged
// detail; the process and other connections go on.
// Thread: any thread may call send()/close().
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "net/base/bytes.h"
#include "net/base/worker.h"
#include "net/read_loop.h"
#include "net/socket.h"
#include "net/tls_engine.h"
#include "net/wire/limits.h"
#include "net/wire/reason.h"

namespace huddle::net {

class Connection : private ReadLoop::Reader {
 public:
  // onReceive() and onSecured() are called on the reader thread (or the read loop's), one at
  // a time; never while the connection holds a lock.
  struct Handler {
    virtual ~Handler() = default;
    // A throw from here closes the connection (Reason::Internal, "reader: ...").
    virtual void onReceive(std::span<const std::uint8_t> bytes) = 0;
    // Called once, after the reader, the writer and any send() on another thread (inlineSends,
    // its onDrained() included) are done with the connection: the last call a Handler gets
    // (a throw is only logged).
    virtual void onClosed(wire::Reason reason, const std::string& detail) = 0;
    // Called when a send finished and nothing is left queued: the moment a pull-based sender
    // may build the next update. `tracked`: how many frames sent with send(frame, true) have
    // gone to the kernel, whole, since the last call (0: only other frames went). A sender
    // waiting for a frame of its own goes by that count, not by the call: a frame another
    // thread sent drains the connection too, and its own may not have reached send() yet.
    // On the writer thread, or (inlineSends) on the thread whose send() just finished it,
    // after send() has done with the connection's locks. A throw closes the connection
    // (Reason::Internal, "writer: ..." or "drained: ...").
    virtual void onDrained(std::size_t tracked) { (void)tracked; }
    // Called where onReceive() is when the TLS handshake completed (frames queued before it
    // are sent from now on).
    virtual void onSecured() {}
  };

  // Inline sends take frames up to this size by default (Options::inlineMaxBytes).
  static constexpr std::size_t kInlineSendMaxBytes = 256 * 1024;

  struct Options {
    std::size_t maxQueuedMessages = wire::kMaxQueuedMessages;
    std::size_t maxQueuedBytes = wire::kMaxQueuedBytes;
    std::int64_t sendStallUs = wire::kSendStallUs;  // no send progress (no piece taken) for this long: drop
    std::int64_t lingerUs = wire::kLingerUs;        // after a flush-and-close, wait this long for EOF
    int socketSendBufferBytes = 0;          // SO_SNDBUF; 0 leaves the kernel's autotuning
    // Reads no faster than this (0: as fast as data comes), with a small receive buffer: a
    // slow link, for measuring how a host treats one (huddle --read-limit).
    std::int64_t readLimitBytesPerSec = 0;
    // A frame of at most kInlineSendMaxBytes sent while nothing is queued and the writer is
    // idle goes to the kernel on the calling thread (never blocking). Only for handlers whose
    // onDrained() may run on the thread that calls send() (the hubs: they send after their lock).
    bool inlineSends = false;
    // The largest frame sent inline (larger ones always go through the writer: their
    // encryption would hold up the caller).
    std::size_t inlineMaxBytes = kInlineSendMaxBytes;
    // Read on this shared loop instead of a reader thread of the connection's own (it must
    // outlive join()). Not with readLimitBytesPerSec, nor for a socket whose descriptor is
    // unknown: those keep their thread.
    ReadLoop* readLoop = nullptr;
  };

  Connection(std::unique_ptr<TcpSocket> socket, Options options);
  ~Connection() override;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Encrypts the connection with `tls` (set before start()).
  void setTls(std::unique_ptr<TlsEngine> tls);
  // The peer's key once the TLS handshake is done; false before, or without TLS.
  bool peerKey(Fingerprint& out) const;
  // The TLS exporter for `label` once the handshake is done; false before, or without TLS.
  bool exportKeyingMaterial(const std::string& label, std::span<std::uint8_t> out) const;
  // Starts the writer ("conn-write") and the reader ("conn-read", or the read loop's watch);
  // `handler` must outlive join().
  bool start(Handler* handler);
  // Queues a whole frame; false if closing or over the queue cap (the latter closes with
  // SlowConsumer: a peer that lets its queue fill is not keeping up). `tracked`: counted in
  // Handler::onDrained() once it has gone (never an urgent or final frame).
  bool send(base::Bytes frame, bool tracked = false);
  // Queues a small frame ahead of every frame not yet begun, and between the frames of a
  // batch being sent (never inside one: frames are whole on the wire). A nonzero
  // `replaceKey` replaces a waiting frame with that key (latest wins). Same caps as send().
  bool sendUrgent(base::Bytes frame, std::uint64_t replaceKey);
  // sendUrgent(first, replaceKey) (if `first` is set), then send(frame, tracked), in one write:
  // at once on an idle connection, else both queued together for the writer's next batch (a
  // frame's cursor with its tiles or update: one send, one wake of the peer, not two).
  bool sendAfterUrgent(base::Bytes first, std::uint64_t replaceKey, base::Bytes frame, bool tracked);
  // Closes now: queued data is dropped and both threads wake at once.
  void close(wire::Reason reason, const std::string& detail);
  // Sends what is queued, then ends the stream; stops reading the peer. Used for a reject
  // or "session ended" that the peer must get before the close.
  void closeAfterFlush(wire::Reason reason, const std::string& detail);
  // Queues `frame` (even over the queue cap: it is the last) and closes after it, with
  // `reason` recorded before the peer can read the frame and hang up.
  void sendFinal(base::Bytes frame, wire::Reason reason, const std::string& detail);
  // Watchdog: enforces the send-stall and linger deadlines. True while either is running (a
  // send under way, a close waiting): the watchdog looks again soon; false: nothing timed.
  bool checkDeadlines(std::int64_t nowUs);

  bool closing() const { return m_closeRequested.load(); }
  bool finished() const { return m_finished.load(); }
  // Joins both threads; never call from the connection's own threads.
  void join();

  const std::string& peerAddress() const { return m_socket->peerAddress(); }
  std::uint32_t peerIpv4() const { return m_socket->peerIpv4(); }
  std::uint64_t bytesIn() const { return m_bytesIn.load(std::memory_order_relaxed); }
  std::uint64_t bytesOut() const { return m_bytesOut.load(std::memory_order_relaxed); }
  std::size_t queuedBytes() const;
  // Bytes of ours the peer's TCP has acknowledged so far: never more than the true figure (the
  // count sent is read before the kernel's unacknowledged count), 0 if the kernel cannot say.
  std::uint64_t bytesAcknowledged() const;

 private:
  // Reads until the connection ends; returns why (the reason, if nothing else set one).
  std::pair<wire::Reason, std::string> readLoop();
  // One receive (waiting for it unless `now`) and its delivery to the handler: the bytes
  // read, 0 for none yet, or -1 when reading is over (`reason` and `detail` say why, unless a
  // close already did).
  int receiveOnce(std::vector<std::uint8_t>& buf, int chunk, base::ByteVec& plaintext, bool now,
                  wire::Reason& reason, std::string& detail);
  // The reader thread's last steps, also after a throw: close, wait for the writer, then
  // finish(). Runs once.
  void finishReading(wire::Reason reason, const std::string& detail);
  // The same on the writer thread when a read loop reads: once it has stopped reading this
  // connection, finish(). Runs once.
  void finishAfterLoopReads();
  // The last steps: wait for any send on another thread, tell the handler, mark finished.
  void finish();
  // ReadLoop::Reader: one receive, on the loop's thread; false once reading is over.
  bool onReadable() override;
  void onDropped(const std::string& why) override;
  // Loop reads are over: close, and let the writer thread finish.
  void endLoopReads(wire::Reason reason, const std::string& detail);
  void writerLoop();
  // Feeds received ciphertext to TLS; false if the session failed (the connection closes).
  bool receiveTls(std::span<const std::uint8_t> ciphertext, base::ByteVec& plaintext);
  // Sends `batch` (plaintext frames) through TLS, plus any handshake output.
  bool sendTls(const std::vector<base::Bytes>& batch);
  void closeSendFailed();  // E_TLS if the engine has failed, else E_IO_ERROR
  // Sends `size` bytes in pieces, marking progress after each one the kernel took.
  bool sendPieces(const std::uint8_t* data, std::size_t size);
  // Queue `frame` for the writer, in order or in the urgent lane (latest-wins by a nonzero
  // `replaceKey`), within the queue's caps; false (nothing queued) if over them. m_mutex held.
  bool queueLocked(base::Bytes& frame, bool tracked);
  bool queueUrgentLocked(base::Bytes& frame, std::uint64_t replaceKey);
  // Whether a frame of `size` bytes may be sent on the calling thread now (m_mutex held).
  bool mayGoNowLocked(std::size_t size) const;
  // Sends `frame` on the calling thread (m_inlineSending set and m_inlineCalls counted by the
  // caller): what the kernel does not take now is left to the writer, in order. Calls
  // onDrained() if all went.
  // `first`, if set, goes just before `frame` in the same write (it is not tracked).
  bool sendNow(const base::Bytes& frame, bool tracked, const base::Bytes& first = nullptr);
  // The tracked frames gone since the last onDrained(), taken for one if the queue is empty
  // (m_mutex held): whether onDrained() is due, and with what count.
  bool drainedLocked(std::size_t& tracked);
  // Moves the urgent frames waiting now into `out` (m_mutex not held by the caller).
  void takeUrgent(std::vector<base::Bytes>& out);
  // First reason wins; returns true if this call set it.
  bool setReason(wire::Reason reason, const std::string& detail);

  std::unique_ptr<TcpSocket> m_socket;
  Options m_options;
  Handler* m_handler = nullptr;
  base::Worker m_reader, m_writer;
  ReadLoop* m_readLoop = nullptr;          // the loop reading this connection, or null (a reader thread)
  std::vector<std::uint8_t> m_loopBuf;     // the loop's receive buffer and decrypted bytes for this
  base::ByteVec m_loopPlaintext;           // connection (touched on the loop's thread only)
  std::atomic<bool> m_finishing{false};  // finishReading() has begun

  mutable std::mutex m_mutex;  // guards the queue and the close state below
  std::condition_variable m_cv;
  std::deque<base::Bytes> m_queue;
  std::deque<std::pair<std::uint64_t, base::Bytes>> m_urgent;  // sendUrgent(): before m_queue
  std::size_t m_queuedBytes = 0;
  bool m_writerBusy = false;     // the writer took frames and is sending them
  bool m_inlineSending = false;  // another thread is sending a frame at once (sendNow)
  int m_inlineCalls = 0;         // threads in sendNow(), through its onDrained(): onClosed() waits
  // Tracked frames (send(frame, true)): in m_queue, whose rest m_carry is (0 or 1), and gone
  // since the last onDrained().
  std::size_t m_trackedQueued = 0, m_trackedCarry = 0, m_trackedDone = 0;
  bool m_started = false;        // start() ran: a handler to tell drained (sends before go to the writer)
  bool m_loopReadsEnded = false; // the read loop is done with this connection (or never took it)
  base::ByteVec m_carry;         // what sendNow() left unsent (ciphertext with TLS): the writer's first bytes
  bool m_hardClose = false;
  bool m_flushThenClose = false;
  std::int64_t m_flushRequestedUs = 0;
  wire::Reason m_reason = wire::Reason::None;
  std::string m_detail;

  std::unique_ptr<TlsEngine> m_tls;
  mutable std::mutex m_tlsMutex;            // guards m_tls calls (reader feeds, writer encrypts)
  std::atomic<bool> m_tlsReady{false};
  bool m_tlsOutput = false;         // (m_mutex) the engine has ciphertext for the writer

  std::atomic<bool> m_closeRequested{false};
  std::atomic<bool> m_finished{false};
  // While a send is under way: when it began or the peer last took a piece of it (0: idle).
  std::atomic<std::int64_t> m_sendProgressUs{0};
  std::atomic<std::uint64_t> m_ackedAtCheck{0};  // bytesAcknowledged() at the last checkDeadlines()
  std::atomic<std::uint64_t> m_bytesIn{0}, m_bytesOut{0};
};

}  // namespace huddle::net
