package dev.tulip.sync;

import dev.tulip.internal.loop.TulipLoop;
import dev.tulip.internal.sync.ItemStore;
import dev.tulip.internal.sync.LoopBinding;
import dev.tulip.internal.sync.WaitQueue;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.function.Consumer;

/**
 * A first-in, first-out queue for producer and consumer tasks of one event loop: asyncio's {@code Queue}, with
 * {@code shutdown} as in Python 3.13. {@link PriorityQueue} and {@link LifoQueue} change only the order of items.
 *
 * <pre>{@code
 * Queue<Job> jobs = new Queue<>(100);       // bounded: put() waits while 100 items are queued
 * // producer                               // consumer
 * jobs.put(job);                            Job j = jobs.get();
 *                                           try { run(j); } finally { jobs.taskDone(); }
 * jobs.join();                              // waits until every job put was marked done
 * }</pre>
 *
 * <p>Behaviour:
 * <ul>
 *   <li>Bounded or not: {@code maxsize == 0} means unbounded. {@link #put} waits while the queue is full
 *       (backpressure); {@link #putNowait} throws {@link QueueFullException} instead. {@link #get} waits while it is
 *       empty; {@link #getNowait} throws {@link QueueEmptyException}. Items must not be null.</li>
 *   <li>Fair: waiting getters receive items, and waiting putters receive free slots, in the order they started
 *       waiting. An item put while getters wait is handed directly to the first one; a newcomer cannot take it.</li>
 *   <li>Cancellation-safe: a cancelled {@code get} consumes no item (an item already handed to it goes back to the
 *       front of the queue, or straight to the next waiting getter); a cancelled {@code put} adds no item (a slot
 *       already promised to it passes to the next waiting putter). So an operation that throws
 *       {@link CancellationException} had no effect, and no item is ever lost or duplicated.</li>
 *   <li>{@link #join()} waits until {@link #taskDone()} was called once for every item put.</li>
 *   <li>{@link #shutdown(boolean)}: afterwards {@code put} throws {@link QueueShutDownException}; {@code get} keeps
 *       returning the items left and then throws it (or at once, after an immediate shutdown, which discards the
 *       items and counts them as done for {@code join}). Tasks waiting in {@code put} or {@code get} are woken with
 *       the exception.</li>
 * </ul>
 *
 * <p>Capacity note: an item handed to a getter that has not resumed yet, and a slot promised to a putter that has
 * not resumed yet, still count against {@code maxsize} until that task runs (normally the same loop iteration).
 * {@link #isFull()} includes them, {@link #size()} counts stored items only. This keeps the bound strict even when
 * a handed-out item comes back from a cancelled getter.
 *
 * <p>Threading: loop thread only; binds to the loop that first uses it (see {@link Lock}). To feed a queue from
 * another thread, schedule {@code putNowait} with {@link dev.tulip.EventLoop#callSoonThreadsafe}.
 *
 * @param <E> the item type
 */
public sealed class Queue<E> permits PriorityQueue, LifoQueue {
    private final LoopBinding binding;
    private final ItemStore<E> store;
    private final int maxsize;
    /** Waiting getters; granted the item itself. Non-empty implies the store is empty. */
    private final WaitQueue<E> getters = new WaitQueue<>();
    /** Waiting putters; granted a reserved slot. Non-empty implies the queue is full. */
    private final WaitQueue<Void> putters = new WaitQueue<>();
    /** Tasks in join(). */
    private final WaitQueue<Void> joiners = new WaitQueue<>();
    private final Consumer<E> returnItem = this::returnItem;
    private final Consumer<Void> releaseSlot = granted -> releaseSlot();
    /** Items handed to getters and slots promised to putters, whose tasks have not resumed yet. */
    private int reserved;
    /** Items put and not yet marked done. */
    private int unfinished;
    private boolean shutDown;
    private boolean shutDownImmediately;

    /**
     * Statistics of a queue at one moment.
     *
     * @param size            items stored ({@link #size()})
     * @param maxsize         the bound, 0 if unbounded
     * @param unfinishedTasks items put and not yet marked done by {@link #taskDone()}
     * @param waitingGetters  tasks waiting in {@link #get()}
     * @param waitingPutters  tasks waiting in {@link #put}
     * @param waitingJoiners  tasks waiting in {@link #join()}
     * @param shutDown        whether {@link #shutdown(boolean)} was called
     */
    public record Statistics(int size, int maxsize, int unfinishedTasks, int waitingGetters, int waitingPutters,
                             int waitingJoiners, boolean shutDown) {
    }

    /** Creates an unbounded FIFO queue. Any thread. */
    public Queue() {
        this(0);
    }

    /**
     * Creates a FIFO queue holding at most {@code maxsize} items (0: unbounded). Any thread.
     *
     * @param maxsize the bound, or 0 for none
     * @throws IllegalArgumentException if maxsize is negative
     */
    public Queue(int maxsize) {
        this(maxsize, ItemStore.fifo(), "Queue");
    }

    Queue(int maxsize, ItemStore<E> store, String name) {
        if (maxsize < 0) {
            throw new IllegalArgumentException(name + " maxsize must not be negative (0 means unbounded): " + maxsize);
        }
        this.maxsize = maxsize;
        this.store = store;
        this.binding = new LoopBinding(name);
    }

    /**
     * Puts an item, waiting while the queue is full. If getters wait, the first one receives it directly.
     *
     * <p>A cancellation point when it has to wait: if the task is cancelled while waiting, this throws
     * {@link CancellationException} and the item was not added.
     *
     * @param item the item
     * @throws NullPointerException    if item is null
     * @throws QueueShutDownException  if the queue is shut down (before or while waiting)
     * @throws CancellationException   if the task is cancelled while waiting
     * @throws IllegalStateException   if it must wait outside a task, off the loop thread, or on another loop
     */
    public final void put(E item) {
        Objects.requireNonNull(item, "queue items must not be null");
        binding.check();
        store.validate(item);
        if (shutDown) {
            throw new QueueShutDownException("put() on a shut-down " + binding);
        }
        if (!isFullNow()) {
            accept(item);
            return;
        }
        TulipLoop loop = binding.forWaiting("put");
        putters.await(putters.add(loop, null), releaseSlot);
        reserved--; // the slot promised to us
        if (shutDown) {
            slotFreed();
            throw new QueueShutDownException("put() on a " + binding + " shut down while waiting");
        }
        accept(item);
    }

    /**
     * Puts an item if there is room, without waiting. Never suspends.
     *
     * @param item the item
     * @throws NullPointerException   if item is null
     * @throws QueueFullException     if the queue is full
     * @throws QueueShutDownException if the queue is shut down
     */
    public final void putNowait(E item) {
        Objects.requireNonNull(item, "queue items must not be null");
        binding.check();
        store.validate(item);
        if (shutDown) {
            throw new QueueShutDownException("putNowait() on a shut-down " + binding);
        }
        if (isFullNow()) {
            throw new QueueFullException(binding + " is full (maxsize " + maxsize + ")");
        }
        accept(item);
    }

    /**
     * Removes and returns the next item, waiting while the queue is empty.
     *
     * <p>A cancellation point when it has to wait: if the task is cancelled while waiting, this throws
     * {@link CancellationException} and no item was taken (one already handed to this task goes back to the front
     * of the queue or to the next waiting getter).
     *
     * @return the item
     * @throws QueueShutDownException if the queue is shut down and has no item left (before or while waiting)
     * @throws CancellationException  if the task is cancelled while waiting
     * @throws IllegalStateException  if it must wait outside a task, off the loop thread, or on another loop
     */
    public final E get() {
        binding.check();
        if (store.size() > 0) {
            return takeStored();
        }
        if (shutDown) {
            throw new QueueShutDownException("get() on a shut-down, empty " + binding);
        }
        TulipLoop loop = binding.forWaiting("get");
        E item = getters.await(getters.add(loop, null), returnItem);
        reserved--; // the item handed to us is ours now: its slot frees up
        slotFreed();
        return item;
    }

    /**
     * Removes and returns the next item if there is one, without waiting. Never suspends.
     *
     * @return the item
     * @throws QueueEmptyException    if the queue is empty
     * @throws QueueShutDownException if the queue is empty and shut down
     */
    public final E getNowait() {
        binding.check();
        if (store.size() > 0) {
            return takeStored();
        }
        if (shutDown) {
            throw new QueueShutDownException("getNowait() on a shut-down, empty " + binding);
        }
        throw new QueueEmptyException(binding + " is empty");
    }

    /**
     * Marks one item taken from the queue as processed; when every item put has been marked, {@link #join()}
     * returns. Works after shutdown too. Never suspends.
     *
     * @throws IllegalStateException if called more times than items were put
     */
    public final void taskDone() {
        binding.check();
        if (unfinished <= 0) {
            throw new IllegalStateException("taskDone() called more times than items were put in the " + binding);
        }
        if (--unfinished == 0) {
            joiners.grantAll(null);
        }
    }

    /**
     * Waits until every item put has been marked done with {@link #taskDone()} (returns at once if none is
     * pending).
     *
     * <p>A cancellation point when it has to wait.
     *
     * @throws CancellationException if the task is cancelled while waiting
     * @throws IllegalStateException if it must wait outside a task, off the loop thread, or on another loop
     */
    public final void join() {
        binding.check();
        if (unfinished == 0) {
            return;
        }
        TulipLoop loop = binding.forWaiting("join");
        joiners.await(joiners.add(loop, null), null);
    }

    /** Shuts the queue down without discarding items: {@code shutdown(false)}. Never suspends. */
    public final void shutdown() {
        shutdown(false);
    }

    /**
     * Shuts the queue down: {@code put} throws {@link QueueShutDownException} from now on, and tasks waiting in
     * {@code put} or {@code get} are woken with it. If {@code immediate}, the items left are discarded and counted
     * as done (which may release {@link #join()}) and {@code get} throws at once; otherwise {@code get} returns the
     * items left first. Calling it again is allowed (a later immediate shutdown still discards). Never suspends.
     *
     * @param immediate discard the items left
     */
    public final void shutdown(boolean immediate) {
        binding.check();
        shutDown = true;
        if (immediate) {
            shutDownImmediately = true;
            while (store.size() > 0) {
                store.remove();
                if (unfinished > 0) {
                    unfinished--;
                }
            }
            if (unfinished == 0) {
                joiners.grantAll(null);
            }
        }
        getters.failAll(() -> new QueueShutDownException("get() on a " + binding + " shut down while waiting"));
        putters.failAll(() -> new QueueShutDownException("put() on a " + binding + " shut down while waiting"));
    }

    /**
     * Whether {@link #shutdown(boolean)} was called. Never suspends.
     *
     * @return true once shut down
     */
    public final boolean isShutDown() {
        binding.check();
        return shutDown;
    }

    /**
     * Number of items stored (not counting items already handed to a waiting getter). Never suspends.
     *
     * @return the number of items
     */
    public final int size() {
        binding.check();
        return store.size();
    }

    /**
     * The bound.
     *
     * @return the maximum number of items, 0 if unbounded
     */
    public final int maxsize() {
        return maxsize;
    }

    /**
     * Whether no item is stored. Never suspends.
     *
     * @return true if {@link #getNowait()} would throw
     */
    public final boolean isEmpty() {
        binding.check();
        return store.size() == 0;
    }

    /**
     * Whether the queue is at its bound (never true for an unbounded queue). Never suspends.
     *
     * @return true if {@link #putNowait} would throw {@link QueueFullException}
     */
    public final boolean isFull() {
        binding.check();
        return isFullNow();
    }

    /**
     * A snapshot of the queue's state.
     *
     * @return the statistics
     */
    public final Statistics statistics() {
        binding.check();
        return new Statistics(store.size(), maxsize, unfinished, getters.size(), putters.size(), joiners.size(),
                shutDown);
    }

    @Override
    public String toString() {
        return binding + "[size=" + store.size() + (maxsize > 0 ? ", maxsize=" + maxsize : "")
                + (getters.isEmpty() ? "" : ", getters=" + getters.size())
                + (putters.isEmpty() ? "" : ", putters=" + putters.size())
                + (unfinished == 0 ? "" : ", unfinished=" + unfinished) + (shutDown ? ", shut down" : "") + "]";
    }

    // ------------------------------------------------------------------------------------------------------------

    private boolean isFullNow() {
        // Waiting putters imply full (every freed slot is promised to the first putter at once), so checking the
        // count alone also keeps newcomers from overtaking them.
        return maxsize > 0 && store.size() + reserved >= maxsize;
    }

    /** A new item enters the queue (a slot is free): straight to the first waiting getter, or into the store. */
    private void accept(E item) {
        unfinished++;
        if (getters.grantFirst(item) != null) {
            reserved++;
        } else {
            store.add(item);
        }
    }

    private E takeStored() {
        E item = store.remove();
        slotFreed();
        return item;
    }

    /** One slot became free: promise it to the first waiting putter. */
    private void slotFreed() {
        if (!putters.isEmpty() && !isFullNow()) {
            reserved++;
            putters.grantFirst(null);
        }
    }

    /** A putter promised a slot was cancelled before it resumed: the slot goes to the next putter. */
    private void releaseSlot() {
        reserved--;
        slotFreed();
    }

    /** A getter handed {@code item} was cancelled before it resumed: the item must not be lost. */
    private void returnItem(E item) {
        reserved--;
        if (shutDownImmediately) {
            // Discarded like the items left at the immediate shutdown, and counted as done like them.
            if (unfinished > 0 && --unfinished == 0) {
                joiners.grantAll(null);
            }
            return;
        }
        if (getters.grantFirst(item) != null) {
            reserved++;
        } else {
            store.addReturned(item);
        }
    }
}
