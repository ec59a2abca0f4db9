# Front door over CMake + Ninja. `make demo` and `make test` work on a fresh machine.
BUILD_DIR ?= build
PY := .deps/venv/bin/python
JOBS ?= $(shell nproc)

.PHONY: all release debug asan deps demo test unit e2e bench format format-check clean fuzz \
	test-asan wheel

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

# dist/lakepipe-*.whl: the engine, the CLI and the Python package (scripts/build-wheel).
wheel: deps
	@bash scripts/build-wheel

# Writes a small table under ./lake with the built binary, then says how to query it.
demo: release
	@$(BUILD_DIR)/lakepipe demo ./lake

unit: release
	@cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

# The wheel too: tests/e2e/test_wheel.py installs it into a fresh venv.
e2e: release wheel
	@LAKEPIPE_BIN=$(abspath $(BUILD_DIR)/lakepipe) $(PY) -m pytest -q tests/e2e

# Every test: unit tests under ctest, then end-to-end tests against real services.
test: unit e2e

# The unit and end-to-end tests against the ASan + UBSan build (build-asan/lakepipe). Every
# sanitizer report, leaks included, goes to a file under build-asan/sanitizer-reports/ (so a
# test that expects lakepipe to fail cannot hide one); any such file fails the target.
# LAKEPIPE_SANITIZED tells the end-to-end tests to skip peak-memory bounds, which ASan's
# shadow memory and quarantine break.
SANITIZER_REPORTS := $(abspath build-asan/sanitizer-reports)
SANITIZER_ENV := LAKEPIPE_SANITIZED=1 \
  ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:detect_stack_use_after_return=1:log_path=$(SANITIZER_REPORTS)/report \
  LSAN_OPTIONS=suppressions=$(abspath fuzz/lsan.supp):print_suppressions=0:log_path=$(SANITIZER_REPORTS)/report \
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:log_path=$(SANITIZER_REPORTS)/report

test-asan: asan wheel
	@rm -rf $(SANITIZER_REPORTS) && mkdir -p $(SANITIZER_REPORTS)
	@status=0; \
	(cd build-asan && $(SANITIZER_ENV) ctest --output-on-failure -j $(JOBS)) || status=1; \
	$(SANITIZER_ENV) LAKEPIPE_BIN=$(abspath build-asan/lakepipe) $(PY) -m pytest -q tests/e2e \
	  || status=1; \
	if [ -n "$$(ls -A $(SANITIZER_REPORTS))" ]; then \
	  cat $(SANITIZER_REPORTS)/*; echo "test-asan: sanitizer reports in $(SANITIZER_REPORTS)"; \
	  status=1; \
	fi; \
	exit $$status

# libFuzzer targets (fuzz/*_fuzzer.cc) built with clang, ASan and UBSan in build-fuzz, each
# run from its seed corpus fuzz/corpus/<name> for FUZZ_SECONDS, or for FUZZ_RUNS inputs when
# set (`make fuzz FUZZ_RUNS=10000000`). New inputs go to build-fuzz/corpus/<name>, never
# into the repo; a crash, leak or sanitizer report is saved under build-fuzz/artifacts/ and
# fails the target. FUZZERS picks targets: `make fuzz FUZZERS=uri FUZZ_SECONDS=600`.
FUZZERS ?= message_reader json_schema record_batch_builder pipeline_yaml flow_yaml uri
FUZZ_SECONDS ?= 30
FUZZ_RUNS ?=
FUZZ_LIMIT = $(if $(FUZZ_RUNS),-runs=$(FUZZ_RUNS),-max_total_time=$(FUZZ_SECONDS))

fuzz: deps
	@CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DLAKEPIPE_FUZZ=ON -DLAKEPIPE_BUILD_TESTS=OFF >/dev/null
	@cmake --build build-fuzz -j $(JOBS) --target lakepipe_fuzzers
	@mkdir -p build-fuzz/artifacts build-fuzz/logs
	@for f in $(FUZZERS); do \
	  mkdir -p build-fuzz/corpus/$$f; \
	  dict=; [ -f fuzz/$$f.dict ] && dict=-dict=fuzz/$$f.dict; \
	  if LSAN_OPTIONS=suppressions=$(abspath fuzz/lsan.supp) \
	     build-fuzz/$${f}_fuzzer build-fuzz/corpus/$$f fuzz/corpus/$$f $$dict $(FUZZ_LIMIT) \
	       -timeout=25 -print_final_stats=1 -artifact_prefix=build-fuzz/artifacts/$$f- \
	       >build-fuzz/logs/$$f.log 2>&1; then \
	    echo "fuzz $$f: $$(grep -h '^stat::number_of_executed_units' build-fuzz/logs/$$f.log \
	      | awk '{print $$2}') inputs, no crash"; \
	  else \
	    tail -n 60 build-fuzz/logs/$$f.log; echo "fuzz $$f: FAILED (build-fuzz/logs/$$f.log)"; \
	    exit 1; \
	  fi; \
	done

bench: release
	@$(PY) bench/run.py

clean:
	rm -rf $(BUILD_DIR) build-debug build-asan build-fuzz

CLANG_FORMAT := .deps/venv/bin/clang-format
SOURCES = $(shell git ls-files 'src/*.cc' 'src/*.h')

format: deps
	@$(CLANG_FORMAT) -i $(SOURCES)

format-check: deps
	@$(CLANG_FORMAT) --dry-run --Werror $(SOURCES)
