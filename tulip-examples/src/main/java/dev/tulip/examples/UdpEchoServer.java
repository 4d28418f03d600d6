package dev.tulip.examples;

import dev.tulip.EventLoop;
import dev.tulip.transport.DatagramEndpoint;
import dev.tulip.transport.DatagramOptions;
import dev.tulip.transport.DatagramProtocol;
import dev.tulip.transport.DatagramTransport;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;

/**
 * A UDP echo server on one Tulip event loop: every datagram goes back to its sender, whole.
 *
 * <p>Usage: {@code UdpEchoServer [--host 127.0.0.1] [--port 0]}. Prints {@code listening HOST:PORT} once bound (port 0
 * lets the kernel pick one) and runs until killed. {@code -Dtulip.datagram.readBatch=N} sets how many datagrams the
 * endpoint reads per readiness event (default 64), for measuring what batching gains.
 */
public final class UdpEchoServer {

    private UdpEchoServer() {
    }

    /** Sends each datagram back to where it came from. */
    static final class Echo implements DatagramProtocol {
        private DatagramTransport transport;

        @Override
        public void connectionMade(DatagramTransport t) {
            transport = t;
        }

        @Override
        public void datagramReceived(ByteBuffer data, SocketAddress from) {
            transport.sendTo(data, from); // reads the buffer before returning: no copy unless the kernel is full
        }

        @Override
        public void errorReceived(Exception error) {
            System.err.println("udp echo: " + error);
        }
    }

    /**
     * Runs the server.
     *
     * @param args {@code --host H}, {@code --port P}
     */
    public static void main(String[] args) {
        String host = "127.0.0.1";
        int port = 0;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--host" -> host = args[++i];
                case "--port" -> port = Integer.parseInt(args[++i]);
                default -> {
                    System.err.println("usage: UdpEchoServer [--host HOST] [--port PORT]");
                    System.exit(2);
                }
            }
        }
        try (EventLoop loop = EventLoop.create()) {
            DatagramEndpoint<Echo> ep = loop.runUntilComplete(loop.createDatagramEndpoint(Echo::new,
                    DatagramOptions.builder().localAddress(host, port).build()));
            InetSocketAddress bound = (InetSocketAddress) ep.transport().info().localAddress();
            System.out.println("listening " + bound.getAddress().getHostAddress() + ":" + bound.getPort());
            System.out.flush();
            loop.runForever();
        }
    }
}
