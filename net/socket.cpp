#include "net/socket.h"

#include <SDL2/SDL_net.h>
#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <ifaddrs.h>
#include <mutex>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

#include "net/base/log.h"
#include "net/wire/limits.h"

namespace huddle::net {

namespace {
constexpr const char* kTag = "net/socket";

// SDL_net 2.2.0's private socket struct (SDLnetTCP.c). Debian pins 2.2.0+dfsg-2; the layout
// is verified at run time against getpeername()/getsockname() before the fd is trusted.
struct SdlnetTcpMirror {
  int ready;
  int channel;
  IPaddress remoteAddress;
  IPaddress localAddress;
  int sflag;
};

std::string formatAddress(std::uint32_t hostOrderIp, std::uint16_t port) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%u.%u.%u.%u:%u", (hostOrderIp >> 24) & 255, (hostOrderIp >> 16) & 255,
                (hostOrderIp >> 8) & 255, hostOrderIp & 255, port);
  return buf;
}
}  // namespace

bool initNetwork(std::string& error) {
  static std::once_flag once;
  static std::string initError;
  std::call_once(once, [] {
    // SDL_net only ignores SIGPIPE when the handler is the default, and restores it on quit.
    std::signal(SIGPIPE, SIG_IGN);
    // SDLNet_CheckSockets uses select(); with fortify an fd >= 1024 aborts the process, so
    // the whole process keeps its descriptors below that.
    rlimit lim{};
    if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && (lim.rlim_cur == RLIM_INFINITY || lim.rlim_cur > wire::kMaxOpenFiles)) {
      lim.rlim_cur = wire::kMaxOpenFiles;
      if (setrlimit(RLIMIT_NOFILE, &lim) != 0)
        HLOG_WARN(kTag, "cannot cap open files at %u: %s", wire::kMaxOpenFiles, std::strerror(errno));
    }
    if (SDLNet_Init() != 0) initError = std::string("SDLNet_Init failed: ") + SDLNet_GetError();
  });
  error = initError;
  return initError.empty();
}

int sdlnetFd(_TCPsocket* sock) {
  if (!sock) return -1;
  const auto* mirror = reinterpret_cast<const SdlnetTcpMirror*>(sock);
  int fd = mirror->channel;
  if (fd < 0) return -1;
  sockaddr_in sa{};
  socklen_t len = sizeof sa;
  if (mirror->sflag) {
    // Server socket: it must be listening, on the port SDL_net recorded (SDL_net keeps the
    // bound address in remoteAddress; port 0 means the kernel picked one).
    int listening = 0;
    socklen_t optLen = sizeof listening;
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &optLen) != 0 || !listening) return -1;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) != 0) return -1;
    if (mirror->remoteAddress.port != 0 && sa.sin_port != mirror->remoteAddress.port) return -1;
    return fd;
  }
  IPaddress* peer = SDLNet_TCP_GetPeerAddress(sock);
  if (!peer || getpeername(fd, reinterpret_cast<sockaddr*>(&sa), &len) != 0) return -1;
  if (sa.sin_addr.s_addr != peer->host || sa.sin_port != peer->port) return -1;
  return fd;
}

// [SECTION] TcpSocket

namespace {
// A second line of defence behind the watchdog: a send that makes no progress for 10 s
// returns instead of blocking forever.
void setSendTimeoutAndKeepalive(int fd) {
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  int on = 1;
  setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
}
}  // namespace

TcpSocket::TcpSocket(_TCPsocket* sock) : m_sock(sock), m_set(SDLNet_AllocSocketSet(1)), m_fd(sdlnetFd(sock)) {
  if (m_set) SDLNet_TCP_AddSocket(m_set, m_sock);
  if (IPaddress* peer = SDLNet_TCP_GetPeerAddress(m_sock)) {
    m_peerIp = SDLNet_Read32(&peer->host);
    m_peer = formatAddress(m_peerIp, SDLNet_Read16(&peer->port));
  }
  if (m_fd < 0) {
    HLOG_WARN(kTag, "cannot reach the descriptor of %s: falling back to timeouts", m_peer.c_str());
    return;
  }
  setSendTimeoutAndKeepalive(m_fd);
}

TcpSocket::TcpSocket(int connectedFd) : m_fd(connectedFd) {
  sockaddr_in sa{};
  socklen_t len = sizeof sa;
  if (getpeername(m_fd, reinterpret_cast<sockaddr*>(&sa), &len) == 0) {
    m_peerIp = ntohl(sa.sin_addr.s_addr);
    m_peer = formatAddress(m_peerIp, ntohs(sa.sin_port));
  }
  // What SDL_net does for the sockets it opens: small frames go out at once.
  int on = 1;
  setsockopt(m_fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  setSendTimeoutAndKeepalive(m_fd);
}

TcpSocket::~TcpSocket() {
  if (m_set) SDLNet_FreeSocketSet(m_set);
  if (m_sock) SDLNet_TCP_Close(m_sock);
  else if (m_fd >= 0) ::close(m_fd);
}

int TcpSocket::waitReadable(int timeoutMs) {
  if (!m_sock) {
    // Our own socket: poll(), which (unlike select()) has no descriptor ceiling.
    pollfd p{m_fd, POLLIN, 0};
    int n = ::poll(&p, 1, timeoutMs);
    if (n < 0) return errno == EINTR ? 0 : -1;
    return n > 0 ? 1 : 0;  // POLLHUP/POLLERR count as ready: recv() then reports them
  }
  if (!m_set) return -1;
  int n = SDLNet_CheckSockets(m_set, static_cast<Uint32>(timeoutMs));
  if (n < 0) return errno == EINTR ? 0 : -1;
  return n > 0 ? 1 : 0;
}

int TcpSocket::recv(void* buf, int maxBytes) {
  if (m_sock) return SDLNet_TCP_Recv(m_sock, buf, maxBytes);
  ssize_t n;
  do {
    n = ::recv(m_fd, buf, static_cast<std::size_t>(maxBytes), 0);
  } while (n < 0 && errno == EINTR);
  return static_cast<int>(n);
}

int TcpSocket::recvNow(void* buf, int maxBytes) {
  if (m_fd < 0) return -1;
  ssize_t n;
  do {
    n = ::recv(m_fd, buf, static_cast<std::size_t>(maxBytes), MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return kNothingYet;
  return static_cast<int>(n);
}

bool TcpSocket::sendAll(const void* data, std::size_t size) {
  const auto* p = static_cast<const std::uint8_t*>(data);
  if (!m_sock) {
    // As SDLNet_TCP_Send: on until everything is sent or send() fails (SO_SNDTIMEO included).
    while (size > 0) {
      ssize_t sent = ::send(m_fd, p, size, MSG_NOSIGNAL);
      if (sent < 0 && errno == EINTR) continue;
      if (sent <= 0) return false;
      p += sent;
      size -= static_cast<std::size_t>(sent);
    }
    return true;
  }
  while (size > 0) {
    int chunk = static_cast<int>(std::min<std::size_t>(size, 1 << 30));
    int sent = SDLNet_TCP_Send(m_sock, p, chunk);
    if (sent < chunk) return false;
    p += sent;
    size -= static_cast<std::size_t>(sent);
  }
  return true;
}

long TcpSocket::trySend(const void* data, std::size_t size) {
  if (m_fd < 0) return 0;
  ssize_t sent;
  do {
    sent = ::send(m_fd, data, size, MSG_NOSIGNAL | MSG_DONTWAIT);
  } while (sent < 0 && errno == EINTR);
  if (sent < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
  return static_cast<long>(sent);
}

long TcpSocket::unacknowledgedBytes() const {
  int queued = 0;
  if (m_fd < 0 || ::ioctl(m_fd, SIOCOUTQ, &queued) != 0) return -1;
  return queued;
}

void TcpSocket::shutdownBoth() {
  if (m_fd >= 0) ::shutdown(m_fd, SHUT_RDWR);
}

void TcpSocket::setSendBuffer(int bytes) {
  if (m_fd >= 0) setsockopt(m_fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes);
}

void TcpSocket::setReceiveBuffer(int bytes) {
  if (m_fd >= 0) setsockopt(m_fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
}

void TcpSocket::shutdownSend() {
  if (m_fd >= 0) ::shutdown(m_fd, SHUT_WR);
}

// [SECTION] TcpListener

TcpListener::~TcpListener() { close(); }

bool TcpListener::open(std::uint16_t port, int backlog, std::string& error) {
  if (!initNetwork(error)) return false;
  IPaddress addr{};
  if (SDLNet_ResolveHost(&addr, nullptr, port) != 0) {
    error = std::string("cannot listen on port ") + std::to_string(port) + ": " + SDLNet_GetError();
    return false;
  }
  m_sock = SDLNet_TCP_Open(&addr);
  if (!m_sock) {
    int err = errno;
    error = "cannot listen on port " + std::to_string(port) + ": " +
            (err == EADDRINUSE ? std::string("address already in use") : std::string(SDLNet_GetError()));
    return false;
  }
  int fd = sdlnetFd(m_sock);
  if (fd >= 0) {
    // SDL_net listens with a backlog of 5: a burst of joins would wait out SYN retries.
    if (::listen(fd, backlog) != 0) HLOG_WARN(kTag, "cannot raise listen backlog: %s", std::strerror(errno));
    sockaddr_in sa{};
    socklen_t len = sizeof sa;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) == 0) m_port = ntohs(sa.sin_port);
  } else {
    HLOG_WARN(kTag, "cannot reach the listening descriptor: backlog stays at 5");
    m_port = port;
  }
  m_set = SDLNet_AllocSocketSet(1);
  if (!m_set) {
    error = "cannot allocate a socket set";
    close();
    return false;
  }
  SDLNet_TCP_AddSocket(m_set, m_sock);
  m_fd = fd;
  return true;
}

void TcpListener::interrupt() {
  std::lock_guard lock(m_closeMutex);
  if (m_sock && m_fd.load() >= 0) ::shutdown(m_fd.load(), SHUT_RDWR);
}

std::unique_ptr<TcpSocket> TcpListener::accept(int timeoutMs) {
  if (!m_sock) return nullptr;
  int n = SDLNet_CheckSockets(m_set, static_cast<Uint32>(timeoutMs));
  if (n <= 0) return nullptr;
  _TCPsocket* s = SDLNet_TCP_Accept(m_sock);
  if (!s) {
    if (errno == EMFILE || errno == ENFILE) {
      HLOG_WARN(kTag, "out of file descriptors: backing off accept");
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return nullptr;
  }
  return std::make_unique<TcpSocket>(s);
}

void TcpListener::close() {
  std::lock_guard lock(m_closeMutex);
  m_fd = -1;
  if (m_set) SDLNet_FreeSocketSet(m_set);
  if (m_sock) SDLNet_TCP_Close(m_sock);
  m_set = nullptr;
  m_sock = nullptr;
}

// [SECTION] connect

namespace {
std::string connectErrorText(int err) {
  switch (err) {
    case ECONNREFUSED: return "connection refused (is a host running there?)";
    case ETIMEDOUT: return "timed out";
    case EHOSTUNREACH: return "host unreachable";
    case ENETUNREACH: return "network unreachable";
    default: return err ? std::strerror(err) : "could not connect";
  }
}
}  // namespace

// getaddrinfo, not SDLNet_ResolveHost: SDL_net resolves with gethostbyname, which is not
// safe on several threads at once (several clients may connect at the same moment).
static bool resolveIpv4(const std::string& host, std::uint16_t port, sockaddr_in& out) {
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &found) != 0 || !found) return false;
  out = *reinterpret_cast<const sockaddr_in*>(found->ai_addr);
  out.sin_port = htons(port);
  freeaddrinfo(found);
  return true;
}

// SDLNet_TCP_Open connects with a blocking connect() that cannot be given a deadline or
// interrupted (about 2 minutes to an address that does not answer), and SDL_net cannot
// adopt a descriptor made elsewhere. So a client socket is ours from the start: connect()
// non-blocking, poll() in short steps for the deadline and `cancel`, then back to blocking
// for the reader and writer, with the options SDL_net would have set (TcpSocket(int)).
ConnectResult connectTcp(const std::string& host, std::uint16_t port, int timeoutMs,
                         const std::atomic<bool>* cancel) {
  const std::string where = host + ":" + std::to_string(port);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
  ConnectResult fail;
  auto failed = [&](const std::string& why) {
    fail.error = "Failed to connect to " + where + ": " + why;
    return std::move(fail);
  };
  std::string initError;
  if (!initNetwork(initError)) return failed(initError);
  sockaddr_in addr{};
  if (!resolveIpv4(host, port, addr)) return failed("unknown host");
  const std::string timedOut = "timed out after " + std::to_string(timeoutMs / 1000) + " s";
  if (cancel && cancel->load()) return failed("cancelled");
  if (std::chrono::steady_clock::now() >= deadline) return failed(timedOut);

  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return failed(connectErrorText(errno));
  auto closeAndFail = [&](const std::string& why) {
    ::close(fd);
    return failed(why);
  };
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    if (errno != EINPROGRESS && errno != EINTR) return closeAndFail(connectErrorText(errno));
    while (true) {
      if (cancel && cancel->load()) return closeAndFail("cancelled");
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return closeAndFail(timedOut);
      pollfd p{fd, POLLOUT, 0};
      const int n = ::poll(&p, 1, static_cast<int>(std::min<std::int64_t>(left.count(), 50)));
      if (n < 0 && errno != EINTR) return closeAndFail(connectErrorText(errno));
      if (n > 0) break;
    }
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    if (err != 0) return closeAndFail(connectErrorText(err));
  }
  // The reader and writer threads use blocking calls (bounded by poll, SO_SNDTIMEO and the
  // watchdog's shutdown()).
  const int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) return closeAndFail(connectErrorText(errno));
  ConnectResult ok;
  ok.socket = std::make_unique<TcpSocket>(fd);
  return ok;
}

std::vector<std::string> localIpv4Addresses() {
  std::vector<std::string> lan, loop;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return {"127.0.0.1"};
  for (ifaddrs* i = list; i; i = i->ifa_next) {
    if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET) continue;
    char buf[INET_ADDRSTRLEN];
    const auto* sin = reinterpret_cast<const sockaddr_in*>(i->ifa_addr);
    if (!inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof buf)) continue;
    (std::strncmp(buf, "127.", 4) == 0 ? loop : lan).push_back(buf);
  }
  freeifaddrs(list);
  lan.insert(lan.end(), loop.begin(), loop.end());
  return lan;
}

}  // namespace huddle::net
