# SWOOSH-C top-level Makefile: thin wrapper over CMake + CTest.
#   make        build build/swoosh (Release)
#   make run    build and serve on 127.0.0.1:8080, data under ./data
#   make test   build normally and with ASan+UBSan, run every test twice
#   make bench  build and run the benchmarks
#   make format clang-format every source file

BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc)
CTEST_ARGS ?= --output-on-failure -j2

.PHONY: all deps build run test test-plain test-asan bench bench-compare format clean

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

test-asan: deps
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSWOOSH_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ctest $(CTEST_ARGS)

bench: build
	@bench/run.sh $(BUILD)

bench-compare: build
	@bench/compare $(BUILD)

format:
	clang-format -i include/*.h src/*.c src/*.h src/cli/*.c src/cli/*.h \
	    tests/*.c tests/helpers/*.[ch] bench/*.c 2>/dev/null || true

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
