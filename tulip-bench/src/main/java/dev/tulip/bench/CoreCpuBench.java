package dev.tulip.bench;

import dev.tulip.EventLoop;
import dev.tulip.Future;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.function.Consumer;

/**
 * The single-threaded paths of {@link CoreBench} measured in thread CPU time instead of wall time: on a machine shared
 * by many busy processes, time spent descheduled is not counted, so the figure stays comparable between runs. Prints
 * the best round (after warm-up) of each path, in CPU nanoseconds per operation.
 *
 * <p>Run: {@code ./tulipw java -cp "tulip-bench/target/classes:$(cat tulip-bench/target/runtime-classpath.txt)"
 * dev.tulip.bench.CoreCpuBench}.
 */
public final class CoreCpuBench {
    private static final int BATCH = 1000;
    private static int counter;

    private CoreCpuBench() {
    }

    public static void main(String[] args) {
        Runnable increment = () -> counter++;
        Consumer<Future<Integer>> onDone = f -> counter++;
        Duration minute = Duration.ofMinutes(1);
        try (EventLoop loop = EventLoop.create()) {
            report("callSoon + dispatch", () -> {
                for (int i = 0; i < BATCH; i++) {
                    loop.callSoon(increment);
                }
                loop.runOnce();
            });
            report("callLater + cancel", () -> {
                for (int i = 0; i < BATCH; i++) {
                    loop.callLater(minute, increment).cancel();
                }
                loop.callSoon(increment);
                loop.runOnce();
            });
            report("future + done callback + dispatch", () -> {
                for (int i = 0; i < BATCH; i++) {
                    Future<Integer> f = loop.createFuture();
                    f.addDoneCallback(onDone);
                    f.setResult(i);
                }
                loop.runOnce();
            });
        }
        crossThread();
        System.out.println("(counter " + counter + ")");
    }

    /** callSoonThreadsafe from this thread to a loop running on another: the producer's CPU per call. */
    private static void crossThread() {
        EventLoop loop = EventLoop.create();
        Thread runner = new Thread(loop::runForever, "tulip-loop");
        runner.start();
        long[] ran = new long[1];
        java.util.concurrent.atomic.AtomicLong seen = new java.util.concurrent.atomic.AtomicLong();
        Runnable tick = () -> seen.lazySet(++ran[0]);
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        long sent = 0;
        double best = Double.MAX_VALUE;
        for (int round = 0; round < 25; round++) {
            long cpu = 0;
            for (int b = 0; b < 1000; b++) {
                long c0 = mx.getCurrentThreadCpuTime(); // only the calls count, not the wait for the loop below
                for (int i = 0; i < BATCH; i++) {
                    loop.callSoonThreadsafe(tick);
                }
                cpu += mx.getCurrentThreadCpuTime() - c0;
                sent += BATCH;
                while (seen.get() < sent - 4 * BATCH) { // stay at most a few batches ahead of the loop
                    Thread.yield();
                }
            }
            if (round >= 8) {
                best = Math.min(best, cpu / (1000.0 * BATCH));
            }
        }
        System.out.printf("%-36s %7.1f ns CPU/op%n", "callSoonThreadsafe (producer side)", best);
        loop.stop();
        try {
            runner.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        loop.close();
    }

    private static void report(String what, Runnable batch) {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        double best = Double.MAX_VALUE;
        for (int round = 0; round < 25; round++) {
            long c0 = mx.getCurrentThreadCpuTime();
            int batches = 1000;
            for (int b = 0; b < batches; b++) {
                batch.run();
            }
            double ns = (mx.getCurrentThreadCpuTime() - c0) / ((double) batches * BATCH);
            if (round >= 8) {
                best = Math.min(best, ns);
            }
        }
        System.out.printf("%-36s %7.1f ns CPU/op%n", what, best);
    }
}
