package dev.tulip;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.Pipe;

/** A java.nio Pipe for reader/writer tests: both ends non-blocking, closed together. */
record PipeFixture(Pipe pipe) implements AutoCloseable {

    static PipeFixture open() throws IOException {
        Pipe p = Pipe.open();
        p.source().configureBlocking(false);
        p.sink().configureBlocking(false);
        return new PipeFixture(p);
    }

    Pipe.SourceChannel source() {
        return pipe.source();
    }

    Pipe.SinkChannel sink() {
        return pipe.sink();
    }

    /** Writes {@code n} bytes to the sink. */
    void write(int n) {
        try {
            ByteBuffer b = ByteBuffer.allocate(n);
            while (b.hasRemaining()) {
                pipe.sink().write(b);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Reads what is available from the source (non-blocking); returns the byte count. */
    int drain() {
        try {
            ByteBuffer b = ByteBuffer.allocate(4096);
            int total = 0;
            for (int r; (r = pipe.source().read(b)) > 0; b.clear()) {
                total += r;
            }
            return total;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() throws IOException {
        pipe.source().close();
        pipe.sink().close();
    }
}
