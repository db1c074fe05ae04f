#include "net/socket.h"

#include <SDL2/SDL_net.h>
#include <arpa/inet.h>
#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <future>
#include <ifaddrs.h>
#include <netdb.h>
#include <mutex>
#include <netinet/in.h>
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
  // A second line of defence behind the watchdog: a send that makes no progress for 10 s
  // returns instead of blocking forever.
  timeval tv{10, 0};
  setsockopt(m_fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  int on = 1;
  setsockopt(m_fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
}

TcpSocket::~TcpSocket() {
  if (m_set) SDLNet_FreeSocketSet(m_set);
  if (m_sock) SDLNet_TCP_Close(m_sock);
}

int TcpSocket::waitReadable(int timeoutMs) {
  if (!m_set) return -1;
  int n = SDLNet_CheckSockets(m_set, static_cast<Uint32>(timeoutMs));
  if (n < 0) return errno == EINTR ? 0 : -1;
  return n > 0 ? 1 : 0;
}

int TcpSocket::recv(void* buf, int maxBytes) { return SDLNet_TCP_Recv(m_sock, buf, maxBytes); }

bool TcpSocket::sendAll(const void* data, std::size_t size) {
  const auto* p = static_cast<const std::uint8_t*>(data);
  while (size > 0) {
    int chunk = static_cast<int>(std::min<std::size_t>(size, 1 << 30));
    int sent = SDLNet_TCP_Send(m_sock, p, chunk);
    if (sent < chunk) return false;
    p += sent;
    size -= static_cast<std::size_t>(sent);
  }
  return true;
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
  return true;
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

// State shared by the caller and the connect thread; whoever finishes last frees it.
struct ConnectAttempt {
  std::mutex mutex;
  bool abandoned = false;
  bool done = false;
  ConnectResult result;
  std::condition_variable cv;
};
}  // namespace

// getaddrinfo, not SDLNet_ResolveHost: SDL_net resolves with gethostbyname, which is not
// safe on several threads at once (connects run on their own threads).
static bool resolveIpv4(const std::string& host, std::uint16_t port, IPaddress& out) {
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &found) != 0 || !found) return false;
  const auto* sin = reinterpret_cast<const sockaddr_in*>(found->ai_addr);
  out.host = sin->sin_addr.s_addr;  // both in network byte order
  out.port = htons(port);
  freeaddrinfo(found);
  return true;
}

ConnectResult connectTcp(const std::string& host, std::uint16_t port, int timeoutMs,
                         const std::atomic<bool>* cancel) {
  std::string where = host + ":" + std::to_string(port);
  ConnectResult fail;
  std::string initError;
  if (!initNetwork(initError)) {
    fail.error = "Failed to connect to " + where + ": " + initError;
    return fail;
  }
  auto attempt = std::make_shared<ConnectAttempt>();
  try {
    std::thread([attempt, host, port, where] {
      ConnectResult r;
      IPaddress addr{};
      if (!resolveIpv4(host, port, addr)) {
        r.error = "Failed to connect to " + where + ": unknown host";
      } else {
        errno = 0;
        _TCPsocket* s = SDLNet_TCP_Open(&addr);
        int err = errno;
        if (s) r.socket = std::make_unique<TcpSocket>(s);
        else r.error = "Failed to connect to " + where + ": " + connectErrorText(err);
      }
      std::lock_guard lock(attempt->mutex);
      attempt->done = true;
      if (!attempt->abandoned) attempt->result = std::move(r);  // else r's socket closes here
      attempt->cv.notify_all();
    }).detach();
  } catch (const std::system_error& e) {
    fail.error = "Failed to connect to " + where + ": cannot start a thread";
    return fail;
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
  std::unique_lock lock(attempt->mutex);
  while (!attempt->done) {
    bool cancelled = cancel && cancel->load();
    if (cancelled || std::chrono::steady_clock::now() >= deadline) {
      attempt->abandoned = true;
      fail.error = "Failed to connect to " + where + ": " +
                   (cancelled ? std::string("cancelled") : "timed out after " + std::to_string(timeoutMs / 1000) + " s");
      return fail;
    }
    attempt->cv.wait_for(lock, std::chrono::milliseconds(50));
  }
  return std::move(attempt->result);
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
