#include "app/session/file_transfers.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <functional>

#include "app/session/download_dir.h"
#include "net/base/log.h"

namespace huddle::session {

namespace fs = std::filesystem;

namespace {
constexpr const char* kTag = "session/files";

EVP_MD_CTX* newHash() {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) != 1) {
    EVP_MD_CTX_free(ctx);
    return nullptr;
  }
  return ctx;
}

// The SHA-256 of a whole open file, read from its start; false on a read error or when
// `more` (told the bytes read so far after each block) says to stop.
bool hashFile(int fd, std::uint64_t size, wire::Sha256& out, const std::function<bool(std::uint64_t)>& more) {
  EVP_MD_CTX* ctx = newHash();
  if (!ctx) return false;
  std::vector<std::uint8_t> buf(1 << 20);
  std::uint64_t done = 0;
  bool ok = true;
  while (ok && done < size) {
    const ssize_t n = ::pread(fd, buf.data(), std::min<std::uint64_t>(buf.size(), size - done), static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) ok = false;
    else ok = EVP_DigestUpdate(ctx, buf.data(), static_cast<std::size_t>(n)) == 1, done += static_cast<std::uint64_t>(n);
    if (ok && !more(done)) ok = false;
  }
  unsigned len = 0;
  ok = ok && EVP_DigestFinal_ex(ctx, out.data(), &len) == 1 && len == out.size();
  EVP_MD_CTX_free(ctx);
  return ok;
}

bool writeAll(int fd, const std::uint8_t* p, std::size_t n, std::uint64_t offset) {
  while (n > 0) {
    const ssize_t w = ::pwrite(fd, p, n, static_cast<off_t>(offset));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w, n -= static_cast<std::size_t>(w), offset += static_cast<std::uint64_t>(w);
  }
  return true;
}

int percent(std::uint64_t part, std::uint64_t whole) { return whole ? static_cast<int>(part * 100 / whole) : 100; }

// What a path is when it is not a regular file, in words.
std::string kindOf(mode_t mode) {
  if (S_ISDIR(mode)) return "a folder";
  if (S_ISFIFO(mode)) return "a pipe";
  if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}
}  // namespace

std::string fileSizeText(std::uint64_t bytes) {
  char buf[64];
  if (bytes >= (1ull << 30)) std::snprintf(buf, sizeof buf, "%.1f GiB", static_cast<double>(bytes) / (1ull << 30));
  else if (bytes >= (1ull << 20)) std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1ull << 20));
  else if (bytes >= 1024) std::snprintf(buf, sizeof buf, "%.0f KiB", static_cast<double>(bytes) / 1024);
  else std::snprintf(buf, sizeof buf, "%llu bytes", static_cast<unsigned long long>(bytes));
  return buf;
}

// What a chat connection holds of us: file messages and drained signals, tagged with the
// attachment they belong to (a retired connection's late calls are ignored).
struct FileTransfers::Sink : net::ChatClient::FileSink {
  Sink(std::shared_ptr<FileTransfers> o, std::uint64_t g) : owner(std::move(o)), generation(g) {}
  void onFileFrame(const wire::Frame& frame) override { owner->onFrame(generation, frame); }
  void onLinkDrained() override { owner->onDrained(generation); }
  std::shared_ptr<FileTransfers> owner;
  std::uint64_t generation;
};

FileTransfers::~FileTransfers() {
  shutdown();
  for (auto& [id, in] : m_in) closeInLocked(in, in.pub.state != IncomingFile::State::Done);
  for (auto& [id, out] : m_out)
    if (out.fd >= 0) ::close(out.fd);
}

void FileTransfers::shutdown() {
  {
    std::lock_guard lock(m_mutex);
    m_stopping = true;
    for (auto& job : m_hashJobs) ::close(job.fd);
    m_hashJobs.clear();
  }
  m_hashCv.notify_all();
  if (m_hasher.joinable() && m_hasher.get_id() != std::this_thread::get_id()) m_hasher.join();
}

void FileTransfers::setHashStepForTest(std::function<void(std::uint64_t)> step) {
  std::lock_guard lock(m_mutex);
  m_hashStep = std::move(step);
}

bool FileTransfers::stopping() const {
  std::lock_guard lock(m_mutex);
  return m_stopping;
}

// [SECTION] the owner's commands

void FileTransfers::attach(net::ChatClient& client, std::uint32_t selfId) {
  std::uint64_t generation = 0;
  {
    std::lock_guard lock(m_mutex);
    m_client = &client;
    m_selfId = selfId;
    generation = ++m_generation;
    m_asks.clear();
    // What we still offer goes out again (the host forgot it with our old connection).
    for (auto& [id, out] : m_out)
      if (out.pub.state == OutgoingFile::State::Offered) sendOfferLocked(out);
  }
  // Not under our lock: what the connection held for us (an offer that came with our
  // Welcome) is handed over now, through the sink.
  client.setFileSink(std::make_shared<Sink>(shared_from_this(), generation));
}

void FileTransfers::detach() {
  net::ChatClient* client = nullptr;
  {
    std::lock_guard lock(m_mutex);
    client = std::exchange(m_client, nullptr);
    detachLocked();
  }
  if (client) client->setFileSink(nullptr);  // its late frames are ignored meanwhile (generation)
}

void FileTransfers::detachLocked() {
  ++m_generation;
  m_asks.clear();
  for (auto& [id, in] : m_in) {
    if (in.pub.state != IncomingFile::State::Receiving) continue;
    pauseLocked(in);
    noteLocked(in.pub.name + " paused at " + std::to_string(percent(in.pub.received, in.pub.size)) +
               "%; it goes on once " + in.pub.from + " offers it again.");
  }
  for (auto& [id, out] : m_out) out.pub.receivers.clear();
}

std::string FileTransfers::offer(const std::string& path, const std::string& to) {
  if (!to.empty())
    if (std::string why = wire::validateName(to); !why.empty()) return "Not offered: " + why + ".";
  // O_NONBLOCK: opening a pipe or a device must never wait (for a writer, a carrier); only a
  // regular file is offered.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return "Cannot send " + path + ": " + std::strerror(errno) + ".";
  struct stat st{};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    const std::string what = st.st_mode ? kindOf(st.st_mode) : std::string("it cannot be read");
    ::close(fd);
    return "Cannot send " + path + ": " + what + "; only a regular file can be sent.";
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  const int hashFd = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (hashFd < 0) {
    const int err = errno;
    ::close(fd);
    return "Cannot send " + path + ": " + std::strerror(err) + ".";
  }
  std::string name = fs::path(path).filename().string();
  if (std::string why = wire::validateFileName(name); !why.empty()) {
    name = safeFileName(name);  // offered under a name the host takes
  }
  Out out;
  out.fd = fd;
  out.pub.path = path;
  out.pub.name = name;
  out.pub.to = to;
  out.pub.size = static_cast<std::uint64_t>(st.st_size);
  out.pub.state = OutgoingFile::State::Preparing;
  {
    std::lock_guard lock(m_mutex);
    if (m_stopping) {
      ::close(fd);
      ::close(hashFd);
      return "Not offered: the session is ending.";
    }
    out.pub.id = m_nextOfferId++;
    const std::uint32_t id = out.pub.id;
    Out& o = m_out.emplace(id, std::move(out)).first->second;
    // Read once for its SHA-256 (the receivers check it) on the worker: a large file takes a
    // while, and the caller (the window) must not wait. The pieces are read again later.
    m_hashJobs.push_back({id, hashFd, o.pub.size});
    if (!m_hasher.joinable()) m_hasher = std::thread([this] { hashLoop(); });
    noteLocked("Preparing " + o.pub.name + " (" + fileSizeText(o.pub.size) + ") for " + (to.empty() ? "everyone" : to) +
               ": reading it for its SHA-256.");
  }
  m_hashCv.notify_all();
  return {};
}

void FileTransfers::hashLoop() {
  for (;;) {
    HashJob job;
    std::function<void(std::uint64_t)> step;
    {
      std::unique_lock lock(m_mutex);
      m_hashCv.wait(lock, [&] { return m_stopping || !m_hashJobs.empty(); });
      if (m_stopping) return;  // shutdown() closes what is still queued
      job = m_hashJobs.front();
      m_hashJobs.pop_front();
      step = m_hashStep;
    }
    wire::Sha256 sha{};
    const bool ok = hashFile(job.fd, job.size, sha, [&](std::uint64_t done) {
      if (step) step(done);
      std::lock_guard lock(m_mutex);
      auto it = m_out.find(job.id);
      // Cancelled, or the end: stop reading now.
      if (m_stopping || it == m_out.end() || it->second.pub.state != OutgoingFile::State::Preparing) return false;
      it->second.pub.prepared = done;
      return true;
    });
    ::close(job.fd);
    std::lock_guard lock(m_mutex);
    auto it = m_out.find(job.id);
    if (m_stopping) return;
    if (it != m_out.end() && it->second.pub.state == OutgoingFile::State::Preparing) preparedLocked(it->second, ok, sha);
  }
}

void FileTransfers::preparedLocked(Out& out, bool ok, const wire::Sha256& sha) {
  auto refuse = [&](const std::string& why) {
    out.pub.state = OutgoingFile::State::Refused;
    out.pub.error = why;
    if (out.fd >= 0) ::close(out.fd), out.fd = -1;
    noteLocked(why, true);
  };
  if (!ok) return refuse("Cannot send " + out.pub.path + ": it could not be read.");
  // The same file to the same people again: one offer is enough (the host refuses a second).
  for (const auto& [id, other] : m_out)
    if (&other != &out && other.pub.state == OutgoingFile::State::Offered && other.sha256 == sha &&
        other.pub.size == out.pub.size && other.pub.name == out.pub.name && other.pub.to == out.pub.to)
      return refuse("Not offered: you already offer " + out.pub.name + " to " +
                    (out.pub.to.empty() ? std::string("everyone") : out.pub.to) + ".");
  out.sha256 = sha;
  out.pub.prepared = out.pub.size;
  out.pub.state = OutgoingFile::State::Offered;
  if (m_client) sendOfferLocked(out);
  noteLocked("Offering " + out.pub.name + " (" + fileSizeText(out.pub.size) + ") to " +
             (out.pub.to.empty() ? std::string("everyone") : out.pub.to) + (m_client ? "." : " once connected."));
}

std::string FileTransfers::accept(std::uint32_t id, const std::string& dir) {
  std::lock_guard lock(m_mutex);
  auto it = m_in.find(id);
  if (it == m_in.end() || it->second.pub.state != IncomingFile::State::Offered) return "That file is no longer offered.";
  return acceptLocked(it->second, dir);
}

void FileTransfers::decline(std::uint32_t id) {
  std::lock_guard lock(m_mutex);
  auto it = m_in.find(id);
  if (it == m_in.end()) return;
  In& in = it->second;
  using S = IncomingFile::State;
  if (in.pub.state != S::Offered && in.pub.state != S::Receiving && in.pub.state != S::Paused) return;
  wire::FileStatus st;
  st.transferId = in.transferId;
  st.code = in.pub.state == S::Offered ? wire::FileStatusCode::Declined : wire::FileStatusCode::Failed;
  st.text = in.pub.state == S::Offered ? "" : "cancelled";
  sendLocked(st);
  closeInLocked(in, true);
  in.pub.state = S::Declined;
  noteLocked(std::string(st.code == wire::FileStatusCode::Declined ? "Declined " : "Cancelled ") + in.pub.name + ".");
}

void FileTransfers::cancelOffer(std::uint32_t id) {
  std::lock_guard lock(m_mutex);
  auto it = m_out.find(id);
  if (it == m_out.end()) return;
  Out& out = it->second;
  if (out.pub.state == OutgoingFile::State::Preparing) {
    // Never offered: the worker sees it and stops reading at its next block.
    out.pub.state = OutgoingFile::State::Cancelled;
    if (out.fd >= 0) ::close(out.fd), out.fd = -1;
    noteLocked("Stopped preparing " + out.pub.name + ".");
    return;
  }
  if (out.pub.state != OutgoingFile::State::Offered) return;
  wire::FileStatus st;
  st.transferId = out.transferId;
  st.code = wire::FileStatusCode::Cancelled;
  st.text = "no longer offered";
  sendLocked(st);
  out.pub.state = OutgoingFile::State::Cancelled;
  std::erase_if(m_asks, [&](const Ask& a) { return a.transferId == out.transferId; });
  if (out.fd >= 0) ::close(out.fd), out.fd = -1;
  noteLocked("Stopped offering " + out.pub.name + ".");
}

void FileTransfers::acceptAllInto(std::string dir) {
  std::lock_guard lock(m_mutex);
  m_autoDir = std::move(dir);
}

void FileTransfers::tick(std::int64_t nowUs) {
  std::lock_guard lock(m_mutex);
  serveLocked();
  for (auto& [id, in] : m_in) {
    if (in.pub.state != IncomingFile::State::Paused) continue;
    if (in.pausedSinceUs < 0) {
      in.pausedSinceUs = nowUs;
      continue;
    }
    if (nowUs - in.pausedSinceUs < kPausedReceiveExpiryUs) continue;
    // Its .part goes: only this record (the SHA-256 of what arrived so far, the offer it
    // belongs to) could go on from it, and it is given up now.
    closeInLocked(in, true);
    in.pub.state = IncomingFile::State::Failed;
    in.pub.error = "paused for too long";
    noteLocked("Gave up " + in.pub.name + ": it was paused for " + std::to_string(kPausedReceiveExpiryUs / 60'000'000) +
                   " minutes without being offered again; the part received was removed.",
               true);
  }
}

std::vector<FileNote> FileTransfers::takeNotes() {
  std::lock_guard lock(m_mutex);
  return std::exchange(m_notes, {});
}

std::vector<IncomingFile> FileTransfers::incoming() const {
  std::lock_guard lock(m_mutex);
  std::vector<IncomingFile> v;
  for (const auto& [id, in] : m_in) v.push_back(in.pub);
  return v;
}

std::vector<OutgoingFile> FileTransfers::outgoing() const {
  std::lock_guard lock(m_mutex);
  std::vector<OutgoingFile> v;
  for (const auto& [id, out] : m_out) v.push_back(out.pub);
  return v;
}

bool FileTransfers::busy() const {
  std::lock_guard lock(m_mutex);
  for (const auto& [id, in] : m_in)
    if (in.pub.state == IncomingFile::State::Receiving) return true;
  // An offer of ours being prepared, nobody has answered yet, or someone is taking.
  for (const auto& [id, out] : m_out) {
    if (out.pub.state == OutgoingFile::State::Preparing) return true;
    if (out.pub.state != OutgoingFile::State::Offered) continue;
    if (out.pub.receivers.empty()) return true;
    for (const auto& [rid, r] : out.pub.receivers)
      if (r.status == "receiving") return true;
  }
  return !m_asks.empty();
}

// [SECTION] from the connection (reader and writer threads)

void FileTransfers::onFrame(std::uint64_t generation, const wire::Frame& frame) {
  std::lock_guard lock(m_mutex);
  if (generation != m_generation || !m_client) return;
  switch (static_cast<wire::MsgType>(frame.type)) {
    case wire::MsgType::FileOffered: {
      wire::FileOffered m;
      if (wire::decodePayload(frame.payload, m)) return offeredLocked(m);
      break;
    }
    case wire::MsgType::FileRequest: {
      wire::FileRequest m;
      if (wire::decodePayload(frame.payload, m)) return requestLocked(m);
      break;
    }
    case wire::MsgType::FileChunk: {
      wire::FileChunk m;
      if (wire::decodePayload(frame.payload, m)) return chunkLocked(m);
      break;
    }
    case wire::MsgType::FileStatus: {
      wire::FileStatus m;
      if (wire::decodePayload(frame.payload, m)) return statusLocked(m);
      break;
    }
    default: break;
  }
  HLOG_WARN(kTag, "malformed file message type=%u from the host: ignored", static_cast<unsigned>(frame.type));
}

void FileTransfers::onDrained(std::uint64_t generation) {
  std::lock_guard lock(m_mutex);
  if (generation == m_generation) serveLocked();
}

void FileTransfers::offeredLocked(const wire::FileOffered& m) {
  if (m.fromId == m_selfId) return;  // our own offer, as everyone sees it
  if (std::string why = wire::validateFileName(m.name); !why.empty()) {
    noteLocked(m.from + " offered a file that was not shown: " + why + ".", true);
    return;
  }
  // The same file offered again (after a reconnect): a paused receive goes on, an unanswered
  // offer stays one line.
  for (auto& [id, in] : m_in) {
    using S = IncomingFile::State;
    if (in.sha256 != m.sha256 || in.pub.size != m.size || in.pub.name != m.name || in.pub.from != m.from) continue;
    // Moving to another transfer: the host is told we are through with the one we had, so
    // it never waits for us there (it ignores a transfer it has already ended).
    if (in.transferId != m.transferId && (in.pub.state == S::Offered || in.pub.state == S::Receiving)) {
      wire::FileStatus st;
      st.transferId = in.transferId;
      st.code = in.pub.state == S::Offered ? wire::FileStatusCode::Declined : wire::FileStatusCode::Failed;
      st.text = "offered again";
      sendLocked(st);
    }
    if (in.pub.state == S::Paused || (in.pub.state == S::Receiving && in.transferId != m.transferId)) {
      in.transferId = m.transferId;
      in.fromId = m.fromId;
      in.pub.from = m.from;
      if (in.fd < 0)
        if (std::string why = reopenPartLocked(in); !why.empty()) return failLocked(in, why, true);
      in.pub.state = S::Receiving;
      in.pausedSinceUs = -1;
      in.asked = in.pub.received;
      noteLocked("Resuming " + in.pub.name + " from " + std::to_string(percent(in.pub.received, in.pub.size)) + "%.");
      if (in.pub.received == in.pub.size) finishLocked(in);
      else askMoreLocked(in);
      return;
    }
    if (in.pub.state == S::Offered) {
      in.transferId = m.transferId;
      in.fromId = m.fromId;
      return;
    }
  }
  In in;
  in.pub.id = m_nextInId++;
  in.pub.from = m.from;
  in.pub.name = m.name;
  in.pub.size = m.size;
  in.transferId = m.transferId;
  in.fromId = m.fromId;
  in.sha256 = m.sha256;
  In& added = m_in.emplace(in.pub.id, std::move(in)).first->second;
  noteLocked(m.from + " offers " + m.name + " (" + fileSizeText(m.size) + ")" + (m.to.empty() ? "" : " to you") + ".",
             false, added.pub.id);
  if (!m_autoDir.empty())
    if (std::string why = acceptLocked(added, m_autoDir); !why.empty()) noteLocked(why, true);
}

std::string FileTransfers::acceptLocked(In& in, const std::string& dir) {
  std::string error;
  if (!ensureDir(dir, error)) return "Cannot accept " + in.pub.name + ": " + error + ".";
  in.dir = dir;
  const std::string safe = safeFileName(in.pub.name);
  // O_EXCL and O_NOFOLLOW: never into something already there, never through a link.
  for (int tries = 0; tries < 100 && in.fd < 0; ++tries) {
    in.partPath = (fs::path(dir) / uniqueFileName(dir, partFileName(safe))).string();
    in.fd = ::open(in.partPath.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (in.fd < 0 && errno != EEXIST) break;
  }
  if (in.fd < 0) return "Cannot accept " + in.pub.name + ": cannot create a file in " + dir + ": " + std::strerror(errno) + ".";
  struct stat st{};
  if (::fstat(in.fd, &st) == 0) in.partDev = st.st_dev, in.partIno = st.st_ino;
  in.hash = newHash();
  in.pub.state = IncomingFile::State::Receiving;
  in.pub.received = 0;
  in.asked = 0;
  noteLocked("Receiving " + in.pub.name + " into " + dir + ".");
  if (in.pub.size == 0) finishLocked(in);
  else askMoreLocked(in);
  return {};
}

void FileTransfers::askMoreLocked(In& in) {
  while (in.asked < in.pub.size && in.asked - in.pub.received < wire::kFileWindowChunks * wire::kFileChunkBytes) {
    wire::FileRequest r;
    r.transferId = in.transferId;
    r.offset = in.asked;
    r.length = static_cast<std::uint32_t>(std::min<std::uint64_t>(wire::kFileChunkBytes, in.pub.size - in.asked));
    if (!sendLocked(r)) return;
    in.asked += r.length;
  }
}

void FileTransfers::chunkLocked(const wire::FileChunk& m) {
  In* in = inByTransferLocked(m.transferId);
  if (!in || in->pub.state != IncomingFile::State::Receiving) return;  // given up meanwhile
  // Exactly the next piece asked for: never past the announced size, never out of order.
  if (m.offset != in->pub.received || m.data.size() > in->asked - in->pub.received)
    return failLocked(*in, "the host sent a piece that was not asked for", true);
  if (!writeAll(in->fd, m.data.data(), m.data.size(), m.offset))
    return failLocked(*in, std::string("cannot write it: ") + std::strerror(errno), true);
  EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(in->hash), m.data.data(), m.data.size());
  in->pub.received += m.data.size();
  if (in->pub.received == in->pub.size) finishLocked(*in);
  else askMoreLocked(*in);
}

void FileTransfers::finishLocked(In& in) {
  wire::Sha256 got{};
  unsigned len = 0;
  const bool hashed = in.hash && EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(in.hash), got.data(), &len) == 1;
  if (!hashed || got != in.sha256)
    return failLocked(in, "its SHA-256 does not match what was offered; nothing was kept", true);
  ::close(in.fd);
  in.fd = -1;
  // The final name only now, and never over another file (see giveFinalName).
  const std::string finalPath = giveFinalName(in.partPath, in.dir, safeFileName(in.pub.name));
  if (finalPath.empty()) return failLocked(in, std::string("cannot give it its name: ") + std::strerror(errno), true);
  in.partPath.clear();
  closeInLocked(in, false);
  in.pub.state = IncomingFile::State::Done;
  in.pub.path = finalPath;
  wire::FileStatus st;
  st.transferId = in.transferId;
  st.code = wire::FileStatusCode::Done;
  sendLocked(st);
  noteLocked("Received " + in.pub.name + " from " + in.pub.from + " (" + fileSizeText(in.pub.size) + ", SHA-256 checked): " +
             finalPath);
}

void FileTransfers::failLocked(In& in, const std::string& why, bool tellHost) {
  closeInLocked(in, true);
  in.pub.state = IncomingFile::State::Failed;
  in.pub.error = why;
  if (tellHost) {
    wire::FileStatus st;
    st.transferId = in.transferId;
    st.code = wire::FileStatusCode::Failed;
    st.text = wire::cutUtf8(why, wire::kMaxReasonBytes);
    sendLocked(st);
  }
  noteLocked("Could not receive " + in.pub.name + ": " + why + ".", true);
}

void FileTransfers::pauseLocked(In& in) {
  in.pub.state = IncomingFile::State::Paused;
  in.asked = in.pub.received;  // what was on its way is lost
  in.pausedSinceUs = -1;       // the next tick starts its clock
  // No descriptor held while it waits (it may wait long, and there may be many).
  if (in.fd >= 0) ::close(in.fd), in.fd = -1;
}

std::string FileTransfers::reopenPartLocked(In& in) {
  // The same .part we made and wrote (never through a link, never another file put there).
  in.fd = ::open(in.partPath.c_str(), O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (in.fd < 0) return "the part received so far is gone: " + std::string(std::strerror(errno));
  struct stat st{};
  if (::fstat(in.fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_dev != in.partDev || st.st_ino != in.partIno ||
      static_cast<std::uint64_t>(st.st_size) != in.pub.received) {
    ::close(in.fd), in.fd = -1;
    in.partPath.clear();  // not ours any more: left alone
    return "the part received so far was changed while it was paused";
  }
  return {};
}

void FileTransfers::closeInLocked(In& in, bool removePart) {
  if (in.fd >= 0) ::close(in.fd), in.fd = -1;
  if (in.hash) EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(in.hash)), in.hash = nullptr;
  // Only the .part we made: a paused receive holds no descriptor, and whatever was put at
  // that name meanwhile (the user's own file, moved there) is not ours to remove.
  struct stat st{};
  if (removePart && !in.partPath.empty() && ::lstat(in.partPath.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
      st.st_dev == in.partDev && st.st_ino == in.partIno)
    ::unlink(in.partPath.c_str());
  if (removePart) in.partPath.clear();
}

void FileTransfers::requestLocked(const wire::FileRequest& m) {
  Out* out = outByTransferLocked(m.transferId);
  if (!out || out->pub.state != OutgoingFile::State::Offered) return;  // stopped meanwhile
  if (m.offset > out->pub.size || m.length > out->pub.size - m.offset) {
    HLOG_WARN(kTag, "a piece past the end of %s was asked for: ignored", out->pub.name.c_str());
    return;
  }
  m_asks.push_back({m.transferId, m.peerId, m.offset, m.length});
  serveLocked();
}

void FileTransfers::serveLocked() {
  if (!m_client) return;
  std::size_t served = 0;
  while (served < m_asks.size() && m_client->queuedBytes() < wire::kFileSendQueueBytes) {
    const Ask a = m_asks[served++];
    Out* out = outByTransferLocked(a.transferId);
    if (!out || out->fd < 0) continue;
    wire::FileChunk c;
    c.transferId = a.transferId;
    c.peerId = a.peerId;
    c.offset = a.offset;
    c.data.resize(a.length);
    ssize_t n = 0;
    do n = ::pread(out->fd, c.data.data(), a.length, static_cast<off_t>(a.offset));
    while (n < 0 && errno == EINTR);
    if (n != static_cast<ssize_t>(a.length)) {
      // Shorter than offered: the file changed under us. Nobody gets a file that does not match.
      wire::FileStatus st;
      st.transferId = out->transferId;
      st.code = wire::FileStatusCode::Cancelled;
      st.text = "the file changed while it was offered";
      sendLocked(st);
      out->pub.state = OutgoingFile::State::Cancelled;
      out->pub.error = st.text;
      ::close(out->fd);
      out->fd = -1;
      noteLocked("Stopped offering " + out->pub.name + ": " + st.text + ".", true);
      continue;
    }
    if (!sendLocked(c)) break;
    auto& r = out->pub.receivers[a.peerId];
    r.sent = std::max(r.sent, a.offset + a.length);
  }
  m_asks.erase(m_asks.begin(), m_asks.begin() + static_cast<std::ptrdiff_t>(served));
}

void FileTransfers::statusLocked(const wire::FileStatus& m) {
  using Code = wire::FileStatusCode;
  if (Out* out = outByTransferLocked(m.transferId)) {
    auto& r = out->pub.receivers[m.peerId];
    const std::size_t colon = m.text.find(": ");
    const std::string who = m.peerId == 0 ? std::string() : m.text.substr(0, colon);
    const std::string why = colon == std::string::npos ? std::string() : m.text.substr(colon + 2);
    if (!who.empty()) r.name = who;
    // That receiver is through: pieces it asked for and we have not sent go nowhere.
    if (m.code == Code::Declined || m.code == Code::Done || m.code == Code::Failed)
      std::erase_if(m_asks, [&](const Ask& a) { return a.transferId == m.transferId && a.peerId == m.peerId; });
    switch (m.code) {
      case Code::Accepted:
        r.status = "receiving";
        noteLocked(who + " is taking " + out->pub.name + ".");
        break;
      case Code::Declined:
        r.status = "declined";
        noteLocked(who + " declined " + out->pub.name + ".");
        break;
      case Code::Done:
        r.status = "received";
        noteLocked(who + " received " + out->pub.name + ".");
        break;
      case Code::Failed:
        r.status = "failed: " + why;
        noteLocked(who + " did not get " + out->pub.name + (why.empty() ? "" : ": " + why) + ".");
        break;
      case Code::Refused:
        out->pub.receivers.erase(m.peerId);
        out->pub.state = OutgoingFile::State::Refused;
        out->pub.error = m.text;
        if (out->fd >= 0) ::close(out->fd), out->fd = -1;
        noteLocked(m.text, true);
        break;
      case Code::Closed:
        out->pub.receivers.erase(m.peerId);
        out->pub.state = OutgoingFile::State::Closed;
        if (out->fd >= 0) ::close(out->fd), out->fd = -1;
        break;
      case Code::Cancelled: break;
    }
    if (m.peerId == 0) out->pub.receivers.erase(0);
    return;
  }
  In* in = inByTransferLocked(m.transferId);
  if (!in) return;
  using S = IncomingFile::State;
  if (m.code == Code::Cancelled) {
    if (in->pub.state == S::Offered) {
      in->pub.state = S::Failed;
      in->pub.error = "no longer offered";
      noteLocked(in->pub.from + " no longer offers " + in->pub.name + (m.text.empty() ? "" : " (" + m.text + ")") + ".");
    } else if (in->pub.state == S::Receiving) {
      // Kept: if it is offered again (its sender back from a reconnect) it goes on from here.
      pauseLocked(*in);
      noteLocked(in->pub.name + " stopped at " + std::to_string(percent(in->pub.received, in->pub.size)) + "% (" +
                     (m.text.empty() ? "no longer offered" : m.text) + "); the part received is kept in case it is offered again.",
                 true);
    }
  } else if (m.code == Code::Refused && in->pub.state == S::Receiving) {
    closeInLocked(*in, true);
    in->pub.state = S::Offered;
    noteLocked("Not received: " + m.text, true);
  }
}

// [SECTION] helpers

void FileTransfers::sendOfferLocked(Out& out) {
  out.offerId = m_nextOfferId++;
  out.transferId = wire::fileTransferId(m_selfId, out.offerId);
  wire::FileOffer m;
  m.offerId = out.offerId;
  m.to = out.pub.to;
  m.name = out.pub.name;
  m.size = out.pub.size;
  m.sha256 = out.sha256;
  sendLocked(m);
}

template <typename Msg>
bool FileTransfers::sendLocked(const Msg& msg) {
  return m_client && m_client->sendFileFrame(wire::encodeFrame(msg));
}

void FileTransfers::noteLocked(std::string text, bool error, std::uint32_t offerId) {
  if (m_notes.size() < 1000) m_notes.push_back({std::move(text), offerId, error});
}

FileTransfers::In* FileTransfers::inByTransferLocked(std::uint64_t transferId) {
  for (auto& [id, in] : m_in)
    if (in.transferId == transferId) return &in;
  return nullptr;
}

FileTransfers::Out* FileTransfers::outByTransferLocked(std::uint64_t transferId) {
  for (auto& [id, out] : m_out)
    if (out.transferId == transferId && out.pub.state == OutgoingFile::State::Offered) return &out;
  return nullptr;
}

}  // namespace huddle::session
