package dev.tulip.internal.tls;

import dev.tulip.EventLoop;
import dev.tulip.Future;
import dev.tulip.transport.Protocol;
import dev.tulip.transport.Transport;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/** A test protocol that records everything it is told. */
class Recorder implements Protocol {
    final List<String> events = new ArrayList<>();
    final ByteArrayOutputStream received = new ByteArrayOutputStream();
    final Future<Transport> made;
    final Future<Throwable> lost;
    Transport transport;
    Throwable lostCause;
    boolean keepOpenOnEof;
    Consumer<ByteBuffer> onData;
    int pauses;
    int resumes;
    boolean writingPaused;

    Recorder(EventLoop loop) {
        made = loop.createFuture();
        lost = loop.createFuture();
    }

    @Override
    public void connectionMade(Transport t) {
        events.add("made");
        transport = t;
        made.setResult(t);
    }

    @Override
    public void dataReceived(ByteBuffer data) {
        if (events.isEmpty() || !events.getLast().equals("data")) {
            events.add("data");
        }
        if (onData != null) {
            onData.accept(data.duplicate());
        }
        byte[] b = new byte[data.remaining()];
        data.get(b);
        received.writeBytes(b);
    }

    @Override
    public boolean eofReceived() {
        events.add("eof");
        return keepOpenOnEof;
    }

    @Override
    public void connectionLost(Throwable cause) {
        events.add("lost");
        lostCause = cause;
        lost.setResult(cause == null ? new NoError() : cause);
    }

    @Override
    public void pauseWriting() {
        pauses++;
        writingPaused = true;
    }

    @Override
    public void resumeWriting() {
        resumes++;
        writingPaused = false;
    }

    String text() {
        return received.toString(StandardCharsets.UTF_8);
    }

    /** Marks a clean connectionLost(null) in the {@link #lost} future. */
    static final class NoError extends Throwable {
        NoError() {
            super("no error", null, false, false);
        }
    }
}
