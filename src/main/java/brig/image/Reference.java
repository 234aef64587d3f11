package brig.image;

import java.util.regex.Pattern;

/**
 * A registry image reference, normalized as docker does: "busybox" is
 * docker.io/library/busybox:latest; a first component with a dot, a colon or named localhost
 * is a registry host.
 */
public record Reference(String registry, String repository, String tag, Digest digest) {
    public static final String DOCKER_HUB = "docker.io";
    private static final Pattern COMPONENT = Pattern.compile("[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*");
    private static final Pattern TAG = Pattern.compile("[\\w][\\w.-]{0,127}");
    private static final Pattern HOST = Pattern.compile("(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?");

    public static Reference parse(String text) throws ImageException {
        String s = text.startsWith("docker://") ? text.substring(9) : text;
        if (s.startsWith("//")) s = s.substring(2);
        if (s.isEmpty()) throw new ImageException("invalid image reference \"" + text + "\": empty");
        Digest digest = null;
        int at = s.indexOf('@');
        if (at >= 0) {
            digest = Digest.parse(s.substring(at + 1), "image reference \"" + text + "\"");
            s = s.substring(0, at);
        }
        String tag = null;
        int slash = s.lastIndexOf('/'), colon = s.lastIndexOf(':');
        if (colon > slash) {
            tag = s.substring(colon + 1);
            s = s.substring(0, colon);
            if (!TAG.matcher(tag).matches()) throw new ImageException("invalid image reference \"" + text + "\": invalid tag \"" + tag + "\"");
        }
        String registry = DOCKER_HUB, path = s;
        int first = s.indexOf('/');
        if (first >= 0) {
            String head = s.substring(0, first);
            if (head.contains(".") || head.contains(":") || head.equals("localhost") || head.startsWith("[")) {
                if (!HOST.matcher(head).matches()) throw new ImageException("invalid image reference \"" + text + "\": invalid registry \"" + head + "\"");
                registry = head;
                path = s.substring(first + 1);
            }
        }
        if (registry.equals("index.docker.io") || registry.equals("registry-1.docker.io")) registry = DOCKER_HUB;
        if (registry.equals(DOCKER_HUB) && !path.contains("/")) path = "library/" + path;
        if (path.isEmpty()) throw new ImageException("invalid image reference \"" + text + "\": no repository");
        for (String c : path.split("/", -1)) {
            if (!COMPONENT.matcher(c).matches()) {
                if (!c.equals(c.toLowerCase(java.util.Locale.ROOT))) {
                    throw new ImageException("invalid image reference \"" + text + "\": repository name must be lowercase");
                }
                throw new ImageException("invalid image reference \"" + text + "\": invalid repository name \"" + path + "\"");
            }
        }
        if (tag == null && digest == null) tag = "latest";
        return new Reference(registry, path, tag, digest);
    }

    /** Whether {@code text} names a registry image rather than something in the store (by id). */
    public static boolean looksLikeId(String text) {
        return text.matches("(sha256:)?[a-f0-9]{3,64}");
    }

    /** The host to talk to: Docker Hub's API lives on another name than its images. */
    public String apiHost() {
        return registry.equals(DOCKER_HUB) ? "registry-1.docker.io" : registry;
    }

    /** The tag or digest to ask the registry for. */
    public String manifestRef() {
        return digest != null ? digest.toString() : tag;
    }

    public Reference withDigest(Digest d) {
        return new Reference(registry, repository, tag, d);
    }

    public String name() {
        return registry + "/" + repository;
    }

    /** The canonical text: registry/repository[:tag][@digest]. Also the image's name in the store. */
    @Override
    public String toString() {
        return name() + (tag != null ? ":" + tag : "") + (digest != null ? "@" + digest : "");
    }
}
