package brig.json;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Instant;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class Rfc3339Test {
    @Test
    void writesWhatInstantWrites() {
        // The fraction's three widths, midnight, leap days, the epoch, the ends of four-digit years.
        for (String s : new String[] {"1970-01-01T00:00:00Z", "2024-02-29T23:59:59.999999999Z", "2026-12-01T21:59:16.800Z",
                "2026-12-01T21:59:16.816363Z", "2000-01-01T00:00:00.000000001Z", "0000-01-01T00:00:00Z",
                "9999-12-31T23:59:59.5Z", "1969-12-31T23:59:59.25Z"}) {
            Instant t = Instant.parse(s);
            assertEquals(t.toString(), Rfc3339.format(t), s);
        }
        SplittableRandom r = new SplittableRandom(42);
        for (int k = 0; k < 20_000; k++) {
            Instant t = Instant.ofEpochSecond(r.nextLong(-62_167_219_200L, 253_402_300_800L), switch (k % 4) {
                case 0 -> 0;
                case 1 -> r.nextInt(1000) * 1_000_000;
                case 2 -> r.nextInt(1_000_000) * 1000;
                default -> r.nextInt(1_000_000_000);
            });
            assertEquals(t.toString(), Rfc3339.format(t));
        }
    }

    @Test
    void yearsBeyondFourDigitsAreInstants() {
        for (Instant t : new Instant[] {Instant.parse("+10000-01-01T00:00:00Z"), Instant.parse("-0001-12-31T23:59:59Z"), Instant.MAX, Instant.MIN}) {
            assertEquals(t.toString(), Rfc3339.format(t));
        }
    }
}
