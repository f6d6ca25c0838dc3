# Thin front end over CMake. The README's two commands are `make demo` and
# `make check`; both set up what they need (scripts/deps.sh).
JOBS  ?= $(shell nproc)
BUILD ?= build/host

.PHONY: all deps build check demo lab soak bench bench-vhost fuzz format format-check cross package clean mssamples

all: build

deps:
	@scripts/deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

check:
	@scripts/check.sh

demo: build
	@scripts/demo.sh $(BUILD)

# The migration lab (root): vfo and Linux's net_failover side by side through
# a real QEMU migration; prints the table and where the plot is. LAB_ARGS
# adds lab.py options, e.g. LAB_ARGS="--cases migrate,cancel,abc,link --json -".
lab: build
	@tools/lab/lab.py --build $(BUILD) $(LAB_ARGS)

soak: build
	@ctest --test-dir $(BUILD) -j $(JOBS) --output-on-failure -L soak

# The libFuzzer targets of tests/fuzz (docs/fuzzing.md): FUZZ_SECONDS,
# FUZZ_RUNS, FUZZ_TARGETS, FUZZ_MERGE=1 are read by scripts/fuzz.sh.
fuzz: deps
	@scripts/fuzz.sh

bench: build
	@scripts/bench.sh $(BUILD)

# lib/vnet against DPDK's virtio_user on DPDK's vhost library (also part of
# `make bench`); VHOST_BENCH_ARGS e.g. "--runs 9 --ms 1000 --huge".
bench-vhost: build
	@$(BUILD)/bench/vhost_bench/vhost_bench $(VHOST_BENCH_ARGS)

# Microsoft's NDIS samples from a Windows-driver-samples checkout, built
# against include/ddk and run in ndisemu (docs/mssamples.md):
#   git clone https://github.com/microsoft/Windows-driver-samples
#   make mssamples MSSAMPLES=$$PWD/Windows-driver-samples
mssamples: deps
	@if [ -z "$(MSSAMPLES)" ]; then \
	    echo "mssamples: set MSSAMPLES to a Windows-driver-samples checkout:"; \
	    echo "    git clone https://github.com/microsoft/Windows-driver-samples"; \
	    echo "    make mssamples MSSAMPLES=<path to it>"; exit 2; fi
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS) --target ndisemu mssamples_run vfo-emu
	@tools/mssamples/mssamples.sh "$(MSSAMPLES)" $(BUILD)

format:
	@scripts/format.sh

format-check:
	@scripts/format.sh --check

cross: deps
	@cmake -S . -B build/mingw -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-mingw64.cmake \
	       -DVFO_TESTS=OFF >/dev/null
	@cmake --build build/mingw -j $(JOBS)

package: cross
	@scripts/package.sh build/mingw

clean:
	rm -rf build dist
