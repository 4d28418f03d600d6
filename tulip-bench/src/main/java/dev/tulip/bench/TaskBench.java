package dev.tulip.bench;

import dev.tulip.EventLoop;
import dev.tulip.Future;
import dev.tulip.Task;
import dev.tulip.Tulip;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The cost of coroutines: an await round trip (task suspends, the loop runs, the task resumes) and many tasks
 * yielding. The coroutine engine is per JVM: run once plainly (virtual threads) and once with
 * {@code -jvmArgsAppend "--add-exports java.base/jdk.internal.vm=ALL-UNNAMED"} (continuations). {@code loopThread}
 * says whether the loop runs on the benchmark's platform thread or on a virtual thread (what {@code Tulip.run} does
 * under the virtual-thread engine).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class TaskBench {
    static final int YIELDS = 10_000;
    static final int TASKS = 10_000;
    static final int STEPS = 100;

    @Param({"platform", "virtual"})
    public String loopThread;

    private EventLoop loop;

    @Setup(Level.Trial)
    public void setUp() {
        loop = EventLoop.create();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        loop.close();
    }

    private int onLoopThread(IntSupplier work) {
        if (loopThread.equals("platform")) {
            return work.getAsInt();
        }
        int[] out = new int[1];
        Thread t = Thread.ofVirtual().start(() -> out[0] = work.getAsInt());
        try {
            t.join();
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
        return out[0];
    }

    private int chain;

    /** Baseline: a plain callback that reschedules itself (what the protocol path pays per step). */
    @Benchmark
    @OperationsPerInvocation(YIELDS)
    public int callbackChain() {
        return onLoopThread(() -> {
            Future<Integer> done = loop.createFuture();
            chain = 0;
            Runnable[] step = new Runnable[1];
            step[0] = () -> {
                if (++chain == YIELDS) {
                    done.setResult(chain);
                } else {
                    loop.callSoon(step[0]);
                }
            };
            loop.callSoon(step[0]);
            return loop.runUntilComplete(done);
        });
    }

    static final int WAKEUPS = 1000;

    /**
     * One wake-up of a loop blocked in its selector by another (platform) thread's callSoonThreadsafe, and the
     * reply: shows what blocking in {@code Selector.select} on a virtual thread adds (the JDK's poller hop).
     */
    @Benchmark
    @OperationsPerInvocation(WAKEUPS)
    public int threadsafeWakeup() {
        return onLoopThread(() -> {
            Future<Integer> done = loop.createFuture();
            int[] acked = new int[1];
            Thread[] helper = new Thread[1];
            helper[0] = Thread.ofPlatform().start(() -> {
                for (int i = 1; i <= WAKEUPS; i++) {
                    int v = i;
                    loop.callSoonThreadsafe(() -> {
                        ACK.setRelease(acked, 0, v);
                        java.util.concurrent.locks.LockSupport.unpark(helper[0]);
                        if (v == WAKEUPS) {
                            done.setResult(v);
                        }
                    });
                    while ((int) ACK.getAcquire(acked, 0) != v) {
                        java.util.concurrent.locks.LockSupport.park();
                    }
                }
            });
            return loop.runUntilComplete(done);
        });
    }

    private static final java.lang.invoke.VarHandle ACK = java.lang.invoke.MethodHandles.arrayElementVarHandle(int[].class);

    /** One {@code sleep(0)}: suspend, one pass of the loop, resume. */
    @Benchmark
    @OperationsPerInvocation(YIELDS)
    public int yieldRoundTrip() {
        return onLoopThread(() -> loop.runUntilComplete(loop.createTask(() -> {
            int i = 0;
            for (; i < YIELDS; i++) {
                Tulip.sleep(Duration.ZERO);
            }
            return i;
        })));
    }

    /** One await of a future that a callback completes: suspend, callback, done callback, resume. */
    @Benchmark
    @OperationsPerInvocation(YIELDS)
    public int awaitRoundTrip() {
        return onLoopThread(() -> awaitRoundTrips(loop));
    }

    /** {@link #YIELDS} await round trips in one task on {@code loop}; shared with {@link TaskCpuBench}. */
    static int awaitRoundTrips(EventLoop loop) {
        return loop.runUntilComplete(loop.createTask(() -> {
            int sum = 0;
            for (int i = 0; i < YIELDS; i++) {
                Future<Integer> f = loop.createFuture();
                int v = i;
                loop.callSoon(() -> f.setResult(v));
                sum += f.await();
            }
            return sum;
        }));
    }

    /** 10,000 tasks each doing 100 {@code sleep(0)}; the score is per sleep(0). */
    @Benchmark
    @OperationsPerInvocation(TASKS * STEPS)
    public int manyTasks() {
        return onLoopThread(() -> manyTasks(loop));
    }

    /** {@link #TASKS} tasks doing {@link #STEPS} {@code sleep(0)} each on {@code loop}; shared with {@link TaskCpuBench}. */
    static int manyTasks(EventLoop loop) {
        return loop.runUntilComplete(loop.createTask(() -> {
            @SuppressWarnings("unchecked") Task<Integer>[] tasks = new Task[TASKS];
            for (int t = 0; t < TASKS; t++) {
                tasks[t] = Task.spawn(() -> {
                    for (int i = 0; i < STEPS; i++) {
                        Tulip.sleep(Duration.ZERO);
                    }
                    return STEPS;
                });
            }
            int total = 0;
            for (Task<Integer> t : tasks) {
                total += t.await();
            }
            return total;
        }));
    }
}
