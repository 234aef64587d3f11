#!/bin/bash
# Where a cold `brig run` (or any command) spends its time inside the JVM: runs it N times in
# the cold path's JVM (same runtime, flags, AOT cache, under brig-helper launch as bin/brig
# does), with bench/ColdSampler.java reading the main thread's stack every ~0.5 ms, then prints
# the samples per run: by the innermost three brig frames, and by the top frame's package.
# A thread waiting in a system call shows as that call (Libc.call < ...), so kernel waits show
# too. The JVM's own start (~40 ms before main) is not sampled: see bench/cold-cut.sh.
#
#   bench/cold-sample.sh                    (as root, after a build: 15 runs of busybox /bin/true)
#   N=30 bench/cold-sample.sh state ID      (any brig arguments after --root)
#
# Knobs: N (runs, default 15), TOPS (rows of the last table, default 25), BRIG (default target/brig/bin/brig), JIT=1 (C1 on, as for the
# commands bin/brig does not run interpreted: -Xint otherwise, as for runc's verbs), JAVAC, KEEP=1.
set -euo pipefail
N=${N:-15}
top=$(cd "$(dirname "$0")/.." && pwd)
BRIG=${BRIG:-$top/target/brig/bin/brig}
home=$(cd "$(dirname "$BRIG")/.." && pwd)
JAVAC=${JAVAC:-/usr/lib/jvm/temurin-25-jdk-amd64/bin/javac}
die() { echo "cold-sample: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root"
[ -x "$home/runtime/bin/java" ] || die "no $home/runtime/bin/java: build first"
[ -x "$JAVAC" ] || die "no javac at $JAVAC (JAVAC=...)"
for t in python3 runc; do command -v $t >/dev/null || die "missing $t"; done
work=$(mktemp -d /tmp/brig-coldsample.XXXXXX)
cleanup() {
    for d in "$work"/state/*/; do [ -d "$d" ] && "$BRIG" --no-server --root "$work/state" delete -f "$(basename "$d")" >/dev/null 2>&1; done
    if [ "${KEEP:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
mkdir -p "$work/classes"
"$JAVAC" --release 25 -cp "$home/lib/brig.jar" -d "$work/classes" "$top/bench/ColdSampler.java"
b=$work/bundle
. "$top/bench/true-bundle.sh"
true_bundle "$b"
[ $# -gt 0 ] || set -- run --bundle "$b" coldsample
# As bin/brig's cold path (src/main/c/brig-client.c), the sampler's classes after Brig's jar.
for i in $(seq "$N"); do
    "$home/libexec/brig-helper" launch "$home/runtime/bin/java" $([ "${JIT:-0}" = 1 ] || echo -Xint) -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -XX:-UsePerfData \
        -Xlog:disable -Xlog:all=error:stderr "-XX:AOTCache=$home/lib/brig.aot" --enable-native-access=ALL-UNNAMED \
        "-Dbrig.home=$home" "-Dbrig.samples=$work/samples" -cp "$home/lib/brig.jar:$work/classes" ColdSampler \
        --root "$work/state" "$@" >/dev/null </dev/null || true
done
python3 - "$work/samples" <<'PY'
import collections, sys
inner, outer, tops, mains = collections.Counter(), collections.Counter(), collections.Counter(), []
for line in open(sys.argv[1]):
    line = line.rstrip('\n')
    if line.startswith('SAMPLES'): mains.append(int(line.split()[-1]))
    elif line.startswith(('I ', 'O ', 'T ')):
        n, key = line[2:].split(' ', 1)
        {'I': inner, 'O': outer, 'T': tops}[line[0]][key] += int(n)
runs, total = len(mains), sum(outer.values())
print(f"{runs} runs; main() to exit, median {sorted(mains)[runs // 2]} ms; {total / runs:.1f} samples per run")
print("== by the top frame's package (samples per run, share)")
for k, v in outer.most_common(12): print(f"  {v / runs:5.1f} {100 * v / total:4.1f}%  {k}")
print("== by the innermost brig frames")
for k, v in inner.most_common(30): print(f"  {v / runs:5.1f} {100 * v / total:4.1f}%  {k or '(no brig frame)'}")
print("== by the top frame's method < the innermost brig frame")
for k, v in tops.most_common(int(__import__('os').environ.get('TOPS', '25'))): print(f"  {v / runs:5.1f} {100 * v / total:4.1f}%  {k}")
PY
