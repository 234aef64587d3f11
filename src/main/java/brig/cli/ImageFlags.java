package brig.cli;

import brig.image.ImageException;
import brig.image.Layout;
import brig.image.Platform;
import java.nio.file.Path;
import java.util.List;

/** Flags the image verbs share. */
final class ImageFlags {
    private ImageFlags() {}

    static final Args.Flag STORE = Args.Flag.value("image store, an OCI image layout (default " + Layout.DEFAULT_STORE + "; ~/.local/share/brig/images for other users than root)", "store");
    static final Args.Flag PLATFORM = Args.Flag.value("os/arch[/variant] to choose from a multi-platform image (default: this machine's)", "platform");
    static final Args.Flag TLS_VERIFY = Args.Flag.value("require HTTPS with a verified certificate (default true; false also allows plain HTTP)", "tls-verify");
    static final Args.Flag AUTHFILE = Args.Flag.value("credentials file (default: $REGISTRY_AUTH_FILE, containers' auth.json, ~/.docker/config.json)", "authfile");
    static final Args.Flag QUIET = Args.Flag.bool("no progress output", "quiet", "q");

    /** Prints the command's usage and flags when asked with --help or -h; true if it did. */
    static boolean help(List<String> argv, String usage, List<Args.Flag> flags) {
        for (String a : argv) {
            if (a.equals("--")) break;
            if (a.equals("--help") || a.equals("-help") || a.equals("-h")) {
                System.out.print("usage: brig " + usage + "\n\noptions:\n" + Args.help(flags));
                return true;
            }
        }
        return false;
    }

    static Path storeDir(Args a) {
        return Path.of(a.value("store", defaultStore().toString()));
    }

    /**
     * /var/lib/brig/images for root; for other users, as podman does, their own:
     * $XDG_DATA_HOME/brig/images or ~/.local/share/brig/images.
     */
    static Path defaultStore() {
        if (brig.syscalls.Libc.geteuid() == 0) return Layout.DEFAULT_STORE;
        String data = System.getenv("XDG_DATA_HOME");
        if (data != null && !data.isEmpty()) return Path.of(data, "brig/images");
        String home = System.getenv("HOME");
        if (home == null || home.isEmpty()) home = System.getProperty("user.home");
        return Path.of(home, ".local/share/brig/images");
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
