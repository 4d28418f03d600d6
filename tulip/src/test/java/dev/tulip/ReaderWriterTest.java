package dev.tulip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** addReader/addWriter with real channels (java.nio Pipe and loopback TCP), and the starvation rule. */
@Timeout(30)
class ReaderWriterTest {

    @Test
    void readerRunsWhenDataArrivesAndStopsWhenRemoved() throws Exception {
        try (EventLoop loop = EventLoop.create(); PipeFixture pipe = PipeFixture.open()) {
            AtomicInteger bytes = new AtomicInteger();
            Future<Integer> got = loop.createFuture();
            loop.addReader(pipe.source(), () -> {
                bytes.addAndGet(pipe.drain());
                if (bytes.get() >= 10 && !got.isDone()) {
                    got.setResult(bytes.get());
                }
            });
            loop.callSoon(() -> pipe.write(10));
            assertEquals(10, loop.runUntilComplete(got));
            assertTrue(loop.removeReader(pipe.source()));
            assertFalse(loop.removeReader(pipe.source()));
            pipe.write(5);
            loop.callSoon(loop::stop);
            loop.runForever();
            assertEquals(10, bytes.get(), "a removed reader does not run");
        }
    }

    @Test
    void secondAddReaderReplacesTheFirst() throws Exception {
        try (EventLoop loop = EventLoop.create(); PipeFixture pipe = PipeFixture.open()) {
            List<String> seen = new ArrayList<>();
            Handle first = loop.addReader(pipe.source(), () -> seen.add("first"));
            Future<Void> done = loop.createFuture();
            loop.addReader(pipe.source(), () -> {
                pipe.drain();
                seen.add("second");
                done.setResult(null);
                loop.removeReader(pipe.source());
            });
            assertTrue(first.isCancelled());
            pipe.write(1);
            loop.runUntilComplete(done);
            assertEquals(List.of("second"), seen);
        }
    }

    @Test
    void removeThenAddInTheSamePassWorks() throws Exception {
        // Removing the last interest cancels the selection key; adding again before the selector flushed it must work.
        try (EventLoop loop = EventLoop.create(); PipeFixture pipe = PipeFixture.open()) {
            Future<String> f = loop.createFuture();
            loop.addReader(pipe.source(), () -> { });
            loop.removeReader(pipe.source());
            loop.addReader(pipe.source(), () -> {
                pipe.drain();
                f.setResult("re-added reader ran");
                loop.removeReader(pipe.source());
            });
            pipe.write(1);
            assertEquals("re-added reader ran", loop.runUntilComplete(f));
        }
    }

    @Test
    void handleCancelRemovesTheReader() throws Exception {
        try (EventLoop loop = EventLoop.create(); PipeFixture pipe = PipeFixture.open()) {
            AtomicInteger runs = new AtomicInteger();
            Handle h = loop.addReader(pipe.source(), runs::incrementAndGet);
            h.cancel();
            assertTrue(h.isCancelled());
            assertFalse(loop.removeReader(pipe.source()));
            pipe.write(1);
            loop.callLater(java.time.Duration.ofMillis(20), loop::stop);
            loop.runForever();
            assertEquals(0, runs.get());
        }
    }

    @Test
    void writerRunsWhenWritableAndReaderAndWriterCoexist() throws Exception {
        try (EventLoop loop = EventLoop.create(); PipeFixture pipe = PipeFixture.open()) {
            List<String> seen = new ArrayList<>();
            Future<Void> done = loop.createFuture();
            loop.addWriter(pipe.sink(), () -> {
                seen.add("writable");
                pipe.write(3);
                loop.removeWriter(pipe.sink());
            });
            loop.addReader(pipe.source(), () -> {
                seen.add("readable " + pipe.drain());
                loop.removeReader(pipe.source());
                done.setResult(null);
            });
            loop.runUntilComplete(done);
            assertEquals(List.of("writable", "readable 3"), seen);
            assertFalse(loop.removeWriter(pipe.sink()));
        }
    }

    @Test
    void acceptAndConnectOverLoopbackTcp() throws Exception {
        try (EventLoop loop = EventLoop.create();
             ServerSocketChannel server = ServerSocketChannel.open()) {
            server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            SocketChannel client = SocketChannel.open();
            client.configureBlocking(false);
            List<SocketChannel> accepted = new ArrayList<>();
            Future<String> received = loop.createFuture();
            loop.addReader(server, () -> {
                try {
                    SocketChannel c = server.accept();
                    if (c == null) {
                        return;
                    }
                    accepted.add(c);
                    loop.addReader(c, () -> {
                        ByteBuffer b = ByteBuffer.allocate(64);
                        try {
                            int n = c.read(b);
                            if (n > 0 && !received.isDone()) {
                                received.setResult(new String(b.array(), 0, n));
                            }
                        } catch (IOException e) {
                            received.setException(e);
                        }
                    });
                } catch (IOException e) {
                    received.setException(e);
                }
            });
            client.connect(server.getLocalAddress());
            loop.addWriter(client, () -> {
                try {
                    if (client.isConnectionPending() && !client.finishConnect()) {
                        return;
                    }
                    client.write(ByteBuffer.wrap("hello".getBytes()));
                    loop.removeWriter(client);
                } catch (IOException e) {
                    received.setException(e);
                }
            });
            assertEquals("hello", loop.runUntilComplete(received));
            for (SocketChannel c : accepted) {
                loop.removeReader(c);
                c.close();
            }
            loop.removeReader(server);
            client.close();
        }
    }

    @Test
    void misuse() throws Exception {
        try (EventLoop loop = EventLoop.create(); PipeFixture pipe = PipeFixture.open()) {
            assertThrows(NullPointerException.class, () -> loop.addReader(null, () -> { }));
            assertThrows(NullPointerException.class, () -> loop.addReader(pipe.source(), null));
            assertThrows(NullPointerException.class, () -> loop.removeWriter(null));
            pipe.source().close();
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> loop.addReader(pipe.source(), () -> { }));
            assertTrue(e.getMessage().contains("closed"), e.getMessage());
        }
    }

    @Test
    void selfReschedulingCallbackDoesNotStarveIo() throws Exception {
        // Default (Tornado-style) passes run only what was ready when the pass began, so each pass polls I/O.
        try (EventLoop loop = EventLoop.create(); PipeFixture pipe = PipeFixture.open()) {
            AtomicInteger spins = new AtomicInteger();
            Runnable[] spin = new Runnable[1];
            spin[0] = () -> {
                if (spins.incrementAndGet() == 1) {
                    pipe.write(1); // the data arrives while the chain runs
                }
                loop.callSoon(spin[0]); // forever
            };
            Future<Integer> read = loop.createFuture();
            loop.addReader(pipe.source(), () -> {
                if (!read.isDone()) {
                    read.setResult(spins.get());
                }
                pipe.drain();
            });
            loop.callSoon(spin[0]);
            int spinsBeforeRead = loop.runUntilComplete(read);
            assertTrue(spinsBeforeRead <= 3, "reader waited " + spinsBeforeRead + " spins");
        }
    }

    @Test
    void drainingPassesLetAChainRunToTheEndBeforeIo() throws Exception {
        // Tulip style (drainReadyQueue(true)): a pass runs until the ready queue is empty, so a callback chain holds
        // off I/O until it ends. Bounded here: the chain stops itself after 10,000 links.
        try (EventLoop loop = EventLoop.builder().drainReadyQueue(true).build(); PipeFixture pipe = PipeFixture.open()) {
            int links = 10_000;
            AtomicInteger spins = new AtomicInteger();
            Runnable[] spin = new Runnable[1];
            spin[0] = () -> {
                int n = spins.incrementAndGet();
                if (n == 1) {
                    pipe.write(1); // the data arrives while the chain runs
                }
                if (n < links) {
                    loop.callSoon(spin[0]);
                }
            };
            Future<Integer> read = loop.createFuture();
            loop.addReader(pipe.source(), () -> {
                if (!read.isDone()) {
                    read.setResult(spins.get());
                }
                pipe.drain();
            });
            loop.callSoon(spin[0]);
            assertEquals(links, loop.runUntilComplete(read), "the reader ran only after the whole chain");
        }
    }
}
