package dev.tulip;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SmokeTest {
    @Test
    void callbacksTimersAndFutures() {
        try (EventLoop loop = EventLoop.builder().virtualTime(true).build()) {
            List<String> seen = new ArrayList<>();
            Future<String> f = loop.createFuture();
            loop.callLater(Duration.ofSeconds(10), () -> f.setResult("done"));
            loop.callSoon(() -> seen.add("soon"));
            loop.callLater(Duration.ofSeconds(1), () -> seen.add("later"));
            f.addDoneCallback(x -> seen.add("cb " + x.result()));
            assertEquals("done", loop.runUntilComplete(f));
            assertEquals(List.of("soon", "later", "cb done"), seen);
            assertEquals(Duration.ofSeconds(10).toNanos(), loop.time());
        }
    }
}
