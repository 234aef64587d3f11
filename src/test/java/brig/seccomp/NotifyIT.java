package brig.seccomp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.json.Json;
import brig.testing.Brig;
import brig.testing.Lifecycle;
import brig.testing.NoLeaks;
import brig.testing.TestBundle;
import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * SCMP_ACT_NOTIFY: the filter's listener goes to the agent at linux.seccomp.listenerPath with
 * the container process state (runtime-spec), and what the agent answers is what the
 * container's call returns. The agent is {@link NotifyAgent}, in this JVM, on the real
 * kernel's notify interface.
 */
@ExtendWith(NoLeaks.class)
class NotifyIT {
    static final int EPERM = 1, MKDIR = 83, MKDIRAT = 258, SETRESUID = 117;

    @TempDir Path dir;
    private NotifyAgent agent;

    @AfterEach
    void stopAgent() throws InterruptedException {
        if (agent != null) agent.close();
    }

    private Path socket() { return dir.resolve("agent.sock"); }

    private static boolean isMkdir(NotifyAgent.Notification n) { return n.nr() == MKDIR || n.nr() == MKDIRAT; }

    /** Default ALLOW; mkdir and mkdirat (and {@code more}) notify the agent at {@code listenerPath}. */
    static String notify(String listenerPath, String metadata, String... more) {
        StringBuilder names = new StringBuilder("\"mkdir\",\"mkdirat\"");
        for (String m : more) names.append(",\"").append(m).append('"');
        return "{\"defaultAction\":\"SCMP_ACT_ALLOW\"" + (listenerPath == null ? "" : ",\"listenerPath\":\"" + listenerPath + "\"")
                + (metadata == null ? "" : ",\"listenerMetadata\":\"" + metadata + "\"")
                + ",\"syscalls\":[{\"names\":[" + names + "],\"action\":\"SCMP_ACT_NOTIFY\"}]}";
    }

    private TestBundle bundle(String name, String profile) throws Exception {
        TestBundle b = TestBundle.busybox(Files.createDirectories(dir.resolve(name)));
        b.set("root.readonly", "false");
        b.set("linux.seccomp", profile);
        return b;
    }

    @Test
    void theAgentGetsTheListenerAndTheStateAndItsEpermIsWhatMkdirGets() throws Exception {
        agent = new NotifyAgent(socket(), n -> isMkdir(n) ? NotifyAgent.Answer.refuse(EPERM) : NotifyAgent.Answer.proceed());
        TestBundle b = bundle("b", notify(socket().toString(), "MKDIR=deny"));
        b.config().add("annotations", Json.parse("{\"org.example\":\"yes\"}"));
        // mkdir itself as the container's process: the notification comes from the pid the state names.
        Brig.Result r = b.args("/bin/mkdir", "/tmp/x").run();
        assertEquals(1, r.exit(), r.err());
        assertEquals("mkdir: can't create directory '/tmp/x': Operation not permitted\n", r.err());
        assertFalse(Files.exists(b.rootfs().resolve("tmp/x")));

        // The container process state, as runtime-spec shapes it, the fd as SCM_RIGHTS.
        assertTrue(agent.gotFd, "no descriptor with the state");
        JsonObject s = Json.parse(agent.state.get(5, TimeUnit.SECONDS)).getAsJsonObject();
        assertEquals("[\"seccompFd\"]", s.get("fds").toString(), s.toString());
        assertEquals("MKDIR=deny", s.get("metadata").getAsString());
        assertEquals(s.get("ociVersion").getAsString(), s.getAsJsonObject("state").get("ociVersion").getAsString());
        JsonObject state = s.getAsJsonObject("state");
        assertEquals(b.id(), state.get("id").getAsString());
        assertEquals("creating", state.get("status").getAsString());
        assertEquals(b.dir().toString(), state.get("bundle").getAsString());
        assertEquals("{\"org.example\":\"yes\"}", state.get("annotations").toString());
        assertEquals(s.get("pid").getAsInt(), state.get("pid").getAsInt());
        // The notification came from that very process (the host's pid), for that path.
        NotifyAgent.Notification n = agent.seen.stream().filter(NotifyIT::isMkdir).findFirst().orElseThrow();
        assertEquals(s.get("pid").getAsInt(), n.pid(), agent.seen.toString());
        assertEquals("/tmp/x", n.path());
    }

    @Test
    void aFakeSuccessFromTheAgentIsWhatMkdirGets() throws Exception {
        agent = new NotifyAgent(socket(), n -> isMkdir(n) ? NotifyAgent.Answer.fake(0) : NotifyAgent.Answer.proceed());
        // With the flags a profile may name: TSYNC (dropped: EINVAL with a listener, and the
        // helper has one thread) and WAIT_KILLABLE_RECV (kept), which the kernel takes.
        String profile = notify(socket().toString(), null).replace("{\"defaultAction\"",
                "{\"flags\":[\"SECCOMP_FILTER_FLAG_TSYNC\",\"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV\"],\"defaultAction\"");
        Brig.Result r = bundle("b", profile)
                .sh("mkdir /tmp/x; echo mkdir=$?; test -d /tmp/x && echo made || echo not made; echo hi > /tmp/f && cat /tmp/f")
                .run().expect(0);
        assertEquals("mkdir=0\nnot made\nhi\n", r.out(), r.err());
        assertFalse(Json.parse(agent.state.get(5, TimeUnit.SECONDS)).getAsJsonObject().has("metadata"));
    }

    @Test
    void anAgentThatDropsTheListenerLeavesNotifiedCallsFailingWithEnosys() throws Exception {
        // The kernel's answer once nobody holds the listener: the container is not stuck.
        agent = new NotifyAgent(socket(), null);
        Brig.Result r = bundle("b", notify(socket().toString(), null)).sh("mkdir /tmp/x; echo mkdir=$?").run().expect(0);
        assertEquals("mkdir=1\n", r.out(), r.err());
        assertTrue(r.err().contains("mkdir: can't create directory '/tmp/x': Function not implemented"), r.err());
    }

    @Test
    void withoutNoNewPrivilegesTheSetupCallsAfterTheFilterGoToTheAgentToo() throws Exception {
        // The filter goes in while still root (no no_new_privs): setresuid, the helper's own
        // step, is notified, and the agent, which has the listener by then, lets it run.
        agent = new NotifyAgent(socket(), n -> isMkdir(n) ? NotifyAgent.Answer.refuse(EPERM) : NotifyAgent.Answer.proceed());
        TestBundle b = bundle("b", notify(socket().toString(), null, "setresuid"));
        b.process().addProperty("noNewPrivileges", false);
        b.set("process.user", "{\"uid\":1000,\"gid\":1000}");
        Brig.Result r = b.sh("id -u; mkdir /tmp/x; echo mkdir=$?").run().expect(0);
        assertEquals("1000\nmkdir=1\n", r.out(), r.err());
        List<Integer> calls = agent.seen.stream().map(NotifyAgent.Notification::nr).toList();
        assertEquals(SETRESUID, calls.get(0), calls.toString());
        assertTrue(calls.contains(MKDIR) || calls.contains(MKDIRAT), calls.toString());
    }

    @Test
    void aSetupCallTheAgentRefusesFailsTheContainerAndLeavesNothing() throws Exception {
        agent = new NotifyAgent(socket(), n -> n.nr() == SETRESUID ? NotifyAgent.Answer.refuse(EPERM) : NotifyAgent.Answer.proceed());
        TestBundle b = bundle("b", notify(socket().toString(), null, "setresuid"));
        b.process().addProperty("noNewPrivileges", false);
        b.set("process.user", "{\"uid\":1000,\"gid\":1000}");
        Brig.Result r = b.sh("echo ran").run();
        assertEquals(1, r.exit(), r.out() + r.err());
        assertEquals("", r.out());
        assertEquals("brig: become user 1000 (setresuid): setresuid: EPERM: operation not permitted\n", r.err());
        assertFalse(Files.exists(b.stateRoot().resolve(b.id())), "state left behind");
    }

    @Test
    void createHandsTheListenerOverBeforeItReturns() throws Exception {
        agent = new NotifyAgent(socket(), n -> isMkdir(n) ? NotifyAgent.Answer.refuse(28) : NotifyAgent.Answer.proceed());
        TestBundle b = bundle("b", notify(socket().toString(), null)).sh("mkdir /tmp/x 2>/result; echo done >> /result");
        b.write();
        Lifecycle l = new Lifecycle(b.stateRoot(), Files.createDirectories(dir.resolve("scratch")));
        l.brig(b.dir(), "create", "--bundle", b.dir().toString(), b.id()).expect(0);
        try {
            assertTrue(agent.state.isDone(), "create returned before the agent had the listener");
            JsonObject s = Json.parse(agent.state.get()).getAsJsonObject();
            JsonObject created = Json.parse(l.brig(null, "state", b.id()).expect(0).out()).getAsJsonObject();
            assertEquals(created.get("pid").getAsInt(), s.get("pid").getAsInt());
            assertTrue(agent.seen.isEmpty(), agent.seen.toString());
            l.brig(b.dir(), "start", b.id()).expect(0);
            l.awaitStatus(b.id(), "stopped");
            assertEquals("mkdir: can't create directory '/tmp/x': No space left on device\ndone\n",
                    Files.readString(b.rootfs().resolve("result")));
        } finally {
            l.brig(b.dir(), "delete", "--force", b.id());
        }
    }

    @Test
    void execHandsItsOwnListenerToTheAgentWithTheRunningState() throws Exception {
        agent = new NotifyAgent(socket(), n -> isMkdir(n) ? NotifyAgent.Answer.refuse(EPERM) : NotifyAgent.Answer.proceed());
        TestBundle b = bundle("b", notify(socket().toString(), "M")).args("sleep", "1000");
        b.write();
        Lifecycle l = new Lifecycle(b.stateRoot(), Files.createDirectories(dir.resolve("scratch")));
        l.brig(b.dir(), "create", "--bundle", b.dir().toString(), b.id()).expect(0);
        try {
            l.brig(b.dir(), "start", b.id()).expect(0);
            Brig.Result r = l.brig(b.dir(), "exec", b.id(), "mkdir", "/tmp/y");
            assertEquals(1, r.exit(), r.out() + r.err());
            assertEquals("mkdir: can't create directory '/tmp/y': Operation not permitted\n", r.err());
            assertEquals(2, agent.states.size(), agent.states.toString());
            JsonObject init = Json.parse(agent.states.get(0)).getAsJsonObject(), exec = Json.parse(agent.states.get(1)).getAsJsonObject();
            assertEquals("running", exec.getAsJsonObject("state").get("status").getAsString(), exec.toString());
            assertEquals("M", exec.get("metadata").getAsString());
            // The state is the container's (its first process); the pid is the exec'd process's, the one notified.
            assertEquals(init.get("pid").getAsInt(), exec.getAsJsonObject("state").get("pid").getAsInt());
            assertTrue(agent.seen.stream().anyMatch(n -> isMkdir(n) && n.pid() == exec.get("pid").getAsInt()), agent.seen.toString());
        } finally {
            l.brig(b.dir(), "delete", "--force", b.id());
        }
    }

    @Test
    void anUnreachableAgentFailsTheStartCleanly() throws Exception {
        Path nobody = dir.resolve("nobody.sock");
        TestBundle b = bundle("b", notify(nobody.toString(), null)).sh("echo ran; echo ran > /ran");
        Brig.Result r = b.run();
        assertEquals(1, r.exit(), r.out() + r.err());
        assertEquals("", r.out());
        // The process waited for the hand-over right after the filter: its program never ran.
        assertFalse(Files.exists(b.rootfs().resolve("ran")), "the program ran before the agent had the listener");
        assertEquals("brig: linux.seccomp.listenerPath: cannot send the seccomp notify listener to the agent: connect " + nobody
                + ": ENOENT: no such file or directory\n", r.err());
        assertFalse(Files.exists(b.stateRoot().resolve(b.id())), "state left behind");
        // The same through create: nothing to delete afterwards.
        Lifecycle l = new Lifecycle(b.stateRoot(), Files.createDirectories(dir.resolve("scratch")));
        r = l.brig(b.dir(), "create", "--bundle", b.dir().toString(), b.id());
        assertEquals(1, r.exit(), r.out() + r.err());
        assertTrue(r.err().contains("connect " + nobody + ": ENOENT"), r.err());
        assertEquals("container does not exist", l.status(b.id()).replaceFirst("^brig: ", ""));
    }

    @Test
    void badNotifyProfilesAreRefusedNamingTheField() throws Exception {
        assertEquals("linux.seccomp.listenerPath: required with SCMP_ACT_NOTIFY (linux.seccomp.syscalls[0].action): the agent's"
                + " socket, where the notify listener goes", refused(notify(null, null)));
        assertEquals("linux.seccomp.listenerMetadata: given without linux.seccomp.listenerPath",
                refused("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerMetadata\":\"x\"}"));
        assertEquals("linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action (only a rule's)",
                refused("{\"defaultAction\":\"SCMP_ACT_NOTIFY\",\"listenerPath\":\"/x\"}"));
        assertEquals("linux.seccomp.syscalls[0].action: SCMP_ACT_NOTIFY cannot be used for sendmsg: brig hands the listener"
                + " to the agent with it", refused(notify("/x", null, "sendmsg")));
    }

    @Test
    void featuresListsNotify() {
        Brig.Result r = Brig.run(null, "features").expect(0);
        JsonObject seccomp = Json.parseQuietly(r.out()).getAsJsonObject().getAsJsonObject("linux").getAsJsonObject("seccomp");
        assertTrue(seccomp.getAsJsonArray("actions").toString().contains("\"SCMP_ACT_NOTIFY\""), seccomp.toString());
    }

    private String refused(String profile) throws Exception {
        TestBundle b = bundle("bad" + System.nanoTime(), profile).sh("true");
        Brig.Result r = b.run();
        assertEquals(1, r.exit(), r.out() + r.err());
        assertEquals(1, r.err().lines().count(), r.err());
        assertFalse(Files.exists(b.stateRoot().resolve(b.id())), "state left behind");
        String prefix = "brig: " + b.dir().resolve("config.json") + ": ";
        assertTrue(r.err().startsWith(prefix), r.err());
        return r.err().substring(prefix.length()).strip();
    }
}
