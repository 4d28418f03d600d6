package dev.tulip;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/** Captures what Tulip logs through System.Logger (backed by java.util.logging, logger "dev.tulip"). */
final class LogCapture extends Handler implements AutoCloseable {
    private final Logger logger = Logger.getLogger("dev.tulip");
    final List<LogRecord> records = new CopyOnWriteArrayList<>();

    LogCapture() {
        logger.addHandler(this);
        setLevel(Level.ALL);
    }

    @Override
    public void publish(LogRecord r) {
        records.add(r);
    }

    @Override
    public void flush() {
    }

    @Override
    public void close() {
        logger.removeHandler(this);
    }

    /** Records whose message contains {@code text}. */
    List<LogRecord> matching(String text) {
        return records.stream().filter(r -> r.getMessage() != null && r.getMessage().contains(text)).toList();
    }
}
