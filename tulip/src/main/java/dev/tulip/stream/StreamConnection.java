package dev.tulip.stream;

import java.util.Objects;

/**
 * The two halves of a stream connection, as {@link Streams#openConnection} yields them (asyncio's
 * {@code (reader, writer)} pair). Closing it closes the writer, so it fits try-with-resources.
 *
 * @param reader the reading half
 * @param writer the writing half
 */
public record StreamConnection(StreamReader reader, StreamWriter writer) implements AutoCloseable {

    /**
     * Creates the pair.
     *
     * @throws NullPointerException if either is null
     */
    public StreamConnection {
        Objects.requireNonNull(reader, "reader");
        Objects.requireNonNull(writer, "writer");
    }

    /** Closes the connection after the buffered data is sent ({@link StreamWriter#close()}). Loop thread only. */
    @Override
    public void close() {
        writer.close();
    }
}
