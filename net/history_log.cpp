#include "net/history_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "net/wire/codec.h"
#include "net/wire/limits.h"

namespace huddle::net {

namespace {
std::uint32_t readLe32(const std::uint8_t* p) {
  return std::uint32_t(p[0]) | std::uint32_t(p[1]) << 8 | std::uint32_t(p[2]) << 16 | std::uint32_t(p[3]) << 24;
}
}  // namespace

std::uint32_t crc32(std::span<const std::uint8_t> bytes) {
  static const std::array<std::uint32_t, 256> table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  std::uint32_t c = 0xFFFFFFFFu;
  for (std::uint8_t b : bytes) c = table[(c ^ b) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

ChatHistoryLog::~ChatHistoryLog() {
  if (m_fd >= 0) ::close(m_fd);
}

namespace {
// The record at `at` in `data`, if it is a whole, intact one: its length (framing included), else 0.
std::size_t goodRecordAt(const std::vector<std::uint8_t>& data, std::size_t at) {
  if (at + 8 > data.size()) return 0;
  const std::uint32_t len = readLe32(&data[at]), crc = readLe32(&data[at + 4]);
  if (len > wire::kMaxHistoryRecordBytes || len > data.size() - at - 8) return 0;
  std::span<const std::uint8_t> payload(&data[at + 8], len);
  wire::ChatEvent ev;
  if (crc32(payload) != crc || !wire::decodePayload(payload, ev)) return 0;
  return 8 + std::size_t(len);
}

bool writeAll(int fd, const std::uint8_t* p, std::size_t n) {
  for (std::size_t done = 0; done < n;) {
    ssize_t w = ::write(fd, p + done, n - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    done += static_cast<std::size_t>(w);
  }
  return true;
}
}  // namespace

bool ChatHistoryLog::readRecords(std::vector<base::ByteVec>& records, std::uint64_t& skipped, std::string& error) const {
  struct stat st {};
  if (::fstat(m_fd, &st) != 0 || !S_ISREG(st.st_mode)) return error = m_path + " is not a regular file", false;
  // Only the file's last cap bytes are read: an older, larger file costs no more memory, and
  // reading resumes at the first good record in them.
  const std::uint64_t size = static_cast<std::uint64_t>(st.st_size);
  const std::uint64_t from = size > wire::kMaxHistoryFileBytes ? size - wire::kMaxHistoryFileBytes : 0;
  std::vector<std::uint8_t> data(static_cast<std::size_t>(size - from));
  for (std::size_t got = 0; got < data.size();) {
    ssize_t n = ::pread(m_fd, data.data() + got, data.size() - got, static_cast<off_t>(from + got));
    if (n <= 0) return error = "cannot read the chat history " + m_path, false;
    got += static_cast<std::size_t>(n);
  }
  skipped = 0;
  for (std::size_t at = 0; at < data.size();) {
    if (std::size_t n = goodRecordAt(data, at); n > 0) {
      records.emplace_back(data.begin() + static_cast<std::ptrdiff_t>(at), data.begin() + static_cast<std::ptrdiff_t>(at + n));
      at += n;
    } else {  // damaged or torn: look for the next good record byte by byte
      ++skipped;
      ++at;
    }
  }
  return true;
}

bool ChatHistoryLog::rewrite(const std::vector<base::ByteVec>& records, std::string& error) {
  const std::string tmp = m_path + ".new";
  int fd = ::open(tmp.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return error = "cannot write " + tmp + ": " + std::strerror(errno), false;
  std::uint64_t size = 0;
  bool ok = true;
  for (const auto& r : records) {
    ok = ok && writeAll(fd, r.data(), r.size());
    size += r.size();
  }
  ok = ok && ::fsync(fd) == 0 && ::rename(tmp.c_str(), m_path.c_str()) == 0;
  if (!ok) {
    error = "cannot rewrite the chat history " + m_path + ": " + std::strerror(errno);
    ::close(fd);
    ::unlink(tmp.c_str());
    return false;
  }
  if (m_fd >= 0) ::close(m_fd);
  m_fd = fd;
  m_size = size;
  return ::lseek(m_fd, static_cast<off_t>(m_size), SEEK_SET) >= 0 || (error = "cannot append to " + m_path, false);
}

bool ChatHistoryLog::compact(std::string& error) {
  std::vector<base::ByteVec> records;
  std::uint64_t skipped = 0;
  if (!readRecords(records, skipped, error)) return false;
  if (records.size() > m_keep) records.erase(records.begin(), records.end() - static_cast<std::ptrdiff_t>(m_keep));
  return rewrite(records, error);
}

bool ChatHistoryLog::open(const std::string& path, std::size_t keep, std::vector<wire::ChatEvent>& events,
                          std::string& warning, std::string& error) {
  std::error_code ec;
  const auto dir = std::filesystem::path(path).parent_path();
  if (!dir.empty()) {
    std::filesystem::create_directories(dir, ec);
    ::chmod(dir.c_str(), 0700);
  }
  m_path = path;
  m_keep = keep;
  m_fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (m_fd < 0) return error = "cannot open the chat history " + path + ": " + std::strerror(errno), false;
  std::vector<base::ByteVec> records;
  std::uint64_t skipped = 0;
  if (!readRecords(records, skipped, error)) return false;
  if (skipped > 0) warning = std::to_string(skipped) + " damaged or unfinished bytes in " + path + " were skipped";
  // Compacted to what is kept: the file starts each session at most `keep` records long.
  if (records.size() > keep) records.erase(records.begin(), records.end() - static_cast<std::ptrdiff_t>(keep));
  if (!rewrite(records, error)) return false;
  for (const auto& r : records) {
    wire::ChatEvent ev;
    if (wire::decodePayload(std::span<const std::uint8_t>(r.data() + 8, r.size() - 8), ev)) events.push_back(std::move(ev));
  }
  return true;
}

bool ChatHistoryLog::append(const wire::ChatEvent& event) {
  if (m_fd < 0) return false;
  base::ByteVec record(8);
  wire::Writer w(record);
  event.write(w);
  const std::uint32_t len = static_cast<std::uint32_t>(record.size() - 8);
  const std::uint32_t crc = crc32(std::span<const std::uint8_t>(record.data() + 8, len));
  for (int i = 0; i < 4; ++i) {
    record[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(len >> (8 * i));
    record[static_cast<std::size_t>(4 + i)] = static_cast<std::uint8_t>(crc >> (8 * i));
  }
  std::string error;
  if (m_size + record.size() > wire::kMaxHistoryFileBytes && !compact(error)) return false;
  if (m_size + record.size() > wire::kMaxHistoryFileBytes) return false;  // the kept history alone fills it
  // A failed or partial write is cut back, so the next good record follows the last good one.
  if (!writeAll(m_fd, record.data(), record.size())) {
    if (::ftruncate(m_fd, static_cast<off_t>(m_size)) != 0 || ::lseek(m_fd, static_cast<off_t>(m_size), SEEK_SET) < 0) {
      ::close(m_fd);  // cannot even repair: write no more this session
      m_fd = -1;
    }
    return false;
  }
  m_size += record.size();
  return true;
}

}  // namespace huddle::net
