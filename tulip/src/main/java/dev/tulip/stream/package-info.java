/**
 * Streams: {@link dev.tulip.stream.StreamReader} and {@link dev.tulip.stream.StreamWriter} over any stream transport,
 * with awaitable reads and {@code drain()} (asyncio's streams API). Start with {@link dev.tulip.stream.Streams}.
 *
 * <p>Safe by construction:
 * <ul>
 *   <li>Reads consume bytes only when they complete: cancelling a task inside any read loses nothing.</li>
 *   <li>The reader's limit pauses the transport (bounded memory per connection) and bounds separator-based reads;
 *       going over it throws {@link dev.tulip.stream.LimitOverrunException} with the buffer intact, so the caller
 *       may grow the limit and retry, or skip the record.</li>
 *   <li>A writer loop that awaits {@code drain()} after each write never buffers more than the transport's
 *       high-water mark plus one write; any number of tasks may await {@code drain()} at once, and cancelling one
 *       leaves the others and the writer working.</li>
 *   <li>A server's per-connection handler runs as its own task: when it returns the connection is closed, when it
 *       fails the connection is aborted and the failure reported; the server goes on.</li>
 * </ul>
 *
 * <p>Everything here is loop thread only: use the streams from tasks running on the connection's loop.
 */
package dev.tulip.stream;
