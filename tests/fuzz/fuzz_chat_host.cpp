// The host's chat port fed arbitrary bytes from one peer, next to a peer that behaves:
// nothing may crash, hang or grow without bound; the hub may only close the bad peer.
#include <cstddef>
#include <cstdint>

#include "net/chat_hub.h"
#include "net/wire/messages.h"
#include "tests/fuzz/fuzz_support.h"

using namespace huddle;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  net::ChatHubConfig config;
  config.hostName = "alice";
  // Odd first bytes: a room with a password, so the challenge and proof are fuzzed too.
  if (size > 0 && (data[0] & 1)) {
    config.passwordRequired = true;
    config.roomKey.fill(0x42);
  }
  net::ChatHub hub(config);
  std::int64_t now = 1'000'000'000;
  auto good = std::make_shared<fuzz::SinkLink>();
  const net::PeerId goodId = hub.attach(good, now);
  wire::Hello hello;
  hello.name = "good";
  hub.receive(goodId, base::view(wire::encodeFrame(hello)), now);
  auto bad = std::make_shared<fuzz::SinkLink>();
  const net::PeerId badId = hub.attach(bad, now);
  fuzz::inChunks(data, size, [&](std::span<const std::uint8_t> chunk) {
    if (bad->closed()) return;
    hub.receive(badId, chunk, now);
    now += 1000;
    hub.tick(now);
  });
  hub.detach(badId, wire::Reason::IoEof, "fuzz input ended");
  hub.detach(goodId, wire::Reason::IoEof, "done");
  return 0;
}
