/**
 * Tulip: the asynchronous I/O system of PEP 3156 (asyncio) for Java.
 *
 * <p>Exported packages: {@code dev.tulip} (loop, handles, futures, tasks, scopes),
 * {@code dev.tulip.transport} (transports and protocols), {@code dev.tulip.stream} (streams) and
 * {@code dev.tulip.sync} (locks, events, queues). Everything under {@code dev.tulip.internal} is private.
 */
module dev.tulip {
    requires jdk.unsupported; // sun.misc.Signal for signal handlers
    exports dev.tulip;
    exports dev.tulip.transport;
    exports dev.tulip.stream;
    // exports dev.tulip.sync;    (enabled by the sync work, issue 3)
}
