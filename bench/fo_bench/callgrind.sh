#!/bin/sh
# Instructions per packet of each fo_bench case, counted by callgrind.
#   bench/fo_bench/callgrind.sh [build dir]      (default build/host)
# For each single-threaded case, runs fo_bench --callgrind N under valgrind
# collecting only inside that case's loop function, and divides by N. The
# figure includes the call into lib/failover and the loop around it.
set -eu
build=${1:-build/host}
bench="$build/bench/fo_bench/fo_bench"
[ -x "$bench" ] || { echo "callgrind.sh: build $bench first (make)" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "callgrind.sh: valgrind is not installed" >&2; exit 1; }
n=1000000
out=$(mktemp)
trap 'rm -f "$out"' EXIT
printf '%-22s %s\n' "case" "instructions per packet (callgrind, $n packets)"
for c in select_standby:select_tx/standby select_primary:select_tx/primary \
         select_offload:select_tx/offload rx_accept:rx_accept \
         tx_round_trip:"tx round trip" rx_round_trip:"rx round trip"; do
    fn=case_${c%%:*}
    valgrind --tool=callgrind --callgrind-out-file="$out" --collect-atstart=no \
        --toggle-collect="$fn" "$bench" --callgrind "$n" >/dev/null 2>&1
    ir=$(awk '/^summary:/ { print $2 }' "$out")
    awk -v ir="$ir" -v n="$n" -v name="${c#*:}" 'BEGIN { printf "%-22s %.1f\n", name, ir / n }'
done
