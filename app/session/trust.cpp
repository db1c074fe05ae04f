#include "app/session/trust.h"

#include <sys/stat.h>

#include <sstream>

#include "app/session/config_files.h"
#include "app/session/options.h"
#include "net/base/utf8.h"
#include "net/wire/limits.h"

namespace huddle::session {

std::shared_ptr<const net::HostIdentity> loadOrCreateHostIdentity(const std::string& dir, bool& created,
                                                                  std::string& error) {
  created = false;
  if (dir.empty()) return error = "no folder for the host key (set HOME or XDG_CONFIG_HOME)", nullptr;
  const std::string keyPath = dir + "/host_key.pem", certPath = dir + "/host_cert.pem";
  struct stat st {};
  if (::stat(keyPath.c_str(), &st) == 0) {
    if (st.st_mode & 077)
      return error = "the host key " + keyPath + " can be read by others (mode " + std::to_string((st.st_mode >> 6) & 7) +
                     std::to_string((st.st_mode >> 3) & 7) + std::to_string(st.st_mode & 7) +
                     "); fix it with: chmod 600 " + keyPath,
             nullptr;
    std::string keyPem, certPem;
    if (!readSmallFile(keyPath, wire::kMaxKeyFileBytes, keyPem, error) ||
        !readSmallFile(certPath, wire::kMaxKeyFileBytes, certPem, error))
      return nullptr;
    std::string why;
    auto identity = net::HostIdentity::fromPem(keyPem, certPem, why);
    if (!identity) return error = "the host key in " + dir + " is unusable (" + why + "); move it away to make a new one", nullptr;
    return identity;
  }
  auto identity = net::HostIdentity::generate(error);
  if (!identity) return nullptr;
  // The certificate first: a key without its certificate is never left behind as "the" key.
  if (!writeFileAtomically(certPath, identity->certPem(), error) || !writeFileAtomically(keyPath, identity->keyPem(), error))
    return nullptr;
  created = true;
  return identity;
}

// [SECTION] known hosts

KnownHosts KnownHosts::load(const std::string& path, std::vector<std::string>& warnings) {
  KnownHosts k;
  std::string text, error;
  if (!readSmallFile(path, wire::kMaxKnownHostsBytes, text, error)) return k;  // none yet
  std::istringstream in(text);
  std::string line;
  int n = 0;
  while (std::getline(in, line) && k.m_entries.size() < wire::kMaxKnownHosts) {
    ++n;
    if (line.empty() || line[0] == '#') continue;
    std::istringstream ls(line);
    KnownHost h;
    std::string key;
    std::size_t bytes = 0;
    if (!(ls >> h.address >> key) || !net::parseFingerprint(key, h.key, bytes) || bytes != h.key.size()) {
      warnings.push_back(path + ": line " + std::to_string(n) + " is not 'ADDRESS KEY [LABEL]'; skipped");
      continue;
    }
    std::getline(ls >> std::ws, h.label);
    k.m_entries.push_back(std::move(h));
  }
  return k;
}

const KnownHost* KnownHosts::find(const std::string& address) const {
  for (const auto& h : m_entries)
    if (h.address == address) return &h;
  return nullptr;
}

void KnownHosts::remember(const std::string& address, const net::Fingerprint& key, const std::string& label) {
  forget(address);
  // One entry per line: a label with control characters (a newline could forge an entry) is left out.
  const bool clean = base::isValidUtf8(label) && !base::hasForbiddenControls(label, false);
  m_entries.push_back({address, key, clean ? label : std::string()});
}

bool KnownHosts::forget(const std::string& address) {
  const auto before = m_entries.size();
  std::erase_if(m_entries, [&](const KnownHost& h) { return h.address == address; });
  return m_entries.size() != before;
}

std::string KnownHosts::serialize() const {
  std::string out = "# Hosts this Huddle has met: ADDRESS KEY LABEL. Remove a line to forget a host.\n";
  for (const auto& h : m_entries) out += h.address + " " + net::fingerprintText(h.key) + " " + h.label + "\n";
  return out;
}

bool KnownHosts::save(const std::string& path, std::string& error) const {
  return writeFileAtomically(path, serialize(), error);
}

// [SECTION] invites

bool isInviteLink(const std::string& text) { return text.rfind("huddle://", 0) == 0; }

bool resolveJoinTarget(const std::string& text, std::uint16_t defaultPort, JoinTarget& out, std::string& error) {
  out = JoinTarget{};
  if (isInviteLink(text)) {
    if (!parseInvite(text, out.invite, error)) return false;
    out.haveInvite = true;
    out.host = out.invite.host;
    out.port = out.invite.port;
  } else if (!splitHostPort(text, out.host, out.port, defaultPort, error)) {
    return false;
  }
  out.address = out.host + ":" + std::to_string(out.port);
  return true;
}

std::string knownHostsPath() {
  const std::string dir = configDir();
  return dir.empty() ? "" : dir + "/known_hosts";
}

net::TlsEngine::ClientTrust pinOf(const net::Fingerprint& key, std::size_t bytes) {
  net::TlsEngine::ClientTrust t;
  t.pin = key;
  t.pinBytes = bytes;
  return t;
}

bool pinFor(const JoinTarget& t, const KnownHosts& known, net::TlsEngine::ClientTrust& out) {
  if (t.haveInvite) {
    out = pinOf(t.invite.key, t.invite.keyBytes);
    return true;
  }
  if (const KnownHost* h = known.find(t.address)) {
    out = pinOf(h->key);
    return true;
  }
  return false;
}

std::string changedKeyAdvice(const JoinTarget& t) {
  return "If the host really has a new key (it was reinstalled, or its key was deleted), ask for a new invite "
         "link, or remove the line for " + t.address + " from " + knownHostsPath() + ".";
}

bool parseInvite(const std::string& text, Invite& out, std::string& error) {
  if (!isInviteLink(text)) return error = "an invite link starts with huddle://", false;
  std::string rest = text.substr(9);
  const std::size_t q = rest.find("/?");
  std::string hostPort = rest.substr(0, q == std::string::npos ? rest.find('/') : q);
  if (!splitHostPort(hostPort, out.host, out.port, wire::kDefaultChatPort, error)) return false;
  if (q == std::string::npos) return error = "the invite link has no key code (fp=...)", false;
  std::istringstream params(rest.substr(q + 2));
  bool haveKey = false;
  for (std::string kv; std::getline(params, kv, '&');) {
    if (kv.rfind("fp=", 0) != 0) continue;  // other parameters are for later versions
    if (!net::parseFingerprint(kv.substr(3), out.key, out.keyBytes)) return error = "the invite link's key code is damaged", false;
    haveKey = true;
  }
  if (!haveKey) return error = "the invite link has no key code (fp=...)", false;
  return true;
}

std::string inviteLink(const std::string& host, std::uint16_t port, const net::Fingerprint& key) {
  return "huddle://" + host + ":" + std::to_string(port) + "/?fp=" + net::shortCode(key);
}

}  // namespace huddle::session
