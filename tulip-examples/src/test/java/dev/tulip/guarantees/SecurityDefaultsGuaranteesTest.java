package dev.tulip.guarantees;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tulip.EventLoop;
import dev.tulip.examples.http.HttpRequestParser;
import dev.tulip.guarantees.GuaranteeSupport.LoopThread;
import dev.tulip.guarantees.GuaranteeSupport.SelfSigned;
import dev.tulip.stream.StreamReader;
import dev.tulip.transport.DatagramEndpoint;
import dev.tulip.transport.DatagramOptions;
import dev.tulip.transport.DatagramProtocol;
import dev.tulip.transport.Protocol;
import dev.tulip.transport.Server;
import dev.tulip.transport.ServerOptions;
import dev.tulip.transport.TlsOptions;
import java.io.IOException;
import java.net.BindException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.net.StandardSocketOptions;
import java.nio.channels.DatagramChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Security defaults: verification on, no SO_REUSEADDR on UDP, no deleting non-sockets, no wildcard binds, limits. */
@Tag("guarantees")
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SecurityDefaultsGuaranteesTest {

    private static Throwable root(Throwable t) {
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t;
    }

    @Test
    void tlsClientVerifiesCertificatesByDefault() throws Exception {
        SelfSigned certs = SelfSigned.get();
        assertTrue(TlsOptions.defaultClient().verifiesCertificates());
        assertTrue(TlsOptions.defaultClient().verifiesHostname());
        try (LoopThread lt = new LoopThread("tls-verify-loop")) {
            Server server = lt.await(() -> lt.loop.createServer(() -> new Protocol() { }, "127.0.0.1", 0,
                    ServerOptions.defaults(), TlsOptions.server(certs.serverContext).build()));
            int port = ((InetSocketAddress) server.addresses().get(0)).getPort();
            Exception e = assertThrows(Exception.class, () -> lt.await(() -> lt.loop.createConnection(
                    () -> new Protocol() { }, "127.0.0.1", port, dev.tulip.transport.ConnectOptions.defaults(),
                    TlsOptions.defaultClient())));
            System.out.println("GUARANTEE tls-default-verification failure=" + e);
            assertTrue(e instanceof SSLException || root(e) instanceof java.security.cert.CertificateException
                    || e instanceof dev.tulip.transport.TlsException, "a certificate failure: " + e);
            // With the certificate trusted explicitly the same connection works.
            var conn = lt.await(() -> lt.loop.createConnection(() -> new Protocol() { }, "127.0.0.1", port,
                    dev.tulip.transport.ConnectOptions.defaults(),
                    TlsOptions.client().context(certs.clientContext).build()));
            lt.call(() -> {
                conn.transport().close();
                server.close();
                return null;
            });
        }
    }

    @Test
    void udpEndpointsDoNotSetReuseAddressSoThePortCannotBeHijacked() throws Exception {
        try (LoopThread lt = new LoopThread("udp-reuse-loop")) {
            DatagramEndpoint<DatagramProtocol> ep = lt.await(() -> lt.loop.createDatagramEndpoint(
                    () -> new DatagramProtocol() { }, DatagramOptions.builder().localAddress("127.0.0.1", 0).build()));
            InetSocketAddress addr = (InetSocketAddress) lt.call(() -> ep.transport().info().localAddress());
            try (DatagramChannel thief = DatagramChannel.open()) {
                thief.setOption(StandardSocketOptions.SO_REUSEADDR, true);
                assertThrows(BindException.class, () -> thief.bind(addr),
                        "another socket with SO_REUSEADDR must not share the endpoint's port");
            }
            lt.call(() -> {
                ep.transport().close();
                return null;
            });
        }
    }

    @Test
    void unixServerNeverDeletesAPathThatIsNotASocket(@TempDir Path dir) throws Exception {
        Path precious = dir.resolve("precious.txt");
        Files.writeString(precious, "do not delete");
        try (LoopThread lt = new LoopThread("unix-path-loop")) {
            Exception e = assertThrows(Exception.class,
                    () -> lt.await(() -> lt.loop.createUnixServer(() -> new Protocol() { }, precious)));
            System.out.println("GUARANTEE unix-path failure=" + e);
            assertInstanceOf(IOException.class, e);
        }
        assertEquals("do not delete", Files.readString(precious), "the file is untouched");
    }

    @Test
    void aServerOnLoopbackIsReachableOnlyThere() throws Exception {
        List<InetAddress> others = new ArrayList<>();
        for (NetworkInterface ni : NetworkInterface.networkInterfaces().toList()) {
            if (ni.isUp()) {
                for (InetAddress a : ni.inetAddresses().toList()) {
                    if (a instanceof Inet4Address && !a.isLoopbackAddress()) {
                        others.add(a);
                    }
                }
            }
        }
        try (LoopThread lt = new LoopThread("bind-loop")) {
            Server server = lt.await(() -> lt.loop.createServer(() -> new Protocol() { }, "127.0.0.1", 0));
            for (var a : server.addresses()) {
                assertEquals(InetAddress.getByName("127.0.0.1"), ((InetSocketAddress) a).getAddress(),
                        "bound where asked, not the wildcard");
            }
            for (ServerSocketChannel ch : server.sockets()) {
                assertFalse(((InetSocketAddress) ch.getLocalAddress()).getAddress().isAnyLocalAddress());
            }
            int port = ((InetSocketAddress) server.addresses().get(0)).getPort();
            System.out.println("GUARANTEE bind-only-given-address otherLocalAddresses=" + others);
            for (InetAddress other : others) {
                try (Socket s = new Socket()) {
                    assertThrows(IOException.class, () -> s.connect(new InetSocketAddress(other, port), 2000),
                            "reachable via " + other);
                }
            }
            lt.call(() -> {
                server.close();
                return null;
            });
            Assumptions.assumeFalse(others.isEmpty(), "no non-loopback IPv4 address here: bound address checked only");
        }
    }

    @Test
    void everyBufferAPeerCanGrowHasALimitByDefault() {
        assertEquals(64 * 1024, StreamReader.DEFAULT_LIMIT, "StreamReader line/separator limit");
        HttpRequestParser.Limits http = HttpRequestParser.Limits.defaults();
        assertTrue(http.maxRequestLine() > 0 && http.maxHeaderBytes() > 0 && http.maxHeaders() > 0
                && http.maxBody() >= 0, "HTTP limits: " + http);
        assertTrue(DatagramOptions.defaults().maxDatagramSize() <= DatagramOptions.MAX_DATAGRAM_SIZE);
        try (EventLoop loop = EventLoop.create()) {
            Server server = loop.runUntilComplete(loop.createServer(() -> new Protocol() { }, "127.0.0.1", 0));
            assertEquals(100, ServerOptions.defaults().backlog(), "accept backlog bounded");
            server.close();
        }
        System.out.println("GUARANTEE limits streamReader=" + StreamReader.DEFAULT_LIMIT + " http=" + http
                + " maxDatagram=" + DatagramOptions.defaults().maxDatagramSize() + " writeHighMark=65536");
    }
}
