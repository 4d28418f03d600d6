package dev.tulip.sync;

import static dev.tulip.sync.SyncTesting.runVoid;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link PriorityQueue} against the queue contract, plus ordering by comparator and stability. */
class PriorityQueueTest extends QueueContract {

    @Override
    Queue<Integer> newQueue(int maxsize) {
        return new PriorityQueue<>(maxsize);
    }

    @Override
    List<Integer> expectedOrder(List<Integer> putOrder) {
        List<Integer> l = new ArrayList<>(putOrder);
        l.sort(null);
        return l;
    }

    record Job(int priority, String name) {
    }

    @Test
    void ordersByComparatorAndKeepsArrivalOrderAmongEquals() {
        runVoid(() -> {
            PriorityQueue<Job> q = new PriorityQueue<>(0, Comparator.comparingInt(Job::priority));
            q.put(new Job(2, "c"));
            q.put(new Job(1, "a"));
            q.put(new Job(2, "d"));
            q.put(new Job(1, "b"));
            q.put(new Job(0, "first"));
            List<String> out = new ArrayList<>();
            while (!q.isEmpty()) {
                out.add(q.get().name());
            }
            assertEquals(List.of("first", "a", "b", "c", "d"), out);
        });
    }

    @Test
    void naturalOrderRefusesItemsThatAreNotComparable() {
        runVoid(() -> {
            PriorityQueue<Object> q = new PriorityQueue<>();
            var e = assertThrows(ClassCastException.class, () -> q.putNowait(new Object()));
            assertEquals(true, e.getMessage().contains("Comparable"), e.getMessage());
            assertEquals(0, q.size());
            assertEquals(0, q.statistics().unfinishedTasks());
        });
        assertThrows(NullPointerException.class, () -> new PriorityQueue<Integer>(0, null));
    }
}
