package dev.tulip.examples;

import dev.tulip.EventLoop;
import dev.tulip.Future;
import dev.tulip.Handle;
import dev.tulip.Scope;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * A short tour of Tulip, printed as it happens: callbacks, timers, futures, scopes. Run it with {@code ./tulipw demo}.
 *
 * <p>Each section is one static method that makes its own loop, shows one idea and checks what it printed; the
 * program exits 0 when every section behaved, 1 otherwise.
 */
public final class Demo {

    /** One section of the tour. */
    private record Section(String title, Runnable body) {
    }

    private static final List<String> failures = new ArrayList<>();
    private static final long START = System.nanoTime();

    private Demo() {
    }

    public static void main(String[] args) {
        List<Section> sections = List.of(
                new Section("callbacks run in order, one at a time", Demo::callbacks),
                new Section("timers fire by due time", Demo::timers),
                new Section("futures: results, failures, done callbacks", Demo::futures),
                new Section("a scope cancels everything it owns", Demo::scopes),
                new Section("other threads hand work to the loop", Demo::threads),
                new Section("tasks await and interleave", NetworkTour::tasks),
                new Section("a task group: a failing child cancels its siblings", NetworkTour::taskGroup),
                new Section("a timeout cancels the body at its deadline", NetworkTour::timeout),
                new Section("TCP echo: protocol server; protocol, streams and sock* clients", NetworkTour::tcpEcho),
                new Section("UNIX-socket echo with the streams API", unchecked(NetworkTour::unixEcho)),
                new Section("UDP echo: every endpoint is a server", NetworkTour::udpEcho),
                new Section("TLS echo with hostname verification", unchecked(NetworkTour::tlsEcho)),
                new Section("a small HTTP/1.1 server with pipelined requests", NetworkTour::http),
                new Section("a scope closes the server it owns", NetworkTour::scopeClosesServers),
                new Section("a child process and a signal handler", NetworkTour::processAndSignal));
        for (int i = 0; i < sections.size(); i++) {
            Section s = sections.get(i);
            System.out.printf("%n== %d. %s%n", i + 1, s.title());
            try {
                s.body().run();
            } catch (RuntimeException | AssertionError e) {
                fail(s.title() + ": " + e);
            }
        }
        System.out.println();
        if (failures.isEmpty()) {
            System.out.println("demo: all " + sections.size() + " sections behaved as described");
            System.exit(0);
        }
        failures.forEach(f -> System.out.println("demo: FAILED " + f));
        System.exit(1);
    }

    /** A section body that may throw checked exceptions. */
    private interface Body {
        void run() throws Exception;
    }

    private static Runnable unchecked(Body body) {
        return () -> {
            try {
                body.run();
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        };
    }

    /** callSoon queues callbacks; runOnce() runs what was ready when it began; later ones wait for the next pass. */
    static void callbacks() {
        try (EventLoop loop = EventLoop.create()) {
            List<String> order = new ArrayList<>();
            loop.callSoon(() -> {
                say("first callback; it schedules another one");
                order.add("first");
                loop.callSoon(() -> {
                    say("third: scheduled by the first, so it runs in the next pass");
                    order.add("third");
                });
            });
            loop.callSoon(() -> {
                say("second callback");
                order.add("second");
            });
            Handle never = loop.callSoon(() -> order.add("cancelled"));
            never.cancel();
            loop.runOnce();
            loop.runOnce();
            check(order.equals(List.of("first", "second", "third")), "callback order " + order);
        }
    }

    /** callLater schedules by delay; equal due times keep scheduling order; the loop sleeps in between. */
    static void timers() {
        try (EventLoop loop = EventLoop.create()) {
            List<Integer> fired = new ArrayList<>();
            long t0 = loop.time();
            for (int ms : new int[] {30, 10, 20, 10}) {
                loop.callLater(Duration.ofMillis(ms), () -> {
                    say("timer %d ms fired after %.1f ms", ms, (loop.time() - t0) / 1e6);
                    fired.add(ms);
                });
            }
            loop.callLater(Duration.ofMillis(40), loop::stop);
            loop.runForever();
            check(fired.equals(List.of(10, 10, 20, 30)), "timer order " + fired);
        }
    }

    /** A future completes once; its callbacks run later on the loop; failures come back from result(). */
    static void futures() {
        try (EventLoop loop = EventLoop.create()) {
            Future<String> greeting = loop.createFuture();
            greeting.addDoneCallback(f -> say("done callback sees: %s", f.result()));
            loop.callLater(Duration.ofMillis(5), () -> {
                say("setting the result (callbacks do not run inside setResult)");
                greeting.setResult("hello from the loop");
            });
            String result = loop.runUntilComplete(greeting);
            say("runUntilComplete returned: %s", result);

            Future<Integer> broken = loop.createFuture();
            loop.callSoon(() -> broken.setException(new IllegalStateException("disk on fire")));
            try {
                loop.runUntilComplete(broken);
                fail("a failed future returned a result");
            } catch (IllegalStateException e) {
                say("a failed future throws its failure: %s", e.getMessage());
            }

            CompletableFuture<Integer> elsewhere = CompletableFuture.supplyAsync(() -> 6 * 7);
            int answer = loop.runUntilComplete(loop.wrapFuture(elsewhere));
            say("a CompletableFuture from another thread, adopted by the loop: %d", answer);
            check("hello from the loop".equals(result) && answer == 42, "future results");
        }
    }

    /** Work created while a scope is current belongs to it; cancelling the scope cancels all of it at once. */
    static void scopes() {
        try (EventLoop loop = EventLoop.create()) {
            Scope downloads = loop.rootScope().newChild("downloads");
            List<String> ran = new ArrayList<>();
            downloads.run(() -> {
                loop.callSoon(() -> ran.add("download callback"));
                loop.callLater(Duration.ofMillis(10), () -> ran.add("retry timer"));
            });
            downloads.onCancel(() -> say("scope '%s' cancelled: its cleanup action runs", downloads.name()));
            loop.callLater(Duration.ofMillis(5), () -> ran.add("unrelated timer"));
            downloads.cancel();
            loop.callLater(Duration.ofMillis(20), loop::stop);
            loop.runForever();
            say("what ran: %s", ran);
            try {
                downloads.run(() -> loop.callSoon(() -> { }));
                fail("a cancelled scope accepted new work");
            } catch (IllegalStateException e) {
                say("new work in the cancelled scope is refused: %s", e.getMessage());
            }
            check(ran.equals(List.of("unrelated timer")), "scope cancellation " + ran);
        }
    }

    /** callSoonThreadsafe is how other threads talk to the loop; a foreign thread may block on a future. */
    static void threads() {
        try (EventLoop loop = EventLoop.create()) {
            Future<String> reply = loop.createFuture();
            Thread worker = new Thread(() -> {
                say("worker thread asks the loop to set the reply");
                loop.callSoonThreadsafe(() -> reply.setResult("set on " + Thread.currentThread().getName()));
            }, "worker");
            Future<Void> joined = loop.createFuture();
            Thread waiter = new Thread(() -> {
                say("waiter thread blocks in await(): %s", reply.await());
                loop.callSoonThreadsafe(() -> joined.setResult(null));
            }, "waiter");
            waiter.start();
            worker.start();
            loop.runUntilComplete(joined);
            check(reply.result().startsWith("set on "), "thread hand-off " + reply.result());
        }
    }

    static void say(String format, Object... args) {
        System.out.printf("  [%6.1f ms] [%s] %s%n", (System.nanoTime() - START) / 1e6, Thread.currentThread().getName(),
                String.format(format, args));
    }

    static void check(boolean ok, String what) {
        if (!ok) {
            fail(what);
        }
    }

    private static void fail(String what) {
        failures.add(what);
        System.out.println("  !! " + what);
    }
}
