package brig.runtime;

import brig.helper.Step;
import brig.json.Fields;
import brig.json.Json;
import brig.json.JsonException;
import brig.spec.Spec;
import brig.spec.SpecReader;
import brig.syscalls.Libc;
import brig.syscalls.SyscallException;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * OCI hooks (runtime-spec 1.2, config.md "POSIX-platform Hooks" and runtime.md's lifecycle):
 * where each kind is planned and how the ones in the runtime's namespaces run. In order:
 * <ol>
 * <li>prestart, then createRuntime: on the host, while the container's process waits after its
 *     mounts, before pivot_root (a {@link Step.Pause} in the helper's plan, then
 *     {@link HostStep.RunHook}s); state "creating", the host's pid. A failure aborts the
 *     create and removes the container.</li>
 * <li>createContainer: run by the container's process ({@link Step.RunHook}) in its
 *     namespaces right after that, before pivot_root, in the rootfs; its path is still the
 *     host's. State "creating", the pid as the container sees it. A failure aborts the create.</li>
 * <li>startContainer: run by the container's process after `start` (right away for `run`),
 *     just before execve, with its identity; its path resolves in the container. State
 *     "created". A failure fails `start` (its report comes back through a fifo `start` reads,
 *     {@link #awaitExec}) and leaves the container stopped.</li>
 * <li>poststart: on the host once the program runs (after execve), before `start` or `run`
 *     goes on; state "running". A failure is a warning.</li>
 * <li>poststop: on the host when the container is deleted, after everything of it is gone;
 *     state "stopped". A failure is a warning. After `run` under the launcher, its supervisor
 *     runs the `brig delete --force --start TOKEN ID` it was given at the start, which runs them.</li>
 * </ol>
 * Every hook gets exactly its argv (args[0] is argv[0]; without args, the path) and its env
 * (nothing inherited), the state JSON on stdin (an in-memory file), and no other fd but 1 and 2;
 * it is killed with its process group at its timeout. A hook on the host writes its stdout and
 * stderr to the {@link Output} of the command that runs it (the CLI's invocation streams); a hook
 * the container's process runs writes to that process's.
 */
public final class Hooks {
    private Hooks() {}

    /**
     * Where the output of hooks run on the host goes. Each stream gets it once the hook has
     * ended (it is kept in an in-memory file meanwhile: a hook never blocks on a full pipe).
     */
    public record Output(java.io.OutputStream out, java.io.OutputStream err, Path cwd) {
        /** Hooks run in this process's working directory. */
        public Output(java.io.OutputStream out, java.io.OutputStream err) {
            this(out, err, null);
        }

        /** For a library user who wants none of it. */
        public static final Output DISCARD = new Output(java.io.OutputStream.nullOutputStream(), java.io.OutputStream.nullOutputStream());
    }

    /** The kinds of hook, in the order the lifecycle runs them. */
    public enum Kind {
        PRESTART("prestart", "creating", HostStep.Phase.AFTER_MOUNTS, true),
        CREATE_RUNTIME("createRuntime", "creating", HostStep.Phase.AFTER_MOUNTS, true),
        CREATE_CONTAINER("createContainer", "creating", null, true),
        START_CONTAINER("startContainer", "created", null, true),
        POSTSTART("poststart", "running", HostStep.Phase.AFTER_EXEC, false),
        POSTSTOP("poststop", "stopped", HostStep.Phase.AFTER_DELETE, false);

        /** The field in config.json's "hooks". */
        public final String field;
        /** The status in the state the hook gets. */
        public final String status;
        /** When a host hook runs; null for those the container's process runs. */
        public final HostStep.Phase phase;
        /** Whether a failure fails the operation (else it is a warning). */
        public final boolean fatal;

        Kind(String field, String status, HostStep.Phase phase, boolean fatal) {
            this.field = field;
            this.status = status;
            this.phase = phase;
            this.fatal = fatal;
        }

        public List<Spec.Hook> of(Spec.Hooks h) {
            return switch (this) {
                case PRESTART -> h.prestart();
                case CREATE_RUNTIME -> h.createRuntime();
                case CREATE_CONTAINER -> h.createContainer();
                case START_CONTAINER -> h.startContainer();
                case POSTSTART -> h.poststart();
                case POSTSTOP -> h.poststop();
            };
        }

        /** "hooks.createRuntime[0]". */
        public String label(int index) {
            return "hooks." + field + "[" + index + "]";
        }
    }

    /** A hook failed: the field names it ("hooks.createRuntime[0]"), the path is its program. */
    public static final class HookException extends BrigException {
        private static final long serialVersionUID = 1L;

        HookException(String label, String path, String how, int code, int timeout) {
            super(Step.RunHook.failure(label, path, how, code, timeout), label, path,
                    isSyscall(how) ? how : null, isSyscall(how) ? code : 0);
        }

        private static boolean isSyscall(String how) {
            return !how.equals("exit") && !how.equals("signal") && !how.equals("timeout");
        }
    }

    /** Where `start` reads the outcome of a start of a container made with hooks at start. */
    static Path reportFifo(Path execFifo) {
        return execFifo.resolveSibling("start-report.fifo");
    }

    /** Whether `start` waits for the program's execve: there are hooks at start. */
    static boolean startWaits(Spec.Hooks h) {
        return !h.startContainer().isEmpty() || !h.poststart().isEmpty();
    }

    /**
     * The host steps for hooks (for {@link Planner#host}); {@code execFifo} is null but for
     * create, which then also makes the report fifo if `start` will wait.
     */
    static List<HostStep> hostSteps(Spec.Hooks h, Path execFifo) {
        List<HostStep> out = new ArrayList<>();
        if (execFifo != null && startWaits(h)) out.add(new HostStep.MakeStartReport(reportFifo(execFifo)));
        for (Kind k : Kind.values()) {
            if (k.phase == null) continue;
            List<Spec.Hook> list = k.of(h);
            for (int i = 0; i < list.size(); i++) out.add(new HostStep.RunHook(k, i, list.get(i)));
        }
        return out;
    }

    /**
     * The helper's steps after the mounts, before pivot_root: the pause for the prestart and
     * createRuntime hooks, then the createContainer hooks.
     */
    static List<Step> beforePivot(Spec.Hooks h) {
        List<Step> out = new ArrayList<>();
        List<String> host = new ArrayList<>();
        for (Kind k : List.of(Kind.PRESTART, Kind.CREATE_RUNTIME)) {
            for (int i = 0; i < k.of(h).size(); i++) host.add(k.label(i));
        }
        if (!host.isEmpty()) {
            out.add(new Step.Pause());
            out.add(new Step.Await("runs " + String.join(", ", host)));
        }
        out.addAll(inContainer(Kind.CREATE_CONTAINER, h, 0, true));
        return out;
    }

    /** The helper's steps right before execve: the startContainer hooks. */
    static List<Step> beforeExec(Spec.Hooks h) {
        return inContainer(Kind.START_CONTAINER, h, 1, false);
    }

    private static List<Step> inContainer(Kind k, Spec.Hooks h, int state, boolean inRoot) {
        List<Step> out = new ArrayList<>();
        List<Spec.Hook> list = k.of(h);
        for (int i = 0; i < list.size(); i++) {
            Spec.Hook x = list.get(i);
            out.add(new Step.RunHook(k.label(i), x.path(), x.argv(), x.env(), x.timeout() == null ? 0 : x.timeout(), state, inRoot));
        }
        return out;
    }

    /**
     * The go-ahead's payload for the hooks the container's process runs: their two states
     * ("creating", "created"), NUL-terminated, with the pid as the container sees it; empty if
     * there are none.
     */
    static byte[] containerStates(ContainerState s, Spec.Hooks h) {
        if (h.createContainer().isEmpty() && h.startContainer().isEmpty()) return new byte[0];
        int pid = containerPid(s.pid());
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (String status : List.of("creating", "created")) {
            JsonObject o = s.withStatus(status).toPublicJson();
            o.addProperty("pid", pid);
            out.writeBytes(Json.compact(o).getBytes(StandardCharsets.UTF_8));
            out.write(0);
        }
        return out.toByteArray();
    }

    /** The pid as the process's own pid namespace sees it: the last of NSpid in /proc/PID/status. */
    static int containerPid(int hostPid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + hostPid + "/status"))) {
                if (!line.startsWith("NSpid:")) continue;
                String[] f = line.substring(6).trim().split("\\s+");
                return Integer.parseInt(f[f.length - 1]);
            }
        } catch (IOException | RuntimeException e) {
            // gone: the hooks will not run either
        }
        return hostPid;
    }

    /** The state JSON a hook of that kind gets. */
    static String stateFor(Kind k, ContainerState s) {
        return Json.compact(s.withStatus(k.status).toPublicJson());
    }

    /** Runs a host hook; its failure is a {@link HookException}. */
    static void run(HostStep.RunHook r, ContainerState s, Output o) throws HookException {
        run(r.label(), r.hook(), stateFor(r.kind(), s), o);
    }

    /** Runs the hooks of a kind whose failures are warnings, each of them whatever the others did. */
    static void runWarned(Kind k, ContainerState s, Consumer<String> warn, Output o) {
        List<Spec.Hook> list = k.of(s.hooks());
        for (int i = 0; i < list.size(); i++) {
            try {
                run(k.label(i), list.get(i), stateFor(k, s), o);
            } catch (HookException e) {
                warn.accept(e.getMessage());
            }
        }
    }

    /** Runs one hook on the host: see the class comment. */
    static void run(String label, Spec.Hook h, String state, Output o) throws HookException {
        int timeout = h.timeout() == null ? 0 : h.timeout();
        int in = -1, out = -1, err = -1, pid;
        try {
            in = Libc.memoryFile("brig-hook-state", state.getBytes(StandardCharsets.UTF_8));
            out = Libc.outputFile("brig-hook-stdout");
            err = Libc.outputFile("brig-hook-stderr");
            pid = Libc.spawnWithStdio(h.path(), h.argv(), h.env(), in, out, err, o.cwd() == null ? null : o.cwd().toString());
        } catch (SyscallException e) {
            Libc.close(out);
            Libc.close(err);
            throw new HookException(label, h.path(), e.syscall().equals("posix_spawn") ? "execve" : e.syscall(), e.errno(), timeout);
        } finally {
            Libc.close(in);
        }
        try {
            awaitHook(label, h, pid, timeout);
        } finally {
            copyOut(out, o.out());
            copyOut(err, o.err());
        }
    }

    /** Copies what a hook wrote to an in-memory file to {@code to}, and closes the file. */
    private static void copyOut(int fd, java.io.OutputStream to) {
        try {
            byte[] b = Files.readAllBytes(Path.of("/proc/self/fd/" + fd)); // a second open reads from 0
            if (b.length > 0) {
                to.write(b);
                to.flush();
            }
        } catch (IOException e) {
            // the caller's stream is gone: nothing to tell it
        } finally {
            Libc.close(fd);
        }
    }

    private static void awaitHook(String label, Spec.Hook h, int pid, int timeout) throws HookException {
        try {
            long deadline = timeout > 0 ? System.nanoTime() + timeout * 1_000_000_000L : Long.MAX_VALUE;
            long sleep = 1;
            int status;
            // Polled: hooks are rare and short; a pidfd would need poll(2), whose number differs by architecture.
            while ((status = Libc.waitpid(pid, Libc.WNOHANG)) == -1) {
                if (System.nanoTime() >= deadline) {
                    Libc.kill(-pid, Libc.SIGKILL);
                    Libc.waitpid(pid, 0);
                    throw new HookException(label, h.path(), "timeout", timeout, timeout);
                }
                try {
                    Thread.sleep(sleep);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                sleep = Math.min(sleep * 2, 20);
            }
            if ((status & 0x7f) != 0) throw new HookException(label, h.path(), "signal", status & 0x7f, timeout);
            if ((status >> 8 & 0xff) != 0) throw new HookException(label, h.path(), "exit", status >> 8 & 0xff, timeout);
        } catch (SyscallException e) {
            throw new HookException(label, h.path(), e.syscall(), e.errno(), timeout);
        }
    }

    /**
     * For `start`: opens the report fifo for reading before the start is let go (a report
     * written before would be lost with the last writer), or returns -1 if there is none.
     */
    static int openReport(Path execFifo) throws BrigException {
        Path fifo = reportFifo(execFifo);
        if (!Files.exists(fifo)) return -1;
        try {
            int fd = Libc.open(fifo.toString(), Libc.O_RDONLY | Libc.O_NONBLOCK, 0);
            Libc.fcntl(fd, 4 /* F_SETFL */, Libc.O_RDONLY); // blocking from now on
            return fd;
        } catch (SyscallException e) {
            throw new BrigException("cannot start container: " + fifo + ": " + e.getMessage(), e);
        }
    }

    /**
     * For `start`: reads the report fifo to its end, which comes when the process calls execve
     * (or dies): a startContainer hook's failure comes as the helper's error frame (u32 type,
     * u32 length, i32 step, i32 code, "how\0label\0"), and is thrown. Closes {@code fd}.
     */
    static void awaitExec(int fd, ContainerState s) throws BrigException {
        byte[] frame;
        try (Arena a = Arena.ofConfined()) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            MemorySegment buf = a.allocate(4096);
            int n;
            while ((n = Libc.read(fd, buf, 4096)) > 0) out.writeBytes(buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE));
            frame = out.toByteArray();
        } catch (SyscallException e) {
            throw new BrigException("cannot start container " + s.id() + ": reading the start's report: " + e.getMessage(), e);
        } finally {
            Libc.close(fd);
        }
        if (frame.length < 16) return; // end of file only: the program runs (or died on its own)
        ByteBuffer b = ByteBuffer.wrap(frame).order(ByteOrder.nativeOrder());
        b.getInt();
        int len = b.getInt();
        b.getInt();
        int code = b.getInt();
        String[] parts = new String(frame, 16, Math.min(len, frame.length - 8) - 8, StandardCharsets.UTF_8).split("\0", -1);
        String how = parts[0], label = parts.length > 1 ? parts[1] : "";
        Spec.Hook hook = find(s.hooks(), label);
        if (hook == null) { // not a hook's: the process failed after the start (its execve, say)
            throw new BrigException("cannot start container " + s.id() + ": " + how + " " + label + ": " + brig.syscalls.Errno.describe(code));
        }
        throw new HookException(label, hook.path(), how, code, hook.timeout() == null ? 0 : hook.timeout());
    }

    private static Spec.Hook find(Spec.Hooks h, String label) {
        for (Kind k : Kind.values()) {
            List<Spec.Hook> list = k.of(h);
            for (int i = 0; i < list.size(); i++) if (k.label(i).equals(label)) return list.get(i);
        }
        return null;
    }

    /** A helper's report of a failed {@link Step.RunHook}, typed as the hook's failure. */
    static HookException of(brig.helper.HelperException e, Step.RunHook r) {
        return new HookException(r.label(), r.path(), e.syscall(), e.errno(), r.timeout());
    }

    // ---- kept in the state: the container's hooks as config.json had them at create ----

    static JsonObject toJson(Spec.Hooks h) {
        JsonObject o = new JsonObject();
        for (Kind k : Kind.values()) {
            if (k.of(h).isEmpty()) continue;
            JsonArray a = new JsonArray();
            for (Spec.Hook x : k.of(h)) {
                JsonObject e = new JsonObject();
                e.addProperty("path", x.path());
                if (!x.args().isEmpty()) e.add("args", strings(x.args()));
                if (!x.env().isEmpty()) e.add("env", strings(x.env()));
                if (x.timeout() != null) e.addProperty("timeout", x.timeout());
                a.add(e);
            }
            o.add(k.field, a);
        }
        return o;
    }

    static Spec.Hooks fromJson(JsonObject o) {
        try {
            return SpecReader.hooks(new Fields(o, "hooks"));
        } catch (JsonException e) {
            return Spec.Hooks.NONE;
        }
    }

    private static JsonArray strings(List<String> list) {
        JsonArray a = new JsonArray();
        list.forEach(a::add);
        return a;
    }
}
