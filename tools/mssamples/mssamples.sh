#!/bin/sh
# mssamples.sh: build Microsoft's NDIS samples from a Windows-driver-samples
# checkout against include/ddk, as shared objects ndisemu loads like our own
# drivers, and run each through its scenario (tools/mssamples/mssamples_run.c)
# with the verifier on.  `make mssamples MSSAMPLES=<checkout>` calls it.
#
#   tools/mssamples/mssamples.sh <checkout> [<build dir, default build/host>]
#
# <checkout> is a clone of https://github.com/microsoft/Windows-driver-samples
# (a work tree, or a bare/mirror git directory: then the files are taken from
# its HEAD with git archive).  The checkout is never written to: the sources
# are copied to <build>/mssamples/src and the compiler-portability edits
# listed in docs/mssamples.md are applied to that copy.  Microsoft's code
# never enters this repository.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SRC=${1:-}
BUILD=${2:-build/host}
CC=${CC:-cc}

die() { echo "mssamples: $*" >&2; exit 2; }

[ -n "$SRC" ] || die "MSSAMPLES is not set. Get a checkout with
    git clone https://github.com/microsoft/Windows-driver-samples
and run: make mssamples MSSAMPLES=<path to it>"
[ -d "$SRC" ] || die "MSSAMPLES=$SRC: no such directory"
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac

# The samples this target builds, each as
#   name|directory in the checkout|sources (relative to it)|defines (from its vcxproj)
SAMPLES='ndisprot|network/ndis/ndisprot/6x/sys|ntdisp.c ndisbind.c recv.c send.c excallbk.c debug.c|NDIS_WDM=1 NDIS630=1
netvmini|network/ndis/netvmini/6x|miniport.c adapter.c ctrlpath.c datapath.c tcbrcb.c mphal.c vmq.c qos.c|NDIS_MINIPORT_DRIVER=1 NDIS630_MINIPORT=1 NDIS630=1 NDIS_WDM=1
filter|network/ndis/filter|device.c filter.c flt_dbg.c|NDIS_WDM=1 NDIS630=1 NDISLWF=1
mux|network/ndis/mux/driver/60|miniport.c mux.c protocol.c|NDIS_MINIPORT_DRIVER=1 NDIS_WDM=1 NDIS60_MINIPORT=1 NDIS60=1'

OUT=$BUILD/mssamples

# A Windows-driver-samples checkout has these files; anything else is refused.
MARKERS="network/ndis/ndisprot/6x/sys/ntdisp.c network/ndis/netvmini/6x/miniport.c network/ndis/filter/filter.c network/ndis/mux/driver/60/mux.c"
fresh() { rm -rf "$OUT/src" && mkdir -p "$OUT/src" || die "cannot create $OUT/src"; }
if [ -f "$SRC/network/ndis/ndisprot/6x/sys/ntdisp.c" ]; then
    for m in $MARKERS; do
        [ -f "$SRC/$m" ] || die "MSSAMPLES=$SRC is not a Windows-driver-samples checkout (no $m)"
    done
    fresh
    COMMIT=$(git -C "$SRC" rev-parse HEAD 2>/dev/null || echo "unknown (not a git work tree)")
    DIRTY=$(git -C "$SRC" status --porcelain -- network/ndis 2>/dev/null | head -1)
    [ -z "$DIRTY" ] || echo "mssamples: warning: the checkout's network/ndis has local changes"
    (cd "$SRC" && tar -cf - network/ndis) | tar -xf - -C "$OUT/src"
elif git --git-dir="$SRC" rev-parse --verify -q HEAD >/dev/null 2>&1; then
    for m in $MARKERS; do
        git --git-dir="$SRC" cat-file -e "HEAD:$m" 2>/dev/null ||
            die "MSSAMPLES=$SRC is not a Windows-driver-samples repository (no $m at HEAD)"
    done
    COMMIT=$(git --git-dir="$SRC" rev-parse HEAD)
    fresh
    # (a partial mirror may lack blobs outside network/ndis: git archive
    # complains about them; what matters is that the samples arrived)
    git --git-dir="$SRC" archive HEAD network/ndis 2>"$OUT/archive.log" | tar -xf - -C "$OUT/src"
    for m in $MARKERS; do
        [ -f "$OUT/src/$m" ] || die "git archive of $SRC did not give $m (see $OUT/archive.log)"
    done
else
    die "MSSAMPLES=$SRC is not a Windows-driver-samples checkout (no network/ndis/ndisprot/6x/sys/ntdisp.c)"
fi
echo "mssamples: Windows-driver-samples $COMMIT"

LIB=$BUILD/emu/ndisemu/libndisemu.so
RUN=$BUILD/tools/mssamples/mssamples_run
[ -f "$LIB" ] && [ -x "$RUN" ] ||
    die "$LIB or $RUN is missing: build first (make build, or cmake --build $BUILD --target ndisemu mssamples_run)"

# The compiler-portability edits (docs/mssamples.md lists them), applied to
# the copy only:
#  1. #include names are matched case-insensitively by MSVC on Windows: an
#     include whose file exists under another case is rewritten to that case.
portability() {
    dir=$1
    for f in "$dir"/*.c "$dir"/*.h; do
        [ -f "$f" ] || continue
        grep -o '#include *"[^"]*"' "$f" | sed 's/.*"\(.*\)"/\1/' | sort -u | while read -r inc; do
            [ -e "$dir/$inc" ] && continue
            real=$(cd "$dir" && ls | grep -i -x -F "$inc" | head -1)
            [ -n "$real" ] && sed -i "s|#include *\"$inc\"|#include \"$real\"|" "$f" &&
                echo "$(basename "$f"): #include \"$inc\" -> \"$real\"" >>"$OUT/portability.log"
        done
    done
}

: >"$OUT/portability.log"

# tracewpp's part of a WDK build (the vcxproj's WppEnabled, WppTraceFunction
# DEBUGP(LEVEL,MSG,...)): one <source>.tmh per source that includes it. A
# trace session is never started here, so the generated macros do what
# WPP's do with tracing off: nothing, arguments not evaluated.
wpp_headers() {
    dir=$1
    for f in "$dir"/*.c; do
        grep -q '#include *"[^"]*\.tmh"' "$f" || continue
        tmh=$dir/$(basename "$f" .c).tmh
        cat >"$tmh" <<'EOF_TMH'
/* generated by tools/mssamples/mssamples.sh in place of tracewpp (tracing off) */
#define WPP_INIT_TRACING(DriverObject, RegistryPath) ((void)0)
#define WPP_CLEANUP(DriverObject)                    ((void)0)
#define DEBUGP(LEVEL, ...)                           ((void)0)
EOF_TMH
        echo "$(basename "$tmh"): generated (tracewpp's trace header, tracing off)" >>"$OUT/portability.log"
    done
}

# 2. netvmini (at 26a27df) declares two functions with another parameter
#    type than it defines them with (HWInitialize: NDIS_HANDLE in mphal.h,
#    PNDIS_MINIPORT_INIT_PARAMETERS in mphal.c; IndicateRxQueue: NDIS_HANDLE
#    in vmq.h, PMP_ADAPTER in vmq.c). MSVC's C compiler accepts a pointer
#    parameter declared with another pointer type; gcc and clang reject the
#    definition ("conflicting types"). The declarations are given the
#    definitions' types.
proto_fix() {
    f=$1 from=$2 to=$3
    [ -f "$f" ] && grep -qF "$from" "$f" || return 0
    sed -i "s/$from/$to/" "$f" &&
        echo "$(basename "$f"): \"$from\" -> \"$to\" (declaration matches the definition)" >>"$OUT/portability.log"
}
NVM=$OUT/src/network/ndis/netvmini/6x
proto_fix "$NVM/mphal.h" "_In_  NDIS_HANDLE  WrapperConfigurationContext);" \
    "_In_  PNDIS_MINIPORT_INIT_PARAMETERS  InitParameters);"
proto_fix "$NVM/vmq.h" "_In_ NDIS_HANDLE AdapterHandle," "_In_ struct _MP_ADAPTER *AdapterHandle,"
CFLAGS_SAMPLE="-std=gnu11 -fPIC -shared -fshort-wchar -fms-extensions -g -O1 -Wno-unknown-pragmas -Wno-multichar"
fails=0
SUMMARY=""
while IFS='|' read -r name dir srcs defs; do
    sdir=$OUT/src/$dir
    portability "$sdir"
    wpp_headers "$sdir"
    log=$OUT/$name.build.log
    dflags=""
    files=""
    for d in $defs; do dflags="$dflags -D$d"; done
    for s in $srcs; do files="$files $sdir/$s"; done
    # shellcheck disable=SC2086
    if ! $CC $CFLAGS_SAMPLE $dflags -I"$ROOT/include/ddk" -I"$sdir" -o "$OUT/$name.so" $files \
        -Wl,--no-undefined -L"$(dirname "$LIB")" -lndisemu </dev/null >"$log" 2>&1; then
        nerr=$(grep 'error:' "$log" | grep -vc 'collect2: error\|ld returned')
        if [ "$nerr" -gt 0 ]; then
            res="BUILD FAILED: $nerr compile error(s), first: $(grep -m1 'error:' "$log" | sed 's|.*/||')"
        else
            syms=$(grep -o "undefined reference to \`[^']*'" "$log" | sed "s/.*\`//; s/'//" | sort -u | tr '\n' ' ')
            res="LINK FAILED: ndisemu does not export: $syms"
        fi
        fails=$((fails + 1))
    else
        rlog=$OUT/$name.run.log
        if "$RUN" "$name" "$OUT/$name.so" "$OUT" </dev/null >"$rlog" 2>&1; then
            res="PASS: $(tail -1 "$rlog")"
        else
            res="RUN FAILED: $(grep -m3 -E 'FAIL|violation|error' "$rlog" | tr '\n' ' ')"
            fails=$((fails + 1))
        fi
    fi
    SUMMARY="$SUMMARY$(printf '%-9s %s' "$name" "$res")
"
done <<EOF_SAMPLES
$SAMPLES
EOF_SAMPLES
# vfo with the filter sample stacked over its miniport and over the VF, in
# place of passflt (tools/mssamples/vfo-msfilter.scn, through vfo-emu's
# --filter): described as netlwf.inf says, as for its own scenario.
EMU=$BUILD/tools/vfo-emu/vfo-emu
SEEDS=${MSSAMPLES_SEEDS:-1..100}
if [ ! -f "$OUT/filter.so" ]; then
    res="NOT RUN: the filter sample did not build"
    fails=$((fails + 1))
elif [ ! -x "$EMU" ]; then
    res="NOT RUN: $EMU is missing (cmake --build $BUILD --target vfo-emu)"
    fails=$((fails + 1))
else
    printf 'service = ndislwf\n[filter]\nclass = compression\ntype = modifying\nruntype = mandatory\nmedia = ethernet,wan,ppip\n' >"$OUT/ndislwf-vfo.desc"
    rlog=$OUT/vfo-filter.run.log
    if "$EMU" run "$ROOT/tools/mssamples/vfo-msfilter.scn" --seeds "$SEEDS" \
        --filter "$OUT/filter.so:$OUT/ndislwf-vfo.desc" </dev/null >"$rlog" 2>&1; then
        res="PASS: seeds $SEEDS, $(grep -c '^PASS' "$rlog") passed, verifier clean"
    else
        res="RUN FAILED: $(grep -m3 -E '^FAIL|seeds failed' "$rlog" | tr '\n' ' ')"
        fails=$((fails + 1))
    fi
fi
SUMMARY="$SUMMARY$(printf '%-9s %s' "vfo+filter" "$res")
"
echo "mssamples: portability edits applied: $(wc -l <"$OUT/portability.log") (see $OUT/portability.log)"
echo "mssamples: per-sample result (logs in $OUT/<sample>.build.log, .run.log):"
printf '%s' "$SUMMARY"
[ "$fails" -eq 0 ]
