#include "net/connection.h"

#include <vector>

#include "net/base/clock.h"
#include "net/base/log.h"

namespace huddle::net {

namespace {
constexpr const char* kTag = "net/conn";
constexpr int kRecvChunk = 64 * 1024;
constexpr std::size_t kCoalesceBytes = 64 * 1024;  // small frames are merged into one send
}  // namespace

Connection::Connection(std::unique_ptr<TcpSocket> socket, Options options)
    : m_socket(std::move(socket)), m_options(options) {}

Connection::~Connection() {
  close(wire::Reason::Shutdown, "connection destroyed");
  join();
}

bool Connection::start(Handler* handler) {
  m_handler = handler;
  if (m_options.socketSendBufferBytes > 0) m_socket->setSendBuffer(m_options.socketSendBufferBytes);
  try {
    m_writer = std::thread([this] { writerLoop(); });
    m_reader = std::thread([this] { readerLoop(); });
  } catch (const std::system_error&) {
    close(wire::Reason::Resource, "cannot start connection threads");
    if (m_writer.joinable()) m_writer.join();
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

bool Connection::send(base::Bytes frame) {
  if (!frame) return false;
  {
    std::lock_guard lock(m_mutex);
    if (m_hardClose || m_flushThenClose) return false;
    if (m_queue.size() < m_options.maxQueuedMessages &&
        frame->size() <= m_options.maxQueuedBytes - std::min(m_queuedBytes, m_options.maxQueuedBytes)) {
      m_queuedBytes += frame->size();
      m_queue.push_back(std::move(frame));
      m_cv.notify_all();
      return true;
    }
  }
  close(wire::Reason::SlowConsumer, "outgoing queue full (" + std::to_string(queuedBytes()) + " bytes)");
  return false;
}

void Connection::close(wire::Reason reason, const std::string& detail) {
  {
    std::lock_guard lock(m_mutex);
    setReason(reason, detail);
    if (m_hardClose) return;
    m_hardClose = true;
    m_queue.clear();
    m_queuedBytes = 0;
    m_closeRequested = true;
  }
  m_cv.notify_all();
  m_socket->shutdownBoth();
}

void Connection::closeAfterFlush(wire::Reason reason, const std::string& detail) {
  {
    std::lock_guard lock(m_mutex);
    setReason(reason, detail);
    if (m_hardClose || m_flushThenClose) return;
    m_flushThenClose = true;
    m_flushRequestedUs = base::monoUs();
    m_closeRequested = true;
  }
  m_cv.notify_all();
}

void Connection::checkDeadlines(std::int64_t nowUs) {
  std::int64_t started = m_sendStartedUs.load();
  if (started != 0 && nowUs - started > m_options.sendStallUs) {
    close(wire::Reason::SendStall, "no send progress for " + std::to_string((nowUs - started) / 1000) + " ms");
    return;
  }
  bool lingerOver = false;
  {
    std::lock_guard lock(m_mutex);
    lingerOver = m_flushThenClose && !m_hardClose && nowUs - m_flushRequestedUs > m_options.lingerUs;
  }
  if (lingerOver) close(wire::Reason::Shutdown, "linger time over");
}

std::size_t Connection::queuedBytes() const {
  std::lock_guard lock(m_mutex);
  return m_queuedBytes;
}

void Connection::join() {
  if (m_reader.joinable()) m_reader.join();
  if (m_writer.joinable()) m_writer.join();
}

void Connection::readerLoop() {
  std::vector<std::uint8_t> buf(kRecvChunk);
  wire::Reason reason = wire::Reason::None;
  std::string detail;
  try {
    while (true) {
      {
        std::lock_guard lock(m_mutex);
        if (m_hardClose) break;
      }
      int ready = m_socket->waitReadable(100);
      if (ready == 0) continue;
      if (ready < 0) {
        reason = wire::Reason::IoError;
        detail = "wait for data failed";
        break;
      }
      int n = m_socket->recv(buf.data(), kRecvChunk);
      if (n <= 0) {
        reason = n == 0 ? wire::Reason::IoEof : wire::Reason::IoError;
        detail = n == 0 ? "peer closed the connection" : "receive failed";
        break;
      }
      m_bytesIn.fetch_add(static_cast<std::uint64_t>(n), std::memory_order_relaxed);
      // After a flush-and-close, input is read only to see the peer's EOF.
      if (!m_closeRequested.load()) m_handler->onReceive(std::span<const std::uint8_t>(buf.data(), static_cast<std::size_t>(n)));
    }
  } catch (const std::exception& e) {
    reason = wire::Reason::Internal;
    detail = std::string("reader: ") + e.what();
    HLOG_ERROR(kTag, "%s: %s", m_socket->peerAddress().c_str(), detail.c_str());
  }
  close(reason == wire::Reason::None ? wire::Reason::Shutdown : reason, detail);
  if (m_writer.joinable()) m_writer.join();
  wire::Reason finalReason;
  std::string finalDetail;
  {
    std::lock_guard lock(m_mutex);
    finalReason = m_reason;
    finalDetail = m_detail;
  }
  try {
    m_handler->onClosed(finalReason, finalDetail);
  } catch (const std::exception& e) {
    HLOG_ERROR(kTag, "onClosed: %s", e.what());
  }
  m_finished = true;
}

void Connection::writerLoop() {
  std::vector<base::Bytes> batch;
  std::vector<std::uint8_t> merged;
  while (true) {
    {
      std::unique_lock lock(m_mutex);
      m_cv.wait(lock, [&] { return m_hardClose || m_flushThenClose || !m_queue.empty(); });
      if (m_hardClose) break;
      if (m_queue.empty()) {  // flush-and-close with nothing left: end our direction
        lock.unlock();
        m_socket->shutdownSend();
        break;
      }
      batch.assign(std::make_move_iterator(m_queue.begin()), std::make_move_iterator(m_queue.end()));
      m_queue.clear();
      m_queuedBytes = 0;
    }
    // Send outside the lock; merge runs of small frames so a burst costs one syscall.
    m_sendStartedUs = base::monoUs();
    bool ok = true;
    merged.clear();
    auto flushMerged = [&] {
      if (merged.empty()) return;
      ok = ok && m_socket->sendAll(merged.data(), merged.size());
      m_bytesOut.fetch_add(merged.size(), std::memory_order_relaxed);
      merged.clear();
    };
    for (const auto& frame : batch) {
      if (!ok) break;
      if (frame->size() >= kCoalesceBytes) {
        flushMerged();
        ok = ok && m_socket->sendAll(frame->data(), frame->size());
        m_bytesOut.fetch_add(frame->size(), std::memory_order_relaxed);
      } else {
        if (merged.size() + frame->size() > kCoalesceBytes) flushMerged();
        merged.insert(merged.end(), frame->begin(), frame->end());
      }
    }
    flushMerged();
    m_sendStartedUs = 0;
    batch.clear();
    if (!ok) {
      close(wire::Reason::IoError, "send failed");
      break;
    }
    bool drained;
    {
      std::lock_guard lock(m_mutex);
      drained = m_queue.empty() && !m_hardClose;
    }
    if (drained) m_handler->onDrained();
  }
}

}  // namespace huddle::net
