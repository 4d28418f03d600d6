package dev.tulip.examples;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tulip.Tulip;
import dev.tulip.stream.StreamConnection;
import dev.tulip.stream.Streams;
import dev.tulip.transport.Server;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class ChatServerTest {

    static StreamConnection join(int port) {
        return Streams.openConnection("127.0.0.1", port).await();
    }

    static void say(StreamConnection c, String line) {
        c.writer().write(line + "\n", UTF_8);
    }

    static String hear(StreamConnection c) {
        return c.reader().readLine(UTF_8);
    }

    @Test
    void severalClientsChat() {
        List<String> log = Tulip.run(() -> {
            Server server = ChatServer.start("127.0.0.1", 0).await();
            int port = Args.port(server);
            List<String> out = new ArrayList<>();
            StreamConnection a = join(port);
            out.add("a: " + hear(a));
            StreamConnection b = join(port);
            out.add("b: " + hear(b));
            out.add("a: " + hear(a));
            StreamConnection c = join(port);
            out.add("c: " + hear(c));
            out.add("a: " + hear(a));
            out.add("b: " + hear(b));
            say(a, "hello all");
            out.add("b: " + hear(b));
            out.add("c: " + hear(c));
            say(b, "/nick bob");
            out.add("a: " + hear(a));
            out.add("c: " + hear(c));
            out.add("b: " + hear(b));
            say(b, "hi alice");
            out.add("a: " + hear(a));
            out.add("c: " + hear(c));
            say(c, "/quit");
            out.add("c: " + hear(c));
            out.add("a: " + hear(a));
            out.add("b: " + hear(b));
            a.close();
            b.close();
            c.close();
            server.close();
            return out;
        });
        assertEquals(List.of(
                "a: * welcome, you are guest1",
                "b: * welcome, you are guest2",
                "a: * guest2 joined",
                "c: * welcome, you are guest3",
                "a: * guest3 joined",
                "b: * guest3 joined",
                "b: [guest1] hello all",
                "c: [guest1] hello all",
                "a: * guest2 is now bob",
                "c: * guest2 is now bob",
                "b: * guest2 is now bob",
                "a: [bob] hi alice",
                "c: [bob] hi alice",
                "c: null",
                "a: * guest3 left",
                "b: * guest3 left"), log);
    }

    @Test
    void oversizedLinesAreRejectedAndTheClientStays() {
        List<String> log = Tulip.run(() -> {
            Server server = ChatServer.start("127.0.0.1", 0).await();
            int port = Args.port(server);
            StreamConnection a = join(port);
            StreamConnection b = join(port);
            hear(a);
            hear(a);
            hear(b);
            say(a, "x".repeat(ChatServer.MAX_LINE * 3));
            List<String> out = new ArrayList<>();
            out.add(hear(a));
            say(a, "short one");
            out.add(hear(b));
            a.close();
            b.close();
            server.close();
            return out;
        });
        assertTrue(log.get(0).startsWith("* line too long"), log.get(0));
        assertEquals("[guest1] short one", log.get(1));
    }

    @Test
    void aClientThatNeverReadsIsDisconnected() {
        String last = Tulip.run(() -> {
            Server server = ChatServer.start("127.0.0.1", 0).await();
            int port = Args.port(server);
            StreamConnection talker = join(port);
            StreamConnection sleeper = join(port); // never reads
            sleeper.reader().setLimit(1);
            hear(talker);
            hear(talker);
            String line = "y".repeat(ChatServer.MAX_LINE - 100);
            String seen = null;
            // Far more than the kernel buffers plus MAX_BACKLOG: the sleeper must be dropped, the talker goes on.
            for (int i = 0; i < 4000 && seen == null; i++) {
                say(talker, line);
                talker.writer().drain();
                if (talker.reader().buffered() > 0) {
                    String h = hear(talker);
                    if (h.contains("left")) {
                        seen = h;
                    }
                }
            }
            talker.close();
            sleeper.close();
            server.close();
            return seen;
        });
        assertEquals("* guest2 left", last);
    }

    @Test
    void argsParsing() {
        assertEquals("9", Args.value(new String[] {"--port", "9"}, "--port", "1"));
        assertEquals("9", Args.value(new String[] {"--port=9"}, "--port", "1"));
        assertEquals("1", Args.value(new String[] {}, "--port", "1"));
        assertNull(Args.value(new String[] {}, "--host", null));
    }
}
