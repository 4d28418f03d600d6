package dev.tulip.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tulip.EventLoop;
import dev.tulip.transport.DatagramEndpoint;
import dev.tulip.transport.DatagramOptions;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class UdpEchoServerTest {

    @Test
    @Timeout(20)
    void echoesDatagramsBackToTheirSender() throws Exception {
        try (EventLoop loop = EventLoop.create(); DatagramSocket client = new DatagramSocket(
                new InetSocketAddress("127.0.0.1", 0))) {
            client.setSoTimeout(5000);
            DatagramEndpoint<UdpEchoServer.Echo> ep = loop.runUntilComplete(loop.createDatagramEndpoint(
                    UdpEchoServer.Echo::new, DatagramOptions.builder().localAddress("127.0.0.1", 0).build()));
            byte[] hello = "hello".getBytes(StandardCharsets.UTF_8);
            client.send(new DatagramPacket(hello, hello.length, ep.transport().info().localAddress()));
            var done = loop.createFuture();
            Thread reader = Thread.ofPlatform().start(() -> {
                try {
                    DatagramPacket p = new DatagramPacket(new byte[100], 100);
                    client.receive(p);
                    String got = new String(p.getData(), 0, p.getLength(), StandardCharsets.UTF_8);
                    loop.callSoonThreadsafe(() -> done.setResult(got));
                } catch (Exception e) {
                    loop.callSoonThreadsafe(() -> done.setException(e));
                }
            });
            loop.callLater(Duration.ofSeconds(10), () -> done.cancel("no echo"));
            assertEquals("hello", loop.runUntilComplete(done));
            reader.join();
        }
    }
}
