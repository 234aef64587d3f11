#!/bin/bash
# Issue 12's benchmark, side by side in one run, on one locally built busybox image:
#   brig container run --rm --pull=never IMAGE true                  Brig warm (bin/brig) and cold (--no-server)
#   podman run --rm --pull=never --network none IMAGE true          podman 4.3 + conmon, with runc and with crun
# Medians, p10-p90 and ratios. Both sides make a copy-on-write rootfs (overlayfs over the image's
# layer), a network namespace with only lo, cgroups, and remove it all again (--rm).
#
#   flock /tmp/brig-it.lock bench/v1-hugetlb.sh bench/container-bench.sh     (as root, after a build)
#
# Nothing is pulled: the image is made here from busybox-static (../shared/clients/
# make-busybox-image.sh: umoci, skopeo), copied with skopeo into podman's private storage and into
# Brig's private store (an OCI layout, --store). podman is private as in bench/engines-bench.sh
# (containers.conf, storage, run root, tmp in the work directory; no search registries); its
# containers' cgroups go below /brigcbench-PID, Brig's below its default /brig/ parent, removed
# with each container. Run it in a private mount namespace (bench/v1-hugetlb.sh makes one, and
# crun 1.8 needs hugetlb in v1): podman's overlay mounts then vanish with it.
#
# Knobs: RUNS (per command, default 20, in ROUNDS rounds, default 2), WARMUP (default 2),
# BRIG (default target/brig/bin/brig), IMAGE_DIR (an output of make-busybox-image.sh to reuse),
# KEEP=1 keeps the work directory.
set -euo pipefail
RUNS=${RUNS:-20} ROUNDS=${ROUNDS:-2} WARMUP=${WARMUP:-2}
top=$(cd "$(dirname "$0")/.." && pwd)
BRIG=${BRIG:-$top/target/brig/bin/brig}
MKIMAGE=${MKIMAGE:-$top/../../shared/clients/make-busybox-image.sh}
[ -x "$MKIMAGE" ] || MKIMAGE=/work/shared/clients/make-busybox-image.sh
die() { echo "container-bench: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root"
for t in hyperfine podman conmon skopeo umoci runc crun jq; do command -v "$t" >/dev/null || die "missing $t"; done
[ -x "$BRIG" ] || die "no $BRIG: build first"
if [ "$(awk '$5 == "/" {print $7}' /proc/self/mountinfo | grep -c shared)" != 0 ] && [ "${ALLOW_HOST_NS:-0}" != 1 ]; then
    die "run in a private mount namespace (bench/v1-hugetlb.sh, or unshare -m --propagation private): podman and Brig mount"
fi

work=$(mktemp -d /tmp/cb.XXXXXX) # short: conmon's attach socket path must fit 107 bytes
CG=brigcbench-$$
cleanup() {
    set +e
    podman_ rm -a -f -t 0 >/dev/null 2>&1
    for c in $("$BRIG" --no-server --root "$work/state" container ps -a -q --store "$work/store" 2>/dev/null); do
        "$BRIG" --no-server --root "$work/state" container rm -f --store "$work/store" "$c" >/dev/null 2>&1
    done
    for _ in $(seq 50); do pgrep -f -- "$work" >/dev/null || break; sleep 0.1; done
    for p in $(pgrep -f -- "$work"); do echo "container-bench: killing leftover $(tr '\0' ' ' </proc/$p/cmdline 2>/dev/null | cut -c1-120)" >&2; kill -9 "$p"; done
    "$BRIG" server stop >/dev/null 2>&1
    for h in /sys/fs/cgroup/*/ /sys/fs/cgroup/unified/brig/; do
        d=$h$CG
        [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
        [ -d "$d" ] && echo "container-bench: cgroup left: $d" >&2
    done
    grep -F " $work" /proc/self/mountinfo | cut -d' ' -f5 | sort -r | while read -r m; do umount -l "$m"; done
    if [ "${KEEP:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$work/home" "$work/tmp" "$work/state"

# The image, made here, into both stores.
if [ -z "${IMAGE_DIR:-}" ]; then IMAGE_DIR=$work/image; "$MKIMAGE" "$IMAGE_DIR" >"$work/image.log" 2>&1 || die "image: $(tail -3 "$work/image.log")"; fi
IMAGE=localhost/busybox:latest
HOME=$work/home skopeo copy -q "oci:$IMAGE_DIR/oci:latest" "oci:$work/store:$IMAGE" || die "skopeo copy to Brig's store failed"

# podman, private (as bench/engines-bench.sh).
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
HOME=$work/home skopeo copy -q "oci:$IMAGE_DIR/oci:latest" "containers-storage:[overlay@$work/storage+$work/runroot]$IMAGE" ||
    die "skopeo copy to podman's storage failed"
cat >"$work/podman-run" <<EOF
#!/bin/sh
# podman-run RUNTIME
cd "$work/home" && exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$work/home" TMPDIR="$work/tmp" \\
    CONTAINERS_CONF="$work/containers.conf" CONTAINERS_STORAGE_CONF="$work/storage.conf" CONTAINERS_REGISTRIES_CONF="$work/registries.conf" \\
    podman --runtime "\$1" run --rm --pull=never --network none --cgroup-parent=/$CG $IMAGE true
EOF
chmod +x "$work/podman-run"

declare -A CMD
CMD[brig-warm]="$BRIG --root $work/state container run --store $work/store --rm --pull=never $IMAGE true"
CMD[brig-cold]="$BRIG --no-server --root $work/state container run --store $work/store --rm --pull=never $IMAGE true"
CMD[podman-runc]="$work/podman-run $(command -v runc)"
CMD[podman-crun]="$work/podman-run $(command -v crun)"
RTS=(brig-warm brig-cold podman-runc podman-crun)

# A server of this build, in this namespace; each command works before it is timed.
"$BRIG" server stop >/dev/null 2>&1 || true
"$BRIG" --version >/dev/null
for rt in "${RTS[@]}"; do
    ${CMD[$rt]} >/dev/null 2>"$work/err" </dev/null || die "$rt failed: $(tail -3 "$work/err")"
done
s0=$("$BRIG" server status | sed -n 's/^served: //p')

echo "== brig container run vs podman run: $(podman --version), conmon $(conmon --version | head -1 | awk '{print $3}'), $(runc --version | head -1), $(crun --version | head -1)"
echo "kernel $(uname -r), $(nproc) CPUs; hugetlb: $(grep -q ' /sys/fs/cgroup/hugetlb ' /proc/self/mountinfo && echo 'cgroup v1' || echo 'cgroup2 (crun refuses: expect failures)'); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
per=$(( (RUNS + ROUNDS - 1) / ROUNDS ))
for r in $(seq "$ROUNDS"); do
    args=()
    for rt in "${RTS[@]}"; do args+=(-n "$rt" "${CMD[$rt]}"); done
    hyperfine -N --style none --warmup "$WARMUP" --runs "$per" --export-json "$work/c-$r.json" "${args[@]}" >/dev/null 2>"$work/h.err" ||
        die "hyperfine: $(tail -5 "$work/h.err")"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== time, median ms (p10-p90) over $RUNS runs in $ROUNDS rounds; ratios of medians (below 1: Brig ahead)"
jq -s '[.[].results[]] | group_by(.command) | map({rt: .[0].command, t: (map(.times) | add | map(. * 1000) | sort)})
    | map({rt, m: .t[(.t | length / 2 | floor)], p10: .t[(.t | length / 10 | floor)], p90: .t[(.t | length * 9 / 10 | floor)]})' \
    "$work"/c-*.json >"$work/c.json"
for rt in "${RTS[@]}"; do printf '%-12s %s\n' "$rt" "$(jq -r --arg rt "$rt" '.[] | select(.rt == $rt) | "\(.m * 10 | round / 10) (\(.p10 | round)-\(.p90 | round))"' "$work/c.json")"; done
jq -r '(map({(.rt): .m}) | add) as $m |
    "warm/podman-runc \($m["brig-warm"] / $m["podman-runc"] * 100 | round / 100)  warm/podman-crun \($m["brig-warm"] / $m["podman-crun"] * 100 | round / 100)  cold/podman-runc \($m["brig-cold"] / $m["podman-runc"] * 100 | round / 100)  cold/podman-crun \($m["brig-cold"] / $m["podman-crun"] * 100 | round / 100)"' "$work/c.json"
echo "the Brig server: served $s0 before the timings, $("$BRIG" server status | sed -n 's/^served: //p') after"
left=$("$BRIG" --no-server --root "$work/state" container ps -a -q --store "$work/store" 2>/dev/null | wc -l)
echo "containers left: brig $left, podman $(podman_ ps -a -q | wc -l)"
