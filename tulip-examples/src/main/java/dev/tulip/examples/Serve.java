package dev.tulip.examples;

import dev.tulip.EventLoop;
import dev.tulip.Tulip;
import dev.tulip.examples.http.HttpServer;
import dev.tulip.stream.Streams;
import dev.tulip.transport.DatagramEndpoint;
import dev.tulip.transport.DatagramOptions;
import dev.tulip.transport.Server;
import dev.tulip.transport.ServerOptions;
import dev.tulip.transport.TlsOptions;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CancellationException;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/**
 * {@code ./tulipw serve SERVER [options]}: runs one example server in the foreground for real clients (curl, nc,
 * socat, openssl s_client), until Ctrl-C, which cancels the main task ({@link Tulip#run}) so the server closes
 * cleanly and the program exits 0.
 *
 * <pre>
 *   ./tulipw serve echo --port 8888            then: nc 127.0.0.1 8888
 *   ./tulipw serve echo --unix /tmp/echo.sock  then: socat - UNIX-CONNECT:/tmp/echo.sock
 *   ./tulipw serve streams-echo --port 8889
 *   ./tulipw serve udp-echo --port 9999        then: socat - UDP:127.0.0.1:9999
 *   ./tulipw serve tls-echo --port 8443        then: openssl s_client -connect 127.0.0.1:8443
 *   ./tulipw serve http --port 8080            then: curl http://127.0.0.1:8080/
 *   ./tulipw serve chat --port 7777            then: several nc 127.0.0.1 7777
 * </pre>
 */
public final class Serve {
    private interface Body {
        void serve(String host, int port, String unix, String[] args) throws Exception;
    }

    private record Command(String help, Body body) {
    }

    private static final Map<String, Command> COMMANDS = new LinkedHashMap<>();

    static {
        COMMANDS.put("echo", new Command("TCP (or --unix PATH) echo on the protocol API", Serve::echo));
        COMMANDS.put("streams-echo", new Command("TCP (or --unix PATH) echo on the streams API, a task per client",
                Serve::streamsEcho));
        COMMANDS.put("udp-echo", new Command("UDP echo: every datagram goes back to its sender", Serve::udpEcho));
        COMMANDS.put("tls-echo", new Command("TLS echo; --keystore P12 --password PW, or a self-signed cert for "
                + "localhost made at start", Serve::tlsEcho));
        COMMANDS.put("http", new Command("HTTP/1.1 hello server (keep-alive, pipelining, timeouts)", Serve::http));
        COMMANDS.put("chat", new Command("line chat: what one client sends, the others receive", Serve::chat));
    }

    private Serve() {
    }

    /**
     * Entry point.
     *
     * @param args SERVER [--host H] [--port P] [--unix PATH] [server options]
     */
    public static void main(String[] args) throws Exception {
        if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h") || !COMMANDS.containsKey(args[0])) {
            if (args.length > 0 && !args[0].startsWith("-")) {
                System.err.println("serve: unknown server '" + args[0] + "'");
            }
            usage();
            System.exit(args.length == 0 || args[0].startsWith("-") ? 0 : 2);
        }
        String name = args[0];
        String[] rest = Arrays.copyOfRange(args, 1, args.length);
        if (Arrays.asList(rest).contains("--help") || Arrays.asList(rest).contains("-h")) {
            System.out.println("usage: ./tulipw serve " + name + " [--host 127.0.0.1] [--port PORT] [--unix PATH]"
                    + (name.equals("tls-echo") ? " [--keystore FILE.p12 --password PW]" : "") + "\n  "
                    + COMMANDS.get(name).help() + "\n  Ctrl-C stops it cleanly.");
            return;
        }
        String host = Args.value(rest, "--host", "127.0.0.1");
        int port = Integer.parseInt(Args.value(rest, "--port", "0"));
        String unix = Args.value(rest, "--unix", null);
        try {
            COMMANDS.get(name).body().serve(host, port, unix, rest);
        } catch (CancellationException stopped) {
            System.out.println("serve: stopped (" + stopped.getMessage() + ")");
        }
    }

    private static void usage() {
        System.out.println("usage: ./tulipw serve SERVER [--host 127.0.0.1] [--port PORT] [--unix PATH] [--help]");
        System.out.println("servers:");
        COMMANDS.forEach((k, v) -> System.out.printf("  %-13s %s%n", k, v.help()));
        System.out.println("Port 0 (the default) picks a free port and prints it. Ctrl-C stops the server cleanly.");
    }

    /** Prints where the server listens and serves until cancelled (Ctrl-C). */
    private static void serve(Server server, String what) {
        System.out.println(what + " listening on " + server.addresses() + " (Ctrl-C to stop)");
        System.out.flush();
        try {
            server.serveForever().await();
        } finally {
            server.close();
        }
    }

    private static void echo(String host, int port, String unix, String[] args) {
        Tulip.run(() -> {
            EventLoop loop = EventLoop.current();
            Server s = (unix != null ? loop.createUnixServer(EchoServer.EchoProtocol::new, Path.of(unix))
                    : loop.createServer(EchoServer.EchoProtocol::new, host, port)).await();
            serve(s, "echo (protocol API)");
            return null;
        });
    }

    private static void streamsEcho(String host, int port, String unix, String[] args) {
        Tulip.run(() -> {
            Server s = (unix != null ? Streams.startUnixServer(StreamsEchoServer::echo, Path.of(unix))
                    : Streams.startServer(StreamsEchoServer::echo, host, port)).await();
            serve(s, "echo (streams API)");
            return null;
        });
    }

    private static void udpEcho(String host, int port, String unix, String[] args) {
        Tulip.run(() -> {
            DatagramEndpoint<UdpEchoServer.Echo> ep = EventLoop.current().createDatagramEndpoint(
                    UdpEchoServer.Echo::new, DatagramOptions.builder().localAddress(host, port).build()).await();
            System.out.println("udp echo listening on " + ep.transport().info().localAddress() + " (Ctrl-C to stop)");
            System.out.flush();
            try {
                EventLoop.current().<Void>createFuture().await(); // until cancelled
            } finally {
                ep.transport().close();
            }
            return null;
        });
    }

    private static void tlsEcho(String host, int port, String unix, String[] args) throws Exception {
        String keystore = Args.value(args, "--keystore", null);
        String password = Args.value(args, "--password", "changeit");
        Path generated = null;
        if (keystore == null) {
            generated = Files.createTempFile("tulip-serve", ".p12");
            Files.delete(generated);
            String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
            Process p = new ProcessBuilder(keytool, "-genkeypair", "-alias", "serve", "-keyalg", "EC", "-groupname",
                    "secp256r1", "-dname", "CN=localhost", "-ext", "SAN=dns:localhost,ip:127.0.0.1", "-validity", "30",
                    "-storetype", "PKCS12", "-keystore", generated.toString(), "-storepass", password)
                    .redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            if (p.waitFor() != 0) {
                throw new IllegalStateException("keytool could not make a certificate");
            }
            keystore = generated.toString();
            System.out.println("self-signed certificate for localhost in " + keystore
                    + " (clients: openssl s_client -connect 127.0.0.1:PORT, or trust it explicitly)");
        }
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(Path.of(keystore))) {
            ks.load(in, password.toCharArray());
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, password.toCharArray());
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf.getKeyManagers(), null, null);
        try {
            Tulip.run(() -> {
                Server s = EventLoop.current().createServer(EchoServer.EchoProtocol::new, host, port,
                        ServerOptions.defaults(), TlsOptions.server(ctx).build()).await();
                serve(s, "tls echo");
                return null;
            });
        } finally {
            if (generated != null) {
                Files.deleteIfExists(generated);
            }
        }
    }

    private static void http(String host, int port, String unix, String[] args) {
        Tulip.run(() -> {
            Server s = HttpServer.start(EventLoop.current(), host, port, HttpServer.Options.defaults()).await();
            serve(s, "http");
            return null;
        });
    }

    private static void chat(String host, int port, String unix, String[] args) {
        Tulip.run(() -> {
            serve(ChatServer.start(host, port).await(), "chat");
            return null;
        });
    }
}
