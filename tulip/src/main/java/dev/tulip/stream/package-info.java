/**
 * Streams: {@code StreamReader} and {@code StreamWriter} over any stream transport, with awaitable reads and
 * {@code drain()} (asyncio's streams API).
 */
package dev.tulip.stream;
