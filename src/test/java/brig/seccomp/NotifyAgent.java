package brig.seccomp;

import brig.syscalls.Libc;
import brig.syscalls.SyscallException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

/**
 * A seccomp notify agent for tests, as an engine would run one: it listens on an AF_UNIX stream
 * socket (the profile's listenerPath), takes the container process state and the listener fd
 * (SCM_RIGHTS) from each connection, then answers the container's notified calls with what
 * {@code answer} says (null: it drops the listener at once), through the kernel's
 * SECCOMP_IOCTL_NOTIF_RECV and _SEND. Everything through raw system calls (brig's Libc.call
 * on syscall(2)); nothing mocked.
 */
final class NotifyAgent implements AutoCloseable {
    private static final long SYS_POLL = 7, SYS_IOCTL = 16, SYS_SOCKET = 41, SYS_BIND = 49, SYS_LISTEN = 50, SYS_ACCEPT4 = 288;
    private static final long NOTIF_RECV = 0xc0502100L, NOTIF_SEND = 0xc0182101L;
    private static final int POLLIN = 1, POLLHUP = 0x10, FLAG_CONTINUE = 1, SOCK_CLOEXEC = 0x80000;

    /** One notified call: who made it (host pid), its number and arguments, and for mkdir/mkdirat the path. */
    record Notification(int pid, int nr, long[] args, String path) {}

    /** The reply: {@code error} (an errno, 0 for none) or {@code value}, or let the call run. */
    record Answer(long value, int errno, boolean letRun) {
        static Answer refuse(int errno) { return new Answer(0, errno, false); }
        static Answer fake(long value) { return new Answer(value, 0, false); }
        static Answer proceed() { return new Answer(0, 0, true); }
    }

    private final int server;
    private final Function<Notification, Answer> answer;
    private final Thread thread;
    private volatile boolean stop;
    /** The container process state of the first connection, as received. */
    final CompletableFuture<String> state = new CompletableFuture<>();
    /** Every connection's state, in order (a container's first process, then each exec). */
    final List<String> states = new CopyOnWriteArrayList<>();
    /** Whether that message carried a descriptor. */
    volatile boolean gotFd;
    final List<Notification> seen = new CopyOnWriteArrayList<>();

    NotifyAgent(Path socket, Function<Notification, Answer> answer) throws SyscallException {
        this.answer = answer;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Libc.state(a);
            server = (int) Libc.call(st, Libc.Fn.SYSCALL, SYS_SOCKET, Libc.AF_UNIX, Libc.SOCK_STREAM | SOCK_CLOEXEC, 0);
            if (server < 0) throw new SyscallException("socket", null, Libc.errno(st));
            byte[] name = socket.toString().getBytes(StandardCharsets.UTF_8);
            MemorySegment addr = a.allocate(110);
            addr.set(ValueLayout.JAVA_SHORT, 0, (short) Libc.AF_UNIX);
            MemorySegment.copy(name, 0, addr, ValueLayout.JAVA_BYTE, 2, name.length);
            if (Libc.call(st, Libc.Fn.SYSCALL, SYS_BIND, server, addr.address(), 2 + name.length + 1) < 0) {
                throw new SyscallException("bind", socket.toString(), Libc.errno(st));
            }
            if (Libc.call(st, Libc.Fn.SYSCALL, SYS_LISTEN, server, 4) < 0) throw new SyscallException("listen", null, Libc.errno(st));
        }
        thread = new Thread(this::serve, "notify-agent");
        thread.setDaemon(true);
        thread.start();
    }

    /** Polls one fd for {@code events}, 100 ms at most; the revents, 0 on timeout. */
    private static int poll(int fd, int events) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Libc.state(a), p = a.allocate(8);
            p.set(ValueLayout.JAVA_INT, 0, fd);
            p.set(ValueLayout.JAVA_SHORT, 4, (short) events);
            long n = Libc.call(st, Libc.Fn.SYSCALL, SYS_POLL, p.address(), 1, 100);
            return n > 0 ? p.get(ValueLayout.JAVA_SHORT, 6) : 0;
        }
    }

    private void serve() {
        while (!stop) {
            if ((poll(server, POLLIN) & POLLIN) == 0) continue;
            int conn;
            try (Arena a = Arena.ofConfined()) {
                conn = (int) Libc.call(Libc.state(a), Libc.Fn.SYSCALL, SYS_ACCEPT4, server, 0, 0, SOCK_CLOEXEC);
            }
            if (conn < 0) continue;
            int listener = -1;
            StringBuilder text = new StringBuilder();
            try (Arena a = Arena.ofConfined()) {
                MemorySegment buf = a.allocate(65536);
                while (true) { // to end of stream: runtime-spec allows the state in several messages
                    Libc.Received r = Libc.recvmsg(conn, buf, buf.byteSize());
                    if (r.fd() >= 0) listener = r.fd();
                    if (r.count() == 0) break;
                    text.append(new String(buf.asSlice(0, r.count()).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8));
                }
            } catch (SyscallException e) {
                state.completeExceptionally(e);
            } finally {
                Libc.close(conn);
            }
            gotFd = listener >= 0;
            states.add(text.toString());
            state.complete(text.toString());
            if (listener >= 0) {
                int fd = listener;
                // Each listener on its own thread: a container's stays busy while an exec's comes.
                Thread.ofPlatform().daemon().start(() -> {
                    if (answer != null) answerCalls(fd); // null: an agent that goes away at once
                    Libc.close(fd);
                });
            }
        }
    }

    /** Until the filter has no process left (POLLHUP) or the agent is closed. */
    private void answerCalls(int listener) {
        while (!stop) {
            int ev = poll(listener, POLLIN);
            if ((ev & POLLIN) == 0) {
                if ((ev & POLLHUP) != 0) return;
                continue;
            }
            try (Arena a = Arena.ofConfined()) {
                MemorySegment st = Libc.state(a), req = a.allocate(80, 8), resp = a.allocate(24, 8);
                if (Libc.call(st, Libc.Fn.SYSCALL, SYS_IOCTL, listener, NOTIF_RECV, req.address()) < 0) continue; // gone meanwhile
                long id = req.get(ValueLayout.JAVA_LONG, 0);
                int pid = req.get(ValueLayout.JAVA_INT, 8), nr = req.get(ValueLayout.JAVA_INT, 16);
                long[] args = new long[6];
                for (int k = 0; k < 6; k++) args[k] = req.get(ValueLayout.JAVA_LONG, 32 + 8L * k);
                String path = nr == 83 ? string(pid, args[0]) : nr == 258 ? string(pid, args[1]) : null; // mkdir, mkdirat
                Notification n = new Notification(pid, nr, args, path);
                seen.add(n);
                Answer ans = answer.apply(n);
                resp.set(ValueLayout.JAVA_LONG, 0, id);
                resp.set(ValueLayout.JAVA_LONG, 8, ans.value());
                resp.set(ValueLayout.JAVA_INT, 16, -ans.errno());
                resp.set(ValueLayout.JAVA_INT, 20, ans.letRun() ? FLAG_CONTINUE : 0);
                Libc.call(st, Libc.Fn.SYSCALL, SYS_IOCTL, listener, NOTIF_SEND, resp.address());
            }
        }
    }

    /** A NUL-terminated string in the process's memory, as an agent reads a call's path. */
    private static String string(int pid, long address) {
        try (FileChannel mem = FileChannel.open(Path.of("/proc/" + pid + "/mem"), StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate(256);
            mem.read(b, address);
            byte[] bytes = new byte[b.position()];
            b.flip().get(bytes);
            int end = 0;
            while (end < bytes.length && bytes[end] != 0) end++;
            return new String(bytes, 0, end, StandardCharsets.UTF_8);
        } catch (IOException | RuntimeException e) {
            return "?" + e;
        }
    }

    @Override
    public void close() throws InterruptedException {
        stop = true;
        thread.join(5000);
        Libc.close(server);
    }
}
