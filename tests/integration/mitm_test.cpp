// A man in the middle on loopback (docs/SECURITY.md s.4, s.5): a TLS proxy with its own key sits
// between a client and a real host and relays everything it can decrypt. A client pinned to
// the host stops in the handshake before saying anything; a client that trusts the proxy
// gets its password proof relayed and refused (the proof is bound to the client<->proxy TLS
// session, not the proxy<->host one); a captured proof replayed on a new connection is
// refused too.
// Threads: the test thread drives clients; MitmProxy runs one poll loop thread of its own.
//
// Index: helpers; [SECTION] the proxy (MitmProxy, what it saw in ProxySession);
// [SECTION] a raw TLS peer (TlsPeer, for sending captured bytes); [SECTION] tests.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <mutex>

#include "net/base/clock.h"
#include "net/room_auth.h"
#include "net/tls_engine.h"
#include "net/wire/frame_decoder.h"
#include "net/wire/messages.h"
#include "test_support.h"

using namespace huddle;
using namespace huddle::test;

namespace {

constexpr const char* kPassword = "correct-horse-battery";
using Exporter = std::array<std::uint8_t, 32>;

// The proxy and the raw peer read any frame; limits are not what these tests are about.
std::int64_t anyFrame(std::uint16_t, bool) { return 1 << 20; }

std::shared_ptr<const net::HostIdentity> makeIdentity() {
  std::string error;
  std::shared_ptr<const net::HostIdentity> id = net::HostIdentity::generate(error);
  EXPECT_TRUE(id) << error;
  return id;
}

// A passworded host presenting `id`. Every test starts its own, so the per-address lockout
// (maxAuthFailures wrong proofs from one IPv4 lock it out) starts at zero in each test.
// Everything here connects from 127.0.0.1: the proxy, the raw peers and the control client
// share one lockout entry. No test makes more than kMaxFailuresPerTest wrong proofs before a
// client that must get in, so the product's default limit stays in force: the control
// joining also shows the relay did not lock the real user out.
constexpr int kMaxFailuresPerTest = 2;
session::HostConfig passwordHostConfig(std::shared_ptr<const net::HostIdentity> id) {
  session::HostConfig c = testHostConfig();
  c.identity = std::move(id);
  c.password = kPassword;
  return c;
}

net::ChatClientConfig clientConfig(std::uint16_t port, const net::Fingerprint& pin) {
  net::ChatClientConfig c;
  c.port = port;
  c.name = "bob";
  c.password = kPassword;
  c.tls.emplace();
  c.tls->pin = pin;
  c.tls->pinBytes = pin.size();
  return c;
}

// The last Disconnected event a client saw (its flags say why it ended).
const net::ChatClientEvent* disconnectEvent(TestClient& c) {
  c.pump();
  for (auto it = c.events.rbegin(); it != c.events.rend(); ++it)
    if (it->kind == net::ChatClientEvent::Kind::Disconnected) return &*it;
  return nullptr;
}

bool hasUser(session::HostSession& host, const std::string& name) {
  for (const auto& u : host.chatHub().users())
    if (u.name == name) return true;
  return false;
}

void sendAllFd(int fd, const base::ByteVec& bytes) {
  std::size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = ::send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return;  // the peer is gone; the reader will see it
    off += static_cast<std::size_t>(n);
  }
}

int connectLoopback(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    ::close(fd);
    fd = -1;
  }
  return fd;
}

// One frame seen in plaintext, whole (header + payload), so it can be sent again as is.
struct SeenFrame {
  wire::MsgType type{};
  base::ByteVec bytes;
  std::int64_t atUs = 0;  // base::monoUs() when the proxy decrypted it
  std::span<const std::uint8_t> payload() const {
    return std::span<const std::uint8_t>(bytes).subspan(wire::kFrameHeaderBytes);
  }
};

// Appends every whole frame in `plain` to `out`. False once the stream is not frames.
bool collectFrames(wire::FrameDecoder& decoder, std::span<const std::uint8_t> plain, std::vector<SeenFrame>& out) {
  decoder.push(plain);
  while (true) {
    wire::Frame f;
    auto status = decoder.next(f);
    if (status == wire::FrameDecoder::Status::NeedMore) return true;
    if (status == wire::FrameDecoder::Status::Error) return false;
    SeenFrame s;
    s.type = static_cast<wire::MsgType>(f.type);
    s.atUs = base::monoUs();
    const auto len = static_cast<std::uint32_t>(f.payload.size());
    for (int i = 0; i < 4; ++i) s.bytes.push_back(static_cast<std::uint8_t>(len >> (8 * i)));
    s.bytes.push_back(static_cast<std::uint8_t>(f.type));
    s.bytes.push_back(static_cast<std::uint8_t>(f.type >> 8));
    s.bytes.insert(s.bytes.end(), f.payload.begin(), f.payload.end());
    out.push_back(std::move(s));
  }
}

const SeenFrame* findFrame(const std::vector<SeenFrame>& frames, wire::MsgType type) {
  for (const auto& f : frames)
    if (f.type == type) return &f;
  return nullptr;
}

// [SECTION] the proxy

// What the proxy saw on one relayed connection.
struct ProxySession {
  std::vector<SeenFrame> fromClient, fromHost;  // decrypted frames, in order
  std::uint64_t clientCipherBytes = 0;          // TLS bytes the client sent (its handshake)
  std::uint64_t clientPlainBytes = 0;           // application bytes decrypted from the client
  std::uint64_t hostPlainBytes = 0;
  bool clientSecured = false;  // the client finished the handshake with the proxy's key
  bool hostSecured = false;    // the proxy finished its own handshake with the host
  std::string clientTlsError;  // why the proxy's server side failed, if it did (not at EOF)
  Exporter clientExporter{}, hostExporter{};  // kAuthExporterLabel on each TLS session
  bool ended = false;                         // either side closed or failed
};

// A TLS-terminating relay on 127.0.0.1: presents its own identity to whoever connects,
// opens its own TLS connection to the host (pinned to the host's real key), and passes
// every decrypted byte both ways while recording it. Stopped (and its sockets closed) by
// stop() or its destructor. Thread: public methods from the test thread.
class MitmProxy {
 public:
  MitmProxy(std::shared_ptr<const net::HostIdentity> identity, std::uint16_t hostPort, const net::Fingerprint& hostPin)
      : m_identity(std::move(identity)), m_hostPort(hostPort), m_hostPin(hostPin) {}
  ~MitmProxy() { stop(); }
  MitmProxy(const MitmProxy&) = delete;
  MitmProxy& operator=(const MitmProxy&) = delete;

  bool start() {
    m_listenFd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    if (m_listenFd < 0 || ::bind(m_listenFd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 ||
        ::listen(m_listenFd, 8) != 0 || ::getsockname(m_listenFd, reinterpret_cast<sockaddr*>(&sa), &len) != 0)
      return false;
    m_port = ntohs(sa.sin_port);
    m_thread = std::thread([this] { run(); });
    return true;
  }
  void stop() {
    m_stop = true;
    if (m_thread.joinable()) m_thread.join();
    for (auto& l : m_links) {
      closeFd(l->down);
      closeFd(l->up);
    }
    m_links.clear();
    closeFd(m_listenFd);
  }
  std::uint16_t port() const { return m_port; }
  std::vector<ProxySession> sessions() const {
    std::lock_guard lock(m_mutex);
    return m_sessions;
  }

 private:
  // One relayed connection (proxy thread only); `index` is its record in m_sessions.
  struct Link {
    std::size_t index = 0;
    int down = -1, up = -1;  // to the client, to the host
    std::unique_ptr<net::TlsEngine> downTls, upTls;
    base::ByteVec pendingUp, pendingDown;  // plaintext waiting for the other side's handshake
    wire::FrameDecoder clientFrames{&anyFrame}, hostFrames{&anyFrame};
    bool ending = false;  // our sending sides are shut; reads only wait for EOF
  };

  static void closeFd(int& fd) {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }

  void run() {
    while (!m_stop.load()) {
      std::vector<pollfd> fds{{m_listenFd, POLLIN, 0}};
      std::vector<std::pair<Link*, bool>> owners{{nullptr, false}};  // (link, is the upstream fd)
      for (auto& l : m_links) {
        if (l->down >= 0) {
          fds.push_back({l->down, POLLIN, 0});
          owners.emplace_back(l.get(), false);
        }
        if (l->up >= 0) {
          fds.push_back({l->up, POLLIN, 0});
          owners.emplace_back(l.get(), true);
        }
      }
      if (::poll(fds.data(), fds.size(), 20) <= 0) continue;
      if (fds[0].revents & POLLIN) accept();
      for (std::size_t i = 1; i < fds.size(); ++i) {
        if (!fds[i].revents) continue;
        if (owners[i].second) fromHost(*owners[i].first);
        else fromClient(*owners[i].first);
      }
    }
  }

  void accept() {
    int fd = ::accept4(m_listenFd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) return;
    auto l = std::make_unique<Link>();
    l->down = fd;
    std::string error;
    l->downTls = net::TlsEngine::server(*m_identity, error);
    net::TlsEngine::ClientTrust trust;
    trust.pin = m_hostPin;
    trust.pinBytes = m_hostPin.size();
    l->upTls = net::TlsEngine::client(trust, error);
    l->up = connectLoopback(m_hostPort);
    {
      std::lock_guard lock(m_mutex);
      l->index = m_sessions.size();
      m_sessions.emplace_back();
    }
    if (!l->downTls || !l->upTls || l->up < 0) {
      m_links.push_back(std::move(l));
      return end(*m_links.back());
    }
    l->upTls->start();
    sendAllFd(l->up, l->upTls->takeCiphertext());
    m_links.push_back(std::move(l));
  }

  // Shuts our sending sides (the peers see EOF after everything relayed so far) and keeps
  // reading until each peer closes, so nothing unread turns the close into a reset.
  void end(Link& l) {
    if (l.ending) return;
    l.ending = true;
    if (l.down >= 0) ::shutdown(l.down, SHUT_WR);
    if (l.up >= 0) ::shutdown(l.up, SHUT_WR);
    std::lock_guard lock(m_mutex);
    m_sessions[l.index].ended = true;
  }

  // Reads from `fd`; false (and the fd closed) at EOF or error.
  bool readSome(int& fd, base::ByteVec& out) {
    out.resize(16384);
    ssize_t n = ::recv(fd, out.data(), out.size(), 0);
    if (n <= 0) {
      closeFd(fd);
      return false;
    }
    out.resize(static_cast<std::size_t>(n));
    return true;
  }

  void fromClient(Link& l) {
    base::ByteVec cipher, plain;
    if (!readSome(l.down, cipher)) return end(l);
    if (l.ending) return;
    const bool ok = l.downTls->feed(cipher, plain) == net::TlsEngine::Status::Ok;
    sendAllFd(l.down, l.downTls->takeCiphertext());
    {
      std::lock_guard lock(m_mutex);
      ProxySession& s = m_sessions[l.index];
      s.clientCipherBytes += cipher.size();
      s.clientPlainBytes += plain.size();
      if (l.downTls->handshakeDone() && !s.clientSecured) {
        s.clientSecured = true;
        l.downTls->exportKeyingMaterial(net::kAuthExporterLabel, s.clientExporter);
      }
      if (!ok) s.clientTlsError = l.downTls->error();
      collectFrames(l.clientFrames, plain, s.fromClient);
    }
    l.pendingUp.insert(l.pendingUp.end(), plain.begin(), plain.end());
    relay(l);
    if (!ok) end(l);
  }

  void fromHost(Link& l) {
    base::ByteVec cipher, plain;
    if (!readSome(l.up, cipher)) return end(l);
    if (l.ending) return;
    const bool ok = l.upTls->feed(cipher, plain) == net::TlsEngine::Status::Ok;
    sendAllFd(l.up, l.upTls->takeCiphertext());
    {
      std::lock_guard lock(m_mutex);
      ProxySession& s = m_sessions[l.index];
      s.hostPlainBytes += plain.size();
      if (l.upTls->handshakeDone() && !s.hostSecured) {
        s.hostSecured = true;
        l.upTls->exportKeyingMaterial(net::kAuthExporterLabel, s.hostExporter);
      }
      collectFrames(l.hostFrames, plain, s.fromHost);
    }
    l.pendingDown.insert(l.pendingDown.end(), plain.begin(), plain.end());
    relay(l);
    if (!ok) end(l);
  }

  // Re-encrypts what each side said for the other, once that side's handshake is done.
  void relay(Link& l) {
    if (l.upTls->handshakeDone() && !l.pendingUp.empty() && l.up >= 0) {
      l.upTls->write(l.pendingUp);
      l.pendingUp.clear();
      sendAllFd(l.up, l.upTls->takeCiphertext());
    }
    if (l.downTls->handshakeDone() && !l.pendingDown.empty() && l.down >= 0) {
      l.downTls->write(l.pendingDown);
      l.pendingDown.clear();
      sendAllFd(l.down, l.downTls->takeCiphertext());
    }
  }

  const std::shared_ptr<const net::HostIdentity> m_identity;
  const std::uint16_t m_hostPort;
  const net::Fingerprint m_hostPin;
  int m_listenFd = -1;
  std::uint16_t m_port = 0;
  std::atomic<bool> m_stop{false};
  std::thread m_thread;
  std::vector<std::unique_ptr<Link>> m_links;  // proxy thread (test thread after join)
  mutable std::mutex m_mutex;                  // guards m_sessions
  std::vector<ProxySession> m_sessions;
};

// [SECTION] a raw TLS peer

// A hand-driven client connection to the host over TLS (pinned), speaking frames directly:
// for sending exactly the bytes a test wants, such as a captured proof. Every wait is
// bounded. Thread: the test thread only.
class TlsPeer {
 public:
  TlsPeer(std::uint16_t port, const net::Fingerprint& pin) : m_fd(connectLoopback(port)) {
    net::TlsEngine::ClientTrust trust;
    trust.pin = pin;
    trust.pinBytes = pin.size();
    std::string error;
    m_tls = net::TlsEngine::client(trust, error);
    if (m_fd < 0 || !m_tls) return;
    m_tls->start();
    sendAllFd(m_fd, m_tls->takeCiphertext());
  }
  ~TlsPeer() {
    if (m_fd >= 0) ::close(m_fd);
  }
  TlsPeer(const TlsPeer&) = delete;
  TlsPeer& operator=(const TlsPeer&) = delete;

  bool handshake(int timeoutMs) {
    const std::int64_t deadline = base::monoUs() + std::int64_t{timeoutMs} * 1000;
    while (m_tls && !m_tls->handshakeDone() && base::monoUs() < deadline)
      if (!pump(20)) return false;
    return m_tls && m_tls->handshakeDone();
  }
  bool exporter(Exporter& out) const { return m_tls->exportKeyingMaterial(net::kAuthExporterLabel, out); }
  bool send(const base::ByteVec& frameBytes) {
    if (m_tls->write(frameBytes) != net::TlsEngine::Status::Ok) return false;
    sendAllFd(m_fd, m_tls->takeCiphertext());
    return true;
  }
  template <typename M>
  bool send(const M& msg) {
    return send(*wire::encodeFrame(msg));
  }
  // The next frame from the host within timeoutMs; false on timeout, close or a bad stream.
  bool next(int timeoutMs, SeenFrame& out) {
    const std::int64_t deadline = base::monoUs() + std::int64_t{timeoutMs} * 1000;
    while (true) {
      if (m_frames.size() > m_taken) {
        out = m_frames[m_taken++];
        return true;
      }
      if (m_eof || base::monoUs() >= deadline || !pump(20)) return false;
    }
  }
  // The next frame of type `M`, skipping others (history, user lists, pings).
  template <typename M>
  bool nextOf(int timeoutMs, M& msg, std::int64_t* atUs = nullptr) {
    const std::int64_t deadline = base::monoUs() + std::int64_t{timeoutMs} * 1000;
    SeenFrame f;
    while (next(static_cast<int>(std::max<std::int64_t>(0, deadline - base::monoUs()) / 1000), f)) {
      if (f.type != M::kType) continue;
      if (atUs) *atUs = f.atUs;
      return wire::decodePayload(f.payload(), msg);
    }
    return false;
  }
  // Every frame received so far (including those already taken).
  const std::vector<SeenFrame>& frames() const { return m_frames; }
  // Reads until the host closes the connection; false if it is still open at the timeout.
  bool waitClosed(int timeoutMs) {
    const std::int64_t deadline = base::monoUs() + std::int64_t{timeoutMs} * 1000;
    while (!m_eof && base::monoUs() < deadline) pump(20);
    return m_eof;
  }

 private:
  // Waits up to waitMs for bytes and processes them; false once the stream is over.
  bool pump(int waitMs) {
    if (m_fd < 0 || m_eof) return false;
    pollfd p{m_fd, POLLIN, 0};
    if (::poll(&p, 1, waitMs) <= 0) return true;
    std::uint8_t buf[16384];
    ssize_t n = ::recv(m_fd, buf, sizeof buf, 0);
    if (n <= 0) {
      m_eof = true;
      return false;
    }
    base::ByteVec plain;
    const bool ok = m_tls->feed(std::span<const std::uint8_t>(buf, static_cast<std::size_t>(n)), plain) ==
                    net::TlsEngine::Status::Ok;
    sendAllFd(m_fd, m_tls->takeCiphertext());
    if (!collectFrames(m_decoder, plain, m_frames) || !ok) m_eof = true;
    return !m_eof;
  }

  int m_fd = -1;
  std::unique_ptr<net::TlsEngine> m_tls;
  wire::FrameDecoder m_decoder{&anyFrame};
  std::vector<SeenFrame> m_frames;
  std::size_t m_taken = 0;
  bool m_eof = false;
};

// K as the host derived it, from the password and the challenge's parameters.
net::RoomKey roomKeyFor(const wire::AuthChallenge& c) {
  net::KdfParams params;
  params.ops = c.ops;
  params.memBytes = c.memBytes;
  params.salt = c.salt;
  net::RoomKey key{};
  std::string error;
  EXPECT_TRUE(net::deriveRoomKey(kPassword, params, key, error)) << error;
  return key;
}

// Runs `bob` (who trusts the proxy's key) through the relay to the end: it must be refused.
// Returns what the proxy saw on that connection.
ProxySession relayUntilRefused(session::HostSession& host, MitmProxy& proxy, const net::Fingerprint& proxyPin) {
  TestClient bob;
  bob.client.start(clientConfig(proxy.port(), proxyPin));
  bool bobListed = false;
  EXPECT_TRUE(waitFor([&] { bobListed |= hasUser(host, "bob"); bob.pump(); return bob.disconnected; }, 10000));
  // The host lets go of the relayed connection. (Not checked by its close reason: the client
  // may hang up on the Reject before the host marks the connection rejected.)
  EXPECT_TRUE(waitFor([&] {
    bobListed |= hasUser(host, "bob");
    return host.chatHub().stats().pending == 0;
  }, 5000));
  EXPECT_FALSE(bobListed) << "the relayed client appeared in the host's user list";
  EXPECT_FALSE(hasUser(host, "bob"));
  EXPECT_FALSE(bob.joined);
  const net::ChatClientEvent* end = disconnectEvent(bob);
  EXPECT_TRUE(end && end->needsPassword);
  EXPECT_TRUE(end && !end->hostKeyMismatch);
  EXPECT_NE(bob.disconnectText.find("wrong password"), std::string::npos) << bob.disconnectText;
  EXPECT_TRUE(waitFor([&] { auto s = proxy.sessions(); return s.size() == 1 && s[0].ended; }, 5000));
  auto sessions = proxy.sessions();
  return sessions.empty() ? ProxySession{} : sessions[0];
}

}  // namespace

// [SECTION] tests

// The proxy presents its own key to a client pinned to the host: the client stops inside the
// TLS handshake, so not one application byte (no Hello, no proof, nothing derived from K)
// reaches the proxy, even though the proxy could have relayed to the real host.
TEST(Mitm, PinnedClientStopsInTheHandshakeAndSendsNothing) {
  auto hostId = makeIdentity();
  auto proxyId = makeIdentity();
  session::HostSession host;
  std::string error;
  ASSERT_TRUE(host.start(passwordHostConfig(hostId), error)) << error;
  MitmProxy proxy(proxyId, host.chatPort(), hostId->fingerprint());
  ASSERT_TRUE(proxy.start());

  TestClient bob;
  bob.client.start(clientConfig(proxy.port(), hostId->fingerprint()));
  bool bobListed = false;
  ASSERT_TRUE(waitFor([&] { bobListed |= hasUser(host, "bob"); bob.pump(); return bob.disconnected; }, 5000));
  ASSERT_TRUE(waitFor([&] { auto s = proxy.sessions(); return s.size() == 1 && s[0].ended; }, 5000));

  EXPECT_FALSE(bob.joined);
  const net::ChatClientEvent* end = disconnectEvent(bob);
  ASSERT_NE(end, nullptr);
  EXPECT_TRUE(end->hostKeyMismatch);
  EXPECT_TRUE(end->neverJoined);
  EXPECT_FALSE(end->needsPassword);  // it never got as far as a challenge
  EXPECT_NE(end->text.find("WARNING"), std::string::npos) << end->text;
  EXPECT_NE(end->text.find("does not match"), std::string::npos) << end->text;
  EXPECT_NE(end->text.find("127.0.0.1:" + std::to_string(proxy.port())), std::string::npos) << end->text;

  ProxySession s = proxy.sessions().at(0);
  EXPECT_GT(s.clientCipherBytes, 0u);  // the ClientHello (the proxy answered with its flight)
  EXPECT_FALSE(s.clientSecured) << s.clientTlsError;  // the client never sent its Finished
  EXPECT_EQ(s.clientPlainBytes, 0u);   // so nothing was decrypted: no Hello, no proof
  EXPECT_TRUE(s.fromClient.empty());
  EXPECT_TRUE(s.fromHost.empty());     // no challenge could reach the client either
  EXPECT_EQ(s.hostPlainBytes, 0u);
  EXPECT_FALSE(bobListed);
  EXPECT_FALSE(hasUser(host, "bob"));
}

// The client trusts the proxy's key (as if the user had accepted it on first use) and knows
// the password; the proxy relays every byte. The client computes a correct proof for its own
// TLS session with the proxy, which is not the session the host checks it against, so the
// host refuses it after its fixed delay. The same client talking to the host directly joins.
TEST(Mitm, RelayedProofIsRefusedBecauseTheExportersDiffer) {
  auto hostId = makeIdentity();
  auto proxyId = makeIdentity();
  session::HostSession host;
  std::string error;
  session::HostConfig config = passwordHostConfig(hostId);
  ASSERT_TRUE(host.start(config, error)) << error;
  MitmProxy proxy(proxyId, host.chatPort(), hostId->fingerprint());
  ASSERT_TRUE(proxy.start());

  ProxySession s = relayUntilRefused(host, proxy, proxyId->fingerprint());

  // The relay really was a working one: both sessions up, the conversation passed in full.
  EXPECT_TRUE(s.clientSecured);
  EXPECT_TRUE(s.hostSecured);
  EXPECT_NE(s.clientExporter, s.hostExporter);
  const SeenFrame* hello = findFrame(s.fromClient, wire::MsgType::Hello);
  const SeenFrame* proofFrame = findFrame(s.fromClient, wire::MsgType::AuthProof);
  const SeenFrame* challengeFrame = findFrame(s.fromHost, wire::MsgType::AuthChallenge);
  const SeenFrame* rejectFrame = findFrame(s.fromHost, wire::MsgType::Reject);
  ASSERT_TRUE(hello && proofFrame && challengeFrame && rejectFrame);
  EXPECT_EQ(s.fromClient.size(), 2u);  // Hello, AuthProof: nothing else before the refusal
  EXPECT_EQ(findFrame(s.fromHost, wire::MsgType::Welcome), nullptr);
  wire::Reject reject;
  ASSERT_TRUE(wire::decodePayload(rejectFrame->payload(), reject));
  EXPECT_EQ(reject.code, wire::RejectCode::AuthFailed);
  EXPECT_EQ(reject.text, "wrong password");
  // The refusal waited for the fixed delay (measured at the proxy, so it can only be longer).
  const std::int64_t refusalUs = rejectFrame->atUs - proofFrame->atUs;
  RecordProperty("refusal_delay_ms", static_cast<int>(refusalUs / 1000));
  EXPECT_GE(refusalUs, config.hub.authFailureDelayUs);
  EXPECT_LT(refusalUs, 2'000'000);

  // Why it failed: the client knew the password (its proof is right for the client<->proxy
  // session) but the host checks it against the proxy<->host session.
  wire::AuthChallenge challenge;
  wire::AuthProofMsg proof;
  ASSERT_TRUE(wire::decodePayload(challengeFrame->payload(), challenge));
  ASSERT_TRUE(wire::decodePayload(proofFrame->payload(), proof));
  const net::RoomKey key = roomKeyFor(challenge);
  EXPECT_TRUE(net::proofsEqual(proof.proof, net::authProof(key, s.clientExporter, "bob")));
  EXPECT_FALSE(net::proofsEqual(proof.proof, net::authProof(key, s.hostExporter, "bob")));

  // Control: one failure from 127.0.0.1 (the proxy) is under the lockout limit, so the same
  // configuration pointed at the host itself, pinned to its key, gets in under the same name.
  ASSERT_LT(1, config.hub.maxAuthFailures);
  TestClient direct;
  direct.client.start(clientConfig(host.chatPort(), hostId->fingerprint()));
  ASSERT_TRUE(waitFor([&] { direct.pump(); return direct.joined || direct.disconnected; }, 10000));
  ASSERT_TRUE(direct.joined) << direct.disconnectText;
  EXPECT_EQ(direct.client.name(), "bob");  // not bob_2: the relayed bob never held the name
  EXPECT_TRUE(waitFor([&] { return hasUser(host, "bob"); }, 5000));
}

// A proof captured in one TLS session is worthless in another: replayed on a fresh
// connection after the same Hello, the host refuses it, whether it was a relayed proof
// (captured by a proxy the client trusted) or one the host had accepted.
TEST(Mitm, ReplayedProofIsRefusedOnANewConnection) {
  auto hostId = makeIdentity();
  auto proxyId = makeIdentity();
  session::HostSession host;
  std::string error;
  session::HostConfig config = passwordHostConfig(hostId);
  // The legitimate raw peer below stays seated but never answers the host's pings.
  config.hub.guard.heartbeatTimeoutUs = 60'000'000;
  ASSERT_TRUE(host.start(config, error)) << error;
  const std::uint16_t port = host.chatPort();
  const net::Fingerprint& pin = hostId->fingerprint();

  // 1. A recording proxy the client trusts captures its proof (refused there: failure #1).
  base::ByteVec relayedProof;
  {
    MitmProxy proxy(proxyId, port, pin);
    ASSERT_TRUE(proxy.start());
    ProxySession s = relayUntilRefused(host, proxy, proxyId->fingerprint());
    const SeenFrame* f = findFrame(s.fromClient, wire::MsgType::AuthProof);
    ASSERT_NE(f, nullptr);
    relayedProof = f->bytes;
  }

  // 2. A proof the host accepts: made on a direct connection for its own session (this also
  // resets the address's failure count).
  TlsPeer legit(port, pin);
  ASSERT_TRUE(legit.handshake(5000));
  wire::Hello hello;
  hello.name = "bob";
  ASSERT_TRUE(legit.send(hello));
  wire::AuthChallenge challenge;
  ASSERT_TRUE(legit.nextOf(5000, challenge));
  Exporter exporter{};
  ASSERT_TRUE(legit.exporter(exporter));
  wire::AuthProofMsg good;
  good.proof = net::authProof(roomKeyFor(challenge), exporter, hello.name);
  const base::ByteVec acceptedProof = *wire::encodeFrame(good);
  ASSERT_TRUE(legit.send(acceptedProof));
  wire::Welcome welcome;
  ASSERT_TRUE(legit.nextOf(5000, welcome));
  EXPECT_EQ(welcome.name, "bob");

  // 3. Each captured proof, byte for byte, on a new TLS connection after the same Hello.
  int failures = 0;
  for (const base::ByteVec* captured : {static_cast<const base::ByteVec*>(&relayedProof), &acceptedProof}) {
    SCOPED_TRACE(captured == &relayedProof ? "relayed proof" : "accepted proof");
    TlsPeer replay(port, pin);
    ASSERT_TRUE(replay.handshake(5000));
    ASSERT_TRUE(replay.send(hello));
    wire::AuthChallenge again;
    ASSERT_TRUE(replay.nextOf(5000, again));
    EXPECT_EQ(again.salt, challenge.salt);  // same room, same K: only the session differs
    const std::int64_t sentUs = base::monoUs();
    ASSERT_TRUE(replay.send(*captured));
    ++failures;
    wire::Reject reject;
    std::int64_t rejectUs = 0;
    ASSERT_TRUE(replay.nextOf(5000, reject, &rejectUs));
    EXPECT_EQ(reject.code, wire::RejectCode::AuthFailed);
    EXPECT_EQ(reject.text, "wrong password");
    RecordProperty(captured == &relayedProof ? "relayed_replay_refusal_ms" : "accepted_replay_refusal_ms",
                   static_cast<int>((rejectUs - sentUs) / 1000));
    EXPECT_GE(rejectUs - sentUs, config.hub.authFailureDelayUs);
    EXPECT_TRUE(replay.waitClosed(5000));
    EXPECT_EQ(findFrame(replay.frames(), wire::MsgType::Welcome), nullptr);
  }

  // The replays did not lock 127.0.0.1 out: a client with the password still gets in (the
  // name is taken by the legitimate raw peer, so it gets a suffix).
  ASSERT_LE(failures, kMaxFailuresPerTest);
  ASSERT_LT(kMaxFailuresPerTest, config.hub.maxAuthFailures);
  TestClient direct;
  direct.client.start(clientConfig(port, pin));
  ASSERT_TRUE(waitFor([&] { direct.pump(); return direct.joined || direct.disconnected; }, 10000));
  ASSERT_TRUE(direct.joined) << direct.disconnectText;
  EXPECT_EQ(direct.client.name(), "bob_2");
  auto users = host.chatHub().users();
  EXPECT_EQ(std::count_if(users.begin(), users.end(), [](const wire::UserInfo& u) { return u.name.rfind("bob", 0) == 0; }), 2);
}
