package dev.tulip.bench;

import dev.tulip.EventLoop;
import dev.tulip.Future;
import dev.tulip.TimerHandle;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
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
 * Microbenchmarks of the loop core: the cost of one callback through the ready queue, of a timer scheduled and
 * cancelled, of a timer that fires, of a thread-safe call made on the loop thread, and of a future's done callback.
 * Each operation is batched ({@value #BATCH} per invocation) and run with {@code runOnce()} on the benchmark thread.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class LoopBench {

    static final int BATCH = 1000;

    private EventLoop loop;
    private int counter;
    private final Runnable increment = () -> counter++;

    @Setup(Level.Trial)
    public void setUp() {
        loop = EventLoop.create();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        loop.close();
    }

    /** One callSoon and its run, per operation. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int callSoon() {
        for (int i = 0; i < BATCH; i++) {
            loop.callSoon(increment);
        }
        loop.runOnce();
        return counter;
    }

    /** One callSoonThreadsafe (from the loop's own thread: the MPSC queue without a wake-up) and its run. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int callSoonThreadsafe() {
        for (int i = 0; i < BATCH; i++) {
            loop.callSoonThreadsafe(increment);
        }
        loop.runOnce();
        return counter;
    }

    /** One callLater and its cancel, then the pass that drops the cancelled timers. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int timerScheduleCancel() {
        Duration d = Duration.ofSeconds(60);
        for (int i = 0; i < BATCH; i++) {
            TimerHandle h = loop.callLater(d, increment);
            h.cancel();
        }
        loop.callSoon(increment); // something ready, so the pass polls without blocking
        loop.runOnce();
        return counter;
    }

    /** One callLater(0) that fires. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int timerFire() {
        int target = counter + BATCH;
        for (int i = 0; i < BATCH; i++) {
            loop.callLater(Duration.ZERO, increment);
        }
        // Never runOnce() with nothing pending: like asyncio's, it would wait for I/O forever.
        while (counter < target) {
            loop.runOnce();
        }
        return counter;
    }

    /** A future completed with one done callback, and that callback's run. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int futureDoneCallback() {
        for (int i = 0; i < BATCH; i++) {
            Future<Integer> f = loop.createFuture();
            f.addDoneCallback(x -> counter++);
            f.setResult(i);
        }
        loop.runOnce();
        return counter;
    }
}
