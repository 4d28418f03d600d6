/**
 * Synchronization primitives for the tasks of one event loop: {@link dev.tulip.sync.Lock},
 * {@link dev.tulip.sync.Event}, {@link dev.tulip.sync.Condition}, {@link dev.tulip.sync.Semaphore},
 * {@link dev.tulip.sync.BoundedSemaphore}, {@link dev.tulip.sync.Barrier} and the queues
 * ({@link dev.tulip.sync.Queue}, {@link dev.tulip.sync.PriorityQueue}, {@link dev.tulip.sync.LifoQueue}): asyncio's
 * {@code asyncio.locks} and {@code asyncio.queues}.
 *
 * <p>Rules shared by every primitive here:
 * <ul>
 *   <li>Loop thread only. They coordinate tasks of one loop, not threads (they are not thread-safe). Each binds to
 *       the loop that first uses it; waiting on it from another loop throws, and in debug mode any use from a thread
 *       that does not hold the running loop throws {@link java.lang.IllegalStateException}.</li>
 *   <li>Only tasks wait. A method that would have to wait, called from a plain callback, throws
 *       {@link java.lang.IllegalStateException}; callbacks use the non-waiting variants ({@code tryAcquire},
 *       {@code putNowait}, {@code getNowait}).</li>
 *   <li>Cancellation points. Every method that can suspend is a cancellation point when it has to wait, and says so.
 *       It does not suspend (nor check for cancellation) when it can proceed at once, as in asyncio.</li>
 *   <li>Fair. Waiting tasks are served strictly in the order they started waiting. A release, a {@code put} or a
 *       {@code set} hands its result directly to the first waiter, so a task arriving later cannot overtake it.</li>
 *   <li>No effect on cancellation. An operation that throws {@link java.util.concurrent.CancellationException} did
 *       nothing: a cancelled {@code acquire} never holds the lock (a lock already handed to it passes on), a cancelled
 *       {@code get} consumes no item (an item already handed to it goes back), a cancelled {@code put} adds none.</li>
 *   <li>Each has a {@code statistics()} record: a snapshot for monitoring and tests.</li>
 * </ul>
 *
 * <p>Names from asyncio: {@code wait()} is {@code await()} and {@code notify()}/{@code notify_all()} are
 * {@code signal()}/{@code signalAll()} (as in {@link java.util.concurrent.locks.Condition}, because {@link Object}
 * owns the other names); {@code locked()} is {@code isLocked()}; {@code qsize()} is {@code size()};
 * {@code QueueFull}, {@code QueueEmpty}, {@code QueueShutDown} and {@code BrokenBarrierError} are the unchecked
 * {@link dev.tulip.sync.QueueFullException}, {@link dev.tulip.sync.QueueEmptyException},
 * {@link dev.tulip.sync.QueueShutDownException} and {@link dev.tulip.sync.BrokenBarrierException}. There are no
 * timeout parameters: wrap a call in {@link dev.tulip.Tulip#timeout(java.time.Duration)}, as asyncio code uses
 * {@code asyncio.timeout}; a timed-out wait is a cancelled wait, with no effect.
 */
package dev.tulip.sync;
