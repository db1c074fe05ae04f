#include "net/room_auth.h"

#include <random>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

#include "net/wire/limits.h"

namespace huddle::net {

namespace {
bool sodiumReady() {
  static const bool ready = sodium_init() >= 0;
  return ready;
}
}  // namespace

bool kdfParamsAcceptable(const KdfParams& p, std::string& why) {
  if (p.ops < wire::kMinKdfOps || p.memBytes < wire::kMinKdfMemBytes)
    return why = "the host asks for a password check weaker than Huddle allows", false;
  if (p.ops > wire::kMaxKdfOps || p.memBytes > wire::kMaxKdfMemBytes)
    return why = "the host asks for a password check costlier than Huddle allows", false;
  return true;
}

KdfParams newKdfParams() {
  KdfParams p;
  if (sodiumReady()) randombytes_buf(p.salt.data(), p.salt.size());
  return p;
}

bool deriveRoomKey(const std::string& password, const KdfParams& params, RoomKey& out, std::string& error) {
  if (!sodiumReady()) return error = "libsodium could not start", false;
  static_assert(crypto_pwhash_SALTBYTES == 16);
  if (crypto_pwhash(out.data(), out.size(), password.data(), password.size(), params.salt.data(), params.ops,
                    params.memBytes, crypto_pwhash_ALG_ARGON2ID13) != 0)
    return error = "not enough memory to check the password", false;
  return true;
}

AuthProof authProof(const RoomKey& key, std::span<const std::uint8_t> exporter, const std::string& name) {
  static constexpr char kLabel[] = "huddle-auth-v1";
  std::string message(kLabel, sizeof kLabel - 1);
  message.append(reinterpret_cast<const char*>(exporter.data()), exporter.size());
  // The name is length-prefixed so (E, name) splits one way only.
  message.push_back(static_cast<char>(name.size()));
  message += name;
  AuthProof proof{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(message.data()),
       message.size(), proof.data(), &len);
  return proof;
}

AuthProof screenLoginProof(const SeatKey& seat, std::span<const std::uint8_t> screenExporter, std::uint64_t token) {
  static constexpr char kLabel[] = "huddle-screen-v1";
  std::string message(kLabel, sizeof kLabel - 1);
  message.append(reinterpret_cast<const char*>(screenExporter.data()), screenExporter.size());
  for (int i = 0; i < 8; ++i) message.push_back(static_cast<char>(token >> (8 * i)));
  AuthProof proof{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), seat.data(), static_cast<int>(seat.size()), reinterpret_cast<const unsigned char*>(message.data()),
       message.size(), proof.data(), &len);
  return proof;
}

bool proofsEqual(const AuthProof& a, const AuthProof& b) { return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0; }

std::uint64_t randomToken() {
  std::uint64_t v = 0;
  if (sodiumReady()) {
    randombytes_buf(&v, sizeof v);
  } else {
    std::random_device rd;  // getrandom(2) on Linux
    v = std::uint64_t{rd()} << 32 | rd();
  }
  return v | 1;
}

std::string generateRoomPassword() {
  static constexpr char kAlphabet[] = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";  // no look-alikes (0/O, 1/I/L)
  std::string out;
  if (!sodiumReady()) return out;
  for (int i = 0; i < 10; ++i) out += kAlphabet[randombytes_uniform(sizeof kAlphabet - 1)];
  return out;
}

std::string validateRoomPassword(const std::string& password) {
  if (password.size() < wire::kMinRoomPasswordBytes)
    return "a room password needs at least " + std::to_string(wire::kMinRoomPasswordBytes) + " characters";
  if (password.size() > wire::kMaxRoomPasswordBytes)
    return "a room password may have at most " + std::to_string(wire::kMaxRoomPasswordBytes) + " characters";
  return "";
}

}  // namespace huddle::net
