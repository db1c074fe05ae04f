// Who is who: the host's long-lived identity on disk, the hosts a client has met
// (known_hosts), and invite links that carry a host's key code so joining has no
// trust-on-first-use gap. See docs/SECURITY.md s.4.
// Thread: plain functions and data; callers serialise access to one KnownHosts.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "net/tls_engine.h"
#include "net/wire/limits.h"

namespace huddle::session {

// Loads `dir`/host_key.pem and host_cert.pem, or makes them on first run (key 0600 in a
// 0700 folder, written atomically). Refuses a key file others can read, as ssh does.
std::shared_ptr<const net::HostIdentity> loadOrCreateHostIdentity(const std::string& dir, bool& created,
                                                                  std::string& error);

struct KnownHost {
  std::string address;  // "host:port" as the user joins it
  net::Fingerprint key{};
  std::string label;    // the host's name when we met it
};

// known_hosts: one line per host, "ADDRESS KEY LABEL", KEY in full base32.
class KnownHosts {
 public:
  // A missing file is an empty list; bad lines are skipped with a warning.
  static KnownHosts load(const std::string& path, std::vector<std::string>& warnings);
  const KnownHost* find(const std::string& address) const;
  // Adds or replaces the entry for `address`.
  void remember(const std::string& address, const net::Fingerprint& key, const std::string& label);
  bool forget(const std::string& address);
  std::string serialize() const;
  bool save(const std::string& path, std::string& error) const;
  const std::vector<KnownHost>& entries() const { return m_entries; }

 private:
  std::vector<KnownHost> m_entries;
};

// "huddle://HOST:PORT/?fp=HUDL-XXXX-..." (the port may be left out: wire::kDefaultChatPort).
struct Invite {
  std::string host;
  std::uint16_t port = wire::kDefaultChatPort;
  net::Fingerprint key{};
  std::size_t keyBytes = 0;  // 10 for a short code, 32 for a full key
};
bool isInviteLink(const std::string& text);
// What a client joins: from "host", "host:port" or an invite link.
struct JoinTarget {
  std::string host;
  std::uint16_t port = wire::kDefaultChatPort;
  std::string address;  // "host:port": the key in known_hosts
  bool haveInvite = false;
  Invite invite;
};
bool resolveJoinTarget(const std::string& text, std::uint16_t defaultPort, JoinTarget& out, std::string& error);
// configDir()/known_hosts (empty if there is no config folder).
std::string knownHostsPath();
// The key to pin when joining `t`: the invite's code, else the remembered key. False when
// the host is new to us: then learn its key (net::probeHostKey) and ask the user first.
bool pinFor(const JoinTarget& t, const KnownHosts& known, net::TlsEngine::ClientTrust& out);
net::TlsEngine::ClientTrust pinOf(const net::Fingerprint& key, std::size_t bytes = 32);
// What to do about a host whose key changed, after the hard stop.
std::string changedKeyAdvice(const JoinTarget& t);
bool parseInvite(const std::string& text, Invite& out, std::string& error);
std::string inviteLink(const std::string& host, std::uint16_t port, const net::Fingerprint& key);

}  // namespace huddle::session
