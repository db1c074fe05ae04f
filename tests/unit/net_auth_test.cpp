// Room passwords: the key derivation, proofs bound to a TLS session, the parameters a
// client accepts, and generated passwords.
#include <gtest/gtest.h>

#include <set>

#include "net/room_auth.h"

using namespace huddle::net;

TEST(RoomAuth, SamePasswordAndSaltGiveTheSameKeyAndNothingElseDoes) {
  KdfParams p;
  p.ops = 2;
  p.memBytes = 19u << 20;  // the minimum, to keep the test quick
  p.salt.fill(7);
  RoomKey a{}, b{}, c{}, d{};
  std::string error;
  ASSERT_TRUE(deriveRoomKey("correct horse", p, a, error)) << error;
  ASSERT_TRUE(deriveRoomKey("correct horse", p, b, error)) << error;
  ASSERT_TRUE(deriveRoomKey("correct horsf", p, c, error)) << error;
  p.salt[0] = 8;
  ASSERT_TRUE(deriveRoomKey("correct horse", p, d, error)) << error;
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_NE(a, d);
}

TEST(RoomAuth, ProofsAreBoundToTheSessionAndTheName) {
  RoomKey k{};
  k.fill(3);
  std::array<std::uint8_t, 32> e1{}, e2{};
  e1.fill(1);
  e2.fill(2);
  const AuthProof p = authProof(k, e1, "bob");
  EXPECT_TRUE(proofsEqual(p, authProof(k, e1, "bob")));
  EXPECT_FALSE(proofsEqual(p, authProof(k, e2, "bob")));   // another TLS session: a relay
  EXPECT_FALSE(proofsEqual(p, authProof(k, e1, "bob2")));  // another name
  RoomKey other = k;
  other[31] ^= 1;
  EXPECT_FALSE(proofsEqual(p, authProof(other, e1, "bob")));
}

TEST(RoomAuth, ClientsRefuseWeakOrAbsurdKdfParameters) {
  std::string why;
  KdfParams p;
  EXPECT_TRUE(kdfParamsAcceptable(p, why));  // the host's defaults: 2 passes, 64 MiB
  p.ops = 1;
  EXPECT_FALSE(kdfParamsAcceptable(p, why));
  EXPECT_NE(why.find("weaker"), std::string::npos);
  p.ops = 2;
  p.memBytes = 1u << 20;
  EXPECT_FALSE(kdfParamsAcceptable(p, why));
  p.memBytes = 1u << 31;
  EXPECT_FALSE(kdfParamsAcceptable(p, why));
  EXPECT_NE(why.find("costlier"), std::string::npos);
  EXPECT_NE(newKdfParams().salt, newKdfParams().salt);
}

TEST(RoomAuth, GeneratedPasswordsAreReadableAndDistinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 50; ++i) {
    std::string pw = generateRoomPassword();
    ASSERT_EQ(pw.size(), 10u);
    EXPECT_TRUE(validateRoomPassword(pw).empty());
    EXPECT_EQ(pw.find_first_of("01OIL"), std::string::npos) << pw;
    seen.insert(pw);
  }
  EXPECT_EQ(seen.size(), 50u);
  EXPECT_FALSE(validateRoomPassword("1234").empty());
  EXPECT_FALSE(validateRoomPassword(std::string(200, 'x')).empty());
}
