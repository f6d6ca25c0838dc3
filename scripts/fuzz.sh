#!/bin/sh
# make fuzz: builds the libFuzzer targets of tests/fuzz (clang, ASan+UBSan,
# in build/fuzz) and runs each for a while, then prints per target the
# executions, the coverage (edges, libFuzzer's "cov") and the crashes.
# See docs/fuzzing.md.
#
#   FUZZ_SECONDS=60   time per target (libFuzzer -max_total_time)
#   FUZZ_RUNS=N       or a number of executions per target (-runs), instead
#   FUZZ_TARGETS="virtio vnet"   a subset (default: every target)
#   FUZZ_MERGE=1      merge the inputs that found new coverage into the
#                     committed seed corpora (tests/fuzz/<target>/corpus)
#   FUZZ_BUILD=build/fuzz   the build directory
#   FUZZ_QUICK=1      make check's short run: 2 s per target, fail on a crash
#
# New inputs go to $FUZZ_BUILD/work/<target>/corpus, crashes (crash-*, leak-*,
# timeout-*, oom-*) to $FUZZ_BUILD/work/<target>/artifacts. The exit status is
# 1 when any target crashed.
set -eu
cd "$(dirname "$0")/.."
build=${FUZZ_BUILD:-build/fuzz}
jobs=${JOBS:-$(nproc)}
seconds=${FUZZ_SECONDS:-60}
runs=${FUZZ_RUNS:-}
if [ "${FUZZ_QUICK:-0}" = 1 ]; then
    seconds=${FUZZ_SECONDS:-2}
fi
all=$(for d in tests/fuzz/*/; do
          t=$(basename "$d")
          [ -f "$d/fuzz_$t.c" ] && printf '%s ' "$t"
      done)
targets=${FUZZ_TARGETS:-$all}

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang \
      -DCMAKE_C_FLAGS="-O1 -g" -DVFO_SANITIZE=address,undefined -DVFO_FUZZ=ON >/dev/null
cmake --build "$build" -j "$jobs" --target $(for t in $targets; do printf 'fuzz_%s ' "$t"; done)

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
failed=0
summary=""
for t in $targets; do
    exe=$build/tests/fuzz/fuzz_$t
    src=tests/fuzz/$t
    work=$build/work/$t
    mkdir -p "$work/corpus" "$work/artifacts" "$src/corpus"
    set -- -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$work/artifacts/"
    [ -f "$src/$t.dict" ] && set -- "$@" -dict="$src/$t.dict"
    if [ -n "$runs" ]; then
        set -- "$@" -runs="$runs"
    else
        set -- "$@" -max_total_time="$seconds"
    fi
    # The regressions first: each must pass before new ground is explored.
    if [ -d "$src/regressions" ] && [ -n "$(ls -A "$src/regressions")" ]; then
        if ! "$exe" "$src"/regressions/* >"$work/regressions.log" 2>&1; then
            echo "fuzz: $t: a regression input fails again (see $work/regressions.log)"
            failed=1
        fi
    fi
    before=$(ls "$work/artifacts" | wc -l)
    status=0
    "$exe" "$@" "$work/corpus" "$src/corpus" >"$work/run.log" 2>&1 || status=$?
    crashes=$(($(ls "$work/artifacts" | wc -l) - before))
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/run.log" | tail -n 1)
    edges=$(grep -o 'cov: [0-9]*' "$work/run.log" | tail -n 1 | cut -d' ' -f2)
    line=$(printf '%-10s executions %-10s edges %-6s crashes %s' "$t" "${execs:-?}" \
           "${edges:-?}" "$crashes")
    if [ "$status" != 0 ] || [ "$crashes" != 0 ]; then
        line="$line   FAILED (exit $status): $work/run.log, $work/artifacts/"
        failed=1
    fi
    echo "fuzz: $line"
    summary="$summary$line
"
    if [ "${FUZZ_MERGE:-0}" = 1 ]; then
        "$exe" -merge=1 "$src/corpus" "$work/corpus" >"$work/merge.log" 2>&1
        echo "fuzz: $t: corpus now $(ls "$src/corpus" | wc -l) inputs"
    fi
done
printf '\n=== fuzz summary (%s)\n%s' \
    "$([ -n "$runs" ] && echo "$runs runs" || echo "$seconds s") per target" "$summary"
exit $failed
