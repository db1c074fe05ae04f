#!/usr/bin/env bash
# Installs every Debian bookworm package Huddle needs to build, run and test.
# Idempotent and quick when everything is already there; runs apt as root, or via sudo.
set -euo pipefail

packages=(
  # ccache: the four builds of `make test` share one compile per change (Makefile).
  build-essential cmake pkg-config make clang ccache
  libimgui-dev libglfw3-dev python3-glad libgl-dev
  libsdl2-net-dev libstb-dev libturbojpeg0-dev libssl-dev libsodium-dev
  # libjpeg-turbo's libjpeg API, for the restart markers TurboJPEG 2.1 cannot set (capture/jpeg_stack.h).
  libjpeg62-turbo-dev
  libx11-dev libxext-dev libxrandr-dev libxdamage-dev libxfixes-dev libxcomposite-dev libxi-dev
  libgtest-dev
  # zstd compresses lossless tiles (sharp when still: capture/lossless_tile.h).
  libzstd-dev zlib1g-dev
  # Voice (app/voice): Opus codes it, speexdsp cancels echo and noise; espeak-ng speaks the
  # sentences its tests send through it.
  libopus-dev libspeexdsp-dev espeak-ng
  # The voice tests' lossy link in a network namespace: tc netem, or iptables' random drop
  # where the kernel has no netem (tests/integration/netns/voice_netns_test.cpp).
  iproute2 iptables
  xvfb xauth xdotool imagemagick x11-xserver-utils libgl1-mesa-dri
  # A compositor for the test of translucent pointer markers (capture/x11_overlay.h).
  xcompmgr
  # A screen whose size RandR can change (Xvfb's cannot), for the capture's resize test.
  xserver-xephyr
  # The window's fonts (app/ui/fonts.h): DejaVu Sans for Latin, Greek, Cyrillic and symbols,
  # Noto Sans CJK for Chinese/Japanese/Korean, Noto Color Emoji for emoji, Symbola for the
  # symbols and emoji the others lack (monochrome); Noto's other scripts (Thai, Devanagari,
  # Ethiopic, ...), found through fontconfig.
  fonts-dejavu-core fonts-noto-cjk fonts-noto-color-emoji fonts-symbola fonts-noto-core libfontconfig-dev
  # Installing like a desktop app (app/desktop): the man page from --help, the icon's PNG sizes
  # from its SVG, and the package test's checks of the desktop entry, the huddle:// handler
  # (xdg-mime, xdg-open) and the man page (groff).
  help2man librsvg2-bin desktop-file-utils xdg-utils groff-base
  # huddle-bench runs TigerVNC's scraping server beside Huddle on the same X screen
  # (tests/bench/x11_compare.h), and its viewer beside Huddle's window (viewer_compare.h).
  tigervnc-scraping-server tigervnc-viewer
)

missing=()
for p in "${packages[@]}"; do
  # dpkg-query prints "install ok installed" only for fully installed packages.
  if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install_deps: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install_deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
