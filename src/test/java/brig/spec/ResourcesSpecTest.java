package brig.spec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import brig.json.Json;
import brig.json.JsonException;
import com.google.gson.JsonObject;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** linux.resources as read from config.json: runc's numbers, errors naming the field. */
class ResourcesSpecTest {

    private static Spec.Resources read(String resources) throws JsonException {
        JsonObject c = SpecDefaults.config(false, 0, 0);
        c.getAsJsonObject("linux").add("resources", Json.parseQuietly(resources));
        return SpecReader.parse(c).linux().resources();
    }

    private static String error(String resources) {
        return assertThrows(JsonException.class, () -> read(resources)).getMessage();
    }

    @Test
    void readsEveryKindOfLimit() throws Exception {
        Spec.Resources r = read("""
                {"memory":{"limit":104857600,"reservation":52428800,"swap":209715200,"swappiness":0,
                           "kernel":1,"disableOOMKiller":true},
                 "cpu":{"shares":128,"quota":50000,"period":100000,"burst":1000,"cpus":"0-1","mems":"0","idle":1,
                        "realtimeRuntime":-1,"realtimePeriod":1000000},
                 "pids":{"limit":10},
                 "blockIO":{"weight":500,"weightDevice":[{"major":8,"minor":0,"weight":300}],
                            "throttleReadBpsDevice":[{"major":8,"minor":0,"rate":1048576}]},
                 "hugepageLimits":[{"pageSize":"2MB","limit":4194304}],
                 "network":{"classID":1048577,"priorities":[{"name":"eth0","priority":5}]},
                 "rdma":{"mlx5_1":{"hcaHandles":3}},
                 "unified":{"memory.high":"50000000"}}""");
        assertEquals(new Spec.Memory(104857600L, 52428800L, 209715200L, 1L, null, 0L, true), r.memory());
        assertEquals(new Spec.Cpu(128L, 50000L, 1000L, 100000L, -1L, 1000000L, "0-1", "0", 1L), r.cpu());
        assertEquals(10L, r.pidsLimit());
        assertEquals(500, r.blockIO().weight());
        assertEquals(List.of(new Spec.WeightDevice(8, 0, 300, null)), r.blockIO().weightDevice());
        assertEquals(List.of(new Spec.ThrottleDevice(8, 0, 1048576)), r.blockIO().throttleReadBpsDevice());
        assertEquals(List.of(new Spec.HugepageLimit("2MB", 4194304)), r.hugepageLimits());
        assertEquals(new Spec.Network(1048577L, List.of(new Spec.InterfacePriority("eth0", 5))), r.network());
        assertEquals(Map.of("mlx5_1", new Spec.Rdma(3L, null)), r.rdma());
        assertEquals(Map.of("memory.high", "50000000"), r.unified());
    }

    @Test
    void runcsMeaningsOfSpecialNumbers() throws Exception {
        // -1 is unlimited; 0 leaves the kernel's value; swappiness -1 (either spelling) is unset
        Spec.Resources r = read("{\"memory\":{\"limit\":-1,\"swap\":-1,\"swappiness\":18446744073709551615},\"pids\":{\"limit\":-5}}");
        assertEquals(-1L, r.memory().limit());
        assertEquals(-1L, r.memory().swap());
        assertNull(r.memory().swappiness());
        assertEquals(-1L, r.pidsLimit(), "a negative pids limit is \"max\"");
        assertNull(read("{\"memory\":{\"swappiness\":-1}}").memory(), "nothing asked");
        assertNull(read("{\"pids\":{\"limit\":0}}").pidsLimit());
        assertNull(read("{\"cpu\":{\"shares\":0,\"quota\":0}}").cpu());
    }

    @Test
    void errorsNameTheField() {
        assertEquals("linux.resources.memory.swappiness: expected 0 to 100, got 101", error("{\"memory\":{\"swappiness\":101}}"));
        assertEquals("linux.resources.memory.limit: expected a number from -1 to 9223372036854775807, got -2",
                error("{\"memory\":{\"limit\":-2}}"));
        assertEquals("linux.resources.memory.swap: memory plus swap (1000) must not be below memory.limit (2000)",
                error("{\"memory\":{\"limit\":2000,\"swap\":1000}}"));
        assertEquals("linux.resources.memory.swap: a swap limit needs a memory.limit", error("{\"memory\":{\"swap\":1000}}"));
        assertEquals("linux.resources.cpu.shares: expected a number from 0 to 262144, got 300000", error("{\"cpu\":{\"shares\":300000}}"));
        assertEquals("linux.resources.cpu.cpus: expected a list such as \"0-3,5\", got \"0;1\"", error("{\"cpu\":{\"cpus\":\"0;1\"}}"));
        assertEquals("linux.resources.pids.limit: required but missing", error("{\"pids\":{}}"));
        assertEquals("linux.resources.blockIO.weight: expected a number from 10 to 1000, got 5", error("{\"blockIO\":{\"weight\":5}}"));
        assertEquals("linux.resources.blockIO.throttleReadBpsDevice[0].rate: required but missing",
                error("{\"blockIO\":{\"throttleReadBpsDevice\":[{\"major\":8,\"minor\":0}]}}"));
        assertEquals("linux.resources.hugepageLimits[0].pageSize: expected a page size such as \"2MB\" or \"1GB\", got \"../x\"",
                error("{\"hugepageLimits\":[{\"pageSize\":\"../x\",\"limit\":1}]}"));
        assertEquals("linux.resources.unified.../memory.max: not a cgroup file name (\"controller.file\")",
                error("{\"unified\":{\"../memory.max\":\"1\"}}"));
        assertEquals("linux.resources.unified.x/y.z: not a cgroup file name (\"controller.file\")",
                error("{\"unified\":{\"x/y.z\":\"1\"}}"));
    }
}
