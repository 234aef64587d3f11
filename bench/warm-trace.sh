#!/bin/bash
# Where a warm `brig run` of busybox /bin/true spends its time, beside crun's `run`: timestamps
# of one call across all its processes (the client bin/brig, the resident server's call thread,
# the helper, the container, the supervisor's served `delete` after the container exits), from
# strace -f -ttt -T of the caller's process tree and, at the same time, of the server JVM
# (attached by pid). The phases' medians over TRACE_RUNS traced runs; then the same commands
# untraced (hyperfine), so the traced figures can be scaled: strace stops every traced thread at
# each syscall, which inflates the syscall-heavy parts (mounts, cgroup files) most.
#
#   flock /tmp/brig-it.lock bench/v1-hugetlb.sh bench/warm-trace.sh      (as root, after a build)
#
# No --seccomp-bpf: strace's filter would give the traced client a seccomp mode the server's
# peer check does not match, and the call would run cold.
#
# Knobs: TRACE_RUNS (default 8), RUNS (untraced, default 30), BRIG, KEEP=1 (keeps the traces).
set -euo pipefail
TRACE_RUNS=${TRACE_RUNS:-8} RUNS=${RUNS:-30}
top=$(cd "$(dirname "$0")/.." && pwd)
BRIG=${BRIG:-$top/target/brig/bin/brig}
die() { echo "warm-trace: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root"
for t in strace hyperfine crun jq; do command -v "$t" >/dev/null || die "missing $t"; done
[ -x "$BRIG" ] || die "no $BRIG: build first"
work=$(mktemp -d /tmp/brig-wtrace.XXXXXX)
ID=wtrace-$$
sp=
cleanup() {
    set +e
    [ -n "$sp" ] && kill "$sp" 2>/dev/null && wait "$sp" 2>/dev/null
    "$BRIG" --root "$work/state" delete -f "$ID" >/dev/null 2>&1
    crun --root "$work/state-crun" delete -f "$ID" >/dev/null 2>&1
    "$BRIG" server stop >/dev/null 2>&1
    if [ "${KEEP:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

b=$work/bundle
mkdir -p "$b/rootfs/bin"
cp /bin/busybox "$b/rootfs/bin/busybox"; ln -s busybox "$b/rootfs/bin/true"
(cd "$b" && runc spec) && jq '.process.terminal = false | .process.args = ["/bin/true"]' "$b/config.json" >"$b/c" && mv "$b/c" "$b/config.json"
RUN="$BRIG --root $work/state run --bundle $b $ID"
CRUN="crun --root $work/state-crun run --bundle $b $ID"

"$BRIG" server stop >/dev/null 2>&1 || true
"$BRIG" --version >/dev/null
for _ in $(seq 20); do $RUN; done # the server's JIT warm for run
pid=$("$BRIG" server status | sed -n 's/^running: pid //p')
[ -n "$pid" ] || die "no server"
echo "== machine: kernel $(uname -r), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg); $(crun --version | head -1); hugetlb $(grep -q ' /sys/fs/cgroup/hugetlb ' /proc/self/mountinfo && echo v1 || echo cgroup2)"

NOISE='!futex,mprotect,madvise,mmap,munmap,rt_sigprocmask,sched_yield,clock_gettime,gettid,clock_nanosleep,nanosleep,brk'
for k in $(seq "$TRACE_RUNS"); do
    strace -f -ttt -T -qq -e signal=none -e "trace=$NOISE" -o "$work/srv.$k" -p "$pid" & sp=$!
    sleep 0.5 # strace attaches to every thread of the server
    strace -f -ttt -T -qq -e signal=none -e "trace=$NOISE" -o "$work/cli.$k" $RUN
    sleep 0.3; kill "$sp"; wait "$sp" 2>/dev/null || true; sp=
    strace -f -ttt -T -qq -e signal=none -e "trace=$NOISE" -o "$work/crun.$k" $CRUN
done

# Markers (ms from the client's execve), per traced run, then the phases between them.
brig_phases() { # brig_phases CLI SRV
    sort -k2,2n -s "$1" "$2" | awk -v t0="$(awk '{print $2; exit}' "$1")" -v client="$(awk '{print $1; exit}' "$1")" '
        function at(name) { if (!(name in t)) t[name] = $2 }
        $2 < t0 { next }
        $1 == client && / connect\(/ { at("connect") }
        / write\([0-9]+, "\\n\\0\\0\\0/ { at("ack") }
        $1 == client && / execve\("[^"]*brig-helper", \[[^]]*"launch"/ { at("launch") }
        / mkdir\("[^"]*\/\.[^"\/]*", 0711\) = 0/ { at("statedir") }
        / sendmsg\([0-9]+, .*iov_base="\\20\\0\\0\\0/ { at("spawn") }
        / execve\("\/proc\/self\/fd\/[0-9]+", \["brig-helper", "init"/ { at("helper") }
        / clone3?\(.*CLONE_NEWNS/ { at("clone"); cpid = $NF }
        / openat\(AT_FDCWD, "\/sys\/fs\/cgroup\/[^"]*\/cgroup.procs", O_WRONLY/ { at("cgjoin"); procs[$1] = 1; next }
        procs[$1] && / write\(/ { w = $NF; gsub(/[<>]/, "", w); cgw += w * 1000; if (w * 1000 > cgmax) cgmax = w * 1000; procs[$1] = 0 }
        / write\([0-9]+, "\\3\\0\\0\\0\\0\\0\\0\\0", 8\)/ { at("go") }
        / mount\(NULL, "\/", NULL, MS_REC\|MS_SLAVE/ { at("mounts") }
        / pivot_root\(/ { at("pivot") }
        / execve\("\/bin\/true"/ { at("exec"); tp = $1 }
        $1 == tp && / exit_group\(/ { at("exited") }
        / execve\("[^"]*\/bin\/brig", \[[^]]*"delete"/ { at("delete") }
        / rmdir\("\/sys\/fs\/cgroup\// { at("rmdir") }
        { last = $2 }
        END {
            n = split("connect ack launch statedir spawn helper clone go mounts pivot exec delete rmdir exited", m, " ")
            printf "%.2f", (last - t0) * 1000
            for (i = 1; i <= n; i++) printf " %.2f", ((m[i] in t) ? t[m[i]] - t0 : -1) * 1000
            printf " %.2f %.2f\n", cgw, cgmax
        }'
}
for k in $(seq "$TRACE_RUNS"); do brig_phases "$work/cli.$k" "$work/srv.$k"; done >"$work/brig.marks"
crun_phases() {
    awk '
        function at(name) { if (!(name in t)) t[name] = $2 }
        NR == 1 { t0 = $2; crun = $1 }
        / execveat\(/ { at("reexec") }
        / openat\(AT_FDCWD, "config.json"/ { at("config") }
        / clone3?\(.*CLONE_NEWNS/ { at("clone") }
        / openat\(AT_FDCWD, "\/sys\/fs\/cgroup\/[^"]*cgroup.procs", O_WRONLY/ { joined = $2; procs[$1] = 1; next }
        procs[$1] && / write\(/ { w = $NF; gsub(/[<>]/, "", w); cgw += w * 1000; if (w * 1000 > cgmax) cgmax = w * 1000; procs[$1] = 0; joined = $2 }
        $1 != crun && / mount\(/ { at("mounts") }
        / execve\("\/bin\/true"/ { at("exec"); tp = $1 }
        $1 == tp && / exit_group\(/ { at("exited") }
        / rmdir\("\/sys\/fs\/cgroup\// { at("rmdir") }
        { last = $2 }
        END {
            t["joined"] = joined
            n = split("reexec config clone joined mounts exec exited rmdir", m, " ")
            printf "%.2f", (last - t0) * 1000
            for (i = 1; i <= n; i++) printf " %.2f", ((m[i] in t) ? t[m[i]] - t0 : -1) * 1000
            printf " %.2f %.2f\n", cgw, cgmax
        }' "$1"
}
for k in $(seq "$TRACE_RUNS"); do crun_phases "$work/crun.$k"; done >"$work/crun.marks"

median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
col() { awk -v c="$2" '{print $c}' "$1" | median; }
diffcol() { awk -v a="$2" -v b="$3" '($a >= 0 && $b >= 0) {print $b - $a}' "$1" | median; }
# brig.marks columns: 1 total, 2 connect, 3 ack, 4 launch, 5 statedir, 6 spawn, 7 helper, 8 clone,
# 9 go, 10 mounts, 11 pivot, 12 exec, 13 delete, 14 rmdir, 15 exited, 16 cgroup.procs writes' time in the kernel, 17 the longest
B=$work/brig.marks
echo
echo "== a warm brig run, traced (client tree and server), medians of $TRACE_RUNS runs, ms"
printf '%8s  %s\n' "$(col "$B" 2)" "client: exec of bin/brig up to connect (finds the socket, checks it)"
printf '%8s  %s\n' "$(diffcol "$B" 2 3)" "server: hello, build handshake, request, peer check (/proc/PID/ns, status), ACK"
printf '%8s  %s\n' "$(diffcol "$B" 3 5)" "server: reads config.json, plans (the client execs the supervisor meanwhile: ACK to launch $(diffcol "$B" 3 4))"
printf '%8s  %s\n' "$(diffcol "$B" 5 6)" "server: state directory, cgroups made (mkdir in 11 hierarchies, cpuset copy), device rules"
printf '%8s  %s\n' "$(diffcol "$B" 6 7)" "caller: SPAWN received, vfork + fexecve of the sealed helper memfd"
printf '%8s  %s\n' "$(diffcol "$B" 7 8)" "helper: takes the plan, clone3 of the container (CLONE_INTO_CGROUP)"
printf '%8s  %s\n' "$(diffcol "$B" 8 9)" "server: joins the container to the v1 cgroups (cgroup.procs writes: $(col "$B" 16) ms in the kernel, the longest $(col "$B" 17)), state.json, go"
printf '%8s  %s\n' "$(diffcol "$B" 9 12)" "container: mounts ($(diffcol "$B" 10 11) to pivot_root), pivot_root, masks, execve of /bin/true"
printf '%8s  %s\n' "$(diffcol "$B" 12 15)" "/bin/true runs (execve to exit_group)"
printf '%8s  %s\n' "$(diffcol "$B" 15 13)" "server writes state, EXIT frame; the supervisor reaps and starts bin/brig delete"
printf '%8s  %s\n' "$(awk '($13 >= 0) {print $1 - $13}' "$B" | median)" "the served delete (client, server: kill, cgroup rmdir in 11 hierarchies, state) and the supervisor's exit"
printf '%8s  %s\n' "$(col "$B" 1)" "total, traced"
C=$work/crun.marks
echo
echo "== crun run, traced, medians of $TRACE_RUNS runs, ms"
printf '%8s  %s\n' "$(col "$C" 2)" "exec of crun up to its re-exec from a read-only bind of itself (CVE-2019-5736)"
printf '%8s  %s\n' "$(diffcol "$C" 2 3)" "re-exec: the dynamic loader and crun's libraries, up to config.json"
printf '%8s  %s\n' "$(diffcol "$C" 3 4)" "config read, state directory, up to the container's clone"
printf '%8s  %s\n' "$(diffcol "$C" 4 5)" "cgroups made and joined by pid (cgroup.procs writes: $(col "$C" 10) ms in the kernel, the longest $(col "$C" 11))"
printf '%8s  %s\n' "$(diffcol "$C" 5 6)" "up to the container's first mount (sync with crun)"
printf '%8s  %s\n' "$(diffcol "$C" 6 7)" "container: mounts, pivot_root, masks, execve of /bin/true"
printf '%8s  %s\n' "$(diffcol "$C" 7 8)" "/bin/true runs (execve to exit_group)"
printf '%8s  %s\n' "$(awk '($8 >= 0) {print $1 - $8}' "$C" | median)" "crun reaps it; teardown: cgroups, state; exit"
printf '%8s  %s\n' "$(col "$C" 1)" "total, traced"

echo
echo "== untraced, $RUNS runs each, median ms"
hyperfine -N -i --style none --warmup 3 --runs "$RUNS" --export-json "$work/u.json" \
    -n "brig run (warm)" "$RUN" -n "crun run" "$CRUN" \
    -n "brig --version (warm: connect, handshake, answer)" "$BRIG --version" \
    -n "brig state (warm, no container: handshake, peer check, a failed lookup)" "$BRIG --root $work/state state $ID" \
    -n "brig run --explain (warm: + config read and plan)" "$BRIG --root $work/state run --explain --bundle $b $ID" \
    -n "busybox true (fork+exec floor)" "$b/rootfs/bin/true" >/dev/null 2>&1 || true
jq -r '.results[] | "\(.times | sort | .[(length / 2 | floor)] * 10000 | round / 10)\t\(.command)"' "$work/u.json"
# The same two after 0.3 s without a run (a quiet host: the cgroup v1 move below is paid in full).
hyperfine -N -i --style none --warmup 2 --runs "$(( (RUNS + 1) / 2 ))" --prepare "sleep 0.3" --export-json "$work/q.json" \
    -n "brig run (warm), 0.3 s after the last run" "$RUN" -n "crun run, 0.3 s after the last run" "$CRUN" >/dev/null 2>&1 || true
jq -r '.results[] | "\(.times | sort | .[(length / 2 | floor)] * 10000 | round / 10)\t\(.command)"' "$work/q.json"
echo "server: $("$BRIG" server status | tr '\n' ' ')"

# The kernel's price for moving a task between cgroup v1 hierarchies (cgroup.procs), untraced:
# the first move after a quiet spell waits for an RCU grace period (the threadgroup rwsem's
# writer side); moves right after it are cheap. Both runtimes pay it once per container.
echo
echo "== cgroup v1 migration, untraced (bash \$EPOCHREALTIME around an echo into cgroup.procs), ms"
P=/sys/fs/cgroup/systemd/brigprobe-$$ Q=/sys/fs/cgroup/pids/brigprobe-$$
mkdir "$P" "$Q"
for _ in $(seq 8); do
    sleep 0.3
    (a=$EPOCHREALTIME; echo $BASHPID >"$P/cgroup.procs"; b=$EPOCHREALTIME; echo $BASHPID >"$Q/cgroup.procs"; c=$EPOCHREALTIME
     awk -v a="$a" -v b="$b" -v c="$c" 'BEGIN {printf "after 0.3 s idle: first %.2f, next %.3f\n", (b - a) * 1000, (c - b) * 1000}')
done
rmdir "$P" "$Q"
