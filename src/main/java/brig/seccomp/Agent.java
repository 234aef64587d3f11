package brig.seccomp;

import brig.json.Json;
import brig.syscalls.Libc;
import brig.syscalls.SyscallException;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.nio.charset.StandardCharsets;

/**
 * The notify agent's side of a profile with SCMP_ACT_NOTIFY rules (runtime-spec, "The
 * Container Process State"): once the helper has loaded the filter and passed its listener
 * back, Brig connects to linux.seccomp.listenerPath, an AF_UNIX stream socket, and sends one
 * message: the container process state as JSON with the listener as SCM_RIGHTS, named
 * "seccompFd" in its {@code fds}. One connection per state, closed right after, as the spec
 * asks; the agent then answers the container's notified calls on that fd.
 */
public final class Agent {
    private Agent() {}

    /** The name runtime-spec gives the listener in {@code fds}. */
    public static final String SECCOMP_FD = "seccompFd";

    /**
     * The container process state: {@code ociVersion}, {@code fds}, {@code pid} (as Brig sees
     * it, the host's), {@code metadata} (listenerMetadata, left out if not given) and
     * {@code state}, the container's runtime state as `state` prints it (status "creating").
     */
    public static String processState(String ociVersion, int pid, String metadata, JsonObject state) {
        JsonObject o = new JsonObject();
        o.addProperty("ociVersion", ociVersion);
        JsonArray fds = new JsonArray();
        fds.add(SECCOMP_FD);
        o.add("fds", fds);
        o.addProperty("pid", pid);
        if (metadata != null) o.addProperty("metadata", metadata);
        o.add("state", state);
        return Json.compact(o);
    }

    /**
     * Connects to {@code listenerPath}, sends {@code processState} with {@code listener}
     * attached, and closes the connection. The caller keeps (and closes) its listener fd.
     */
    public static void send(String listenerPath, String processState, int listener) throws SyscallException {
        int sock = Libc.connectUnix(listenerPath);
        try {
            // One sendmsg with the fd, as runc sends it (a blocking unix stream socket takes
            // the whole state, a few hundred bytes).
            Libc.sendFd(sock, processState.getBytes(StandardCharsets.UTF_8), listener);
        } catch (SyscallException e) {
            throw new SyscallException("sendmsg", listenerPath, e.errno());
        } finally {
            Libc.close(sock);
        }
    }
}
