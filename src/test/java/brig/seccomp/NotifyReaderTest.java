package brig.seccomp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import org.junit.jupiter.api.Test;

/** SCMP_ACT_NOTIFY as read and compiled, without root (the kernel's side is NotifyIT's). */
class NotifyReaderTest {
    static final String NOTIFY = "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"/run/agent.sock\",\"listenerMetadata\":\"m\","
            + "\"flags\":[\"SECCOMP_FILTER_FLAG_TSYNC\",\"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV\"],"
            + "\"syscalls\":[{\"names\":[\"mkdir\"],\"action\":\"SCMP_ACT_NOTIFY\"}]}";

    @Test
    void aNotifyRuleAsksForAListenerAndKeepsTheAgent() throws Exception {
        Profile p = CompilerTest.read(NOTIFY);
        assertTrue(p.notifies());
        assertEquals("/run/agent.sock", p.listenerPath());
        assertEquals("m", p.listenerMetadata());
        Filter f = Compiler.compile(p);
        // TSYNC goes (EINVAL with a listener; the helper has one thread); the listener comes.
        assertEquals(Profile.FLAG_NEW_LISTENER | Profile.FLAG_WAIT_KILLABLE_RECV, f.flags());
        assertTrue(f.summary().contains("flags WAIT_KILLABLE_RECV NEW_LISTENER"), f.summary());
        boolean notifyRet = false;
        for (long insn : f.program()) notifyRet |= Filter.code(insn) == 0x06 && Filter.k(insn) == 0x7fc00000;
        assertTrue(notifyRet, "no SECCOMP_RET_USER_NOTIF in the program");
    }

    @Test
    void withoutANotifyRuleTheListenerPathIsIgnored() throws Exception {
        // runtime-spec: "If the SCMP_ACT_NOTIFY action is not used this value is ignored."
        Profile p = CompilerTest.read("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"/run/agent.sock\"}");
        assertNull(p.listenerPath());
        assertEquals(0, Compiler.compile(p).flags() & Profile.FLAG_NEW_LISTENER);
    }

    @Test
    void badNotifyProfiles() {
        assertEquals("linux.seccomp.listenerPath: required with SCMP_ACT_NOTIFY (linux.seccomp.syscalls[1].action): the agent's"
                + " socket, where the notify listener goes", CompilerTest.error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":["
                + "{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\"},{\"names\":[\"mkdir\"],\"action\":\"SCMP_ACT_NOTIFY\"}]}"));
        assertEquals("linux.seccomp.listenerPath: required with SCMP_ACT_NOTIFY (linux.seccomp.syscalls[0].action): the agent's"
                + " socket, where the notify listener goes", CompilerTest.error(NOTIFY.replace("\"listenerPath\":\"/run/agent.sock\"",
                "\"listenerPath\":\"\"")));
        assertEquals("linux.seccomp.listenerMetadata: given without linux.seccomp.listenerPath",
                CompilerTest.error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerMetadata\":\"m\"}"));
        assertEquals("linux.seccomp.syscalls[0].action: SCMP_ACT_NOTIFY cannot be used for sendmsg: brig hands the listener to the"
                + " agent with it", CompilerTest.error(NOTIFY.replace("[\"mkdir\"]", "[\"mkdir\",\"sendmsg\"]")));
        assertEquals("linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action (only a rule's)",
                CompilerTest.error("{\"defaultAction\":\"SCMP_ACT_NOTIFY\",\"listenerPath\":\"/x\"}"));
    }

    @Test
    void theProcessStateIsRuntimeSpecs() {
        JsonObject state = new JsonObject();
        state.addProperty("id", "c1");
        assertEquals("{\"ociVersion\":\"1.2.0\",\"fds\":[\"seccompFd\"],\"pid\":42,\"metadata\":\"m\",\"state\":{\"id\":\"c1\"}}",
                Agent.processState("1.2.0", 42, "m", state));
        assertEquals("{\"ociVersion\":\"1.2.0\",\"fds\":[\"seccompFd\"],\"pid\":42,\"state\":{\"id\":\"c1\"}}",
                Agent.processState("1.2.0", 42, null, state));
    }
}
