package dev.tulip.examples;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.tulip.Future;
import dev.tulip.Tulip;
import dev.tulip.stream.LimitOverrunException;
import dev.tulip.stream.StreamReader;
import dev.tulip.stream.StreamWriter;
import dev.tulip.stream.Streams;
import dev.tulip.transport.Server;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A line-based chat server written with streams: every line a client sends is broadcast to the other clients.
 *
 * <p>Protocol (UTF-8 lines): the server greets each client with {@code * welcome, you are NAME}; a line
 * {@code /nick NEW} renames, {@code /quit} leaves, anything else is sent to the others as {@code [NAME] text}.
 * Joins, renames and departures are announced as {@code * ...} lines.
 *
 * <p>Safety: a line longer than {@link #MAX_LINE} bytes is rejected and skipped (the reader's limit); a client that
 * does not read its messages is disconnected once {@link #MAX_BACKLOG} bytes wait for it, so one slow client can
 * neither stall the room nor make the server buffer without bound.
 *
 * <p>Usage: {@code ChatServer [--host 127.0.0.1] [--port 7777]}; try it with {@code nc 127.0.0.1 7777}.
 */
public final class ChatServer {
    /** The longest accepted line, in bytes. */
    public static final int MAX_LINE = 4096;
    /** The most bytes buffered for one client before it is disconnected as too slow. */
    public static final int MAX_BACKLOG = 256 * 1024;

    /** Connected clients by name, in join order. Loop thread only. */
    private final Map<String, StreamWriter> clients = new LinkedHashMap<>();
    private int guests;

    /**
     * Starts a chat server on the running loop.
     *
     * @param host the address to bind
     * @param port the port; 0 picks a free one
     * @return a future of the server
     */
    public static Future<Server> start(String host, int port) {
        ChatServer room = new ChatServer();
        return Streams.startServer(room::serve, host, port);
    }

    private void serve(StreamReader reader, StreamWriter writer) {
        String name = "guest" + (++guests);
        reader.setLimit(MAX_LINE);
        clients.put(name, writer);
        try {
            send(writer, "* welcome, you are " + name);
            broadcast(name, "* " + name + " joined");
            while (true) {
                String line;
                try {
                    line = reader.readLine(UTF_8);
                } catch (LimitOverrunException e) {
                    reader.readExactly(e.consumed()); // skip what we have of the oversized line
                    send(writer, "* line too long (max " + MAX_LINE + " bytes): dropped");
                    continue;
                }
                if (line == null || line.equals("/quit")) {
                    break;
                }
                if (line.startsWith("/nick ")) {
                    String newName = line.substring(6).strip();
                    if (newName.isEmpty() || newName.contains(" ") || clients.containsKey(newName)) {
                        send(writer, "* cannot rename to '" + newName + "'");
                        continue;
                    }
                    clients.remove(name);
                    clients.put(newName, writer);
                    broadcast(null, "* " + name + " is now " + newName);
                    name = newName;
                    continue;
                }
                broadcast(name, "[" + name + "] " + line);
                writer.drain(); // our own backlog (answers to us) is bounded too
            }
        } finally {
            clients.remove(name, writer);
            broadcast(null, "* " + name + " left");
        }
    }

    /** Sends a line to everyone but {@code from}; disconnects clients that fell too far behind. */
    private void broadcast(String from, String line) {
        byte[] bytes = (line + "\n").getBytes(UTF_8);
        for (var it = clients.entrySet().iterator(); it.hasNext(); ) {
            var e = it.next();
            if (e.getKey().equals(from)) {
                continue;
            }
            StreamWriter w = e.getValue();
            if (w.isClosing()) {
                continue;
            }
            if (w.bufferSize() + bytes.length > MAX_BACKLOG) {
                it.remove();
                w.abort(); // too slow: its handler sees the connection end and cleans up
                continue;
            }
            w.write(bytes);
        }
    }

    private static void send(StreamWriter writer, String line) {
        writer.write(line + "\n", UTF_8);
    }

    /**
     * Runs the server until the process is killed.
     *
     * @param args {@code --host H}, {@code --port N}
     */
    public static void main(String[] args) {
        String host = Args.value(args, "--host", "127.0.0.1");
        int port = Integer.parseInt(Args.value(args, "--port", "7777"));
        Tulip.run(() -> {
            Server server = start(host, port).await();
            System.out.println("chat server listening on " + Args.port(server));
            System.out.flush();
            server.serveForever().await();
            return null;
        });
    }
}
