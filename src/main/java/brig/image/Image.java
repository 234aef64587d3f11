package brig.image;

/** A resolved image: its manifest (with the descriptor it was found by) and its config. */
public record Image(String name, Descriptor descriptor, Manifest manifest, ImageConfig config) {

    /** The image id, as docker shows it: the config's digest. */
    public Digest id() {
        return manifest.config().digest();
    }
}
