package brig.cgroups;

import java.nio.file.Path;

/**
 * One write to a cgroup file: the unit linux.resources becomes. The drivers ({@link V1Resources},
 * {@link V2Resources}) give the file relative to the container's directory; {@link ResourcePlan}
 * places it in the hierarchy the controller lives in on this host.
 *
 * @param controller the kernel's name for the controller ("memory", "blkio", "io")
 * @param file relative from a driver, absolute once routed
 * @param value written with one write(2), as cgroup files need
 * @param why the config field it comes from (errors name it)
 */
public record CgroupWrite(String controller, Path file, String value, String why) {

    CgroupWrite(String controller, String file, String value, String why) {
        this(controller, Path.of(file), value, why);
    }

    CgroupWrite in(Path dir) {
        return new CgroupWrite(controller, dir.resolve(file), value, why);
    }

    /** For `--explain`. */
    public String explain() {
        return "write " + value + " to " + file + " (" + why + ")";
    }
}
