#!/bin/sh
# Formats (or with --check, verifies) every C source of the project with the
# repo's .clang-format. Generated and third-party files: none are committed.
set -eu
cd "$(dirname "$0")/.."
files=$(git ls-files '*.c' '*.h' 2>/dev/null || true)
[ -n "$files" ] || exit 0
if [ "${1:-}" = "--check" ]; then
    # shellcheck disable=SC2086
    if ! clang-format --dry-run --Werror $files; then
        echo "format: run 'make format' to fix the files above" >&2
        exit 1
    fi
else
    # shellcheck disable=SC2086
    clang-format -i $files
fi
