#include "net/tls_engine.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <utility>

namespace huddle::net {

namespace {

// Base32 without the look-alikes 0/O and 1/I, so a code read aloud or off a screen survives.
constexpr char kAlphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

std::string base32(const std::uint8_t* data, std::size_t bytes, std::size_t chars) {
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  std::size_t i = 0;
  while (out.size() < chars) {
    if (bits < 5) {
      buffer = (buffer << 8) | (i < bytes ? data[i] : 0);
      ++i;
      bits += 8;
    }
    out.push_back(kAlphabet[(buffer >> (bits - 5)) & 31]);
    bits -= 5;
  }
  return out;
}

std::string grouped(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i && i % 4 == 0) out.push_back('-');
    out.push_back(s[i]);
  }
  return out;
}

std::string opensslError(const char* what) {
  unsigned long e = ERR_get_error();
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return std::string(what) + (e ? std::string(": ") + buf : std::string());
}

std::string bioToString(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(n > 0 ? n : 0));
}

}  // namespace

// [SECTION] fingerprints

bool fingerprintOf(X509* cert, Fingerprint& out) {
  unsigned char* der = nullptr;
  int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);
  if (len <= 0) return false;
  SHA256(der, static_cast<std::size_t>(len), out.data());
  OPENSSL_free(der);
  return true;
}

std::string shortCode(const Fingerprint& fp) { return "HUDL-" + grouped(base32(fp.data(), 10, 16)); }

std::string fingerprintText(const Fingerprint& fp) { return grouped(base32(fp.data(), fp.size(), 52)); }

bool parseFingerprint(const std::string& text, Fingerprint& out, std::size_t& bytes) {
  std::string s;
  for (char c : text) {
    if (c == '-' || c == ' ') continue;
    s.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  if (s.rfind("HUDL", 0) == 0 && (s.size() == 20 || s.size() == 56)) s = s.substr(4);
  if (s.size() != 16 && s.size() != 52) return false;
  out.fill(0);
  std::uint32_t buffer = 0;
  int bits = 0;
  std::size_t pos = 0;
  for (char c : s) {
    const char* p = std::strchr(kAlphabet, c);
    if (!p || c == '\0') return false;
    buffer = (buffer << 5) | static_cast<std::uint32_t>(p - kAlphabet);
    bits += 5;
    if (bits >= 8) {
      if (pos < out.size()) out[pos++] = static_cast<std::uint8_t>(buffer >> (bits - 8));
      bits -= 8;
    }
  }
  bytes = s.size() == 16 ? 10 : 32;
  return true;
}

// [SECTION] HostIdentity

HostIdentity::HostIdentity() = default;
HostIdentity::~HostIdentity() {
  EVP_PKEY_free(m_key);
  X509_free(m_cert);
}

std::unique_ptr<HostIdentity> HostIdentity::generate(std::string& error) {
  auto id = std::unique_ptr<HostIdentity>(new HostIdentity());
  id->m_key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  if (!id->m_key) return error = opensslError("cannot generate an Ed25519 key"), nullptr;
  X509* cert = X509_new();
  id->m_cert = cert;
  std::uint8_t serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7F;
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert));
  BN_free(bn);
  X509_set_version(cert, 2);
  // Validity is not what makes the key trusted (clients pin it), so it is long.
  X509_gmtime_adj(X509_getm_notBefore(cert), -86400);
  X509_gmtime_adj(X509_getm_notAfter(cert), 20L * 365 * 86400);
  X509_set_pubkey(cert, id->m_key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("huddle-host"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  if (X509_sign(cert, id->m_key, nullptr) <= 0) return error = opensslError("cannot sign the host certificate"), nullptr;
  if (!fingerprintOf(cert, id->m_fingerprint)) return error = "cannot hash the host key", nullptr;
  return id;
}

std::unique_ptr<HostIdentity> HostIdentity::fromPem(const std::string& keyPem, const std::string& certPem,
                                                    std::string& error) {
  auto id = std::unique_ptr<HostIdentity>(new HostIdentity());
  BIO* kb = BIO_new_mem_buf(keyPem.data(), static_cast<int>(keyPem.size()));
  id->m_key = PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr);
  BIO_free(kb);
  BIO* cb = BIO_new_mem_buf(certPem.data(), static_cast<int>(certPem.size()));
  id->m_cert = PEM_read_bio_X509(cb, nullptr, nullptr, nullptr);
  BIO_free(cb);
  if (!id->m_key) return error = opensslError("the host key file is not a usable private key"), nullptr;
  if (!id->m_cert) return error = opensslError("the host certificate file is not a usable certificate"), nullptr;
  if (EVP_PKEY_get_id(id->m_key) != EVP_PKEY_ED25519) return error = "the host key is not an Ed25519 key", nullptr;
  if (X509_check_private_key(id->m_cert, id->m_key) != 1)
    return error = "the host certificate does not belong to the host key", nullptr;
  if (!fingerprintOf(id->m_cert, id->m_fingerprint)) return error = "cannot hash the host key", nullptr;
  return id;
}

std::string HostIdentity::keyPem() const {
  BIO* b = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(b, m_key, nullptr, nullptr, 0, nullptr, nullptr);
  std::string s = bioToString(b);
  BIO_free(b);
  return s;
}

std::string HostIdentity::certPem() const {
  BIO* b = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(b, m_cert);
  std::string s = bioToString(b);
  BIO_free(b);
  return s;
}

// [SECTION] TlsEngine

// The engine's BIO, one method for all engines. Read: the bytes being fed; none left is
// "retry", never end of stream. Write: appended to the
// output as they come, so a record is copied once, where a memory BIO zeroed its growth,
// copied the record in, and takeCiphertext() zeroed and copied it out again.
struct EngineBio {
  static TlsEngine* engine(BIO* bio) { return static_cast<TlsEngine*>(BIO_get_data(bio)); }
  static int read(BIO* bio, char* to, std::size_t want, std::size_t* got) {
    BIO_clear_retry_flags(bio);
    *got = engine(bio)->bioRead(reinterpret_cast<std::uint8_t*>(to), want);
    if (*got > 0) return 1;
    BIO_set_retry_read(bio);
    return 0;
  }
  static int write(BIO* bio, const char* from, std::size_t bytes, std::size_t* wrote) {
    BIO_clear_retry_flags(bio);
    // No throw may cross OpenSSL's C frames: out of memory is a failed write (no retry), which
    // fails the call under way and so the engine.
    try {
      engine(bio)->bioWrite(reinterpret_cast<const std::uint8_t*>(from), bytes);
    } catch (...) {
      *wrote = 0;
      return 0;
    }
    *wrote = bytes;
    return 1;
  }
  static long ctrl(BIO*, int cmd, long, void*) {
    // OpenSSL flushes after a handshake flight; there is nothing to flush. Anything else
    // (pending counts, kTLS queries) is not ours to answer.
    return cmd == BIO_CTRL_FLUSH ? 1 : 0;
  }
  static int create(BIO* bio) {
    BIO_set_init(bio, 1);
    return 1;
  }
  static const BIO_METHOD* method() {
    static BIO_METHOD* const m = [] {
      BIO_METHOD* made = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "huddle TLS engine");
      if (made && (BIO_meth_set_read_ex(made, read) != 1 || BIO_meth_set_write_ex(made, write) != 1 ||
                   BIO_meth_set_ctrl(made, ctrl) != 1 || BIO_meth_set_create(made, create) != 1)) {
        BIO_meth_free(made);
        made = nullptr;
      }
      return made;
    }();
    return m;
  }
};

static SSL* newSsl(SSL_CTX* ctx, TlsEngine* engine) {
  const BIO_METHOD* method = EngineBio::method();
  if (!method) return nullptr;
  SSL* ssl = SSL_new(ctx);
  if (!ssl) return nullptr;
  BIO* bio = BIO_new(method);
  if (!bio) {
    SSL_free(ssl);
    return nullptr;
  }
  BIO_set_data(bio, engine);
  SSL_set_bio(ssl, bio, bio);  // one BIO both ways: the SSL takes our one reference
  return ssl;
}

static SSL_CTX* newContext(const SSL_METHOD* method) {
  SSL_CTX* ctx = SSL_CTX_new(method);
  if (!ctx) return nullptr;
  SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
  // No tickets: no resumption, nothing sent after the handshake that we did not ask for.
  SSL_CTX_set_num_tickets(ctx, 0);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
  return ctx;
}

std::unique_ptr<TlsEngine> TlsEngine::server(const HostIdentity& identity, std::string& error) {
  auto e = std::unique_ptr<TlsEngine>(new TlsEngine());
  e->m_ctx = newContext(TLS_server_method());
  if (!e->m_ctx || SSL_CTX_use_certificate(e->m_ctx, identity.cert()) != 1 ||
      SSL_CTX_use_PrivateKey(e->m_ctx, identity.key()) != 1)
    return error = opensslError("cannot set up TLS"), nullptr;
  e->m_ssl = newSsl(e->m_ctx, e.get());
  if (!e->m_ssl) return error = opensslError("cannot set up TLS"), nullptr;
  SSL_set_accept_state(e->m_ssl);
  return e;
}

int TlsEngine::verifyCallback(int, void* storeCtxVoid) {
  auto* storeCtx = static_cast<X509_STORE_CTX*>(storeCtxVoid);
  // Only the leaf matters: trust comes from the pinned key, never from a CA chain (pinned
  // keys are compared here and never put into an X509_STORE).
  if (X509_STORE_CTX_get_error_depth(storeCtx) != 0) return 1;
  auto* ssl = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(storeCtx, SSL_get_ex_data_X509_STORE_CTX_idx()));
  auto* self = static_cast<TlsEngine*>(SSL_get_app_data(ssl));
  X509* cert = X509_STORE_CTX_get_current_cert(storeCtx);
  if (!self || !cert || !fingerprintOf(cert, self->m_peerFp)) return 0;
  if (self->m_trust.pinBytes == 0) return 1;  // trust on first use: the caller decides
  if (std::memcmp(self->m_peerFp.data(), self->m_trust.pin.data(), self->m_trust.pinBytes) != 0) {
    self->m_pinMismatch = true;
    return 0;
  }
  return 1;
}

std::unique_ptr<TlsEngine> TlsEngine::client(const ClientTrust& trust, std::string& error) {
  auto e = std::unique_ptr<TlsEngine>(new TlsEngine());
  e->m_trust = trust;
  e->m_trust.pinBytes = std::min(trust.pinBytes, trust.pin.size());
  e->m_ctx = newContext(TLS_client_method());
  if (!e->m_ctx) return error = opensslError("cannot set up TLS"), nullptr;
  SSL_CTX_set_verify(e->m_ctx, SSL_VERIFY_PEER,
                     [](int ok, X509_STORE_CTX* ctx) { return TlsEngine::verifyCallback(ok, ctx); });
  e->m_ssl = newSsl(e->m_ctx, e.get());
  if (!e->m_ssl) return error = opensslError("cannot set up TLS"), nullptr;
  SSL_set_app_data(e->m_ssl, e.get());
  SSL_set_connect_state(e->m_ssl);
  return e;
}

TlsEngine::~TlsEngine() {
  SSL_free(m_ssl);
  SSL_CTX_free(m_ctx);
}

TlsEngine::Status TlsEngine::failWith(const std::string& what) {
  m_failed = true;
  if (m_error.empty()) m_error = m_pinMismatch ? "the host's key does not match the pinned fingerprint" : what;
  ERR_clear_error();
  return Status::Failed;
}

TlsEngine::Status TlsEngine::start() { return drive(nullptr); }

TlsEngine::Status TlsEngine::drive(base::ByteVec* plaintext) {
  if (m_failed) return Status::Failed;
  if (!m_done) {
    int r = SSL_do_handshake(m_ssl);
    // SSL_get_error() right after the call: anything in between can change its answer.
    int err = SSL_get_error(m_ssl, r);
    if (r == 1) {
      m_done = true;
    } else if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
      return failWith(opensslError("TLS handshake failed"));
    }
  }
  if (!m_done || !plaintext) return Status::Ok;
  std::uint8_t buf[16384];
  while (true) {
    std::size_t got = 0;
    int r = SSL_read_ex(m_ssl, buf, sizeof buf, &got);
    int err = SSL_get_error(m_ssl, r);
    if (r == 1) {
      plaintext->insert(plaintext->end(), buf, buf + got);
      continue;
    }
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return Status::Ok;
    if (err == SSL_ERROR_ZERO_RETURN) return failWith("the peer closed the TLS session");
    return failWith(opensslError("TLS record error"));
  }
}

std::size_t TlsEngine::bioRead(std::uint8_t* to, std::size_t want) {
  const std::size_t got = std::min(want, m_in.size());
  if (got) std::memcpy(to, m_in.data(), got);
  m_in = m_in.subspan(got);
  return got;
}

TlsEngine::Status TlsEngine::feed(std::span<const std::uint8_t> ciphertext, base::ByteVec& plaintext) {
  if (m_failed) return Status::Failed;
  m_in = ciphertext;
  // The caller's bytes are ours only for this call, whatever way it ends.
  struct Forget {
    std::span<const std::uint8_t>& in;
    ~Forget() { in = {}; }
  } forget{m_in};
  // A handshake may finish in the middle of the input; drive() also reads what follows.
  // OpenSSL reads until the input runs out (an incomplete record waits in its own buffer),
  // so bytes left over mean the session failed, or something no stream may lose went wrong.
  const Status status = drive(&plaintext);
  if (status == Status::Ok && !m_in.empty()) return failWith("TLS input left unread");
  return status;
}

TlsEngine::Status TlsEngine::write(std::span<const std::uint8_t> plaintext) {
  if (m_failed || !m_done) return Status::Failed;
  if (plaintext.empty()) return Status::Ok;
  // Room for the records in one allocation: a header, a tag and the content type for each
  // 16 KB, and a KeyUpdate that may go first.
  constexpr std::size_t kRecordOverhead = 64;
  const std::size_t room = m_out.size() + plaintext.size() + (plaintext.size() / 16384 + 2) * kRecordOverhead;
  if (room > m_out.capacity()) m_out.reserve(std::max(room, 2 * m_out.capacity()));  // writes before a take
  std::size_t wrote = 0;
  if (SSL_write_ex(m_ssl, plaintext.data(), plaintext.size(), &wrote) != 1 || wrote != plaintext.size())
    return failWith(opensslError("TLS write failed"));
  m_bytesSinceKeyUpdate += wrote;
  return Status::Ok;
}

TlsEngine::Status TlsEngine::updateKeysIfDue(std::int64_t nowUs) {
  if (m_failed || !m_done) return m_failed ? Status::Failed : Status::Ok;
  if (m_lastKeyUpdateUs < 0) m_lastKeyUpdateUs = nowUs;
  const bool byBytes = m_keyPolicy.bytes > 0 && m_bytesSinceKeyUpdate >= m_keyPolicy.bytes;
  const bool byTime = m_keyPolicy.intervalUs > 0 && nowUs - m_lastKeyUpdateUs >= m_keyPolicy.intervalUs;
  // One at a time: a KeyUpdate already waiting for the next record is enough.
  if ((!byBytes && !byTime) || SSL_get_key_update_type(m_ssl) != SSL_KEY_UPDATE_NONE) return Status::Ok;
  // Our direction only: the peer runs the same policy for its own. The KeyUpdate goes out
  // ahead of the next record written.
  if (SSL_key_update(m_ssl, SSL_KEY_UPDATE_NOT_REQUESTED) != 1) return failWith(opensslError("TLS key update failed"));
  m_bytesSinceKeyUpdate = 0;
  m_lastKeyUpdateUs = nowUs;
  ++m_keyUpdates;
  return Status::Ok;
}

base::ByteVec TlsEngine::takeCiphertext() { return std::exchange(m_out, {}); }

bool TlsEngine::exportKeyingMaterial(const std::string& label, std::span<std::uint8_t> out) const {
  return m_done && SSL_export_keying_material(m_ssl, out.data(), out.size(), label.data(), label.size(), nullptr, 0,
                                              0) == 1;
}

}  // namespace huddle::net
