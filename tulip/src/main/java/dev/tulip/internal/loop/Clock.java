package dev.tulip.internal.loop;

/**
 * The loop's source of time: monotonic nanoseconds. The only place core code reads time from, so that a virtual
 * clock can drive every timer test.
 *
 * <p>Any thread.
 */
public interface Clock {
    /** Current time in nanoseconds; only differences are meaningful. */
    long nanos();

    /** Whether this clock jumps forward instead of waiting (see {@link VirtualClock}). */
    default boolean isVirtual() {
        return false;
    }

    /** The system monotonic clock. */
    Clock SYSTEM = System::nanoTime;
}
