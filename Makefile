# SWOOSH-C top-level Makefile: thin wrapper over CMake + CTest.
#   make        build build/swoosh (Release)
#   make run    build and serve on 127.0.0.1:8080, data under ./data
#   make test   build normally and with ASan+UBSan, run every test twice
#   make bench  build and run the benchmarks
#   make fuzz   a longer fuzz campaign under ASan+UBSan (FUZZ_SCALE, FUZZ_SEED)
#   make format clang-format every source file

BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc)
CTEST_ARGS ?= --output-on-failure -j2
FUZZ_SCALE ?= 10
FUZZ_SEED  ?= $(shell date +%s)
FUZZ_SEED  := $(FUZZ_SEED)
FUZZ_TESTS := test_proposal_fuzz test_decode_fuzz test_http_fuzz

.PHONY: all deps build run test test-plain test-asan asan fuzz bench bench-compare \
	format clean

all: build

deps:
	@scripts/deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

run: build
	@mkdir -p data
	./$(BUILD)/swoosh serve --listen 127.0.0.1:8080 \
	    --wal-dir data/wal --snapshot-dir data/snapshots

test: test-plain test-asan

test-plain: build
	cd $(BUILD) && ctest $(CTEST_ARGS)

asan: deps
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSWOOSH_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)

test-asan: asan
	cd $(ASAN_BUILD) && ctest $(CTEST_ARGS)

# The fuzz tests of `make test` with FUZZ_SCALE times their rounds, from a
# new seed each run (FUZZ_SEED=N repeats one), without CTest's timeouts.
fuzz: asan
	@echo "fuzz: FUZZ_SEED=$(FUZZ_SEED), $(FUZZ_SCALE)x the rounds of make test"
	@for t in $(FUZZ_TESTS); do \
	    SWOOSH_FUZZ_SEED=$(FUZZ_SEED) SWOOSH_FUZZ_SCALE=$(FUZZ_SCALE) \
	    SWOOSH_BIN=$(CURDIR)/$(ASAN_BUILD)/swoosh \
	    SWOOSH_SOURCE_DIR=$(CURDIR) ASAN_OPTIONS=detect_leaks=1 \
	    UBSAN_OPTIONS=print_stacktrace=1 ./$(ASAN_BUILD)/$$t || exit 1; \
	done

bench: build
	@bench/run.sh $(BUILD)

bench-compare: build
	@bench/compare $(BUILD)

format:
	clang-format -i include/*.h src/*.c src/*.h src/cli/*.c src/cli/*.h \
	    tests/*.c tests/helpers/*.[ch] bench/*.c 2>/dev/null || true

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
