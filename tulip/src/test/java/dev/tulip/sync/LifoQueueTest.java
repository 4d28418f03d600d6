package dev.tulip.sync;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** {@link LifoQueue} against the queue contract. */
class LifoQueueTest extends QueueContract {

    @Override
    Queue<Integer> newQueue(int maxsize) {
        return new LifoQueue<>(maxsize);
    }

    @Override
    List<Integer> expectedOrder(List<Integer> putOrder) {
        List<Integer> l = new ArrayList<>(putOrder);
        Collections.reverse(l);
        return l;
    }
}
