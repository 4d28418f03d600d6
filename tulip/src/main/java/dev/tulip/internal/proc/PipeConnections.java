package dev.tulip.internal.proc;

import dev.tulip.ExceptionContext;
import dev.tulip.Future;
import dev.tulip.internal.loop.TulipLoop;
import dev.tulip.transport.Protocol;
import dev.tulip.transport.ReadTransport;
import dev.tulip.transport.Transport;
import dev.tulip.transport.TransportInfo;
import dev.tulip.transport.WriteTransport;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * {@code connectReadPipe} / {@code connectWritePipe}: a {@link Protocol} on one end of a pipe or any blocking stream.
 * The protocol's {@code connectionMade} receives a {@link Transport} view whose other direction throws
 * {@link UnsupportedOperationException} (a read pipe cannot be written, a write pipe cannot be read).
 *
 * <p>Loop thread only.
 */
public final class PipeConnections {
    private PipeConnections() {
    }

    /** Reads {@code in} into a protocol from {@code factory}. */
    public static Future<ReadTransport> connectRead(TulipLoop loop, Supplier<? extends Protocol> factory,
                                                    InputStream in) {
        Objects.requireNonNull(factory, "factory");
        Objects.requireNonNull(in, "in");
        loop.checkThread();
        Protocol protocol = Objects.requireNonNull(factory.get(), "protocol factory returned null");
        ThreadPipeReader[] self = new ThreadPipeReader[1];
        ThreadPipeReader reader = new ThreadPipeReader(loop, in, new ThreadPipeReader.Sink() {
            @Override
            public void data(ByteBuffer data) {
                protocol.dataReceived(data);
            }

            @Override
            public void closed(Throwable cause) {
                if (cause == null) {
                    try {
                        protocol.eofReceived(); // a read pipe closes at EOF whatever the answer
                    } catch (RuntimeException e) {
                        loop.callExceptionHandler(new ExceptionContext("eofReceived failed", e, null, null, self[0],
                                protocol));
                    }
                }
                protocol.connectionLost(cause);
            }
        }, "tulip-read-pipe");
        self[0] = reader;
        Future<ReadTransport> f = new Future<>(loop);
        loop.callSoonSystem(() -> {
            protocol.connectionMade(new View(reader, null));
            reader.start();
        });
        f.setResult(reader);
        return f;
    }

    /** Writes to {@code out} from a protocol from {@code factory}. */
    public static Future<WriteTransport> connectWrite(TulipLoop loop, Supplier<? extends Protocol> factory,
                                                      OutputStream out) {
        Objects.requireNonNull(factory, "factory");
        Objects.requireNonNull(out, "out");
        loop.checkThread();
        Protocol protocol = Objects.requireNonNull(factory.get(), "protocol factory returned null");
        ThreadPipeWriter writer = new ThreadPipeWriter(loop, out, new ThreadPipeWriter.Sink() {
            @Override
            public void pauseWriting() {
                protocol.pauseWriting();
            }

            @Override
            public void resumeWriting() {
                protocol.resumeWriting();
            }

            @Override
            public void closed(Throwable cause) {
                protocol.connectionLost(cause);
            }
        }, "tulip-write-pipe");
        writer.start();
        Future<WriteTransport> f = new Future<>(loop);
        loop.callSoonSystem(() -> protocol.connectionMade(new View(null, writer)));
        f.setResult(writer);
        return f;
    }

    /**
     * One direction of a pipe presented as a {@link Transport}: the other direction throws
     * {@link UnsupportedOperationException}.
     *
     * @param r the read side, or null
     * @param w the write side, or null
     * @return the view
     */
    public static Transport asTransport(ReadTransport r, WriteTransport w) {
        return new View(r, w);
    }

    /** One direction of a pipe presented as a Transport. */
    private record View(ReadTransport r, WriteTransport w) implements Transport {
        private ReadTransport reading() {
            if (r == null) {
                throw new UnsupportedOperationException("this is the write end of a pipe: it cannot be read");
            }
            return r;
        }

        private WriteTransport writing() {
            if (w == null) {
                throw new UnsupportedOperationException("this is the read end of a pipe: it cannot be written");
            }
            return w;
        }

        @Override
        public void pauseReading() {
            reading().pauseReading();
        }

        @Override
        public void resumeReading() {
            reading().resumeReading();
        }

        @Override
        public boolean isReading() {
            return r != null && r.isReading();
        }

        @Override
        public void write(ByteBuffer data) {
            writing().write(data);
        }

        @Override
        public void write(ByteBuffer... data) {
            writing().write(data);
        }

        @Override
        public void writeEof() {
            writing().writeEof();
        }

        @Override
        public boolean canWriteEof() {
            return w != null;
        }

        @Override
        public void abort() {
            if (w != null) {
                w.abort();
            } else {
                r.close();
            }
        }

        @Override
        public void setWriteBufferLimits(int high, int low) {
            writing().setWriteBufferLimits(high, low);
        }

        @Override
        public long writeBufferSize() {
            return w == null ? 0 : w.writeBufferSize();
        }

        @Override
        public void close() {
            if (w != null) {
                w.close();
            } else {
                r.close();
            }
        }

        @Override
        public boolean isClosing() {
            return w != null ? w.isClosing() : r.isClosing();
        }

        @Override
        public TransportInfo info() {
            return TransportInfo.plain(null, null, null);
        }
    }
}
