package dev.tulip.bench;

import dev.tulip.EventLoop;
import dev.tulip.Task;
import dev.tulip.Tulip;
import dev.tulip.sync.Lock;
import dev.tulip.sync.Queue;
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
 * The cost of {@code dev.tulip.sync}: lock acquire/release and queue put/get round trips, uncontended (the fast
 * path: no suspension, the primitive's own cost) and contended (every operation suspends and is handed off to the
 * other task: dominated by the coroutine engine's await round trip).
 *
 * <p>The coroutine engine is per JVM: run once plainly (virtual threads) and once with
 * {@code -jvmArgsAppend "--add-exports java.base/jdk.internal.vm=ALL-UNNAMED"} (continuations). {@code loopThread}
 * says whether the loop runs on the benchmark's platform thread or on a virtual thread.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class SyncBench {
    static final int FAST_OPS = 100_000;
    static final int HANDOFFS = 10_000;

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

    /** One uncontended {@code acquire(); release()} inside a task (no suspension). */
    @Benchmark
    @OperationsPerInvocation(FAST_OPS)
    public int lockUncontended() {
        return onLoopThread(() -> loop.runUntilComplete(loop.createTask(() -> {
            Lock lock = new Lock();
            int n = 0;
            for (int i = 0; i < FAST_OPS; i++) {
                lock.acquire();
                n++;
                lock.release();
            }
            return n;
        })));
    }

    /** One uncontended {@code put(x); get()} inside a task (no suspension). */
    @Benchmark
    @OperationsPerInvocation(FAST_OPS)
    public int queueUncontended() {
        return onLoopThread(() -> loop.runUntilComplete(loop.createTask(() -> {
            Queue<Integer> q = new Queue<>(16);
            int sum = 0;
            Integer item = 7;
            for (int i = 0; i < FAST_OPS; i++) {
                q.put(item);
                sum += q.get();
            }
            return sum;
        })));
    }

    /**
     * Two tasks taking turns on a lock: every acquire waits and is handed the lock by the other task's release.
     * The score is per acquire/release.
     */
    @Benchmark
    @OperationsPerInvocation(HANDOFFS)
    public int lockHandOff() {
        return onLoopThread(() -> loop.runUntilComplete(loop.createTask(() -> {
            Lock lock = new Lock();
            lock.acquire();
            Task<Integer> other = Task.spawn(() -> {
                int n = 0;
                for (int i = 0; i < HANDOFFS / 2; i++) {
                    lock.acquire();
                    n++;
                    lock.release();
                }
                return n;
            });
            while (lock.statistics().waiting() == 0) {
                Tulip.sleep(Duration.ZERO); // let the other task start and queue up
            }
            int n = 0;
            for (int i = 0; i < HANDOFFS / 2; i++) {
                lock.release();
                lock.acquire();
                n++;
            }
            lock.release();
            return n + other.await();
        })));
    }

    /**
     * A producer and a consumer through a queue of size 1: every put and get waits and is handed off. The score is
     * per item (one put plus one get).
     */
    @Benchmark
    @OperationsPerInvocation(HANDOFFS)
    public int queueHandOff() {
        return onLoopThread(() -> loop.runUntilComplete(loop.createTask(() -> {
            Queue<Integer> q = new Queue<>(1);
            Task<Integer> consumer = Task.spawn(() -> {
                int sum = 0;
                for (int i = 0; i < HANDOFFS; i++) {
                    sum += q.get();
                }
                return sum;
            });
            Integer item = 1;
            for (int i = 0; i < HANDOFFS; i++) {
                q.put(item);
            }
            return consumer.await();
        })));
    }
}
