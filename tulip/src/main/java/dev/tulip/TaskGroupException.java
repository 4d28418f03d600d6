package dev.tulip;

import java.util.List;

/**
 * The failures of a {@link TaskGroup}'s children (and of its body, with {@link TaskGroup#run}), reported together
 * when the group closes: asyncio's {@code ExceptionGroup} from a {@code TaskGroup}.
 *
 * <p>{@link #failures()} lists them in the order they happened; the first is also the {@link #getCause() cause} and
 * the others are {@link #getSuppressed() suppressed}, so a stack trace shows all of them.
 */
public class TaskGroupException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** The failures, in order. */
    private final transient List<Throwable> failures;

    /**
     * Creates the exception.
     *
     * @param failures at least one failure
     * @throws IllegalArgumentException if failures is empty
     */
    public TaskGroupException(List<Throwable> failures) {
        super(failures.size() + " unhandled failure" + (failures.size() == 1 ? "" : "s") + " in a task group: "
                + first(failures), first(failures));
        this.failures = List.copyOf(failures);
        for (int i = 1; i < this.failures.size(); i++) {
            addSuppressed(this.failures.get(i));
        }
    }

    private static Throwable first(List<Throwable> failures) {
        if (failures.isEmpty()) {
            throw new IllegalArgumentException("a TaskGroupException needs at least one failure");
        }
        return failures.getFirst();
    }

    /**
     * The failures, in the order they happened.
     *
     * @return an unmodifiable list of at least one failure
     */
    public List<Throwable> failures() {
        return failures;
    }
}
