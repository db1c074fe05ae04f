#include "app/session/stream_view.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "capture/copy_rect.h"
#include "net/base/clock.h"

namespace huddle::session {

namespace {
// Staging memory kept between updates: enough for the usual partial updates of a large
// screen; a full refresh of a 4K/8K one allocates for itself and gives the memory back
// after the next small update, so a viewer does not hold two whole frames for good.
constexpr std::size_t kKeptStagingBytes = 8u << 20;
}  // namespace

bool StreamView::copyImage(BgrxImage& out, std::string& error) const {
  if (m_applied.load() == 0) return error = "no image has arrived yet", false;
  std::size_t bytes;
  {
    std::lock_guard lock(m_mutex);
    bytes = std::size_t(m_fb.widthPx()) * m_fb.heightPx() * 4;
  }
  out.pixels.resize(bytes);  // allocated and touched outside the lock
  std::lock_guard lock(m_mutex);
  out.widthPx = m_fb.widthPx();
  out.heightPx = m_fb.heightPx();
  const std::size_t now = std::size_t(out.widthPx) * out.heightPx * 4;
  if (now != bytes) out.pixels.resize(now);  // resized meanwhile: rare
  if (now) std::memcpy(out.pixels.data(), m_fb.pixels(), now);
  return true;
}

bool StreamView::savePng(const std::string& path, std::string& error, bool withCursor) const {
  BgrxImage image;
  if (!copyImage(image, error)) return false;
  if (withCursor) drawCursorInto(image);
  return writePng(image, path, error, true);
}

bool StreamView::setCursorShape(base::CursorImage&& shape, std::string& why) {
  // The wire already checked the size and hot spot; this guards any other caller.
  if (shape.widthPx == 0 || shape.heightPx == 0 || shape.widthPx > wire::kMaxCursorSidePx ||
      shape.heightPx > wire::kMaxCursorSidePx || shape.rgba.size() != std::size_t(shape.widthPx) * shape.heightPx * 4)
    return why = "a cursor shape of a bad size", false;
  const std::uint32_t id = shape.id;
  auto image = std::make_shared<const base::CursorImage>(std::move(shape));
  std::lock_guard lock(m_cursorMutex);
  m_cursorShapes[id] = std::move(image);
  std::erase(m_cursorShapeOrder, id);
  m_cursorShapeOrder.push_back(id);
  while (m_cursorShapeOrder.size() > wire::kMaxCursorShapesCached) {
    m_cursorShapes.erase(m_cursorShapeOrder.front());
    m_cursorShapeOrder.pop_front();
  }
  ++m_cursorVersion;
  return true;
}

bool StreamView::setCursorPosition(const base::CursorPos& pos, std::string& why) {
  const wire::StreamInfo i = info();
  if (why = wire::validateCursorPosition(pos, i.widthPx, i.heightPx); !why.empty()) return false;
  std::lock_guard lock(m_cursorMutex);
  if (pos.visible && !m_cursorShapes.count(pos.shapeId)) {
    why = "cursor shape " + std::to_string(pos.shapeId) + " was never sent";
    m_cursorPos.visible = false;
    ++m_cursorVersion;
    return false;
  }
  if (!(pos == m_cursorPos)) ++m_cursorVersion;
  m_cursorPos = pos;
  return true;
}

StreamView::Cursor StreamView::cursor() const {
  std::lock_guard lock(m_cursorMutex);
  Cursor c;
  c.version = m_cursorVersion;
  auto it = m_cursorShapes.find(m_cursorPos.shapeId);
  if (!m_cursorPos.visible || it == m_cursorShapes.end()) return c;
  c.visible = true;
  c.x = m_cursorPos.x;
  c.y = m_cursorPos.y;
  c.shape = it->second;
  return c;
}

void StreamView::drawCursorInto(BgrxImage& image) const {
  const Cursor c = cursor();
  if (!c.visible) return;
  // On a lower tier the image is smaller than the stream, whose pixels the cursor is in:
  // shape and position go to the image's scale, as the window lays it out.
  const wire::StreamInfo i = info();
  if (i.widthPx == 0 || i.heightPx == 0 || (std::uint32_t(image.widthPx) >= i.widthPx && std::uint32_t(image.heightPx) >= i.heightPx)) {
    base::blendCursor(image.pixels.data(), image.widthPx, image.heightPx, *c.shape, c.x, c.y);
    return;
  }
  const int percent = std::max(1, int(std::int64_t(image.widthPx) * 100 / i.widthPx));
  const int x = int(std::int64_t(c.x) * image.widthPx / i.widthPx), y = int(std::int64_t(c.y) * image.heightPx / i.heightPx);
  base::blendCursor(image.pixels.data(), image.widthPx, image.heightPx, base::scaledCursor(*c.shape, percent), x, y);
}

double StreamView::msToSharp() const {
  const std::int64_t at = m_sharpAtUs.load();
  if (at == 0 || m_applied.load() == 0) return -1;
  return static_cast<double>(at - m_lastLossyUs.load()) / 1e3;
}

wire::StreamInfo StreamView::info() const {
  std::lock_guard lock(m_infoMutex);
  return m_info;
}

void StreamView::setInfo(const wire::StreamInfo& info) {
  std::lock_guard lock(m_infoMutex);
  m_info = info;
}

bool StreamView::apply(const wire::TileBatch& batch, capture::TileDecoder& decoder, std::string& error) {
  const bool ok = decode(batch, decoder, error);
  publish();
  return ok;
}

bool StreamView::decode(const wire::TileBatch& batch, capture::TileDecoder& decoder, std::string& error) {
  m_staged.clear();
  m_stagedCopies.clear();
  m_stagingUsed = 0;
  m_stagedAny = true;
  m_stagedW = batch.widthPx;
  m_stagedH = batch.heightPx;
  m_stagedTile = batch.tileSizePx;
  m_stagedLosslessBytes = 0;
  m_stagedSeq = batch.seq;
  m_stagedQuality = 0;
  for (const auto& t : batch.tiles)
    if (t.kind == base::TileKind::JpegScan) {
      m_stagedQuality = t.jpegQuality;
      m_stagedChroma444 = t.jpeg444;
      break;
    }
  const long w = batch.widthPx, h = batch.heightPx, tile = batch.tileSizePx;
  const bool geometry = w > 0 && h > 0 && tile > 0;
  // Where a tile goes, cropped at the right and bottom edges; empty if outside the image.
  auto place = [&](const base::EncodedTile& t) -> base::Rect {
    const long x = long(t.tx) * tile, y = long(t.ty) * tile;
    if (!geometry || x >= w || y >= h) return {};
    return {int(x), int(y), int(std::min(tile, w - x)), int(std::min(tile, h - y))};
  };
  // Staging for every decoded tile at once, so nothing moves while decoding; never more
  // than one whole image (the wire allows no repeated tile; more is refused below).
  const std::size_t imageBytes = geometry ? std::size_t(w) * std::size_t(h) * 4 : 0;
  std::size_t need = 0;
  for (const auto& t : batch.tiles)
    if (t.kind != base::TileKind::Solid) need += std::size_t(place(t).area()) * 4;
  std::size_t patchNeed = 0;
  for (const auto& p : batch.patches)
    if (p.tile.kind != base::TileKind::Solid) patchNeed += std::size_t(p.w) * p.h * 4;
  // Patches are of distinct tiles, none also whole in this batch (the wire's rule).
  need = std::min(need + patchNeed, imageBytes);
  if (m_stagingBytes < need) {
    m_staging.reset();  // the old one goes first: at most one staging area at a time
    m_staging = std::make_unique_for_overwrite<std::uint8_t[]>(need);
    m_stagingBytes = need;
  }

  bool ok = true;
  std::string tileError;
  // Copies move what this view shows: one outside the stream (a hostile or broken host) drops
  // them all, the tiles still go, and the caller asks for every tile again.
  for (const auto& c : batch.copies)
    if (std::string why = wire::validateCopy(c, batch.widthPx, batch.heightPx); !why.empty()) {
      error = why;
      ok = false;
    }
  if (ok) m_stagedCopies = batch.copies;
  auto fail = [&](const base::EncodedTile& t, const std::string& why) {
    if (ok) error = "tile (" + std::to_string(t.tx) + "," + std::to_string(t.ty) + "): " + why;
    ok = false;
  };
  // Patches after the copies, before the tiles: each decodes on its own, as an image of its
  // size. One that is bad is dropped (the caller asks for every tile again).
  for (const auto& p : batch.patches) {
    if (!geometry) {
      fail(p.tile, "bad geometry");
      continue;
    }
    if (std::string why = wire::validatePatch(p, batch.widthPx, batch.heightPx, batch.tileSizePx); !why.empty()) {
      fail(p.tile, why);
      continue;
    }
    StagedTile s;
    s.rect = {int(long(p.tile.tx) * tile + p.x), int(long(p.tile.ty) * tile + p.y), int(p.w), int(p.h)};
    s.exact = base::isExactKind(p.tile.kind);
    s.patch = true;
    if (p.tile.kind == base::TileKind::Solid) {
      s.solid = true;
      s.bgrx = p.tile.solidBgrx;
      m_staged.push_back(s);
      continue;
    }
    const std::size_t bytes = std::size_t(s.rect.area()) * 4;
    if (m_stagingUsed + bytes > need) {
      fail(p.tile, "more patches than the image holds");
      continue;
    }
    s.offset = m_stagingUsed;
    base::EncodedTile alone = p.tile;
    alone.tx = alone.ty = 0;
    if (!decoder.decode(alone, int(tile), s.rect.w, s.rect.h, m_staging.get() + s.offset, s.rect.w * 4, tileError)) {
      fail(p.tile, "patch: " + tileError);
      continue;
    }
    m_stagingUsed += bytes;
    if (s.exact) m_stagedLosslessBytes += p.tile.jpeg.size;
    m_staged.push_back(s);
  }
  auto stageTile = [&](const base::EncodedTile& t) {
    if (!geometry) return fail(t, "bad geometry");
    const base::Rect r = place(t);
    if (r.empty()) return fail(t, "tile outside the image");
    StagedTile s;
    s.rect = r;
    s.exact = base::isExactKind(t.kind);
    if (t.kind == base::TileKind::Solid) {
      s.solid = true;
      s.bgrx = t.solidBgrx;
      m_staged.push_back(s);
      return;
    }
    const std::size_t bytes = std::size_t(r.area()) * 4;
    if (m_stagingUsed + bytes > need) return fail(t, "more tiles than the image holds");
    s.offset = m_stagingUsed;
    // The tile decodes on its own: as tile (0,0) of an image its size, packed rows.
    base::EncodedTile alone = t;
    alone.tx = alone.ty = 0;
    if (!decoder.decode(alone, int(tile), r.w, r.h, m_staging.get() + s.offset, r.w * 4, tileError))
      return fail(t, tileError);
    m_stagingUsed += bytes;
    if (s.exact) m_stagedLosslessBytes += t.jpeg.size;
    m_staged.push_back(s);
  };
  // Tiles side by side in a row that were cut from one strip (row restarts, the same settings,
  // whole-width) decode as that strip: one JPEG instead of one a tile. If the strip does not
  // decode, its tiles go one by one below, so a bad one is named and the others still show.
  const int kMaxStrip = capture::JpegStackEncoder::kMaxStripTiles;
  auto stripFrom = [&](std::size_t i) {
    const base::EncodedTile& a = batch.tiles[i];
    const base::Rect ra = place(a);
    if (a.kind != base::TileKind::JpegScan || !a.jpegRowRestarts || ra.empty() || ra.w != tile) return std::size_t(1);
    std::size_t n = 1;
    for (; i + n < batch.tiles.size() && n < std::size_t(kMaxStrip); ++n) {
      const base::EncodedTile& b = batch.tiles[i + n];
      const base::Rect rb = place(b);
      if (b.kind != base::TileKind::JpegScan || !b.jpegRowRestarts || b.jpegQuality != a.jpegQuality ||
          b.jpeg444 != a.jpeg444 || b.ty != a.ty || std::size_t(b.tx) != std::size_t(a.tx) + n || rb.w != tile ||
          rb.h != ra.h)
        break;
    }
    return n;
  };
  for (std::size_t i = 0; i < batch.tiles.size();) {
    const std::size_t run = geometry ? stripFrom(i) : 1;
    if (run >= 2) {
      const base::Rect first = place(batch.tiles[i]);
      StagedTile s;
      s.rect = {first.x, first.y, int(tile) * int(run), first.h};
      const std::size_t bytes = std::size_t(s.rect.area()) * 4;
      if (m_stagingUsed + bytes <= need) {
        m_stripTiles.clear();
        for (std::size_t k = 0; k < run; ++k) m_stripTiles.push_back(&batch.tiles[i + k]);
        s.offset = m_stagingUsed;
        if (decoder.decodeStrip(m_stripTiles, int(tile), first.h, m_staging.get() + s.offset, s.rect.w * 4, tileError)) {
          m_stagingUsed += bytes;
          m_staged.push_back(s);
          i += run;
          continue;
        }

      }
    }
    for (const std::size_t end = i + run; i < end; ++i) stageTile(batch.tiles[i]);
  }
  return ok;
}

void StreamView::publish() {
  if (!m_stagedAny) return;
  m_stagedAny = false;
  // Only this thread changes m_fb, so it may look at its size without the lock. A new size
  // is made (and the old image freed) outside the lock; inside, the two are swapped.
  capture::Framebuffer other;
  const bool resize = m_fb.widthPx() != int(m_stagedW) || m_fb.heightPx() != int(m_stagedH);
  if (resize) other.resize(int(m_stagedW), int(m_stagedH));
  {
    std::lock_guard lock(m_mutex);
    if (resize) std::swap(m_fb, other);
    // Copies first, against the image as it was (a new size has none to move).
    if (!resize)
      for (const base::CopyRect& c : m_stagedCopies) m_fb.copy(c);
    // In the update's order: a repeated tile ends as its last copy, as if decoded in place.
    for (const StagedTile& s : m_staged) {
      if (s.solid) m_fb.fill(s.rect, s.bgrx);
      else m_fb.paint(s.rect, m_staging.get() + s.offset, s.rect.w * 4);
    }
    m_lastSeq = m_stagedSeq;  // with the image: read inside consume(), the two agree
  }
  if (resize) m_stats.setSize(m_stagedW, m_stagedH);
  // Which tiles are exact now: a new grid starts with none.
  if (m_stagedTile > 0) {
    const std::size_t cols = (m_stagedW + m_stagedTile - 1) / m_stagedTile;
    const std::size_t rows = (m_stagedH + m_stagedTile - 1) / m_stagedTile;
    std::size_t lossy = m_lossyTiles.load();
    if (resize || m_exactTile != m_stagedTile || m_exact.size() != cols * rows) {
      m_exact.assign(cols * rows, 0);
      m_exactTile = m_stagedTile;
      lossy = m_exact.size();
    }
    const std::int64_t now = base::monoUs();
    const std::size_t before = lossy;
    // Exactness moves with the copied pixels (lossy wherever any came from a lossy tile).
    if (!resize && !m_stagedCopies.empty()) {
      for (const base::CopyRect& c : m_stagedCopies) {
        m_touched.clear();
        capture::moveExactness(m_exact, c, int(m_stagedTile), int(cols), int(rows), m_touched);
      }
      lossy = std::size_t(std::count(m_exact.begin(), m_exact.end(), std::uint8_t(0)));
    }
    for (const StagedTile& t : m_staged) {
      if (!t.exact) m_lastLossyUs = now;
      if (t.patch && t.exact) continue;  // an exact patch keeps a lossy tile's other pixels
      // A strip covers several tiles of a row.
      const std::size_t row = std::size_t(t.rect.y) / m_stagedTile, c0 = std::size_t(t.rect.x) / m_stagedTile;
      const std::size_t c1 = std::size_t(t.rect.x + std::max(t.rect.w, 1) - 1) / m_stagedTile;
      for (std::size_t c = c0; c <= c1 && c < cols; ++c) {
        const std::size_t i = row * cols + c;
        if (i >= m_exact.size() || m_exact[i] == std::uint8_t(t.exact)) continue;
        m_exact[i] = t.exact;
        if (t.exact) --lossy;
        else ++lossy;
      }
    }
    m_lossyTiles = lossy;
    if (lossy > 0) m_sharpAtUs = 0;
    else if (before > 0 || m_sharpAtUs.load() == 0) m_sharpAtUs = now;
  }
  m_losslessBytes += m_stagedLosslessBytes;
  if (m_stagedQuality > 0) {
    m_quality = m_stagedQuality;
    m_chroma444 = m_stagedChroma444;
  }
  ++m_applied;
  m_staged.clear();
  if (m_stagingBytes > kKeptStagingBytes && m_stagingUsed <= kKeptStagingBytes) {
    m_staging.reset();
    m_stagingBytes = 0;
  }
}

}  // namespace huddle::session
