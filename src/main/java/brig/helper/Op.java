package brig.helper;

/**
 * The helper's step codes, mirrored by {@code enum op} in src/main/c/brig-helper.c (a unit test
 * compares the two). Arguments: i = integers, s = strings, as listed per {@link Step} record.
 */
public enum Op {
    SETNS(1), CLONE(2), AWAIT(3), UNSHARE(4), ROOT(5), MKDIRS(6), MKFILE(7), MOUNT(8), MKNOD(9),
    SYMLINK(10), PIVOT_ROOT(11), MOVE_ROOT(12), MASK(13), SETHOSTNAME(14), SETDOMAINNAME(15),
    SYSCTL(16), RLIMIT(17), PRCTL(18), UMASK(19), CHDIR(20), CAPBSET(21), SETGROUPS(22),
    SETRESGID(23), SETRESUID(24), CAPSET(25), PTY(26), PTY_ATTACH(27), OPEN_FIFO(28),
    WAIT_START(29), CLOSE_FDS(30), FIND_EXEC(31), EXEC(32), READY(33), HOME(34), OPEN_CGROUP(35), OPEN_TASKS(36), JOIN_TASKS(37),
    KEYRING(40),
    // brig exec
    JOIN_NS(42), FORK(43),
    // Hooks: far from the others' next numbers, so that branches adding ops do not collide.
    HOOK(50),
    SECCOMP(48),
    // The copy-on-write rootfs of an image's container (56-59 are this branch's).
    OVERLAY(56),
    // brig container run's --network none: lo up in the new network namespace (issue 12).
    LOOPBACK_UP(57),
    // brig container run without -i: the program's stdin is /dev/null, not the caller's (issue 12).
    STDIN(58),
    // Conformance work (issue 8): 51-55.
    CHROOT(51);

    public final int code;

    Op(int code) {
        this.code = code;
    }
}
