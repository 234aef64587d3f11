#!/bin/bash
# What an engine's user waits for, with each runtime, side by side in one run:
#   podman run --rm --pull=never --network=none busybox true     (podman 4.3 + conmon)
#   ctr run --rm busybox:latest ID true  --runc-binary RT          (containerd 1.6 + shim runc.v2)
# with Brig warm (bin/brig), Brig cold (bin/brig --no-server, through a two-line sh wrapper
# named "brig": engines pass no environment to every call, so BRIG_SERVER=off cannot be
# given), runc and crun. Medians and ratios.
#
#   flock /tmp/brig-it.lock bench/v1-hugetlb.sh bench/engines-bench.sh     (as root, after a build)
#
# Everything is private and goes away: podman's containers.conf, storage, run root and tmp in
# the work directory (CONTAINERS_CONF, CONTAINERS_STORAGE_CONF, CONTAINERS_REGISTRIES_CONF
# with no search registries, and --pull=never); a containerd of its own on its own socket
# (CRI off), stopped by its pid; the image built here from busybox-static
# (../shared/clients/make-busybox-image.sh: umoci, skopeo); containers' cgroups below
# /brigbench-* in every hierarchy, removed at the end. Run it in a private mount namespace
# (bench/v1-hugetlb.sh makes one): podman's overlay mounts and containerd's then vanish with it.
#
# Knobs: RUNS (per engine and runtime, default 12, in ROUNDS rounds, default 2), WARMUP
# (default 1), BRIG (default target/brig/bin/brig), IMAGE_DIR (an output of
# make-busybox-image.sh to reuse), SERVED (default 1: after the timings, one podman run and one
# ctr run through a logging wrapper that says, per runtime call the engine made, whether the
# server answered it, with the caller's umask, seccomp mode, no_new_privs and cgroup), KEEP=1.
set -euo pipefail
RUNS=${RUNS:-12} ROUNDS=${ROUNDS:-2} WARMUP=${WARMUP:-1}
top=$(cd "$(dirname "$0")/.." && pwd)
BRIG=${BRIG:-$top/target/brig/bin/brig}
MKIMAGE=${MKIMAGE:-$top/../../shared/clients/make-busybox-image.sh}
[ -x "$MKIMAGE" ] || MKIMAGE=/work/shared/clients/make-busybox-image.sh
die() { echo "engines-bench: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root"
for t in hyperfine podman conmon containerd ctr containerd-shim-runc-v2 skopeo umoci runc crun jq; do command -v "$t" >/dev/null || die "missing $t"; done
[ -x "$BRIG" ] || die "no $BRIG: build first"
if [ "$(awk '$5 == "/" {print $7}' /proc/self/mountinfo | grep -c shared)" != 0 ] && [ "${ALLOW_HOST_NS:-0}" != 1 ]; then
    die "run in a private mount namespace (bench/v1-hugetlb.sh, or unshare -m --propagation private): podman and containerd mount"
fi

work=$(mktemp -d /tmp/bb.XXXXXX) # short: conmon's attach socket path must fit 107 bytes
CG=brigbench-$$
NS=brigbench$$
cpid=
cleanup() {
    set +e
    podman_ rm -a -f -t 0 >/dev/null 2>&1
    if [ -n "$cpid" ]; then
        for t in $(ctr_ task ls -q 2>/dev/null); do ctr_ task kill -a -s SIGKILL "$t"; ctr_ task delete -f "$t"; done >/dev/null 2>&1
        for c in $(ctr_ container ls -q 2>/dev/null); do ctr_ container delete "$c"; done >/dev/null 2>&1
        kill "$cpid"; for _ in $(seq 50); do kill -0 "$cpid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$cpid" 2>/dev/null
    fi
    # conmon, shims, podman's cleanup processes: whatever still names the work directory.
    for _ in $(seq 50); do pgrep -f -- "$work" >/dev/null || break; sleep 0.1; done
    for p in $(pgrep -f -- "$work"); do echo "engines-bench: killing leftover $(tr '\0' ' ' </proc/$p/cmdline 2>/dev/null | cut -c1-120)" >&2; kill -9 "$p"; done
    "$BRIG" server stop >/dev/null 2>&1
    for h in /sys/fs/cgroup/*/ /sys/fs/cgroup/unified/brig/; do
        for d in "$h$CG" "$h$NS"; do
            [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
            [ -d "$d" ] && echo "engines-bench: cgroup left: $d" >&2
        done
    done
    grep -F " $work" /proc/self/mountinfo | cut -d' ' -f5 | sort -r | while read -r m; do umount -l "$m"; done
    for rt in brig runc crun; do rm -rf "/run/$rt-bench-$NS"; done
    if [ "${KEEP:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The runtimes as engines are given them: a path whose basename is the runtime's name.
mkdir -p "$work/cold" "$work/home" "$work/tmp" "$work/fifo" "$work/bin"
printf '#!/bin/sh\nexec %s --no-server "$@"\n' "$BRIG" >"$work/cold/brig"
chmod +x "$work/cold/brig"
declare -A RT=([brig-warm]=$BRIG [brig-cold]=$work/cold/brig [runc]=$(command -v runc) [crun]=$(command -v crun))
RTS=(brig-warm brig-cold runc crun)

# The image, made here.
if [ -z "${IMAGE_DIR:-}" ]; then IMAGE_DIR=$work/image; "$MKIMAGE" "$IMAGE_DIR" >"$work/image.log" 2>&1 || die "image: $(tail -3 "$work/image.log")"; fi

# podman, private.
nofile=$(awk '/^Max open files/ {print $5}' /proc/self/limits)
nproc=$(awk '/^Max processes/ {print $4}' /proc/self/limits); pidmax=$(cat /proc/sys/kernel/pid_max)
{ [ "$nproc" = unlimited ] || [ "$nproc" -gt "$pidmax" ]; } && nproc=$pidmax
cat >"$work/containers.conf" <<EOF
[containers]
log_driver = "k8s-file"
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
[network]
network_config_dir = "$work/networks"
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$work/events.log"
tmp_dir = "$work/tmp"
volume_path = "$work/volumes"
runtime_supports_json = ["crun", "runc", "brig"]
EOF
printf '[storage]\ndriver = "overlay"\ngraphroot = "%s/storage"\nrunroot = "%s/runroot"\n' "$work" "$work" >"$work/storage.conf"
echo 'unqualified-search-registries = []' >"$work/registries.conf"
podman_() {
    (cd "$work/home" && env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$work/home" TMPDIR="$work/tmp" \
        CONTAINERS_CONF="$work/containers.conf" CONTAINERS_STORAGE_CONF="$work/storage.conf" \
        CONTAINERS_REGISTRIES_CONF="$work/registries.conf" podman "$@")
}
HOME=$work/home skopeo copy -q "oci:$IMAGE_DIR/oci:latest" "containers-storage:[overlay@$work/storage+$work/runroot]localhost/busybox:latest" ||
    die "skopeo copy to podman's storage failed"

# containerd, private.
cat >"$work/config.toml" <<EOF
version = 2
root = "$work/croot"
state = "$work/cstate"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.aufs", "io.containerd.internal.v1.tracing"]
[grpc]
  address = "$work/c.sock"
[ttrpc]
  address = "$work/c.sock.ttrpc"
[debug]
  address = "$work/debug.sock"
[metrics]
  address = ""
EOF
env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin TMPDIR="$work/tmp" containerd --config "$work/config.toml" </dev/null >"$work/containerd.log" 2>&1 &
cpid=$!
ctr_() { ctr --address "$work/c.sock" --namespace "$NS" "$@"; }
for _ in $(seq 100); do ctr_ version >/dev/null 2>&1 && break; kill -0 $cpid || die "containerd died: $(tail -3 "$work/containerd.log")"; sleep 0.1; done
ctr_ images import "$IMAGE_DIR/busybox-oci-archive.tar" >/dev/null || die "ctr import failed"

# The commands; each works before it is timed.
"$BRIG" server stop >/dev/null 2>&1 || true
"$BRIG" --version >/dev/null # the server, started in this namespace
cat >"$work/podman-run" <<EOF
#!/bin/sh
# podman-run RUNTIME
cd "$work/home" && exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$work/home" TMPDIR="$work/tmp" \\
    CONTAINERS_CONF="$work/containers.conf" CONTAINERS_STORAGE_CONF="$work/storage.conf" CONTAINERS_REGISTRIES_CONF="$work/registries.conf" \\
    podman --runtime "\$1" run --rm --pull=never --network=none --cgroup-parent=/$CG localhost/busybox:latest true
EOF
cat >"$work/ctr-run" <<EOF
#!/bin/sh
# ctr-run RUNTIME: a fresh container id per call (ctr run --rm removes it again)
exec ctr --address "$work/c.sock" --namespace "$NS" run --rm --fifo-dir "$work/fifo" --runc-binary "\$1" \\
    --runc-root "/run/\$(basename "\$1")-bench-$NS" busybox:latest "t\$(date +%s%N)" true
EOF
chmod +x "$work/podman-run" "$work/ctr-run"
for rt in "${RTS[@]}"; do
    "$work/podman-run" "${RT[$rt]}" >/dev/null 2>"$work/err" </dev/null || die "podman with $rt: $(tail -3 "$work/err")"
    "$work/ctr-run" "${RT[$rt]}" >/dev/null 2>"$work/err" </dev/null || die "ctr with $rt: $(tail -3 "$work/err")"
done

echo "== engines: $(podman --version), conmon $(conmon --version | head -1 | awk '{print $3}'), $(containerd --version | awk '{print $1, $3}')"
echo "hugetlb: $(grep -q ' /sys/fs/cgroup/hugetlb ' /proc/self/mountinfo && echo 'cgroup v1' || echo 'cgroup2 (crun refuses: expect failures)'); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
per=$(( (RUNS + ROUNDS - 1) / ROUNDS ))
for eng in podman ctr; do
    for r in $(seq "$ROUNDS"); do
        args=()
        for rt in "${RTS[@]}"; do args+=(-n "$rt" "$work/$eng-run ${RT[$rt]}"); done
        hyperfine -N --style none --warmup "$WARMUP" --runs "$per" --export-json "$work/$eng-$r.json" "${args[@]}" >/dev/null 2>"$work/h.err" ||
            die "hyperfine $eng: $(tail -5 "$work/h.err")"
    done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== time, median ms (p10-p90) over $RUNS runs in $ROUNDS rounds; ratios of medians"
printf '%-8s' engine; for rt in "${RTS[@]}"; do printf ' %18s' "$rt"; done; printf ' %9s %9s %9s %9s\n' warm/runc warm/crun cold/runc cold/crun
for eng in podman ctr; do
    jq -s '[.[].results[]] | group_by(.command) | map({rt: .[0].command, t: (map(.times) | add | map(. * 1000) | sort)})
        | map({rt, m: .t[(.t | length / 2 | floor)], p10: .t[(.t | length / 10 | floor)], p90: .t[(.t | length * 9 / 10 | floor)]})' \
        "$work/$eng"-*.json >"$work/$eng.json"
    printf '%-8s' "$eng"
    for rt in "${RTS[@]}"; do printf ' %18s' "$(jq -r --arg rt "$rt" '.[] | select(.rt == $rt) | "\(.m | round) (\(.p10 | round)-\(.p90 | round))"' "$work/$eng.json")"; done
    jq -r '(map({(.rt): .m}) | add) as $m | [$m["brig-warm"] / $m.runc, $m["brig-warm"] / $m.crun, $m["brig-cold"] / $m.runc, $m["brig-cold"] / $m.crun]
        | map(. * 100 | round / 100 | tostring) | " " + (map(" " * (9 - length) + .) | join(" "))' "$work/$eng.json"
done
echo "the Brig server after: $("$BRIG" server status 2>&1 | tr '\n' ' ')"

[ "${SERVED:-1}" = 1 ] || exit 0
# Which of the engines' calls the server answers: a "brig" that, for each call, reads the served
# counter, runs bin/brig (a child: the same credentials, namespaces, umask and seccomp mode as
# the engine's call), reads the counter again (each status call counts itself: a served call
# makes the difference 2, one run cold 1), and logs the verb with what the server compares. The
# calls are serialized (flock -o: the lock is not inherited by what bin/brig leaves running).
mkdir -p "$work/served"
printf '#!/bin/sh\nexec flock -o "%s" "%s" "$@"\n' "$work/served/lock" "$work/served/call" >"$work/served/brig"
cat >"$work/served/call" <<'EOF'
#!/bin/sh
n() { "$BRIG" server status 2>/dev/null | sed -n 's/^served: \([0-9]*\).*/\1/p'; }
a=$(n); "$BRIG" "$@"; rc=$?; b=$(n)
verb=$(for x in "$@"; do case $x in -*|/*) ;; *) echo "$x"; break;; esac; done)
w=cold; [ "$((b - a))" = 2 ] && w=served
echo "$w $verb rc=$rc umask=$(umask) seccomp=$(awk '/^Seccomp:/ {print $2}' /proc/self/status) nnp=$(awk '/^NoNewPrivs:/ {print $2}' /proc/self/status) cg=$(grep -E '^[0-9]+:pids:' /proc/self/cgroup | cut -d: -f3) args: $*" >>"$LOG"
exit $rc
EOF
sed -i "2i BRIG='$BRIG' LOG='$work/served/log'" "$work/served/call"
chmod +x "$work/served/brig" "$work/served/call"
for eng in podman ctr; do
    : >"$work/served/log"
    "$work/$eng-run" "$work/served/brig" >/dev/null 2>"$work/err" </dev/null || echo "$eng with the logging wrapper failed: $(tail -3 "$work/err")"
    sleep 2 # podman's cleanup process and the shim's last calls come after the engine returns
    echo "== $eng's runtime calls through the warm client (served by the server, or run cold):"
    sed "s|$work|WORK|g; s|$BRIG|BRIG|g" "$work/served/log" | cut -c1-230
done
