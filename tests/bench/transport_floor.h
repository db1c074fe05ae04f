// huddle-bench's floor under what one more viewer costs a host: the same bytes an update,
// through TLS (the engine every connection uses) and one TCP send over loopback to each of N
// receivers, from one thread at the stream's rate, with nothing else: no capture, encoding,
// bookkeeping, and no credits read back (a lower bound: any protocol that hears from its
// viewers pays a read and a decryption more). Its CPU is the thread's own, with loopback's
// receive side and the receiver's wake where the kernel charges them to the sender (as it
// does for the host's sends); the receivers, threads that read and drop, are not counted.
#pragma once
#include <cstddef>
#include <string>

namespace huddle::bench {

struct TransportFloor {
  double oneUsPerFrame = 0;   // the sending thread's CPU a frame, one receiver
  double mostUsPerFrame = 0;  // the same, `most` receivers
  double addedUs = 0;         // per frame and receiver past the first
  std::string error;
};

// `rounds` alternated runs of one and `most` receivers, `seconds` each; the means.
TransportFloor measureTransportFloor(std::size_t bytesPerUpdate, int most, double fps, double seconds, int rounds);

}  // namespace huddle::bench
