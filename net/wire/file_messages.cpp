#include "net/wire/file_messages.h"

#include <algorithm>
#include <cctype>

#include "net/base/utf8.h"

namespace huddle::wire {

namespace {
bool reservedName(const std::string& name) {
  // The part before the first dot, upper-cased: "con.txt" is as reserved as "CON".
  std::string stem = name.substr(0, name.find('.'));
  while (!stem.empty() && stem.back() == ' ') stem.pop_back();
  std::transform(stem.begin(), stem.end(), stem.begin(), [](unsigned char c) { return std::toupper(c); });
  if (stem == "CON" || stem == "PRN" || stem == "AUX" || stem == "NUL") return true;
  return stem.size() == 4 && (stem.rfind("COM", 0) == 0 || stem.rfind("LPT", 0) == 0) && stem[3] >= '1' && stem[3] <= '9';
}

bool readName(Reader& r, std::string& out, std::size_t max) {
  out = r.str(max);
  return r.ok() && base::isValidUtf8(out) && !base::hasForbiddenControls(out, false);
}
}  // namespace

std::string validateFileName(const std::string& name) {
  if (name.empty()) return "the file name is empty";
  if (name.size() > kMaxFileNameBytes) return "the file name is longer than " + std::to_string(kMaxFileNameBytes) + " bytes";
  if (!base::isValidUtf8(name)) return "the file name is not valid UTF-8";
  if (base::hasForbiddenControls(name, false) || name.find('\t') != std::string::npos)
    return "the file name holds control characters";
  if (name.find('/') != std::string::npos || name.find('\\') != std::string::npos)
    return "the file name holds a path separator";
  if (name == "." || name == "..") return "the file name is \"" + name + "\"";
  if (reservedName(name)) return "\"" + name + "\" is a reserved file name";
  return {};
}

void FileOffer::write(Writer& w) const {
  w.u32(offerId);
  w.str(to);
  w.str(name);
  w.u64(size);
  w.raw(sha256.data(), sha256.size());
}
bool FileOffer::read(Reader& r) {
  offerId = r.u32();
  if (!readName(r, to, kMaxNameBytes)) return false;
  name = r.str(kMaxFileNameBytes);
  size = r.u64();
  for (auto& b : sha256) b = r.u8();
  // The name is checked by the host against validateFileName (a refusal the sender reads),
  // not here: a bad name is bad input to answer, not a broken stream.
  return r.ok() && offerId != 0 && size <= kMaxFileBytes;
}

void FileOffered::write(Writer& w) const {
  w.u64(transferId);
  w.u32(fromId);
  w.str(from);
  w.str(to);
  w.str(name);
  w.u64(size);
  w.raw(sha256.data(), sha256.size());
}
bool FileOffered::read(Reader& r) {
  transferId = r.u64();
  fromId = r.u32();
  if (!readName(r, from, kMaxNameBytes) || !readName(r, to, kMaxNameBytes)) return false;
  name = r.str(kMaxFileNameBytes);
  size = r.u64();
  for (auto& b : sha256) b = r.u8();
  return r.ok() && size <= kMaxFileBytes;
}

void FileRequest::write(Writer& w) const {
  w.u64(transferId);
  w.u32(peerId);
  w.u64(offset);
  w.u32(length);
}
bool FileRequest::read(Reader& r) {
  transferId = r.u64();
  peerId = r.u32();
  offset = r.u64();
  length = r.u32();
  return r.ok() && length >= 1 && length <= kFileChunkBytes && offset <= kMaxFileBytes;
}

void FileChunk::write(Writer& w) const {
  w.u64(transferId);
  w.u32(peerId);
  w.u64(offset);
  w.blob(data);
}
bool FileChunk::read(Reader& r) {
  transferId = r.u64();
  peerId = r.u32();
  offset = r.u64();
  auto b = r.blob(kFileChunkBytes);
  if (!r.ok() || b.empty() || offset > kMaxFileBytes) return false;
  data.assign(b.begin(), b.end());
  return true;
}

void FileStatus::write(Writer& w) const {
  w.u64(transferId);
  w.u32(peerId);
  w.u8(static_cast<std::uint8_t>(code));
  w.str(text);
}
bool FileStatus::read(Reader& r) {
  transferId = r.u64();
  peerId = r.u32();
  const std::uint8_t c = r.u8();
  text = r.str(kMaxReasonBytes);
  if (!r.ok() || c < static_cast<std::uint8_t>(FileStatusCode::Accepted) ||
      c > static_cast<std::uint8_t>(FileStatusCode::Closed))
    return false;
  code = static_cast<FileStatusCode>(c);
  return base::isValidUtf8(text) && !base::hasForbiddenControls(text, false);
}

}  // namespace huddle::wire
