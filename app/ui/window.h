// The desktop window: GLFW + OpenGL 3.3 core (glad) + Dear ImGui. Thread: main thread only.
#pragma once
#include "app/session/options.h"

namespace huddle::ui {

// Opens the window and runs until it is closed; returns the process exit code.
int runWindow(const session::Options& options);

}  // namespace huddle::ui
