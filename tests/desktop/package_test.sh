#!/usr/bin/env bash
# Huddle installed like a desktop app, checked as a user's system would see it:
#  1. `make install`'s step (cmake --install, another PREFIX, into a DESTDIR);
#  2. the Debian package `make package` makes: computed dependencies, its files, the
#     installed huddle running; installed and removed with dpkg in a scratch root;
#  3. the huddle:// scheme: xdg-mime names Huddle's desktop entry as the handler, and (with
#     a window build) xdg-open on an invite link starts the installed Huddle, which joins.
# Everything happens in a scratch folder, removed on exit; the real system is not touched.
# Usage: package_test.sh BUILD_DIR VERSION HAVE_GUI(0|1)
set -euo pipefail

build=$1 version=$2 have_gui=$3
# No host started here announces itself on the machine's network (see net/discovery_socket.h).
export HUDDLE_NO_ANNOUNCE=1
scratch=$(mktemp -d "${TMPDIR:-/tmp}/huddle-package-test.XXXXXX")
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$scratch"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "--- $*"; }

# Width and height of a PNG, from its IHDR chunk.
png_size() {
  local bytes
  bytes=($(od -An -tu1 -j16 -N8 "$1"))
  echo "$(( (bytes[0] << 24) | (bytes[1] << 16) | (bytes[2] << 8) | bytes[3] ))x$(( (bytes[4] << 24) | (bytes[5] << 16) | (bytes[6] << 8) | bytes[7] ))"
}

# The files an installed Huddle has under PREFIX, and what they must say.
check_tree() {
  local prefix=$1
  step "checking the files under $prefix"
  local bin=$prefix/bin/huddle
  [ -x "$bin" ] || fail "no executable $bin"
  local said
  said=$("$bin" --version) || fail "$bin --version failed"
  [ "$said" = "huddle $version" ] || fail "$bin --version said '$said', not 'huddle $version'"
  # Read whole first: grep -q stops at its match, and with pipefail the writer's SIGPIPE would fail.
  local help
  help=$("$bin" --help) || fail "$bin --help failed"
  grep -q -- "--join ADDR" <<<"$help" || fail "$bin --help does not describe --join"
  # A bare invite link is taken as one (a broken one gets the link's own error, exit 2).
  local rc=0 err
  err=$("$bin" 'huddle://host:1/?fp=junk' 2>&1) || rc=$?
  [ "$rc" = 2 ] && grep -q "invite link" <<<"$err" || fail "a bad bare invite link gave rc=$rc: $err"

  local desktop=$prefix/share/applications/huddle.desktop
  [ -f "$desktop" ] || fail "no $desktop"
  desktop-file-validate "$desktop" || fail "desktop-file-validate refused $desktop"
  grep -qx 'Exec=huddle %u' "$desktop" || fail "$desktop does not pass the clicked link to huddle"
  grep -qx 'MimeType=x-scheme-handler/huddle;' "$desktop" || fail "$desktop does not claim huddle://"
  grep -qx 'Icon=huddle' "$desktop" || fail "$desktop names another icon"

  local icons=$prefix/share/icons/hicolor
  grep -q '<svg' "$icons/scalable/apps/huddle.svg" || fail "no scalable icon"
  for size in 16 24 32 48 64 128 256; do
    local png=$icons/${size}x${size}/apps/huddle.png
    [ -f "$png" ] || fail "no $png"
    [ "$(png_size "$png")" = "${size}x${size}" ] || fail "$png is $(png_size "$png"), not ${size}x${size}"
  done

  local man=$prefix/share/man/man1/huddle.1.gz
  [ -f "$man" ] || fail "no $man"
  local page
  page=$(zcat "$man")
  grep -q '^\.TH HUDDLE "1"' <<<"$page" || fail "$man is not section 1 of huddle"
  grep -q 'huddle \\- host or join' <<<"$page" || fail "$man has no NAME line"
  grep -q 'INVITE LINKS' <<<"$page" || fail "$man lacks the invite links section"
  grep -q -- '-\\-trust\\-new\\-host' <<<"$page" || fail "$man lacks the options from --help"
  local warnings
  warnings=$(groff -man -Tutf8 -ww -z <<<"$page" 2>&1) || fail "groff failed on $man"
  [ -z "$warnings" ] || fail "groff warns about $man: $warnings"
}

# xdg-mime's answer for huddle:// with only PREFIX's desktop entries visible (no user or
# system settings of this machine are read: HOME and every XDG folder are in the scratch).
handler_of_huddle_links() {
  local prefix=$1 home=$scratch/home
  mkdir -p "$home"
  env -i PATH="$PATH" HOME="$home" XDG_DATA_HOME="$home/data" XDG_CONFIG_HOME="$home/config" \
    XDG_CONFIG_DIRS="$home/etc" XDG_DATA_DIRS="$prefix/share" xdg-mime query default x-scheme-handler/huddle
}

step "cmake --install into a DESTDIR with another prefix (what make install PREFIX=... runs)"
DESTDIR="$scratch/destdir" cmake --install "$build" --prefix /opt/huddle --strip >"$scratch/install.log" ||
  { cat "$scratch/install.log"; fail "cmake --install failed"; }
check_tree "$scratch/destdir/opt/huddle"
[ -z "$(find "$scratch/destdir" -mindepth 1 -maxdepth 1 ! -name opt)" ] || fail "files installed outside the prefix"

step "cpack: the Debian package"
cpack --config "$build/CPackConfig.cmake" -B "$scratch/pkg" >"$scratch/cpack.log" 2>&1 ||
  { cat "$scratch/cpack.log"; fail "cpack failed"; }
debs=("$scratch"/pkg/*.deb)
[ ${#debs[@]} = 1 ] && [ -f "${debs[0]}" ] || fail "expected one .deb, got: ${debs[*]}"
deb=${debs[0]}
[ "$(basename "$deb")" = "huddle_${version}_$(dpkg --print-architecture).deb" ] || fail "unexpected name $(basename "$deb")"
dpkg-deb --info "$deb"
[ "$(dpkg-deb -f "$deb" Package)" = huddle ] || fail "package name"
[ "$(dpkg-deb -f "$deb" Version)" = "$version" ] || fail "package version"
depends=$(dpkg-deb -f "$deb" Depends)
# Computed by dpkg-shlibdeps: versioned, from the libraries' own shlibs files.
for lib in 'libc6 (>= ' 'libssl3 (>= ' 'libsodium23 (>= ' 'libturbojpeg0 (>= ' 'libsdl2-net-2.0-0 (>= '; do
  grep -qF "$lib" <<<"$depends" || fail "Depends lacks '$lib': $depends"
done
if [ "$have_gui" = 1 ]; then grep -qF 'libglfw3 (>= ' <<<"$depends" || fail "Depends lacks libglfw3: $depends"; fi

step "the package's files"
dpkg-deb -x "$deb" "$scratch/root"
check_tree "$scratch/root/usr"
unexpected=$(dpkg-deb -c "$deb" | awk '{print $6}' | grep -v -E '^\./$|^\./usr/$|^\./usr/(bin|share)/' || true)
[ -z "$unexpected" ] || fail "the package installs outside /usr/bin and /usr/share: $unexpected"

step "the huddle:// scheme is Huddle's"
[ "$(handler_of_huddle_links "$scratch/root/usr")" = huddle.desktop ] ||
  fail "xdg-mime names '$(handler_of_huddle_links "$scratch/root/usr")' for huddle:// links"
update-desktop-database "$scratch/root/usr/share/applications"
grep -qx 'x-scheme-handler/huddle=huddle.desktop;' "$scratch/root/usr/share/applications/mimeinfo.cache" ||
  fail "update-desktop-database does not register huddle://"

if [ "$(id -u)" = 0 ]; then
  step "dpkg -i and -r in a scratch root"
  admin=$scratch/dpkgroot/var/lib/dpkg
  mkdir -p "$admin/info" "$admin/updates" "$admin/triggers"
  touch "$admin/status"
  # The libraries it depends on are this machine's, not the scratch root's: --force-depends.
  dpkg --root="$scratch/dpkgroot" --log=/dev/null --force-depends -i "$deb" >"$scratch/dpkg.log" 2>&1 ||
    { cat "$scratch/dpkg.log"; fail "dpkg -i failed"; }
  dpkg --root="$scratch/dpkgroot" -s huddle | grep -qx 'Status: install ok installed' || fail "not installed"
  dpkg --root="$scratch/dpkgroot" -L huddle | grep -qx /usr/share/applications/huddle.desktop || fail "dpkg -L"
  [ "$("$scratch/dpkgroot/usr/bin/huddle" --version)" = "huddle $version" ] || fail "installed huddle --version"
  dpkg --root="$scratch/dpkgroot" --log=/dev/null --force-depends -r huddle >"$scratch/dpkg.log" 2>&1 ||
    { cat "$scratch/dpkg.log"; fail "dpkg -r failed"; }
  [ ! -e "$scratch/dpkgroot/usr/bin/huddle" ] || fail "dpkg -r left the binary"
  [ -z "$(find "$scratch/dpkgroot/usr" -type f)" ] || fail "dpkg -r left files: $(find "$scratch/dpkgroot/usr" -type f)"
else
  echo "(not root: dpkg -i into a scratch root skipped; the files were checked from dpkg-deb -x)"
fi

if [ "$have_gui" != 1 ]; then
  echo "(no window in this build: the click-a-link run is for window builds)"
  echo "PASS"
  exit 0
fi
command -v Xvfb >/dev/null || fail "Xvfb is missing (third_party/install_deps.sh installs it)"

step "clicking an invite link: xdg-open starts the installed Huddle, which joins"
root=$scratch/root/usr
# xdg-open's generic path (no desktop session recognised), seeing only the package's files.
run_env=(env -u XDG_CURRENT_DESKTOP -u DESKTOP_SESSION -u DESKTOP -u KDE_FULL_SESSION -u GNOME_DESKTOP_SESSION_ID
         -u MATE_DESKTOP_SESSION_ID -u LXQT_SESSION_CONFIG -u XDG_MENU_PREFIX -u WAYLAND_DISPLAY -u BROWSER
         PATH="$root/bin:$PATH" HOME="$scratch/home" XDG_DATA_HOME="$scratch/home/data"
         XDG_CONFIG_DIRS="$scratch/home/etc" XDG_DATA_DIRS="$root/share")
# A host on loopback with its own config folder.
setsid "${run_env[@]}" XDG_CONFIG_HOME="$scratch/host/config" XDG_STATE_HOME="$scratch/host/state" \
  "$root/bin/huddle" --host --headless --name alice --chat-port 0 --screen-port 0 \
  <>"$scratch/host.stdin" >"$scratch/host.out" 2>&1 &
pids+=($!)
invite=""
for _ in $(seq 100); do
  invite=$(grep -o -m1 'huddle://127\.0\.0\.1:[0-9]*/?fp=[A-Z0-9-]*' "$scratch/host.out" || true)
  [ -n "$invite" ] && break
  sleep 0.1
done
[ -n "$invite" ] || { cat "$scratch/host.out"; fail "the host printed no loopback invite link"; }
# A private X server on a free display number.
Xvfb -displayfd 3 -nolisten tcp -screen 0 1280x800x24 3>"$scratch/display" >"$scratch/xvfb.log" 2>&1 &
pids+=($!)
display=""
for _ in $(seq 100); do
  display=$(cat "$scratch/display")
  [ -n "$display" ] && break
  sleep 0.1
done
[ -n "$display" ] || { cat "$scratch/xvfb.log"; fail "Xvfb did not start"; }
# What a browser does with a clicked link: xdg-open finds the scheme's handler and runs it.
setsid "${run_env[@]}" DISPLAY=":$display" XDG_CONFIG_HOME="$scratch/guest/config" \
  XDG_STATE_HOME="$scratch/guest/state" xdg-open "$invite" </dev/null >"$scratch/guest.out" 2>&1 &
pids+=($!)
# The window joins under the name it defaults to; the host's own line is "alice joined".
guest_joined() { grep ' \* .* joined' "$scratch/host.out" | grep -v ' \* alice joined' | head -1; }
for _ in $(seq 200); do
  [ -n "$(guest_joined)" ] && break
  sleep 0.1
done
[ -n "$(guest_joined)" ] || { echo "host:"; cat "$scratch/host.out"; echo "guest:"; cat "$scratch/guest.out"; fail "nobody joined from the link"; }
echo "host saw: $(guest_joined)"
echo "PASS"
