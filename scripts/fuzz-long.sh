#!/bin/sh
# The long fuzz run of issue 17 (docs/fuzzing.md): every target in turn, one
# libFuzzer process at a time, in slices of FUZZ_SLICE seconds, each slice
# resuming from the target's work corpus, until the target has had
# FUZZ_LONG_EXECS executions (10^7) or FUZZ_LONG_CPU seconds of CPU time
# (12 h), whichever comes first, or until it crashes. Meant to run in the
# background for hours, outside the repository:
#
#   nice -n 19 scripts/fuzz-long.sh &
#
#   FUZZ_LONG_DIR=/work/fuzzlong-runs   where the work corpora, artifacts and
#                                       logs go (never the repository)
#   FUZZ_BUILD=$FUZZ_LONG_DIR/build     the libFuzzer build (built here as
#                                       scripts/fuzz.sh builds it, unless
#                                       FUZZ_NO_BUILD=1)
#   FUZZ_TARGETS="virtio vnet ..."      default: every target
#   FUZZ_SLICE=600                      seconds per slice
#   FUZZ_SLICE_<target>=N               that target's slices (the slow ndisemu
#                                       targets want longer ones: libFuzzer
#                                       re-runs every input for its leak check
#                                       over the first ~1000 of each process)
#   FUZZ_LONG_EXECS=10000000 FUZZ_LONG_CPU=43200
#   FUZZ_TIMEOUT=60                     libFuzzer's -timeout (wall seconds): a
#                                       nice-19 process on a loaded VM is
#                                       starved for seconds at a time, and a
#                                       hang stays a hang at 60 s
#
# The seed corpora and dictionaries are copied to $FUZZ_LONG_DIR/seeds/ at
# the start, so the run needs nothing from the checkout afterwards.
#
# Carried between machines: the run's goal is tens of CPU hours and a
# machine may be gone before it is reached. tests/fuzz/long-run/<target>.tsv
# holds the slices run elsewhere (same columns) and tests/fuzz/long-run/
# <target>/ the corpus they reached, merged (libFuzzer -merge=1). A run that
# starts without a slices.tsv of its own takes the carried slices into its
# totals, and every slice reads the carried corpus besides the seeds.
#
#   scripts/fuzz-long.sh --save    writes the run's slices and merged work
#                                  corpora into tests/fuzz/long-run/ (to commit;
#                                  a target that reached its goal keeps its
#                                  slices only)
#   scripts/fuzz-long.sh --table   prints the carried totals per target as the
#                                  Markdown table of docs/fuzzing.md
#   touch $FUZZ_LONG_DIR/stop      the run stops when the slice under way ends
#                                  (nothing lost; delete the file to run again)
# Per target, $FUZZ_LONG_DIR/<target>/slices.tsv gets one line per slice
# (UTC end, wall s, CPU s, executions, edges, features, corpus, exit status,
# new artifacts); $FUZZ_LONG_DIR/summary.txt the totals after every slice.
# A slice that ends with a crash (any new crash-/leak-/timeout-/oom- file)
# takes its target out of the rotation. Stop the run at once: kill the
# script's PID, then the libFuzzer process it started (its PID is in
# $FUZZ_LONG_DIR/current); the slice under way is then not counted.
set -eu
cd "$(dirname "$0")/.."
dir=${FUZZ_LONG_DIR:-/work/fuzzlong-runs}
build=${FUZZ_BUILD:-$dir/build}
slice=${FUZZ_SLICE:-600}
max_execs=${FUZZ_LONG_EXECS:-10000000}
max_cpu=${FUZZ_LONG_CPU:-43200}
timeout=${FUZZ_TIMEOUT:-60}
all=$(for d in tests/fuzz/*/; do
          t=$(basename "$d")
          [ -f "$d/fuzz_$t.c" ] && printf '%s ' "$t"
      done)
targets=${FUZZ_TARGETS:-$all}
carry=tests/fuzz/long-run

if [ "${1:-}" = --save ]; then
    export ASAN_OPTIONS=detect_leaks=0
    for t in $targets; do
        [ -f "$dir/$t/slices.tsv" ] || continue
        mkdir -p "$carry"
        cp "$dir/$t/slices.tsv" "$carry/$t.tsv"
        if grep -q '^reached' "$dir/$t/done" 2>/dev/null; then
            # Goal reached: the slices are the record; no corpus to go on from.
            rm -rf "$carry/$t"
            echo "fuzz-long: $t: $(wc -l <"$carry/$t.tsv") slices, goal reached -> $carry"
            continue
        fi
        rm -rf "$carry/$t.new"
        mkdir -p "$carry/$t" "$carry/$t.new"
        # The smallest set covering what was carried and this run's work corpus.
        "$build/tests/fuzz/fuzz_$t" -merge=1 "$carry/$t.new" "$carry/$t" "$dir/$t/corpus" \
            >"$dir/$t/save.log" 2>&1 || { echo "fuzz-long: merge of $t failed, see $dir/$t/save.log" >&2; exit 1; }
        rm -rf "$carry/$t"
        mv "$carry/$t.new" "$carry/$t"
        echo "fuzz-long: $t: $(wc -l <"$carry/$t.tsv") slices, $(ls "$carry/$t" | wc -l) corpus files -> $carry"
    done
    exit 0
fi

if [ "${1:-}" = --table ]; then
    echo "| target | slices | executions | CPU s | wall s | edges | features | carried corpus | crashes | goal reached? |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"
    for t in $all; do
        [ -f "$carry/$t.tsv" ] || continue
        corpus=0
        [ -d "$carry/$t" ] && corpus=$(ls "$carry/$t" | wc -l)
        awk -F'\t' -v t="$t" -v corpus="$corpus" -v max_e="$max_execs" -v max_c="$max_cpu" '
            { n++; w += $2; c += $3; e += $4; k += $9
              if ($5 > edges) edges = $5
              if ($6 > ft) ft = $6 }
            END {
                if (e >= max_e) goal = sprintf("yes (%d executions)", max_e)
                else if (c >= max_c) goal = sprintf("yes (%d CPU s)", max_c)
                else goal = sprintf("no: %.1f%% of %d executions, %.1f%% of %d CPU s",
                                    100 * e / max_e, max_e, 100 * c / max_c, max_c)
                printf "| %s | %d | %d | %d | %d | %d | %d | %d | %d | %s |\n",
                       t, n, e, c, w, edges, ft, corpus, k, goal
            }' "$carry/$t.tsv"
    done
    exit 0
fi

mkdir -p "$dir"

if [ "${FUZZ_NO_BUILD:-0}" != 1 ]; then
    cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang \
          -DCMAKE_C_FLAGS="-O1 -g" -DVFO_SANITIZE=address,undefined -DVFO_FUZZ=ON >/dev/null
    cmake --build "$build" -j "${JOBS:-1}" \
          --target $(for t in $targets; do printf 'fuzz_%s ' "$t"; done) >"$dir/build.log"
fi

for t in $targets; do
    rm -rf "$dir/seeds/$t"
    mkdir -p "$dir/seeds/$t/corpus"
    cp tests/fuzz/"$t"/corpus/* "$dir/seeds/$t/corpus/" 2>/dev/null || true
    [ -f "tests/fuzz/$t/$t.dict" ] && cp "tests/fuzz/$t/$t.dict" "$dir/seeds/$t/"
    mkdir -p "$dir/seeds/$t/carried" "$dir/$t"
    cp "$carry/$t"/* "$dir/seeds/$t/carried/" 2>/dev/null || true
    if [ -f "$carry/$t.tsv" ] && [ ! -f "$dir/$t/slices.tsv" ]; then
        cp "$carry/$t.tsv" "$dir/$t/slices.tsv"
    fi
done


export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# What libFuzzer left in an artifacts directory that is a defect: crash-,
# leak-, timeout- and oom- files. Not its slow-unit- files: an input slower
# than 10 s wall, which a nice-19 process starved by other work writes now
# and then (two fuzz_ctl inputs of 12 and 14 s took 0.9 and 0.5 s alone).
found_crashes() {
    ls "$1" | grep -c -E '^(crash|leak|timeout|oom)-' || true
}

# Totals of one target: executions, CPU seconds, wall seconds, slices.
totals() {
    [ -f "$dir/$1/slices.tsv" ] || { echo "0 0 0 0"; return; }
    awk -F'\t' '{ e += $4; c += $3; w += $2; n++ } END { printf "%d %d %d %d\n", e, c, w, n }' \
        "$dir/$1/slices.tsv"
}

summary() {
    {
        echo "# fuzz-long $(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -n), $(nproc) CPUs," \
             "load $(cut -d' ' -f1-3 /proc/loadavg); goal per target: $max_execs executions" \
             "or $max_cpu CPU s"
        printf '%-9s %12s %9s %9s %6s %7s %8s %7s  %s\n' target executions cpu_s wall_s slices \
               edges features corpus state
        for t in $targets; do
            set -- $(totals "$t")
            last=$(tail -n 1 "$dir/$t/slices.tsv" 2>/dev/null || true)
            edges=$(echo "$last" | cut -f5)
            ft=$(echo "$last" | cut -f6)
            corp=$(echo "$last" | cut -f7)
            state=running
            [ -f "$dir/$t/done" ] && state=$(cat "$dir/$t/done")
            printf '%-9s %12s %9s %9s %6s %7s %8s %7s  %s\n' "$t" "$1" "$2" "$3" "$4" \
                   "${edges:--}" "${ft:--}" "${corp:--}" "$state"
        done
    } >"$dir/summary.txt.new"
    mv "$dir/summary.txt.new" "$dir/summary.txt"
}

while :; do
    active=0
    for t in $targets; do
        w=$dir/$t
        mkdir -p "$w/corpus" "$w/artifacts"
        [ -f "$w/done" ] && continue
        set -- $(totals "$t")
        if [ "$1" -ge "$max_execs" ]; then
            echo "reached $1 executions" >"$w/done"
            continue
        fi
        if [ "$2" -ge "$max_cpu" ]; then
            echo "reached $2 CPU s" >"$w/done"
            continue
        fi
        active=1
        exe=$build/tests/fuzz/fuzz_$t
        src=$dir/seeds/$t
        eval "len=\${FUZZ_SLICE_$t:-$slice}"
        set -- -print_final_stats=1 -timeout="$timeout" -rss_limit_mb=2048 -max_total_time="$len" \
               -artifact_prefix="$w/artifacts/"
        [ -f "$src/$t.dict" ] && set -- "$@" -dict="$src/$t.dict"
        before=$(found_crashes "$w/artifacts")
        start=$(date +%s)
        status=0
        /usr/bin/time -f '%U %S' -o "$w/time.out" "$exe" "$@" "$w/corpus" "$src/corpus" \
            "$src/carried" >"$w/run.log" 2>&1 &
        echo "$t $!" >"$dir/current"
        wait $! || status=$?
        end=$(date +%s)
        cpu=$(awk 'END { printf "%d", $1 + $2 }' "$w/time.out" 2>/dev/null || echo 0)
        execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$w/run.log" | tail -n 1)
        edges=$(grep -o 'cov: [0-9]*' "$w/run.log" | tail -n 1 | cut -d' ' -f2)
        ft=$(grep -o 'ft: [0-9]*' "$w/run.log" | tail -n 1 | cut -d' ' -f2)
        crashes=$(($(found_crashes "$w/artifacts") - before))
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u '+%Y-%m-%dT%H:%M:%SZ')" \
               $((end - start)) "${cpu:-0}" "${execs:-0}" "${edges:-0}" "${ft:-0}" \
               "$(ls "$w/corpus" | wc -l)" "$status" "$crashes" >>"$w/slices.tsv"
        if [ "$crashes" != 0 ] || { [ "$status" != 0 ] && [ -z "$execs" ]; }; then
            cp "$w/run.log" "$w/crash-run-$(date +%s).log"
            echo "stopped: exit $status, $crashes new artifact(s)" >"$w/done"
        fi
        summary
        [ -f "$dir/stop" ] && break
    done
    summary
    [ "$active" = 1 ] && [ ! -f "$dir/stop" ] || break
done
rm -f "$dir/current"
