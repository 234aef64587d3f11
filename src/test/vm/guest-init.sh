#!/bin/busybox sh
# /init of the initramfs run-in-vm.sh builds: PID 1 of the guest, with only busybox.
# Stage 1 (in the initramfs): load the 9p, overlay and RAM disk modules, mount the host's /
# (9p tag "host", read-only) under a tmpfs overlay so the guest may write anywhere (nothing
# reaches the host), and switch_root into it. Stage 2 (PID 1 on that root): fresh proc/sys/dev/tmp/run, a pure
# cgroup2 hierarchy with every controller enabled at the root, then the command; its output
# and exit code go to the read-write run directory (9p tag "run"), and the guest powers off.
BB=/bin/busybox
ERR=/run-dir/init-error  # read by run-in-vm.sh when no exit code comes back
die() { echo "guest-init: $*" >> $ERR 2>/dev/null; echo "guest-init: $*" >&2; off; }
off() { sync; echo o > /proc/sysrq-trigger; $BB poweroff -f; }

if [ "$1" != stage2 ]; then
    $BB mkdir -p /proc /sys /dev /lower /rw /root /run-dir
    $BB mount -t proc proc /proc
    $BB mount -t devtmpfs dev /dev
    # Order matters: each module needs the ones before it (netfs <- 9pnet <- 9pnet_virtio <- 9p).
    # A module's parameters, if any, are in NAME.params.
    for m in $($BB cat /modules/order); do
        $BB insmod /modules/$m.ko $($BB cat /modules/$m.params 2>/dev/null) || die "insmod $m"
    done
    # msize above the default (128 KiB): fewer round trips reading the JDK and jars from the host.
    o=trans=virtio,version=9p2000.L,msize=512000
    $BB mount -t 9p -o $o,cache=loose,ro host /lower || die "mount 9p host"
    $BB mount -t 9p -o $o,cache=none run /run-dir || die "mount 9p run"
    $BB mount -t tmpfs -o mode=755 tmpfs /rw
    $BB mkdir /rw/upper /rw/work
    $BB mount -t overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work overlay /root || die "mount overlay"
    $BB mkdir -p /root/.vm/run
    $BB cp $BB /init /root/.vm/ || die "cannot write into the overlay"
    $BB mount --move /run-dir /root/.vm/run
    $BB umount /proc /dev
    exec $BB switch_root /root /.vm/busybox sh /.vm/init stage2
fi

BB=/.vm/busybox
R=/.vm/run ERR=/.vm/run/init-error
$BB mount -t proc proc /proc
$BB mount -t sysfs sys /sys
$BB mount -t devtmpfs dev /dev
$BB mkdir -p /dev/pts /dev/shm
$BB mount -t devpts -o ptmxmode=666 devpts /dev/pts
$BB mount -t tmpfs -o mode=1777 shm /dev/shm
$BB ln -sf /proc/self/fd /dev/fd
# Fresh /tmp and /run: the host's (pid files, runtimes' state) mean nothing here.
$BB mount -t tmpfs -o mode=1777 tmp /tmp
$BB mount -t tmpfs -o mode=755 run /run
$BB mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup || die "mount cgroup2"
c=$($BB sed 's/\([a-z_]*\)/+\1/g' /sys/fs/cgroup/cgroup.controllers)
echo "$c" > /sys/fs/cgroup/cgroup.subtree_control || die "enable controllers: $c"
$BB ip link set lo up
t0=$($BB cut -d' ' -f1 /proc/uptime)
/bin/bash $R/cmd > $R/stdout 2> $R/stderr < /dev/null
echo $? > $R/rc.tmp
echo "boot=$t0 end=$($BB cut -d' ' -f1 /proc/uptime)" > $R/timing
$BB mv $R/rc.tmp $R/rc
off
