// The one key lookup GLFW 3.3 cannot do: which X11 keysym a key it does not know has. Kept apart
// because Xlib's headers define macros (None, Status, ...) that clash with Huddle's names.
// Thread: main (from GLFW's key callback).
#include <GLFW/glfw3.h>
#define GLFW_EXPOSE_NATIVE_X11
#include <GLFW/glfw3native.h>
#include <X11/Xlib.h>
#include <X11/keysym.h>

#include "app/ui/key_events.h"

namespace huddle::ui {

bool isLinefeedKey(int scancode) {
  if (scancode < 8 || scancode > 255) return false;
  Display* display = glfwGetX11Display();
  if (!display) return false;
  // Asked of the server each time: Xkb's cached map (XkbKeycodeToKeysym) would go stale when a
  // tool remaps a spare key for each character it types, and GLFW then read the stale map too.
  int perKeycode = 0;
  KeySym* syms = XGetKeyboardMapping(display, static_cast<KeyCode>(scancode), 1, &perKeycode);
  if (!syms) return false;
  const bool linefeed = perKeycode > 0 && syms[0] == XK_Linefeed;
  XFree(syms);
  return linefeed;
}

}  // namespace huddle::ui
