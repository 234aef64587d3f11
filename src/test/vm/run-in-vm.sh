#!/bin/bash
# Runs one command as root in a throw-away QEMU guest with a pure cgroup v2 hierarchy (every
# controller enabled at the root), for the tests of cgroup v2: the machines Brig is developed
# on are v1 hybrids. The guest sees this host's / read-only (9p) under a tmpfs overlay, so the
# host's java, brig and bundles are there and the guest may write anywhere; it starts in the
# caller's directory. Prints the command's stdout and stderr, exits with its exit code.
#
#   run-in-vm.sh [--timeout SEC] -- COMMAND [ARG...]
#   run-in-vm.sh --prepare    exit 0 when the guest can run here (fetching the kernel and
#                             building the initramfs into the cache); exit 3 with the reason
#                             on stderr when it cannot (no qemu, no kernel package)
# Exit codes: the command's; 124 the guest timed out; 125 the guest failed (console shown).
# Environment: BRIG_VM_QEMU (default qemu-system-x86_64), BRIG_VM_CACHE (default
#   /var/tmp/brig-vm), BRIG_VM_KERNEL (a Debian linux-image version such as
#   6.12.117+deb12-amd64; default the newest cached, else the newest apt knows),
#   BRIG_VM_ACCEL (auto|kvm|tcg), BRIG_VM_MEM (2G), BRIG_VM_SMP (2).
#
# The kernel is a stock Debian one: `apt-get download`ed and unpacked into the cache, never
# installed on the host. Only its vmlinuz and the 9p, overlay and RAM disk (brd)
# modules are kept; the guest has one block device, /dev/ram0 (1:0), for the io tests.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
QEMU=${BRIG_VM_QEMU:-qemu-system-x86_64}
CACHE=${BRIG_VM_CACHE:-/var/tmp/brig-vm}
TIMEOUT=900 PREPARE=0
unavailable() { echo "run-in-vm: cannot run a VM here: $*" >&2; exit 3; }
fail() { echo "run-in-vm: $*" >&2; exit 125; }
while [ $# -gt 0 ]; do
    case $1 in
        --timeout) TIMEOUT=$2; shift 2 ;;
        --prepare) PREPARE=1; shift ;;
        --) shift; break ;;
        *) fail "unknown option $1 (usage: run-in-vm.sh [--timeout SEC] -- COMMAND...)" ;;
    esac
done
[ $PREPARE = 1 ] || [ $# -gt 0 ] || fail "no command (usage: run-in-vm.sh [--timeout SEC] -- COMMAND...)"

QEMU=$(command -v "$QEMU") || unavailable "${BRIG_VM_QEMU:-qemu-system-x86_64} not found (apt-get install qemu-system-x86)"
# The initramfs has nothing but busybox: it must not need a dynamic loader.
[ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1 \
    || unavailable "/bin/busybox is not a static busybox (apt-get install busybox-static)"
mkdir -p "$CACHE"

# --- kernel: vmlinuz and the modules the initramfs loads, in load order --------------------
# brd: a RAM disk (/dev/ram0, 1:0, 8 MiB), the block device the v2 io tests limit (io.max and
# per-device io.weight need a disk; the guest has no other).
MODULES="netfs 9pnet 9pnet_virtio 9p overlay brd"
declare -A PARAMS=([brd]="rd_nr=1 rd_size=8192")
WANTED="$MODULES; ${!PARAMS[*]}: ${PARAMS[*]}"
KV=${BRIG_VM_KERNEL:-$(ls "$CACHE" | sed -n 's/^vmlinuz-//p' | sort -V | tail -1)}
if [ -z "$KV" ]; then
    # Debian's versioned image packages (6.12.117+deb12-amd64, ...); the newest supports the
    # most cgroup v2 files.
    KV=$(apt-cache search --names-only '^linux-image-[0-9.]+\+deb[0-9]+-amd64$' 2>/dev/null \
        | sed 's/^linux-image-\([^ ]*\) .*/\1/' | sort -V | tail -1)
    [ -n "$KV" ] || unavailable "apt knows no linux-image-*+deb*-amd64 package (apt-get update?)"
fi
KERNEL=$CACHE/vmlinuz-$KV
# A cache made for another module list is made again (the package is downloaded once more).
if [ ! -f "$KERNEL" ] || [ "$(cat "$CACHE/modules-$KV/wanted" 2>/dev/null)" != "$WANTED" ]; then
    echo "run-in-vm: fetching linux-image-$KV into $CACHE (apt-get download, not installed)" >&2
    dl=$(mktemp -d "$CACHE/download.XXXXXX")
    trap 'rm -rf "$dl"' EXIT
    (cd "$dl" && apt-get download "linux-image-$KV") >"$dl/log" 2>&1 \
        || unavailable "apt-get download linux-image-$KV failed: $(tail -1 "$dl/log")"
    # Of the ~100 MB package, only the kernel and six modules (~1 MB).
    dpkg-deb --fsys-tarfile "$dl"/linux-image-*.deb | (cd "$dl" && tar -x --wildcards \
        "./boot/vmlinuz-$KV" "./lib/modules/$KV/modules.builtin" \
        "./lib/modules/$KV/kernel/fs/netfs/*" "./lib/modules/$KV/kernel/net/9p/*" \
        "./lib/modules/$KV/kernel/fs/9p/*" "./lib/modules/$KV/kernel/fs/overlayfs/*" \
        "./lib/modules/$KV/kernel/drivers/block/brd.ko*") \
        || fail "cannot unpack linux-image-$KV"
    mkdir -p "$dl/modules"
    for m in $MODULES; do
        f=$(find "$dl/lib/modules" -name "$m.ko*" | head -1)
        if [ -z "$f" ]; then
            grep -q "/$m.ko\$" "$dl/lib/modules/$KV/modules.builtin" || fail "$KV has no module $m"
            continue
        fi
        case $f in
            *.xz) xz -dc "$f" ;; *.zst) zstd -qdc "$f" ;; *.gz) gzip -dc "$f" ;; *) cat "$f" ;;
        esac > "$dl/modules/$m.ko"
        echo "$m" >> "$dl/modules/order"
        [ -z "${PARAMS[$m]:-}" ] || echo "${PARAMS[$m]}" > "$dl/modules/$m.params"
    done
    echo "$WANTED" > "$dl/modules/wanted"
    rm -rf "$CACHE/modules-$KV" && mv "$dl/modules" "$CACHE/modules-$KV"
    mv -f "$dl/boot/vmlinuz-$KV" "$KERNEL"
    rm -rf "$dl"
    trap - EXIT
fi

# --- initramfs: busybox, the modules and guest-init.sh; rebuilt when any of them changes ---
key=$(cat "$HERE/guest-init.sh" /bin/busybox "$CACHE/modules-$KV"/* | sha256sum | cut -c1-16)
INITRD=$CACHE/initrd-$KV-$key.cpio
if [ ! -f "$INITRD" ]; then
    ir=$(mktemp -d "$CACHE/initrd.XXXXXX")
    mkdir "$ir/bin"
    cp /bin/busybox "$ir/bin/"
    cp "$HERE/guest-init.sh" "$ir/init"
    cp -r "$CACHE/modules-$KV" "$ir/modules"
    # Uncompressed: the kernel unpacks it faster than it would inflate it under emulation.
    (cd "$ir" && find . | /bin/busybox cpio -o -H newc 2>/dev/null) > "$ir.cpio"
    rm -f "$CACHE"/initrd-"$KV"-*.cpio
    mv "$ir.cpio" "$INITRD"
    rm -rf "$ir"
fi
[ $PREPARE = 0 ] || exit 0

# --- accelerator ---------------------------------------------------------------------------
# KVM only on real VMX/SVM: a PVM-backed /dev/kvm (as on the project's machines) cannot boot a
# stock kernel. Under TCG one thread: multi-threaded TCG gave intermittent guest panics.
ACCEL=${BRIG_VM_ACCEL:-auto}
if [ "$ACCEL" = auto ]; then
    ACCEL=tcg
    if [ -w /dev/kvm ] && grep -qwE 'vmx|svm' /proc/cpuinfo && [ ! -d /sys/module/kvm_pvm ]; then ACCEL=kvm; fi
fi
case $ACCEL in
    kvm) ACCEL_ARGS=(-accel kvm -cpu host) ;;
    tcg) ACCEL_ARGS=(-accel tcg,thread=single -cpu max) ;;
    *) fail "BRIG_VM_ACCEL must be auto, kvm or tcg" ;;
esac

# --- run -----------------------------------------------------------------------------------
# The run directory is the guest's only way back: command, environment, output, exit code.
# (Those of runs killed with SIGKILL, as a test's timeout does, go after a day.)
find "$CACHE" -maxdepth 1 -name 'run.*' -mmin +1440 -exec rm -rf {} + 2>/dev/null || true
RUN=$(mktemp -d "$CACHE/run.XXXXXX")
trap 'rm -rf "$RUN"' EXIT
# For the guest's bash (printf %q may quote in bash's $'...').
{
    printf 'export PATH=%q HOME=/root LANG=C.UTF-8\ncd %q || exit 125\nexec' "$PATH:/usr/sbin:/usr/bin:/sbin:/bin" "$PWD"
    printf ' %q' "$@"
} > "$RUN/cmd"
# cgroup_no_v1=all: the pure v2 host the tests are about. panic=-1 with -no-reboot: a
# panicking guest ends at once instead of waiting for the timeout.
APPEND="console=ttyS0 quiet loglevel=3 panic=-1 rdinit=/init cgroup_no_v1=all"
t0=$(date +%s.%N)
rc=0
timeout -k 10 "$TIMEOUT" "$QEMU" -nodefaults -no-user-config -nographic -no-reboot -nic none \
    "${ACCEL_ARGS[@]}" -m "${BRIG_VM_MEM:-2G}" -smp "${BRIG_VM_SMP:-2}" \
    -kernel "$KERNEL" -initrd "$INITRD" -append "$APPEND" \
    -serial "file:$RUN/console" -monitor none \
    -virtfs local,path=/,mount_tag=host,security_model=none,readonly=on,multidevs=remap \
    -virtfs "local,path=$RUN,mount_tag=run,security_model=none,multidevs=remap" \
    > "$RUN/qemu.log" 2>&1 < /dev/null || rc=$?
if [ ! -f "$RUN/rc" ]; then
    [ $rc = 124 ] && echo "run-in-vm: the guest did not finish in ${TIMEOUT}s" >&2
    echo "run-in-vm: no exit code from the guest (qemu exit $rc); its console:" >&2
    tail -n 40 "$RUN/console" "$RUN/qemu.log" "$RUN/init-error" >&2 2>/dev/null || true
    [ $rc = 124 ] && exit 124
    exit 125
fi
cat "$RUN/stdout"
cat "$RUN/stderr" >&2
# BRIG_VM_TIMING=1: seconds from qemu's start to the command, and the command's own.
if [ -n "${BRIG_VM_TIMING:-}" ]; then
    read -r boot end < <(sed 's/[a-z]*=//g' "$RUN/timing")
    awk -v t0="$t0" -v t1="$(date +%s.%N)" -v b="$boot" -v e="$end" -v a="$ACCEL" -v k="$KV" \
        'BEGIN { printf "run-in-vm: %s %s: total %.2fs, guest uptime at the command %.2fs, command %.2fs\n", a, k, t1 - t0, b, e - b }' >&2
fi
exit "$(cat "$RUN/rc")"
