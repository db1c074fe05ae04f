// The host's screen port fed arbitrary bytes from one peer (any token is accepted, so the
// fuzzer reaches publishing and tiles): no crash, no hang, only that peer closed.
#include <cstddef>
#include <cstdint>

#include "net/screen_hub.h"
#include "net/wire/messages.h"
#include "tests/fuzz/fuzz_support.h"

using namespace huddle;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  net::ScreenHubConfig config;
  net::ScreenHub hub(
      config,
      [](std::uint64_t token, net::ScreenSeat& seat) {
        seat.participantId = static_cast<std::uint32_t>(token % 1000) + 1;
        seat.name = "p" + std::to_string(seat.participantId);
        return true;
      },
      [](std::uint32_t, bool) {});
  std::int64_t now = 1'000'000'000;
  auto bad = std::make_shared<fuzz::SinkLink>();
  const net::PeerId badId = hub.attach(bad, now);
  fuzz::inChunks(data, size, [&](std::span<const std::uint8_t> chunk) {
    if (bad->closed()) return;
    hub.receive(badId, chunk, now);
    now += 1000;
    hub.tick(now);
  });
  hub.detach(badId, wire::Reason::IoEof, "fuzz input ended");
  return 0;
}
