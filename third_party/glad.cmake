# glad: the OpenGL 3.3 core loader, generated at build time by Debian's python3-glad.
# --reproducible uses the Khronos XML that ships with the package (no network), so the
# same package version always produces the same files. Nothing generated is committed.
find_program(GLAD_EXECUTABLE glad REQUIRED)
set(_glad_dir ${CMAKE_BINARY_DIR}/third_party/glad)
add_custom_command(
  OUTPUT ${_glad_dir}/src/gl.c ${_glad_dir}/include/glad/gl.h
  COMMAND ${GLAD_EXECUTABLE} --api gl:core=3.3 --out-path ${_glad_dir} --reproducible --quiet c
  COMMENT "Generating the OpenGL 3.3 core loader with glad"
  VERBATIM)
add_library(huddle_glad STATIC ${_glad_dir}/src/gl.c)
target_include_directories(huddle_glad SYSTEM PUBLIC ${_glad_dir}/include)
target_link_libraries(huddle_glad PUBLIC ${CMAKE_DL_LIBS})
