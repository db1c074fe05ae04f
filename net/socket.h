// TCP sockets over SDL_net 2.2, with the workarounds its gaps need (see docs/SECURITY.md
// s.6): the hidden fd recovered and self-checked, the listen backlog raised, SIGPIPE ignored,
// the fd limit capped under select()'s FD_SETSIZE; outgoing connects are our own non-blocking
// connect() with a deadline (SDL_net's blocks for minutes), so no thread is involved.
// Thread: a TcpSocket is used by one reader and one sender at a time (its Connection's writer,
// or a thread sending a frame straight away while the writer is idle).
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

struct _TCPsocket;
struct _SDLNet_SocketSet;

namespace huddle::net {

// Process-wide setup, idempotent: SDLNet_Init, SIGPIPE ignored, RLIMIT_NOFILE soft <= 1024.
bool initNetwork(std::string& error);

// The OS descriptor inside an SDL_net socket, or -1 if the layout check failed (then
// callers fall back to timeouts alone). Exposed for the self-check test.
int sdlnetFd(_TCPsocket* sock);

class TcpSocket {
 public:
  // An SDL_net socket (accepted by a TcpListener).
  explicit TcpSocket(_TCPsocket* sock);
  // A connected blocking descriptor of our own (connectTcp): the same calls, on the fd.
  explicit TcpSocket(int connectedFd);
  ~TcpSocket();
  TcpSocket(const TcpSocket&) = delete;
  TcpSocket& operator=(const TcpSocket&) = delete;

  // Waits up to timeoutMs for readable data or EOF: 1 ready, 0 timeout, -1 error.
  int waitReadable(int timeoutMs);
  // Reads what is there (blocking until something is): >0 bytes, 0 EOF, <0 error.
  int recv(void* buf, int maxBytes);
  // Reads what is there without waiting: as recv(), or kNothingYet if nothing is. Needs the
  // descriptor (fd() >= 0).
  static constexpr int kNothingYet = -2;
  int recvNow(void* buf, int maxBytes);
  // Sends everything or fails; may block while the peer does not read (see shutdown()).
  bool sendAll(const void* data, std::size_t size);
  // Sends what the kernel takes now without blocking: the bytes taken (0 if none, or if the
  // descriptor is unknown), or -1 if the connection failed.
  long trySend(const void* data, std::size_t size);
  // Bytes handed to the kernel that the peer has not acknowledged yet (SIOCOUTQ), or -1 if
  // the descriptor is unknown. Safe beside a thread that sends.
  long unacknowledgedBytes() const;
  // Ends both directions at the OS level: wakes a thread blocked in send or recv at once.
  void shutdownBoth();
  // Ends our sending direction only (FIN after queued data); reads still work.
  void shutdownSend();
  // Caps the kernel's send buffer (bytes a stalled peer can hold up before send blocks).
  void setSendBuffer(int bytes);
  void setReceiveBuffer(int bytes);
  int fd() const { return m_fd; }
  const std::string& peerAddress() const { return m_peer; }
  std::uint32_t peerIpv4() const { return m_peerIp; }

 private:
  _TCPsocket* m_sock = nullptr;         // null for a socket of our own
  _SDLNet_SocketSet* m_set = nullptr;
  int m_fd = -1;
  std::string m_peer;
  std::uint32_t m_peerIp = 0;  // host byte order
};

class TcpListener {
 public:
  ~TcpListener();
  // Listens on every interface at `port` (0 = any free port) with a real backlog.
  bool open(std::uint16_t port, int backlog, std::string& error);
  // Waits up to timeoutMs for a connection; null on timeout or error (or after interrupt()).
  std::unique_ptr<TcpSocket> accept(int timeoutMs);
  std::uint16_t port() const { return m_port; }
  void close();
  // Ends a wait in accept() at once, from any thread (shutdown(2) of the listening socket,
  // which takes no one new after it). A no-op once closed.
  void interrupt();
  // Whether interrupt() can end a wait (the descriptor is known): else waits must be short.
  bool interruptible() const { return m_fd.load() >= 0; }

 private:
  _TCPsocket* m_sock = nullptr;
  _SDLNet_SocketSet* m_set = nullptr;
  std::uint16_t m_port = 0;
  std::atomic<int> m_fd{-1};
  std::mutex m_closeMutex;  // close() vs interrupt(): never a shutdown of a descriptor closed (and reused)
};

struct ConnectResult {
  std::unique_ptr<TcpSocket> socket;
  std::string error;  // "Failed to connect to 10.0.0.5:9999: connection refused"
};

// Resolves and connects on the caller's thread with a non-blocking connect(), polled until
// it completes, timeoutMs pass, or `cancel` (if given, checked every 50 ms) is set; nothing
// outlives the call. A name is resolved first by the system resolver, which the deadline and
// `cancel` cannot cut short (its own timeouts bound it); an address needs no resolving.
ConnectResult connectTcp(const std::string& host, std::uint16_t port, int timeoutMs,
                         const std::atomic<bool>* cancel = nullptr);

// Every local IPv4 address that others on the LAN could join, loopback last.
std::vector<std::string> localIpv4Addresses();

}  // namespace huddle::net
