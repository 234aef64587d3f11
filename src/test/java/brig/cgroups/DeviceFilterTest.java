package brig.cgroups;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.spec.Spec;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The cgroup v2 device program, run here by a small interpreter of the instructions it uses. */
class DeviceFilterTest {

    /** Runs the program for one request; true when it allows. */
    static boolean run(byte[] prog, char type, int major, int minor, String access) {
        long[] r = new long[11];
        int accessType = (type == 'b' ? 1 : 2) | DeviceFilter.access(access) << 16;
        ByteBuffer b = ByteBuffer.wrap(prog).order(ByteOrder.LITTLE_ENDIAN);
        int pc = 0;
        for (int steps = 0; steps < 10000; steps++) {
            int op = b.get(pc * 8) & 0xff, regs = b.get(pc * 8 + 1) & 0xff, dst = regs & 15, src = regs >> 4;
            int off = b.getShort(pc * 8 + 2), imm = b.getInt(pc * 8 + 4);
            pc++;
            switch (op) {
                case 0x61 -> r[dst] = switch (off) { case 0 -> accessType; case 4 -> major; case 8 -> minor; default -> throw new AssertionError(off); };
                case 0x54 -> r[dst] = (r[dst] & imm) & 0xffffffffL;
                case 0x74 -> r[dst] = (r[dst] & 0xffffffffL) >>> imm;
                case 0xb4 -> r[dst] = imm & 0xffffffffL;
                case 0xbf -> r[dst] = r[src];
                case 0x15 -> { if (r[dst] == imm) pc += off; }
                case 0x55 -> { if (r[dst] != imm) pc += off; }
                case 0x45 -> { if ((r[dst] & imm) != 0) pc += off; }
                case 0x95 -> { return r[0] == 1; }
                default -> throw new AssertionError("unknown op " + op);
            }
        }
        throw new AssertionError("no exit");
    }

    static final List<Spec.DeviceRule> RUNC_DEFAULT = DeviceRules.effective(
            List.of(new Spec.DeviceRule(false, 'a', -1, -1, "rwm")),
            List.of(new Spec.Device("/dev/fuse", 'c', 10, 229, null, null, null)));

    @Test
    void runcsDefaultDeniesDisksAndAllowsTheUsualDevices() {
        byte[] p = DeviceFilter.compile(DeviceFilter.reduce(RUNC_DEFAULT));
        assertFalse(run(p, 'b', 8, 0, "r"), "host disk");
        assertFalse(run(p, 'b', 254, 0, "rw"), "virtio disk");
        assertTrue(run(p, 'b', 8, 0, "m"), "mknod alone is allowed, as runc does");
        assertTrue(run(p, 'c', 1, 3, "rw"), "null");
        assertTrue(run(p, 'c', 136, 7, "rw"), "pts");
        assertTrue(run(p, 'c', 5, 2, "rw"), "ptmx");
        assertTrue(run(p, 'c', 10, 229, "rw"), "a configured device");
        assertFalse(run(p, 'c', 10, 200, "r"), "tun is not in the list");
        assertFalse(run(p, 'c', 1, 1, "r"), "/dev/mem");
    }

    @Test
    void partialAccessIsChecked() {
        byte[] p = DeviceFilter.compile(DeviceFilter.reduce(List.of(new Spec.DeviceRule(false, 'a', -1, -1, "rwm"),
                new Spec.DeviceRule(true, 'c', 1, 3, "r"))));
        assertTrue(run(p, 'c', 1, 3, "r"));
        assertFalse(run(p, 'c', 1, 3, "w"));
        assertFalse(run(p, 'c', 1, 3, "rw"));
    }

    @Test
    void allowAllWithADenyException() {
        DeviceFilter.Rules rules = DeviceFilter.reduce(List.of(new Spec.DeviceRule(true, 'a', -1, -1, "rwm"),
                new Spec.DeviceRule(false, 'b', 8, -1, "w")));
        assertTrue(rules.allowByDefault());
        byte[] p = DeviceFilter.compile(rules);
        assertTrue(run(p, 'b', 8, 0, "r"));
        assertFalse(run(p, 'b', 8, 3, "w"));
        assertFalse(run(p, 'b', 8, 3, "rw"));
        assertTrue(run(p, 'c', 8, 3, "w"));
    }

    @Test
    void laterDenyTakesBackAnEarlierAllow() {
        DeviceFilter.Rules rules = DeviceFilter.reduce(List.of(new Spec.DeviceRule(false, 'a', -1, -1, "rwm"),
                new Spec.DeviceRule(true, 'c', 1, 3, "rwm"), new Spec.DeviceRule(false, 'c', 1, 3, "rwm")));
        assertEquals(List.of(), rules.exceptions());
        assertFalse(run(DeviceFilter.compile(rules), 'c', 1, 3, "r"));
    }

    static Spec.DeviceRule allow(char type, long major, long minor, String access) {
        return new Spec.DeviceRule(true, type, major, minor, access);
    }

    static Spec.DeviceRule deny(char type, long major, long minor, String access) {
        return new Spec.DeviceRule(false, type, major, minor, access);
    }

    @Test
    void noRulesAtAllDenyEveryDevice() {
        DeviceFilter.Rules rules = DeviceFilter.reduce(List.of());
        assertEquals(new DeviceFilter.Rules(false, List.of()), rules);
        byte[] p = DeviceFilter.compile(rules);
        assertFalse(run(p, 'b', 8, 0, "r"));
        assertFalse(run(p, 'c', 1, 1, "m"));
    }

    @Test
    void aConfigWithoutDeviceRulesStillGetsOnlyTheDefaultList() {
        byte[] p = DeviceFilter.compile(DeviceFilter.reduce(DeviceRules.effective(List.of(), List.of())));
        assertFalse(run(p, 'c', 7, 0, "r"), "vcs");
        assertFalse(run(p, 'b', 8, 0, "r"), "host disk");
        assertTrue(run(p, 'c', 1, 3, "rw"), "null");
    }

    @Test
    void anARuleResetsWhateverItsAccessAndNumbers() {
        // As the v1 kernel does: "a *:* r" in devices.deny denies everything, "a 1:3 r" in
        // devices.allow allows everything.
        assertEquals(new DeviceFilter.Rules(false, List.of()),
                DeviceFilter.reduce(List.of(allow('a', -1, -1, "rwm"), allow('c', 1, 3, "rwm"), deny('a', -1, -1, "r"))));
        assertEquals(new DeviceFilter.Rules(true, List.of()),
                DeviceFilter.reduce(List.of(allow('c', 1, 3, "rwm"), allow('a', 1, 3, "r"))));
    }

    @Test
    void aDenyTakesItsBitsFromAnAllowOfExactlyTheSameDevice() {
        DeviceFilter.Rules rules = DeviceFilter.reduce(List.of(allow('b', 8, 0, "rwm"), deny('b', 8, 0, "w")));
        assertEquals(List.of(allow('b', 8, 0, "rm")), rules.exceptions());
        byte[] p = DeviceFilter.compile(rules);
        assertFalse(run(p, 'b', 8, 0, "w"));
        assertFalse(run(p, 'b', 8, 0, "rw"));
        assertTrue(run(p, 'b', 8, 0, "r"));
    }

    @Test
    void aWiderDenyLeavesANarrowerAllowAsV1Does() {
        DeviceFilter.Rules rules = DeviceFilter.reduce(List.of(allow('c', 1, 3, "rwm"), deny('c', -1, -1, "rwm"),
                allow('c', 1, 5, "r"), allow('c', 1, 5, "w")));
        assertEquals(List.of(allow('c', 1, 3, "rwm"), allow('c', 1, 5, "rw")), rules.exceptions());
    }

    static final Path CG = Path.of("/sys/fs/cgroup/devices/x");

    @Test
    void v1StartsANewCgroupFromDenyAll() throws Exception {
        List<DeviceRules.Write> w = DeviceRules.v1Writes(CG, List.of("a *:* rwm"), List.of(allow('c', 1, 3, "rwm")), false);
        assertEquals(List.of(new DeviceRules.Write("devices.deny", "a"), new DeviceRules.Write("devices.allow", "c 1:3 rwm")), w);
    }

    @Test
    void v1ChangesALiveCgroupWithoutOpeningIt() throws Exception {
        List<DeviceRules.Write> w = DeviceRules.v1Writes(CG, List.of("c 1:3 rwm", "c 1:5 rw"),
                List.of(deny('a', -1, -1, "rwm"), allow('c', 1, 3, "r"), allow('c', 1, 9, "rwm")), true);
        assertEquals(List.of(new DeviceRules.Write("devices.deny", "c 1:3 wm"), new DeviceRules.Write("devices.deny", "c 1:5 rw"),
                new DeviceRules.Write("devices.allow", "c 1:9 rwm")), w);
        assertTrue(assertThrowsCgroup(() -> DeviceRules.v1Writes(CG, List.of("c 1:3 rwm"), List.of(allow('a', -1, -1, "rwm")), true)));
    }

    interface Call { void run() throws Exception; }

    static boolean assertThrowsCgroup(Call c) {
        try {
            c.run();
            return false;
        } catch (CgroupException e) {
            return e.getMessage().contains("without opening every device");
        } catch (Exception e) {
            return false;
        }
    }
}
