/**
 * Synchronization primitives for tasks of one loop: locks, events, conditions, semaphores, barriers and queues.
 * Not thread-safe: they coordinate tasks on one loop, as asyncio's do.
 */
package dev.tulip.sync;
