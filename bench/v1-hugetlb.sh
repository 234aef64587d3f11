#!/bin/bash
# Runs CMD... with hugetlb (and net_cls,net_prio, perf_event) as cgroup v1 hierarchies, so that
# crun 1.8 accepts this hybrid host without the HIDE_UNIFIED wrapper (which costs it ~12 ms a
# call; ../shared/notes/benchmarking.md). The v1 mounts exist only in a private mount namespace
# that CMD runs in; the host's mounts never change.
#
#   bench/v1-hugetlb.sh CMD...     (as root)
#
# What it changes on the host, and restores after (even on failure): the kernel binds hugetlb to
# a v1 hierarchy only while no cgroup2 subtree_control enables it, so "-hugetlb" is written to
# the unified root's and unified/brig's cgroup.subtree_control for the run and "+hugetlb" back
# after; the mount points it has to create in the /sys/fs/cgroup tmpfs (shared with the host)
# are removed. It then checks that the cgroup lines of /proc/self/mountinfo, unified's
# cgroup.controllers and both subtree_controls are as before, and fails loudly if not.
# While it runs, cgroup2 children made meanwhile get no hugetlb files: hold the IT lock.
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: $0 CMD..." >&2; exit 2; }
U=/sys/fs/cgroup/unified
die() { echo "v1-hugetlb: $*" >&2; exit 1; }

snapshot() {
    grep -E ' - (cgroup2?|tmpfs) ' /proc/self/mountinfo | grep /sys/fs/cgroup | cut -d' ' -f5- | sort
    echo "controllers: $(cat $U/cgroup.controllers)"
    echo "root subtree: $(cat $U/cgroup.subtree_control)"
    [ -e $U/brig ] && echo "brig subtree: $(cat $U/brig/cgroup.subtree_control)"
    ls /sys/fs/cgroup
}
before=$(snapshot)

if ! grep -qw hugetlb $U/cgroup.controllers; then
    exec "$@" # already on v1 (or no hugetlb): nothing to arrange
fi

made=() off=() ns=none
nsfile=$(mktemp)
restore() {
    local rc=$?
    set +e # every step of the restore is tried (errexit once ended it silently here)
    ns=$(cat "$nsfile" 2>/dev/null || echo none); rm -f "$nsfile"
    # Processes left in the namespace keep its mounts, so the v1 hierarchies, alive: wait for them.
    # CMD started them (e.g. a Brig server left running): SIGTERM after 3 s, SIGKILL after 8.
    local i k p left
    for k in $(seq 100); do
        left=$(for p in /proc/[0-9]*; do [ "$(readlink $p/ns/mnt 2>/dev/null)" = "$ns" ] && echo "${p#/proc/}"; done)
        [ -z "$left" ] && break
        if [ "$k" = 30 ] || [ "$k" = 80 ]; then
            echo "v1-hugetlb: still in the namespace, $([ "$k" = 30 ] && echo SIGTERM || echo SIGKILL): $(ps -o pid=,args= -p "$(echo $left | tr ' ' ,)" | cut -c1-150 | tr '\n' ';')" >&2
            kill "-$([ "$k" = 30 ] && echo TERM || echo KILL)" $left
        fi
        sleep 0.1
    done
    # The kernel frees a v1 hierarchy at its last unmount only if it then has no child cgroups;
    # otherwise it lingers, unmounted, and hugetlb stays bound to it. Mount it once more in a
    # private namespace, remove empty children (left by a runtime), and unmount: that frees it.
    # The old namespace's mounts go a moment after its last process, so this is repeated
    # until the kernel gives hugetlb back to cgroup2 (it shows in unified's cgroup.controllers).
    # All three hierarchies: one kept alive by a child (a runtime's /brig, say) is still in
    # every process's /proc/self/cgroup, which breaks tests and tools that count hierarchies.
    for k in $(seq 25); do
        local bound=""
        grep -qw hugetlb $U/cgroup.controllers || bound="hugetlb"
        for c in net_cls perf_event; do # only those this script mounted (the host has none)
            [[ " ${made[*]} " == *" /sys/fs/cgroup/${c/net_cls/net_cls,net_prio} "* ]] || continue
            awk -v c=$c '$1 == c && $2 != 0 { found = 1 } END { exit !found }' /proc/cgroups && bound="$bound ${c/net_cls/net_cls,net_prio}"
        done
        [ -z "$bound" ] && break
        for c in $bound; do
            unshare -m --propagation private sh -c 'd=$(mktemp -d) && mount -t cgroup -o "$0" cgroup "$d" &&
                find "$d" -mindepth 1 -depth -type d | while read -r c; do rmdir "$c" && echo "v1-hugetlb: removed the $0 cgroup ${c#$d} left behind" >&2; done
                umount "$d"; rmdir "$d"' "$c"
        done
        sleep 0.2
    done
    # Parents first (the reverse of switching off); the kernel releases the hierarchy a moment
    # after its last unmount: retry for a few seconds.
    for ((i = ${#off[@]} - 1; i >= 0; i--)); do
        for k in $(seq 60); do echo +hugetlb 2>/dev/null >"${off[i]}" && break; sleep 0.05; done
        grep -qw hugetlb "${off[i]}" || echo "v1-hugetlb: could not write +hugetlb to ${off[i]}" >&2
    done
    for d in "${made[@]}"; do rmdir "$d" || echo "v1-hugetlb: could not remove $d" >&2; done
    after=$(snapshot)
    if [ "$before" != "$after" ]; then
        echo "v1-hugetlb: the host's cgroup layout differs from before:" >&2
        diff <(echo "$before") <(echo "$after") >&2 || true
        rc=1
    fi
    exit $rc
}
trap restore EXIT
trap 'exit 130' INT TERM

# Children first: a parent's subtree_control cannot drop what a child still enables.
for f in $U/brig/cgroup.subtree_control $U/cgroup.subtree_control; do
    if [ -e "$f" ] && grep -qw hugetlb "$f"; then
        echo -hugetlb >"$f" || die "cannot write -hugetlb to $f (a child cgroup enables it?)"
        off+=("$f")
    fi
done
for c in hugetlb net_cls,net_prio perf_event; do
    if [ ! -e /sys/fs/cgroup/$c ]; then mkdir /sys/fs/cgroup/$c; made+=(/sys/fs/cgroup/$c); fi
done
# The private namespace mounts the v1 hierarchies and runs CMD; the mounts go with it.
unshare -m --propagation private sh -c '
    readlink /proc/self/ns/mnt >"$0"
    for c in hugetlb net_cls,net_prio perf_event; do
        # (the v2 csses that -hugetlb killed go away asynchronously: EBUSY for a moment)
        for k in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
            mountpoint -q /sys/fs/cgroup/$c || mount -t cgroup -o $c cgroup /sys/fs/cgroup/$c 2>/dev/null || { sleep 0.1; continue; }
            break
        done
        mountpoint -q /sys/fs/cgroup/$c || { echo "v1-hugetlb: cannot mount the $c v1 hierarchy" >&2; exit 1; }
    done
    exec "$@"' "$nsfile" "$@"
