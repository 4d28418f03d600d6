package dev.tulip.examples;

import dev.tulip.EventLoop;
import dev.tulip.Future;
import dev.tulip.Task;
import dev.tulip.TimerHandle;
import dev.tulip.Tulip;
import dev.tulip.examples.http.HttpServer;
import dev.tulip.transport.DatagramEndpoint;
import dev.tulip.transport.DatagramOptions;
import dev.tulip.transport.DatagramProtocol;
import dev.tulip.transport.DatagramTransport;
import dev.tulip.transport.Protocol;
import dev.tulip.transport.Server;
import dev.tulip.transport.Transport;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * A soak run: one event loop carries mixed traffic for a while and is watched for leaks. Traffic: 50 TCP echo
 * connections ping-ponging 1 KiB random messages (every byte compared), 10 HTTP/1.1 keep-alive clients against the
 * example HTTP server, a UDP echo pair (every datagram compared), connect/echo/close churn (about 50 connections a
 * second), bursts of timers with half of them cancelled, and tasks cancelled while they sleep. Heap (after a
 * collection), open fds and live threads are sampled every 10 s; at the end everything is closed and a verdict is
 * printed: no errors, no corrupted byte, every timer accounted for, fds and threads back to where they started, and
 * the heap not growing.
 *
 * <pre>
 *   ./tulipw run Soak [--minutes 30] [--seconds S] [--sample-seconds 10]
 * </pre>
 *
 * <p>Exits 0 when the verdict is PASS, 1 otherwise.
 */
public final class Soak {
    private Soak() {
    }

    /** The outcome of a run. */
    public record Result(boolean pass, String verdict, List<String> samples, long echoMessages, long httpResponses,
                         long udpDatagrams, long churnConnections, long timersFired, long tasksCancelled,
                         long errors, long corrupt, long fdsBefore, long fdsAfter, long threadsBefore,
                         long threadsAfter, long heapStartMiB, long heapEndMiB) {
    }

    private static final class Counters {
        long echoMessages;
        long httpResponses;
        long udpDatagrams;
        long churn;
        long timersScheduled;
        long timersFired;
        long timersCancelled;
        long tasksCancelled;
        long errors;
        long corrupt;
        final List<String> problems = new ArrayList<>();

        void error(String what) {
            errors++;
            if (problems.size() < 10) {
                problems.add(what);
            }
        }
    }

    /** Echo server side. */
    private static final class Echo implements Protocol {
        private Transport t;

        @Override
        public void connectionMade(Transport transport) {
            t = transport;
        }

        @Override
        public void dataReceived(ByteBuffer data) {
            t.write(data);
        }
    }

    /** Ping-pong client: sends a random message, compares what comes back, repeats while running. */
    private static final class EchoClient implements Protocol {
        private final Counters c;
        private final boolean[] running;
        private final SplittableRandom rnd;
        private final boolean once;
        private final byte[] sent;
        private int got;
        private Transport t;
        boolean lost;

        EchoClient(Counters c, boolean[] running, long seed, int size, boolean once) {
            this.c = c;
            this.running = running;
            this.rnd = new SplittableRandom(seed);
            this.sent = new byte[size];
            this.once = once;
        }

        @Override
        public void connectionMade(Transport transport) {
            t = transport;
            send();
        }

        private void send() {
            rnd.nextBytes(sent);
            got = 0;
            t.write(ByteBuffer.wrap(sent.clone()));
        }

        @Override
        public void dataReceived(ByteBuffer data) {
            while (data.hasRemaining()) {
                if (got >= sent.length || data.get() != sent[got]) {
                    c.corrupt++;
                    t.abort();
                    return;
                }
                got++;
            }
            if (got == sent.length) {
                if (once) {
                    c.churn++;
                    t.close();
                } else {
                    c.echoMessages++;
                    if (running[0]) {
                        send();
                    }
                }
            }
        }

        @Override
        public void connectionLost(Throwable cause) {
            lost = true;
            if (cause != null) {
                c.error("echo connection lost: " + cause);
            }
        }
    }

    /** Keep-alive HTTP client: one request at a time, counts complete 200 responses. */
    private static final class HttpClient implements Protocol {
        private static final byte[] REQUEST = "GET / HTTP/1.1\r\nHost: soak\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        private final Counters c;
        private final boolean[] running;
        private final StringBuilder pending = new StringBuilder();
        private Transport t;

        HttpClient(Counters c, boolean[] running) {
            this.c = c;
            this.running = running;
        }

        @Override
        public void connectionMade(Transport transport) {
            t = transport;
            t.write(ByteBuffer.wrap(REQUEST));
        }

        @Override
        public void dataReceived(ByteBuffer data) {
            pending.append(StandardCharsets.ISO_8859_1.decode(data));
            int end = pending.indexOf("Hello, World!");
            if (end >= 0) {
                if (!pending.toString().startsWith("HTTP/1.1 200 ")) {
                    c.error("bad HTTP response: " + pending);
                }
                pending.delete(0, end + "Hello, World!".length());
                c.httpResponses++;
                if (running[0]) {
                    t.write(ByteBuffer.wrap(REQUEST));
                }
            }
        }

        @Override
        public void connectionLost(Throwable cause) {
            if (cause != null) {
                c.error("http connection lost: " + cause);
            }
        }
    }

    /** Runs the soak for {@code duration}, sampling every {@code sample}. */
    public static Result run(Duration duration, Duration sample) throws Exception {
        Counters c = new Counters();
        boolean[] running = {true};
        List<String> samples = new ArrayList<>();
        warmUp();
        List<String> fdTargetsBefore = fdTargets();
        long fdsBefore = fds();
        long threadsBefore = Thread.activeCount();
        long heapStart;
        long heapEnd;
        List<Long> heaps = new ArrayList<>();
        try (EventLoop loop = EventLoop.create()) {
            loop.setExceptionHandler((l, ctx) -> {
                c.error("exception handler: " + ctx.message() + " " + ctx.exception());
                l.defaultExceptionHandler(ctx);
            });
            Server echo = loop.runUntilComplete(loop.createServer(Echo::new, "127.0.0.1", 0));
            int echoPort = ((InetSocketAddress) echo.addresses().get(0)).getPort();
            Server http = loop.runUntilComplete(HttpServer.start(loop, "127.0.0.1", 0, HttpServer.Options.defaults()));
            int httpPort = ((InetSocketAddress) http.addresses().get(0)).getPort();
            DatagramEndpoint<DatagramProtocol> udpServer = loop.runUntilComplete(loop.createDatagramEndpoint(
                    () -> new DatagramProtocol() {
                        DatagramTransport t;

                        @Override
                        public void connectionMade(DatagramTransport transport) {
                            t = transport;
                        }

                        @Override
                        public void datagramReceived(ByteBuffer data, SocketAddress from) {
                            t.sendTo(data, from);
                        }
                    }, DatagramOptions.builder().localAddress("127.0.0.1", 0).build()));
            SocketAddress udpAddr = udpServer.transport().info().localAddress();
            DatagramEndpoint<DatagramProtocol> udpClient = loop.runUntilComplete(loop.createDatagramEndpoint(
                    () -> new DatagramProtocol() {
                        @Override
                        public void datagramReceived(ByteBuffer data, SocketAddress from) {
                            byte[] b = new byte[data.remaining()];
                            data.get(b);
                            // every datagram sent is 512 copies of one byte: anything else is corruption
                            boolean ok = b.length == 512;
                            for (int i = 1; ok && i < b.length; i++) {
                                ok = b[i] == b[0];
                            }
                            if (!ok) {
                                c.corrupt++;
                            }
                            c.udpDatagrams++;
                        }

                        @Override
                        public void errorReceived(Exception error) {
                            c.error("udp: " + error);
                        }
                    }, DatagramOptions.builder().localAddress("127.0.0.1", 0).build()));

            List<EchoClient> echoClients = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                echoClients.add(loop.runUntilComplete(loop.createConnection(
                        () -> new EchoClient(c, running, echoClients.size() * 31L + 1, 1024, false),
                        "127.0.0.1", echoPort)).protocol());
            }
            List<Transport> httpClients = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                httpClients.add(loop.runUntilComplete(loop.createConnection(() -> new HttpClient(c, running),
                        "127.0.0.1", httpPort)).transport());
            }
            SplittableRandom rnd = new SplittableRandom(1);
            long start = loop.time();
            long stopAt = start + duration.toNanos();
            long[] seq = {0};
            Runnable[] tick = new Runnable[1];
            tick[0] = () -> {
                if (!running[0]) {
                    return;
                }
                // UDP: one datagram per tick, all bytes equal to the sequence's low byte
                byte[] d = new byte[512];
                Arrays.fill(d, (byte) seq[0]++);
                udpClient.transport().sendTo(ByteBuffer.wrap(d), udpAddr);
                // churn: one short-lived connection per tick
                loop.createConnection(() -> new EchoClient(c, running, rnd.nextLong(), 16, true), "127.0.0.1", echoPort)
                        .addDoneCallback(f -> {
                            if (!f.isCancelled() && f.exception() != null) {
                                c.error("churn connect: " + f.exception());
                            }
                        });
                // timers: a burst, half cancelled
                for (int i = 0; i < 10; i++) {
                    c.timersScheduled++;
                    TimerHandle h = loop.callLater(Duration.ofMillis(rnd.nextInt(50)), () -> c.timersFired++);
                    if ((i & 1) == 0) {
                        h.cancel();
                        c.timersCancelled++;
                    }
                }
                // tasks cancelled while sleeping
                Task<Object> task = loop.createTask(() -> {
                    Tulip.sleep(Duration.ofSeconds(5));
                    return null;
                });
                loop.callLater(Duration.ofMillis(5), () -> task.cancel());
                task.addDoneCallback(t -> {
                    if (t.isCancelled()) {
                        c.tasksCancelled++;
                    } else {
                        c.error("task not cancelled");
                    }
                });
                loop.callLater(Duration.ofMillis(20), tick[0]);
            };
            loop.callSoon(tick[0]);
            heapStart = heapAfterGc();
            long nextSample = start + sample.toNanos();
            while (loop.time() < stopAt) {
                long until = Math.min(stopAt, nextSample);
                Future<Void> wait = loop.createFuture();
                loop.callAt(until, () -> wait.setResult(null));
                loop.runUntilComplete(wait);
                if (loop.time() >= nextSample) {
                    long heap = heapAfterGc();
                    heaps.add(heap);
                    String s = String.format(Locale.ROOT, "sample t=%ds heapMiB=%d fds=%d threads=%d echo=%d http=%d "
                                    + "udp=%d churn=%d timers=%d tasksCancelled=%d errors=%d corrupt=%d",
                            (loop.time() - start) / 1_000_000_000L, heap >> 20, fds(), Thread.activeCount(),
                            c.echoMessages, c.httpResponses, c.udpDatagrams, c.churn, c.timersFired,
                            c.tasksCancelled, c.errors, c.corrupt);
                    samples.add(s);
                    System.out.println(s);
                    nextSample += sample.toNanos();
                }
            }
            running[0] = false;
            // Let in-flight work finish (outstanding timers are < 50 ms, churn connections one round trip).
            Future<Void> settle = loop.createFuture();
            loop.callLater(Duration.ofMillis(1500), () -> settle.setResult(null));
            loop.runUntilComplete(settle);
            for (EchoClient e : echoClients) {
                if (e.lost) {
                    c.error("an echo connection was lost during the run");
                }
                e.t.close();
            }
            for (Transport t : httpClients) {
                t.close();
            }
            udpClient.transport().close();
            udpServer.transport().close();
            echo.close();
            http.close();
            Future<Void> closing = loop.createFuture();
            loop.callLater(Duration.ofMillis(500), () -> closing.setResult(null));
            loop.runUntilComplete(closing);
        }
        heapEnd = heapAfterGc();
        long fdsAfter = fds();
        long threadsAfter = Thread.activeCount();
        for (int i = 0; i < 50 && (fdsAfter > fdsBefore || threadsAfter > threadsBefore); i++) {
            Thread.sleep(100);
            fdsAfter = fds();
            threadsAfter = Thread.activeCount();
        }
        List<String> why = new ArrayList<>(c.problems);
        if (c.errors > 0) {
            why.add(c.errors + " errors");
        }
        if (c.corrupt > 0) {
            why.add(c.corrupt + " corrupted messages");
        }
        if (c.timersFired != c.timersScheduled - c.timersCancelled) {
            why.add("timers: fired " + c.timersFired + " of " + (c.timersScheduled - c.timersCancelled));
        }
        if (fdsAfter > fdsBefore) {
            List<String> extra = fdTargets();
            extra.removeAll(fdTargetsBefore);
            why.add("fds leaked: " + fdsBefore + " -> " + fdsAfter + " " + extra);
        }
        if (threadsAfter > threadsBefore) {
            why.add("threads leaked: " + threadsBefore + " -> " + threadsAfter);
        }
        if (heapEnd > heapStart + (32L << 20)) {
            why.add("heap grew: " + (heapStart >> 20) + " -> " + (heapEnd >> 20) + " MiB");
        }
        if (heaps.size() >= 4) {
            long firstHalf = heaps.subList(0, heaps.size() / 2).stream().mapToLong(Long::longValue).max().orElse(0);
            long secondHalf = heaps.subList(heaps.size() / 2, heaps.size()).stream().mapToLong(Long::longValue).max()
                    .orElse(0);
            if (secondHalf > firstHalf + (32L << 20)) {
                why.add("heap trend up: " + (firstHalf >> 20) + " -> " + (secondHalf >> 20) + " MiB");
            }
        }
        if (c.echoMessages == 0 || c.httpResponses == 0 || c.udpDatagrams == 0 || c.churn == 0
                || c.tasksCancelled == 0) {
            why.add("some traffic never flowed");
        }
        boolean pass = why.isEmpty();
        String verdict = String.format(Locale.ROOT, "SOAK %s seconds=%d echo=%d http=%d udp=%d churn=%d "
                        + "timersFired=%d timersCancelled=%d tasksCancelled=%d errors=%d corrupt=%d "
                        + "fds(before/after)=%d/%d threads(before/after)=%d/%d heapMiB(start/end)=%d/%d%s",
                pass ? "PASS" : "FAIL", duration.toSeconds(), c.echoMessages, c.httpResponses, c.udpDatagrams,
                c.churn, c.timersFired, c.timersCancelled, c.tasksCancelled, c.errors, c.corrupt, fdsBefore,
                fdsAfter, threadsBefore, threadsAfter, heapStart >> 20, heapEnd >> 20,
                pass ? "" : " problems=" + why);
        return new Result(pass, verdict, samples, c.echoMessages, c.httpResponses, c.udpDatagrams, c.churn,
                c.timersFired, c.tasksCancelled, c.errors, c.corrupt, fdsBefore, fdsAfter, threadsBefore,
                threadsAfter, heapStart >> 20, heapEnd >> 20);
    }

    /**
     * One-time JVM resources are made before counting: the virtual-thread poller's epoll fds, the management beans,
     * and the socket the JDK keeps open for the life of the JVM after the first {@code DatagramChannel} (measured:
     * a plain {@code DatagramChannel.open()}/{@code close()} leaves one socket fd behind).
     */
    private static void warmUp() {
        heapAfterGc();
        try (java.nio.channels.DatagramChannel ch = java.nio.channels.DatagramChannel.open()) {
            ch.bind(new InetSocketAddress("127.0.0.1", 0));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        try (EventLoop loop = EventLoop.create()) {
            loop.runUntilComplete(loop.createTask(() -> {
                Tulip.sleep(Duration.ofMillis(1));
                return null;
            }));
        }
    }

    private static List<String> fdTargets() {
        List<String> out = new ArrayList<>();
        try (var s = Files.list(Path.of("/proc/self/fd"))) {
            for (Path p : s.toList()) {
                try {
                    out.add(p.getFileName() + "->" + Files.readSymbolicLink(p));
                } catch (IOException gone) {
                    // closed meanwhile
                }
            }
        } catch (IOException e) {
            out.add(e.toString());
        }
        return out;
    }

    private static long heapAfterGc() {
        System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    private static long fds() {
        try (var s = Files.list(Path.of("/proc/self/fd"))) {
            return s.count();
        } catch (IOException e) {
            return -1;
        }
    }

    /**
     * Runs the soak from the command line.
     *
     * @param args {@code --minutes M} (default 30) or {@code --seconds S}, {@code --sample-seconds N} (default 10)
     */
    public static void main(String[] args) throws Exception {
        long seconds = Long.parseLong(Args.value(args, "--seconds",
                String.valueOf(Long.parseLong(Args.value(args, "--minutes", "30")) * 60)));
        long sampleSeconds = Long.parseLong(Args.value(args, "--sample-seconds", "10"));
        System.out.println("soak: " + seconds + " s of mixed traffic on one loop, sampling every " + sampleSeconds
                + " s");
        Result r = run(Duration.ofSeconds(seconds), Duration.ofSeconds(sampleSeconds));
        System.out.println(r.verdict());
        System.exit(r.pass() ? 0 : 1);
    }
}
