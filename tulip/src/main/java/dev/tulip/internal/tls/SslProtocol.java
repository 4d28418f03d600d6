package dev.tulip.internal.tls;

import dev.tulip.ExceptionContext;
import dev.tulip.Future;
import dev.tulip.TimerHandle;
import dev.tulip.internal.loop.TulipLoop;
import dev.tulip.transport.BufferedProtocol;
import dev.tulip.transport.Protocol;
import dev.tulip.transport.TlsException;
import dev.tulip.transport.TlsException.Reason;
import dev.tulip.transport.TlsOptions;
import dev.tulip.transport.Transport;
import dev.tulip.transport.TransportInfo;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLEngineResult.Status;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSession;

/**
 * TLS as a protocol layered over any stream transport: the {@link Protocol} of the transport below (which carries
 * TLS records) and, through {@link SslTransport}, the transport of the user's protocol (which sees plaintext).
 *
 * <p>Design note. One {@link SSLEngine} per connection, driven by {@link #pump()}: it asks the engine what it needs
 * (a delegated task, to wrap, to unwrap) and does it until the engine needs something it does not have (bytes from
 * the peer, or the application's permission to deliver). Records from the peer accumulate in {@link #netIn} (the
 * transport below reads straight into it, as a {@link BufferedProtocol}); plaintext is unwrapped into {@link #appIn}
 * and handed to the application; the application's writes are wrapped straight into records and written below,
 * except while a handshake is in progress, when they wait in {@link #appOut}.
 *
 * <p>Lifecycle: NEW -> HANDSHAKING -> OPEN (the app got {@code connectionMade}) -> FLUSHING (the app called
 * {@code close()} while writes were waiting for a renegotiation) -> SHUTDOWN (our close_notify sent, waiting for the
 * peer's) -> CLOSED (the transport below was told to close or abort; its {@code connectionLost} ends it). The
 * application's {@code connectionLost} comes from the transport below's, with the TLS reason ({@link #closeReason})
 * when there is one.
 *
 * <p>Data after close: once the application called {@code close()}, plaintext that still arrives is decrypted and
 * discarded until the peer's close_notify (a plain transport also stops delivering after {@code close()}); bytes after
 * the peer's close_notify are ignored. Neither is an error, so the asyncio/uvloop failures on
 * APPLICATION_DATA_AFTER_CLOSE_NOTIFY (cpython #125981) cannot happen here.
 *
 * <p>Loop thread only (delegated tasks may run on an executor; their completion comes back to the loop).
 */
public final class SslProtocol implements BufferedProtocol {
    private static final System.Logger LOG = System.getLogger("dev.tulip.tls");
    private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);
    /** Keep at least this much free space in {@link #netIn} for each read from the transport below. */
    private static final int MIN_READ_SPACE = 8192;
    /** How many records one write below carries at most (one gathering of wrapped records). */
    private static final int RECORDS_PER_WRITE = 4;

    private enum State { NEW, HANDSHAKING, OPEN, FLUSHING, SHUTDOWN, CLOSED }

    private final TulipLoop loop;
    private final TlsOptions options;
    private final SSLEngine engine;
    private final Future<Transport> waiter;
    private final SslTransport appTransport;
    private Protocol app;
    private Transport transport;
    private State state = State.NEW;
    /** True from the app's connectionMade until its connectionLost. */
    private boolean appConnected;
    /** The TLS reason for the end of the connection, given to the app's connectionLost instead of the cause below. */
    private Throwable closeReason;

    // The three working buffers are borrowed from TlsBuffers while they hold bytes and given back when empty at the
    // end of the outermost pump/write ({@link #busy} == 0), so an idle connection holds none. Null when not held.
    private final int netInSize;
    private final int appInSize;
    /** Room one record's plaintext may need. */
    private final int appRecordSize;
    private final int netOutSize;
    /** Nesting depth of pump/appWrite: buffers are given back only at depth 0 (app callbacks re-enter). */
    private int busy;
    /** Records from the peer not yet unwrapped, in [0, position). */
    private ByteBuffer netIn;
    /** Where {@link #getBuffer} asked the transport to read; {@link #bufferUpdated} trusts only this. */
    private int readStart;
    /** Plaintext unwrapped and not yet delivered (the app paused reading), in [0, position). */
    private ByteBuffer appIn;
    /** Wrapped records not yet written below, in [0, position); written with one call per batch. */
    private ByteBuffer netOut;
    /** Application writes waiting for a handshake (copies). */
    private final ArrayDeque<ByteBuffer> appOut = new ArrayDeque<>();
    private long appOutBytes;

    private int highWater = 64 * 1024;
    private int lowWater = 16 * 1024;
    private boolean appWritingPaused;
    private boolean belowPaused;
    private boolean appReadingPaused;
    /** The transport below reported EOF while the app had paused reading with plaintext pending. */
    private boolean eofPending;

    private boolean pumping;
    private boolean pumpAgain;
    /** A delegated task runs on the executor; the engine is left alone until it is done. */
    private boolean taskRunning;

    private TimerHandle handshakeTimer;
    private TimerHandle shutdownTimer;
    private SSLSession session;
    private String applicationProtocol;

    /**
     * Creates the layer. Call {@link #start} (or let the transport below call {@link #connectionMade}) to begin.
     *
     * @param loop     the loop
     * @param options  TLS options; a client's server host name defaults to {@code peerHost}
     * @param peerHost the host connected to (session resumption key; default server name for a client), or null
     * @param peerPort the port, or -1
     * @param app      the application's protocol: {@code connectionMade} after the handshake
     * @param waiter   completed with the TLS transport after the handshake (or failed with why not), or null
     * @throws IllegalArgumentException if a client verifies host names and has no host name to verify
     */
    public SslProtocol(TulipLoop loop, TlsOptions options, String peerHost, int peerPort, Protocol app,
                       Future<Transport> waiter) {
        this.loop = loop;
        this.options = options;
        this.app = app;
        this.waiter = waiter;
        this.engine = createEngine(options, peerHost, peerPort);
        SSLSession s = engine.getSession();
        this.netInSize = Math.max(s.getPacketBufferSize() + MIN_READ_SPACE, 64 * 1024);
        this.appRecordSize = s.getApplicationBufferSize();
        this.appInSize = appRecordSize * RECORDS_PER_WRITE;
        this.netOutSize = s.getPacketBufferSize() * RECORDS_PER_WRITE;
        this.appTransport = new SslTransport(this);
        if (waiter != null) {
            waiter.addDoneCallback(f -> {
                if (f.isCancelled() && !appConnected && state != State.CLOSED && state != State.NEW) {
                    closeNow(null, true); // the caller gave up on the handshake
                }
            });
        }
    }

    private static SSLEngine createEngine(TlsOptions options, String peerHost, int peerPort) {
        String serverName = options.serverHostname() != null ? options.serverHostname() : peerHost;
        if (options.isClient() && options.verifiesHostname() && serverName == null) {
            throw new IllegalArgumentException("TLS client with host name verification needs a server host name:"
                    + " set TlsOptions.client().serverHostname(...)");
        }
        SSLEngine e = serverName != null && options.isClient()
                ? options.context().createSSLEngine(serverName, peerPort)
                : options.context().createSSLEngine();
        e.setUseClientMode(options.isClient());
        SSLParameters p = e.getSSLParameters();
        if (options.isClient()) {
            if (options.verifiesHostname()) {
                p.setEndpointIdentificationAlgorithm("HTTPS");
            }
            if (serverName != null && !isIpLiteral(serverName)) {
                try {
                    p.setServerNames(List.of(new SNIHostName(serverName)));
                } catch (IllegalArgumentException notADnsName) {
                    // SNI carries DNS names only; verification still uses the name.
                }
            }
        } else {
            switch (options.clientAuth()) {
                case NEED -> p.setNeedClientAuth(true);
                case WANT -> p.setWantClientAuth(true);
                case NONE -> { }
            }
        }
        if (!options.protocols().isEmpty()) {
            p.setProtocols(options.protocols().toArray(String[]::new));
        }
        if (!options.alpnProtocols().isEmpty()) {
            p.setApplicationProtocols(options.alpnProtocols().toArray(String[]::new));
        }
        e.setSSLParameters(p);
        return e;
    }

    private static boolean isIpLiteral(String host) {
        if (host.indexOf(':') >= 0) {
            return true;
        }
        for (int i = 0; i < host.length(); i++) {
            char c = host.charAt(i);
            if (c != '.' && (c < '0' || c > '9')) {
                return false;
            }
        }
        try {
            InetAddress.ofLiteral(host);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** The transport the application writes to. */
    public SslTransport appTransport() {
        return appTransport;
    }

    /** The engine (for tests and diagnostics). */
    SSLEngine engine() {
        return engine;
    }

    // ------------------------------------------------------------------------------------------------------------
    // The transport below calls these
    // ------------------------------------------------------------------------------------------------------------

    @Override
    public void connectionMade(Transport below) {
        start(below);
    }

    /**
     * Begins the handshake over {@code below} (connected already: {@code connectionMade} or {@code startTls}).
     *
     * @param below the transport carrying the records
     */
    public void start(Transport below) {
        if (state != State.NEW) {
            throw new IllegalStateException("TLS layer already started");
        }
        this.transport = below;
        state = State.HANDSHAKING;
        handshakeTimer = timer(options.handshakeTimeout(), this::onHandshakeTimeout);
        if (state != State.HANDSHAKING) {
            return;
        }
        try {
            engine.beginHandshake();
        } catch (SSLException e) {
            fatal(e);
            return;
        }
        pump();
    }

    @Override
    public ByteBuffer getBuffer(int sizeHint) {
        if (netIn == null) {
            netIn = TlsBuffers.acquire(netInSize);
        }
        if (netIn.remaining() < MIN_READ_SPACE) {
            netIn = grow(netIn, netIn.capacity() * 2);
        }
        readStart = netIn.position();
        return netIn;
    }

    @Override
    public void bufferUpdated(int n) {
        // The contract says the transport leaves the position alone; be robust to one that advanced it.
        netIn.limit(netIn.capacity());
        netIn.position(readStart + n);
        pump();
    }

    @Override
    public void dataReceived(ByteBuffer data) {
        if (netIn == null) {
            netIn = TlsBuffers.acquire(netInSize);
        }
        if (netIn.remaining() < data.remaining()) {
            netIn = grow(netIn, Math.max(netIn.capacity() * 2, netIn.position() + data.remaining()));
        }
        netIn.put(data);
        pump();
    }

    @Override
    public boolean eofReceived() {
        switch (state) {
            case NEW, HANDSHAKING -> {
                pump(); // records that came with the EOF (a fatal alert explains more than "EOF" does)
                if (state == State.HANDSHAKING) {
                    closeReason = new TlsException(Reason.HANDSHAKE_FAILED,
                            "the peer closed the connection during the TLS handshake", null);
                    endState();
                }
                return false;
            }
            case OPEN -> {
                if (appReadingPaused && (held(appIn) > 0 || held(netIn) > 0)) {
                    eofPending = true; // finish delivering first; resumeReading comes back here
                    return true;
                }
                closeReason = truncated();
                endState();
                return false;
            }
            default -> {
                // FLUSHING or SHUTDOWN: we are closing and the peer closed without answering close_notify; not an
                // error, the application asked for the end. CLOSED: already ending.
                endState();
                return false;
            }
        }
    }

    private static TlsException truncated() {
        return new TlsException(Reason.TRUNCATED,
                "the peer closed the connection without close_notify; the data may be incomplete", null);
    }

    @Override
    public void connectionLost(Throwable cause) {
        State was = state;
        endState();
        state = State.CLOSED;
        if (busy == 0) {
            // Nothing more will be read or written: whatever is buffered is dropped, the buffers go back.
            if (netIn != null) {
                netIn.clear();
            }
            if (appIn != null) {
                appIn.clear();
            }
            releaseIdle();
        }
        Throwable reason = closeReason != null ? closeReason : cause;
        if (appConnected) {
            appConnected = false;
            Protocol p = app;
            try {
                p.connectionLost(reason);
            } catch (VirtualMachineError e) {
                throw e;
            } catch (Throwable t) {
                loop.callExceptionHandler(new ExceptionContext("connectionLost failed on a TLS transport", t, null,
                        null, appTransport, p));
            }
            return;
        }
        if (!(reason instanceof TlsException)) {
            reason = new TlsException(Reason.HANDSHAKE_FAILED, was == State.NEW
                    ? "the connection was lost before the TLS handshake began"
                    : "the connection was lost during the TLS handshake" + (reason != null ? ": " + reason : ""),
                    reason);
        }
        if (waiter != null) {
            if (!waiter.isDone()) {
                waiter.setException(reason);
            }
        } else {
            Throwable r = reason;
            LOG.log(System.Logger.Level.DEBUG, () -> "TLS handshake failed with " + peer() + ": " + r.getMessage());
        }
    }

    @Override
    public void pauseWriting() {
        belowPaused = true;
        checkWritePause();
    }

    @Override
    public void resumeWriting() {
        belowPaused = false;
        checkWritePause();
    }

    // ------------------------------------------------------------------------------------------------------------
    // The engine driver
    // ------------------------------------------------------------------------------------------------------------

    /** Moves bytes through the engine until it needs something we do not have. Reentrant calls are folded. */
    private void pump() {
        if (pumping) {
            pumpAgain = true;
            return;
        }
        pumping = true;
        busy++;
        try {
            do {
                pumpAgain = false;
                pumpOnce();
            } while (pumpAgain && state != State.CLOSED);
        } catch (SSLException | RuntimeException e) {
            fatal(e);
        } finally {
            pumping = false;
            busy--;
            releaseIdle();
        }
    }

    private static int held(ByteBuffer b) {
        return b == null ? 0 : b.position();
    }

    /** Gives the empty working buffers back to the pool, unless a caller up the stack still uses them. */
    private void releaseIdle() {
        if (busy != 0) {
            return;
        }
        if (netIn != null && netIn.position() == 0) {
            if (netIn.capacity() == netInSize) {
                TlsBuffers.release(netIn);
            }
            netIn = null;
        }
        if (appIn != null && appIn.position() == 0) {
            if (appIn.capacity() == appInSize) {
                TlsBuffers.release(appIn);
            }
            appIn = null;
        }
        if (netOut != null && netOut.position() == 0) {
            if (netOut.capacity() == netOutSize) {
                TlsBuffers.release(netOut);
            }
            netOut = null;
        }
    }

    private ByteBuffer netOut() {
        if (netOut == null) {
            netOut = TlsBuffers.acquire(netOutSize);
        }
        return netOut;
    }

    private void pumpOnce() throws SSLException {
        while (state != State.CLOSED && state != State.NEW && !taskRunning) {
            switch (engine.getHandshakeStatus()) {
                case NEED_TASK -> runDelegatedTasks();
                case NEED_WRAP -> {
                    if (!wrapControl()) {
                        return;
                    }
                }
                case NEED_UNWRAP, NEED_UNWRAP_AGAIN -> {
                    if (!unwrapOnce()) {
                        return;
                    }
                }
                default -> { // NOT_HANDSHAKING
                    if (state == State.HANDSHAKING) {
                        handshakeFinished();
                        continue;
                    }
                    if (!appOut.isEmpty()) {
                        flushAppOut();
                    }
                    if (state == State.FLUSHING && appOut.isEmpty()) {
                        sendCloseNotify();
                        continue;
                    }
                    if (!unwrapOnce()) {
                        return;
                    }
                }
            }
        }
    }

    /** Wraps handshake or alert records (no application data) and writes them. False if nothing was produced. */
    private boolean wrapControl() throws SSLException {
        boolean produced = false;
        for (;;) {
            SSLEngineResult r = engine.wrap(EMPTY, netOut());
            if (r.getStatus() == Status.BUFFER_OVERFLOW) {
                if (netOut.position() == 0) {
                    netOut = grow(netOut, netOut.capacity() + engine.getSession().getPacketBufferSize());
                } else {
                    sendNetOut();
                }
                continue;
            }
            produced |= r.bytesProduced() > 0;
            if (r.getHandshakeStatus() == HandshakeStatus.FINISHED && state == State.HANDSHAKING) {
                sendNetOut();
                handshakeFinished();
                return true;
            }
            if (r.bytesProduced() == 0 || r.getHandshakeStatus() != HandshakeStatus.NEED_WRAP) {
                break;
            }
        }
        sendNetOut();
        return produced;
    }

    /**
     * Unwraps one record if one is here and the application may receive. Returns whether progress was made (so the
     * caller asks the engine again).
     */
    private boolean unwrapOnce() throws SSLException {
        if (held(appIn) > 0 && !deliver()) {
            return false;
        }
        if (state == State.OPEN && appReadingPaused) {
            return false;
        }
        if (engine.isInboundDone()) {
            if (netIn != null) {
                netIn.clear(); // bytes after the peer's close_notify mean nothing
            }
            return false;
        }
        if (held(netIn) == 0) {
            return false;
        }
        if (appIn == null) {
            appIn = TlsBuffers.acquire(appInSize);
        }
        netIn.flip();
        SSLEngineResult r;
        try {
            // Unwrap every whole record that fits before delivering: one dataReceived (and, for an echo, one write
            // below) per batch of records instead of per 16 KiB record.
            for (;;) {
                r = engine.unwrap(netIn, appIn);
                if (r.getStatus() != Status.OK || r.bytesProduced() == 0 || state != State.OPEN
                        || r.getHandshakeStatus() != HandshakeStatus.NOT_HANDSHAKING
                        || netIn.remaining() < 5 || appIn.remaining() < appRecordSize) {
                    break;
                }
            }
        } finally {
            netIn.compact();
        }
        switch (r.getStatus()) {
            case BUFFER_UNDERFLOW -> {
                int need = engine.getSession().getPacketBufferSize();
                if (netIn.capacity() < need) {
                    netIn = grow(netIn, need);
                }
                return false;
            }
            case BUFFER_OVERFLOW -> {
                if (appIn.position() > 0) {
                    return deliver();
                }
                appIn = grow(appIn, Math.max(appIn.capacity() * 2, engine.getSession().getApplicationBufferSize()));
                return true;
            }
            case CLOSED -> {
                if (appIn.position() > 0) {
                    deliver();
                }
                onPeerCloseNotify();
                return true;
            }
            default -> { }
        }
        if (r.getHandshakeStatus() == HandshakeStatus.FINISHED && state == State.HANDSHAKING) {
            handshakeFinished();
        }
        if (appIn.position() > 0) {
            deliver();
        }
        return r.bytesConsumed() > 0 || r.bytesProduced() > 0;
    }

    private void runDelegatedTasks() {
        Executor executor = options.delegatedTaskExecutor();
        if (executor == null) {
            for (Runnable t; (t = engine.getDelegatedTask()) != null; ) {
                t.run();
            }
            return;
        }
        List<Runnable> tasks = new ArrayList<>(2);
        for (Runnable t; (t = engine.getDelegatedTask()) != null; ) {
            tasks.add(t);
        }
        taskRunning = true;
        try {
            executor.execute(() -> {
                Throwable failure = null;
                try {
                    for (Runnable t : tasks) {
                        t.run();
                    }
                } catch (Throwable t) {
                    failure = t;
                }
                Throwable f = failure;
                try {
                    loop.callSoonThreadsafe(() -> afterTasks(f));
                } catch (IllegalStateException loopClosed) {
                    // the loop is gone, and the connection with it
                }
            });
        } catch (RejectedExecutionException e) {
            taskRunning = false;
            for (Runnable t : tasks) {
                t.run();
            }
        }
    }

    private void afterTasks(Throwable failure) {
        taskRunning = false;
        if (failure != null) {
            fatal(failure);
        } else {
            pump();
        }
    }

    private void handshakeFinished() {
        state = State.OPEN;
        cancel(handshakeTimer);
        handshakeTimer = null;
        session = engine.getSession();
        String alpn = engine.getApplicationProtocol();
        applicationProtocol = alpn == null || alpn.isEmpty() ? null : alpn;
        appConnected = true;
        try {
            app.connectionMade(appTransport);
        } catch (VirtualMachineError e) {
            throw e;
        } catch (Throwable t) {
            appFailed(t);
        }
        if (waiter != null && !waiter.isDone()) {
            waiter.setResult(appTransport);
        }
    }

    private void onPeerCloseNotify() throws SSLException {
        switch (state) {
            case HANDSHAKING -> {
                closeReason = new TlsException(Reason.HANDSHAKE_FAILED,
                        "the peer closed the TLS session (close_notify) during the handshake", null);
                closeBelow(false);
            }
            case OPEN -> {
                // asyncio's behaviour: the app hears EOF, then we answer close_notify and close. TLS has no
                // half-close here, so a true return cannot keep the connection open.
                try {
                    if (app.eofReceived()) {
                        LOG.log(System.Logger.Level.DEBUG, "eofReceived() returning true has no effect on TLS");
                    }
                } catch (VirtualMachineError e) {
                    throw e;
                } catch (Throwable t) {
                    appFailed(t);
                    return;
                }
                if (state == State.OPEN) {
                    startClose();
                }
            }
            case FLUSHING -> sendCloseNotify(); // the peer is gone: what waits for a handshake never goes out
            case SHUTDOWN -> closeBelow(false);
            default -> { }
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Reading toward the application
    // ------------------------------------------------------------------------------------------------------------

    /** Hands {@link #appIn}'s plaintext to the application. False if it paused reading with bytes left. */
    private boolean deliver() {
        if (appIn == null) {
            return true;
        }
        if (state != State.OPEN) {
            appIn.clear(); // after close(): discarded (see the class note)
            return true;
        }
        if (appReadingPaused) {
            return false;
        }
        appIn.flip();
        try {
            if (app instanceof BufferedProtocol bp) {
                while (appIn.hasRemaining() && state == State.OPEN && !appReadingPaused) {
                    ByteBuffer dst = bp.getBuffer(appIn.remaining());
                    int n = Math.min(dst.remaining(), appIn.remaining());
                    if (n <= 0) {
                        throw new IllegalStateException("BufferedProtocol.getBuffer returned a full buffer");
                    }
                    dst.put(dst.position(), appIn, appIn.position(), n);
                    appIn.position(appIn.position() + n);
                    bp.bufferUpdated(n);
                }
            } else {
                app.dataReceived(appIn);
                appIn.position(appIn.limit());
            }
        } catch (VirtualMachineError e) {
            throw e;
        } catch (Throwable t) {
            appIn.clear();
            appFailed(t);
            return false;
        }
        appIn.compact();
        return appIn.position() == 0;
    }

    void appPauseReading() {
        if (appReadingPaused || state != State.OPEN) {
            return;
        }
        appReadingPaused = true;
        transport.pauseReading();
    }

    void appResumeReading() {
        if (!appReadingPaused) {
            return;
        }
        appReadingPaused = false;
        if (state != State.OPEN) {
            return;
        }
        transport.resumeReading();
        // Records and plaintext that arrived before the pause are delivered in a later callback, as a plain
        // transport does (never inside resumeReading itself).
        try {
            loop.callSoon(this::afterResume);
        } catch (IllegalStateException scopeCancelled) {
            loop.callSoonSystem(this::afterResume); // the connection is being torn down; afterResume sees it
        }
    }

    private void afterResume() {
        pump();
        if (eofPending && state == State.OPEN && !appReadingPaused && held(appIn) == 0) {
            eofPending = false;
            closeReason = truncated();
            closeBelow(false);
        }
    }

    boolean appIsReading() {
        return state == State.OPEN && !appReadingPaused;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Writing from the application
    // ------------------------------------------------------------------------------------------------------------

    void appWrite(ByteBuffer[] srcs) {
        if (state != State.OPEN) {
            throw new IllegalStateException(state == State.NEW || state == State.HANDSHAKING
                    ? "TLS transport is not connected yet" : "TLS transport is closing");
        }
        long n = 0;
        for (ByteBuffer b : srcs) {
            n += b.remaining();
        }
        if (n == 0) {
            return;
        }
        busy++;
        try {
            appWriteInner(srcs);
        } finally {
            busy--;
            releaseIdle();
        }
    }

    private void appWriteInner(ByteBuffer[] srcs) {
        if (appOut.isEmpty() && !taskRunning && engine.getHandshakeStatus() == HandshakeStatus.NOT_HANDSHAKING) {
            try {
                wrapApp(srcs);
            } catch (SSLException | RuntimeException e) {
                fatal(e);
                return;
            }
        }
        boolean queued = false;
        for (ByteBuffer b : srcs) {
            int r = b.remaining();
            if (r > 0) {
                ByteBuffer copy = ByteBuffer.allocate(r);
                copy.put(b).flip();
                appOut.addLast(copy);
                appOutBytes += r;
                queued = true;
            }
        }
        if (queued) {
            pump(); // a handshake (renegotiation, key update) holds the data: drive it
        }
        checkWritePause();
    }

    /** Wraps as much of {@code srcs} as the engine takes now and writes the records below. */
    private void wrapApp(ByteBuffer[] srcs) throws SSLException {
        int packet = engine.getSession().getPacketBufferSize();
        while (hasRemaining(srcs)) {
            netOut();
            if (netOut.remaining() < packet) {
                if (netOut.position() == 0) {
                    netOut = grow(netOut, packet * RECORDS_PER_WRITE);
                } else {
                    sendNetOut();
                }
            }
            SSLEngineResult r = engine.wrap(srcs, netOut);
            Status st = r.getStatus();
            if (st == Status.BUFFER_OVERFLOW) {
                if (netOut.position() == 0) {
                    netOut = grow(netOut, netOut.capacity() + packet);
                } else {
                    sendNetOut();
                }
                continue;
            }
            if (st == Status.CLOSED) {
                break;
            }
            HandshakeStatus hs = r.getHandshakeStatus();
            if (hs != HandshakeStatus.NOT_HANDSHAKING && hs != HandshakeStatus.FINISHED) {
                break; // a handshake started (key update, renegotiation): the rest waits in appOut
            }
            if (r.bytesConsumed() == 0 && r.bytesProduced() == 0) {
                break;
            }
        }
        sendNetOut();
    }

    private void flushAppOut() throws SSLException {
        while (!appOut.isEmpty() && engine.getHandshakeStatus() == HandshakeStatus.NOT_HANDSHAKING) {
            ByteBuffer[] batch = appOut.toArray(ByteBuffer[]::new);
            long before = appOutBytes;
            wrapApp(batch);
            long left = 0;
            for (ByteBuffer b : batch) {
                left += b.remaining();
            }
            while (!appOut.isEmpty() && !appOut.peekFirst().hasRemaining()) {
                appOut.pollFirst();
            }
            appOutBytes = left;
            if (left == before) {
                break;
            }
        }
        checkWritePause();
    }

    private static boolean hasRemaining(ByteBuffer[] bs) {
        for (ByteBuffer b : bs) {
            if (b.hasRemaining()) {
                return true;
            }
        }
        return false;
    }

    /** Writes the records in {@link #netOut} below; the transport copies what it cannot send now. */
    private void sendNetOut() {
        ByteBuffer out = netOut;
        if (out == null || out.position() == 0) {
            return;
        }
        out.flip();
        try {
            if (!transport.isClosing()) {
                transport.write(out);
            }
        } finally {
            out.clear();
        }
    }

    long writeBufferSize() {
        return appOutBytes + (transport == null ? 0 : transport.writeBufferSize());
    }

    void setWriteBufferLimits(int high, int low) {
        if (high < 0 || low < 0 || low > high) {
            throw new IllegalArgumentException("need 0 <= low <= high: high=" + high + ", low=" + low);
        }
        highWater = high;
        lowWater = low;
        transport.setWriteBufferLimits(high, low);
        checkWritePause();
    }

    /**
     * Pauses or resumes the application's writing. The buffered size is our waiting plaintext plus the buffer below
     * (whose water marks mirror ours, so it reports its crossings to {@link #pauseWriting}/{@link #resumeWriting}).
     */
    private void checkWritePause() {
        if (!appConnected || state != State.OPEN) {
            return;
        }
        long size = writeBufferSize();
        if (!appWritingPaused) {
            if (size > highWater) {
                appWritingPaused = true;
                try {
                    app.pauseWriting();
                } catch (VirtualMachineError e) {
                    throw e;
                } catch (Throwable t) {
                    appFailed(t);
                }
            }
        } else if (size <= lowWater || (appOutBytes == 0 && !belowPaused)) {
            // The second case: our queue just drained into a transport below that is under its high mark; it will
            // call pauseWriting again if it crosses it, and it would never call resumeWriting without a pause.
            appWritingPaused = false;
            try {
                app.resumeWriting();
            } catch (VirtualMachineError e) {
                throw e;
            } catch (Throwable t) {
                appFailed(t);
            }
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Closing
    // ------------------------------------------------------------------------------------------------------------

    /** The application's close(): flush, send close_notify, wait for the peer's (bounded by the shutdown timeout). */
    void appClose() {
        if (state != State.OPEN) {
            return;
        }
        startClose();
    }

    private void startClose() {
        state = State.FLUSHING;
        shutdownTimer = timer(options.shutdownTimeout(), this::onShutdownTimeout);
        if (state != State.FLUSHING) {
            return;
        }
        if (appReadingPaused) {
            transport.resumeReading(); // the peer's close_notify must get through
        }
        pump(); // FLUSHING with nothing waiting sends close_notify at once
    }

    private void sendCloseNotify() throws SSLException {
        state = State.SHUTDOWN;
        engine.closeOutbound();
        wrapControl();
        if (engine.isInboundDone()) {
            closeBelow(false);
        }
    }

    void appAbort() {
        if (state == State.CLOSED) {
            return;
        }
        closeNow(null, true);
    }

    private void onHandshakeTimeout() {
        handshakeTimer = null;
        if (state == State.HANDSHAKING || state == State.NEW) {
            closeNow(new TlsException(Reason.HANDSHAKE_TIMEOUT, "the TLS handshake did not finish within "
                    + human(options.handshakeTimeout()), null), true);
        }
    }

    private void onShutdownTimeout() {
        shutdownTimer = null;
        if (state == State.FLUSHING || state == State.SHUTDOWN) {
            closeNow(new TlsException(Reason.SHUTDOWN_TIMEOUT, "the peer did not answer close_notify within "
                    + human(options.shutdownTimeout()), null), true);
        }
    }

    private static String human(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
    }

    /** A TLS failure: send the alert the engine prepared (if any), then close below. */
    private void fatal(Throwable e) {
        if (state == State.CLOSED) {
            return;
        }
        TlsException t = TlsErrors.classify(e, state == State.HANDSHAKING || state == State.NEW);
        if (closeReason == null) {
            closeReason = t;
        }
        LOG.log(System.Logger.Level.DEBUG, () -> "TLS failure with " + peer() + ": " + t.getMessage());
        try {
            engine.closeOutbound();
            for (int i = 0; i < 4; i++) {
                SSLEngineResult r = engine.wrap(EMPTY, netOut());
                if (r.bytesProduced() == 0) {
                    break;
                }
            }
            sendNetOut();
        } catch (SSLException | RuntimeException ignored) {
            // no alert then; the close below tells the peer enough
        }
        closeBelow(false);
    }

    /** An application callback threw: report it, then abort (connectionLost gets the exception). */
    private void appFailed(Throwable t) {
        loop.callExceptionHandler(new ExceptionContext("protocol callback failed on a TLS transport", t, null, null,
                appTransport, app));
        if (state != State.CLOSED) {
            closeNow(t, true);
        } else if (closeReason == null) {
            closeReason = t;
        }
    }

    private void closeNow(Throwable reason, boolean abort) {
        if (reason != null && closeReason == null) {
            closeReason = reason;
        }
        closeBelow(abort);
    }

    private void closeBelow(boolean abort) {
        endState();
        if (transport == null) {
            return;
        }
        if (abort) {
            transport.abort();
        } else {
            transport.close();
        }
    }

    private void endState() {
        state = State.CLOSED;
        cancel(handshakeTimer);
        cancel(shutdownTimer);
        handshakeTimer = null;
        shutdownTimer = null;
        appOut.clear();
        appOutBytes = 0;
    }

    private TimerHandle timer(Duration d, Runnable r) {
        try {
            return loop.callLater(d, r);
        } catch (IllegalStateException scopeCancelled) {
            closeNow(null, true); // the connection's scope is being cancelled: it ends now
            return null;
        }
    }

    private static void cancel(TimerHandle h) {
        if (h != null) {
            h.cancel();
        }
    }

    private static ByteBuffer grow(ByteBuffer b, int capacity) {
        ByteBuffer n = ByteBuffer.allocate(capacity);
        b.flip();
        n.put(b);
        return n;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Information
    // ------------------------------------------------------------------------------------------------------------

    boolean isClosing() {
        return state != State.OPEN;
    }

    TransportInfo info() {
        TransportInfo below = transport.info();
        return new TransportInfo(below.localAddress(), below.peerAddress(), below.channel(),
                session != null ? session : engine.getHandshakeSession(), applicationProtocol);
    }

    Protocol app() {
        return app;
    }

    /** Bytes of working buffers this connection holds now (0 when idle); for tests. */
    int heldBufferBytes() {
        return (netIn == null ? 0 : netIn.capacity()) + (appIn == null ? 0 : appIn.capacity())
                + (netOut == null ? 0 : netOut.capacity());
    }

    void setApp(Protocol p) {
        this.app = p;
    }

    private String peer() {
        try {
            return transport == null ? "?" : String.valueOf(transport.info().peerAddress());
        } catch (RuntimeException e) {
            return "?";
        }
    }

    @Override
    public String toString() {
        return "SslProtocol[" + (options.isClient() ? "client" : "server") + ", " + state + "]";
    }
}
