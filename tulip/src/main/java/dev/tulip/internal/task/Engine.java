package dev.tulip.internal.task;

import java.lang.invoke.MethodHandles;
import java.util.Locale;

/**
 * Chooses and creates {@link Strand}s. The engine is fixed per JVM: {@code -Dtulip.coroutines=continuation} or
 * {@code vthread} forces one; otherwise ({@code auto}) the continuation engine is used when the application granted
 * {@code --add-exports java.base/jdk.internal.vm=ALL-UNNAMED} (or {@code =dev.tulip}), else virtual threads.
 *
 * <p>Any thread.
 */
public enum Engine {
    /** A virtual thread per task with a strict hand-off (public API, works everywhere). */
    VIRTUAL_THREAD,
    /** {@code jdk.internal.vm.Continuation} driven by the loop thread (needs the add-exports flag). */
    CONTINUATION;

    private static final System.Logger LOG = System.getLogger("dev.tulip.task");
    private static final Engine SELECTED = select();

    /** The engine this JVM uses. */
    public static Engine current() {
        return SELECTED;
    }

    /** Creates a strand running {@code body} (not started: the first {@link Strand#resume()} starts it). */
    public Strand newStrand(Runnable body, String name) {
        return this == CONTINUATION ? new ContinuationStrand(body) : new VirtualThreadStrand(body, name);
    }

    private static Engine select() {
        String p = System.getProperty("tulip.coroutines", "auto").trim().toLowerCase(Locale.ROOT);
        boolean exported = continuationExported();
        switch (p) {
            case "vthread", "virtual", "virtualthread" -> {
                return VIRTUAL_THREAD;
            }
            case "continuation" -> {
                if (!exported) {
                    throw new IllegalStateException("-Dtulip.coroutines=continuation needs the JVM flag "
                            + "--add-exports java.base/jdk.internal.vm=ALL-UNNAMED (or =dev.tulip)");
                }
                ContinuationStrand.check();
                return CONTINUATION;
            }
            case "auto", "" -> {
                if (exported) {
                    try {
                        ContinuationStrand.check();
                        return CONTINUATION;
                    } catch (RuntimeException | LinkageError e) {
                        LOG.log(System.Logger.Level.WARNING, "jdk.internal.vm.Continuation is exported but unusable; "
                                + "using virtual threads", e);
                    }
                }
                return VIRTUAL_THREAD;
            }
            default -> throw new IllegalStateException("-Dtulip.coroutines must be auto, vthread or continuation: " + p);
        }
    }

    private static boolean continuationExported() {
        Module base = Object.class.getModule();
        return base.isExported("jdk.internal.vm", Engine.class.getModule())
                || base.isExported("jdk.internal.vm", MethodHandles.lookup().lookupClass().getModule());
    }
}
