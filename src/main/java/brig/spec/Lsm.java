package brig.spec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Whether the host enforces AppArmor or SELinux. Where it does not, a profile or label in
 * config.json has nothing to apply to and is accepted, as runc does.
 */
final class Lsm {
    private Lsm() {}

    static boolean appArmorEnabled() {
        try {
            return Files.readString(Path.of("/sys/module/apparmor/parameters/enabled")).startsWith("Y");
        } catch (IOException e) {
            return false;
        }
    }

    static boolean seLinuxEnabled() {
        return Files.exists(Path.of("/sys/fs/selinux/enforce"));
    }
}
