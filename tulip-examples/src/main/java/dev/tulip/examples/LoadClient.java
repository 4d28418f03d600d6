package dev.tulip.examples;

import dev.tulip.EventLoop;
import dev.tulip.Future;
import dev.tulip.transport.Connection;
import dev.tulip.transport.Protocol;
import dev.tulip.transport.Transport;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A closed-loop echo load client on Tulip's protocol API, so users can measure an echo server without outside
 * tools. It works like the neutral C client ({@code ../shared/bench/echo_load.c}) and like uvloop's vmbench client:
 * each of C connections sends one message of S bytes, waits until all S bytes came back, then sends the next.
 *
 * <pre>
 *   ./tulipw run LoadClient [--host 127.0.0.1] --port PORT [--conns 10] [--size 1024] [--duration 5] [--warmup 1]
 * </pre>
 *
 * <p>After the warm-up (not counted) it measures for the duration and prints one line in the C client's format:
 * {@code echo conns=C size=S reqs_per_s=... MiB_per_s=... p50_us=... p99_us=... errors=...}. MiB/s is payload per
 * direction. Latency runs from handing a message to the transport until its last byte is back (a log-linear
 * histogram, about 1.6% resolution). Echoed bytes are spot-checked (one byte per received chunk against the known
 * pattern); a mismatch, a reset, an early EOF or a failed connect counts as an error and drops that connection.
 *
 * <p>One event loop on the calling thread.
 */
public final class LoadClient {

    /** What a run measured. */
    public record Result(int conns, int size, double reqsPerSecond, double mibPerSecond, double p50Micros,
                         double p99Micros, long errors, long requests) {

        /**
         * The result in the C client's one-line format.
         *
         * @return the line
         */
        public String line() {
            return String.format(Locale.ROOT, "echo conns=%d size=%d reqs_per_s=%.0f MiB_per_s=%.1f p50_us=%.1f "
                    + "p99_us=%.1f errors=%d", conns, size, reqsPerSecond, mibPerSecond, p50Micros, p99Micros, errors);
        }
    }

    /** Log-linear histogram of nanoseconds: 64 sub-buckets per power of two, as the C client. */
    static final class Histogram {
        private static final int SUB = 64;
        private final long[] counts = new long[2 * SUB + 58 * SUB];
        private long total;

        void record(long v) {
            counts[bucket(Math.max(0, v))]++;
            total++;
        }

        static int bucket(long v) {
            if (v < 2 * SUB) {
                return (int) v;
            }
            int msb = 63 - Long.numberOfLeadingZeros(v);
            int shift = msb - 6;
            int idx = 2 * SUB + (msb - 7) * SUB + (int) ((v >>> shift) - SUB);
            return Math.min(idx, 2 * SUB + 58 * SUB - 1);
        }

        static double middle(int idx) {
            if (idx < 2 * SUB) {
                return idx + 0.5;
            }
            int k = idx - 2 * SUB;
            int msb = 7 + k / SUB;
            int shift = msb - 6;
            long lo = (long) (k % SUB + SUB) << shift;
            return lo + (1L << shift) / 2.0;
        }

        double percentile(double p) {
            if (total == 0) {
                return 0;
            }
            long rank = (long) Math.ceil(p / 100.0 * total);
            long seen = 0;
            for (int i = 0; i < counts.length; i++) {
                seen += counts[i];
                if (seen >= rank) {
                    return middle(i);
                }
            }
            return middle(counts.length - 1);
        }

        void clear() {
            java.util.Arrays.fill(counts, 0);
            total = 0;
        }
    }

    private final EventLoop loop;
    private final int size;
    private final ByteBuffer message;
    private final Histogram histogram = new Histogram();
    private boolean measuring;
    private boolean stopping;
    private long requests;
    private long errors;

    private LoadClient(EventLoop loop, int size) {
        this.loop = loop;
        this.size = size;
        ByteBuffer m = ByteBuffer.allocateDirect(size);
        for (int i = 0; i < size; i++) {
            m.put(i, pattern(i));
        }
        this.message = m;
    }

    private static byte pattern(long i) {
        return (byte) (i * 31 + 7);
    }

    /** One connection: sends a message, counts the echo, sends the next. Loop thread only. */
    private final class EchoLoad implements Protocol {
        private Transport transport;
        private long received;
        private long sentAt;
        private boolean dead;

        @Override
        public void connectionMade(Transport t) {
            transport = t;
            send();
        }

        private void send() {
            received = 0;
            sentAt = loop.time();
            transport.write(message.duplicate().clear());
        }

        @Override
        public void dataReceived(ByteBuffer data) {
            if (dead) {
                return;
            }
            int n = data.remaining();
            if (n > 0 && data.get(data.position()) != pattern(received)) {
                fail();
                return;
            }
            received += n;
            if (received > size) {
                fail(); // more came back than was sent
            } else if (received == size) {
                if (measuring) {
                    requests++;
                    histogram.record(loop.time() - sentAt);
                }
                if (!stopping) {
                    send();
                }
            }
        }

        private void fail() {
            dead = true;
            errors++;
            transport.abort();
        }

        @Override
        public void connectionLost(Throwable cause) {
            if (!stopping && !dead) {
                errors++; // EOF or reset in the middle of the run
            }
            dead = true;
        }
    }

    /**
     * Runs a load on a fresh loop on this thread and returns what it measured.
     *
     * @param host     the server's host (a loopback address for benchmarks)
     * @param port     the server's port
     * @param conns    connections, at least 1
     * @param size     message size in bytes, at least 1
     * @param warmup   time to run before measuring (may be zero)
     * @param duration time measured, positive
     * @return the result
     * @throws IllegalArgumentException if a number is out of range
     */
    public static Result run(String host, int port, int conns, int size, Duration warmup, Duration duration) {
        if (conns < 1 || size < 1 || duration.isNegative() || duration.isZero() || warmup.isNegative()) {
            throw new IllegalArgumentException("conns and size must be >= 1, duration > 0, warmup >= 0");
        }
        try (EventLoop loop = EventLoop.create()) {
            LoadClient c = new LoadClient(loop, size);
            List<Future<Connection<EchoLoad>>> connecting = new ArrayList<>();
            for (int i = 0; i < conns; i++) {
                Future<Connection<EchoLoad>> f = loop.createConnection(() -> c.new EchoLoad(), host, port);
                f.addDoneCallback(d -> {
                    if (d.isCancelled() || d.exception() != null) {
                        c.errors++;
                    }
                });
                connecting.add(f);
            }
            long[] window = new long[2];
            loop.callLater(warmup, () -> {
                c.histogram.clear();
                c.requests = 0;
                c.errors = 0;
                c.measuring = true;
                window[0] = loop.time();
                loop.callLater(duration, () -> {
                    window[1] = loop.time();
                    c.measuring = false;
                    c.stopping = true;
                    loop.stop();
                });
            });
            loop.runForever();
            for (Future<Connection<EchoLoad>> f : connecting) {
                if (f.isDone() && !f.isCancelled() && f.exception() == null) {
                    f.result().transport().abort();
                } else if (!f.isDone()) {
                    f.cancel();
                }
            }
            loop.callSoon(loop::stop);
            loop.runForever(); // let the aborts and connectionLost callbacks run
            double secs = (window[1] - window[0]) / 1e9;
            double rps = secs > 0 ? c.requests / secs : 0;
            return new Result(conns, size, rps, rps * size / (1024.0 * 1024.0),
                    c.histogram.percentile(50) / 1000.0, c.histogram.percentile(99) / 1000.0, c.errors, c.requests);
        }
    }

    /**
     * Runs the client from the command line.
     *
     * @param args see the class documentation
     */
    public static void main(String[] args) {
        String host = "127.0.0.1";
        int port = -1;
        int conns = 10;
        int size = 1024;
        double duration = 5;
        double warmup = 1;
        try {
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--host" -> host = args[++i];
                    case "--port" -> port = Integer.parseInt(args[++i]);
                    case "--conns" -> conns = Integer.parseInt(args[++i]);
                    case "--size" -> size = Integer.parseInt(args[++i]);
                    case "--duration" -> duration = Double.parseDouble(args[++i]);
                    case "--warmup" -> warmup = Double.parseDouble(args[++i]);
                    case "-h", "--help" -> {
                        usage();
                        return;
                    }
                    default -> throw new IllegalArgumentException("unknown option " + args[i]);
                }
            }
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("--port is required (0..65535)");
            }
        } catch (RuntimeException e) {
            System.err.println("LoadClient: " + e.getMessage());
            usage();
            System.exit(2);
        }
        Result r = run(host, port, conns, size, Duration.ofMillis((long) (warmup * 1000)),
                Duration.ofMillis((long) (duration * 1000)));
        System.out.println(r.line());
        if (r.requests() == 0) {
            System.exit(1);
        }
    }

    private static void usage() {
        System.err.println("usage: LoadClient [--host 127.0.0.1] --port PORT [--conns 10] [--size 1024] "
                + "[--duration 5] [--warmup 1]");
    }
}
