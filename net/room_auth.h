// Room passwords that never cross the wire (docs/SECURITY.md s.5): the host keeps
// K = Argon2id(password, salt); a client derives the same K from the challenge's salt and
// proves it knows K with HMAC-SHA256(K, "huddle-auth-v1" | E | name), where E is the TLS
// session's exporter. A proof is bound to its TLS session, so it can neither be replayed
// nor relayed by a man in the middle (whose two sessions have different exporters).
// Thread: any (pure functions).
#pragma once
#include <array>
#include <cstdint>
#include <span>
#include <string>

namespace huddle::net {

using RoomKey = std::array<std::uint8_t, 32>;
using AuthProof = std::array<std::uint8_t, 32>;

struct KdfParams {
  std::uint32_t ops = 2;                    // Argon2id passes
  std::uint32_t memBytes = 64u << 20;       // 64 MiB
  std::array<std::uint8_t, 16> salt{};
};

// What a client accepts from a host: a fake host must not weaken the KDF (offline
// guessing) nor ask for absurd memory (a denial of service on the client).
bool kdfParamsAcceptable(const KdfParams& p, std::string& why);
// Fresh parameters with a random salt.
KdfParams newKdfParams();
// K from the password; false with `error` (out of memory, bad parameters).
bool deriveRoomKey(const std::string& password, const KdfParams& params, RoomKey& out, std::string& error);
// The exporter label both sides use.
inline constexpr const char* kAuthExporterLabel = "EXPORTER-huddle-auth-v1";
AuthProof authProof(const RoomKey& key, std::span<const std::uint8_t> exporter, const std::string& name);
// Screen-port login (docs/SECURITY.md s.5): the chat connection's exporter under this label
// is the seat key S, known to the host and that participant only and never sent. A screen
// connection proves its seat with HMAC-SHA256(S, "huddle-screen-v1" | E' | token), E' being
// the screen connection's own exporter: a login seen or logged anywhere is useless on another
// connection, and a token alone no longer opens the screen port.
inline constexpr const char* kSeatExporterLabel = "EXPORTER-huddle-seat-v1";
using SeatKey = std::array<std::uint8_t, 32>;
AuthProof screenLoginProof(const SeatKey& seat, std::span<const std::uint8_t> screenExporter, std::uint64_t token);
// Constant-time comparison.
bool proofsEqual(const AuthProof& a, const AuthProof& b);
// A non-zero 64-bit value from the system's CSPRNG (session tokens).
std::uint64_t randomToken();
// A room password to read out or paste: 10 base32 characters (about 50 bits).
std::string generateRoomPassword();
// Empty if `password` may be a room password (8..128 bytes), else why not.
std::string validateRoomPassword(const std::string& password);

}  // namespace huddle::net
