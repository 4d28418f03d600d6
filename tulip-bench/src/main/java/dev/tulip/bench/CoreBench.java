package dev.tulip.bench;

import dev.tulip.EventLoop;
import dev.tulip.Future;
import dev.tulip.TimerHandle;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The loop core's hot paths, per callback: callSoon dispatch, a timer scheduled and cancelled, a future's done
 * callback, and callSoonThreadsafe from another thread to a loop running on its own thread (end to end: the producer
 * waits until the loop ran its batch, so the figure includes the MPSC queue, the wake-ups and the run).
 *
 * <p>Run: {@code bash tulip-bench/jmh.sh CoreBench}. Target: callSoon dispatch under 50 ns per callback.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class CoreBench {

    static final int BATCH = 1000;

    /** A loop driven by the benchmark thread with runOnce(): one poll per batch. */
    @State(Scope.Thread)
    public static class Local {
        EventLoop loop;
        int counter;
        final Runnable increment = () -> counter++;
        final Consumer<Future<Integer>> onDone = f -> counter++;
        final Duration minute = Duration.ofSeconds(60);

        @Setup(Level.Trial)
        public void setUp() {
            loop = EventLoop.create();
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            loop.close();
        }
    }

    /** callSoon plus its dispatch by runOnce: the cost of one callback through the ready queue. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int callSoon(Local s) {
        EventLoop loop = s.loop;
        Runnable r = s.increment;
        for (int i = 0; i < BATCH; i++) {
            loop.callSoon(r);
        }
        loop.runOnce();
        return s.counter;
    }

    /** callLater then cancel (the heap compacts cancelled timers as it goes). */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int callLaterCancel(Local s) {
        EventLoop loop = s.loop;
        for (int i = 0; i < BATCH; i++) {
            TimerHandle h = loop.callLater(s.minute, s.increment);
            h.cancel();
        }
        loop.callSoon(s.increment); // never runOnce() with nothing ready: it would wait for I/O
        loop.runOnce();
        return s.counter;
    }

    /** A future created, given one done callback, completed; the callback dispatched. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int futureDoneCallback(Local s) {
        EventLoop loop = s.loop;
        for (int i = 0; i < BATCH; i++) {
            Future<Integer> f = loop.createFuture();
            f.addDoneCallback(s.onDone);
            f.setResult(i);
        }
        loop.runOnce();
        return s.counter;
    }

    /** A loop running forever on its own thread, fed by the benchmark thread. */
    @State(Scope.Benchmark)
    public static class Remote {
        EventLoop loop;
        Thread thread;
        volatile long ran;
        final Runnable increment = () -> ran++; // only the loop thread writes

        @Setup(Level.Trial)
        public void setUp() {
            loop = EventLoop.create();
            thread = new Thread(loop::runForever, "tulip-loop");
            thread.start();
        }

        @TearDown(Level.Trial)
        public void tearDown() throws InterruptedException {
            loop.stop();
            thread.join();
            loop.close();
        }
    }

    /** callSoonThreadsafe from the benchmark thread; waits for the loop to run the batch (bounded queue). */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public long callSoonThreadsafe(Remote s) {
        EventLoop loop = s.loop;
        long target = s.ran + BATCH;
        for (int i = 0; i < BATCH; i++) {
            loop.callSoonThreadsafe(s.increment);
        }
        while (s.ran < target) {
            Thread.yield(); // the machine may have fewer free cores than threads: do not spin
        }
        return target;
    }
}
