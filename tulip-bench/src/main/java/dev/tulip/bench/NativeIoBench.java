package dev.tulip.bench;

import dev.tulip.internal.loop.NativeIo;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The data path the epoll backend replaced (issue 10), on its own: one write and the reads that take it back, on a
 * non-blocking TCP pair over 127.0.0.1, through the JDK channels ({@code mode=channel}) or {@link NativeIo}
 * ({@code mode=native}). Both sides run on the benchmark thread, so the time is system-call plus library cost with
 * no wake-ups; a gathering variant writes the payload as four buffers (writev). Run: {@code ./tulipw bench jmh
 * NativeIoBench} (add {@code -- -prof gc} for allocation per operation).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(jvmArgsPrepend = {"--add-exports", "java.base/sun.nio.ch=ALL-UNNAMED", "--enable-native-access=ALL-UNNAMED"})
public class NativeIoBench {
    @Param({"channel", "native"})
    public String mode;

    @Param({"1024", "16384"})
    public int size;

    private SocketChannel a;
    private SocketChannel b;
    private int fa;
    private int fb;
    private NativeIo io;
    private ByteBuffer out;
    private ByteBuffer[] outs;
    private ByteBuffer in;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        try (ServerSocketChannel server = ServerSocketChannel.open()) {
            server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            a = SocketChannel.open(server.getLocalAddress());
            b = server.accept();
        }
        a.configureBlocking(false);
        b.configureBlocking(false);
        fa = NativeIo.fdOf(a);
        fb = NativeIo.fdOf(b);
        io = new NativeIo();
        out = ByteBuffer.allocateDirect(size);
        outs = new ByteBuffer[4];
        for (int k = 0; k < 4; k++) {
            outs[k] = ByteBuffer.allocateDirect(size / 4);
        }
        in = ByteBuffer.allocateDirect(256 * 1024);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        a.close();
        b.close();
    }

    /** One write of {@code size} bytes and the reads that take them back. */
    @Benchmark
    public int writeRead() throws IOException {
        out.clear();
        if (mode.equals("native")) {
            io.write(fa, out);
        } else {
            a.write(out);
        }
        return drain(size);
    }

    /** One gathering write of four buffers ({@code size} bytes in all) and the reads that take them back. */
    @Benchmark
    public int writevRead() throws IOException {
        for (ByteBuffer o : outs) {
            o.clear();
        }
        if (mode.equals("native")) {
            io.write(fa, outs, 0, 4);
        } else {
            a.write(outs, 0, 4);
        }
        return drain(size);
    }

    private int drain(int want) throws IOException {
        int got = 0;
        boolean nat = mode.equals("native");
        while (got < want) {
            in.clear();
            int n = nat ? io.read(fb, in) : b.read(in);
            if (n > 0) {
                got += n;
            }
        }
        return got;
    }
}
