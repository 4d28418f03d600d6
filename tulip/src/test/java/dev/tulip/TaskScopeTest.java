package dev.tulip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** A scope entered inside a task body stays current across the body's awaits. */
class TaskScopeTest {

    @Test
    void enteredScopeSurvivesAnAwait() {
        boolean ran = Tulip.run(EventLoop.builder().virtualTime(true), () -> {
            EventLoop loop = EventLoop.current();
            Scope service = loop.currentScope().newChild("service");
            Scope inside;
            boolean[] timerRan = {false};
            try (Scope.Entered e = service.enter()) {
                Tulip.sleep(Duration.ofMillis(1)); // suspends: other callbacks run with other scopes
                inside = loop.currentScope();
                loop.callLater(Duration.ofMillis(10), () -> timerRan[0] = true);
            }
            assertSame(service, inside);
            assertEquals("service", inside.name());
            service.cancel();
            Tulip.sleep(Duration.ofMillis(30));
            return timerRan[0];
        });
        assertFalse(ran, "the timer belonged to the cancelled scope");
    }
}
