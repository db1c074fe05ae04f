#include "tests/bench/rfb_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <turbojpeg.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <vector>

#include "net/base/clock.h"

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

// The pixels of the frame code's area as decoded so far (BGRX), and what else a Tight viewer
// keeps between rectangles: the four zlib streams. Rectangles elsewhere are framed, not
// decoded (but every zlib one is inflated, or the stream's state would be lost).
class CodeArea {
 public:
  explicit CodeArea(int screenHeightPx)
      : m_y(stampY(screenHeightPx)), m_px(std::size_t(kStampW) * kStampH, 0), m_known(std::size_t(kStampW) * kStampH, 0) {
    for (auto& z : m_zlib) {
      z = z_stream{};
      if (inflateInit(&z) != Z_OK) throw std::runtime_error("no zlib");
    }
    m_tj = tjInitDecompress();
  }
  ~CodeArea() {
    for (auto& z : m_zlib) inflateEnd(&z);
    if (m_tj) tjDestroy(m_tj);
  }
  CodeArea(const CodeArea&) = delete;
  CodeArea& operator=(const CodeArea&) = delete;

  // The code shown now; -1 if some of its area is not known or it is not a clean code.
  std::int64_t read() const {
    for (std::uint8_t k : m_known)
      if (!k) return -1;
    return readStamp(reinterpret_cast<const std::uint8_t*>(m_px.data()), std::size_t(kStampW) * 4);
  }

  void raw(Reader& in, int x, int y, int w, int h) {
    const std::size_t size = std::size_t(w) * h * 4;
    if (!overlaps(x, y, w, h)) return in.skip(size);
    m_buf.resize(size);
    in.read(m_buf.data(), size);
    paint(x, y, w, h, [&](int c, int r) {
      const std::uint8_t* p = m_buf.data() + (std::size_t(r) * w + c) * 4;
      return bgrx(p[2], p[1], p[0]);
    });
  }

  void copyRect(int x, int y, int w, int h, int sx, int sy) {
    if (!overlaps(x, y, w, h)) return;
    const std::vector<std::uint32_t> px = m_px;
    const std::vector<std::uint8_t> known = m_known;
    clip(x, y, w, h, [&](int ax, int ay) {  // area coordinates of a destination pixel
      const int fromX = sx + (ax + kStampX - x) - kStampX, fromY = sy + (ay + m_y - y) - m_y;
      const std::size_t i = std::size_t(ay) * kStampW + ax;
      if (fromX < 0 || fromY < 0 || fromX >= kStampW || fromY >= kStampH) {
        m_known[i] = 0;  // from outside the area: not kept
        return;
      }
      const std::size_t j = std::size_t(fromY) * kStampW + fromX;
      m_px[i] = px[j], m_known[i] = known[j];
    });
  }

  // One Tight rectangle's body (the header is read). 32-bit true colour, depth 24: pixels
  // travel as 3 bytes, red first (TPIXEL).
  void tight(Reader& in, int x, int y, int w, int h, RfbFigures& f) {
    const std::uint8_t control = in.u8();
    for (int i = 0; i < 4; ++i)
      if (control & (1 << i)) inflateReset(&m_zlib[i]);
    const int type = control >> 4;
    const bool wanted = overlaps(x, y, w, h);
    if (type == 8) {  // fill
      std::uint8_t c[3];
      in.read(c, 3);
      const std::uint32_t v = bgrx(c[0], c[1], c[2]);
      if (wanted) paint(x, y, w, h, [&](int, int) { return v; });
      return;
    }
    if (type == 9) {  // JPEG
      ++f.jpegRects;
      // Decoded wherever it is, as a viewer would (the costly part of an update, which
      // Huddle's viewer pays too); only the code's area is kept.
      const std::size_t size = in.compactLength();
      m_buf.resize(size);
      in.read(m_buf.data(), size);
      m_pixels.resize(std::size_t(w) * h * 4);
      if (!m_tj || tjDecompress2(m_tj, m_buf.data(), size, m_pixels.data(), w, w * 4, h, TJPF_BGRX, 0) != 0)
        throw std::runtime_error("a Tight JPEG rectangle that does not decode");
      if (wanted) paint(x, y, w, h, [&](int c, int r) {
        const std::uint8_t* p = m_pixels.data() + (std::size_t(r) * w + c) * 4;
        return bgrx(p[2], p[1], p[0]);
      });
      return;
    }
    if (type > 9) throw std::runtime_error("a Tight rectangle of unknown type " + std::to_string(type));
    // Basic compression: an optional filter, then zlib data (or raw when under 12 bytes).
    std::uint8_t filter = 0;
    if (control & 0x40) filter = in.u8();
    if (filter > 2) throw std::runtime_error("a Tight filter of unknown type " + std::to_string(filter));
    std::size_t rowBytes = std::size_t(w) * 3;
    std::uint8_t palette[256 * 3];
    int colours = 0;
    if (filter == 1) {
      colours = in.u8() + 1;
      in.read(palette, std::size_t(colours) * 3);
      rowBytes = colours == 2 ? std::size_t(w + 7) / 8 : std::size_t(w);
    }
    const std::size_t size = rowBytes * std::size_t(h);
    m_pixels.resize(size);
    if (size < 12) {
      in.read(m_pixels.data(), size);
    } else {
      const std::size_t packed = in.compactLength();
      m_buf.resize(packed);
      in.read(m_buf.data(), packed);
      z_stream& z = m_zlib[(control >> 4) & 3];
      z.next_in = m_buf.data();
      z.avail_in = static_cast<uInt>(packed);
      z.next_out = m_pixels.data();
      z.avail_out = static_cast<uInt>(size);
      while (z.avail_in > 0 && z.avail_out > 0) {
        const int rc = inflate(&z, Z_SYNC_FLUSH);
        if (rc != Z_OK && rc != Z_STREAM_END) throw std::runtime_error("a Tight zlib stream that does not inflate");
      }
      if (z.avail_out != 0) throw std::runtime_error("a Tight zlib rectangle shorter than its pixels");
    }
    if (!wanted) return;
    const std::uint8_t* d = m_pixels.data();
    if (filter == 1) {
      paint(x, y, w, h, [&](int c, int r) {
        int index = colours == 2 ? (d[std::size_t(r) * rowBytes + std::size_t(c) / 8] >> (7 - c % 8)) & 1
                                 : d[std::size_t(r) * rowBytes + std::size_t(c)];
        index = std::min(index, colours - 1);
        const std::uint8_t* p = palette + std::size_t(index) * 3;
        return bgrx(p[0], p[1], p[2]);
      });
    } else if (filter == 2) {  // gradient: each component predicted from left, up and up-left
      m_gradient.assign(std::size_t(w) * h * 3, 0);
      for (int r = 0; r < h; ++r)
        for (int c = 0; c < w; ++c)
          for (int k = 0; k < 3; ++k) {
            auto at = [&](int rr, int cc) { return rr < 0 || cc < 0 ? 0 : int(m_gradient[(std::size_t(rr) * w + cc) * 3 + k]); };
            const int predicted = std::clamp(at(r, c - 1) + at(r - 1, c) - at(r - 1, c - 1), 0, 255);
            const std::size_t i = (std::size_t(r) * w + c) * 3 + k;
            m_gradient[i] = static_cast<std::uint8_t>(predicted + d[i]);
          }
      paint(x, y, w, h, [&](int c, int r) {
        const std::uint8_t* p = m_gradient.data() + (std::size_t(r) * w + c) * 3;
        return bgrx(p[0], p[1], p[2]);
      });
    } else {
      paint(x, y, w, h, [&](int c, int r) {
        const std::uint8_t* p = d + (std::size_t(r) * w + c) * 3;
        return bgrx(p[0], p[1], p[2]);
      });
    }
  }

 private:
  static std::uint32_t bgrx(std::uint8_t r, std::uint8_t g, std::uint8_t b) {
    return std::uint32_t(b) | std::uint32_t(g) << 8 | std::uint32_t(r) << 16;
  }
  bool overlaps(int x, int y, int w, int h) {
    return x < kStampX + kStampW && x + w > kStampX && y < m_y + kStampH && y + h > m_y;
  }
  // Calls f(areaX, areaY) for each pixel of the rectangle inside the area.
  template <typename F>
  void clip(int x, int y, int w, int h, F&& f) {
    const int x0 = std::max(x, kStampX), x1 = std::min(x + w, kStampX + kStampW);
    const int y0 = std::max(y, m_y), y1 = std::min(y + h, m_y + kStampH);
    for (int sy = y0; sy < y1; ++sy)
      for (int sx = x0; sx < x1; ++sx) f(sx - kStampX, sy - m_y);
  }
  // Sets the area's pixels inside the rectangle to pixel(column, row) of the rectangle.
  template <typename F>
  void paint(int x, int y, int w, int h, F&& pixel) {
    clip(x, y, w, h, [&](int ax, int ay) {
      const std::size_t i = std::size_t(ay) * kStampW + ax;
      m_px[i] = pixel(ax + kStampX - x, ay + m_y - y);
      m_known[i] = 1;
    });
  }

  int m_y;  // the code's top row on the screen
  std::vector<std::uint32_t> m_px;
  std::vector<std::uint8_t> m_known;
  z_stream m_zlib[4];
  tjhandle m_tj = nullptr;
  std::vector<std::uint8_t> m_buf, m_pixels, m_gradient;
};

}  // namespace

RfbFigures watchRfb(std::uint16_t port, double seconds, int jpegQuality,
                    const std::function<std::int64_t(std::uint32_t)>& drawnAtUs) {
  RfbFigures f;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  // The server may still be starting: a new socket for each try (one whose connect failed
  // is in no state POSIX promises to connect again).
  int fd = -1;
  for (int i = 0; i < 50 && fd < 0; ++i) {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      f.error = "no socket";
      return f;
    }
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(fd);
      fd = -1;
      usleep(100'000);
    }
  }
  if (fd < 0) {
    f.error = "cannot connect to port " + std::to_string(port);
    return f;
  }
  try {
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

    CodeArea area(f.heightPx);
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
          const int x = in.u16(), y = in.u16();
          const int w = in.u16(), h = in.u16();
          const auto encoding = static_cast<std::int32_t>(in.u32());
          ++f.rects;
          if (encoding == -224) break;  // LastRect
          if (encoding == 0) area.raw(in, x, y, w, h);
          else if (encoding == 1) {
            ++f.copyRects;
            const int sx = in.u16(), sy = in.u16();
            area.copyRect(x, y, w, h, sx, sy);
          } else if (encoding == 7) area.tight(in, x, y, w, h, f);
          else if (encoding == -223) {}  // DesktopSize: nothing follows
          else throw std::runtime_error("a rectangle in encoding " + std::to_string(encoding) + ", not asked for");
        }
        const auto now = std::chrono::steady_clock::now();
        if (first) f.latency.baseline(area.read());
        else if (drawnAtUs) f.latency.shown(area.read(), base::monoUs(), drawnAtUs);
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
