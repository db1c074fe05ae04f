#include "tests/bench/rfb_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <vector>

namespace huddle::bench {

namespace {

// Reads exactly what is asked, within a deadline; throws on end of stream or timeout.
class Reader {
 public:
  explicit Reader(int fd) : m_fd(fd) {}
  void read(void* out, std::size_t n) {
    auto* p = static_cast<std::uint8_t*>(out);
    while (n > 0) {
      if (m_pos == m_end) fill();
      const std::size_t take = std::min(n, m_end - m_pos);
      std::copy(m_buf.data() + m_pos, m_buf.data() + m_pos + take, p);
      m_pos += take, p += take, n -= take;
      m_count += take;
    }
  }
  void skip(std::size_t n) {
    while (n > 0) {
      if (m_pos == m_end) fill();
      const std::size_t take = std::min(n, m_end - m_pos);
      m_pos += take, n -= take;
      m_count += take;
    }
  }
  std::uint8_t u8() {
    std::uint8_t v;
    read(&v, 1);
    return v;
  }
  std::uint16_t u16() {
    std::uint8_t b[2];
    read(b, 2);
    return static_cast<std::uint16_t>(b[0] << 8 | b[1]);
  }
  std::uint32_t u32() {
    std::uint8_t b[4];
    read(b, 4);
    return std::uint32_t(b[0]) << 24 | std::uint32_t(b[1]) << 16 | std::uint32_t(b[2]) << 8 | b[3];
  }
  // Tight's compact length: 1 to 3 bytes, 7 bits each.
  std::size_t compactLength() {
    std::size_t v = 0;
    for (int i = 0; i < 3; ++i) {
      const std::uint8_t b = u8();
      v |= std::size_t(i < 2 ? b & 0x7F : b) << (7 * i);
      if (i < 2 && !(b & 0x80)) break;
    }
    return v;
  }
  std::uint64_t count() const { return m_count; }
  // Whether a byte can be read within `ms` (one already buffered counts).
  bool ready(int ms) {
    if (m_pos < m_end) return true;
    pollfd p{m_fd, POLLIN, 0};
    return ::poll(&p, 1, ms) > 0;
  }

 private:
  void fill() {
    pollfd p{m_fd, POLLIN, 0};
    if (::poll(&p, 1, 10000) <= 0) throw std::runtime_error("the server sent nothing for 10 s");
    const ssize_t got = ::recv(m_fd, m_buf.data(), m_buf.size(), 0);
    if (got <= 0) throw std::runtime_error("the server closed the connection");
    m_pos = 0;
    m_end = static_cast<std::size_t>(got);
  }
  int m_fd;
  std::vector<std::uint8_t> m_buf = std::vector<std::uint8_t>(1 << 16);
  std::size_t m_pos = 0, m_end = 0;
  std::uint64_t m_count = 0;
};

void sendAll(int fd, const std::vector<std::uint8_t>& bytes) {
  std::size_t off = 0;
  while (off < bytes.size()) {
    const ssize_t n = ::send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n <= 0) throw std::runtime_error("cannot write to the server");
    off += static_cast<std::size_t>(n);
  }
}

void put16(std::vector<std::uint8_t>& b, std::uint16_t v) {
  b.push_back(static_cast<std::uint8_t>(v >> 8));
  b.push_back(static_cast<std::uint8_t>(v));
}
void put32(std::vector<std::uint8_t>& b, std::uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<std::uint8_t>(v >> s));
}

std::vector<std::uint8_t> updateRequest(bool incremental, int w, int h) {
  std::vector<std::uint8_t> b{3, static_cast<std::uint8_t>(incremental ? 1 : 0)};
  put16(b, 0), put16(b, 0), put16(b, static_cast<std::uint16_t>(w)), put16(b, static_cast<std::uint16_t>(h));
  return b;
}

// One Tight rectangle's body (the header is read): skipped by its lengths. 32-bit true
// colour, depth 24: pixels travel as 3 bytes (TPIXEL).
void skipTight(Reader& in, int w, int h, RfbFigures& f) {
  const std::uint8_t control = in.u8();
  const int type = control >> 4;
  if (type == 8) {  // fill
    in.skip(3);
    return;
  }
  if (type == 9) {  // JPEG
    ++f.jpegRects;
    in.skip(in.compactLength());
    return;
  }
  if (type > 9) throw std::runtime_error("a Tight rectangle of unknown type " + std::to_string(type));
  // Basic compression: an optional filter, then zlib data (or raw when under 12 bytes).
  std::size_t rowBytes = std::size_t(w) * 3;
  if (control & 0x40) {
    const std::uint8_t filter = in.u8();
    if (filter == 1) {  // palette
      const int colours = in.u8() + 1;
      in.skip(std::size_t(colours) * 3);
      rowBytes = colours == 2 ? std::size_t(w + 7) / 8 : std::size_t(w);
    } else if (filter > 2) {
      throw std::runtime_error("a Tight filter of unknown type " + std::to_string(filter));
    }
  }
  const std::size_t size = rowBytes * std::size_t(h);
  in.skip(size < 12 ? size : in.compactLength());
}

}  // namespace

RfbFigures watchRfb(std::uint16_t port, double seconds, int jpegQuality) {
  RfbFigures f;
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) {
    f.error = "no socket";
    return f;
  }
  try {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool connected = false;
    for (int i = 0; i < 50 && !connected; ++i) {  // the server may still be starting
      connected = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
      if (!connected) usleep(100'000);
    }
    if (!connected) throw std::runtime_error("cannot connect to port " + std::to_string(port));
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    Reader in(fd);
    char version[12];
    in.read(version, 12);
    sendAll(fd, {'R', 'F', 'B', ' ', '0', '0', '3', '.', '0', '0', '8', '\n'});
    const std::uint8_t types = in.u8();
    if (types == 0) throw std::runtime_error("the server refused the connection");
    bool none = false;
    for (int i = 0; i < types; ++i) none = in.u8() == 1 || none;
    if (!none) throw std::runtime_error("the server does not offer security type None");
    sendAll(fd, {1});
    if (in.u32() != 0) throw std::runtime_error("the server refused security type None");
    sendAll(fd, {1});  // shared
    f.widthPx = in.u16();
    f.heightPx = in.u16();
    in.skip(16);
    in.skip(in.u32());  // the desktop's name
    // 32 bits, depth 24, little endian, true colour, 8 bits a channel.
    sendAll(fd, {0, 0, 0, 0, 32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0});
    std::vector<std::uint8_t> enc{2, 0};
    const std::vector<std::int32_t> encodings = {
        7,                  // Tight
        1,                  // CopyRect
        -512 + jpegQuality, // fine quality level (TigerVNC)
        -767,               // 4:2:0 subsampling (TigerVNC)
        -24,                // quality level 8, for servers without the fine level
        -255,               // compression level 1
        -224,               // LastRect
    };
    put16(enc, static_cast<std::uint16_t>(encodings.size()));
    for (std::int32_t e : encodings) put32(enc, static_cast<std::uint32_t>(e));
    sendAll(fd, enc);
    sendAll(fd, updateRequest(false, f.widthPx, f.heightPx));

    bool first = true;
    std::uint64_t bytesAtStart = 0;
    auto start = std::chrono::steady_clock::now();
    while (true) {
      // A still screen sends nothing: the watch ends on time between messages.
      if (!first) {
        const double left = seconds - std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        if (!in.ready(std::max(0, static_cast<int>(left * 1000)))) {
          f.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
          break;
        }
      }
      const std::uint8_t type = in.u8();
      if (type == 0) {
        in.skip(1);
        const std::uint16_t rects = in.u16();
        for (std::uint32_t i = 0; i < rects; ++i) {
          in.skip(4);
          const int w = in.u16(), h = in.u16();
          const auto encoding = static_cast<std::int32_t>(in.u32());
          ++f.rects;
          if (encoding == -224) break;  // LastRect
          if (encoding == 0) in.skip(std::size_t(w) * h * 4);
          else if (encoding == 1) ++f.copyRects, in.skip(4);
          else if (encoding == 7) skipTight(in, w, h, f);
          else if (encoding == -223) {}  // DesktopSize: nothing follows
          else throw std::runtime_error("a rectangle in encoding " + std::to_string(encoding) + ", not asked for");
        }
        const auto now = std::chrono::steady_clock::now();
        if (first) {
          first = false;
          f.rects = f.copyRects = f.jpegRects = 0;
          bytesAtStart = in.count();
          start = now;
        } else {
          ++f.updates;
          f.bytes = in.count() - bytesAtStart;
          f.seconds = std::chrono::duration<double>(now - start).count();
          if (f.seconds >= seconds) break;
        }
        sendAll(fd, updateRequest(true, f.widthPx, f.heightPx));
      } else if (type == 1) {  // colour map entries
        in.skip(3);
        in.skip(std::size_t(in.u16()) * 6);
      } else if (type == 2) {  // bell
      } else if (type == 3) {  // cut text
        in.skip(3);
        in.skip(in.u32());
      } else {
        throw std::runtime_error("a server message of type " + std::to_string(type) + ", not asked for");
      }
    }
  } catch (const std::exception& e) {
    f.error = e.what();
  }
  ::close(fd);
  return f;
}

}  // namespace huddle::bench
