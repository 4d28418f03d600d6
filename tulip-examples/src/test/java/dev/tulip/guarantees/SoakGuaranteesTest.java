package dev.tulip.guarantees;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tulip.examples.Soak;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The soak in short: {@link Soak} for {@code -Dguarantees.soakSeconds} (60) with samples every 10 s; the manual run is
 * {@code ./tulipw run Soak --minutes 30}.
 */
@Tag("guarantees")
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class SoakGuaranteesTest {

    @Test
    void mixedTrafficOnOneLoopLeaksNothingAndLosesNothing() throws Exception {
        long seconds = GuaranteeSupport.longProp("guarantees.soakSeconds", 60);
        Soak.Result r = Soak.run(Duration.ofSeconds(seconds), Duration.ofSeconds(10));
        System.out.println("GUARANTEE " + r.verdict());
        assertTrue(r.pass(), r.verdict());
    }
}
