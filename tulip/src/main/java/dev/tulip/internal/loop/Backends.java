package dev.tulip.internal.loop;

/**
 * Chooses the I/O backend for a new loop: "nio" (the Selector backend) today; "auto" picks the best available.
 * Native backends register here.
 */
final class Backends {
    private Backends() {
    }

    static IoBackend open(TulipLoop loop, String name) {
        return switch (name) {
            case "auto", "nio" -> new SelectorBackend(loop);
            default -> throw new IllegalArgumentException("unknown I/O backend '" + name + "' (known: auto, nio)");
        };
    }
}
