package dev.tulip.stream;

/**
 * A separator-based read ({@link StreamReader#readUntil}, {@link StreamReader#readLine()}) could not complete within
 * the reader's {@link StreamReader#limit() limit} (asyncio's {@code LimitOverrunError}).
 *
 * <p>Nothing was consumed: the reader's buffer is exactly as before the call, so the caller decides what to do.
 * Either raise the limit with {@link StreamReader#setLimit} and call again (the data is found again, nothing is
 * lost), or drop the oversized record by reading {@link #consumed()} bytes with {@link StreamReader#readExactly}.
 */
public final class LimitOverrunException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int consumed;
    private final boolean separatorFound;

    /**
     * Creates the exception.
     *
     * @param message        what went over the limit
     * @param consumed       how many buffered bytes the caller should consume to skip the oversized record
     * @param separatorFound whether a separator was found (beyond the limit)
     */
    public LimitOverrunException(String message, int consumed, boolean separatorFound) {
        super(message);
        this.consumed = consumed;
        this.separatorFound = separatorFound;
    }

    /**
     * How many bytes to consume to get past the oversized record: when the separator was found, the record and the
     * separator; otherwise every byte buffered now (the record goes on beyond them). They are all buffered, so
     * {@code readExactly(consumed())} returns at once.
     *
     * @return a byte count, at least 1
     */
    public int consumed() {
        return consumed;
    }

    /**
     * Whether the separator was found beyond the limit (true) or not found at all within the buffered data (false).
     *
     * @return whether a separator was seen
     */
    public boolean separatorFound() {
        return separatorFound;
    }
}
