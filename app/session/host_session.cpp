#include "app/session/host_session.h"

#include <random>

#include "net/base/clock.h"
#include "net/base/log.h"
#include "net/socket.h"

namespace huddle::session {

namespace {
// The host keeps K, never the password (the KDF runs here, once per password).
bool roomKeyFor(const std::string& password, net::KdfParams& kdf, net::RoomKey& key, std::string& error) {
  if (std::string why = net::validateRoomPassword(password); !why.empty()) return error = why, false;
  kdf = net::newKdfParams();
  return net::deriveRoomKey(password, kdf, key, error);
}
}  // namespace

HostSession::HostSession() = default;

bool HostSession::setPassword(const std::string& password, std::string& error) {
  if (!m_hub) return error = "not hosting", false;
  net::KdfParams kdf;
  net::RoomKey key{};
  if (!password.empty() && !roomKeyFor(password, kdf, key, error)) return false;
  m_hub->setRoomKey(!password.empty(), kdf, key);
  return true;
}
HostSession::~HostSession() { stop(); }

bool HostSession::start(const HostConfig& config, std::string& error) {
  m_config = config;
  net::ChatHubConfig hubConfig = config.hub;
  hubConfig.hostName = config.name;
  if (!config.password.empty()) {
    if (!roomKeyFor(config.password, hubConfig.kdf, hubConfig.roomKey, error)) return error = "cannot host: " + error, false;
    hubConfig.passwordRequired = true;
  }
  // The host's own user proves it is the host with a secret that never leaves this process.
  std::random_device rd;
  hubConfig.hostToken = (std::uint64_t(rd()) << 32 | rd()) | 1;
  // The two hubs meet only through these callbacks, each called outside the other's lock.
  // Voice over a chat connection (UDP blocked): into the relay like any datagram.
  hubConfig.onVoice = [this](std::uint32_t participantId, std::vector<std::uint8_t> datagram) {
    if (!m_voiceHub || !m_voiceServer) return;
    std::vector<net::VoiceDatagram> out;
    m_voiceHub->receive(datagram, net::VoiceEndpoint{0, 0, participantId}, base::monoUs(), out);
    m_voiceServer->dispatch(out);
  };
  hubConfig.onLeave = [this](std::uint32_t participantId) {
    if (m_screenHub) m_screenHub->dropParticipant(participantId, wire::Reason::IoEof);
    if (m_voiceHub) m_voiceHub->dropParticipant(participantId);
  };
  m_hub = std::make_unique<net::ChatHub>(hubConfig);
  std::string warning;
  if (!m_hub->loadHistory(warning, error)) return false;
  if (!warning.empty()) HLOG_WARN("session/host", "%s", warning.c_str());
  net::ScreenHubConfig screenConfig = config.screenHub;
  screenConfig.hostName = config.name;
  screenConfig.localTiersChanged = [this] { m_shareNudge.nudge(); };
  net::ChatHub* chat = m_hub.get();
  m_screenHub = std::make_unique<net::ScreenHub>(
      screenConfig,
      [chat](std::uint64_t token, net::ScreenSeat& seat) { return chat->findByToken(token, seat); },
      [chat](std::uint32_t id, bool sharing) { chat->setSharing(id, sharing); });

  net::TcpServer::Options chatOptions = config.server;
  chatOptions.name = "chat";
  chatOptions.identity = config.identity;
  m_chatServer = std::make_unique<net::TcpServer>(*m_hub, chatOptions);
  net::TcpServer::Options screenOptions = config.server;
  screenOptions.name = "screen";
  screenOptions.identity = config.identity;
  // A viewer's queue holds at most a few updates (credits); room for a few full frames.
  screenOptions.connection.maxQueuedBytes =
      std::max<std::size_t>(screenOptions.connection.maxQueuedBytes, wire::kMaxScreenQueuedBytes);
  // An update to a viewer whose connection is idle goes out on the thread that built it (the
  // capture thread, or the reader that got the credit): no writer wakeup per update and viewer.
  screenOptions.connection.inlineSends = true;
  // Every viewer returns a credit a frame: one thread reads them all, so credits that come
  // together cost one wake, not one thread's wake (and select) each.
  screenOptions.sharedReads = true;
  m_screenServer = std::make_unique<net::TcpServer>(*m_screenHub, screenOptions);
  if (!m_screenServer->start(config.screenPort, error)) {
    error = "Cannot host on screen port " + std::to_string(config.screenPort) + ": " + error;
    m_chatServer.reset();
    m_screenServer.reset();
    return false;
  }
  m_hub->setScreenPort(m_screenServer->port());
  // Voice: its own UDP port and thread. Without it the session goes on, voiceless.
  m_voiceHub = std::make_unique<net::VoiceHub>(
      config.voiceHub, [chat](std::uint32_t id, net::VoiceKeys& keys, std::uint32_t& ipv4) { return chat->findVoiceKeys(id, keys, ipv4); });
  m_voiceServer = std::make_unique<net::VoiceServer>(*m_voiceHub);
  m_voiceError.clear();
  m_voiceServer->setLossPercent(config.voiceLossPercent);
  m_voiceServer->setStreamSend([chat](std::uint32_t id, base::ByteVec datagram) { chat->sendVoice(id, std::move(datagram)); });
  if (m_voiceServer->start(config.voicePort, m_voiceError)) {
    m_hub->setVoicePort(m_voiceServer->port());
  } else {
    HLOG_WARN("session/host", "no voice: %s", m_voiceError.c_str());
    m_voiceServer.reset();
  }
  if (!m_chatServer->start(config.chatPort, error)) {
    error = "Cannot host on chat port " + std::to_string(config.chatPort) + ": " + error;
    m_screenServer->stop(0);
    m_voiceServer.reset();
    m_chatServer.reset();
    m_screenServer.reset();
    return false;
  }
  net::ChatClientConfig self;
  self.host = "127.0.0.1";
  self.port = m_chatServer->port();
  self.name = config.name;
  self.hostToken = hubConfig.hostToken;
  self.wake = config.wake;
  if (config.identity) {
    self.tls.emplace();
    self.tls->pin = config.identity->fingerprint();
    self.tls->pinBytes = self.tls->pin.size();
  }
  m_localConfig = self;
  m_localUser = std::make_unique<net::ChatClient>();
  m_localUser->start(self);
  m_running = true;
  return true;
}

void HostSession::setViewerMarks(bool allowed) {
  // Whichever comes second, this or the capture thread's new stream, applies it.
  m_viewerMarks = allowed;
  if (const std::uint32_t id = m_sharedStream.load(); id != 0) m_screenHub->setViewerMarks(id, allowed);
}

bool HostSession::startSharing(std::unique_ptr<capture::ScreenSource> source, const capture::CaptureSettings& settings,
                               int encoderThreads, std::string& error) {
  if (!m_running) return error = "not hosting", false;
  if (m_pipeline) return error = "already sharing", false;
  if (!source->open(error)) return false;  // first: a window's title is known once it is found
  m_shareTitle = source->title();
  m_pipeline = std::make_unique<capture::CapturePipeline>(
      std::move(source), settings, encoderThreads, [this](capture::EncodedUpdate&& u) {
        // Capture thread. The stream is created with the first frame's geometry. A new cursor
        // shape is kept first: the pipeline hands each on once, stream or not.
        const base::CursorImage* shape = u.cursor ? cursorShapeToSend(*u.cursor) : nullptr;
        std::uint32_t id = m_sharedStream.load();
        if (id == 0) {
          std::string why;
          std::uint32_t owner = m_localUser->participantId();
          if (u.tier != 0) return;  // the stream starts with the top's geometry
          id = m_screenHub->startLocalStream(owner ? owner : 1, m_config.name, m_shareTitle, u.widthPx, u.heightPx,
                                             u.tileSizePx, why);
          if (id == 0) {
            HLOG_WARN("session/host", "cannot share: %s", why.c_str());
            return;
          }
          m_sharedStream = id;
          if (!m_viewerMarks.load()) m_screenHub->setViewerMarks(id, false);  // a stream starts with them on
        }
        wire::TileBatch b;
        b.seq = u.seq;
        b.captureTimeUs = u.captureTimeUs;  // the host's own clock: no offset
        b.widthPx = u.widthPx;
        b.heightPx = u.heightPx;
        b.tileSizePx = u.tileSizePx;
        b.tiles = std::move(u.tiles);
        b.copies = std::move(u.copies);
        b.patches = std::move(u.patches);
        // With its cursor, if it moved: each viewer gets the two in one write.
        m_screenHub->publishLocal(id, std::move(b), u.tier, shape, u.cursor ? &u.cursor->pos : nullptr);
        if (u.cursor) m_cursorShapeSent = true;
      });
  // The tiers the host's viewers are on (or moving to): only those are encoded.
  // A TierGate: a tier let go and wanted again between two frames is seen off once, so it is
  // sent whole.
  m_pipeline->setTierGate([this, gate = net::TierGate()]() mutable -> std::uint8_t {
    const std::uint32_t id = m_sharedStream.load();
    return id == 0 ? 1 : gate.poll(m_screenHub->wantedTiersOf(id));
  });
  m_cursorShape = {};
  m_cursorShapeSent = false;
  m_pipeline->setCursorCallback([this](const capture::CursorUpdate& c) {
    // Capture thread, after the frame's tiles: the relay keeps the shape and sends positions
    // ahead of any update.
    const base::CursorImage* shape = cursorShapeToSend(c);
    const std::uint32_t id = m_sharedStream.load();
    if (id == 0) return;
    m_screenHub->publishLocalCursor(id, shape, c.pos);
    m_cursorShapeSent = true;
  });
  if (!m_pipeline->start(error)) {
    m_pipeline.reset();
    return false;
  }
  m_shareNudge.set(m_pipeline.get());
  return true;
}

const base::CursorImage* HostSession::cursorShapeToSend(const capture::CursorUpdate& c) {
  if (c.shape) {
    m_cursorShape = *c.shape;
    m_cursorShapeSent = false;
  }
  return m_cursorShapeSent ? nullptr : &m_cursorShape;
}

void HostSession::stopSharing() {
  if (!m_pipeline) return;
  m_shareNudge.set(nullptr);
  m_pipeline->stop();
  m_pipeline.reset();
  if (std::uint32_t id = m_sharedStream.exchange(0)) m_screenHub->endStream(id, m_config.name + " stopped sharing");
}

void HostSession::stop(const std::string& reason) {
  if (!m_running) return;
  // The capture stops, but the stream is not ended on its own: viewers hear that the session
  // ended, not that the host stopped sharing just before.
  m_shareNudge.set(nullptr);
  if (m_pipeline) m_pipeline->stop();
  m_pipeline.reset();
  m_sharedStream = 0;
  m_running = false;
  m_screenHub->shutdown(reason);
  m_hub->shutdown(reason);
  m_screenServer->stop(wire::kShutdownGraceMs);
  m_chatServer->stop(wire::kShutdownGraceMs);
  if (m_voiceServer) m_voiceServer->stop();
}

std::unique_ptr<net::ChatClient> HostSession::rejoinLocalUser() {
  stopSharing();  // its capture thread reads the local user's id
  std::unique_ptr<net::ChatClient> old = std::move(m_localUser);
  m_localUser = std::make_unique<net::ChatClient>();
  m_localUser->start(m_localConfig);
  return old;
}

std::uint16_t HostSession::chatPort() const { return m_chatServer ? m_chatServer->port() : 0; }
std::uint16_t HostSession::screenPort() const { return m_screenServer ? m_screenServer->port() : 0; }

std::vector<std::string> HostSession::joinAddresses() const { return net::localIpv4Addresses(); }

}  // namespace huddle::session
