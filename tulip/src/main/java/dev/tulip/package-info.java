/**
 * The event loop, handles, scopes, futures and tasks.
 */
package dev.tulip;
