#!/bin/bash
# `start` of a created busybox container (`sleep 1000`): Brig warm (the resident server), Brig
# cold (--no-server) beside runc and crun, in one run: medians of RUNS runs each (hyperfine, no
# shell; before each run the container is deleted and created again, untimed), ratios to runc.
#
#   bench/start-bench.sh          (as root, after `mvn -B -q package -DskipTests`)
#
# Knobs: RUNS (default 20), WARMUP (default 3), BRIG (default target/brig/bin/brig), KEEP=1
# keeps the work directory. Needs: hyperfine runc crun jq busybox-static.
set -euo pipefail

RUNS=${RUNS:-20} WARMUP=${WARMUP:-3}
top=$(cd "$(dirname "$0")/.." && pwd)
BRIG=${BRIG:-$top/target/brig/bin/brig}
die() { echo "start-bench: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root (containers need it)"
for t in hyperfine runc crun jq /bin/busybox; do command -v "$t" >/dev/null || die "missing $t"; done
[ -x "$BRIG" ] || die "no $BRIG: build first (mvn -B -q package -DskipTests)"

work=$(mktemp -d /tmp/brig-startbench.XXXXXX)
ID=startbench-$$
cleanup() {
    runc --root "$work/state-runc" delete -f "$ID" >/dev/null 2>&1 || true
    crun --root "$work/state-crun" delete -f "$ID" >/dev/null 2>&1 || true
    "$BRIG" --root "$work/state-brig" delete -f "$ID" >/dev/null 2>&1 || true
    if [ "${KEEP:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

b=$work/bundle
mkdir -p "$b/rootfs/bin"
cp /bin/busybox "$b/rootfs/bin/busybox"
ln -s busybox "$b/rootfs/bin/sleep"
(cd "$b" && runc spec && jq '.process.args=["sleep","1000"] | .process.terminal=false' config.json > c && mv c config.json)

# Before each timed start: a fresh created container (its own runtime's create, cold for Brig).
fresh() { # RUNTIME ROOT
    echo "sh -c '$1 --root $2 delete -f $ID >/dev/null 2>&1; $1 --root $2 create --bundle $b $ID </dev/null >/dev/null 2>&1'"
}
"$BRIG" --version >/dev/null # the server runs before the timing starts
hyperfine -N --warmup "$WARMUP" --runs "$RUNS" --export-json "$work/h.json" \
    --prepare "$(fresh "$BRIG --no-server" "$work/state-brig")" -n "brig warm" "$BRIG --root $work/state-brig start $ID" \
    --prepare "$(fresh "$BRIG --no-server" "$work/state-brig")" -n "brig cold" "$BRIG --no-server --root $work/state-brig start $ID" \
    --prepare "$(fresh runc "$work/state-runc")" -n "runc" "runc --root $work/state-runc start $ID" \
    --prepare "$(fresh crun "$work/state-crun")" -n "crun" "crun --root $work/state-crun start $ID" >/dev/null
echo "start of a created container, median of $RUNS runs (ms), and ratio to runc:"
runc_ms=$(jq '.results[] | select(.command=="runc") | .median * 1000' "$work/h.json")
jq -r --argjson r "$runc_ms" '.results[] | "  \(.command): \((.median * 1000 * 100 | round) / 100) ms  (\(((.median * 1000 / $r) * 100 | round) / 100)x runc; min \((.min * 1000 * 100 | round) / 100), max \((.max * 1000 * 100 | round) / 100))"' "$work/h.json"
