package dev.tulip.bench;

import com.sun.management.OperatingSystemMXBean;
import dev.tulip.EventLoop;
import java.lang.management.ManagementFactory;
import java.util.function.IntSupplier;

/**
 * {@link TaskBench}'s paths measured in process CPU time instead of wall time, for a machine shared by busy
 * processes (time spent descheduled is not counted). Process time, not thread time, because under the
 * virtual-thread engine task bodies run on carrier threads. Each round repeats the work for at least 300 ms of CPU; prints the best round after warm-up of each path in CPU
 * nanoseconds per operation, and the engine that ran.
 *
 * <p>Run under each engine: {@code ./tulipw java -cp "tulip-bench/target/classes:$(cat
 * tulip-bench/target/runtime-classpath.txt)" dev.tulip.bench.TaskCpuBench} (virtual threads), and the same with
 * {@code --add-exports java.base/jdk.internal.vm=ALL-UNNAMED} (continuations). {@code virtual} as the first
 * argument runs the loop on a virtual thread, as {@code Tulip.run} does under the virtual-thread engine.
 */
public final class TaskCpuBench {

    private TaskCpuBench() {
    }

    public static void main(String[] args) throws Exception {
        boolean virtualLoop = args.length > 0 && args[0].equals("virtual");
        String engine = System.getProperty("tulip.coroutines", "auto");
        System.out.println("engine: " + engine + " (exported: " + exported() + "), loop on a "
                + (virtualLoop ? "virtual" : "platform") + " thread");
        try (EventLoop loop = EventLoop.create()) {
            report("plain callback chain (baseline)", TaskBench.YIELDS, virtualLoop, () -> chain(loop));
            report("await round trip", TaskBench.YIELDS, virtualLoop, () -> TaskBench.awaitRoundTrips(loop));
            report("10,000 tasks x 100 sleep(0), per sleep", TaskBench.TASKS * TaskBench.STEPS, virtualLoop,
                    () -> TaskBench.manyTasks(loop));
        }
    }

    private static boolean exported() {
        return Object.class.getModule().isExported("jdk.internal.vm", TaskCpuBench.class.getModule());
    }

    private static int chained;

    private static int chain(EventLoop loop) {
        chained = 0;
        Runnable[] step = new Runnable[1];
        step[0] = () -> {
            if (++chained < TaskBench.YIELDS) {
                loop.callSoon(step[0]);
            } else {
                loop.stop();
            }
        };
        loop.callSoon(step[0]);
        loop.runForever();
        return chained;
    }

    private static void report(String what, int ops, boolean virtualLoop, IntSupplier work) throws Exception {
        OperatingSystemMXBean os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        double best = Double.MAX_VALUE;
        for (int round = 0; round < 8; round++) {
            // Each round repeats the work for at least 300 ms of CPU: the process clock ticks in milliseconds.
            long c0 = os.getProcessCpuTime();
            long done = 0;
            long cpu;
            do {
                if (onThread(virtualLoop, work) <= 0) {
                    throw new IllegalStateException("no work done");
                }
                done += ops;
                cpu = os.getProcessCpuTime() - c0;
            } while (cpu < 300_000_000L);
            if (round >= 3) {
                best = Math.min(best, cpu / (double) done);
            }
        }
        System.out.printf("%-42s %9.1f ns CPU/op%n", what, best);
    }

    private static int onThread(boolean virtual, IntSupplier work) throws InterruptedException {
        if (!virtual) {
            return work.getAsInt();
        }
        int[] out = new int[1];
        Thread t = Thread.ofVirtual().start(() -> out[0] = work.getAsInt());
        t.join();
        return out[0];
    }
}
