package dev.tulip.internal.net;

import dev.tulip.internal.loop.NativeIo;
import dev.tulip.internal.loop.TulipLoop;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SocketChannel;

/**
 * How a stream transport moves bytes through its connected socket: the JDK channel's own read/write (the Selector
 * backend, and anywhere native access is missing), or {@link NativeIo} downcalls on the channel's fd when the loop
 * runs the epoll backend. Chosen once per transport by {@link #of}; the transport calls it and never asks which.
 *
 * <p>Results follow {@link SocketChannel}: a read returns the bytes read, 0 when nothing is there, -1 at end of
 * stream; a write returns the bytes the kernel took (0 when it took none). Buffer positions advance as for the
 * channel. Closing stays with the channel ({@code channel.close()} on the loop thread).
 *
 * <p>Loop thread only.
 */
sealed interface StreamIo permits StreamIo.Channel, StreamIo.Native {
    /**
     * Whether a loop on the epoll backend moves stream bytes with native calls (default true). {@code false} keeps
     * the JDK channels for the data and epoll for readiness only, the arrangement before native I/O, kept for
     * measurement.
     */
    boolean NATIVE_ON_EPOLL = !"false".equals(System.getProperty("tulip.nativeIo"));

    /** Reads into {@code dst}: bytes read, 0 if none are there, -1 at end of stream. */
    int read(ByteBuffer dst) throws IOException;

    /** Writes {@code src}: bytes taken (0 if the socket buffer is full). */
    int write(ByteBuffer src) throws IOException;

    /** Gathering write of {@code srcs[offset .. offset+length)}: bytes taken (0 if the socket buffer is full). */
    long write(ByteBuffer[] srcs, int offset, int length) throws IOException;

    /** The strategy for {@code channel} on {@code loop}: native when the loop runs epoll, else the channel's. */
    static StreamIo of(TulipLoop loop, SocketChannel channel) throws IOException {
        if (NATIVE_ON_EPOLL && "epoll".equals(loop.backendName())) {
            return new Native(channel, NativeIo.fdOf(channel), NativeIo.of(loop));
        }
        return new Channel(channel);
    }

    /** The JDK channel's read and write, as the transports always did. */
    record Channel(SocketChannel channel) implements StreamIo {
        @Override
        public int read(ByteBuffer dst) throws IOException {
            return channel.read(dst);
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            return channel.write(src);
        }

        @Override
        public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
            return channel.write(srcs, offset, length);
        }
    }

    /**
     * read/write/writev on the channel's fd. The fd number is read once; every call first checks the channel is
     * still open, so a channel closed by its transport (on the loop thread) is never touched again through a number
     * that may have been reused. What remains is the window {@link NativeIo} describes: a close from another thread
     * between that check and the system call, together with a reuse of the number in the same window.
     */
    record Native(SocketChannel channel, int fd, NativeIo io) implements StreamIo {
        @Override
        public int read(ByteBuffer dst) throws IOException {
            if (!channel.isOpen()) {
                throw new ClosedChannelException();
            }
            int n = io.read(fd, dst);
            return n == NativeIo.WOULD_BLOCK ? 0 : n; // EOF is -1 in both conventions
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            if (!channel.isOpen()) {
                throw new ClosedChannelException();
            }
            int n = io.write(fd, src);
            return n == NativeIo.WOULD_BLOCK ? 0 : n;
        }

        @Override
        public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
            if (!channel.isOpen()) {
                throw new ClosedChannelException();
            }
            long n = io.write(fd, srcs, offset, length);
            return n == NativeIo.WOULD_BLOCK ? 0 : n;
        }
    }
}
