#include "net/connection.h"

#include <algorithm>
#include <chrono>
#include <thread>
#include <utility>
#include <vector>

#include "net/base/clock.h"
#include "net/base/log.h"

namespace huddle::net {

namespace {
constexpr const char* kTag = "net/conn";
constexpr int kReadWaitMs = 1000;  // the reader's wait for bytes, between looks at the close flag
constexpr int kReadWaitNoFdMs = 100;  // the same for a socket whose fd is not known (no shutdown)
constexpr int kRecvChunk = 64 * 1024;
constexpr std::size_t kCoalesceBytes = 64 * 1024;  // small frames are merged into one send
// A blocking send returns only once all it was given is in the kernel: large sends go in
// pieces this big, so the stall timer sees each one as progress.
constexpr std::size_t kSendPieceBytes = 64 * 1024;
}  // namespace

Connection::Connection(std::unique_ptr<TcpSocket> socket, Options options)
    : m_socket(std::move(socket)), m_options(options) {}

Connection::~Connection() {
  close(wire::Reason::Shutdown, "connection destroyed");
  bool loopReading = false;
  if (m_readLoop) {
    std::lock_guard lock(m_mutex);
    loopReading = !m_loopReadsEnded;  // once ended, the loop (which may be gone) is not touched
  }
  if (loopReading) {
    // Closed: nothing more is read. The writer need not wait for the loop to see the close
    // (which it never would if this runs on the loop's own thread).
    m_readLoop->remove(this);
    std::lock_guard lock(m_mutex);
    m_loopReadsEnded = true;
    m_cv.notify_all();
  }
  join();
}

void Connection::setTls(std::unique_ptr<TlsEngine> tls) { m_tls = std::move(tls); }

bool Connection::exportKeyingMaterial(const std::string& label, std::span<std::uint8_t> out) const {
  if (!m_tls) return false;
  std::lock_guard tlsLock(m_tlsMutex);
  return m_tls->handshakeDone() && m_tls->exportKeyingMaterial(label, out);
}

bool Connection::peerKey(Fingerprint& out) const {
  if (!m_tls) return false;
  std::lock_guard tlsLock(m_tlsMutex);
  if (!m_tls->handshakeDone()) return false;
  out = m_tls->peerFingerprint();
  return true;
}

bool Connection::start(Handler* handler) {
  m_handler = handler;
  {
    std::lock_guard lock(m_mutex);
    m_started = true;
  }
  if (m_tls) {
    std::lock_guard tlsLock(m_tlsMutex);
    m_tls->start();  // a client's first flight; nothing for a server (its writer sleeps on)
    std::lock_guard lock(m_mutex);
    m_tlsOutput = m_tls->hasCiphertext();
  }
  if (m_options.socketSendBufferBytes > 0) m_socket->setSendBuffer(m_options.socketSendBufferBytes);
  if (m_options.readLimitBytesPerSec > 0) m_socket->setReceiveBuffer(16 * 1024);
  // A shared loop reads when there is one and nothing needs a thread of its own. It may
  // call onReadable() at once: the writer, started next, finds whatever that queued.
  if (m_options.readLoop && m_options.readLimitBytesPerSec == 0 && m_socket->fd() >= 0 && m_options.readLoop->running()) {
    m_loopBuf.resize(kRecvChunk);
    m_readLoop = m_options.readLoop;
    if (!m_readLoop->add(m_socket->fd(), this)) {
      HLOG_WARN(kTag, "%s: the read loop refused the socket: reading on a thread of its own",
                m_socket->peerAddress().c_str());
      m_readLoop = nullptr;
    }
  }
  try {
    // A throw on either thread ends this connection, never the process: the writer's is
    // turned into a close (the reader then finishes as usual), the reader's into its own end.
    // With a read loop the writer makes the last calls, after a throw too.
    m_writer = base::Worker(
        "conn-write",
        [this] {
          writerLoop();
          if (m_readLoop) finishAfterLoopReads();
        },
        [this](const std::string& what) {
          HLOG_ERROR(kTag, "%s: writer: %s", m_socket->peerAddress().c_str(), what.c_str());
          close(wire::Reason::Internal, "writer: " + what);
          if (m_readLoop) finishAfterLoopReads();
        });
    if (!m_readLoop) {
      m_reader = base::Worker(
          "conn-read",
          [this] {
            auto [reason, detail] = readLoop();
            finishReading(reason, detail);
          },
          [this](const std::string& what) {
            HLOG_ERROR(kTag, "%s: reader: %s", m_socket->peerAddress().c_str(), what.c_str());
            finishReading(wire::Reason::Internal, "reader: " + what);
          });
    }
  } catch (const std::system_error&) {
    close(wire::Reason::Resource, "cannot start connection threads");
    if (m_readLoop) {
      m_readLoop->remove(this);  // no call of the loop's for it after this
      std::lock_guard lock(m_mutex);
      m_loopReadsEnded = true;  // the writer, if it started, may finish
      m_cv.notify_all();
    }
    m_writer.join();
    m_finished = true;
    return false;
  }
  return true;
}

bool Connection::setReason(wire::Reason reason, const std::string& detail) {
  if (m_reason != wire::Reason::None) return false;
  m_reason = reason;
  m_detail = detail;
  return true;
}

bool Connection::mayGoNowLocked(std::size_t size) const {
  return m_options.inlineSends && m_started && size <= m_options.inlineMaxBytes && !m_writerBusy && !m_inlineSending &&
         m_queue.empty() && m_urgent.empty() && m_carry.empty() && !m_tlsOutput && (!m_tls || m_tlsReady.load());
}

bool Connection::drainedLocked(std::size_t& tracked) {
  if (!m_queue.empty() || !m_urgent.empty() || !m_carry.empty() || m_hardClose) return false;
  tracked = std::exchange(m_trackedDone, 0);
  return true;
}

bool Connection::sendNow(const base::Bytes& frame, bool tracked, const base::Bytes& first) {
  // Until this call is over (its onDrained() included), onClosed() waits: it is the last call.
  // A throw part way (an allocation) leaves the socket to the writer and closes.
  struct Done {
    Connection& c;
    bool ownsFlag = true;  // until this send gives the socket back (another may take it then)
    ~Done() {
      bool failed = false, wake = false;
      {
        std::lock_guard lock(c.m_mutex);
        failed = ownsFlag && std::exchange(c.m_inlineSending, false);
        --c.m_inlineCalls;
        // Who may wait for this: a closer, for the last inline call; the writer, for the
        // socket a failed send gives back. Not the idle writer after every send: waking it
        // for nothing cost two context switches per frame and viewer (perf, 16 viewers).
        wake = failed || (c.m_hardClose && c.m_inlineCalls == 0);
      }
      if (wake) c.m_cv.notify_all();
      if (failed) {
        try {
          c.close(wire::Reason::Internal, "inline send failed");
        } catch (...) {
        }
      }
    }
  } done{*this};
  m_sendProgressUs = base::monoUs();
  base::ByteVec ciphertext;  // with TLS, or both frames joined without
  std::span<const std::uint8_t> bytes(frame->data(), frame->size());
  bool ok = true;
  if (m_tls) {
    std::lock_guard tlsLock(m_tlsMutex);
    ok = m_tls->updateKeysIfDue(base::monoUs()) == TlsEngine::Status::Ok &&
         (!first || m_tls->write(base::view(first)) == TlsEngine::Status::Ok) &&
         m_tls->write(bytes) == TlsEngine::Status::Ok;
    if (ok) ciphertext = m_tls->takeCiphertext();
    bytes = ciphertext;
  } else if (first) {
    ciphertext.reserve(first->size() + frame->size());
    ciphertext.insert(ciphertext.end(), first->begin(), first->end());
    ciphertext.insert(ciphertext.end(), frame->begin(), frame->end());
    bytes = ciphertext;
  }
  const long sent = !ok ? -1 : bytes.empty() ? 0 : m_socket->trySend(bytes.data(), bytes.size());
  if (sent > 0) m_bytesOut.fetch_add(static_cast<std::uint64_t>(sent), std::memory_order_relaxed);
  bool drained = false, wake = false;
  std::size_t trackedGone = 0;
  {
    std::lock_guard lock(m_mutex);
    if (sent >= 0 && static_cast<std::size_t>(sent) < bytes.size() && !m_hardClose)
      m_carry.assign(bytes.begin() + sent, bytes.end());  // the writer sends it first, blocking as it may
    m_inlineSending = false;
    done.ownsFlag = false;
    // Set here, before the writer may start: a rest keeps the stall timer running.
    if (m_carry.empty()) m_sendProgressUs = 0;
    if (tracked && sent >= 0 && !m_hardClose) (m_carry.empty() ? m_trackedDone : m_trackedCarry) += 1;
    drained = sent >= 0 && drainedLocked(trackedGone);
    wake = !m_carry.empty() || !m_queue.empty() || !m_urgent.empty() || m_flushThenClose || m_tlsOutput;
  }
  if (sent < 0) {
    closeSendFailed();
    return false;
  }
  if (wake) m_cv.notify_all();
  if (drained) {
    try {
      m_handler->onDrained(trackedGone);
    } catch (const std::exception& e) {
      HLOG_ERROR(kTag, "%s: drained: %s", m_socket->peerAddress().c_str(), e.what());
      close(wire::Reason::Internal, std::string("drained: ") + e.what());
    }
  }
  return true;
}

bool Connection::queueLocked(base::Bytes& frame, bool tracked) {
  if (m_queue.size() >= m_options.maxQueuedMessages ||
      frame->size() > m_options.maxQueuedBytes - std::min(m_queuedBytes, m_options.maxQueuedBytes))
    return false;
  m_queuedBytes += frame->size();
  m_trackedQueued += tracked;
  m_queue.push_back(std::move(frame));
  return true;
}

bool Connection::queueUrgentLocked(base::Bytes& frame, std::uint64_t replaceKey) {
  if (replaceKey != 0) {
    // The waiting one goes; the newer one takes its turn after any urgent frame queued since
    // (a cursor shape must still arrive before the position that names it).
    auto it = std::find_if(m_urgent.begin(), m_urgent.end(), [&](const auto& u) { return u.first == replaceKey; });
    if (it != m_urgent.end()) {
      m_queuedBytes -= std::min(m_queuedBytes, it->second->size());
      m_urgent.erase(it);
      m_queuedBytes += frame->size();
      m_urgent.emplace_back(replaceKey, std::move(frame));
      return true;
    }
  }
  if (m_queue.size() + m_urgent.size() >= m_options.maxQueuedMessages ||
      frame->size() > m_options.maxQueuedBytes - std::min(m_queuedBytes, m_options.maxQueuedBytes))
    return false;
  m_queuedBytes += frame->size();
  m_urgent.emplace_back(replaceKey, std::move(frame));
  return true;
}

bool Connection::send(base::Bytes frame, bool tracked) { return sendAfterUrgent(nullptr, 0, std::move(frame), tracked); }

bool Connection::sendUrgent(base::Bytes frame, std::uint64_t replaceKey) {
  if (!frame) return false;
  {
    std::lock_guard lock(m_mutex);
    if (m_hardClose || m_flushThenClose) return false;
    if (mayGoNowLocked(frame->size())) {
      m_inlineSending = true;  // nothing waits: none to replace, none to go before
      ++m_inlineCalls;
    } else if (queueUrgentLocked(frame, replaceKey)) {
      m_cv.notify_all();
      return true;
    } else {
      frame = nullptr;
    }
  }
  if (frame) return sendNow(frame, false);
  close(wire::Reason::SlowConsumer, "outgoing queue full (" + std::to_string(queuedBytes()) + " bytes)");
  return false;
}

bool Connection::sendAfterUrgent(base::Bytes first, std::uint64_t replaceKey, base::Bytes frame, bool tracked) {
  if (!frame) return false;
  {
    std::lock_guard lock(m_mutex);
    if (m_hardClose || m_flushThenClose) return false;
    if (mayGoNowLocked(frame->size() + (first ? first->size() : 0))) {
      m_inlineSending = true;
      ++m_inlineCalls;
    } else if ((!first || queueUrgentLocked(first, replaceKey)) && queueLocked(frame, tracked)) {
      // Queued under one lock: the writer takes both in one batch, one write.
      m_cv.notify_all();
      return true;
    } else {
      frame = nullptr;
    }
  }
  if (frame) return sendNow(frame, tracked, first);
  close(wire::Reason::SlowConsumer, "outgoing queue full (" + std::to_string(queuedBytes()) + " bytes)");
  return false;
}

void Connection::takeUrgent(std::vector<base::Bytes>& out) {
  std::lock_guard lock(m_mutex);
  if (m_hardClose || !(!m_tls || m_tlsReady.load())) return;
  for (auto& [key, frame] : m_urgent) {
    m_queuedBytes -= std::min(m_queuedBytes, frame->size());
    out.push_back(std::move(frame));
  }
  m_urgent.clear();
}

void Connection::close(wire::Reason reason, const std::string& detail) {
  {
    std::lock_guard lock(m_mutex);
    setReason(reason, detail);
    if (m_hardClose) return;
    m_hardClose = true;
    m_queue.clear();
    m_urgent.clear();
    m_carry.clear();
    m_queuedBytes = 0;
    m_trackedQueued = m_trackedCarry = m_trackedDone = 0;
    m_closeRequested = true;
  }
  m_cv.notify_all();
  m_socket->shutdownBoth();
}

// A send fails with the TLS engine failed when the reader's feed() failed it (a peer speaking
// plaintext, a bad record) and this send took the engine before the reader's close(Tls): that
// close is E_TLS whoever makes it first, not an I/O error (the socket is fine).
void Connection::closeSendFailed() {
  std::string tlsError;
  if (m_tls) {
    std::lock_guard tlsLock(m_tlsMutex);
    if (m_tls->failed()) tlsError = m_tls->error();
  }
  if (!tlsError.empty()) close(wire::Reason::Tls, tlsError);
  else close(wire::Reason::IoError, "send failed");
}

void Connection::closeAfterFlush(wire::Reason reason, const std::string& detail) { sendFinal(nullptr, reason, detail); }

void Connection::sendFinal(base::Bytes frame, wire::Reason reason, const std::string& detail) {
  {
    std::lock_guard lock(m_mutex);
    setReason(reason, detail);
    if (m_hardClose || m_flushThenClose) return;
    if (frame) {
      m_queuedBytes += frame->size();
      m_queue.push_back(std::move(frame));
    }
    m_flushThenClose = true;
    m_flushRequestedUs = base::monoUs();
    m_closeRequested = true;
  }
  m_cv.notify_all();
}

bool Connection::checkDeadlines(std::int64_t nowUs) {
  std::int64_t since = m_sendProgressUs.load();
  // The peer acknowledging our bytes is progress too: with a large kernel send buffer a
  // blocked send wakes only when much of it has drained, long after the peer began reading.
  if (since != 0) {
    const std::uint64_t acked = bytesAcknowledged();
    if (acked > m_ackedAtCheck.load()) {
      m_ackedAtCheck = acked;
      // Not if the send has ended meanwhile (then `since` becomes what it is now).
      if (m_sendProgressUs.compare_exchange_strong(since, nowUs)) since = nowUs;
    }
  }
  if (since != 0 && nowUs - since > m_options.sendStallUs) {
    close(wire::Reason::SendStall, "no send progress for " + std::to_string((nowUs - since) / 1000) + " ms");
    return true;
  }
  bool lingerOver = false;
  {
    std::lock_guard lock(m_mutex);
    lingerOver = m_flushThenClose && !m_hardClose && nowUs - m_flushRequestedUs > m_options.lingerUs;
  }
  if (lingerOver) close(wire::Reason::Shutdown, "linger time over");
  return since != 0 || closing();
}

std::uint64_t Connection::bytesAcknowledged() const {
  const std::uint64_t sent = bytesOut();
  const long unacknowledged = m_socket->unacknowledgedBytes();
  if (unacknowledged < 0) return 0;
  return sent > std::uint64_t(unacknowledged) ? sent - std::uint64_t(unacknowledged) : 0;
}

std::size_t Connection::queuedBytes() const {
  std::lock_guard lock(m_mutex);
  return m_queuedBytes;
}

void Connection::join() {
  m_reader.join();
  m_writer.join();
}

std::pair<wire::Reason, std::string> Connection::readLoop() {
  std::vector<std::uint8_t> buf(kRecvChunk);
  base::ByteVec plaintext;
  wire::Reason reason = wire::Reason::None;
  std::string detail;
  // A read limit paces reads against a budget that grows at the limit's rate.
  const std::int64_t limit = m_options.readLimitBytesPerSec;
  const int chunk = limit > 0 ? static_cast<int>(std::clamp<std::int64_t>(limit / 50, 512, kRecvChunk)) : kRecvChunk;
  const std::int64_t pacedFromUs = base::monoUs();
  std::uint64_t pacedBytes = 0;
  while (true) {
    if (limit > 0) {
      const std::int64_t dueUs = pacedFromUs + static_cast<std::int64_t>(pacedBytes * 1'000'000 / limit);
      const std::int64_t waitUs = dueUs - base::monoUs();
      if (waitUs > 0) {
        std::this_thread::sleep_for(std::chrono::microseconds(std::min<std::int64_t>(waitUs, 100'000)));
        continue;  // re-checks the close flag at least every 100 ms
      }
    }
    {
      std::lock_guard lock(m_mutex);
      if (m_hardClose) break;
    }
    // A close() shuts the socket down, which ends this wait at once: the timeout is only a
    // backstop, long enough that an idle connection's reader is not woken ten times a second
    // (but short where the fd is not known and no shutdown can wake it).
    int ready = m_socket->waitReadable(m_socket->fd() >= 0 ? kReadWaitMs : kReadWaitNoFdMs);
    if (ready == 0) continue;
    if (ready < 0) {
      reason = wire::Reason::IoError;
      detail = "wait for data failed";
      break;
    }
    const int n = receiveOnce(buf, chunk, plaintext, false, reason, detail);
    if (n < 0) break;
    pacedBytes += static_cast<std::uint64_t>(n);
  }
  return {reason, detail};
}

int Connection::receiveOnce(std::vector<std::uint8_t>& buf, int chunk, base::ByteVec& plaintext, bool now,
                            wire::Reason& reason, std::string& detail) {
  const int n = now ? m_socket->recvNow(buf.data(), chunk) : m_socket->recv(buf.data(), chunk);
  if (n == TcpSocket::kNothingYet) return 0;
  if (n <= 0) {
    reason = n == 0 ? wire::Reason::IoEof : wire::Reason::IoError;
    detail = n == 0 ? "peer closed the connection" : "receive failed";
    return -1;
  }
  m_bytesIn.fetch_add(static_cast<std::uint64_t>(n), std::memory_order_relaxed);
  std::span<const std::uint8_t> received(buf.data(), static_cast<std::size_t>(n));
  if (m_tls) {
    plaintext.clear();
    if (!receiveTls(received, plaintext)) return -1;
    received = plaintext;
  }
  // After a flush-and-close, input is read only to see the peer's EOF.
  if (!m_closeRequested.load() && !received.empty()) m_handler->onReceive(received);
  return n;
}

bool Connection::onReadable() {
  {
    std::lock_guard lock(m_mutex);
    if (m_hardClose) {
      m_loopReadsEnded = true;  // closed meanwhile (its shutdown woke the loop): stop here
      m_cv.notify_all();
      return false;
    }
  }
  wire::Reason reason = wire::Reason::None;
  std::string detail;
  try {
    if (receiveOnce(m_loopBuf, kRecvChunk, m_loopPlaintext, true, reason, detail) >= 0) return true;
  } catch (const std::exception& e) {
    HLOG_ERROR(kTag, "%s: reader: %s", m_socket->peerAddress().c_str(), e.what());
    reason = wire::Reason::Internal;
    detail = std::string("reader: ") + e.what();
  }
  endLoopReads(reason, detail);
  return false;
}

void Connection::onDropped(const std::string& why) { endLoopReads(wire::Reason::Internal, why); }

void Connection::endLoopReads(wire::Reason reason, const std::string& detail) {
  close(reason == wire::Reason::None ? wire::Reason::Shutdown : reason, detail);
  // Notified under the lock: once the writer sees the flag it may finish, and the owner
  // destroy this connection.
  std::lock_guard lock(m_mutex);
  m_loopReadsEnded = true;
  m_cv.notify_all();
}

void Connection::finishReading(wire::Reason reason, const std::string& detail) {
  if (m_finishing.exchange(true)) {
    // The first attempt threw part way (the handler has been told, or its onClosed threw):
    // make sure the writer is told to stop, and let the owner reap the connection.
    close(wire::Reason::Internal, detail);
    m_finished = true;
    return;
  }
  close(reason == wire::Reason::None ? wire::Reason::Shutdown : reason, detail);
  m_writer.join();
  finish();
}

void Connection::finishAfterLoopReads() {
  if (m_finishing.exchange(true)) {
    m_finished = true;  // the first attempt threw part way (see finishReading)
    return;
  }
  {
    // The writer is done once closed, or after a flush-and-close: reading goes on until the
    // peer's EOF or the linger deadline's close, whose shutdown the loop sees.
    std::unique_lock lock(m_mutex);
    m_cv.wait(lock, [&] { return m_loopReadsEnded; });
  }
  m_readLoop->remove(this);  // a call of the loop's still under way for us is over after this
  finish();
}

void Connection::finish() {
  wire::Reason finalReason;
  std::string finalDetail;
  {
    // A send on another thread (none starts once closed) finishes, its onDrained() too, first.
    std::unique_lock lock(m_mutex);
    m_cv.wait(lock, [&] { return m_inlineCalls == 0; });
    finalReason = m_reason;
    finalDetail = m_detail;
  }
  try {
    m_handler->onClosed(finalReason, finalDetail);
  } catch (const std::exception& e) {
    HLOG_ERROR(kTag, "onClosed: %s", e.what());
  } catch (...) {
    HLOG_ERROR(kTag, "onClosed: an exception that is not a std::exception");
  }
  m_finished = true;
}

bool Connection::receiveTls(std::span<const std::uint8_t> ciphertext, base::ByteVec& plaintext) {
  TlsEngine::Status status;
  bool ready, output;
  std::string error;
  {
    std::lock_guard tlsLock(m_tlsMutex);
    status = m_tls->feed(ciphertext, plaintext);
    ready = m_tls->handshakeDone();
    output = m_tls->hasCiphertext();
    if (status == TlsEngine::Status::Failed) error = m_tls->error();
  }
  if (status == TlsEngine::Status::Failed) {
    close(wire::Reason::Tls, error);
    return false;
  }
  bool justSecured = false;
  {
    // Both flags change under the writer's lock before it is woken, so it cannot miss that
    // queued frames may now go.
    std::lock_guard lock(m_mutex);
    // The writer wakes only if the engine answered (handshake flights, alerts): not for
    // every record of application data, which is most of what comes in.
    if (output) m_tlsOutput = true;
    justSecured = ready && !m_tlsReady.exchange(true);
  }
  if (output || justSecured) m_cv.notify_all();
  if (justSecured) m_handler->onSecured();
  return true;
}

bool Connection::sendTls(const std::vector<base::Bytes>& batch) {
  {
    std::lock_guard tlsLock(m_tlsMutex);
    if (m_tls->updateKeysIfDue(base::monoUs()) != TlsEngine::Status::Ok) return false;
  }
  // One TLS write per run of small frames: fewer, fuller records (and far less latency
  // under load than a record per message). A large frame goes out on its own, with any
  // urgent frames queued meanwhile sent just before it.
  base::ByteVec merged;
  std::vector<base::Bytes> urgent;
  auto encryptAndSend = [&](const base::ByteVec* large) {
    base::ByteVec ciphertext;
    {
      std::lock_guard tlsLock(m_tlsMutex);
      if (!merged.empty() && m_tls->write(merged) != TlsEngine::Status::Ok) return false;
      if (large && m_tls->write(*large) != TlsEngine::Status::Ok) return false;
      ciphertext = m_tls->takeCiphertext();
    }
    merged.clear();
    return ciphertext.empty() || sendPieces(ciphertext.data(), ciphertext.size());
  };
  for (const auto& frame : batch) {
    if (frame->size() >= kCoalesceBytes) {
      urgent.clear();
      takeUrgent(urgent);
      for (const auto& u : urgent) merged.insert(merged.end(), u->begin(), u->end());
      if (!encryptAndSend(frame.get())) return false;
      continue;
    }
    if (merged.size() + frame->size() > kCoalesceBytes && !merged.empty()) {
      std::lock_guard tlsLock(m_tlsMutex);
      if (m_tls->write(merged) != TlsEngine::Status::Ok) return false;
      merged.clear();
    }
    merged.insert(merged.end(), frame->begin(), frame->end());
  }
  return encryptAndSend(nullptr);
}

bool Connection::sendPieces(const std::uint8_t* data, std::size_t size) {
  while (size > 0) {
    const std::size_t piece = std::min(size, kSendPieceBytes);
    if (!m_socket->sendAll(data, piece)) return false;
    m_bytesOut.fetch_add(piece, std::memory_order_relaxed);
    m_sendProgressUs = base::monoUs();  // the peer took this piece: progress, not the whole send, is timed
    data += piece;
    size -= piece;
  }
  return true;
}

void Connection::writerLoop() {
  std::vector<base::Bytes> batch;
  std::vector<std::uint8_t> merged;
  base::ByteVec carry;
  std::size_t trackedTaken = 0, trackedGone = 0;
  // Done with what it took (all of it went): whether onDrained() is due, with trackedGone.
  auto finishedSending = [&] {
    std::lock_guard lock(m_mutex);
    m_writerBusy = false;
    if (!m_hardClose) m_trackedDone += std::exchange(trackedTaken, 0);
    return drainedLocked(trackedGone);
  };
  while (true) {
    {
      std::unique_lock lock(m_mutex);
      // Without TLS, or once it is up, queued frames may go; before that only handshake output.
      auto framesMayGo = [&] { return !m_tls || m_tlsReady.load(); };
      // While another thread sends a frame at once (sendNow), the socket is its alone.
      m_cv.wait(lock, [&] {
        return m_hardClose ||
               (!m_inlineSending &&
                (m_tlsOutput || !m_carry.empty() ||
                 (framesMayGo() && (m_flushThenClose || !m_queue.empty() || !m_urgent.empty()))));
      });
      if (m_hardClose) break;
      bool tlsOutput = std::exchange(m_tlsOutput, false);
      if (framesMayGo() && m_queue.empty() && m_urgent.empty() && m_carry.empty() && m_flushThenClose && !tlsOutput) {
        lock.unlock();  // flush-and-close with nothing left: end our direction
        m_socket->shutdownSend();
        break;
      }
      batch.clear();
      carry = std::exchange(m_carry, {});  // a frame sendNow() began: its rest goes first
      trackedTaken = std::exchange(m_trackedCarry, 0);
      if (framesMayGo()) {
        trackedTaken += std::exchange(m_trackedQueued, 0);
        for (auto& [key, frame] : m_urgent) batch.push_back(std::move(frame));
        batch.insert(batch.end(), std::make_move_iterator(m_queue.begin()), std::make_move_iterator(m_queue.end()));
        m_urgent.clear();
        m_queue.clear();
        m_queuedBytes = 0;
      }
      m_writerBusy = true;
    }
    const bool tookFrames = !batch.empty() || !carry.empty();
    m_sendProgressUs = base::monoUs();
    bool ok = carry.empty() || sendPieces(carry.data(), carry.size());
    if (m_tls) {
      ok = ok && sendTls(batch);
      m_sendProgressUs = 0;
      if (!ok) {
        closeSendFailed();
        break;
      }
      if (finishedSending() && tookFrames) m_handler->onDrained(trackedGone);
      continue;
    }
    // Send outside the lock; merge runs of small frames so a burst costs one syscall.
    merged.clear();
    auto flushMerged = [&] {
      if (merged.empty()) return;
      ok = ok && sendPieces(merged.data(), merged.size());
      merged.clear();
    };
    std::vector<base::Bytes> urgent;
    for (const auto& frame : batch) {
      if (!ok) break;
      if (frame->size() >= kCoalesceBytes) {
        // Urgent frames queued while this batch went out go before the next large frame.
        urgent.clear();
        takeUrgent(urgent);
        for (const auto& u : urgent) merged.insert(merged.end(), u->begin(), u->end());
        flushMerged();
        ok = ok && sendPieces(frame->data(), frame->size());
      } else {
        if (merged.size() + frame->size() > kCoalesceBytes) flushMerged();
        merged.insert(merged.end(), frame->begin(), frame->end());
      }
    }
    flushMerged();
    m_sendProgressUs = 0;
    batch.clear();
    if (!ok) {
      close(wire::Reason::IoError, "send failed");
      break;
    }
    if (finishedSending() && tookFrames) m_handler->onDrained(trackedGone);
  }
}

}  // namespace huddle::net
