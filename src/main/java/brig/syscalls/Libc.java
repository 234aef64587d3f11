package brig.syscalls;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

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
 * The C library calls Brig makes from Java, through the Foreign Function &amp; Memory API. Each
 * call is linked on first use (linking costs start-up time, and most commands need few calls)
 * and captures errno, which failures carry in a {@link SyscallException}.
 */
public final class Libc {
    private Libc() {}

    public static final int AF_UNIX = 1, SOCK_STREAM = 1, SOCK_CLOEXEC = 0x80000;
    public static final int F_GETFD = 1, F_SETFD = 2, FD_CLOEXEC = 1, F_ADD_SEALS = 1033;
    public static final int F_SEAL_SEAL = 1, F_SEAL_SHRINK = 2, F_SEAL_GROW = 4, F_SEAL_WRITE = 8;
    public static final int MFD_CLOEXEC = 1, MFD_ALLOW_SEALING = 2;
    public static final int O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_NONBLOCK = 0x800, O_CLOEXEC = 0x80000;
    public static final int WNOHANG = 1;
    public static final short POSIX_SPAWN_SETSIGDEF = 0x04, POSIX_SPAWN_SETSIGMASK = 0x08;
    public static final int SIGKILL = 9, SIGTERM = 15;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO =
            CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));

    /** The functions used, each linked when first called. */
    private enum Fn {
        STRERRORNAME_NP(ADDRESS, JAVA_INT),
        STRERRORDESC_NP(ADDRESS, JAVA_INT),
        SOCKETPAIR(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS),
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
        EXECVE(JAVA_INT, ADDRESS, ADDRESS, ADDRESS),
        MKFIFO(JAVA_INT, ADDRESS, JAVA_INT),
        POSIX_SPAWN(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS),
        POSIX_SPAWN_FILE_ACTIONS_INIT(JAVA_INT, ADDRESS),
        POSIX_SPAWN_FILE_ACTIONS_ADDDUP2(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT),
        POSIX_SPAWN_FILE_ACTIONS_DESTROY(JAVA_INT, ADDRESS),
        POSIX_SPAWNATTR_INIT(JAVA_INT, ADDRESS),
        POSIX_SPAWNATTR_SETFLAGS(JAVA_INT, ADDRESS, JAVA_SHORT),
        POSIX_SPAWNATTR_SETSIGMASK(JAVA_INT, ADDRESS, ADDRESS),
        POSIX_SPAWNATTR_SETSIGDEFAULT(JAVA_INT, ADDRESS, ADDRESS),
        POSIX_SPAWNATTR_DESTROY(JAVA_INT, ADDRESS),
        SIGEMPTYSET(JAVA_INT, ADDRESS),
        SIGFILLSET(JAVA_INT, ADDRESS),
        SIGDELSET(JAVA_INT, ADDRESS, JAVA_INT),
        PTHREAD_SIGMASK(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS),
        SYSCALL(JAVA_LONG, JAVA_LONG, JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG),
        GETEUID(JAVA_INT),
        GETEGID(JAVA_INT);

        private final FunctionDescriptor descriptor;
        private final List<Linker.Option> options;
        private MethodHandle handle;

        Fn(MemoryLayout result, MemoryLayout... args) {
            this.descriptor = FunctionDescriptor.of(result, args);
            // fcntl is variadic after its second argument, syscall after its first.
            this.options = switch (name()) {
                case "FCNTL" -> List.of(Linker.Option.captureCallState("errno"), Linker.Option.firstVariadicArg(2));
                case "SYSCALL" -> List.of(Linker.Option.captureCallState("errno"), Linker.Option.firstVariadicArg(1));
                default -> List.of(Linker.Option.captureCallState("errno"));
            };
        }

        MethodHandle h() {
            MethodHandle h = handle;
            if (h == null) {
                String symbol = name().toLowerCase(java.util.Locale.ROOT);
                MemorySegment address = LINKER.defaultLookup().find(symbol)
                        .orElseThrow(() -> new UnsatisfiedLinkError("no " + symbol + " in the C library"));
                handle = h = LINKER.downcallHandle(address, descriptor, options.toArray(Linker.Option[]::new));
            }
            return h;
        }
    }

    private static int errno(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new IllegalStateException(t);
    }

    private static String cString(MemorySegment p) {
        return p.equals(MemorySegment.NULL) ? null : p.reinterpret(4096).getString(0, StandardCharsets.UTF_8);
    }

    static String strerrorname(int errno) {
        try (Arena a = Arena.ofConfined()) {
            return cString((MemorySegment) Fn.STRERRORNAME_NP.h().invokeExact(a.allocate(CALL_STATE), errno));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static String strerrordesc(int errno) {
        try (Arena a = Arena.ofConfined()) {
            return cString((MemorySegment) Fn.STRERRORDESC_NP.h().invokeExact(a.allocate(CALL_STATE), errno));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** A connected pair of stream sockets, both close-on-exec. */
    public static int[] socketpair() throws SyscallException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CALL_STATE), sv = a.allocate(JAVA_INT, 2);
            int r = (int) Fn.SOCKETPAIR.h().invokeExact(st, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
            if (r < 0) throw new SyscallException("socketpair", null, errno(st));
            return new int[] {sv.getAtIndex(JAVA_INT, 0), sv.getAtIndex(JAVA_INT, 1)};
        } catch (SyscallException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void close(int fd) {
        if (fd < 0) return;
        try (Arena a = Arena.ofConfined()) {
            int r = (int) Fn.CLOSE.h().invokeExact(a.allocate(CALL_STATE), fd);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int open(String path, int flags, int mode) throws SyscallException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CALL_STATE);
            int fd = (int) Fn.OPEN.h().invokeExact(st, a.allocateFrom(path), flags | O_CLOEXEC, mode);
            if (fd < 0) throw new SyscallException("open", path, errno(st));
            return fd;
        } catch (SyscallException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Reads up to {@code len} bytes into {@code buf}; 0 at end of file. Retries EINTR. */
    public static int read(int fd, MemorySegment buf, long len) throws SyscallException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CALL_STATE);
            while (true) {
                long n = (long) Fn.READ.h().invokeExact(st, fd, buf, len);
                if (n >= 0) return (int) n;
                if (errno(st) != Errno.EINTR) throw new SyscallException("read", null, errno(st));
            }
        } catch (SyscallException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Writes all of {@code data}. */
    public static void writeFully(int fd, byte[] data) throws SyscallException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CALL_STATE);
            MemorySegment buf = a.allocate(Math.max(1, data.length));
            MemorySegment.copy(data, 0, buf, JAVA_BYTE_LAYOUT, 0, data.length);
            long off = 0;
            while (off < data.length) {
                long n = (long) Fn.WRITE.h().invokeExact(st, fd, buf.asSlice(off), (long) data.length - off);
                if (n < 0) {
                    if (errno(st) == Errno.EINTR) continue;
                    throw new SyscallException("write", null, errno(st));
                }
                off += n;
            }
        } catch (SyscallException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static final java.lang.foreign.ValueLayout.OfByte JAVA_BYTE_LAYOUT = java.lang.foreign.ValueLayout.JAVA_BYTE;

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
            MemorySegment st = a.allocate(CALL_STATE);
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
                n = (long) Fn.RECVMSG.h().invokeExact(st, sock, msg, MSG_CMSG_CLOEXEC);
                if (n >= 0) break;
                if (errno(st) != Errno.EINTR) throw new SyscallException("recvmsg", null, errno(st));
            }
            int fd = -1;
            if (msg.get(JAVA_LONG, MSG_CONTROLLEN) >= CMSG_LEN_INT
                    && ctl.get(JAVA_INT, 8) == SOL_SOCKET && ctl.get(JAVA_INT, 12) == SCM_RIGHTS) {
                fd = ctl.get(JAVA_INT, 16);
            }
            return new Received((int) n, fd);
        } catch (SyscallException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Sends {@code data} with one file descriptor attached (SCM_RIGHTS). */
    public static void sendFd(int sock, byte[] data, int fd) throws SyscallException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CALL_STATE);
            MemorySegment msg = a.allocate(MSG_SIZE, 8), iov = a.allocate(16, 8),
                    ctl = a.allocate(CMSG_SPACE_INT, 8), buf = a.allocate(Math.max(1, data.length));
            MemorySegment.copy(data, 0, buf, JAVA_BYTE_LAYOUT, 0, data.length);
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
                long n = (long) Fn.SENDMSG.h().invokeExact(st, sock, msg, MSG_NOSIGNAL);
                if (n >= 0) return;
                if (errno(st) != Errno.EINTR) throw new SyscallException("sendmsg", null, errno(st));
            }
        } catch (SyscallException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int fcntl(int fd, int cmd, int arg) throws SyscallException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CALL_STATE);
            int r = (int) Fn.FCNTL.h().invokeExact(st, fd, cmd, arg);
            if (r < 0) throw new SyscallException("fcntl", null, errno(st));
            return r;
        } catch (SyscallException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void setCloseOnExec(int fd, boolean on) throws SyscallException {
        int flags = fcntl(fd, F_GETFD, 0);
        fcntl(fd, F_SETFD, on ? flags | FD_CLOEXEC : flags & ~FD_CLOEXEC);
    }

    /**
     * A sealed in-memory copy of a file: nothing can write to it, so a program running from it
     * cannot be overwritten through /proc/PID/exe (CVE-2019-5736).
     */
    public static int sealedCopy(String name, String path) throws SyscallException {
        int in = open(path, O_RDONLY, 0);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CALL_STATE);
            int fd = (int) Fn.MEMFD_CREATE.h().invokeExact(st, a.allocateFrom(name), MFD_CLOEXEC | MFD_ALLOW_SEALING);
            if (fd < 0) throw new SyscallException("memfd_create", name, errno(st));
            while (true) {
                long n = (long) Fn.SENDFILE.h().invokeExact(st, fd, in, MemorySegment.NULL, 1L << 30);
                if (n == 0) break;
                if (n < 0) {
                    int e = errno(st);
                    close(fd);
                    throw new SyscallException("sendfile", path, e);
                }
            }
            fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE);
            return fd;
        } catch (SyscallException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        } finally {
            close(in);
        }
    }

    /** waitpid; returns the raw status, or -1 with WNOHANG when the child is still running. */
    public static int waitpid(int pid, int options) throws SyscallException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CALL_STATE), status = a.allocate(JAVA_INT);
            while (true) {
                int r = (int) Fn.WAITPID.h().invokeExact(st, pid, status, options);
                if (r == pid) return status.get(JAVA_INT, 0);
                if (r == 0) return -1;
                if (errno(st) != Errno.EINTR) throw new SyscallException("waitpid", String.valueOf(pid), errno(st));
            }
        } catch (SyscallException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Sends a signal; false if there is no such process. */
    public static boolean kill(int pid, int signal) throws SyscallException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CALL_STATE);
            int r = (int) Fn.KILL.h().invokeExact(st, pid, signal);
            if (r == 0) return true;
            if (errno(st) == Errno.ESRCH) return false;
            throw new SyscallException("kill", String.valueOf(pid), errno(st));
        } catch (SyscallException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void mkfifo(String path, int mode) throws SyscallException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CALL_STATE);
            int r = (int) Fn.MKFIFO.h().invokeExact(st, a.allocateFrom(path), mode);
            if (r < 0) throw new SyscallException("mkfifo", path, errno(st));
        } catch (SyscallException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static final long SYS_OPENAT2 = 437;
    public static final long RESOLVE_NO_MAGICLINKS = 0x02, RESOLVE_IN_ROOT = 0x10;

    /**
     * openat2(2): opens {@code path} relative to directory {@code dirfd} with the given
     * RESOLVE_* restrictions; the fd is close-on-exec.
     */
    public static int openat2(int dirfd, String path, int flags, long resolve) throws SyscallException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CALL_STATE), how = a.allocate(24, 8);
            how.set(JAVA_LONG, 0, (long) (flags | O_CLOEXEC));
            how.set(JAVA_LONG, 8, 0L);
            how.set(JAVA_LONG, 16, resolve);
            while (true) {
                long fd = (long) Fn.SYSCALL.h().invokeExact(st, SYS_OPENAT2, dirfd, a.allocateFrom(path), how, 24L);
                if (fd >= 0) return (int) fd;
                if (errno(st) != Errno.EAGAIN && errno(st) != Errno.EINTR) throw new SyscallException("openat2", path, errno(st));
            }
        } catch (SyscallException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int geteuid() {
        try (Arena a = Arena.ofConfined()) {
            return (int) Fn.GETEUID.h().invokeExact(a.allocate(CALL_STATE));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int getegid() {
        try (Arena a = Arena.ofConfined()) {
            return (int) Fn.GETEGID.h().invokeExact(a.allocate(CALL_STATE));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * Blocks, in the calling thread, every signal but the synchronous ones the JVM relies on
     * (SIGSEGV for safepoints and null checks, and the other faults). The mask survives
     * execve, so a program exec'd next starts with them blocked and pending, not lost.
     */
    public static void blockAsyncSignals() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CALL_STATE), set = a.allocate(256, 16);
            int r = (int) Fn.SIGFILLSET.h().invokeExact(st, set);
            for (int sig : new int[] {4 /* ILL */, 5 /* TRAP */, 7 /* BUS */, 8 /* FPE */, 11 /* SEGV */}) {
                r = (int) Fn.SIGDELSET.h().invokeExact(st, set, sig);
            }
            r = (int) Fn.PTHREAD_SIGMASK.h().invokeExact(st, 0 /* SIG_BLOCK */, set, MemorySegment.NULL);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static MemorySegment cStrings(Arena a, List<String> strings) {
        MemorySegment arr = a.allocate(ADDRESS, strings.size() + 1L);
        for (int k = 0; k < strings.size(); k++) arr.setAtIndex(ADDRESS, k, a.allocateFrom(strings.get(k)));
        arr.setAtIndex(ADDRESS, strings.size(), MemorySegment.NULL);
        return arr;
    }

    /**
     * Replaces this process (the JVM and all its threads) with another program. Only returns
     * by throwing.
     */
    public static void execve(String path, List<String> argv, List<String> env) throws SyscallException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CALL_STATE);
            int r = (int) Fn.EXECVE.h().invokeExact(st, a.allocateFrom(path), cStrings(a, argv), cStrings(a, env));
            throw new SyscallException("execve", path, errno(st));
        } catch (SyscallException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * posix_spawn with every signal reset to its default and none blocked, and {@code dup2s}
     * (pairs of from, to) applied in the child. Other descriptors are inherited unless
     * close-on-exec.
     */
    public static int spawn(String path, List<String> argv, List<String> env, int... dup2s) throws SyscallException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(CALL_STATE);
            MemorySegment actions = a.allocate(512, 16), attr = a.allocate(512, 16);
            MemorySegment all = a.allocate(256, 16), none = a.allocate(256, 16), pid = a.allocate(JAVA_INT);
            int r = (int) Fn.POSIX_SPAWN_FILE_ACTIONS_INIT.h().invokeExact(st, actions);
            r = (int) Fn.POSIX_SPAWNATTR_INIT.h().invokeExact(st, attr);
            try {
                for (int k = 0; k + 1 < dup2s.length; k += 2) {
                    r = (int) Fn.POSIX_SPAWN_FILE_ACTIONS_ADDDUP2.h().invokeExact(st, actions, dup2s[k], dup2s[k + 1]);
                    if (r != 0) throw new SyscallException("posix_spawn_file_actions_adddup2", null, r);
                }
                r = (int) Fn.SIGFILLSET.h().invokeExact(st, all);
                r = (int) Fn.SIGEMPTYSET.h().invokeExact(st, none);
                r = (int) Fn.POSIX_SPAWNATTR_SETSIGDEFAULT.h().invokeExact(st, attr, all);
                r = (int) Fn.POSIX_SPAWNATTR_SETSIGMASK.h().invokeExact(st, attr, none);
                r = (int) Fn.POSIX_SPAWNATTR_SETFLAGS.h().invokeExact(st, attr,
                        (short) (POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK));
                r = (int) Fn.POSIX_SPAWN.h().invokeExact(st, pid, a.allocateFrom(path), actions, attr,
                        cStrings(a, argv), cStrings(a, env));
                if (r != 0) throw new SyscallException("posix_spawn", path, r);
                return pid.get(JAVA_INT, 0);
            } finally {
                r = (int) Fn.POSIX_SPAWN_FILE_ACTIONS_DESTROY.h().invokeExact(st, actions);
                r = (int) Fn.POSIX_SPAWNATTR_DESTROY.h().invokeExact(st, attr);
            }
        } catch (SyscallException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }
}
