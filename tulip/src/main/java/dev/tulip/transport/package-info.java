/**
 * Transports and protocols (PEP 3156): the callback API for TCP, UNIX sockets, UDP, TLS, pipes and subprocesses.
 * A transport moves bytes; a protocol is the code that receives them.
 */
package dev.tulip.transport;
