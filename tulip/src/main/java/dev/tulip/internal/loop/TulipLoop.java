package dev.tulip.internal.loop;

import dev.tulip.EventLoop;
import dev.tulip.ExceptionContext;
import dev.tulip.Future;
import dev.tulip.Handle;
import dev.tulip.SchedulingPolicy;
import dev.tulip.Scope;
import dev.tulip.TimerHandle;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * The event loop: a ready queue, a timer heap, an inbox for other threads, and an {@link IoBackend}.
 *
 * <p>Design note. Everything the loop runs is a {@link Callback} in one ready queue (handles, timers, done
 * callbacks, I/O events, task steps), so {@link #runOnceInner} is the only place user code runs and the order is the
 * order of the queue. The FIFO queue is an {@link ArrayDeque} used directly (no policy object on the common path);
 * other {@link SchedulingPolicy policies} replace it. Other threads never touch the ready queue: they append to the
 * inbox (a lock-free MPSC queue) and wake the backend once per batch ({@link #wakeupPending}).
 *
 * <p>Threading: loop thread only ({@link #owner} while running), except the methods {@link EventLoop} documents as
 * any-thread. Fields without a note are guarded by the loop thread.
 */
public final class TulipLoop implements EventLoop {
    static final System.Logger LOG = System.getLogger("dev.tulip");
    private static final ThreadLocal<TulipLoop> RUNNING = new ThreadLocal<>();

    private static final int IDLE = 0;
    private static final int RUNNING_STATE = 1;
    private static final int CLOSING = 2;
    private static final int CLOSED = 3;

    private final Clock clock;
    private final IoBackend backend;
    private final ArrayDeque<Callback> fifo = new ArrayDeque<>(1024);
    /** Null means FIFO through {@link #fifo}. */
    private final SchedulingPolicy policy;
    private final TimerHeap timers = new TimerHeap();
    /** Callbacks from other threads (MPSC: many producers, the loop consumes). */
    private final ConcurrentLinkedQueue<Callback> inbox = new ConcurrentLinkedQueue<>();
    /** True from the first inbox offer after a poll until the loop next returns from polling: coalesces wake-ups. */
    private final AtomicBoolean wakeupPending = new AtomicBoolean();
    private final boolean drainReady;
    private final boolean collectStats;
    private final ScopeImpl rootScope;
    private final ScopeImpl systemScope;
    private final HashMap<SelectableChannel, ReaderWriter> readersWriters = new HashMap<>();
    private final List<Runnable> closeHooks = new ArrayList<>();
    /** Threads blocked in Future.await() on this loop; released when it closes. Any thread. */
    private final Set<CountDownLatch> foreignWaiters = ConcurrentHashMap.newKeySet();

    private volatile int state = IDLE;
    private volatile boolean stopping;
    /** The thread running the loop (or the task body holding it); null while not running. */
    private volatile Thread owner;
    private ScopeImpl currentScope;
    private TaskContext currentTask;
    /** The task engine's per-loop state (its registry of pending tasks), or null before the first task. */
    private Object taskState;
    private long seq;
    private volatile boolean debug;
    private long slowCallbackNanos;
    private BiConsumer<EventLoop, ExceptionContext> exceptionHandler;

    /** Use {@link EventLoop#builder()}. */
    public TulipLoop(SchedulingPolicy policy, boolean drainReady, boolean virtualTime, boolean debug,
                     boolean collectStats, long slowCallbackNanos, String backendName) {
        this.policy = policy;
        this.drainReady = drainReady;
        this.clock = virtualTime ? new VirtualClock() : Clock.SYSTEM;
        this.debug = debug;
        this.collectStats = collectStats || policy != null;
        this.slowCallbackNanos = slowCallbackNanos;
        this.rootScope = new ScopeImpl(this, null, "root", false);
        this.systemScope = new ScopeImpl(this, null, "system", true);
        this.currentScope = rootScope;
        this.backend = Backends.open(this, backendName);
    }

    // ------------------------------------------------------------------------------------------------------------
    // The heart
    // ------------------------------------------------------------------------------------------------------------

    /** One pass; the only place callbacks run. {@code noBlock} polls without waiting (used while closing). */
    private void runOnceInner(boolean noBlock) throws IOException {
        timers.compactIfMostlyCancelled();                                   // 1. drop cancelled timers (bounded)
        long timeout = noBlock || stopping || hasReadyWork() ? 0 : nanosUntilNextTimer(); // 2. 0 if anything is ready
        poll(timeout);                                                       // 3. I/O events and inbox -> ready queue
        long now = clock.nanos();                                            // 4. due timers -> ready queue
        for (CallbackHandle t = timers.peekLive(); t != null && t.when <= now; t = timers.peekLive()) {
            enqueue(timers.removeTop());
        }
        int n = drainReady ? Integer.MAX_VALUE : readyCount();              // 5. run what was ready at the start
        for (Callback c; n-- > 0 && (c = pollReady()) != null; ) {
            invoke(c);
        }
    }

    private void poll(long timeoutNanos) throws IOException {
        if (timeoutNanos > 0 && clock.isVirtual()) {
            backend.poll(0);
            wakeupPending.set(false);
            drainInbox();
            if (readyCount() == 0) {
                ((VirtualClock) clock).advance(timeoutNanos); // nothing to do: jump to the next timer
            }
            return;
        }
        backend.poll(timeoutNanos);
        // Race: a producer that sees wakeupPending==true skips the wake-up; its callback was offered before this
        // reset, so the drain below picks it up. A producer that sees false wakes the backend: next poll returns.
        wakeupPending.set(false);
        drainInbox();
    }

    private void drainInbox() {
        for (Callback c; (c = inbox.poll()) != null; ) {
            enqueue(c);
        }
    }

    /** Runs one ready callback with its scope current, routing failures to the exception handler. */
    void invoke(Callback c) {
        if (c.cancelled) {
            return;
        }
        ScopeImpl s = c.scope;
        if (s.isCancelled()) {
            return;
        }
        s.runs++;
        if (collectStats) {
            long wait = clock.nanos() - c.readyAt;
            s.totalWait += wait;
            if (wait > s.maxWait) {
                s.maxWait = wait;
            }
        }
        currentScope = s;
        long start = debug ? clock.nanos() : 0;
        try {
            c.fire();
        } catch (VirtualMachineError e) {
            throw e;
        } catch (Throwable t) {
            callExceptionHandler(new ExceptionContext("exception in callback " + c.describe(), t, c,
                    c instanceof DoneCallback ? null : null, null, null));
        } finally {
            currentScope = rootScope;
        }
        if (debug) {
            long took = clock.nanos() - start;
            if (took >= slowCallbackNanos) {
                LOG.log(System.Logger.Level.WARNING, () -> String.format("executing %s took %.3f seconds",
                        c.describe(), took / 1e9));
            }
        }
    }

    /** Adds a callback to the ready queue. Loop thread only. */
    public void enqueue(Callback c) {
        if (collectStats) {
            c.readyAt = clock.nanos();
        }
        if (policy == null) {
            fifo.addLast(c);
        } else {
            policy.offer(c);
        }
    }

    private Callback pollReady() {
        return policy == null ? fifo.pollFirst() : (Callback) policy.poll();
    }

    private int readyCount() {
        return policy == null ? fifo.size() : policy.size();
    }

    private boolean hasReadyWork() {
        return readyCount() > 0 || !inbox.isEmpty();
    }

    private long nanosUntilNextTimer() {
        CallbackHandle next = timers.peekLive();
        if (next == null) {
            return -1;
        }
        long d = next.when - clock.nanos();
        return d <= 0 ? 0 : d;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Scheduling
    // ------------------------------------------------------------------------------------------------------------

    @Override
    public Handle callSoon(Runnable callback) {
        Objects.requireNonNull(callback, "callback");
        checkThread();
        ScopeImpl s = scopeForNewWork();
        CallbackHandle h = new CallbackHandle(this, s, callback, Long.MIN_VALUE, 0);
        enqueue(h);
        return h;
    }

    /** callSoon in the system scope: never refused, never cancelled by a scope. For cleanup (connectionLost). */
    public Handle callSoonSystem(Runnable callback) {
        CallbackHandle h = new CallbackHandle(this, systemScope, callback, Long.MIN_VALUE, 0);
        enqueue(h);
        return h;
    }

    @Override
    public TimerHandle callLater(Duration delay, Runnable callback) {
        Objects.requireNonNull(delay, "delay");
        if (delay.isNegative()) {
            throw new IllegalArgumentException("delay must not be negative: " + delay);
        }
        long nanos;
        try {
            nanos = delay.toNanos();
        } catch (ArithmeticException tooLong) {
            nanos = Long.MAX_VALUE;
        }
        long now = clock.nanos();
        long when = now + nanos < now ? Long.MAX_VALUE : now + nanos; // saturate instead of wrapping
        return callAt(when, callback);
    }

    @Override
    public TimerHandle callAt(long whenNanos, Runnable callback) {
        Objects.requireNonNull(callback, "callback");
        checkThread();
        ScopeImpl s = scopeForNewWork();
        CallbackHandle h = new CallbackHandle(this, s, callback, whenNanos, seq++);
        timers.add(h);
        return h;
    }

    @Override
    public Handle callSoonThreadsafe(Runnable callback) {
        Objects.requireNonNull(callback, "callback");
        if (state == CLOSED) {
            throw new IllegalStateException("event loop is closed");
        }
        ScopeImpl s = Thread.currentThread() == owner ? currentScope : rootScope;
        CallbackHandle h = new CallbackHandle(this, s, callback, Long.MIN_VALUE, 0);
        inbox.offer(h);
        if (!wakeupPending.getAndSet(true)) {
            backend.wakeup();
        }
        return h;
    }

    private ScopeImpl scopeForNewWork() {
        if (state == CLOSED) {
            throw new IllegalStateException("event loop is closed");
        }
        ScopeImpl s = currentScope;
        if (s.isCancelled()) {
            throw new IllegalStateException("scope '" + s.name() + "' is cancelled: it accepts no new work");
        }
        return s;
    }

    void timerCancelled() {
        timers.onCancel();
    }

    void scopeCancelled() {
        timers.purgeRequested = true;
    }

    @Override
    public long time() {
        return clock.nanos();
    }

    // ------------------------------------------------------------------------------------------------------------
    // Running
    // ------------------------------------------------------------------------------------------------------------

    @Override
    public void runForever() {
        enterRunning("runForever");
        try {
            while (true) {
                runOnceInner(false);
                if (stopping) {
                    break;
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("I/O backend failed", e);
        } finally {
            stopping = false;
            exitRunning();
        }
    }

    @Override
    public void runOnce() {
        enterRunning("runOnce");
        try {
            runOnceInner(false);
        } catch (IOException e) {
            throw new UncheckedIOException("I/O backend failed", e);
        } finally {
            exitRunning();
        }
    }

    @Override
    public <T> T runUntilComplete(Future<T> future) {
        Objects.requireNonNull(future, "future");
        if (future.loop() != this) {
            throw new IllegalArgumentException("the future belongs to another event loop: " + future);
        }
        if (!future.isDone()) {
            Consumer<Future<T>> stopper = f -> stop();
            future.addDoneCallback(stopper);
            try {
                runForever();
            } finally {
                if (!isClosed() && !future.isDone()) {
                    future.removeDoneCallback(stopper);
                }
            }
            if (!future.isDone()) {
                throw new IllegalStateException("event loop stopped before the future completed: " + future);
            }
        }
        return future.result();
    }

    private void enterRunning(String what) {
        int st = state;
        if (st == CLOSED) {
            throw new IllegalStateException(what + ": event loop is closed");
        }
        if (st == RUNNING_STATE) {
            throw new IllegalStateException(what + ": event loop is already running"
                    + (owner == Thread.currentThread() ? " (called from one of its callbacks)" : " on " + owner));
        }
        TulipLoop other = RUNNING.get();
        if (other != null && other != this) {
            throw new IllegalStateException(what + ": another event loop is running on this thread");
        }
        owner = Thread.currentThread();
        RUNNING.set(this);
        if (st == IDLE) {
            state = RUNNING_STATE;
        }
    }

    private void exitRunning() {
        RUNNING.remove();
        owner = null;
        if (state == RUNNING_STATE) {
            state = IDLE;
        }
    }

    @Override
    public void stop() {
        stopping = true;
        if (Thread.currentThread() != owner && !wakeupPending.getAndSet(true)) {
            backend.wakeup();
        }
    }

    @Override
    public boolean isRunning() {
        return state == RUNNING_STATE;
    }

    @Override
    public boolean isClosed() {
        return state == CLOSED;
    }

    @Override
    public void close() {
        int st = state;
        if (st == CLOSED || st == CLOSING) {
            return;
        }
        if (st == RUNNING_STATE) {
            throw new IllegalStateException("cannot close a running event loop: stop it first");
        }
        if (RUNNING.get() != null) {
            throw new IllegalStateException("cannot close an event loop from inside another running loop's callback");
        }
        state = CLOSING;
        owner = Thread.currentThread();
        RUNNING.set(this);
        try {
            for (Runnable hook : List.copyOf(closeHooks)) {
                try {
                    hook.run();
                } catch (RuntimeException e) {
                    callExceptionHandler(ExceptionContext.of("close hook failed", e));
                }
            }
            rootScope.cancel();
            runCleanupPasses(100);
        } finally {
            RUNNING.remove();
            owner = null;
            fifo.clear();
            inbox.clear();
            timers.clear();
            readersWriters.clear();
            state = CLOSED;
            backend.close();
            for (CountDownLatch l : foreignWaiters) {
                l.countDown();
            }
        }
    }

    /**
     * While closing: runs passes without blocking until nothing is ready (at most {@code maxPasses}). Lets cleanup
     * callbacks (connectionLost, cancelled tasks unwinding) run.
     */
    public void runCleanupPasses(int maxPasses) {
        try {
            for (int i = 0; i < maxPasses && hasReadyWork(); i++) {
                runOnceInner(true);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Registers an action run first when the loop closes (the task engine cancels and unwinds tasks there). */
    public void addCloseHook(Runnable hook) {
        closeHooks.add(hook);
    }

    // ------------------------------------------------------------------------------------------------------------
    // I/O
    // ------------------------------------------------------------------------------------------------------------

    /** Registers a channel with the backend in the current scope (for transports). */
    public IoRegistration register(SelectableChannel channel, int ops, IoHandler handler) throws IOException {
        checkThread();
        ScopeImpl s = scopeForNewWork();
        return backend.register(channel, ops, handler, s);
    }

    /** The stream transports' shared read buffer (issue 4); allocated on first use. Loop thread only. */
    private java.nio.ByteBuffer readBuffer;

    /**
     * The loop's one reusable direct read buffer for stream transports: every transport of this loop reads into it
     * and hands it to the protocol for the duration of {@code dataReceived}. Loop thread only.
     */
    public java.nio.ByteBuffer readBuffer(int size) {
        java.nio.ByteBuffer b = readBuffer;
        if (b == null) {
            b = readBuffer = java.nio.ByteBuffer.allocateDirect(size);
        }
        return b;
    }

    /** Per-loop state of library components (issue 4: the sock* operations' registrations). Loop thread only. */
    private final HashMap<Class<?>, Object> locals = new HashMap<>();

    /** The per-loop instance of {@code key}, created with {@code init} on first use. Loop thread only. */
    public <T> T local(Class<T> key, java.util.function.Function<TulipLoop, T> init) {
        Object v = locals.get(key);
        if (v == null) {
            v = init.apply(this);
            locals.put(key, v);
        }
        return key.cast(v);
    }

    /** The backend's name ("nio", ...). */
    public String backendName() {
        return backend.name();
    }

    @Override
    public Handle addReader(SelectableChannel channel, Runnable callback) {
        return addReaderWriter(channel, callback, true);
    }

    @Override
    public Handle addWriter(SelectableChannel channel, Runnable callback) {
        return addReaderWriter(channel, callback, false);
    }

    @Override
    public boolean removeReader(SelectableChannel channel) {
        return removeReaderWriter(channel, true);
    }

    @Override
    public boolean removeWriter(SelectableChannel channel) {
        return removeReaderWriter(channel, false);
    }

    private Handle addReaderWriter(SelectableChannel channel, Runnable callback, boolean read) {
        Objects.requireNonNull(channel, "channel");
        Objects.requireNonNull(callback, "callback");
        checkThread();
        ScopeImpl s = scopeForNewWork();
        if (!channel.isOpen()) {
            throw new IllegalStateException("channel is closed: " + channel);
        }
        ReaderWriter rw = readersWriters.get(channel);
        if (rw == null || !rw.reg.isRegistered()) {
            rw = new ReaderWriter(channel);
            try {
                rw.reg = backend.register(channel, 0, rw, systemScope);
            } catch (ClosedChannelException e) {
                throw new IllegalStateException("channel is closed: " + channel, e);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot register " + channel, e);
            }
            readersWriters.put(channel, rw);
        }
        IoCallback cb = new IoCallback(rw, s, callback, read);
        IoCallback old = read ? rw.reader : rw.writer;
        if (old != null) {
            old.cancelled = true;
        }
        if (read) {
            rw.reader = cb;
        } else {
            rw.writer = cb;
        }
        rw.updateInterest();
        return cb;
    }

    private boolean removeReaderWriter(SelectableChannel channel, boolean read) {
        Objects.requireNonNull(channel, "channel");
        checkThread();
        ReaderWriter rw = readersWriters.get(channel);
        if (rw == null) {
            return false;
        }
        IoCallback old = read ? rw.reader : rw.writer;
        if (old == null) {
            return false;
        }
        old.cancelled = true;
        if (read) {
            rw.reader = null;
        } else {
            rw.writer = null;
        }
        rw.updateInterest();
        if (rw.reader == null && rw.writer == null) {
            rw.reg.deregister();
            readersWriters.remove(channel);
        }
        return true;
    }

    /** The reader and writer callbacks of one channel registered through addReader/addWriter. */
    private final class ReaderWriter implements IoHandler {
        final SelectableChannel channel;
        IoRegistration reg;
        IoCallback reader;
        IoCallback writer;

        ReaderWriter(SelectableChannel channel) {
            this.channel = channel;
        }

        void updateInterest() {
            int valid = channel.validOps();
            int ops = 0;
            if (reader != null) {
                ops |= valid & (SelectionKey.OP_READ | SelectionKey.OP_ACCEPT);
            }
            if (writer != null) {
                ops |= valid & (SelectionKey.OP_WRITE | SelectionKey.OP_CONNECT);
            }
            reg.interestOps(ops);
        }

        @Override
        public void ioReady(int readyOps) {
            IoCallback r = reader;
            IoCallback w = writer;
            if (r != null && (readyOps & (SelectionKey.OP_READ | SelectionKey.OP_ACCEPT)) != 0) {
                invoke(r);
            }
            if (w != null && w == writer && (readyOps & (SelectionKey.OP_WRITE | SelectionKey.OP_CONNECT)) != 0) {
                invoke(w);
            }
            currentScope = systemScope;
        }
    }

    /** A reader or writer callback: a handle whose cancel() removes it. Runs again at every readiness event. */
    private final class IoCallback extends Callback {
        private final ReaderWriter rw;
        private final Runnable callback;
        private final boolean read;

        IoCallback(ReaderWriter rw, ScopeImpl scope, Runnable callback, boolean read) {
            super(scope);
            this.rw = rw;
            this.callback = callback;
            this.read = read;
        }

        @Override
        protected void fire() {
            callback.run();
        }

        @Override
        protected Object describe() {
            return (read ? "reader " : "writer ") + callback + " on " + rw.channel;
        }

        @Override
        public void cancel() {
            if (!cancelled && (read ? rw.reader : rw.writer) == this) {
                removeReaderWriter(rw.channel, read);
            }
            cancelled = true;
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Futures, scopes, tasks (internal API for the rest of the library)
    // ------------------------------------------------------------------------------------------------------------

    /** A done-callback entry for {@code future}, in the current scope. */
    public DoneCallback newDoneCallback(Future<?> future, Consumer<?> callback) {
        return new DoneCallback(currentScope, future, callback);
    }

    @Override
    public Scope rootScope() {
        return rootScope;
    }

    @Override
    public Scope currentScope() {
        return currentScope;
    }

    /** The current scope, as the implementation type. */
    public ScopeImpl currentScopeImpl() {
        return currentScope;
    }

    /** The never-cancelled scope for cleanup callbacks. */
    public ScopeImpl systemScope() {
        return systemScope;
    }

    /** Makes {@code s} current and returns the previous scope. */
    public ScopeImpl swapScope(ScopeImpl s) {
        ScopeImpl old = currentScope;
        currentScope = s;
        return old;
    }

    /** The task body running now, or null (set by the coroutine engine). */
    public TaskContext currentTask() {
        return currentTask;
    }

    /** Installs the running task (the coroutine engine calls this around each task step). */
    public void setCurrentTask(TaskContext task) {
        currentTask = task;
    }

    /**
     * Hands the loop to another thread (a virtual thread running a task step) or back: thread checks and
     * {@link EventLoop#current()} follow the owner. The hand-off itself must be a happens-before edge.
     */
    public void setOwner(Thread thread) {
        owner = thread;
    }

    /** The thread holding the loop now (running it, or a task body it was handed to), or null. */
    public Thread owner() {
        return owner;
    }

    /** The task engine's per-loop state, or null (engine use). */
    public Object taskState() {
        return taskState;
    }

    /** Sets the task engine's per-loop state (engine use). */
    public void setTaskState(Object state) {
        taskState = state;
    }

    /** Binds this loop to the calling thread for {@link EventLoop#current()} (engine use); null unbinds. */
    public static void bindCurrentThread(TulipLoop loop) {
        if (loop == null) {
            RUNNING.remove();
        } else {
            RUNNING.set(loop);
        }
    }

    /** The loop's clock. */
    public Clock clock() {
        return clock;
    }

    void registerForeignWaiterInternal(CountDownLatch latch) {
        foreignWaiters.add(latch);
    }

    /** A thread starts blocking on a future of this loop. Any thread. */
    public void registerForeignWaiter(CountDownLatch latch) {
        if (state == CLOSED) {
            throw new IllegalStateException("event loop is closed");
        }
        foreignWaiters.add(latch);
    }

    /** The thread stopped blocking. Any thread. */
    public void unregisterForeignWaiter(CountDownLatch latch) {
        foreignWaiters.remove(latch);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Threads, errors, debug
    // ------------------------------------------------------------------------------------------------------------

    /** The loop running on this thread, or null. */
    public static TulipLoop currentOrNull() {
        return RUNNING.get();
    }

    /** The loop running on this thread. */
    public static TulipLoop currentOrThrow() {
        TulipLoop l = RUNNING.get();
        if (l == null) {
            throw new IllegalStateException("no event loop is running on this thread");
        }
        return l;
    }

    /** Whether the calling thread holds the loop now. */
    public boolean isOwnedByCurrentThread() {
        return Thread.currentThread() == owner;
    }

    /** In debug mode, fails if called from a thread other than the one running the loop. */
    public void checkThread() {
        if (debug) {
            Thread o = owner;
            if (o != null && o != Thread.currentThread()) {
                throw new IllegalStateException("event loop method called from thread '" + Thread.currentThread().getName()
                        + "' while the loop runs on '" + o.getName() + "': use callSoonThreadsafe");
            }
        }
    }

    @Override
    public void setExceptionHandler(BiConsumer<EventLoop, ExceptionContext> handler) {
        this.exceptionHandler = handler;
    }

    @Override
    public BiConsumer<EventLoop, ExceptionContext> getExceptionHandler() {
        return exceptionHandler;
    }

    @Override
    public void callExceptionHandler(ExceptionContext context) {
        BiConsumer<EventLoop, ExceptionContext> h = exceptionHandler;
        if (h == null) {
            defaultExceptionHandler(context);
            return;
        }
        try {
            h.accept(this, context);
        } catch (VirtualMachineError e) {
            throw e;
        } catch (Throwable t) {
            LOG.log(System.Logger.Level.ERROR, "unhandled error in the exception handler", t);
            defaultExceptionHandler(context);
        }
    }

    @Override
    public void defaultExceptionHandler(ExceptionContext c) {
        StringBuilder sb = new StringBuilder(c.message());
        if (c.handle() != null) {
            sb.append("; handle: ").append(c.handle());
        }
        if (c.future() != null) {
            sb.append("; future: ").append(c.future());
        }
        if (c.transport() != null) {
            sb.append("; transport: ").append(c.transport());
        }
        if (c.protocol() != null) {
            sb.append("; protocol: ").append(c.protocol());
        }
        LOG.log(System.Logger.Level.ERROR, sb.toString(), c.exception());
    }

    @Override
    public void setDebug(boolean on) {
        debug = on;
    }

    @Override
    public boolean isDebug() {
        return debug;
    }

    @Override
    public void setSlowCallbackThreshold(Duration threshold) {
        if (threshold.isNegative() || threshold.isZero()) {
            throw new IllegalArgumentException("slow callback threshold must be positive: " + threshold);
        }
        slowCallbackNanos = threshold.toNanos();
    }

    /** Number of timers in the heap, cancelled ones included (for tests of the purge rule). */
    public int timerHeapSize() {
        return timers.size();
    }

    @Override
    public String toString() {
        return "EventLoop[" + switch (state) {
            case IDLE -> "idle";
            case RUNNING_STATE -> "running";
            case CLOSING -> "closing";
            default -> "closed";
        } + ", backend=" + backend.name() + ", debug=" + debug + "]";
    }
}
