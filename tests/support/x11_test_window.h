// A window of a test's own on its Xvfb: a title, a size and a known picture (a pattern whose
// neighbouring pixels differ), drawn with XPutImage, so a capture of it can be checked pixel
// for pixel. Include after gtest: Xlib's macros (None, Bool, Status) break its templates.
#pragma once
#include <X11/Xlib.h>
#include <X11/Xatom.h>
#include <X11/Xutil.h>

#include <cstdint>
#include <vector>

namespace huddle::test {

struct X11TestWindow {
  Display* dpy = nullptr;
  Window win = 0;
  int w = 0, h = 0;

  X11TestWindow(Display* d, const char* title, int x, int y, int width, int height) : dpy(d), w(width), h(height) {
    XSetWindowAttributes attrs{};
    attrs.background_pixel = 0;
    win = XCreateWindow(dpy, DefaultRootWindow(dpy), x, y, static_cast<unsigned>(w), static_cast<unsigned>(h), 0,
                        CopyFromParent, InputOutput, CopyFromParent, CWBackPixel, &attrs);
    XStoreName(dpy, win, title);
    XMapRaised(dpy, win);
    XSync(dpy, False);
  }
  // The picture's pixel at (x, y), 0xRRGGBB; `salt` makes another picture.
  static std::uint32_t pictureAt(int x, int y, std::uint32_t salt) {
    return (std::uint32_t(x * 7 + salt) & 0xFF) << 16 | (std::uint32_t(y * 5) & 0xFF) << 8 | (std::uint32_t(x ^ y) & 0xFF);
  }
  // Paints the picture over the part (atX, atY, pw, ph) of the window (all of it by default).
  void paint(std::uint32_t salt, int atX = 0, int atY = 0, int pw = -1, int ph = -1) {
    if (pw < 0) pw = w;
    if (ph < 0) ph = h;
    std::vector<std::uint32_t> px(std::size_t(pw) * ph);
    for (int y = 0; y < ph; ++y)
      for (int x = 0; x < pw; ++x) px[std::size_t(y) * pw + x] = pictureAt(atX + x, atY + y, salt);
    XImage* im = XCreateImage(dpy, DefaultVisual(dpy, DefaultScreen(dpy)), 24, ZPixmap, 0,
                              reinterpret_cast<char*>(px.data()), static_cast<unsigned>(pw), static_cast<unsigned>(ph), 32, 0);
    XPutImage(dpy, win, DefaultGC(dpy, DefaultScreen(dpy)), im, 0, 0, atX, atY, static_cast<unsigned>(pw),
              static_cast<unsigned>(ph));
    im->data = nullptr;  // ours, not Xlib's to free
    XDestroyImage(im);
    XSync(dpy, False);
  }
  // Another window's look: a solid colour over all of it.
  void fill(unsigned long rgb) {
    XSetWindowBackground(dpy, win, rgb);
    XClearWindow(dpy, win);
    XSync(dpy, False);
  }
};

}  // namespace huddle::test
