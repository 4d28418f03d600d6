package dev.tulip.internal.net;

import dev.tulip.Future;
import dev.tulip.Handle;
import dev.tulip.internal.loop.IoRegistration;
import dev.tulip.internal.loop.TulipLoop;
import dev.tulip.transport.ConnectOptions;
import java.io.IOException;
import java.net.ConnectException;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Connection racing (RFC 8305, "Happy Eyeballs v2", without the DNS part): the addresses, interleaved by family, are
 * tried one after another, each new attempt starting when the previous one failed or after the connection attempt
 * delay, whichever comes first; the first connected socket wins and every other attempt is closed. With no delay
 * (null) the attempts are strictly sequential.
 *
 * <p>Loop thread only. The result future fails with a {@link ConnectException} naming every address tried (each
 * attempt's failure is attached as suppressed) when all fail. Cancelling the result future stops the race and closes
 * all attempts.
 */
final class HappyEyeballs {
    private final TulipLoop loop;
    private final List<SocketAddress> addrs;
    private final ConnectOptions options;
    private final Future<SocketChannel> result;
    private final ArrayList<Attempt> running = new ArrayList<>(2);
    private final ArrayList<Throwable> errors = new ArrayList<>();
    private int next;
    private Handle staggerTimer;
    private boolean finished;

    @SuppressWarnings("unchecked")
    private HappyEyeballs(TulipLoop loop, List<? extends SocketAddress> addrs, ConnectOptions options) {
        this.loop = loop;
        this.addrs = addrs.stream().allMatch(a -> a instanceof InetSocketAddress)
                ? List.copyOf(Resolver.interleave((List<InetSocketAddress>) addrs)) : List.copyOf(addrs);
        this.options = options;
        this.result = loop.createFuture();
    }

    /** Starts the race; the future completes with a connected non-blocking channel. */
    static Future<SocketChannel> connect(TulipLoop loop, List<? extends SocketAddress> addrs, ConnectOptions options) {
        HappyEyeballs he = new HappyEyeballs(loop, addrs, options);
        // Cancelled or timed out from outside: close the attempts (in the system scope: runs even if the caller's
        // scope was cancelled, which is one way the result gets cancelled).
        Sockets.onDone(loop, he.result, f -> he.finish());
        he.startNext();
        return he.result;
    }

    private void startNext() {
        if (staggerTimer != null) {
            staggerTimer.cancel();
            staggerTimer = null;
        }
        while (!finished && !result.isDone() && next < addrs.size()) {
            SocketAddress addr = addrs.get(next++);
            Attempt a = new Attempt(addr);
            try {
                if (a.open()) {
                    win(a);
                    return;
                }
            } catch (IOException | RuntimeException e) {
                a.close();
                errors.add(withAddress(e, addr));
                continue; // this one failed at once: try the next without waiting
            }
            running.add(a);
            Duration d = options.happyEyeballsDelay();
            if (d != null && next < addrs.size()) {
                staggerTimer = loop.callLater(d, this::startNext);
            }
            return;
        }
        if (running.isEmpty()) {
            fail();
        }
    }

    private void attemptFailed(Attempt a, Throwable e) {
        running.remove(a);
        a.close();
        errors.add(withAddress(e, a.addr));
        if (!result.isDone()) {
            startNext(); // RFC 8305: a failure starts the next attempt at once
        }
    }

    private void win(Attempt a) {
        running.remove(a);
        a.deregister();
        if (result.isDone()) {
            a.close();
            return;
        }
        result.setResult(a.channel);
        finish();
    }

    private void fail() {
        if (result.isDone()) {
            return;
        }
        if (errors.size() == 1 && errors.getFirst() instanceof IOException io) {
            result.setException(io);
        } else {
            ConnectException e = new ConnectException("could not connect to any of " + Resolver.describe(addrs));
            errors.forEach(e::addSuppressed);
            result.setException(e);
        }
        finish();
    }

    private void finish() {
        if (finished) {
            return;
        }
        finished = true;
        if (staggerTimer != null) {
            staggerTimer.cancel();
        }
        for (Attempt a : running) {
            a.close();
        }
        running.clear();
    }

    private static Throwable withAddress(Throwable e, SocketAddress addr) {
        if (e instanceof ConnectException ce && (ce.getMessage() == null || !ce.getMessage().contains(addr.toString()))) {
            ConnectException named = new ConnectException(
                    (ce.getMessage() == null ? "connect failed" : ce.getMessage()) + ": " + addr);
            named.initCause(ce);
            return named;
        }
        return e;
    }

    /** One connect attempt to one address. */
    private final class Attempt {
        final SocketAddress addr;
        SocketChannel channel;
        IoRegistration reg;

        Attempt(SocketAddress addr) {
            this.addr = addr;
        }

        /** Opens and starts connecting; true if connected at once. */
        boolean open() throws IOException {
            if (addr instanceof InetSocketAddress inet) {
                channel = SocketChannel.open(inet.getAddress() instanceof Inet6Address
                        ? StandardProtocolFamily.INET6 : StandardProtocolFamily.INET);
                channel.configureBlocking(false);
                channel.setOption(StandardSocketOptions.TCP_NODELAY, options.tcpNoDelay());
                if (options.keepAlive()) {
                    channel.setOption(StandardSocketOptions.SO_KEEPALIVE, true);
                }
            } else {
                channel = SocketChannel.open(StandardProtocolFamily.UNIX);
                channel.configureBlocking(false);
            }
            if (options.localAddress() != null) {
                channel.bind(options.localAddress());
            }
            if (channel.connect(addr)) {
                return true;
            }
            reg = loop.register(channel, SelectionKey.OP_CONNECT, ops -> connectReady());
            return false;
        }

        private void connectReady() {
            if (reg == null) {
                return;
            }
            boolean done;
            try {
                done = channel.finishConnect();
            } catch (IOException e) {
                attemptFailed(this, e);
                return;
            }
            if (done) {
                win(this);
            }
        }

        void deregister() {
            IoRegistration r = reg;
            reg = null;
            if (r != null) {
                r.deregister();
            }
        }

        void close() {
            IoRegistration r = reg;
            reg = null;
            if (r != null) {
                r.deregister();
            }
            if (channel != null) {
                Sockets.closeQuietly(channel);
            }
        }
    }
}
