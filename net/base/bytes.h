// Immutable, shareable byte buffers: encoded once, handed to any number of threads and peers.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace huddle::base {

using ByteVec = std::vector<std::uint8_t>;
// Published buffers are never written again; sharing one is a refcount, not a copy.
using Bytes = std::shared_ptr<const ByteVec>;

inline Bytes makeBytes(ByteVec&& v) { return std::make_shared<const ByteVec>(std::move(v)); }
inline std::span<const std::uint8_t> view(const Bytes& b) {
  return b ? std::span<const std::uint8_t>(b->data(), b->size()) : std::span<const std::uint8_t>();
}

}  // namespace huddle::base
