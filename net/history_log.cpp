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

bool ChatHistoryLog::open(const std::string& path, std::vector<wire::ChatEvent>& events, std::string& warning,
                          std::string& error) {
  std::error_code ec;
  const auto dir = std::filesystem::path(path).parent_path();
  if (!dir.empty()) {
    std::filesystem::create_directories(dir, ec);
    ::chmod(dir.c_str(), 0700);
  }
  m_fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (m_fd < 0) return error = "cannot open the chat history " + path + ": " + std::strerror(errno), false;
  struct stat st {};
  if (::fstat(m_fd, &st) != 0 || !S_ISREG(st.st_mode)) return error = path + " is not a regular file", false;
  std::vector<std::uint8_t> data(static_cast<std::size_t>(st.st_size));
  for (std::size_t got = 0; got < data.size();) {
    ssize_t n = ::pread(m_fd, data.data() + got, data.size() - got, static_cast<off_t>(got));
    if (n <= 0) return error = "cannot read the chat history " + path, false;
    got += static_cast<std::size_t>(n);
  }
  std::size_t at = 0;
  while (at + 8 <= data.size()) {
    const std::uint32_t len = readLe32(&data[at]), crc = readLe32(&data[at + 4]);
    if (len > wire::kMaxHistoryRecordBytes || at + 8 + len > data.size()) break;  // a torn tail
    std::span<const std::uint8_t> payload(&data[at + 8], len);
    wire::ChatEvent ev;
    if (crc32(payload) != crc || !wire::decodePayload(payload, ev)) break;  // damaged
    events.push_back(std::move(ev));
    at += 8 + len;
  }
  if (at != data.size()) {
    warning = std::to_string(data.size() - at) + " damaged or unfinished bytes at the end of " + path + " were dropped";
    if (::ftruncate(m_fd, static_cast<off_t>(at)) != 0) return error = "cannot repair " + path, false;
  }
  if (::lseek(m_fd, 0, SEEK_END) < 0) return error = "cannot append to " + path, false;
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
  // One write per record: a crash leaves the old records and at most one torn one.
  for (std::size_t done = 0; done < record.size();) {
    ssize_t n = ::write(m_fd, record.data() + done, record.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace huddle::net
