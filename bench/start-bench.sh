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
    sh -c "${hide:-} crun --root $work/state-crun delete -f $ID" >/dev/null 2>&1 || true
    "$BRIG" --root "$work/state-brig" delete -f "$ID" >/dev/null 2>&1 || true
    if [ "${KEEP:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

b=$work/bundle
mkdir -p "$b/rootfs/bin"
cp /bin/busybox "$b/rootfs/bin/busybox"
ln -s busybox "$b/rootfs/bin/sleep"
(cd "$b" && runc spec && jq '.process.args=["sleep","1000"] | .process.terminal=false' config.json > c && mv c config.json)

# Before each timed start: a fresh created container (its own runtime's create, cold for Brig),
# from a small script. crun 1.8 refuses this hybrid host's cgroup2 mount when it holds
# controllers: its create and delete run with /sys/fs/cgroup/unified unmounted in a private
# mount namespace (as in bench/run-bench.sh); its start, the timed part, runs as is.
hide=""
[ -n "$(cat /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null)" ] && hide="unshare -m --propagation private sh -c 'umount -l /sys/fs/cgroup/unified && exec \"\$0\" \"\$@\"'"
fresh() { # NAME RUNTIME ROOT [WRAPPER]
    cat >"$work/prep-$1.sh" <<PREP
${4:-} $2 --root $3 delete -f $ID >/dev/null 2>&1
${4:-} $2 --root $3 create --bundle $b $ID </dev/null >$work/prepare.log 2>&1 || { cat $work/prepare.log >&2; exit 1; }
PREP
    sh "$work/prep-$1.sh" || die "cannot create with $2"
    echo "sh $work/prep-$1.sh"
}
"$BRIG" --version >/dev/null # the server runs before the timing starts
hyperfine -N --warmup "$WARMUP" --runs "$RUNS" --export-json "$work/h.json" \
    --prepare "$(fresh brigw "$BRIG --no-server" "$work/state-brig")" -n "brig warm" "$BRIG --root $work/state-brig start $ID" \
    --prepare "$(fresh brigc "$BRIG --no-server" "$work/state-brig")" -n "brig cold" "$BRIG --no-server --root $work/state-brig start $ID" \
    --prepare "$(fresh runc runc "$work/state-runc")" -n "runc" "runc --root $work/state-runc start $ID" \
    --prepare "$(fresh crun crun "$work/state-crun" "$hide")" -n "crun" "crun --root $work/state-crun start $ID" >/dev/null
echo "start of a created container, median of $RUNS runs (ms), and ratio to runc:"
runc_ms=$(jq '.results[] | select(.command=="runc") | .median * 1000' "$work/h.json")
jq -r --argjson r "$runc_ms" '.results[] | "  \(.command): \((.median * 1000 * 100 | round) / 100) ms  (\(((.median * 1000 / $r) * 100 | round) / 100)x runc; min \((.min * 1000 * 100 | round) / 100), max \((.max * 1000 * 100 | round) / 100))"' "$work/h.json"
