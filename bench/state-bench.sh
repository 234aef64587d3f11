#!/bin/bash
# `state` of a running container: Brig warm (the resident server), Brig cold (--no-server: the
# supervisor and a JVM of its own, as before issue 10) and runc, side by side in one run:
# medians of RUNS runs each (hyperfine, no shell), ratios, and the calling process's peak RSS.
#
#   bench/state-bench.sh          (as root, after `mvn -B -q package -DskipTests`)
#
# Knobs: RUNS (default 30), WARMUP (default 5), RSS_RUNS (default 10), BRIG (default
# target/brig/bin/brig), KEEP=1 keeps the work directory. Needs: hyperfine runc jq
# busybox-static, GNU time (/usr/bin/time).
set -euo pipefail

RUNS=${RUNS:-30} WARMUP=${WARMUP:-5} RSS_RUNS=${RSS_RUNS:-10}
top=$(cd "$(dirname "$0")/.." && pwd)
BRIG=${BRIG:-$top/target/brig/bin/brig}
die() { echo "state-bench: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root (containers need it)"
for t in hyperfine runc jq /usr/bin/time /bin/busybox; do command -v "$t" >/dev/null || die "missing $t"; done
[ -x "$BRIG" ] || die "no $BRIG: build first (mvn -B -q package -DskipTests)"

work=$(mktemp -d /tmp/brig-statebench.XXXXXX)
ID=statebench-$$
cleanup() {
    runc --root "$work/state-runc" delete -f "$ID" >/dev/null 2>&1 || true
    "$BRIG" --root "$work/state-brig" delete -f "$ID" >/dev/null 2>&1 || true
    if [ "${KEEP:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

b=$work/bundle
mkdir -p "$b/rootfs/bin"
cp /bin/busybox "$b/rootfs/bin/busybox"
ln -s busybox "$b/rootfs/bin/sleep"
(cd "$b" && runc spec && jq '.process.args=["sleep","1000"] | .process.terminal=false' config.json > c && mv c config.json)
"$BRIG" --root "$work/state-brig" create --bundle "$b" "$ID" >/dev/null 2>&1 </dev/null
runc --root "$work/state-runc" create --bundle "$b" "$ID" >/dev/null 2>&1 </dev/null

"$BRIG" --version >/dev/null # the server runs before the timing starts
hyperfine -N --warmup "$WARMUP" --runs "$RUNS" --export-json "$work/h.json" \
    -n "brig warm" "$BRIG --root $work/state-brig state $ID" \
    -n "brig cold" "$BRIG --no-server --root $work/state-brig state $ID" \
    -n "runc" "runc --root $work/state-runc state $ID" >/dev/null
echo "state of a created container, median of $RUNS runs (ms), and ratio to runc:"
runc_ms=$(jq '.results[] | select(.command=="runc") | .median * 1000' "$work/h.json")
jq -r --argjson r "$runc_ms" '.results[] | "  \(.command): \((.median * 1000 * 100 | round) / 100) ms  (\(((.median * 1000 / $r) * 100 | round) / 100)x runc; min \((.min * 1000 * 100 | round) / 100), max \((.max * 1000 * 100 | round) / 100))"' "$work/h.json"

rss() { # the median peak RSS (KiB) of the calling process, RSS_RUNS runs
    for _ in $(seq "$RSS_RUNS"); do /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; done | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}
echo "peak RSS of the calling process (median of $RSS_RUNS, KiB; cold counts the JVM, its child):"
echo "  brig warm: $(rss "$BRIG" --root "$work/state-brig" state "$ID")"
echo "  brig cold: $(rss "$BRIG" --no-server --root "$work/state-brig" state "$ID")"
echo "  runc: $(rss runc --root "$work/state-runc" state "$ID")"
pid=$("$BRIG" server status | sed -n 's/^running: pid //p')
echo "the server (pid $pid): $(grep -E '^(VmRSS|VmHWM)' /proc/"$pid"/status | tr -s ' \n' ' ')"
