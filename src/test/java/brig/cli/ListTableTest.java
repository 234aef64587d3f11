package brig.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** list's table is laid out as runc's (Go's tabwriter: minimum width 12, padding 3). */
class ListTableTest {
    @Test
    void columnsAreAtLeastTwelveWideAndThreePastTheWidestCell() {
        String t = ListCommand.table(List.of(new String[] {"ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"},
                new String[] {"a-rather-long-id", "123", "running", "/b", "2026-12-01T09:00:00Z", "root"}));
        assertEquals("""
                ID                 PID         STATUS      BUNDLE      CREATED                OWNER
                a-rather-long-id   123         running     /b          2026-12-01T09:00:00Z   root
                """, t);
    }
}
