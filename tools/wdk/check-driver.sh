#!/bin/sh
# check-driver.sh - compile every .c that driver/vfo.vcxproj builds (driver/src
# and lib/*/src) against the real WDK headers, at WDK strictness, with the
# vcxproj's defines and include directories, over the matrix
#   kit (WDK_REVS) x NTDDI (kit default, Windows 8) x VFO_WPP (off, on).
#
# It drives wdk-check.sh (clang in MSVC mode over a WDK include tree; its
# manual is WDK-CHECK.md beside it).  Set WDK_CHECK to its path.
#
# WPP: tracewpp generates each file's .tmh, which defines the trace macros
# that trace.h leaves to WPP (VFO_ERR, VFO_WARN, ..., WPP_INIT_TRACING).  An
# empty .tmh would leave them undeclared, so the VFO_WPP build is checked with
# a stand-in .tmh per source that gives those names the shape tracewpp gives
# them: a level, a format string and arguments, all evaluated and type-checked
# as function arguments.  WPP's own format checking is not reproduced.
#
# Exit status 0 only if every file passes in every configuration.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
WDK_CHECK=${WDK_CHECK:-/work/shared/tools/wdk-check.sh}
WDK_REVS=${WDK_REVS:-"10.0.22000.0 10.0.22621.0"}
NTDDIS=${NTDDIS:-"default 0x06020000"}
[ -x "$WDK_CHECK" ] || { echo "check-driver: wdk-check.sh not found (set WDK_CHECK)" >&2; exit 2; }

# driver/vfo.vcxproj: PreprocessorDefinitions (VFO_WPP is toggled below)
export WDK_DEFINES="-DNDIS_MINIPORT_DRIVER=1 -DNDIS630_MINIPORT=1 -DNDIS630=1 -DPOOL_NX_OPTIN=1"
# driver/vfo.vcxproj: AdditionalIncludeDirectories
incs="$root/driver/src $root/driver/include $root/lib/virtio/include $root/lib/vnet/include $root/lib/failover/include $root/osdep"

tmh=$(mktemp -d /tmp/vfo-wpp-tmh.XXXXXX) || exit 2
trap 'rm -rf "$tmh"' EXIT
for c in "$root"/driver/src/*.c; do
    cat > "$tmh/$(basename "${c%.c}").tmh" <<'TMH'
/* check-driver.sh stand-in for a tracewpp-generated .tmh (not a WPP build) */
#ifndef VFO_WPP_STANDIN
#define VFO_WPP_STANDIN
static __inline void vfo_wpp_standin(int level, const char *msg, ...)
{
    (void)level;
    (void)msg;
}
#define VFO_TRACE(LEVEL, MSG, ...) vfo_wpp_standin((LEVEL), MSG, ##__VA_ARGS__)
#define VFO_ERR(MSG, ...)          vfo_wpp_standin(2, MSG, ##__VA_ARGS__)
#define VFO_WARN(MSG, ...)         vfo_wpp_standin(3, MSG, ##__VA_ARGS__)
#define VFO_INFO(MSG, ...)         vfo_wpp_standin(4, MSG, ##__VA_ARGS__)
#define VFO_DEBUG(MSG, ...)        vfo_wpp_standin(5, MSG, ##__VA_ARGS__)
#define WPP_INIT_TRACING(DrvObj, RegPath) ((void)(PDRIVER_OBJECT)(DrvObj), (void)(PCUNICODE_STRING)(RegPath))
#define WPP_CLEANUP(DrvObj)               ((void)(PDRIVER_OBJECT)(DrvObj))
#endif
TMH
done

fail=0
for rev in $WDK_REVS; do
    for ntddi in $NTDDIS; do
        for wpp in 0 1; do
            for src in driver/src lib/virtio/src lib/vnet/src lib/failover/src; do
                # lib/ is built without WPP (WppEnabled false in the vcxproj)
                [ "$wpp" = 1 ] && [ "$src" != driver/src ] && continue
                extra=""; cflags=""
                [ "$wpp" = 1 ] && { extra="$tmh"; cflags="-DVFO_WPP=1"; }
                nt=""; [ "$ntddi" != default ] && nt=$ntddi
                out=$(cd "$root" && WDK_REV=$rev WDK_NTDDI=$nt WDK_CFLAGS="$cflags" \
                      "$WDK_CHECK" "$root/$src" $incs $extra 2>&1)
                rc=$?
                warns=$(printf '%s\n' "$out" | grep -E '^(OK|FAIL) ' | grep -c -v '(0 warning(s))')
                printf 'kit %-12s ntddi %-10s wpp %s %-17s %s; files with warnings: %s\n' \
                    "$rev" "$ntddi" "$wpp" "$src" "$(printf '%s\n' "$out" | tail -1)" "$warns"
                if [ $rc -ne 0 ] || [ "$warns" != 0 ]; then
                    fail=1
                    printf '%s\n' "$out" | grep -v '^OK ' | sed 's/^/    /'
                fi
            done
        done
    done
done
[ $fail = 0 ] && echo "check-driver: all configurations OK, 0 warnings" || echo "check-driver: FAILED"
exit $fail
