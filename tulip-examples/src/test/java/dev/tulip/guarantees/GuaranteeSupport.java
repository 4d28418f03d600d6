package dev.tulip.guarantees;

import dev.tulip.EventLoop;
import dev.tulip.ExceptionContext;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/** Measuring and plumbing shared by the guarantees tests: fds, heap, threads, a loop on its own thread, child JVMs. */
final class GuaranteeSupport {
    private GuaranteeSupport() {
    }

    private static boolean warm;

    /**
     * Makes the JDK's one-time, JVM-lifetime descriptors before any baseline is counted: the virtual-thread I/O
     * poller's epoll fds (first blocking socket call on a virtual thread) and the socket the JDK keeps after the first
     * {@code DatagramChannel}. Without this a fd baseline taken before them would show a "leak" of the JDK's own.
     */
    private static synchronized void warmUp() {
        if (warm) {
            return;
        }
        warm = true;
        try (java.net.ServerSocket ss = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress());
             java.nio.channels.DatagramChannel dc = java.nio.channels.DatagramChannel.open()) {
            dc.bind(new java.net.InetSocketAddress("127.0.0.1", 0));
            ss.setSoTimeout(10_000);
            Thread vt = Thread.ofVirtual().start(() -> {
                try (java.net.Socket s = new java.net.Socket()) {
                    s.connect(ss.getLocalSocketAddress(), 5000);
                    s.setSoTimeout(50);
                    s.getInputStream().read();
                } catch (IOException expected) {
                    // read timed out: the poller is up
                }
            });
            try (java.net.Socket accepted = ss.accept()) {
                vt.join(10_000);
            }
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException("warm-up failed", e);
        }
        usedHeapAfterGc();
    }

    /** Open file descriptors of this process (/proc/self/fd). */
    static long openFds() {
        warmUp(); // not from <clinit>: its virtual thread would wait for this class's initialization
        try (var s = Files.list(Path.of("/proc/self/fd"))) {
            return s.count();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** What each open fd points at (for failure messages). */
    static List<String> fdTargets() {
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

    /** Heap in use after a full collection, in bytes. */
    static long usedHeapAfterGc() {
        System.gc();
        System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    /** Heap in use now (no collection), in bytes. */
    static long usedHeap() {
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    static int liveThreads() {
        return Thread.activeCount();
    }

    static long longProp(String name, long dflt) {
        return Long.getLong(name, dflt);
    }

    /** Waits (bounded) until the fd count is at most {@code limit}; returns the last count. */
    static long awaitFdsAtMost(long limit, long timeoutMillis) throws InterruptedException {
        long end = System.currentTimeMillis() + timeoutMillis;
        long n = openFds();
        while (n > limit && System.currentTimeMillis() < end) {
            Thread.sleep(50);
            n = openFds();
        }
        return n;
    }

    /** A loop running {@code runForever} on its own platform thread; failures reaching the handler are kept. */
    static final class LoopThread implements AutoCloseable {
        final EventLoop loop;
        final ConcurrentLinkedQueue<ExceptionContext> failures = new ConcurrentLinkedQueue<>();
        private final Thread thread;

        LoopThread(String name) {
            loop = EventLoop.create();
            loop.setExceptionHandler((l, c) -> {
                failures.add(c);
                l.defaultExceptionHandler(c);
            });
            thread = Thread.ofPlatform().name(name).start(loop::runForever);
        }

        /** Runs {@code job} on the loop thread and waits (bounded) for its value. */
        <T> T call(Callable<T> job) throws Exception {
            CompletableFuture<T> f = new CompletableFuture<>();
            loop.callSoonThreadsafe(() -> {
                try {
                    f.complete(job.call());
                } catch (Throwable t) {
                    f.completeExceptionally(t);
                }
            });
            return f.get(60, TimeUnit.SECONDS);
        }

        /** Runs {@code job} (which returns a loop future) on the loop and waits for the future's result. */
        <T> T await(Callable<dev.tulip.Future<T>> job) throws Exception {
            CompletableFuture<T> f = new CompletableFuture<>();
            loop.callSoonThreadsafe(() -> {
                try {
                    job.call().addDoneCallback(d -> {
                        if (d.isCancelled()) {
                            f.cancel(false);
                        } else if (d.exception() != null) {
                            f.completeExceptionally(d.exception());
                        } else {
                            f.complete(d.result());
                        }
                    });
                } catch (Throwable t) {
                    f.completeExceptionally(t);
                }
            });
            try {
                return f.get(60, TimeUnit.SECONDS);
            } catch (java.util.concurrent.ExecutionException e) {
                if (e.getCause() instanceof Exception ex) {
                    throw ex;
                }
                throw e;
            }
        }

        @Override
        public void close() throws InterruptedException {
            loop.stop();
            thread.join(30_000);
            if (thread.isAlive()) {
                throw new IllegalStateException("loop thread did not stop");
            }
            loop.close();
        }
    }

    /** A child JVM running {@code mainClass} of the test class path with the same JDK. */
    static ProcessBuilder javaChild(List<String> jvmFlags, Class<?> mainClass, String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xshare:auto");
        cmd.addAll(jvmFlags);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(mainClass.getName());
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).redirectErrorStream(true);
    }

    /** Reads a child's output on a virtual thread, echoing it to our stdout; {@link #lines} holds every line. */
    static final class Output {
        final List<String> lines = java.util.Collections.synchronizedList(new ArrayList<>());
        private final Thread reader;

        Output(Process p, String prefix) {
            InputStream in = p.getInputStream();
            reader = Thread.ofVirtual().start(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                    for (String l; (l = r.readLine()) != null; ) {
                        lines.add(l);
                        System.out.println(prefix + l);
                    }
                } catch (IOException ignored) {
                    // the child went away
                }
            });
        }

        String await(String prefix, long timeoutMillis) throws InterruptedException {
            long end = System.currentTimeMillis() + timeoutMillis;
            while (System.currentTimeMillis() < end) {
                synchronized (lines) {
                    for (String l : lines) {
                        if (l.startsWith(prefix)) {
                            return l;
                        }
                    }
                }
                Thread.sleep(20);
            }
            return null;
        }

        /** Waits until the child's output reached EOF (after it exited); fails if it does not within 60 s. */
        void join() throws InterruptedException {
            if (!reader.join(java.time.Duration.ofSeconds(60))) {
                throw new AssertionError("the child's output never reached EOF; so far: " + lines);
            }
        }
    }

    /** Parses "key=value" words of a line. */
    static long field(String line, String key) {
        for (String w : line.split(" ")) {
            if (w.startsWith(key + "=")) {
                return Long.parseLong(w.substring(key.length() + 1));
            }
        }
        throw new IllegalArgumentException("no " + key + " in: " + line);
    }

    /** A self-signed localhost / 127.0.0.1 certificate made once per JVM with keytool. */
    static final class SelfSigned {
        static final String PASS = "changeit";
        private static SelfSigned instance;
        final Path keyStore;
        final SSLContext serverContext;
        /** Trusts exactly the self-signed certificate. */
        final SSLContext clientContext;

        private SelfSigned(Path keyStore) throws Exception {
            this.keyStore = keyStore;
            KeyStore ks = KeyStore.getInstance("PKCS12");
            try (InputStream in = Files.newInputStream(keyStore)) {
                ks.load(in, PASS.toCharArray());
            }
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, PASS.toCharArray());
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            trust.setCertificateEntry("server", ks.getCertificate("server"));
            tmf.init(trust);
            serverContext = SSLContext.getInstance("TLS");
            serverContext.init(kmf.getKeyManagers(), null, null);
            clientContext = SSLContext.getInstance("TLS");
            clientContext.init(null, tmf.getTrustManagers(), null);
        }

        static synchronized SelfSigned get() throws Exception {
            if (instance == null) {
                Path dir = Path.of("target", "guarantees-certs").toAbsolutePath();
                Path ks = dir.resolve("server.p12");
                if (!Files.exists(ks)) {
                    Files.createDirectories(dir);
                    Path tmp = dir.resolve("server-" + ProcessHandle.current().pid() + ".p12");
                    Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                            "-genkeypair", "-alias", "server", "-keyalg", "EC", "-groupname", "secp256r1",
                            "-dname", "CN=localhost", "-ext", "SAN=dns:localhost,ip:127.0.0.1", "-validity", "30",
                            "-keystore", tmp.toString(), "-storepass", PASS, "-storetype", "PKCS12")
                            .redirectErrorStream(true).start();
                    p.getInputStream().readAllBytes();
                    if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
                        throw new IOException("keytool failed");
                    }
                    Files.move(tmp, ks, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
                }
                instance = new SelfSigned(ks);
            }
            return instance;
        }
    }
}
