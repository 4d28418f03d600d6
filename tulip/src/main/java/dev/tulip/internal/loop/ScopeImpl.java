package dev.tulip.internal.loop;

import dev.tulip.EventLoop;
import dev.tulip.ExceptionContext;
import dev.tulip.Handle;
import dev.tulip.Scope;
import dev.tulip.ScopeStatistics;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.Objects;
import java.util.concurrent.Callable;

/**
 * The loop's implementation of {@link Scope}.
 *
 * <p>Cancellation is split in two, as in Trio: the flag that says "cancelled" (read on every callback run, so it
 * must be cheap: a walk up the parent chain of a few volatile reads, no bookkeeping per callback), and the plumbing
 * that closes resources (cancel actions, registered through {@link #onCancel}). Only scopes that hold cancel actions,
 * or have descendants that do, are linked into their parent's {@link #linked} set, so the thousands of short-lived
 * scopes that never own a resource cost no bookkeeping at all.
 *
 * <p>Loop thread only, except {@link #isCancelled()}, {@link #name()} and {@link #statistics()}.
 */
public final class ScopeImpl implements Scope {
    final TulipLoop loop;
    private final ScopeImpl parent;
    private final String name;
    /** The loop's system scope is never cancelled: cleanup (connectionLost after a scope closed a transport) runs in it. */
    private final boolean system;
    /** Set once, on the loop thread; volatile so other threads see it. Ancestors' flags count too. */
    private volatile boolean cancelledSelf;
    /** Cancel actions owned by this scope (guarded by the loop thread). */
    private LinkedHashSet<CancelAction> actions;
    /** Children that own actions, directly or below them (guarded by the loop thread). */
    private LinkedHashSet<ScopeImpl> linked;
    private volatile int tickets = DEFAULT_TICKETS;
    // Statistics: written by the loop thread only, read racily by statistics().
    long runs;
    long totalWait;
    long maxWait;

    ScopeImpl(TulipLoop loop, ScopeImpl parent, String name, boolean system) {
        this.loop = loop;
        this.parent = parent;
        this.name = name;
        this.system = system;
    }

    @Override
    public Scope newChild(String childName) {
        Objects.requireNonNull(childName, "name");
        loop.checkThread();
        if (isCancelled()) {
            throw new IllegalStateException("scope '" + name + "' is cancelled: it cannot have new children");
        }
        return new ScopeImpl(loop, this, childName, false);
    }

    /** A child created without checks, for the implementation (task scopes). */
    public ScopeImpl childUnchecked(String childName) {
        return new ScopeImpl(loop, this, childName, false);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public Scope parent() {
        return parent;
    }

    @Override
    public EventLoop loop() {
        return loop;
    }

    @Override
    public boolean isCancelled() {
        for (ScopeImpl s = this; s != null; s = s.parent) {
            if (s.cancelledSelf) {
                return true;
            }
        }
        return false;
    }

    @Override
    public void cancel() {
        if (system) {
            throw new UnsupportedOperationException("the loop's system scope cannot be cancelled");
        }
        if (parent == null) {
            throw new UnsupportedOperationException("the loop's root scope is cancelled only by closing the loop: "
                    + "cancel a child scope instead");
        }
        cancelInternal();
    }

    /** Cancels without the root-scope guard (the loop's close() cancels its root scope). */
    void cancelInternal() {
        if (cancelledSelf) {
            return;
        }
        loop.checkThread();
        cancelledSelf = true;
        loop.scopeCancelled();
        ScopeImpl saved = loop.swapScope(loop.systemScope());
        try {
            runCancelActions();
        } finally {
            loop.swapScope(saved);
        }
    }

    private void runCancelActions() {
        if (actions != null) {
            ArrayList<CancelAction> todo = new ArrayList<>(actions);
            actions = null;
            for (CancelAction a : todo) {
                a.runAction();
            }
        }
        if (linked != null) {
            ArrayList<ScopeImpl> children = new ArrayList<>(linked);
            linked = null;
            for (ScopeImpl c : children) {
                c.runCancelActions();
            }
        }
        unlinkIfIdle();
    }

    @Override
    public void run(Runnable action) {
        Objects.requireNonNull(action, "action");
        loop.checkThread();
        ScopeImpl saved = loop.swapScope(this);
        try {
            action.run();
        } finally {
            loop.swapScope(saved);
        }
    }

    @Override
    public <T> T call(Callable<T> action) throws Exception {
        Objects.requireNonNull(action, "action");
        loop.checkThread();
        ScopeImpl saved = loop.swapScope(this);
        try {
            return action.call();
        } finally {
            loop.swapScope(saved);
        }
    }

    @Override
    public Entered enter() {
        loop.checkThread();
        ScopeImpl saved = loop.swapScope(this);
        return new Entered() {
            private boolean closed;

            @Override
            public void close() {
                if (!closed) {
                    closed = true;
                    loop.swapScope(saved);
                }
            }
        };
    }

    @Override
    public Handle onCancel(Runnable action) {
        Objects.requireNonNull(action, "action");
        loop.checkThread();
        CancelAction a = new CancelAction(action);
        if (isCancelled()) {
            ScopeImpl saved = loop.swapScope(loop.systemScope());
            try {
                a.runAction();
            } finally {
                loop.swapScope(saved);
            }
            return a;
        }
        if (actions == null) {
            actions = new LinkedHashSet<>();
        }
        actions.add(a);
        linkUp();
        return a;
    }

    private void linkUp() {
        for (ScopeImpl child = this, p = parent; p != null; child = p, p = p.parent) {
            if (p.linked == null) {
                p.linked = new LinkedHashSet<>();
            }
            if (!p.linked.add(child)) {
                return; // already linked from here up
            }
        }
    }

    private void unlinkIfIdle() {
        ScopeImpl s = this;
        while (s.parent != null && (s.actions == null || s.actions.isEmpty()) && (s.linked == null || s.linked.isEmpty())) {
            ScopeImpl p = s.parent;
            if (p.linked == null || !p.linked.remove(s)) {
                return;
            }
            s = p;
        }
    }

    @Override
    public void setTickets(int t) {
        if (t < 1) {
            throw new IllegalArgumentException("tickets must be at least 1: " + t);
        }
        tickets = t;
    }

    @Override
    public int tickets() {
        return tickets;
    }

    @Override
    public ScopeStatistics statistics() {
        return new ScopeStatistics(name, runs, totalWait, maxWait, tickets, isCancelled());
    }

    @Override
    public String toString() {
        return "Scope[" + name + (isCancelled() ? ", cancelled" : "") + "]";
    }

    /** One action registered with onCancel; as a Handle, cancel() unregisters it. */
    private final class CancelAction implements Handle {
        private Runnable action;

        CancelAction(Runnable action) {
            this.action = action;
        }

        void runAction() {
            Runnable r = action;
            action = null;
            if (r == null) {
                return;
            }
            try {
                r.run();
            } catch (VirtualMachineError e) {
                throw e;
            } catch (Throwable t) {
                loop.callExceptionHandler(new ExceptionContext("scope '" + name + "' cancel action failed", t, this,
                        null, null, null));
            }
        }

        @Override
        public void cancel() {
            loop.checkThread();
            if (action != null) {
                action = null;
                if (actions != null && actions.remove(this)) {
                    unlinkIfIdle();
                }
            }
        }

        @Override
        public boolean isCancelled() {
            return action == null;
        }

        @Override
        public Scope scope() {
            return ScopeImpl.this;
        }
    }
}
