package brig.cli;

import brig.image.ImageException;
import brig.image.Layout;
import brig.image.Platform;
import java.nio.file.Path;

/** Flags the image verbs share. */
final class ImageFlags {
    private ImageFlags() {}

    static final Args.Flag STORE = Args.Flag.value("image store, an OCI image layout (default " + Layout.DEFAULT_STORE + "; ~/.local/share/brig/images for other users than root)", "store");
    static final Args.Flag PLATFORM = Args.Flag.value("os/arch[/variant] to choose from a multi-platform image (default: this machine's)", "platform");
    static final Args.Flag TLS_VERIFY = Args.Flag.value("require HTTPS with a verified certificate (default true; false also allows plain HTTP)", "tls-verify");
    static final Args.Flag AUTHFILE = Args.Flag.value("credentials file (default: $REGISTRY_AUTH_FILE, containers' auth.json, ~/.docker/config.json)", "authfile");
    static final Args.Flag QUIET = Args.Flag.bool("no progress output", "quiet", "q");

    static Path storeDir(Invocation inv, Args a) throws Args.UsageException {
        return a.has("store") ? inv.path(a.value("store", "")) : defaultStore(inv);
    }

    /**
     * /var/lib/brig/images for root; for other users, as podman does, their own:
     * $XDG_DATA_HOME/brig/images or ~/.local/share/brig/images.
     */
    static Path defaultStore(Invocation inv) throws Args.UsageException {
        if (inv.caller().uid() == 0) return Layout.DEFAULT_STORE;
        String data = inv.env("XDG_DATA_HOME");
        if (data != null && !data.isEmpty()) return inv.path(data).resolve("brig/images");
        String home = inv.env("HOME");
        if (home == null || home.isEmpty()) throw new Args.UsageException("HOME is not set: give --store DIR");
        return inv.path(home).resolve(".local/share/brig/images");
    }

    static Platform platform(Args a) throws ImageException {
        return a.has("platform") ? Platform.parse(a.value("platform", "")) : Platform.host();
    }

    static boolean tlsVerify(Args a) throws Args.UsageException {
        String v = a.value("tls-verify", "true");
        return switch (v) {
            case "true", "1", "t" -> true;
            case "false", "0", "f" -> false;
            default -> throw new Args.UsageException("invalid value \"" + v + "\" for flag -tls-verify: use true or false");
        };
    }
}
