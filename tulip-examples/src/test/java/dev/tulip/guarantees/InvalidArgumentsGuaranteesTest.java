package dev.tulip.guarantees;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.tulip.EventLoop;
import dev.tulip.Future;
import dev.tulip.InvalidStateException;
import dev.tulip.examples.http.HttpRequestParser;
import dev.tulip.examples.http.HttpServer;
import dev.tulip.transport.ConnectOptions;
import dev.tulip.transport.Connection;
import dev.tulip.transport.DatagramOptions;
import dev.tulip.transport.Protocol;
import dev.tulip.transport.Server;
import dev.tulip.transport.ServerOptions;
import dev.tulip.transport.TlsOptions;
import dev.tulip.transport.Transport;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Invalid arguments to public methods: each call in the table must fail at once with the stated exception type and a
 * message (thrown, or for asynchronous operations a future already failed with it). Nulls, negatives, out-of-range
 * ports and sizes, a closed loop, the wrong thread in debug mode, misuse of futures and closed transports.
 */
@Tag("guarantees")
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class InvalidArgumentsGuaranteesTest {

    /** One row: what is called and which exception it must give. */
    record Row(String call, Class<? extends Throwable> expected, ThrowingCall body) {
    }

    /** A call that may throw or return a future. */
    interface ThrowingCall {
        Object run() throws Throwable;
    }

    private static final Supplier<Protocol> P = () -> new Protocol() { };
    private static final Runnable NOOP = () -> { };

    private static String check(Row row) {
        Throwable got = null;
        try {
            Object r = row.body().run();
            if (r instanceof Future<?> f) {
                if (!f.isDone()) {
                    return row.call() + ": returned a pending future instead of failing";
                }
                got = f.isCancelled() ? new java.util.concurrent.CancellationException() : f.exception();
            }
        } catch (Throwable t) {
            got = t;
        }
        if (got == null) {
            return row.call() + ": no exception";
        }
        if (!row.expected().isInstance(got)) {
            return row.call() + ": expected " + row.expected().getSimpleName() + " but got " + got;
        }
        if (got.getMessage() == null || got.getMessage().isBlank()) {
            return row.call() + ": " + got.getClass().getSimpleName() + " without a message";
        }
        return null;
    }

    @Test
    void everyRowFailsClearly() throws Exception {
        List<String> problems = new ArrayList<>();
        int[] rows = {0};
        try (EventLoop loop = EventLoop.create()) {
            Server server = loop.runUntilComplete(loop.createServer(P, "127.0.0.1", 0));
            int port = ((InetSocketAddress) server.addresses().get(0)).getPort();
            Connection<Protocol> conn = loop.runUntilComplete(loop.createConnection(P, "127.0.0.1", port));
            Transport t = conn.transport();
            Future<String> done = loop.createFuture();
            done.setResult("x");
            Transport closed = loop.runUntilComplete(loop.createConnection(P, "127.0.0.1", port)).transport();
            closed.close();

            List<Row> table = List.of(
                    new Row("callSoon(null)", NullPointerException.class, () -> loop.callSoon(null)),
                    new Row("callLater(null, r)", NullPointerException.class, () -> loop.callLater(null, NOOP)),
                    new Row("callLater(d, null)", NullPointerException.class,
                            () -> loop.callLater(Duration.ofMillis(1), null)),
                    new Row("callAt(t, null)", NullPointerException.class, () -> loop.callAt(0, null)),
                    new Row("callSoonThreadsafe(null)", NullPointerException.class,
                            () -> loop.callSoonThreadsafe(null)),
                    new Row("runUntilComplete(null)", NullPointerException.class, () -> loop.runUntilComplete(null)),
                    new Row("createTask(null)", NullPointerException.class, () -> loop.createTask(null)),
                    new Row("createServer(null factory)", NullPointerException.class,
                            () -> loop.createServer(null, "127.0.0.1", 0)),
                    new Row("createServer(port -1)", IllegalArgumentException.class,
                            () -> loop.createServer(P, "127.0.0.1", -1)),
                    new Row("createServer(port 65536)", IllegalArgumentException.class,
                            () -> loop.createServer(P, "127.0.0.1", 65536)),
                    new Row("createConnection(null host)", NullPointerException.class,
                            () -> loop.createConnection(P, null, port)),
                    new Row("createConnection(port 70000)", IllegalArgumentException.class,
                            () -> loop.createConnection(P, "127.0.0.1", 70000)),
                    new Row("createConnection(null options)", NullPointerException.class,
                            () -> loop.createConnection(P, "127.0.0.1", port, (ConnectOptions) null)),
                    new Row("createUnixServer(null path)", NullPointerException.class,
                            () -> loop.createUnixServer(P, null)),
                    new Row("ServerOptions.withBacklog(-1)", IllegalArgumentException.class,
                            () -> ServerOptions.defaults().withBacklog(-1)),
                    new Row("DatagramOptions.maxDatagramSize(70000)", IllegalArgumentException.class,
                            () -> DatagramOptions.builder().maxDatagramSize(70000).build()),
                    new Row("DatagramOptions.maxDatagramSize(-1)", IllegalArgumentException.class,
                            () -> DatagramOptions.builder().maxDatagramSize(-1).build()),
                    new Row("TlsOptions.handshakeTimeout(0)", IllegalArgumentException.class,
                            () -> TlsOptions.client().handshakeTimeout(Duration.ZERO)),
                    new Row("TlsOptions.server(null)", NullPointerException.class, () -> TlsOptions.server(null)),
                    new Row("transport.write(null)", NullPointerException.class, () -> {
                        t.write((ByteBuffer) null);
                        return null;
                    }),
                    new Row("transport.setWriteBufferLimits(-1, 0)", IllegalArgumentException.class, () -> {
                        t.setWriteBufferLimits(-1, 0);
                        return null;
                    }),
                    new Row("transport.setWriteBufferLimits(10, 20) (low > high)", IllegalArgumentException.class,
                            () -> {
                                t.setWriteBufferLimits(10, 20);
                                return null;
                            }),
                    new Row("write after close", IllegalStateException.class, () -> {
                        closed.write(ByteBuffer.allocate(1));
                        return null;
                    }),
                    new Row("future.setResult twice", InvalidStateException.class, () -> {
                        done.setResult("y");
                        return null;
                    }),
                    new Row("future.await on the loop thread outside a task", IllegalStateException.class, () -> {
                        CompletableFuture<Throwable> r = new CompletableFuture<>();
                        Future<Object> pending = loop.createFuture();
                        loop.callSoon(() -> {
                            try {
                                pending.await();
                                r.complete(null);
                            } catch (Throwable x) {
                                r.complete(x);
                            }
                        });
                        Future<Void> tick = loop.createFuture();
                        loop.callSoon(() -> tick.setResult(null));
                        loop.runUntilComplete(tick);
                        Throwable x = r.getNow(null);
                        if (x != null) {
                            throw x;
                        }
                        return null;
                    }),
                    new Row("runForever inside a callback", IllegalStateException.class, () -> {
                        CompletableFuture<Throwable> r = new CompletableFuture<>();
                        loop.callSoon(() -> {
                            try {
                                loop.runForever();
                                r.complete(null);
                            } catch (Throwable x) {
                                r.complete(x);
                            }
                        });
                        Future<Void> tick = loop.createFuture();
                        loop.callSoon(() -> tick.setResult(null));
                        loop.runUntilComplete(tick);
                        Throwable x = r.getNow(null);
                        if (x != null) {
                            throw x;
                        }
                        return null;
                    }),
                    new Row("HttpServer.Options(zero timeout)", IllegalArgumentException.class,
                            () -> new HttpServer.Options(Duration.ZERO, Duration.ofSeconds(1),
                                    HttpRequestParser.Limits.defaults())),
                    new Row("HttpRequestParser.Limits(tiny)", IllegalArgumentException.class,
                            () -> new HttpRequestParser.Limits(1, 1, 0, -1)));
            for (Row row : table) {
                rows[0]++;
                String p = check(row);
                if (p != null) {
                    problems.add(p);
                }
            }
            t.close();
            server.close();
        }
        // Wrong thread, debug mode: loop methods called from another thread while the loop runs are refused.
        try (GuaranteeSupport.LoopThread lt = new GuaranteeSupport.LoopThread("debug-loop")) {
            lt.call(() -> {
                lt.loop.setDebug(true);
                return null;
            });
            for (Row row : List.of(
                    new Row("wrong thread (debug): callSoon", IllegalStateException.class, () -> lt.loop.callSoon(NOOP)),
                    new Row("wrong thread (debug): callLater", IllegalStateException.class,
                            () -> lt.loop.callLater(Duration.ofMillis(1), NOOP)),
                    new Row("wrong thread (debug): createServer", IllegalStateException.class,
                            () -> lt.loop.createServer(P, "127.0.0.1", 0)))) {
                rows[0]++;
                String p = check(row);
                if (p != null) {
                    problems.add(p);
                }
            }
        }
        // Closed loop.
        EventLoop dead = EventLoop.create();
        dead.close();
        List<Row> closedRows = List.of(
                new Row("closed loop: callSoon", IllegalStateException.class, () -> dead.callSoon(NOOP)),
                new Row("closed loop: callLater", IllegalStateException.class,
                        () -> dead.callLater(Duration.ofMillis(1), NOOP)),
                new Row("closed loop: runForever", IllegalStateException.class, () -> {
                    dead.runForever();
                    return null;
                }),
                new Row("closed loop: createServer", IllegalStateException.class,
                        () -> dead.createServer(P, "127.0.0.1", 0)),
                new Row("closed loop: createConnection", IllegalStateException.class,
                        () -> dead.createConnection(P, "127.0.0.1", 1)),
                new Row("closed loop: createTask", IllegalStateException.class, () -> dead.createTask(() -> 1)));
        for (Row row : closedRows) {
            rows[0]++;
            String p = check(row);
            if (p != null) {
                problems.add(p);
            }
        }
        System.out.println("GUARANTEE invalid-arguments rows=" + rows[0] + " problems=" + problems.size());
        if (!problems.isEmpty()) {
            fail(String.join("\n", problems));
        }
        assertTrue(rows[0] > 30);
    }
}
