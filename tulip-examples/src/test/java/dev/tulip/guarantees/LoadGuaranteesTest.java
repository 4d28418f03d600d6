package dev.tulip.guarantees;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tulip.guarantees.GuaranteeSupport.LoopThread;
import dev.tulip.guarantees.GuaranteeSupport.Output;
import dev.tulip.guarantees.GuaranteeSupport.SelfSigned;
import dev.tulip.transport.Protocol;
import dev.tulip.transport.Server;
import dev.tulip.transport.ServerOptions;
import dev.tulip.transport.TlsOptions;
import dev.tulip.transport.Transport;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Load: many concurrent connections on ONE loop echoing 1 KiB random messages, the client in another process
 * ({@link EchoCheckClient}), every echoed byte compared by the client and a CRC32 of each direction's stream compared
 * between the processes; then fds back to the baseline after close. Sizes: {@code -Dguarantees.conns} (10,000),
 * {@code -Dguarantees.seconds} (5; the manual run uses 30), {@code -Dguarantees.tlsConns} (1,000),
 * {@code -Dguarantees.tlsSeconds} (3).
 */
@Tag("guarantees")
@Timeout(value = 600, unit = TimeUnit.SECONDS)
class LoadGuaranteesTest {

    /** Echoes and keeps a CRC32 of what it received; totals are added up when the connection is lost. */
    static final class CheckedEcho implements Protocol {
        static final AtomicLong CRC_SUM = new AtomicLong();
        static final AtomicLong BYTES = new AtomicLong();
        static final AtomicLong CLOSED = new AtomicLong();
        static final AtomicLong OPENED = new AtomicLong();
        static final AtomicLong ERRORS = new AtomicLong();
        static final AtomicLong MAX_BUFFERED = new AtomicLong();
        private final CRC32 crc = new CRC32();
        private long bytes;
        private Transport t;

        static void reset() {
            CRC_SUM.set(0);
            BYTES.set(0);
            CLOSED.set(0);
            OPENED.set(0);
            ERRORS.set(0);
            MAX_BUFFERED.set(0);
        }

        @Override
        public void connectionMade(Transport transport) {
            t = transport;
            OPENED.incrementAndGet();
        }

        @Override
        public void dataReceived(ByteBuffer data) {
            crc.update(data.duplicate());
            bytes += data.remaining();
            t.write(data);
            long b = t.writeBufferSize();
            if (b > MAX_BUFFERED.get()) {
                MAX_BUFFERED.set(b);
            }
        }

        @Override
        public boolean eofReceived() {
            return false;
        }

        @Override
        public void connectionLost(Throwable cause) {
            if (cause != null) {
                ERRORS.incrementAndGet();
            }
            CRC_SUM.addAndGet(crc.getValue());
            BYTES.addAndGet(bytes);
            CLOSED.incrementAndGet();
        }
    }

    @Test
    void tcpEchoManyConnectionsOneLoopNoErrorsNoCorruption() throws Exception {
        run(false, (int) GuaranteeSupport.longProp("guarantees.conns", 10_000),
                GuaranteeSupport.longProp("guarantees.seconds", 5));
    }

    @Test
    void tlsEchoManyConnectionsOneLoopNoErrorsNoCorruption() throws Exception {
        run(true, (int) GuaranteeSupport.longProp("guarantees.tlsConns", 1_000),
                GuaranteeSupport.longProp("guarantees.tlsSeconds", 3));
    }

    private void run(boolean tls, int conns, long seconds) throws Exception {
        SelfSigned certs = tls ? SelfSigned.get() : null;
        CheckedEcho.reset();
        long fdsBefore = GuaranteeSupport.openFds();
        long heapBefore = GuaranteeSupport.usedHeapAfterGc();
        String line;
        long heapHeld;
        long fdsHeld;
        try (LoopThread lt = new LoopThread("load-loop")) {
            ServerOptions opts = ServerOptions.defaults().withBacklog(4096);
            Server server = lt.await(() -> tls
                    ? lt.loop.createServer(CheckedEcho::new, "127.0.0.1", 0, opts,
                            TlsOptions.server(certs.serverContext).build())
                    : lt.loop.createServer(CheckedEcho::new, "127.0.0.1", 0, opts));
            int port = ((InetSocketAddress) server.addresses().get(0)).getPort();
            List<String> args = new ArrayList<>(List.of(String.valueOf(port), String.valueOf(conns),
                    String.valueOf(seconds), "1024"));
            if (tls) {
                args.add(certs.keyStore.toString());
            }
            Process p = GuaranteeSupport.javaChild(List.of("-Xmx512m", "-Xss256k"), EchoCheckClient.class,
                    args.toArray(String[]::new)).start();
            try {
                Output out = new Output(p, "[client] ");
                String held = out.await("HELD", 300_000);
                assertNotNull(held, "the client never held all connections");
                long until = System.currentTimeMillis() + 60_000;
                while (CheckedEcho.OPENED.get() - CheckedEcho.CLOSED.get() < conns
                        && System.currentTimeMillis() < until) {
                    Thread.sleep(20);
                }
                fdsHeld = GuaranteeSupport.openFds();
                heapHeld = GuaranteeSupport.usedHeap();
                assertTrue(p.waitFor(seconds + 300, TimeUnit.SECONDS), "client did not finish");
                out.join();
                line = out.await("RESULT", 1000);
                assertNotNull(line, "no RESULT from the client: " + out.lines);
                assertEquals(0, p.exitValue(), line);
            } finally {
                p.destroyForcibly();
            }
            long end = System.currentTimeMillis() + 60_000;
            while (CheckedEcho.CLOSED.get() < conns && System.currentTimeMillis() < end) {
                Thread.sleep(20);
            }
            assertEquals(conns, CheckedEcho.CLOSED.get(), "server saw every connection end");
            lt.call(() -> {
                server.close();
                return null;
            });
            assertTrue(lt.failures.isEmpty(), "nothing reached the loop's exception handler: " + lt.failures);
        }
        assertEquals(0, GuaranteeSupport.field(line, "errors"), line);
        assertEquals(0, GuaranteeSupport.field(line, "corrupt"), line);
        assertEquals(0, CheckedEcho.ERRORS.get(), "server-side connections lost with an error");
        long sent = GuaranteeSupport.field(line, "sent");
        assertEquals(sent, GuaranteeSupport.field(line, "received"), "client got back every byte it sent");
        assertEquals(sent, CheckedEcho.BYTES.get(), "server received every byte the client sent");
        assertEquals(GuaranteeSupport.field(line, "crcsum"), CheckedEcho.CRC_SUM.get(),
                "per-connection CRC32 of client->server streams agree");
        assertTrue(sent > 0);
        long fdsAfter = GuaranteeSupport.awaitFdsAtMost(fdsBefore + 4, 30_000);
        long heapAfter = GuaranteeSupport.usedHeapAfterGc();
        System.out.printf("GUARANTEE load tls=%s conns=%d seconds=%d messages=%d bytesEachWay=%d "
                        + "fds(before/held/after)=%d/%d/%d heapMiB(before/held/afterGc)=%d/%d/%d maxServerBuffer=%d%n",
                tls, conns, seconds, GuaranteeSupport.field(line, "messages"), sent, fdsBefore, fdsHeld, fdsAfter,
                heapBefore >> 20, heapHeld >> 20, heapAfter >> 20, CheckedEcho.MAX_BUFFERED.get());
        assertTrue(fdsHeld >= fdsBefore + conns, "server held every connection at once: " + fdsHeld);
        assertTrue(fdsAfter <= fdsBefore + 4, "fds back to baseline: before=" + fdsBefore + " after=" + fdsAfter);
    }
}
