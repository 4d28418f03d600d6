package dev.tulip.internal.net;

import static dev.tulip.internal.net.DatagramTestSupport.bytes;
import static dev.tulip.internal.net.DatagramTestSupport.local;
import static dev.tulip.internal.net.DatagramTestSupport.on;
import static dev.tulip.internal.net.DatagramTestSupport.open;
import static dev.tulip.internal.net.DatagramTestSupport.runUntil;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.tulip.EventLoop;
import dev.tulip.TimerHandle;
import dev.tulip.internal.net.DatagramTestSupport.Recorder;
import dev.tulip.transport.DatagramEndpoint;
import dev.tulip.transport.DatagramTransport;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The datagram transport against outside peers: socat and Python's asyncio. Waits on a peer are generous (a fresh or
 * loaded machine can take seconds to start one, and to run our side); nothing here is about speed.
 */
@Timeout(180)
class SelectorDatagramTransportInteropTest {
    private static final String PYTHON = "/usr/bin/python3";
    /** How long a step that waits for an outside peer may take before the test fails. */
    private static final Duration PEER_WAIT = Duration.ofSeconds(45);
    private EventLoop loop;
    private final List<Process> processes = new ArrayList<>();

    @BeforeEach
    void setUp() {
        loop = EventLoop.create();
    }

    @AfterEach
    void tearDown() throws InterruptedException {
        for (Process p : processes) {
            p.destroyForcibly();
            p.waitFor(5, TimeUnit.SECONDS);
        }
        loop.close();
    }

    private static String which(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(File.pathSeparator)) {
            Path p = Path.of(dir, tool);
            if (Files.isExecutable(p)) {
                return p.toString();
            }
        }
        return null;
    }

    private Process start(String... command) throws IOException {
        Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        processes.add(p);
        return p;
    }

    private static int freeUdpPort() throws IOException {
        try (DatagramChannel ch = DatagramChannel.open()) {
            ch.bind(new InetSocketAddress("127.0.0.1", 0));
            return ((InetSocketAddress) ch.getLocalAddress()).getPort();
        }
    }

    /** Sends {@code data} to {@code to} every 100 ms until {@code r} has received something (the peer may start late). */
    private void sendUntilAnswered(DatagramTransport t, Recorder r, byte[] data, InetSocketAddress to, int answers) {
        TimerHandle[] timer = new TimerHandle[1];
        Runnable[] resend = new Runnable[1];
        resend[0] = () -> {
            if (r.datagrams.size() < answers && !t.isClosing()) {
                t.sendTo(ByteBuffer.wrap(data), to);
                timer[0] = loop.callLater(Duration.ofMillis(100), resend[0]);
            }
        };
        resend[0].run();
        runUntil(loop, () -> r.datagrams.size() >= answers, PEER_WAIT);
        timer[0].cancel();
    }

    @Test
    void socatClientGetsItsDatagramEchoed() throws IOException {
        String socat = which("socat");
        assumeTrue(socat != null, "socat is not installed (apt-get install socat)");
        Recorder r = new Recorder().echoing();
        DatagramEndpoint<Recorder> ep = open(loop, r, on("127.0.0.1"));
        Process p = start(socat, "-T", "60", "-", "UDP4:127.0.0.1:" + local(ep.transport()).getPort());
        OutputStream in = p.getOutputStream();
        in.write("hello from socat\n".getBytes(StandardCharsets.UTF_8));
        in.flush();
        runUntil(loop, () -> r.datagrams.size() == 1, PEER_WAIT);
        assertEquals("hello from socat\n", r.lastText());
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        assertEquals("hello from socat", out.readLine());
    }

    @Test
    void socatServerEchoesOurDatagrams() throws IOException {
        String socat = which("socat");
        assumeTrue(socat != null, "socat is not installed (apt-get install socat)");
        // socat cannot report a port it picked, so pick one (the short window before socat binds it is harmless:
        // we resend until it answers).
        int port = freeUdpPort();
        start(socat, "-T", "60", "-b", "65536", "UDP4-RECVFROM:" + port + ",bind=127.0.0.1,fork", "PIPE");
        Recorder r = new Recorder();
        DatagramEndpoint<Recorder> ep = open(loop, r, on("127.0.0.1"));
        InetSocketAddress server = new InetSocketAddress("127.0.0.1", port);
        sendUntilAnswered(ep.transport(), r, "ping".getBytes(StandardCharsets.UTF_8), server, 1);
        assertEquals("ping", r.lastText());
        assertEquals(server, r.senders.getFirst());
        byte[] big = new byte[DatagramTransport.MAX_IPV4_DATAGRAM];
        for (int i = 0; i < big.length; i++) {
            big[i] = (byte) (i % 251);
        }
        ep.transport().sendTo(ByteBuffer.wrap(big), server);
        runUntil(loop, () -> r.datagrams.size() == 2, PEER_WAIT);
        assertArrayEquals(big, r.datagrams.get(1), "65,507 bytes through socat and back");
    }

    @Test
    void pythonAsyncioServerEchoesOurDatagrams() throws IOException {
        assumeTrue(Files.isExecutable(Path.of(PYTHON)), PYTHON + " is not installed");
        String script = """
                import asyncio, sys
                class Echo(asyncio.DatagramProtocol):
                    def connection_made(self, transport):
                        self.transport = transport
                    def datagram_received(self, data, addr):
                        self.transport.sendto(data, addr)
                async def main():
                    loop = asyncio.get_running_loop()
                    transport, _ = await loop.create_datagram_endpoint(Echo, local_addr=('127.0.0.1', 0))
                    print(transport.get_extra_info('sockname')[1], flush=True)
                    await asyncio.sleep(600)  # ended by the test's tearDown
                asyncio.run(main())
                """;
        Process p = start(PYTHON, "-c", script);
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        int port = Integer.parseInt(out.readLine().trim());
        InetSocketAddress server = new InetSocketAddress("127.0.0.1", port);
        Recorder r = new Recorder();
        DatagramEndpoint<Recorder> ep = open(loop, r, on("127.0.0.1"));
        ep.transport().sendTo(bytes("hello asyncio"), server);
        byte[] big = new byte[DatagramTransport.MAX_IPV4_DATAGRAM];
        big[0] = 42;
        big[big.length - 1] = 24;
        ep.transport().sendTo(ByteBuffer.wrap(big), server);
        // Not an empty datagram: asyncio before 3.13 silently drops empty sends ("if not data: return").
        ep.transport().sendTo(bytes("!"), server);
        runUntil(loop, () -> r.datagrams.size() == 3, PEER_WAIT, r::describe);
        assertEquals("hello asyncio", new String(r.datagrams.get(0), StandardCharsets.UTF_8));
        assertArrayEquals(big, r.datagrams.get(1));
        assertEquals("!", new String(r.datagrams.get(2), StandardCharsets.UTF_8));
        assertEquals(server, r.senders.getFirst());
    }

    @Test
    void pythonAsyncioClientGetsItsDatagramsEchoed() throws IOException, InterruptedException {
        assumeTrue(Files.isExecutable(Path.of(PYTHON)), PYTHON + " is not installed");
        Recorder r = new Recorder().echoing();
        DatagramEndpoint<Recorder> ep = open(loop, r, on("127.0.0.1"));
        String script = """
                import asyncio, sys
                SIZES = [1, 1024, 65507, 2, 7]  # no empty datagram: asyncio < 3.13 drops empty sends
                class Client(asyncio.DatagramProtocol):
                    def __init__(self, done):
                        self.done = done
                        self.got = []
                    def datagram_received(self, data, addr):
                        self.got.append(data)
                        if len(self.got) == len(SIZES):
                            self.done.set_result(self.got)
                    def error_received(self, exc):
                        self.done.set_exception(exc)
                async def main(port):
                    loop = asyncio.get_running_loop()
                    done = loop.create_future()
                    transport, _ = await loop.create_datagram_endpoint(lambda: Client(done),
                                                                       remote_addr=('127.0.0.1', port))
                    sent = [bytes((i * 7 + n) % 256 for i in range(n)) for n in SIZES]
                    for d in sent:
                        transport.sendto(d)
                    got = await asyncio.wait_for(done, 60)
                    transport.close()
                    print('OK' if got == sent else 'MISMATCH %s' % [len(g) for g in got], flush=True)
                asyncio.run(main(int(sys.argv[1])))
                """;
        Process p = start(PYTHON, "-c", script, String.valueOf(local(ep.transport()).getPort()));
        runUntil(loop, () -> !p.isAlive(), Duration.ofSeconds(90), r::describe);
        String verdict = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertEquals("OK", verdict);
        assertEquals(0, p.waitFor());
        assertEquals(5, r.datagrams.size());
        assertTrue(r.errors.isEmpty(), r.errors.toString());
    }
}
