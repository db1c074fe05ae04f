# The README's two commands: `make run` and `make test`. Both install what they need first.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?= -DHUDDLE_WERROR=ON

.PHONY: run test bench build deps clean

deps:
	@third_party/install_deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

# Opens the window where there is a display; a headless host on the test scene where there is none.
run: build
	$(BUILD)/app/huddle $(ARGS)

test: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS) --timeout 300

# The screen engine's figures against its targets (a table, and JSON in $(BUILD)/huddle-bench.json).
bench: build
	$(BUILD)/tests/bench/huddle-bench --json $(BUILD)/huddle-bench.json $(ARGS)

clean:
	rm -rf $(BUILD)
