package brig.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.json.Json;
import brig.runtime.Features;
import brig.testing.Brig;
import brig.testing.NoLeaks;
import com.google.gson.JsonObject;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * `brig features` through the launcher, as an engine calls it: the library's document (which
 * FeaturesTest holds against the reader), indented as runc prints it; and events' --interval
 * read as Go reads a duration.
 */
@ExtendWith(NoLeaks.class)
class FeaturesIT {

    @Test
    void printsTheRuntimeSpecFeaturesDocument() {
        Brig.Result r = Brig.run(null, "features").expect(0);
        JsonObject doc = Json.parseQuietly(r.out()).getAsJsonObject();
        assertEquals(Features.document(Main.VERSION), doc);
        assertTrue(r.out().startsWith("{\n    \"ociVersionMin\": \"1.0.0\",\n    \"ociVersionMax\": \"1.2.0\",\n"), r.out());
        JsonObject linux = doc.getAsJsonObject("linux");
        assertTrue(linux.getAsJsonArray("namespaces").size() >= 7, linux.toString());
        assertEquals(true, linux.getAsJsonObject("seccomp").get("enabled").getAsBoolean(), "seccomp is enforced (issue 9)");
        assertEquals("", r.err());
    }

    @Test
    void takesNoArguments() {
        Brig.Result r = Brig.run(null, "features", "x");
        assertEquals(1, r.exit());
        assertEquals("brig: \"features\" requires exactly 0 argument(s)\n", r.err());
    }

    @Test
    void intervalsAreGoDurations() {
        assertEquals(Duration.ofSeconds(5), EventsCommand.goDuration("5s"));
        assertEquals(Duration.ofMillis(200), EventsCommand.goDuration("200ms"));
        assertEquals(Duration.ofMillis(1500), EventsCommand.goDuration("1.5s"));
        assertEquals(Duration.ofSeconds(3723), EventsCommand.goDuration("1h2m3s"));
        assertEquals(Duration.ofNanos(1500), EventsCommand.goDuration("1.5us"));
        assertEquals(Duration.ofNanos(-1000), EventsCommand.goDuration("-1\u00b5s"));
        assertEquals(Duration.ZERO, EventsCommand.goDuration("0"));
        for (String bad : new String[] {"", "5", "s", "5 s", "1.2.3s", "5x", "-", "1e3s", "99999999999h"}) {
            assertEquals(null, EventsCommand.goDuration(bad), bad);
        }
    }
}
