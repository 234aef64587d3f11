package brig.image;

/** The media types of OCI and Docker image documents and blobs. */
public final class MediaType {
    private MediaType() {}

    public static final String OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
    public static final String OCI_INDEX = "application/vnd.oci.image.index.v1+json";
    public static final String OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
    public static final String OCI_LAYER = "application/vnd.oci.image.layer.v1.tar";
    public static final String OCI_LAYER_GZIP = OCI_LAYER + "+gzip";
    public static final String OCI_LAYER_ZSTD = OCI_LAYER + "+zstd";
    public static final String DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
    public static final String DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
    public static final String DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json";
    public static final String DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip";
    public static final String DOCKER_SCHEMA1 = "application/vnd.docker.distribution.manifest.v1+prettyjws";
    public static final String DOCKER_SCHEMA1_PLAIN = "application/vnd.docker.distribution.manifest.v1+json";

    public static boolean isIndex(String t) {
        return OCI_INDEX.equals(t) || DOCKER_LIST.equals(t);
    }

    public static boolean isManifest(String t) {
        return OCI_MANIFEST.equals(t) || DOCKER_MANIFEST.equals(t);
    }

    /** Layer types Brig can unpack (tar, gzip or zstd; OCI's and Docker's names). */
    public static boolean isLayer(String t) {
        return t.startsWith("application/vnd.oci.image.layer.") || t.startsWith("application/vnd.docker.image.rootfs.");
    }

    /** The OCI name of a layer type, for manifests converted from Docker's format. */
    public static String ociLayer(String t) {
        return switch (t) {
            case DOCKER_LAYER_GZIP -> OCI_LAYER_GZIP;
            case "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip" -> "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
            default -> t;
        };
    }
}
