package dev.tulip.internal.loop;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.function.Consumer;

/**
 * The {@link java.nio.channels.Selector} backend: works on every platform the JDK supports.
 *
 * <p>Uses {@code Selector.select(Consumer, timeout)} so that ready keys are handed over without the selected-key set
 * and its iterator (no allocation per event).
 *
 * <p>Loop thread only, except {@link #wakeup()}.
 */
final class SelectorBackend implements IoBackend {
    private final TulipLoop loop;
    private final Selector selector;
    private final Consumer<SelectionKey> onReady = this::onReady;
    private int readyCount;

    SelectorBackend(TulipLoop loop) {
        this.loop = loop;
        try {
            this.selector = Selector.open();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open a java.nio Selector", e);
        }
    }

    @Override
    public String name() {
        return "nio";
    }

    @Override
    public IoRegistration register(SelectableChannel channel, int ops, IoHandler handler, ScopeImpl scope)
            throws IOException {
        SelectionKey existing = channel.keyFor(selector);
        if (existing != null && existing.isValid()) {
            // Two owners of one channel would share its key and silently steal each other's events (asyncio refuses
            // add_reader on a transport's socket for the same reason).
            throw new IllegalStateException("channel is already registered with this event loop (by a transport or "
                    + "addReader/addWriter): " + channel);
        }
        Reg reg = new Reg(handler, scope);
        if (channel.isBlocking()) {
            channel.configureBlocking(false);
        }
        try {
            reg.key = channel.register(selector, ops, reg);
        } catch (CancelledKeyException e) {
            // The channel's previous key was cancelled in this pass (removeReader then addReader) and the selector
            // has not flushed it yet. A non-blocking select flushes cancelled keys; the readiness it reports is
            // dropped on purpose: the selector is level-triggered, so the next poll reports it again.
            selector.selectNow(k -> { });
            reg.key = channel.register(selector, ops, reg);
        }
        reg.ops = ops;
        return reg;
    }

    @Override
    public int poll(long timeoutNanos) throws IOException {
        readyCount = 0;
        if (timeoutNanos == 0) {
            selector.selectNow(onReady);
        } else if (timeoutNanos < 0) {
            selector.select(onReady, 0);
        } else {
            // Round up: a timer due in 0.3 ms must not make us spin with select(0) (which blocks forever).
            long millis = Math.max(1, (timeoutNanos + 999_999) / 1_000_000);
            selector.select(onReady, millis);
        }
        return readyCount;
    }

    private void onReady(SelectionKey key) {
        Reg reg = (Reg) key.attachment();
        if (reg.isCancelled()) {
            key.cancel(); // its scope was cancelled and nobody deregistered it: stop the selector reporting it
            return;
        }
        int ready;
        try {
            ready = key.readyOps();
        } catch (CancelledKeyException e) {
            return;
        }
        reg.readyOps = ready;
        readyCount++;
        loop.enqueue(reg);
    }

    @Override
    public void wakeup() {
        selector.wakeup();
    }

    @Override
    public void close() {
        try {
            selector.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A channel's registration: its SelectionKey, with the interest cached to skip redundant updates. */
    private static final class Reg extends IoRegistration {
        SelectionKey key;
        int ops;

        Reg(IoHandler handler, ScopeImpl scope) {
            super(handler, scope);
        }

        @Override
        public void interestOps(int newOps) {
            if (newOps != ops && key.isValid()) {
                ops = newOps;
                key.interestOps(newOps);
            }
        }

        @Override
        public int interestOps() {
            return ops;
        }

        @Override
        public void deregister() {
            key.cancel();
        }

        @Override
        public boolean isRegistered() {
            return key.isValid();
        }

        @Override
        protected void fire() throws Exception {
            if (key.isValid()) {
                super.fire();
            }
        }
    }
}
