package dev.tulip.internal.task;

import dev.tulip.Task;
import dev.tulip.internal.loop.TulipLoop;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;

/**
 * The pending tasks of one loop, held strongly (a pending task is never collected, so asyncio's "Task was destroyed
 * but it is pending" cannot happen), and the close hook that cancels them and lets their bodies unwind.
 *
 * <p>Loop thread only.
 */
public final class TaskRegistry {
    private static final System.Logger LOG = System.getLogger("dev.tulip.task");

    private final TulipLoop loop;
    private final LinkedHashSet<TaskCore<?>> pending = new LinkedHashSet<>();

    private TaskRegistry(TulipLoop loop) {
        this.loop = loop;
    }

    /** The registry of {@code loop}, created (with its close hook) on first use. */
    public static TaskRegistry of(TulipLoop loop) {
        Object s = loop.taskState();
        if (s instanceof TaskRegistry r) {
            return r;
        }
        TaskRegistry r = new TaskRegistry(loop);
        loop.setTaskState(r);
        loop.addCloseHook(r::closeAll);
        return r;
    }

    /** The registry of {@code loop} if it ever had a task, else null. */
    public static TaskRegistry peek(TulipLoop loop) {
        return loop.taskState() instanceof TaskRegistry r ? r : null;
    }

    void add(TaskCore<?> t) {
        pending.add(t);
    }

    void remove(TaskCore<?> t) {
        pending.remove(t);
    }

    /** The pending tasks, in creation order. */
    public List<Task<?>> tasks() {
        List<Task<?>> l = new ArrayList<>(pending.size());
        for (TaskCore<?> t : pending) {
            l.add(t.task());
        }
        return l;
    }

    /** How many tasks are pending. */
    public int size() {
        return pending.size();
    }

    /**
     * Close hook: cancels every pending task and runs the loop (without blocking) so their bodies unwind; a body that
     * swallows the cancellation and awaits again gets a {@link java.util.concurrent.CancellationException} from every
     * further await at once, without suspending, until it ends.
     */
    private void closeAll() {
        for (int round = 0; round < 3 && !pending.isEmpty(); round++) {
            for (TaskCore<?> t : new ArrayList<>(pending)) {
                t.task().cancel("event loop is closing");
            }
            loop.runCleanupPasses(1000);
        }
        for (TaskCore<?> t : new ArrayList<>(pending)) {
            t.kill();
        }
        loop.runCleanupPasses(1000);
        if (!pending.isEmpty()) {
            LOG.log(System.Logger.Level.WARNING, () -> pending.size() + " task(s) did not end when the loop closed: "
                    + tasks());
        }
    }
}
