package dev.tulip.guarantees;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

/**
 * The load tests' client, run in a child JVM: opens {@code conns} connections (one virtual thread each, blocking
 * sockets), holds them all open at once, then each echoes {@code size}-byte random messages for {@code seconds},
 * comparing every echoed byte with what it sent, and keeps a CRC32 of its sent stream per connection. Prints
 * {@code HELD conns=N} once all are open and a final {@code RESULT ...} line.
 *
 * <pre>EchoCheckClient PORT CONNS SECONDS SIZE [TRUSTSTORE.p12]</pre>
 */
public final class EchoCheckClient {
    private EchoCheckClient() {
    }

    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        int conns = Integer.parseInt(args[1]);
        long seconds = Long.parseLong(args[2]);
        int size = Integer.parseInt(args[3]);
        SSLContext tls = args.length > 4 ? trusting(Path.of(args[4])) : null;

        AtomicLong errors = new AtomicLong();
        AtomicLong corrupt = new AtomicLong();
        AtomicLong sent = new AtomicLong();
        AtomicLong received = new AtomicLong();
        AtomicLong crcSum = new AtomicLong();
        AtomicLong messages = new AtomicLong();
        CountDownLatch connected = new CountDownLatch(conns);
        CountDownLatch go = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(conns);
        Semaphore connecting = new Semaphore(tls != null ? 32 : 128);
        long[] deadline = new long[1];

        for (int i = 0; i < conns; i++) {
            final int id = i;
            Thread.ofVirtual().start(() -> {
                Socket s = null;
                boolean counted = false;
                try {
                    connecting.acquire();
                    try {
                        if (tls != null) {
                            SSLSocket ss = (SSLSocket) tls.getSocketFactory().createSocket();
                            ss.connect(new InetSocketAddress("127.0.0.1", port), 60_000);
                            ss.startHandshake();
                            s = ss;
                        } else {
                            s = new Socket();
                            s.connect(new InetSocketAddress("127.0.0.1", port), 60_000);
                        }
                    } finally {
                        connecting.release();
                    }
                    s.setSoTimeout(60_000);
                    s.setTcpNoDelay(true);
                    connected.countDown();
                    counted = true;
                    go.await();
                    SplittableRandom rnd = new SplittableRandom(id * 7919L + 17);
                    byte[] out = new byte[size];
                    byte[] in = new byte[size];
                    CRC32 crc = new CRC32();
                    OutputStream o = s.getOutputStream();
                    InputStream r = s.getInputStream();
                    while (System.nanoTime() < deadline[0]) {
                        rnd.nextBytes(out);
                        o.write(out);
                        o.flush();
                        crc.update(out);
                        sent.addAndGet(size);
                        int got = r.readNBytes(in, 0, size);
                        received.addAndGet(got);
                        if (got != size) {
                            errors.incrementAndGet();
                            break;
                        }
                        if (!Arrays.equals(in, out)) {
                            corrupt.incrementAndGet();
                        }
                        messages.incrementAndGet();
                    }
                    crcSum.addAndGet(crc.getValue());
                    if (!(s instanceof SSLSocket)) { // TLS: close() below sends close_notify
                        s.shutdownOutput();
                        if (r.read() != -1) { // the server closes after our EOF; nothing more may arrive
                            corrupt.incrementAndGet();
                        }
                    }
                } catch (Exception e) {
                    if (errors.incrementAndGet() <= 5) {
                        System.out.println("ERROR conn " + id + ": " + e);
                    }
                } finally {
                    if (!counted) {
                        connected.countDown();
                    }
                    if (s != null) {
                        try {
                            s.close();
                        } catch (Exception ignored) {
                            // closing
                        }
                    }
                    done.countDown();
                }
            });
        }
        if (!connected.await(240, TimeUnit.SECONDS)) {
            System.out.println("RESULT timeout-connecting errors=" + (errors.get() + 1));
            System.exit(2);
        }
        System.out.println("HELD conns=" + (conns - errors.get()) + " fds=" + fds());
        deadline[0] = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        go.countDown();
        if (!done.await(seconds + 240, TimeUnit.SECONDS)) {
            System.out.println("RESULT timeout-echoing errors=" + (errors.get() + 1));
            System.exit(2);
        }
        System.out.println("RESULT conns=" + conns + " messages=" + messages.get() + " sent=" + sent.get()
                + " received=" + received.get() + " crcsum=" + crcSum.get() + " errors=" + errors.get()
                + " corrupt=" + corrupt.get());
        System.exit(0);
    }

    private static long fds() {
        try (var s = Files.list(Path.of("/proc/self/fd"))) {
            return s.count();
        } catch (Exception e) {
            return -1;
        }
    }

    private static SSLContext trusting(Path p12) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(p12)) {
            ks.load(in, GuaranteeSupport.SelfSigned.PASS.toCharArray());
        }
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("server", ks.getCertificate("server"));
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext c = SSLContext.getInstance("TLS");
        c.init(null, tmf.getTrustManagers(), null);
        return c;
    }
}
