// TLS 1.3 as a pure in-memory state machine: ciphertext from the socket goes in, plaintext
// comes out, and the reverse. OpenSSL's BIO is our own, reading from the bytes being fed and
// appending records straight to the output (a memory BIO zeroed and copied every record once
// more, for every viewer of every frame). No sockets inside, so the same code
// runs in connections, unit tests and fuzzers. The host presents its Ed25519 certificate;
// the client accepts only the public key it has pinned (SHA-256 of the SubjectPublicKeyInfo),
// never a CA chain, and sends no application byte before the handshake verified it.
// Thread: not thread-safe; the owning Connection serialises calls under its lock.
#pragma once
#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "net/base/bytes.h"
#include "net/wire/limits.h"

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;
typedef struct evp_pkey_st EVP_PKEY;
typedef struct x509_st X509;

namespace huddle::net {

using Fingerprint = std::array<std::uint8_t, 32>;  // SHA-256 of the DER SubjectPublicKeyInfo

// The host's long-lived identity: an Ed25519 key and a self-signed certificate for it.
class HostIdentity {
 public:
  HostIdentity();
  ~HostIdentity();
  HostIdentity(const HostIdentity&) = delete;
  HostIdentity& operator=(const HostIdentity&) = delete;

  // A fresh identity (first run, or tests).
  static std::unique_ptr<HostIdentity> generate(std::string& error);
  // Loads key and certificate PEM text; false with `error` if either is unusable.
  static std::unique_ptr<HostIdentity> fromPem(const std::string& keyPem, const std::string& certPem, std::string& error);
  std::string keyPem() const;
  std::string certPem() const;
  const Fingerprint& fingerprint() const { return m_fingerprint; }

  EVP_PKEY* key() const { return m_key; }
  X509* cert() const { return m_cert; }

 private:
  EVP_PKEY* m_key = nullptr;
  X509* m_cert = nullptr;
  Fingerprint m_fingerprint{};
};

// Fingerprint of a certificate's public key.
bool fingerprintOf(X509* cert, Fingerprint& out);
// "HUDL-7QK4-M2XD-9TFA-..." : the first 80 bits in base32 groups, for people to compare.
std::string shortCode(const Fingerprint& fp);
// Full 256 bits in base32 (for invite links and known_hosts).
std::string fingerprintText(const Fingerprint& fp);
// Parses either form back; a short code fills only its first 10 bytes and sets `bytes` = 10.
bool parseFingerprint(const std::string& text, Fingerprint& out, std::size_t& bytes);

class TlsEngine {
 public:
  enum class Role { Server, Client };
  // What the client does with the host's key: `pin` holds the expected fingerprint (its
  // first `pinBytes` bytes are compared, so a short code works); with pinBytes == 0 the
  // key is accepted and reported through peerFingerprint() (trust on first use: the
  // caller decides before sending anything).
  struct ClientTrust {
    Fingerprint pin{};
    std::size_t pinBytes = 0;
  };

  // Server: presents `identity`. Client: checks against `trust`.
  static std::unique_ptr<TlsEngine> server(const HostIdentity& identity, std::string& error);
  static std::unique_ptr<TlsEngine> client(const ClientTrust& trust, std::string& error);
  ~TlsEngine();
  TlsEngine(const TlsEngine&) = delete;
  TlsEngine& operator=(const TlsEngine&) = delete;

  enum class Status { Ok, Failed };
  // Starts the client's handshake (its first flight appears in takeCiphertext()).
  Status start();
  // Ciphertext from the peer. Decrypted application bytes are appended to `plaintext`.
  Status feed(std::span<const std::uint8_t> ciphertext, base::ByteVec& plaintext);
  // Encrypts application bytes; only valid once handshakeDone().
  Status write(std::span<const std::uint8_t> plaintext);
  // When to move our sending keys on (a KeyUpdate before the next record).
  struct KeyUpdatePolicy {
    std::uint64_t bytes = wire::kTlsKeyUpdateBytes;          // after this many plaintext bytes written
    std::int64_t intervalUs = wire::kTlsKeyUpdateIntervalUs;  // or this long after the last update
  };
  void setKeyUpdatePolicy(KeyUpdatePolicy policy) { m_keyPolicy = policy; }
  // Call before write()s with the monotonic time: sends a KeyUpdate when the policy says.
  Status updateKeysIfDue(std::int64_t nowUs);
  std::uint64_t keyUpdates() const { return m_keyUpdates; }
  // Everything ready to go to the socket, in order (handshake flights, records, alerts).
  base::ByteVec takeCiphertext();
  // Whether takeCiphertext() would return anything.
  bool hasCiphertext() const { return !m_out.empty(); }

  bool handshakeDone() const { return m_done; }
  // Why the engine failed, in words (OpenSSL's reason, or "host key does not match").
  const std::string& error() const { return m_error; }
  bool failed() const { return m_failed; }
  bool pinMismatch() const { return m_pinMismatch; }
  const Fingerprint& peerFingerprint() const { return m_peerFp; }
  // RFC 8446 exporter bound to this session (for the password proof); false before done.
  bool exportKeyingMaterial(const std::string& label, std::span<std::uint8_t> out) const;

 private:
  TlsEngine() = default;
  Status drive(base::ByteVec* plaintext);
  Status failWith(const std::string& what);
  static int verifyCallback(int preverifyOk, void* x509StoreCtx);
  // The BIO's two ends (net/tls_engine.cpp): OpenSSL takes up to `want` bytes of the input
  // being fed, and hands over a record to send.
  std::size_t bioRead(std::uint8_t* to, std::size_t want);
  void bioWrite(const std::uint8_t* from, std::size_t bytes) { m_out.insert(m_out.end(), from, from + bytes); }
  friend struct EngineBio;

  SSL_CTX* m_ctx = nullptr;
  SSL* m_ssl = nullptr;
  ClientTrust m_trust;
  Fingerprint m_peerFp{};
  bool m_done = false;
  bool m_failed = false;
  bool m_pinMismatch = false;
  std::string m_error;
  KeyUpdatePolicy m_keyPolicy;
  std::uint64_t m_bytesSinceKeyUpdate = 0;
  std::int64_t m_lastKeyUpdateUs = -1;  // -1: not yet timed (set by the first updateKeysIfDue)
  std::uint64_t m_keyUpdates = 0;
  std::span<const std::uint8_t> m_in;  // the ciphertext of the feed() under way, not yet read
  base::ByteVec m_out;  // records and flights not yet taken
};

}  // namespace huddle::net
