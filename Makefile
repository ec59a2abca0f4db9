# Front door over CMake + Ninja. `make demo` and `make test` work on a fresh machine.
BUILD_DIR ?= build
PY := .deps/venv/bin/python
JOBS ?= $(shell nproc)

.PHONY: all release debug asan deps demo test unit e2e bench format format-check clean

all: release

deps:
	@bash scripts/install-deps

release: deps
	@cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BUILD_DIR) -j $(JOBS)

debug: deps
	@cmake -S . -B build-debug -G Ninja -DCMAKE_BUILD_TYPE=Debug >/dev/null
	@cmake --build build-debug -j $(JOBS)

asan: deps
	@cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DLAKEPIPE_SANITIZE=ON >/dev/null
	@cmake --build build-asan -j $(JOBS)

# Writes a small table under ./lake with the built binary, then says how to query it.
demo: release
	@$(BUILD_DIR)/lakepipe demo ./lake

unit: release
	@cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

e2e: release
	@LAKEPIPE_BIN=$(abspath $(BUILD_DIR)/lakepipe) $(PY) -m pytest -q tests/e2e

# Every test: unit tests under ctest, then end-to-end tests against real services.
test: unit e2e

bench: release
	@$(PY) bench/run.py

clean:
	rm -rf $(BUILD_DIR) build-debug build-asan

CLANG_FORMAT := .deps/venv/bin/clang-format
SOURCES = $(shell git ls-files 'src/*.cc' 'src/*.h')

format: deps
	@$(CLANG_FORMAT) -i $(SOURCES)

format-check: deps
	@$(CLANG_FORMAT) --dry-run --Werror $(SOURCES)
