#!/bin/sh
# Compile the native helper: one C file, statically linked so that it needs nothing from the
# container's filesystem and starts without a dynamic loader.
set -eu
src=$1 out=$2
command -v cc >/dev/null 2>&1 || { echo "brig build: no C compiler (cc): install gcc" >&2; exit 1; }
mkdir -p "$(dirname "$out")"
if [ -f "$out" ] && [ "$out" -nt "$src" ] && [ "$out" -nt "$0" ]; then exit 0; fi
cc -std=gnu11 -O2 -Wall -Wextra -Werror -static -s -o "$out.tmp" "$src"
mv "$out.tmp" "$out"
