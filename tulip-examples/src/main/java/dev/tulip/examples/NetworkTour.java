package dev.tulip.examples;

import dev.tulip.EventLoop;
import dev.tulip.Future;
import dev.tulip.Scope;
import dev.tulip.Task;
import dev.tulip.TaskGroup;
import dev.tulip.TaskGroupException;
import dev.tulip.TimeoutException;
import dev.tulip.Timeout;
import dev.tulip.Tulip;
import dev.tulip.examples.http.HttpServer;
import dev.tulip.stream.StreamConnection;
import dev.tulip.stream.Streams;
import dev.tulip.stream.Subprocess;
import dev.tulip.transport.DatagramOptions;
import dev.tulip.transport.DatagramProtocol;
import dev.tulip.transport.DatagramTransport;
import dev.tulip.transport.ProcessOptions;
import dev.tulip.transport.Protocol;
import dev.tulip.transport.Server;
import dev.tulip.transport.ServerOptions;
import dev.tulip.transport.ConnectOptions;
import dev.tulip.transport.TlsOptions;
import dev.tulip.transport.Transport;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * The second half of the demo: tasks, structured concurrency, timeouts, and servers with their clients on loopback
 * (TCP on the protocol, streams and sock* APIs, UDP, UNIX sockets, TLS, HTTP/1.1), a child process and a signal.
 * Each section runs its own {@code Tulip.run} and returns normally when what it printed is what it claims.
 */
final class NetworkTour {
    private NetworkTour() {
    }

    /** Two tasks interleave at their awaits; the main task awaits both results. */
    static void tasks() {
        List<String> order = new ArrayList<>();
        int sum = Tulip.run(() -> {
            Task<Integer> a = Task.spawn("a", () -> {
                order.add("a starts");
                Tulip.sleep(Duration.ofMillis(20));
                order.add("a ends");
                return 1;
            });
            Task<Integer> b = Task.spawn("b", () -> {
                order.add("b starts");
                Tulip.sleep(Duration.ofMillis(10));
                order.add("b ends");
                return 2;
            });
            return a.await() + b.await();
        });
        Demo.say("tasks ran as %s and the main task got %d", order, sum);
        Demo.check(sum == 3 && order.equals(List.of("a starts", "b starts", "b ends", "a ends")),
                "tasks interleave at their awaits");
    }

    /** A failing child cancels its siblings; the group reports the failure. */
    static void taskGroup() {
        List<String> seen = new ArrayList<>();
        try {
            Tulip.run(() -> {
                try (TaskGroup group = TaskGroup.open()) {
                    group.spawn("slow sibling", () -> {
                        try {
                            Tulip.sleep(Duration.ofSeconds(30));
                            return null;
                        } catch (CancellationException e) {
                            seen.add("sibling cancelled");
                            throw e;
                        }
                    });
                    group.spawn("failing child", () -> {
                        Tulip.sleep(Duration.ofMillis(10));
                        throw new IllegalStateException("child failed on purpose");
                    });
                }
                return null;
            });
        } catch (TaskGroupException e) {
            seen.add("group failed: " + e.getMessage());
        }
        Demo.say("%s", seen);
        Demo.check(seen.size() == 2 && seen.get(0).equals("sibling cancelled"),
                "a failing child cancels its sibling and the group reports it");
    }

    /** A timeout scope cancels the body at its deadline and turns it into a TimeoutException. */
    static void timeout() {
        String outcome = Tulip.run(() -> {
            try (Timeout t = Tulip.timeout(Duration.ofMillis(30))) {
                Tulip.sleep(Duration.ofSeconds(10));
                return "slept";
            } catch (TimeoutException e) {
                return "timed out after 30 ms";
            }
        });
        Demo.say("%s", outcome);
        Demo.check(outcome.startsWith("timed out"), "the timeout fired");
    }

    /** An echo protocol: the callback API that the benchmarks measure. */
    static final class Echo implements Protocol {
        private Transport transport;

        @Override
        public void connectionMade(Transport t) {
            transport = t;
        }

        @Override
        public void dataReceived(ByteBuffer data) {
            transport.write(data);
        }
    }

    /** A client protocol that sends a message and completes when it got it back. */
    static final class EchoClient implements Protocol {
        private final byte[] message;
        private final Future<String> reply;
        private final ByteArrayOutputStream got = new ByteArrayOutputStream();

        EchoClient(EventLoop loop, String message) {
            this.message = message.getBytes(StandardCharsets.UTF_8);
            this.reply = loop.createFuture();
        }

        @Override
        public void connectionMade(Transport t) {
            t.write(ByteBuffer.wrap(message));
        }

        @Override
        public void dataReceived(ByteBuffer data) {
            byte[] b = new byte[data.remaining()];
            data.get(b);
            got.writeBytes(b);
            if (got.size() >= message.length && !reply.isDone()) {
                reply.setResult(got.toString(StandardCharsets.UTF_8));
            }
        }
    }

    /** TCP echo on the protocol API, a streams client, and a sock* client. */
    static void tcpEcho() {
        List<String> replies = Tulip.run(() -> {
            EventLoop loop = EventLoop.current();
            Server server = loop.createServer(Echo::new, "127.0.0.1", 0).await();
            int port = ((InetSocketAddress) server.addresses().get(0)).getPort();
            Demo.say("protocol echo server on 127.0.0.1:%d", port);
            List<String> out = new ArrayList<>();
            EchoClient client = new EchoClient(loop, "hello over the protocol API");
            var conn = loop.createConnection(() -> client, "127.0.0.1", port).await();
            out.add(client.reply.await());
            conn.transport().close();
            StreamConnection c = Streams.openConnection("127.0.0.1", port).await();
            c.writer().write("hello over streams\n".getBytes(StandardCharsets.UTF_8));
            out.add(new String(c.reader().readLine(), StandardCharsets.UTF_8).strip());
            c.writer().close();
            try (SocketChannel ch = SocketChannel.open()) {
                ch.configureBlocking(false);
                loop.sockConnect(ch, new InetSocketAddress("127.0.0.1", port)).await();
                loop.sockSendAll(ch, ByteBuffer.wrap("hello over sock*".getBytes(StandardCharsets.UTF_8))).await();
                ByteBuffer b = loop.sockRecv(ch, 1024).await();
                out.add(StandardCharsets.UTF_8.decode(b).toString());
            }
            server.close();
            server.waitClosed().await();
            return out;
        });
        replies.forEach(r -> Demo.say("echoed: %s", r));
        Demo.check(replies.equals(List.of("hello over the protocol API", "hello over streams", "hello over sock*")),
                "all three clients got their echo");
    }

    /** A streams echo server (one task per connection) on a UNIX socket. */
    static void unixEcho() throws IOException {
        Path dir = Files.createTempDirectory("tulip-demo");
        Path path = dir.resolve("echo.sock");
        try {
            String reply = Tulip.run(() -> {
                Server server = Streams.startUnixServer((reader, writer) -> {
                    byte[] line;
                    while ((line = reader.readLine()).length > 0) {
                        writer.write(line);
                        writer.drain();
                    }
                }, path).await();
                Demo.say("streams echo server on unix:%s", path);
                StreamConnection c = Streams.openUnixConnection(path).await();
                c.writer().write("hello over a UNIX socket\n".getBytes(StandardCharsets.UTF_8));
                String r = new String(c.reader().readLine(), StandardCharsets.UTF_8).strip();
                c.writer().close();
                server.close();
                server.waitClosed().await();
                return r;
            });
            Demo.say("echoed: %s", reply);
            Demo.check(reply.equals("hello over a UNIX socket"), "the UNIX echo answered");
        } finally {
            Files.deleteIfExists(path);
            Files.deleteIfExists(dir);
        }
    }

    /** UDP: every endpoint is a server; the client sends to the port the server picked. */
    static void udpEcho() {
        String reply = Tulip.run(() -> {
            EventLoop loop = EventLoop.current();
            var server = loop.createDatagramEndpoint(() -> new DatagramProtocol() {
                private DatagramTransport t;

                @Override
                public void connectionMade(DatagramTransport transport) {
                    t = transport;
                }

                @Override
                public void datagramReceived(ByteBuffer data, SocketAddress from) {
                    t.sendTo(data, from);
                }
            }, DatagramOptions.builder().localAddress("127.0.0.1", 0).build()).await();
            SocketAddress serverAddress = server.transport().info().localAddress();
            Demo.say("UDP echo endpoint on %s", serverAddress);
            Future<String> got = loop.createFuture();
            var client = loop.createDatagramEndpoint(() -> new DatagramProtocol() {
                @Override
                public void datagramReceived(ByteBuffer data, SocketAddress from) {
                    got.setResult(StandardCharsets.UTF_8.decode(data).toString());
                }
            }, DatagramOptions.builder().localAddress("127.0.0.1", 0).build()).await();
            client.transport().sendTo(ByteBuffer.wrap("hello over UDP".getBytes(StandardCharsets.UTF_8)), serverAddress);
            String r = Tulip.waitFor(got, Duration.ofSeconds(5));
            client.transport().close();
            server.transport().close();
            return r;
        });
        Demo.say("echoed: %s", reply);
        Demo.check(reply.equals("hello over UDP"), "the UDP echo answered");
    }

    /** TLS echo with a certificate made for the demo (keytool), verification on. */
    static void tlsEcho() throws Exception {
        Path dir = Files.createTempDirectory("tulip-demo-tls");
        try {
            Path ks = dir.resolve("demo.p12");
            String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
            Process p = new ProcessBuilder(keytool, "-genkeypair", "-alias", "demo", "-keyalg", "EC", "-groupname",
                    "secp256r1", "-dname", "CN=localhost", "-ext", "SAN=dns:localhost,ip:127.0.0.1", "-validity", "2",
                    "-storetype", "PKCS12", "-keystore", ks.toString(), "-storepass", "changeit")
                    .redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            Demo.check(p.waitFor() == 0, "keytool made a certificate");
            KeyStore store = KeyStore.getInstance("PKCS12");
            try (var in = Files.newInputStream(ks)) {
                store.load(in, "changeit".toCharArray());
            }
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(store, "changeit".toCharArray());
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(store);
            SSLContext serverCtx = SSLContext.getInstance("TLS");
            serverCtx.init(kmf.getKeyManagers(), null, null);
            SSLContext clientCtx = SSLContext.getInstance("TLS");
            clientCtx.init(null, tmf.getTrustManagers(), null);
            String[] result = Tulip.run(() -> {
                EventLoop loop = EventLoop.current();
                Server server = loop.createServer(Echo::new, "127.0.0.1", 0, ServerOptions.defaults(),
                        TlsOptions.server(serverCtx).build()).await();
                int port = ((InetSocketAddress) server.addresses().get(0)).getPort();
                Demo.say("TLS echo server on 127.0.0.1:%d", port);
                EchoClient client = new EchoClient(loop, "hello over TLS");
                var conn = loop.createConnection(() -> client, "127.0.0.1", port, ConnectOptions.defaults(),
                        TlsOptions.client().context(clientCtx).serverHostname("localhost").build()).await();
                String reply = client.reply.await();
                String session = conn.transport().info().sslSession().getProtocol() + " "
                        + conn.transport().info().sslSession().getCipherSuite();
                conn.transport().close();
                server.close();
                return new String[] {reply, session};
            });
            Demo.say("echoed: %s (%s, hostname verified)", result[0], result[1]);
            Demo.check(result[0].equals("hello over TLS"), "the TLS echo answered");
        } finally {
            try (var files = Files.list(dir)) {
                for (Path f : files.toList()) {
                    Files.deleteIfExists(f);
                }
            }
            Files.deleteIfExists(dir);
        }
    }

    /** The HTTP/1.1 example server, asked by a plain socket client with two pipelined requests. */
    static void http() {
        String response = Tulip.run(() -> {
            EventLoop loop = EventLoop.current();
            Server server = HttpServer.start(loop, "127.0.0.1", 0, HttpServer.Options.defaults()).await();
            int port = ((InetSocketAddress) server.addresses().get(0)).getPort();
            Demo.say("HTTP/1.1 server on http://127.0.0.1:%d/", port);
            StreamConnection c = Streams.openConnection("127.0.0.1", port).await();
            c.writer().write(("GET / HTTP/1.1\r\nHost: demo\r\n\r\nGET / HTTP/1.1\r\nHost: demo\r\nConnection: close"
                    + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            String all = new String(c.reader().readAll(), StandardCharsets.US_ASCII);
            server.close();
            return all;
        });
        long answers = response.split("HTTP/1.1 200 OK", -1).length - 1;
        Demo.say("two pipelined requests, %d responses, first line: %s", answers, response.lines().findFirst()
                .orElse(""));
        Demo.check(answers == 2 && response.contains("Hello, World!"), "the HTTP server answered both requests");
    }

    /** A child process through streams, and a signal sent to this JVM handled on the loop thread. */
    static void processAndSignal() {
        String[] out = Tulip.run(() -> {
            Subprocess p = Streams.createSubprocessExec(List.of("sh", "-c", "tr a-z A-Z"),
                    ProcessOptions.defaults()).await();
            Subprocess.Result r = p.communicate("shouted by a child process".getBytes(StandardCharsets.UTF_8));
            EventLoop loop = EventLoop.current();
            Future<String> signalled = loop.createFuture();
            loop.addSignalHandler("USR2", () -> signalled.setResult("SIGUSR2 handled on " + Thread.currentThread()
                    .getName()));
            try {
                new ProcessBuilder("kill", "-USR2", Long.toString(ProcessHandle.current().pid())).start();
                return new String[] {new String(r.stdout(), StandardCharsets.UTF_8), Tulip.waitFor(signalled,
                        Duration.ofSeconds(5))};
            } finally {
                loop.removeSignalHandler("USR2");
            }
        });
        Demo.say("child said: %s", out[0]);
        Demo.say("%s", out[1]);
        Demo.check(out[0].equals("SHOUTED BY A CHILD PROCESS"), "the child process answered");
    }

    /** Cancelling a scope closes the server it owns and cancels its timers. */
    static void scopeClosesServers() {
        boolean[] result = Tulip.run(() -> {
            EventLoop loop = EventLoop.current();
            Scope service = loop.currentScope().newChild("service");
            Server[] server = new Server[1];
            boolean[] timerRan = {false};
            try (Scope.Entered e = service.enter()) {
                server[0] = loop.createServer(Echo::new, "127.0.0.1", 0).await();
                loop.callLater(Duration.ofMillis(10), () -> timerRan[0] = true);
            }
            service.cancel();
            Tulip.sleep(Duration.ofMillis(30));
            return new boolean[] {server[0].isServing(), timerRan[0]};
        });
        Demo.say("after scope.cancel(): server serving=%s, timer ran=%s", result[0], result[1]);
        Demo.check(!result[0] && !result[1], "the scope closed its server and cancelled its timer");
    }

}
