// A participant's chat connection: connects and does the handshake off the caller's thread,
// sends chat, and turns what the host says into ChatClientEvents on a queue the owner drains
// (the window each frame, the headless client in its loop). Never blocks the caller.
// Thread: public methods from any one owner thread; events produced on internal threads.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "net/base/event_queue.h"
#include "net/client_link.h"
#include "net/wire/limits.h"
#include "net/wire/messages.h"

namespace huddle::net {

struct ChatClientConfig {
  std::string host = "127.0.0.1";
  std::uint16_t port = wire::kDefaultChatPort;
  std::string name;
  std::uint64_t hostToken = 0;  // set by the host's own user
  // Reconnecting: the token of our previous connection, so the host gives us back our
  // seat and name at once instead of waiting to notice the old connection is dead.
  std::uint64_t resumeToken = 0;
  int connectTimeoutMs = wire::kConnectTimeoutMs;
  std::int64_t handshakeTimeoutUs = wire::kHandshakeTimeoutUs;
  std::int64_t heartbeatIntervalUs = wire::kHeartbeatIntervalUs;
  std::int64_t heartbeatTimeoutUs = wire::kHeartbeatTimeoutUs;
  // Called on a network thread after an event is queued (the window wakes its loop).
  std::function<void()> wake;
  std::optional<TlsEngine::ClientTrust> tls;  // see ClientLinkSettings
  std::string password;                       // the room password, if it has one
};

struct ChatClientEvent {
  enum class Kind { Connected, Chat, Users, Notice, Disconnected };
  Kind kind = Kind::Notice;
  wire::ChatEvent chat;               // Chat
  std::vector<wire::UserInfo> users;  // Users
  std::string text;                   // Connected: our final name; Notice; Disconnected: why
  std::string hostName;               // Connected
  std::uint16_t screenPort = 0;       // Connected: the host's screen port
  std::uint16_t voicePort = 0;        // Connected: the host's voice port (UDP; 0: no voice)
  std::uint32_t participantId = 0;    // Connected: ours
  std::uint64_t sessionId = 0;        // Connected: which hosted session (same after a blip)
  bool sessionEnded = false;          // Disconnected: the host ended it or removed us
  bool neverJoined = false;           // Disconnected: connect or handshake failed
  bool hostKeyMismatch = false;       // Disconnected: the host's key is not the pinned one
  bool needsPassword = false;         // Disconnected: the password was missing or wrong
  bool hostBusy = false;              // Disconnected: refused before the secure handshake
};

class ChatClient : public ClientLink {
 public:
  ChatClient();
  ~ChatClient() override;

  // Starts connecting; progress and results arrive as events. Call once.
  void start(ChatClientConfig config);
  // Sends a public message; false if not connected or the text is not valid chat.
  bool say(const std::string& text);
  // Sends a private message to one user.
  bool sayPrivate(const std::string& to, const std::string& text);

  // Voice over this connection when UDP does not get through: a sealed datagram to the host,
  // and where the host's go (called on the reader thread; null: dropped).
  bool sendVoice(std::span<const std::uint8_t> datagram);
  using VoiceSink = std::function<void(std::vector<std::uint8_t> datagram)>;
  void setVoiceSink(VoiceSink sink);

  // Files in the chat (app/session/file_transfers.h): the host's file messages go to the
  // sink on the reader thread, and it hears when everything queued has gone to the kernel
  // (on the writer thread), the moment to queue more pieces. Until a sink is set, file
  // messages but pieces wait (up to kMaxHeldFileFrames; more are dropped) and go to it, in order, when
  // it is; null again: they wait again.
  struct FileSink {
    virtual ~FileSink() = default;
    virtual void onFileFrame(const wire::Frame& frame) = 0;
    virtual void onLinkDrained() = 0;
  };
  void setFileSink(std::shared_ptr<FileSink> sink);
  // Sends a file message (net/wire/file_messages.h) as it is; false if not connected.
  bool sendFileFrame(base::Bytes frame) { return sendFrame(std::move(frame)); }

  base::EventQueue<ChatClientEvent>& events() { return m_events; }
  std::string name() const;

  // The chat port's half of the client protocol, without a connection (this class runs it
  // on its link; tests/fuzz runs it on bytes).
  //
  // The Connected event for the host's Welcome.
  static ChatClientEvent connectedEvent(const wire::Welcome& welcome);
  // The event for one chat-port message from the host; empty if fine, else what the host
  // did wrong (for a person), with `reason` set.
  static std::string eventFor(const wire::Frame& frame, ChatClientEvent& out, wire::Reason& reason);
  // The last event, from how the link ended.
  static ChatClientEvent disconnectedEvent(const LinkEnd& end);

 private:
  void onWelcome(const wire::Welcome& welcome) override;
  void onFrame(const wire::Frame& frame) override;
  void onEnded(const LinkEnd& end) override;
  void onDrained(std::size_t tracked) override;
  void emit(ChatClientEvent ev);

  base::EventQueue<ChatClientEvent> m_events{1 << 16};
  std::atomic<std::uint64_t> m_nextClientMsgId{1};
  mutable std::mutex m_mutex;
  std::string m_name;
  VoiceSink m_voiceSink;  // (m_mutex)
  std::shared_ptr<FileSink> m_fileSink;  // (m_mutex)
  static constexpr std::size_t kMaxHeldFileFrames = 256;
  std::vector<std::pair<std::uint16_t, base::ByteVec>> m_heldFileFrames;  // (m_mutex) before a sink
  std::mutex m_fileDelivery;  // held while file messages are handed over: one order
};

}  // namespace huddle::net
