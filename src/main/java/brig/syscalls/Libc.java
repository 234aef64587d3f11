package brig.syscalls;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The C library calls Brig makes from Java, through the Foreign Function &amp; Memory API.
 *
 * <p>Every function is called through one shared downcall shape, seven 64-bit integer
 * arguments and a 64-bit result, with errno captured: the JDK generates a stub class per
 * distinct shape, at about 20 ms each, which made a dozen different signatures cost more
 * start-up than everything else in `brig run`. On the 64-bit Linux ABIs (x86-64, aarch64)
 * integer and pointer arguments travel in the same registers, extra arguments are ignored by
 * the callee, an int result is the low half of the register, and glibc's variadic open, fcntl
 * and syscall read their integer arguments from those registers too.
 */
public final class Libc {
    private Libc() {}

    public static final int AF_UNIX = 1, SOCK_STREAM = 1, SOCK_CLOEXEC = 0x80000;
    public static final int F_DUPFD_CLOEXEC = 1030, F_GETFD = 1, F_SETFD = 2, FD_CLOEXEC = 1, F_ADD_SEALS = 1033;
    public static final int F_SEAL_SEAL = 1, F_SEAL_SHRINK = 2, F_SEAL_GROW = 4, F_SEAL_WRITE = 8;
    public static final int MFD_CLOEXEC = 1, MFD_ALLOW_SEALING = 2;
    public static final int O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_NONBLOCK = 0x800, O_DIRECTORY = 0x10000,
            O_CLOEXEC = 0x80000;
    public static final int WNOHANG = 1;
    public static final int SIGKILL = 9, SIGTERM = 15;
    public static final long RESOLVE_NO_MAGICLINKS = 0x02, RESOLVE_IN_ROOT = 0x10;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO =
            CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final FunctionDescriptor SHAPE = FunctionDescriptor.of(JAVA_LONG,
            JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG);
    /** (address, call state, 7 longs) -> long; linked on first use. */
    private static volatile MethodHandle shared;

    /**
     * The C functions used. The layouts document the C signature; calls go through the shared
     * shape ({@link #call}). {@link #h} gives a handle of the exact signature for code that
     * prefers one (it costs a stub of its own).
     */
    public enum Fn {
        STRERRORNAME_NP(ADDRESS, JAVA_INT),
        STRERRORDESC_NP(ADDRESS, JAVA_INT),
        SOCKETPAIR(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS),
        PIPE2(JAVA_INT, ADDRESS, JAVA_INT),
        CLOSE(JAVA_INT, JAVA_INT),
        OPEN(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT),
        READ(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG),
        WRITE(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG),
        RECVMSG(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT),
        SENDMSG(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT),
        FCNTL(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT),
        MEMFD_CREATE(JAVA_INT, ADDRESS, JAVA_INT),
        SENDFILE(JAVA_LONG, JAVA_INT, JAVA_INT, ADDRESS, JAVA_LONG),
        WAITPID(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT),
        KILL(JAVA_INT, JAVA_INT, JAVA_INT),
        MKFIFO(JAVA_INT, ADDRESS, JAVA_INT),
        UMOUNT2(JAVA_INT, ADDRESS, JAVA_INT),
        POSIX_SPAWN(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS),
        SYSCALL(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
        GETEUID(JAVA_INT),
        GETEGID(JAVA_INT),
        // File-system calls for unpacking image layers: all relative to a directory fd.
        OPENAT(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT),
        MKDIRAT(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT),
        MKNODAT(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG),
        SYMLINKAT(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS),
        LINKAT(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT),
        UNLINKAT(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT),
        RENAMEAT2(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT),
        READLINKAT(JAVA_LONG, JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG),
        FCHOWNAT(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT),
        FCHMODAT(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT),
        FCHOWN(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT),
        FCHMOD(JAVA_INT, JAVA_INT, JAVA_INT),
        UTIMENSAT(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT),
        FUTIMENS(JAVA_INT, JAVA_INT, ADDRESS),
        FSETXATTR(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT),
        LSETXATTR(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT),
        STATX(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS),
        ISATTY(JAVA_INT, JAVA_INT),
        FLOCK(JAVA_INT, JAVA_INT, JAVA_INT),
        SOCKET(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT),
        CONNECT(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT),
        IOCTL(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG),
        // The resident server (brig.server): its callers' connections.
        ACCEPT4(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT),
        GETSOCKOPT(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS),
        POLL(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT),
        // For hooks (spawnWithStdin): posix_spawn's file actions and attributes.
        POSIX_SPAWN_FILE_ACTIONS_INIT(JAVA_INT, ADDRESS),
        POSIX_SPAWN_FILE_ACTIONS_ADDDUP2(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT),
        POSIX_SPAWN_FILE_ACTIONS_ADDCLOSEFROM_NP(JAVA_INT, ADDRESS, JAVA_INT),
        POSIX_SPAWN_FILE_ACTIONS_ADDCHDIR_NP(JAVA_INT, ADDRESS, ADDRESS),
        POSIX_SPAWN_FILE_ACTIONS_DESTROY(JAVA_INT, ADDRESS),
        POSIX_SPAWNATTR_INIT(JAVA_INT, ADDRESS),
        POSIX_SPAWNATTR_SETFLAGS(JAVA_INT, ADDRESS, JAVA_INT),
        POSIX_SPAWNATTR_SETSIGMASK(JAVA_INT, ADDRESS, ADDRESS),
        POSIX_SPAWNATTR_SETSIGDEFAULT(JAVA_INT, ADDRESS, ADDRESS),
        POSIX_SPAWNATTR_SETPGROUP(JAVA_INT, ADDRESS, JAVA_INT),
        POSIX_SPAWNATTR_DESTROY(JAVA_INT, ADDRESS),
        SIGFILLSET(JAVA_INT, ADDRESS),
        SIGEMPTYSET(JAVA_INT, ADDRESS);

        private final FunctionDescriptor descriptor;
        private MemorySegment address;
        private MethodHandle handle;

        Fn(MemoryLayout result, MemoryLayout... args) {
            this.descriptor = FunctionDescriptor.of(result, args);
        }

        MemorySegment address() {
            MemorySegment a = address;
            if (a == null) {
                String symbol = name().toLowerCase(java.util.Locale.ROOT);
                address = a = LINKER.defaultLookup().find(symbol)
                        .orElseThrow(() -> new UnsatisfiedLinkError("no " + symbol + " in the C library"));
            }
            return a;
        }

        /** A handle of the exact C signature, taking the errno capture segment first. */
        public MethodHandle h() {
            MethodHandle h = handle;
            if (h == null) {
                handle = h = LINKER.downcallHandle(address(), descriptor, Linker.Option.captureCallState("errno"));
            }
            return h;
        }
    }

    /** Call state (errno) for one call; allocate it in the call's arena. */
    public static MemorySegment state(Arena a) {
        return a.allocate(CALL_STATE);
    }

    public static int errno(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }

    /** Calls {@code fn} with up to seven integer or pointer arguments (see the class comment). */
    public static long call(MemorySegment state, Fn fn, long... args) {
        long[] a = new long[7];
        System.arraycopy(args, 0, a, 0, args.length);
        MethodHandle h = shared;
        if (h == null) h = link();
        try {
            return (long) h.invokeExact(fn.address(), state, a[0], a[1], a[2], a[3], a[4], a[5], a[6]);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static synchronized MethodHandle link() {
        if (shared == null) shared = LINKER.downcallHandle(SHAPE, Linker.Option.captureCallState("errno"));
        return shared;
    }

    private static long ptr(MemorySegment s) {
        return s.address();
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new IllegalStateException(t);
    }

    private static String cString(long p) {
        return p == 0 ? null : MemorySegment.ofAddress(p).reinterpret(4096).getString(0, StandardCharsets.UTF_8);
    }

    static String strerrorname(int errno) {
        try (Arena a = Arena.ofConfined()) {
            return cString(call(state(a), Fn.STRERRORNAME_NP, errno));
        }
    }

    static String strerrordesc(int errno) {
        try (Arena a = Arena.ofConfined()) {
            return cString(call(state(a), Fn.STRERRORDESC_NP, errno));
        }
    }

    /** A connected pair of stream sockets, both close-on-exec. */
    public static int[] socketpair() throws SyscallException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = state(a), sv = a.allocate(JAVA_INT, 2);
            if ((int) call(st, Fn.SOCKETPAIR, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ptr(sv)) < 0) {
                throw new SyscallException("socketpair", null, errno(st));
            }
            return new int[] {sv.getAtIndex(JAVA_INT, 0), sv.getAtIndex(JAVA_INT, 1)};
        }
    }

    /** pipe2(2), close-on-exec: {read end, write end}. */
    public static int[] pipe() throws SyscallException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = state(a), fds = a.allocate(JAVA_INT, 2);
            if ((int) call(st, Fn.PIPE2, ptr(fds), O_CLOEXEC) < 0) throw new SyscallException("pipe2", null, errno(st));
            return new int[] {fds.getAtIndex(JAVA_INT, 0), fds.getAtIndex(JAVA_INT, 1)};
        }
    }

    public static void close(int fd) {
        if (fd < 0) return;
        try (Arena a = Arena.ofConfined()) {
            call(state(a), Fn.CLOSE, fd);
        }
    }

    /** open(2), always close-on-exec. */
    public static int open(String path, int flags, int mode) throws SyscallException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = state(a);
            int fd = (int) call(st, Fn.OPEN, ptr(a.allocateFrom(path)), flags | O_CLOEXEC, mode);
            if (fd < 0) throw new SyscallException("open", path, errno(st));
            return fd;
        }
    }

    /** Reads up to {@code len} bytes into {@code buf}; 0 at end of file. Retries EINTR. */
    public static int read(int fd, MemorySegment buf, long len) throws SyscallException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = state(a);
            while (true) {
                long n = call(st, Fn.READ, fd, ptr(buf), len);
                if (n >= 0) return (int) n;
                if (errno(st) != Errno.EINTR) throw new SyscallException("read", null, errno(st));
            }
        }
    }

    /** Writes all of {@code data}. */
    public static void writeFully(int fd, byte[] data) throws SyscallException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = state(a);
            MemorySegment buf = a.allocate(Math.max(1, data.length));
            MemorySegment.copy(data, 0, buf, JAVA_BYTE, 0, data.length);
            long off = 0;
            while (off < data.length) {
                long n = call(st, Fn.WRITE, fd, ptr(buf) + off, data.length - off);
                if (n < 0) {
                    if (errno(st) == Errno.EINTR) continue;
                    throw new SyscallException("write", null, errno(st));
                }
                off += n;
            }
        }
    }

    // struct msghdr on x86_64/aarch64: name, namelen(+pad), iov, iovlen, control, controllen, flags(+pad)
    private static final long MSG_SIZE = 56, MSG_IOV = 16, MSG_IOVLEN = 24, MSG_CONTROL = 32,
            MSG_CONTROLLEN = 40;
    private static final long CMSG_SPACE_INT = 24, CMSG_LEN_INT = 20;
    private static final int SOL_SOCKET = 1, SCM_RIGHTS = 1, MSG_CMSG_CLOEXEC = 0x40000000,
            MSG_NOSIGNAL = 0x4000;

    /** What {@link #recvmsg} got: the byte count (0 at end of stream) and a passed fd, or -1. */
    public record Received(int count, int fd) {}

    /** Receives bytes and at most one file descriptor (SCM_RIGHTS), which arrives close-on-exec. */
    public static Received recvmsg(int sock, MemorySegment buf, long len) throws SyscallException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = state(a);
            MemorySegment msg = a.allocate(MSG_SIZE, 8), iov = a.allocate(16, 8),
                    ctl = a.allocate(CMSG_SPACE_INT, 8);
            iov.set(ADDRESS, 0, buf);
            iov.set(JAVA_LONG, 8, len);
            msg.set(ADDRESS, MSG_IOV, iov);
            msg.set(JAVA_LONG, MSG_IOVLEN, 1);
            msg.set(ADDRESS, MSG_CONTROL, ctl);
            msg.set(JAVA_LONG, MSG_CONTROLLEN, CMSG_SPACE_INT);
            long n;
            while (true) {
                n = call(st, Fn.RECVMSG, sock, ptr(msg), MSG_CMSG_CLOEXEC);
                if (n >= 0) break;
                if (errno(st) != Errno.EINTR) throw new SyscallException("recvmsg", null, errno(st));
            }
            int fd = -1;
            if (msg.get(JAVA_LONG, MSG_CONTROLLEN) >= CMSG_LEN_INT
                    && ctl.get(JAVA_INT, 8) == SOL_SOCKET && ctl.get(JAVA_INT, 12) == SCM_RIGHTS) {
                fd = ctl.get(JAVA_INT, 16);
            }
            return new Received((int) n, fd);
        }
    }

    /** Sends {@code data} with one file descriptor attached (SCM_RIGHTS). */
    public static void sendFd(int sock, byte[] data, int fd) throws SyscallException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = state(a);
            MemorySegment msg = a.allocate(MSG_SIZE, 8), iov = a.allocate(16, 8),
                    ctl = a.allocate(CMSG_SPACE_INT, 8), buf = a.allocate(Math.max(1, data.length));
            MemorySegment.copy(data, 0, buf, JAVA_BYTE, 0, data.length);
            iov.set(ADDRESS, 0, buf);
            iov.set(JAVA_LONG, 8, data.length);
            ctl.set(JAVA_LONG, 0, CMSG_LEN_INT);
            ctl.set(JAVA_INT, 8, SOL_SOCKET);
            ctl.set(JAVA_INT, 12, SCM_RIGHTS);
            ctl.set(JAVA_INT, 16, fd);
            msg.set(ADDRESS, MSG_IOV, iov);
            msg.set(JAVA_LONG, MSG_IOVLEN, 1);
            msg.set(ADDRESS, MSG_CONTROL, ctl);
            msg.set(JAVA_LONG, MSG_CONTROLLEN, CMSG_SPACE_INT);
            while (true) {
                if (call(st, Fn.SENDMSG, sock, ptr(msg), MSG_NOSIGNAL) >= 0) return;
                if (errno(st) != Errno.EINTR) throw new SyscallException("sendmsg", null, errno(st));
            }
        }
    }

    public static int fcntl(int fd, int cmd, int arg) throws SyscallException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = state(a);
            int r = (int) call(st, Fn.FCNTL, fd, cmd, arg);
            if (r < 0) throw new SyscallException("fcntl", null, errno(st));
            return r;
        }
    }

    public static void setCloseOnExec(int fd, boolean on) throws SyscallException {
        int flags = fcntl(fd, F_GETFD, 0);
        fcntl(fd, F_SETFD, on ? flags | FD_CLOEXEC : flags & ~FD_CLOEXEC);
    }

    /** memfd_create's MFD_EXEC (Linux 6.3); O_TMPFILE as open(2) takes it (with O_DIRECTORY). */
    private static final int MFD_EXEC = 0x10, O_TMPFILE = 0x410000;

    /**
     * A copy of a file that nothing can write to, so that a program running from it cannot be
     * overwritten through /proc/PID/exe (CVE-2019-5736). Preferably a sealed memfd, asked for
     * as executable: where vm.memfd_noexec is 1 a memfd is not executable unless it says
     * MFD_EXEC (kernels before 6.3 do not know the flag and execute any memfd). Where it is 2
     * executable memfds are refused, so the copy is an O_TMPFILE file next to the original
     * (where programs may run, as the original does): it has no name, and once its writable fd
     * is closed only a read-only one is left, which a running program keeps unwritable.
     */
    public static int sealedCopy(String name, String path) throws SyscallException {
        int in = open(path, O_RDONLY, 0);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = state(a), cname = a.allocateFrom(name);
            int fd = (int) call(st, Fn.MEMFD_CREATE, ptr(cname), MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
            if (fd < 0 && errno(st) == Errno.EINVAL) {
                fd = (int) call(st, Fn.MEMFD_CREATE, ptr(cname), MFD_CLOEXEC | MFD_ALLOW_SEALING);
            }
            if (fd < 0 && errno(st) == Errno.EACCES) return unnamedCopy(in, path);
            if (fd < 0) throw new SyscallException("memfd_create", name, errno(st));
            try {
                copyAll(in, fd, path);
                fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE);
            } catch (SyscallException e) {
                close(fd);
                throw e;
            }
            return fd;
        } finally {
            close(in);
        }
    }

    /** The O_TMPFILE copy of {@link #sealedCopy}: returns a read-only fd, the only one left. */
    private static int unnamedCopy(int in, String path) throws SyscallException {
        String dir = java.nio.file.Path.of(path).toAbsolutePath().getParent().toString();
        int rw = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0500);
        try {
            copyAll(in, rw, path);
            return open("/proc/self/fd/" + rw, O_RDONLY | O_CLOEXEC, 0);
        } finally {
            close(rw);
        }
    }

    private static void copyAll(int in, int out, String path) throws SyscallException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = state(a);
            while (true) {
                long n = call(st, Fn.SENDFILE, out, in, 0, 1L << 30);
                if (n == 0) return;
                if (n < 0) throw new SyscallException("sendfile", path, errno(st));
            }
        }
    }

    /** waitpid; returns the raw status, or -1 with WNOHANG when the child is still running. */
    public static int waitpid(int pid, int options) throws SyscallException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = state(a), status = a.allocate(JAVA_INT);
            while (true) {
                int r = (int) call(st, Fn.WAITPID, pid, ptr(status), options);
                if (r == pid) return status.get(JAVA_INT, 0);
                if (r == 0) return -1;
                if (errno(st) != Errno.EINTR) throw new SyscallException("waitpid", String.valueOf(pid), errno(st));
            }
        }
    }

    private static final long SYS_PIDFD_OPEN = 434; // the same number on every architecture

    /**
     * Waits until process {@code pid} has exited: reaps it if it is this process's child, else
     * (a resident server's container is its caller's child) waits on a pidfd, which is readable
     * once the process has exited, reaped or not. The cgroup it was in is then free to remove.
     */
    public static void awaitExit(int pid) throws SyscallException {
        try {
            waitpid(pid, 0);
            return;
        } catch (SyscallException e) {
            if (e.errno() != Errno.ECHILD) throw e;
        }
        int fd;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = state(a);
            fd = (int) call(st, Fn.SYSCALL, SYS_PIDFD_OPEN, pid, 0);
            if (fd < 0 && errno(st) == Errno.ESRCH) return;
            if (fd < 0) throw new SyscallException("pidfd_open", String.valueOf(pid), errno(st));
        }
        try {
            while (!pollIn(new int[] {fd}, -1)[0]) {
                // a signal interrupted the wait
            }
        } finally {
            close(fd);
        }
    }

    /** Sends a signal; false if there is no such process. */
    public static boolean kill(int pid, int signal) throws SyscallException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = state(a);
            if ((int) call(st, Fn.KILL, pid, signal) == 0) return true;
            if (errno(st) == Errno.ESRCH) return false;
            throw new SyscallException("kill", String.valueOf(pid), errno(st));
        }
    }

    public static final int MNT_DETACH = 2;

    public static void umount2(String path, int flags) throws SyscallException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = state(a);
            if ((int) call(st, Fn.UMOUNT2, ptr(a.allocateFrom(path)), flags) < 0) {
                throw new SyscallException("umount2", path, errno(st));
            }
        }
    }

    public static void mkfifo(String path, int mode) throws SyscallException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = state(a);
            if ((int) call(st, Fn.MKFIFO, ptr(a.allocateFrom(path)), mode) < 0) {
                throw new SyscallException("mkfifo", path, errno(st));
            }
        }
    }

    private static final long SYS_OPENAT2 = 437; // the same number on every architecture

    /**
     * openat2(2): opens {@code path} relative to directory {@code dirfd} with the given
     * RESOLVE_* restrictions; the fd is close-on-exec.
     */
    public static int openat2(int dirfd, String path, int flags, long resolve) throws SyscallException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = state(a), how = a.allocate(24, 8);
            how.set(JAVA_LONG, 0, (long) (flags | O_CLOEXEC));
            how.set(JAVA_LONG, 8, 0L);
            how.set(JAVA_LONG, 16, resolve);
            while (true) {
                long fd = call(st, Fn.SYSCALL, SYS_OPENAT2, dirfd, ptr(a.allocateFrom(path)), ptr(how), 24);
                if (fd >= 0) return (int) fd;
                if (errno(st) != Errno.EAGAIN && errno(st) != Errno.EINTR) throw new SyscallException("openat2", path, errno(st));
            }
        }
    }

    public static int geteuid() {
        try (Arena a = Arena.ofConfined()) {
            return (int) call(state(a), Fn.GETEUID);
        }
    }

    public static int getegid() {
        try (Arena a = Arena.ofConfined()) {
            return (int) call(state(a), Fn.GETEGID);
        }
    }

    private static MemorySegment cStrings(Arena a, List<String> strings) {
        MemorySegment arr = a.allocate(ADDRESS, strings.size() + 1L);
        for (int k = 0; k < strings.size(); k++) arr.setAtIndex(ADDRESS, k, a.allocateFrom(strings.get(k)));
        arr.setAtIndex(ADDRESS, strings.size(), MemorySegment.NULL);
        return arr;
    }

    /**
     * posix_spawn: starts a program that inherits every descriptor not marked close-on-exec,
     * and this thread's signal mask and ignored signals (the helper resets both first thing).
     */
    public static int spawn(String path, List<String> argv, List<String> env) throws SyscallException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = state(a), pid = a.allocate(JAVA_INT);
            int r = (int) call(st, Fn.POSIX_SPAWN, ptr(pid), ptr(a.allocateFrom(path)), 0, 0,
                    ptr(cStrings(a, argv)), ptr(cStrings(a, env)));
            if (r != 0) throw new SyscallException("posix_spawn", path, r);
            return pid.get(JAVA_INT, 0);
        }
    }

    private static final int POSIX_SPAWN_SETPGROUP = 0x02, POSIX_SPAWN_SETSIGDEF = 0x04, POSIX_SPAWN_SETSIGMASK = 0x08;

    /**
     * posix_spawn for a program that must get nothing of this process but fds 1 and 2: fd
     * {@code stdin} becomes its fd 0, every other fd is closed, every signal is at its default
     * and unblocked, and it leads a process group of its own (so that a timeout can kill what
     * it started too). {@code argv} and {@code env} are used exactly as given.
     */
    public static int spawnWithStdin(String path, List<String> argv, List<String> env, int stdin) throws SyscallException {
        return spawnWithStdio(path, argv, env, stdin, -1, -1);
    }

    /** {@link #spawnWithStdin}, with fds {@code stdout} and {@code stderr} as its 1 and 2 (-1: this process's). */
    public static int spawnWithStdio(String path, List<String> argv, List<String> env, int stdin, int stdout, int stderr)
            throws SyscallException {
        return spawnWithStdio(path, argv, env, stdin, stdout, stderr, null);
    }

    /**
     * {@link #spawnWithStdio}, in the working directory {@code cwd} (null: this process's): a
     * server runs a caller's hooks where that caller's own process would have.
     */
    public static int spawnWithStdio(String path, List<String> argv, List<String> env, int stdin, int stdout, int stderr,
                                     String cwd) throws SyscallException {
        try (Arena a = Arena.ofConfined()) {
            // glibc's posix_spawn_file_actions_t is 80 bytes, posix_spawnattr_t 336, sigset_t 128 (x86-64, aarch64).
            MemorySegment st = state(a), pid = a.allocate(JAVA_INT), fa = a.allocate(1024, 16), attr = a.allocate(1024, 16);
            MemorySegment all = a.allocate(128, 8), none = a.allocate(128, 8);
            call(st, Fn.SIGFILLSET, ptr(all));
            call(st, Fn.SIGEMPTYSET, ptr(none));
            call(st, Fn.POSIX_SPAWN_FILE_ACTIONS_INIT, ptr(fa));
            call(st, Fn.POSIX_SPAWNATTR_INIT, ptr(attr));
            try {
                int r = (int) call(st, Fn.POSIX_SPAWN_FILE_ACTIONS_ADDDUP2, ptr(fa), stdin, 0);
                if (r == 0 && stdout >= 0) r = (int) call(st, Fn.POSIX_SPAWN_FILE_ACTIONS_ADDDUP2, ptr(fa), stdout, 1);
                if (r == 0 && stderr >= 0) r = (int) call(st, Fn.POSIX_SPAWN_FILE_ACTIONS_ADDDUP2, ptr(fa), stderr, 2);
                if (r == 0 && cwd != null) r = (int) call(st, Fn.POSIX_SPAWN_FILE_ACTIONS_ADDCHDIR_NP, ptr(fa), ptr(a.allocateFrom(cwd)));
                if (r == 0) r = (int) call(st, Fn.POSIX_SPAWN_FILE_ACTIONS_ADDCLOSEFROM_NP, ptr(fa), 3);
                if (r == 0) r = (int) call(st, Fn.POSIX_SPAWNATTR_SETSIGDEFAULT, ptr(attr), ptr(all));
                if (r == 0) r = (int) call(st, Fn.POSIX_SPAWNATTR_SETSIGMASK, ptr(attr), ptr(none));
                if (r == 0) r = (int) call(st, Fn.POSIX_SPAWNATTR_SETPGROUP, ptr(attr), 0);
                if (r == 0) r = (int) call(st, Fn.POSIX_SPAWNATTR_SETFLAGS, ptr(attr),
                        POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
                if (r == 0) r = (int) call(st, Fn.POSIX_SPAWN, ptr(pid), ptr(a.allocateFrom(path)), ptr(fa), ptr(attr),
                        ptr(cStrings(a, argv)), ptr(cStrings(a, env)));
                if (r != 0) throw new SyscallException("posix_spawn", path, r);
                return pid.get(JAVA_INT, 0);
            } finally {
                call(st, Fn.POSIX_SPAWNATTR_DESTROY, ptr(attr));
                call(st, Fn.POSIX_SPAWN_FILE_ACTIONS_DESTROY, ptr(fa));
            }
        }
    }

    /** A read-write fd (close-on-exec) on a new, empty in-memory file: a program's output that never blocks it. */
    public static int outputFile(String name) throws SyscallException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = state(a);
            int fd = (int) call(st, Fn.MEMFD_CREATE, ptr(a.allocateFrom(name)), MFD_CLOEXEC | 0x08);
            if (fd < 0 && errno(st) == Errno.EINVAL) fd = (int) call(st, Fn.MEMFD_CREATE, ptr(a.allocateFrom(name)), MFD_CLOEXEC);
            if (fd < 0) throw new SyscallException("memfd_create", name, errno(st));
            return fd;
        }
    }

    /**
     * A read-only fd (close-on-exec) on a new in-memory file holding {@code data}, read from
     * its start: a program's stdin that never blocks the writer.
     */
    public static int memoryFile(String name, byte[] data) throws SyscallException {
        int fd;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = state(a);
            // MFD_NOEXEC_SEAL (Linux 6.3; 0x08): data, never a program.
            fd = (int) call(st, Fn.MEMFD_CREATE, ptr(a.allocateFrom(name)), MFD_CLOEXEC | 0x08);
            if (fd < 0 && errno(st) == Errno.EINVAL) fd = (int) call(st, Fn.MEMFD_CREATE, ptr(a.allocateFrom(name)), MFD_CLOEXEC);
            if (fd < 0) throw new SyscallException("memfd_create", name, errno(st));
        }
        try {
            writeFully(fd, data);
            // A second open has its own offset (0) and cannot write.
            return open("/proc/self/fd/" + fd, O_RDONLY, 0);
        } finally {
            close(fd);
        }
    }

    // ---- *at file-system calls: image layers are unpacked with these, relative to a directory fd ----

    public static final int AT_FDCWD = -100, AT_SYMLINK_NOFOLLOW = 0x100, AT_REMOVEDIR = 0x200;
    public static final int O_CREAT = 0x40, O_EXCL = 0x80, O_NOFOLLOW = 0x20000, O_PATH = 0x200000;
    public static final int S_IFMT = 0170000, S_IFDIR = 0040000, S_IFREG = 0100000, S_IFLNK = 0120000,
            S_IFCHR = 0020000, S_IFBLK = 0060000, S_IFIFO = 0010000;

    /** What statx reported about a file (the fields Brig uses). */
    public record Stat(int mode, int uid, int gid, long size, long ino, int nlink, long mtimeSec, int mtimeNsec) {
        public boolean isDirectory() { return (mode & S_IFMT) == S_IFDIR; }

        public boolean isRegular() { return (mode & S_IFMT) == S_IFREG; }

        public boolean isSymlink() { return (mode & S_IFMT) == S_IFLNK; }
    }

    private static void check(long r, MemorySegment st, String call, String path) throws SyscallException {
        if ((int) r < 0) throw new SyscallException(call, path, errno(st));
    }

    /** openat(2), close-on-exec; retries EINTR. */
    public static int openat(int dirfd, String path, int flags, int mode) throws SyscallException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = state(a);
            long p = ptr(a.allocateFrom(path));
            while (true) {
                int fd = (int) call(st, Fn.OPENAT, dirfd, p, flags | O_CLOEXEC, mode);
                if (fd >= 0) return fd;
                if (errno(st) != Errno.EINTR) throw new SyscallException("openat", path, errno(st));
            }
        }
    }

    public static void mkdirat(int dirfd, String name, int mode) throws SyscallException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = state(a);
            check(call(st, Fn.MKDIRAT, dirfd, ptr(a.allocateFrom(name)), mode), st, "mkdirat", name);
        }
    }

    /** mknodat(2); {@code dev} as makedev(3) packs it. */
    public static void mknodat(int dirfd, String name, int mode, long dev) throws SyscallException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = state(a);
            check(call(st, Fn.MKNODAT, dirfd, ptr(a.allocateFrom(name)), mode, dev), st, "mknodat", name);
        }
    }

    public static long makedev(long major, long minor) {
        return ((major & 0xfffff000L) << 32) | ((major & 0xfffL) << 8) | ((minor & 0xffffff00L) << 12) | (minor & 0xffL);
    }

    public static void symlinkat(String target, int dirfd, String name) throws SyscallException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = state(a);
            check(call(st, Fn.SYMLINKAT, ptr(a.allocateFrom(target)), dirfd, ptr(a.allocateFrom(name))), st, "symlinkat", name);
        }
    }

    public static void linkat(int olddirfd, String oldname, int newdirfd, String newname, int flags) throws SyscallException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = state(a);
            check(call(st, Fn.LINKAT, olddirfd, ptr(a.allocateFrom(oldname)), newdirfd, ptr(a.allocateFrom(newname)), flags),
                    st, "linkat", newname);
        }
    }

    public static void unlinkat(int dirfd, String name, int flags) throws SyscallException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = state(a);
            check(call(st, Fn.UNLINKAT, dirfd, ptr(a.allocateFrom(name)), flags), st, "unlinkat", name);
        }
    }

    /** readlinkat(2): the target of the symlink {@code name} in {@code dirfd}. */
    public static String readlinkat(int dirfd, String name) throws SyscallException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = state(a), buf = a.allocate(4097);
            long n = call(st, Fn.READLINKAT, dirfd, ptr(a.allocateFrom(name)), ptr(buf), 4096L);
            if (n < 0) throw new SyscallException("readlinkat", name, errno(st));
            return new String(buf.asSlice(0, n).toArray(JAVA_BYTE), StandardCharsets.UTF_8);
        }
    }

    public static void fchownat(int dirfd, String name, int uid, int gid, int flags) throws SyscallException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = state(a);
            check(call(st, Fn.FCHOWNAT, dirfd, ptr(a.allocateFrom(name)), uid & 0xffffffffL, gid & 0xffffffffL, flags), st, "fchownat", name);
        }
    }

    /** fchmodat(2) without flags (it follows a symlink: call it on what is not one). */
    public static void fchmodat(int dirfd, String name, int mode) throws SyscallException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = state(a);
            check(call(st, Fn.FCHMODAT, dirfd, ptr(a.allocateFrom(name)), mode, 0), st, "fchmodat", name);
        }
    }

    public static void fchown(int fd, int uid, int gid, String what) throws SyscallException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = state(a);
            check(call(st, Fn.FCHOWN, fd, uid & 0xffffffffL, gid & 0xffffffffL), st, "fchown", what);
        }
    }

    public static void fchmod(int fd, int mode, String what) throws SyscallException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = state(a);
            check(call(st, Fn.FCHMOD, fd, mode), st, "fchmod", what);
        }
    }

    /**
     * utimensat(2) with access and modification times in nanoseconds since the epoch; a null
     * {@code name} sets the times of the open file {@code dirfd} itself (futimens).
     */
    public static void utimensat(int dirfd, String name, long atimeNanos, long mtimeNanos, int flags) throws SyscallException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = state(a), times = a.allocate(32, 8);
            times.set(JAVA_LONG, 0, Math.floorDiv(atimeNanos, 1_000_000_000L));
            times.set(JAVA_LONG, 8, Math.floorMod(atimeNanos, 1_000_000_000L));
            times.set(JAVA_LONG, 16, Math.floorDiv(mtimeNanos, 1_000_000_000L));
            times.set(JAVA_LONG, 24, Math.floorMod(mtimeNanos, 1_000_000_000L));
            if (name == null) {
                check(call(st, Fn.FUTIMENS, dirfd, ptr(times)), st, "futimens", null);
            } else {
                check(call(st, Fn.UTIMENSAT, dirfd, ptr(a.allocateFrom(name)), ptr(times), flags), st, "utimensat", name);
            }
        }
    }

    public static void fsetxattr(int fd, String name, byte[] value, String what) throws SyscallException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = state(a), v = a.allocate(Math.max(1, value.length));
            MemorySegment.copy(value, 0, v, JAVA_BYTE, 0, value.length);
            check(call(st, Fn.FSETXATTR, fd, ptr(a.allocateFrom(name)), ptr(v), value.length, 0), st, "fsetxattr " + name, what);
        }
    }

    public static void lsetxattr(String path, String name, byte[] value) throws SyscallException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = state(a), v = a.allocate(Math.max(1, value.length));
            MemorySegment.copy(value, 0, v, JAVA_BYTE, 0, value.length);
            check(call(st, Fn.LSETXATTR, ptr(a.allocateFrom(path)), ptr(a.allocateFrom(name)), ptr(v), value.length, 0), st,
                    "lsetxattr " + name, path);
        }
    }

    /** statx(2); null when the file does not exist (ENOENT). */
    public static Stat statx(int dirfd, String name, int flags) throws SyscallException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = state(a), buf = a.allocate(256, 8);
            int r = (int) call(st, Fn.STATX, dirfd, ptr(a.allocateFrom(name)), flags, 0xfff /* STATX_ALL */, ptr(buf));
            if (r < 0) {
                if (errno(st) == Errno.ENOENT) return null;
                throw new SyscallException("statx", name, errno(st));
            }
            return new Stat(buf.get(java.lang.foreign.ValueLayout.JAVA_SHORT, 28) & 0xffff, buf.get(JAVA_INT, 20), buf.get(JAVA_INT, 24),
                    buf.get(JAVA_LONG, 40), buf.get(JAVA_LONG, 32), buf.get(JAVA_INT, 16), buf.get(JAVA_LONG, 112), buf.get(JAVA_INT, 120));
        }
    }

    /** Writes {@code len} bytes of {@code buf} (native memory), retrying short writes and EINTR. */
    public static void write(int fd, MemorySegment buf, long len, String what) throws SyscallException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = state(a);
            long off = 0;
            while (off < len) {
                long n = call(st, Fn.WRITE, fd, ptr(buf) + off, len - off);
                if (n < 0) {
                    if (errno(st) == Errno.EINTR) continue;
                    throw new SyscallException("write", what, errno(st));
                }
                off += n;
            }
        }
    }

    public static boolean isatty(int fd) {
        try (Arena a = Arena.ofConfined()) {
            return (int) call(state(a), Fn.ISATTY, fd) == 1;
        }
    }

    /** ioctl(2) on a namespace file: an fd of the user namespace that owns it. */
    public static final long NS_GET_USERNS = 0xb701;

    /** ioctl(2) with an integer argument; its result (for NS_GET_USERNS a new fd). */
    public static int ioctl(int fd, long request, long arg, String what) throws SyscallException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = state(a);
            int r = (int) call(st, Fn.IOCTL, fd, request, arg);
            if (r < 0) throw new SyscallException("ioctl", what, errno(st));
            return r;
        }
    }

    public static final int LOCK_SH = 1, LOCK_EX = 2, LOCK_NB = 4, AT_EMPTY_PATH = 0x1000;

    /**
     * flock(2) on {@code fd}: the lock belongs to the open file description, so every thread
     * of this JVM that opens the file anew waits like another process would, and closing some
     * other descriptor of the file does not drop it (Java's FileLock has neither property).
     * Blocks unless {@code wait} is false; returns whether the lock was taken. Retries EINTR.
     */
    public static boolean flock(int fd, int op, boolean wait, String what) throws SyscallException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = state(a);
            while (true) {
                if ((int) call(st, Fn.FLOCK, fd, op | (wait ? 0 : LOCK_NB)) == 0) return true;
                if (errno(st) == Errno.EINTR) continue;
                if (!wait && errno(st) == Errno.EAGAIN) return false;
                throw new SyscallException("flock", what, errno(st));
            }
        }
    }

    /**
     * A stream socket connected to the AF_UNIX socket at {@code path}, close-on-exec. A path
     * longer than sun_path holds (107 bytes) is reached through /proc/self/fd/N of its
     * directory, as engines put sockets in deep state directories.
     */
    public static int connectUnix(String path) throws SyscallException {
        byte[] name = path.getBytes(StandardCharsets.UTF_8);
        if (name.length > 107) {
            int slash = path.lastIndexOf('/');
            if (slash <= 0) throw new SyscallException("connect", path, 36 /* ENAMETOOLONG */);
            int dir = -1;
            try { // a failure names the path given, whichever step failed (as brig-helper's CONNECT does)
                dir = open(path.substring(0, slash), O_PATH | O_DIRECTORY, 0);
                return connectUnix("/proc/self/fd/" + dir + path.substring(slash));
            } catch (SyscallException e) {
                throw new SyscallException("connect", path, e.errno());
            } finally {
                close(dir);
            }
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = state(a);
            int fd = (int) call(st, Fn.SOCKET, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
            if (fd < 0) throw new SyscallException("socket", path, errno(st));
            MemorySegment addr = a.allocate(110); // struct sockaddr_un: family, then sun_path
            addr.set(java.lang.foreign.ValueLayout.JAVA_SHORT, 0, (short) AF_UNIX);
            MemorySegment.copy(name, 0, addr, JAVA_BYTE, 2, name.length);
            while (true) {
                if ((int) call(st, Fn.CONNECT, fd, ptr(addr), 2 + name.length + 1) == 0) return fd;
                if (errno(st) == Errno.EINTR) continue;
                int err = errno(st);
                close(fd);
                throw new SyscallException("connect", path, err);
            }
        }
    }

    private static final long SYS_BIND = 49;
    public static final int SOCK_DGRAM = 2;

    /**
     * An AF_UNIX datagram socket bound to {@code path} (which must not exist), close-on-exec:
     * a container's notify socket (brig.runtime.Notify). A path longer than sun_path holds is
     * bound through /proc/self/fd/N of its directory, as {@link #connectUnix} connects.
     */
    public static int bindDatagram(String path) throws SyscallException {
        int slash = path.lastIndexOf('/');
        int dir = -1;
        try (Arena a = Arena.ofConfined()) {
            String name = path;
            if (path.getBytes(StandardCharsets.UTF_8).length > 107 && slash > 0) {
                try {
                    dir = open(path.substring(0, slash), O_PATH | O_DIRECTORY, 0);
                } catch (SyscallException e) {
                    throw new SyscallException("bind", path, e.errno());
                }
                name = "/proc/self/fd/" + dir + path.substring(slash);
            }
            byte[] b = name.getBytes(StandardCharsets.UTF_8);
            if (b.length > 107) throw new SyscallException("bind", path, 36 /* ENAMETOOLONG */);
            MemorySegment st = state(a);
            int fd = (int) call(st, Fn.SOCKET, AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
            if (fd < 0) throw new SyscallException("socket", path, errno(st));
            MemorySegment addr = a.allocate(110);
            addr.set(java.lang.foreign.ValueLayout.JAVA_SHORT, 0, (short) AF_UNIX);
            MemorySegment.copy(b, 0, addr, JAVA_BYTE, 2, b.length);
            if ((int) call(st, Fn.SYSCALL, SYS_BIND, fd, ptr(addr), 2 + b.length + 1) < 0) {
                int err = errno(st);
                close(fd);
                throw new SyscallException("bind", path, err);
            }
            return fd;
        } finally {
            close(dir);
        }
    }

    // ---- the resident server's socket (brig.server) ----

    /** Who is at the other end of a unix socket (SO_PEERCRED): as of its connect(2). */
    public record PeerCred(int pid, int uid, int gid) {}

    private static final int SO_PEERCRED = 17;

    public static PeerCred peerCred(int sock) throws SyscallException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = state(a), cred = a.allocate(12, 4), len = a.allocate(JAVA_INT);
            len.set(JAVA_INT, 0, 12);
            check(call(st, Fn.GETSOCKOPT, sock, SOL_SOCKET, SO_PEERCRED, ptr(cred), ptr(len)), st, "getsockopt SO_PEERCRED", null);
            return new PeerCred(cred.get(JAVA_INT, 0), cred.get(JAVA_INT, 4), cred.get(JAVA_INT, 8));
        }
    }

    /** accept4(2): the next connection, close-on-exec; retries EINTR. */
    public static int accept(int listening) throws SyscallException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = state(a);
            while (true) {
                int fd = (int) call(st, Fn.ACCEPT4, listening, 0, 0, SOCK_CLOEXEC);
                if (fd >= 0) return fd;
                if (errno(st) != Errno.EINTR) throw new SyscallException("accept4", null, errno(st));
            }
        }
    }

    public static final short POLLIN = 1, POLLHUP = 0x10;

    /**
     * poll(2) for input on {@code fds}: which of them are readable (or hung up); none when the
     * timeout (ms, -1 for none) passed or a signal came.
     */
    public static boolean[] pollIn(int[] fds, int timeoutMs) throws SyscallException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = state(a), p = a.allocate(8L * fds.length, 4);
            for (int k = 0; k < fds.length; k++) {
                p.set(JAVA_INT, 8L * k, fds[k]);
                p.set(java.lang.foreign.ValueLayout.JAVA_SHORT, 8L * k + 4, POLLIN);
            }
            boolean[] ready = new boolean[fds.length];
            int n = (int) call(st, Fn.POLL, ptr(p), fds.length, timeoutMs);
            if (n < 0 && errno(st) != Errno.EINTR) throw new SyscallException("poll", null, errno(st));
            for (int k = 0; n > 0 && k < fds.length; k++) ready[k] = p.get(java.lang.foreign.ValueLayout.JAVA_SHORT, 8L * k + 6) != 0;
            return ready;
        }
    }

    private static final long SYS_GETTID = 186, SYS_SETPRIORITY = 141;

    /**
     * setpriority(2) of the calling thread alone (Linux: a tid names one thread), e.g. 19 for
     * work that must yield to everything else in the process. Java's thread priorities do not
     * reach the kernel.
     */
    public static void niceThisThread(int nice) throws SyscallException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = state(a);
            long tid = call(st, Fn.SYSCALL, SYS_GETTID, 0, 0);
            if (call(st, Fn.SYSCALL, SYS_SETPRIORITY, 0 /* PRIO_PROCESS */, tid, nice) != 0) {
                throw new SyscallException("setpriority", "thread " + tid, errno(st));
            }
        }
    }

    public static final int RENAME_NOREPLACE = 1, RENAME_EXCHANGE = 2;

    /** renameat2(2) with RENAME_EXCHANGE: swaps {@code from} and {@code to} atomically (both must exist). */
    public static void renameExchange(String from, String to) throws SyscallException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = state(a);
            if ((int) call(st, Fn.RENAMEAT2, AT_FDCWD, ptr(a.allocateFrom(from)), AT_FDCWD, ptr(a.allocateFrom(to)), RENAME_EXCHANGE) != 0) {
                throw new SyscallException("renameat2", to, errno(st));
            }
        }
    }

    /**
     * renameat2(2) with RENAME_NOREPLACE: moves {@code from} to {@code to} unless {@code to}
     * exists, atomically (a plain rename replaces an empty directory). Returns false if it does.
     */
    public static boolean renameNoReplace(String from, String to) throws SyscallException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = state(a);
            if ((int) call(st, Fn.RENAMEAT2, AT_FDCWD, ptr(a.allocateFrom(from)), AT_FDCWD, ptr(a.allocateFrom(to)), RENAME_NOREPLACE) == 0) {
                return true;
            }
            if (errno(st) == Errno.EEXIST) return false;
            throw new SyscallException("renameat2", to, errno(st));
        }
    }

    // The new mount API's numbers are the same on every architecture (since Linux 5.2).
    private static final long SYS_FSOPEN = 430, SYS_FSCONFIG = 431;
    public static final int FSOPEN_CLOEXEC = 1, FSCONFIG_SET_STRING = 1;

    /** fsopen(2): a filesystem context for {@code fstype}, close-on-exec. */
    public static int fsopen(String fstype) throws SyscallException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = state(a);
            int fd = (int) call(st, Fn.SYSCALL, SYS_FSOPEN, ptr(a.allocateFrom(fstype)), FSOPEN_CLOEXEC);
            if (fd < 0) throw new SyscallException("fsopen", fstype, errno(st));
            return fd;
        }
    }

    /** fsconfig(2) FSCONFIG_SET_STRING: sets option {@code key} of a context from {@link #fsopen}. */
    public static void fsconfigString(int fs, String key, String value) throws SyscallException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = state(a);
            if ((int) call(st, Fn.SYSCALL, SYS_FSCONFIG, fs, FSCONFIG_SET_STRING, ptr(a.allocateFrom(key)), ptr(a.allocateFrom(value)), 0) < 0) {
                throw new SyscallException("fsconfig", key + "=" + value, errno(st));
            }
        }
    }
}
