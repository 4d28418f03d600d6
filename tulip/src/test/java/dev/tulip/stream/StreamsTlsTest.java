package dev.tulip.stream;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tulip.EventLoop;
import dev.tulip.ExceptionContext;
import dev.tulip.Task;
import dev.tulip.transport.ConnectOptions;
import dev.tulip.transport.Server;
import dev.tulip.transport.ServerOptions;
import dev.tulip.transport.TlsOptions;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Streams over TLS: at connect and accept, and upgraded in the middle of a connection (STARTTLS). */
@Timeout(120)
class StreamsTlsTest {
    static SSLContext clientContext;
    static SSLContext serverContext;

    EventLoop loop;
    final List<ExceptionContext> errors = new ArrayList<>();

    /** The TLS suite's test certificates (made once per JVM with keytool, cached under target/). */
    @BeforeAll
    @Timeout(600)
    static void certificates() throws Exception {
        Class<?> c = Class.forName("dev.tulip.internal.tls.TestCerts");
        Method get = c.getDeclaredMethod("get");
        get.setAccessible(true);
        Object certs = get.invoke(null);
        Field client = c.getDeclaredField("clientContext");
        Field server = c.getDeclaredField("serverContext");
        client.setAccessible(true);
        server.setAccessible(true);
        clientContext = (SSLContext) client.get(certs);
        serverContext = (SSLContext) server.get(certs);
    }

    @BeforeEach
    void setUp() {
        loop = EventLoop.create();
        loop.setExceptionHandler((l, c) -> errors.add(c));
    }

    @AfterEach
    void tearDown() {
        loop.close();
    }

    <T> T run(dev.tulip.Coroutine<T> body) {
        return loop.runUntilComplete(loop.createTask(body));
    }

    static TlsOptions client() {
        return TlsOptions.client().context(clientContext).serverHostname("localhost").build();
    }

    static TlsOptions server() {
        return TlsOptions.server(serverContext).build();
    }

    static int port(Server s) {
        return ((InetSocketAddress) s.addresses().get(0)).getPort();
    }

    @Test
    void tlsAtConnectAndAccept() {
        List<String> got = run(() -> {
            Server server = Streams.startServer((r, w) -> {
                assertNotNull(w.info().sslSession());
                for (String line; (line = r.readLine(UTF_8)) != null; ) {
                    w.write("tls: " + line + "\n", UTF_8);
                    w.drain();
                }
            }, "127.0.0.1", 0, ServerOptions.defaults(), server()).await();
            StreamConnection c = Streams.openConnection("127.0.0.1", port(server), ConnectOptions.defaults(),
                    client()).await();
            List<String> out = new ArrayList<>();
            out.add(String.valueOf(c.writer().info().sslSession() != null));
            out.add(String.valueOf(c.writer().canWriteEof()));
            c.writer().write("one\ntwo\n", UTF_8);
            out.add(c.reader().readLine(UTF_8));
            out.add(c.reader().readLine(UTF_8));
            c.close();
            c.writer().waitClosed();
            server.close();
            return out;
        });
        assertEquals(List.of("true", "false", "tls: one", "tls: two"), got);
        assertEquals(List.of(), errors);
    }

    @Test
    void startTlsUpgradesBothEnds() {
        List<String> got = run(() -> {
            Server server = Streams.startServer((r, w) -> {
                assertEquals("STARTTLS", r.readLine(UTF_8));
                w.write("GO\n", UTF_8);
                w.startTls(server());
                assertNotNull(w.info().sslSession());
                r.setLimit(2 << 20);
                for (String line; (line = r.readLine(UTF_8)) != null; ) {
                    w.write("secure " + line + "\n", UTF_8);
                }
            }, "127.0.0.1", 0).await();
            StreamConnection c = Streams.openConnection("127.0.0.1", port(server)).await();
            List<String> out = new ArrayList<>();
            assertNull(c.writer().info().sslSession());
            assertTrue(c.writer().canWriteEof());
            c.writer().write("STARTTLS\n", UTF_8);
            out.add(c.reader().readLine(UTF_8));
            c.writer().startTls(client());
            out.add(String.valueOf(c.writer().info().sslSession() != null));
            assertFalse(c.writer().canWriteEof());
            c.writer().write("hello\n", UTF_8);
            out.add(c.reader().readLine(UTF_8));
            // Large data both ways through the upgraded streams, with drain.
            byte[] big = new byte[1 << 20];
            Task<Void> w = Task.spawn(() -> {
                for (int i = 0; i < 4; i++) {
                    c.writer().write(big);
                    c.writer().write("\n".getBytes());
                    c.writer().drain();
                }
                return null;
            });
            c.reader().setLimit(2 << 20);
            for (int i = 0; i < 4; i++) {
                out.add("len " + c.reader().readLine().length);
            }
            w.await();
            c.close();
            server.close();
            return out;
        });
        int n = "secure ".length() + (1 << 20) + 1;
        assertEquals(List.of("GO", "true", "secure hello", "len " + n, "len " + n, "len " + n, "len " + n), got);
        assertEquals(List.of(), errors);
    }

    @Test
    void startTlsRefusesUnreadBytes() {
        String msg = run(() -> {
            Server server = Streams.startServer((r, w) -> {
                w.write("GO\nearly-bytes", UTF_8);
                r.readAll();
            }, "127.0.0.1", 0).await();
            StreamConnection c = Streams.openConnection("127.0.0.1", port(server)).await();
            c.reader().readLine(UTF_8);
            while (c.reader().buffered() == 0) {
                dev.tulip.Tulip.sleep(java.time.Duration.ofMillis(5));
            }
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> c.writer().startTls(client()));
            c.close();
            server.close();
            return e.getMessage();
        });
        assertTrue(msg.contains("unread bytes"), msg);
    }
}
