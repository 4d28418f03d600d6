package dev.tulip.sync;

import java.util.List;

/** {@link Queue} (FIFO) against the queue contract. */
class QueueTest extends QueueContract {

    @Override
    Queue<Integer> newQueue(int maxsize) {
        return new Queue<>(maxsize);
    }

    @Override
    List<Integer> expectedOrder(List<Integer> putOrder) {
        return putOrder;
    }
}
