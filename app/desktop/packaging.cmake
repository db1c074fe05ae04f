# `make package`: a Debian package of what the install rules put in place (the binary,
# desktop entry, icons, man page), installed under /usr. Included from the top-level
# CMakeLists.txt because CPack writes its configuration next to the top of the build tree.
# Packaging and installing never build: cpack's "preinstall" step would otherwise build the
# whole tree first (the package test runs cpack while other tests run). The top-level
# Makefile's install and package targets build before they install.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME huddle)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "Huddle maintainers <huddle@example.org>" CACHE STRING
    "Maintainer of the Debian package (name <email>)")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "chat and share screens with people on your network")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "Huddle is one program for a LAN get-together: someone hosts a session, everyone else\n\
joins it, and people chat and share their screens, each shared screen shown live in its\n\
own panel. Everything travels over TLS 1.3; invite links (huddle://) carry the host's key\n\
so joining by link needs no trust question.")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # huddle_VERSION_ARCH.deb
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
# Depends is computed by dpkg-shlibdeps from the libraries the binary links, never listed by
# hand. The window's fonts are files it opens at run time (app/ui/fonts.cpp), which
# dpkg-shlibdeps cannot see, so they are recommended: without them the window still runs,
# drawing ASCII only.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS
    "fonts-dejavu-core, fonts-noto-cjk, fonts-noto-color-emoji, fonts-symbola, fonts-noto-core")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "xdg-utils")
# `make package_source` is not how Huddle ships; keep build trees and git out of it anyway.
set(CPACK_SOURCE_IGNORE_FILES "/\\\\.git/" "/build[^/]*/")
include(CPack)
