#!/bin/bash
# Brig vs runc vs crun: the time and peak memory of `run` of a busybox /bin/true container,
# side by side in one run, with ratios. Then where Brig's time goes, phase by phase.
#
#   bench/run-bench.sh            (as root, after `mvn -B -q package -DskipTests`)
#
# Issue 10's benchmark ("extend bench/run-bench.sh") lives beside this one: run, create, start,
# state, delete and create+start+delete, Brig warm and cold against runc and crun, peak RSS, the
# server's RSS and a bare JVM hello world with an AOT cache are bench/lifecycle-bench.sh
# (`bench/run-bench.sh --lifecycle` runs it); where a warm run's time goes, beside crun's, is
# bench/warm-trace.sh. This script stays the `run` benchmark with the cold path's phase cut
# ("brig" below is bin/brig as an engine calls it: warm when a server runs).
#
# Knobs: RUNS (timed runs per command, default 40, in ROUNDS rounds, default 4), WARMUP (per
# round, default 3), RSS_RUNS (default 10),
# PHASE_RUNS (default 10), BRIG (the launcher, default target/brig/bin/brig), KEEP=1 keeps the
# work directory. Needs: hyperfine runc crun busybox-static jq strace, GNU time (/usr/bin/time).
#
# crun 1.8 refuses a hybrid cgroup host whose cgroup2 mount holds controllers ("cgroups in
# hybrid mode not supported"). Then crun, and only crun, runs in a private mount namespace
# with /sys/fs/cgroup/unified unmounted (HIDE_UNIFIED, see shared/clients/README.md); the
# cost of that wrapper is measured on its own and shown beside crun's figure.
set -euo pipefail
[ "${1:-}" = --lifecycle ] && exec "$(dirname "$0")/lifecycle-bench.sh"

RUNS=${RUNS:-40} ROUNDS=${ROUNDS:-4} WARMUP=${WARMUP:-3} RSS_RUNS=${RSS_RUNS:-10} PHASE_RUNS=${PHASE_RUNS:-10}
top=$(cd "$(dirname "$0")/.." && pwd)
BRIG=${BRIG:-$top/target/brig/bin/brig}

die() { echo "run-bench: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root (containers need it)"
for t in hyperfine runc crun jq strace /usr/bin/time /bin/busybox; do
    command -v "$t" >/dev/null || die "missing $t (apt-get install -y hyperfine runc crun busybox-static jq strace time)"
done
[ -x "$BRIG" ] || die "no $BRIG: build first (mvn -B -q package -DskipTests)"

work=$(mktemp -d /tmp/brig-runbench.XXXXXX)
ID=bench-$$
cleanup() {
    for rt in runc crun; do "$rt" --root "$work/state-$rt" delete -f "$ID" >/dev/null 2>&1 || true; done
    "$BRIG" --root "$work/state-brig" delete -f "$ID" >/dev/null 2>&1 || true
    "$BRIG" server stop >/dev/null 2>&1 || true # `brig --version` starts it; in a private mount namespace it must not outlive the run
    if [ "${KEEP:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The bundle: busybox's /bin/true with runc's default config, no terminal, used by all three.
b=$work/bundle
mkdir -p "$b/rootfs/bin" "$b/rootfs/proc" "$b/rootfs/sys" "$b/rootfs/dev" "$b/rootfs/tmp" "$b/rootfs/etc"
cp /bin/busybox "$b/rootfs/bin/busybox"
ln -s busybox "$b/rootfs/bin/true"
ln -s busybox "$b/rootfs/bin/sh"
(cd "$b" && runc spec)
jq '.process.terminal = false | .process.args = ["/bin/true"]' "$b/config.json" >"$b/config.json.new"
mv "$b/config.json.new" "$b/config.json"

brig_cmd="$BRIG --root $work/state-brig run --bundle $b $ID"
runc_cmd="runc --root $work/state-runc run --bundle $b $ID"
crun_cmd="crun --root $work/state-crun run --bundle $b $ID"
wrap_note="no (crun runs as is)"
hide='unshare -m --propagation private sh -c '"'"'umount -l /sys/fs/cgroup/unified && exec "$0" "$@"'"'"
if [ -n "$(cat /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null)" ]; then
    crun_cmd="$hide $crun_cmd"
    wrap_note="yes: cgroup2 holds '$(cat /sys/fs/cgroup/unified/cgroup.controllers)', so crun runs with /sys/fs/cgroup/unified unmounted in a private mount namespace"
    wrapper_cmd="$hide true"
fi

# Each must work before it is timed.
for c in "$brig_cmd" "$runc_cmd" "$crun_cmd"; do
    sh -c "$c" >/dev/null 2>"$work/err" || die "failed: $c: $(cat "$work/err")"
done

echo "== machine"
echo "kernel $(uname -r), $(nproc) CPUs; $("$BRIG" --version | head -1); $(runc --version | head -1); $(crun --version | head -1)"
echo "HIDE_UNIFIED for crun: $wrap_note"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine makes every figure noisier)"
echo

per=$(( (RUNS + ROUNDS - 1) / ROUNDS ))
echo "== run of a busybox /bin/true container: $ROUNDS rounds of $per runs each, after $WARMUP warm-ups"
# hyperfine without a shell in between (-N): the three runtimes, the crun wrapper alone, and two
# partial Brig commands for the phases below. Several rounds, so that a busy spell of the
# machine falls on all commands alike rather than on whichever ran then.
cmds=(-n brig "$brig_cmd" -n runc "$runc_cmd" -n crun "$crun_cmd")
[ -n "${wrapper_cmd:-}" ] && cmds+=(-n "hide-unified wrapper alone" "$wrapper_cmd")
cmds+=(-n "brig --version" "$BRIG --no-server --version" -n "brig run --explain" "$BRIG --no-server --root $work/state-brig run --explain --bundle $b $ID")
for r in $(seq "$ROUNDS"); do
    hyperfine -N --style basic --warmup "$WARMUP" --runs "$per" --export-json "$work/round-$r.json" "${cmds[@]}" \
        >"$work/hyperfine-$r.txt" 2>&1
done
# All rounds' times per command: mean, standard deviation, median (ms).
jq -s '[.[].results[]] | group_by(.command) | map({command: .[0].command, t: (map(.times) | add | map(. * 1000))})
       | map(. as $c | ($c.t | add / length) as $m | {command, mean: $m,
             sd: (($c.t | map((. - $m) * (. - $m)) | add) / (($c.t | length) - 1) | sqrt),
             median: ($c.t | sort | .[(length / 2 | floor)])})' "$work"/round-*.json >"$work/times.json"
calc() { awk "BEGIN { printf \"%.${2:-1}f\", $1 }"; }
stat() { jq -r --arg n "$1" --arg f "$2" '.[] | select(.command == $n) | .[$f]' "$work/times.json"; }
mean() { stat "$1" mean; }
tb=$(mean brig) tr=$(mean runc) tc=$(mean crun)
mb=$(stat brig median) mr=$(stat runc median) mc=$(stat crun median)
printf '%-8s %9s %9s %11s\n' runtime "mean ms" "± ms" "median ms"
for n in brig runc crun; do printf '%-8s %9.1f %9.1f %11.1f\n' "$n" "$(mean $n)" "$(stat $n sd)" "$(stat $n median)"; done
if [ -n "${wrapper_cmd:-}" ]; then
    tw=$(mean "hide-unified wrapper alone")
    printf '(crun includes the wrapper, which alone takes %.1f ms: crun without it is about %s ms)\n' "$tw" "$(calc "$tc - $tw")"
fi
echo "ratio brig/runc: $(calc "$tb / $tr" 2)   brig/crun: $(calc "$tb / $tc" 2)   (of medians: $(calc "$mb / $mr" 2) and $(calc "$mb / $mc" 2))"
echo

echo "== peak RSS (GNU time %M: the runtime and every process it waited for), $RSS_RUNS runs each"
rss() {
    local c=$1 out=()
    for _ in $(seq "$RSS_RUNS"); do
        /usr/bin/time -f %M -o "$work/rss" sh -c "exec $c" >/dev/null 2>&1
        out+=("$(tail -1 "$work/rss")")
    done
    printf '%s\n' "${out[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.1f %.1f", a[int((NR+1)/2)]/1024, a[NR]/1024}'
}
printf '%-8s %12s %9s\n' runtime "median MiB" "max MiB"
declare -A med
for n in brig runc crun; do
    c=${n}_cmd
    read -r m x <<<"$(rss "${!c}")"
    med[$n]=$m
    printf '%-8s %12s %9s\n' "$n" "$m" "$x"
done
echo "ratio brig/runc: $(calc "${med[brig]} / ${med[runc]}" 2)   brig/crun: $(calc "${med[brig]} / ${med[crun]}" 2)"
echo

# Where Brig's time goes: timestamps of one cold `brig run` (strace, seccomp filtered, so only
# execve and exit_group stop): the client bin/brig, the supervisor, java, the helper (planning
# done), the container's /bin/true (set-up done), the JVM's exit (handed over), the end.
echo "== Brig's phases, mean of $PHASE_RUNS traced runs (strace slows the JVM's part most: its threads are traced too)"
for k in $(seq "$PHASE_RUNS"); do
    # --no-server: the cold path's phases (with the server, a traced call that starts one traces the server's JVM too)
    strace -f -q -ttt --seccomp-bpf -e trace=execve,exit_group -e signal=none -o "$work/trace.$k" sh -c "exec ${brig_cmd/ --root / --no-server --root }" >/dev/null 2>&1
done
for k in $(seq "$PHASE_RUNS"); do
    awk '
        / execve\(/ && !t0 { t0 = $2 }
        / execve\("[^"]*\/libexec\/brig-helper"/ && !ts { ts = $2 }
        / execve\("[^"]*\/java"/ { if (!tj) { tj = $2; jp = $1 } else if (!td) { td = $2; dp = $1 } }
        / execve\("\/proc\/self\/fd\/[0-9]+", \["brig-helper", "init"/ && !th { th = $2 }
        / execve\("\/bin\/true"/ { tt = $2 }
        /\+\+\+ exited/ { if ($1 == jp) tx = $2; if ($1 == dp) te = $2 }
        { last = $2 }
        END { if (!te) { td = last; te = last }
              printf "%f %f %f %f %f %f %f %f\n", (ts-t0)*1000, (tj-ts)*1000, (th-tj)*1000, (tt-th)*1000, (tx-tt)*1000, (td-tx)*1000, (te-td)*1000, (last-te)*1000 }
    ' "$work/trace.$k"
done | awk '{for (i=1;i<=8;i++) s[i]+=$i} END {
    n = NR
    printf "  %7.1f ms  bin/brig (native client), up to the supervisor\n", s[1]/n
    printf "  %7.1f ms  supervisor starts the JVM\n", s[2]/n
    printf "  %7.1f ms  JVM start, config read and planned, cgroups made, up to the helper'"'"'s exec\n", s[3]/n
    printf "  %7.1f ms  helper: clone, wait for maps/cgroups, mounts, pivot_root, up to the container'"'"'s execve\n", s[4]/n
    printf "  %7.1f ms  JVM notices the exec, writes state.json, hands over to the supervisor, exits (the container runs meanwhile)\n", s[5]/n
    printf "  %7.1f ms  supervisor reaps the JVM (and the container) and starts a second JVM\n", s[6]/n
    printf "  %7.1f ms  the second JVM: delete --force (cgroups, state)\n", s[7]/n
    printf "  %7.1f ms  supervisor exits\n", s[8]/n
    printf "  %7.1f ms  total (traced)\n", (s[1]+s[2]+s[3]+s[4]+s[5]+s[6]+s[7]+s[8])/n
}'
echo
echo "== the same, without strace: differences of the medians of the commands timed above"
tv=$(stat "brig --version" median) te=$(stat "brig run --explain" median)
printf '  %7.1f ms  brig --version: launcher, JVM start and exit\n' "$tv"
printf '  %7s ms  + reading config.json and planning (run --explain: %.1f ms)\n' "$(calc "$te - $tv")" "$te"
printf '  %7s ms  + cgroups, helper, container, supervisor, clean-up (run: %.1f ms)\n' "$(calc "$mb - $te")" "$mb"
