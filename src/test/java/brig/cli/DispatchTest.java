package brig.cli;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Which served calls get a helper started ahead while the server plans. */
class DispatchTest {
    @Test
    void callsThatStartAContainerGetAHelperAhead() {
        assertTrue(Dispatch.startsHelper(List.of("run", "--bundle", "b", "id")));
        assertTrue(Dispatch.startsHelper(List.of("--root", "/r", "create", "id")));
        assertTrue(Dispatch.startsHelper(List.of("exec", "id", "true")));
        assertTrue(Dispatch.startsHelper(List.of("container", "run", "--rm", "img", "true")));
    }

    @Test
    void callsThatStartNoneDoNot() {
        assertFalse(Dispatch.startsHelper(List.of("run", "--explain", "id")));
        assertFalse(Dispatch.startsHelper(List.of("create", "--help")));
        assertFalse(Dispatch.startsHelper(List.of("state", "id")));
        assertFalse(Dispatch.startsHelper(List.of("container", "ps")));
        assertFalse(Dispatch.startsHelper(List.of("--bogus-flag", "run", "id")));
        assertFalse(Dispatch.startsHelper(List.of()));
    }
}
