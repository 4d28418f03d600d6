package dev.tulip.stream;

/**
 * The stream ended before a read could be satisfied: {@link StreamReader#readExactly} reached EOF before {@code n}
 * bytes, or {@link StreamReader#readUntil} reached EOF before a separator (asyncio's {@code IncompleteReadError}).
 *
 * <p>The bytes that did arrive are not lost: they were consumed from the reader and are carried here
 * ({@link #partial()}).
 */
public final class IncompleteReadException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final transient byte[] partial;
    private final long expected;

    /**
     * Creates the exception.
     *
     * @param partial  the bytes read before EOF (kept, not copied)
     * @param expected how many bytes were wanted, or -1 when the read was waiting for a separator
     */
    public IncompleteReadException(byte[] partial, long expected) {
        super(partial.length + " bytes read on a total of "
                + (expected < 0 ? "undefined (no separator before EOF)" : expected + " expected") + " bytes");
        this.partial = partial;
        this.expected = expected;
    }

    /**
     * The bytes that arrived before EOF.
     *
     * @return the partial data (possibly empty); the array itself, not a copy
     */
    public byte[] partial() {
        return partial;
    }

    /**
     * How many bytes the read wanted.
     *
     * @return the requested count, or -1 for a read that was looking for a separator
     */
    public long expected() {
        return expected;
    }
}
