# The README's two commands: `make run` and `make test`. Both install what they need first.

# Compiles go through ccache when it is there (install_deps.sh installs it): the four builds of
# `make test` then cost one compile per change, and a second clone of the tree hits the same cache
# (paths are taken relative to the tree, the tree's own directory is not hashed).
ifneq ($(shell command -v ccache 2>/dev/null),)
LAUNCHER = -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := 1
endif
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?= -DHUDDLE_WERROR=ON $(LAUNCHER)

SAN_BUILD ?= build-asan
# Sanitizer reports fail the run; SDL2's own per-thread leak is suppressed (see the file).
SAN_ENV = ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
          LSAN_OPTIONS=suppressions=$(CURDIR)/tests/sanitizers/lsan.supp

FUZZ_BUILD ?= build-fuzz
TSAN_BUILD ?= build-tsan

# make install: under PREFIX (DESTDIR=... stages it elsewhere, as packagers do).
PREFIX ?= /usr/local

.PHONY: run test test-release test-sanitizers test-tsan test-fuzz bench build deps clean install uninstall package

deps:
	@third_party/install_deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

# Opens the window where there is a display; a headless host on the test scene where there is none.
run: build
	$(BUILD)/app/huddle $(ARGS)

# Every test, in the release build and again under AddressSanitizer + UndefinedBehaviorSanitizer
# and under ThreadSanitizer, then each fuzz target for 30 s (FUZZ_SECONDS) after replaying its saved crashes.
test: test-release test-sanitizers test-tsan test-fuzz

# No huddle the tests or the benchmark start announces itself on this machine's network (the
# tests set it too; the one test that announces does so in a network namespace of its own).
# `make run` is for people on a real LAN: it announces unless told not to.
test test-release test-sanitizers test-tsan test-fuzz bench: export HUDDLE_NO_ANNOUNCE = 1

test-release: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS) --timeout 300

# The core and its tests (no window, no benchmark) built with ASan + UBSan; zero reports.
test-sanitizers: deps
	cmake -S . -B $(SAN_BUILD) $(CMAKE_FLAGS) -DHUDDLE_SANITIZE="address;undefined" -DHUDDLE_BUILD_GUI=OFF \
	  -DHUDDLE_BUILD_BENCH=OFF
	cmake --build $(SAN_BUILD) -j $(JOBS)
	$(SAN_ENV) ctest --test-dir $(SAN_BUILD) --output-on-failure -j $(JOBS) --timeout 300

# The same under ThreadSanitizer (the soak is left out: TSan makes it take minutes).
test-tsan: deps
	cmake -S . -B $(TSAN_BUILD) $(CMAKE_FLAGS) -DHUDDLE_SANITIZE=thread -DHUDDLE_BUILD_GUI=OFF -DHUDDLE_BUILD_BENCH=OFF
	cmake --build $(TSAN_BUILD) -j $(JOBS)
	TSAN_OPTIONS="halt_on_error=1 suppressions=$(CURDIR)/tests/sanitizers/tsan.supp" \
	  ctest --test-dir $(TSAN_BUILD) --output-on-failure -j $(JOBS) --timeout 300 -E '^Soak\.'

# libFuzzer targets built with clang, ASan and UBSan.
test-fuzz: deps
	cmake -S . -B $(FUZZ_BUILD) -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DHUDDLE_BUILD_FUZZ=ON \
	  -DHUDDLE_SANITIZE="address;undefined;fuzzer-no-link" -DHUDDLE_BUILD_GUI=OFF -DHUDDLE_BUILD_TESTS=OFF \
	  -DHUDDLE_BUILD_BENCH=OFF
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzzers
	$(SAN_ENV) tests/fuzz/run_fuzzers.sh $(FUZZ_BUILD)

# The screen engine's figures against its targets (a table, and JSON in $(BUILD)/huddle-bench.json).
bench: build
	$(BUILD)/tests/bench/huddle-bench --json $(BUILD)/huddle-bench.json $(ARGS)

# The binary, the desktop entry (which makes Huddle the handler of huddle:// invite links),
# the icons and the man page under $(PREFIX); then, on the live system, the desktop and icon
# caches are refreshed so menus and browsers see it at once.
install: build
	cmake --install $(BUILD) --prefix $(PREFIX) --strip
	@cp $(BUILD)/install_manifest.txt $(BUILD)/installed_files.txt
	@if [ -z "$(DESTDIR)" ]; then \
	  if command -v update-desktop-database >/dev/null; then update-desktop-database -q $(PREFIX)/share/applications; fi; \
	  if command -v gtk-update-icon-cache >/dev/null; then gtk-update-icon-cache -q -t $(PREFIX)/share/icons/hicolor || true; fi; \
	fi

# Removes what the last `make install` put in place (its copy of CMake's install manifest:
# the package test's own installs rewrite the manifest itself).
uninstall:
	@test -f $(BUILD)/installed_files.txt || { echo "nothing installed from $(BUILD)"; exit 1; }
	xargs -d '\n' rm -f -- < $(BUILD)/installed_files.txt
	rm -f $(BUILD)/installed_files.txt

# A Debian package (CPack: app/desktop/packaging.cmake) in $(BUILD): sudo apt install ./$(BUILD)/huddle_*.deb
package: build
	cd $(BUILD) && cpack
	@ls $(BUILD)/huddle_*.deb

clean:
	rm -rf $(BUILD) $(SAN_BUILD) $(TSAN_BUILD) $(FUZZ_BUILD)
