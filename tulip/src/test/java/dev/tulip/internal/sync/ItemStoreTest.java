package dev.tulip.internal.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The three item orders, including where a returned item goes. */
class ItemStoreTest {

    private static <E> List<E> drain(ItemStore<E> s) {
        List<E> out = new ArrayList<>();
        while (s.size() > 0) {
            out.add(s.remove());
        }
        return out;
    }

    @Test
    void fifoReturnsAtTheFront() {
        ItemStore<Integer> s = ItemStore.fifo();
        s.add(1);
        s.add(2);
        s.addReturned(0);
        assertEquals(List.of(0, 1, 2), drain(s));
    }

    @Test
    void lifoReturnsOnTop() {
        ItemStore<Integer> s = ItemStore.lifo();
        s.add(1);
        s.add(2);
        s.addReturned(0);
        assertEquals(List.of(0, 2, 1), drain(s));
    }

    /** Items with a priority and an identity: equal priorities must keep insertion order. */
    record Job(int priority, int id) {
    }

    @Test
    void heapIsAStableMinHeap() {
        Random rnd = new Random(42);
        ItemStore<Job> s = ItemStore.priority(Comparator.comparingInt(Job::priority));
        List<Job> all = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            Job j = new Job(rnd.nextInt(10), i);
            all.add(j);
            s.add(j);
            if (rnd.nextInt(4) == 0) {
                all.remove(s.remove());
            }
        }
        List<Job> expected = new ArrayList<>(all);
        expected.sort(Comparator.comparingInt(Job::priority).thenComparingInt(Job::id)); // stable by arrival
        assertEquals(expected, drain(s));
    }

    @Test
    void heapReturnedItemIsFirstAmongEquals() {
        ItemStore<Job> s = ItemStore.priority(Comparator.comparingInt(Job::priority));
        s.add(new Job(1, 1));
        s.add(new Job(0, 2));
        s.addReturned(new Job(1, 0));
        s.addReturned(new Job(1, -1));
        assertEquals(List.of(new Job(0, 2), new Job(1, -1), new Job(1, 0), new Job(1, 1)), drain(s));
    }

    @Test
    void naturalOrderNeedsComparable() {
        ItemStore<Object> s = ItemStore.priority(null);
        assertThrows(ClassCastException.class, () -> s.validate(new Object()));
        s.validate("ok");
        s.add("b");
        s.add("a");
        assertEquals(List.of("a", "b"), drain(s));
    }
}
