package dev.tulip.internal.task;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class EngineTest {

    @Test
    void engineFollowsTheAddExportsFlag() {
        boolean exported = Object.class.getModule().isExported("jdk.internal.vm", EngineTest.class.getModule());
        String forced = System.getProperty("tulip.coroutines", "auto");
        Engine expected = switch (forced) {
            case "vthread" -> Engine.VIRTUAL_THREAD;
            case "continuation" -> Engine.CONTINUATION;
            default -> exported ? Engine.CONTINUATION : Engine.VIRTUAL_THREAD;
        };
        assertEquals(expected, Engine.current());
        String ci = System.getProperty("tulip.test.expectedEngine");
        if (ci != null) {
            assertEquals(Engine.valueOf(ci), Engine.current());
        }
    }
}
