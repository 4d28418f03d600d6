package dev.tulip.internal.loop;

import dev.tulip.Handle;
import dev.tulip.SchedulingPolicy;
import dev.tulip.Scope;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.SplittableRandom;

/**
 * Lottery scheduling between scopes: each {@link #poll()} draws one scope that has ready work, with probability
 * proportional to its tickets, and returns that scope's oldest ready handle. FIFO within a scope.
 *
 * <p>Cost per draw is linear in the number of scopes with ready work (usually a handful), constant otherwise.
 *
 * <p>Loop thread only.
 */
public final class LotteryPolicy implements SchedulingPolicy {
    private final SplittableRandom random;
    private final IdentityHashMap<Scope, ArrayDeque<Handle>> queues = new IdentityHashMap<>();
    /** Scopes with at least one ready handle, in first-ready order. */
    private final ArrayList<Scope> active = new ArrayList<>();
    private int size;

    /**
     * Creates the policy.
     *
     * @param seed random seed (fixed seeds make runs reproducible)
     */
    public LotteryPolicy(long seed) {
        this.random = new SplittableRandom(seed);
    }

    @Override
    public void offer(Handle handle) {
        Scope s = handle.scope();
        ArrayDeque<Handle> q = queues.get(s);
        if (q == null) {
            q = new ArrayDeque<>();
            queues.put(s, q);
        }
        if (q.isEmpty()) {
            active.add(s);
        }
        q.addLast(handle);
        size++;
    }

    @Override
    public Handle poll() {
        int n = active.size();
        if (n == 0) {
            return null;
        }
        int index = 0;
        if (n > 1) {
            long total = 0;
            for (int i = 0; i < n; i++) {
                total += active.get(i).tickets();
            }
            long draw = random.nextLong(total);
            for (index = 0; index < n - 1; index++) {
                draw -= active.get(index).tickets();
                if (draw < 0) {
                    break;
                }
            }
        }
        Scope winner = active.get(index);
        ArrayDeque<Handle> q = queues.get(winner);
        Handle h = q.pollFirst();
        if (q.isEmpty()) {
            active.remove(index);
            queues.remove(winner); // scopes come and go (one per task): keep no empty queues around
        }
        size--;
        return h;
    }

    @Override
    public int size() {
        return size;
    }
}
