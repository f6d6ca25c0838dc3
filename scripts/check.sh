#!/bin/sh
# make check: everything CI verifies, in the order a failure is cheapest to see.
#   1. Debian packages present (installed when root)
#   2. formatting matches .clang-format
#   3. host build with AddressSanitizer + UndefinedBehaviorSanitizer; every ctest test
#   3b. every scenario for seeds 1-100 in an unsanitized build (ASan: 1-10)
#   3b'. the real-device test (QEMU guest, TCG) in the same unsanitized build
#   3c. ndisemu's real-time scheduler self-test, vfo's reset-under-traffic stress and its control
#       device read under traffic, under TSan
#   3d. every fuzz target (tests/fuzz) built with libFuzzer, 2 s each
#   4. lib/ alone with clang (portability)
#   5. Windows cross-build with mingw-w64: lib/, vfo.sys, vfosvc.exe (+ their import checks),
#      and the ndisemu test drivers linked as native PE images (imports checked)
set -eu
cd "$(dirname "$0")/.."
jobs=${JOBS:-$(nproc)}
step() { printf '\n=== check: %s\n' "$*"; }

step "dependencies"
scripts/deps.sh

step "format"
scripts/format.sh --check

step "host build with ASan+UBSan, all tests"
cmake -S . -B build/check -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS="-O1 -g" \
      -DVFO_SANITIZE=address,undefined >/dev/null
cmake --build build/check -j "$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build/check -j "$jobs" --output-on-failure -LE 'soak|realdev'

step "every scenario, seeds 1-100, in an unsanitized build (the verifier on)"
# The ASan build above runs seeds 1-10 of each (the flap storm 1-3).
cmake -S . -B build/host -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/host -j "$jobs"
ctest --test-dir build/host -j "$jobs" -L scenario -LE soak --output-on-failure

step "real devices: vfo in a QEMU guest (TCG) on QEMU's virtio-net and an e1000e as the VF"
cmake --build build/host -j "$jobs" --target vfo-real vfo vfnic tapprot udpseq
ctest --test-dir build/host -L realdev --output-on-failure

step "the migration lab: vfo and Linux's net_failover migrated by real QEMU (TCG), measured"
# One migration per guest (tests/lab, docs/results.md); the case matrix is in make soak.
cmake --build build/host -j "$jobs" --target vfo-real vfo vfnic tapprot udpseq
ctest --test-dir build/host -L lab -LE soak --output-on-failure

step "ndisemu real-time scheduler under ThreadSanitizer"
# Only what the real-time tests need, built with clang's TSan runtime: the
# self-test, vfo's reset-under-traffic stress (6 rounds; the 200-round
# soak is test_vfo_stress_soak, label soak), and the control device read
# under traffic.
cmake -S . -B build/tsan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang \
      -DCMAKE_C_FLAGS="-O1 -g" -DVFO_SANITIZE=thread >/dev/null
cmake --build build/tsan -j "$jobs" --target test_ndisemu_realtime test_vfo_stress \
      test_vfo_ctl_traffic
TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
    ctest --test-dir build/tsan --output-on-failure \
          -R '^(test_ndisemu_realtime|test_vfo_stress|test_vfo_ctl_traffic)$'

step "fuzz targets, a short run of each (libFuzzer, ASan+UBSan)"
# Keeps them building and running; their regression inputs and seeds are
# replayed by the fuzz_replay_* tests of the ASan step above.
FUZZ_QUICK=1 JOBS="$jobs" scripts/fuzz.sh

step "lib/ with clang"
cmake -S . -B build/clang-lib -DCMAKE_C_COMPILER=clang -DVFO_LIB_ONLY=ON >/dev/null
cmake --build build/clang-lib -j "$jobs"

step "Windows cross-build with mingw-w64"
cmake -S . -B build/mingw -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-mingw64.cmake \
      -DVFO_TESTS=OFF >/dev/null
cmake --build build/mingw -j "$jobs"

printf '\n=== check: all passed\n'
