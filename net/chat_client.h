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
#include <string>
#include <thread>
#include <vector>

#include "net/base/event_queue.h"
#include "net/connection.h"
#include "net/wire/frame_decoder.h"
#include "net/wire/messages.h"

namespace huddle::net {

struct ChatClientConfig {
  std::string host = "127.0.0.1";
  std::uint16_t port = 9999;
  std::string name;
  std::uint64_t hostToken = 0;  // set by the host's own user
  int connectTimeoutMs = 10'000;
  std::int64_t handshakeTimeoutUs = 10'000'000;
  std::int64_t heartbeatIntervalUs = 2'000'000;
  std::int64_t heartbeatTimeoutUs = 10'000'000;
  // Called on a network thread after an event is queued (the window wakes its loop).
  std::function<void()> wake;
};

struct ChatClientEvent {
  enum class Kind { Connected, Chat, Users, Notice, Disconnected };
  Kind kind = Kind::Notice;
  wire::ChatEvent chat;               // Chat
  std::vector<wire::UserInfo> users;  // Users
  std::string text;                   // Connected: our final name; Notice; Disconnected: why
  std::string hostName;               // Connected
  bool sessionEnded = false;          // Disconnected: the host ended it or removed us
  bool neverJoined = false;           // Disconnected: connect or handshake failed
};

class ChatClient : private Connection::Handler {
 public:
  ChatClient();
  ~ChatClient() override;
  ChatClient(const ChatClient&) = delete;
  ChatClient& operator=(const ChatClient&) = delete;

  // Starts connecting; progress and results arrive as events. Call once.
  void start(ChatClientConfig config);
  // Sends a public message; false if not connected or the text is not valid chat.
  bool say(const std::string& text);
  // Sends a private message to one user.
  bool sayPrivate(const std::string& to, const std::string& text);
  // Leaves politely (the host sees "left"), waits briefly for the goodbye to go out.
  void leave();

  base::EventQueue<ChatClientEvent>& events() { return m_events; }
  bool connected() const { return m_joined.load(); }
  bool finished() const { return m_finished.load(); }
  std::string name() const;
  std::uint32_t participantId() const { return m_participantId.load(); }
  std::uint64_t token() const { return m_token.load(); }
  // Host wall clock minus ours, estimated from ping round trips (microseconds).
  std::int64_t clockOffsetUs() const { return m_clockOffsetUs.load(); }
  std::int64_t roundTripUs() const { return m_rttUs.load(); }

 private:
  void run();
  void onReceive(std::span<const std::uint8_t> bytes) override;
  void onClosed(wire::Reason reason, const std::string& detail) override;
  void handleFrame(const wire::Frame& frame);
  void fail(wire::Reason reason, const std::string& text);
  void emit(ChatClientEvent ev);

  ChatClientConfig m_config;
  base::EventQueue<ChatClientEvent> m_events{1 << 16};
  std::thread m_thread;
  std::unique_ptr<Connection> m_conn;  // set once by run(); read by senders after m_joined
  wire::FrameDecoder m_decoder;

  std::atomic<bool> m_stop{false};
  std::atomic<bool> m_joined{false};
  std::atomic<bool> m_finished{false};
  std::atomic<std::int64_t> m_lastRecvUs{0};
  std::atomic<std::uint32_t> m_participantId{0};
  std::atomic<std::uint64_t> m_token{0};
  std::atomic<std::int64_t> m_clockOffsetUs{0};
  std::atomic<std::int64_t> m_rttUs{0};
  std::atomic<std::uint64_t> m_nextClientMsgId{1};

  mutable std::mutex m_mutex;  // guards the fields below
  std::string m_name;
  std::string m_endText;       // why the session ended, decided by the first cause seen
  bool m_sessionEnded = false;
};

}  // namespace huddle::net
