package dev.tulip.examples;

import dev.tulip.Tulip;
import dev.tulip.stream.StreamReader;
import dev.tulip.stream.StreamWriter;
import dev.tulip.stream.Streams;
import dev.tulip.transport.Server;

/**
 * A TCP echo server written with streams: one task per connection that reads what is there, writes it back and
 * awaits {@code drain()} (so a client that does not read cannot make the server buffer without bound). The streams
 * counterpart of a protocol-callback echo server, for benchmarks.
 *
 * <p>Usage: {@code StreamsEchoServer [--host 127.0.0.1] [--port 8888]}; port 0 picks a free one. Prints
 * {@code listening on PORT} when ready.
 */
public final class StreamsEchoServer {
    private StreamsEchoServer() {
    }

    /** Echoes until EOF. */
    static void echo(StreamReader reader, StreamWriter writer) {
        while (true) {
            byte[] data = reader.read(64 * 1024);
            if (data.length == 0) {
                return;
            }
            writer.write(data);
            writer.drain();
        }
    }

    /**
     * Runs the server until the process is killed.
     *
     * @param args {@code --host H}, {@code --port N}
     */
    public static void main(String[] args) {
        String host = Args.value(args, "--host", "127.0.0.1");
        int port = Integer.parseInt(Args.value(args, "--port", "8888"));
        Tulip.run(() -> {
            Server server = Streams.startServer(StreamsEchoServer::echo, host, port).await();
            System.out.println("listening on " + Args.port(server));
            System.out.flush();
            server.serveForever().await();
            return null;
        });
    }
}
