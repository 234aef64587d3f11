package brig.cgroups;

/** A cgroup that could not be made, joined or removed; names the file. */
public class CgroupException extends brig.errors.BrigFailure {
    private static final long serialVersionUID = 1L;

    public CgroupException(String message) {
        super(message);
    }
}
