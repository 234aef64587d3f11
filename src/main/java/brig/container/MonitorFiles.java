package brig.container;

import brig.json.Json;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * What a detached container's monitor (brig-helper monitor) keeps in the container's bundle:
 * {@code log}, the container's stdout and stderr (or its terminal's output) in the order
 * written, and {@code exit}, written once the container has exited, before the clean-up:
 * {@code {"status":N,"oomKilled":BOOL,"finishedAt":"...Z"[,"message":"..."]}}. Both go with
 * the bundle (`container rm`, or --rm).
 */
public final class MonitorFiles {
    private MonitorFiles() {}

    public static Path log(Path bundle) {
        return bundle.resolve("log");
    }

    public static Path exit(Path bundle) {
        return bundle.resolve("exit");
    }

    /**
     * The container's last exit as its monitor saw it.
     *
     * @param status the container's status, 128+N when killed by signal N
     * @param oomKilled the cgroup's oom_kill count grew while it ran (a kill -9 gives 137 without it)
     * @param finishedAt when the monitor reaped it, RFC 3339 UTC
     * @param message the OOM report, or null
     */
    public record Exit(int status, boolean oomKilled, String finishedAt, String message) {}

    /** The exit file, or null when there is none (running, created, or never run detached). */
    public static Exit readExit(Path bundle) throws ContainerException {
        Path file = exit(bundle);
        try {
            JsonObject o = Json.parseObjectFile(file);
            return new Exit(o.get("status").getAsInt(), o.get("oomKilled").getAsBoolean(), o.get("finishedAt").getAsString(),
                    o.has("message") ? o.get("message").getAsString() : null);
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException | RuntimeException | brig.json.JsonException e) {
            throw new ContainerException(file + ": not an exit file of brig's monitor: " + e.getMessage());
        }
    }
}
