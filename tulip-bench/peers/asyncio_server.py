"""Python peers of the comparison: an asyncio protocol echo server and an HTTP/1.1 hello server.

usage: python3 asyncio_server.py echo|http PORT [--uvloop]

Binds 127.0.0.1 only, prints "listening PORT" once bound, runs until killed. With --uvloop the loop is uvloop's
(Debian's python3-uvloop for /usr/bin/python3). The HTTP server answers every request (anything ending with
CRLFCRLF, no body) with the same headers as the C reference: Server, Date (refreshed once per second),
Content-Type, Content-Length, keep-alive.
"""
import asyncio
import email.utils
import socket
import sys


class Echo(asyncio.Protocol):
    def connection_made(self, transport):
        sock = transport.get_extra_info("socket")
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.transport = transport

    def data_received(self, data):
        self.transport.write(data)


RESPONSE = [b""]


def refresh_response(loop):
    date = email.utils.formatdate(usegmt=True).encode()
    RESPONSE[0] = (b"HTTP/1.1 200 OK\r\nServer: asyncio\r\nDate: " + date +
                   b"\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!")
    loop.call_later(1.0, refresh_response, loop)


class Hello(asyncio.Protocol):
    def connection_made(self, transport):
        sock = transport.get_extra_info("socket")
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.transport = transport
        self.buf = b""

    def data_received(self, data):
        buf = self.buf + data
        n = buf.count(b"\r\n\r\n")
        if n:
            self.transport.write(RESPONSE[0] * n)
            buf = buf[buf.rfind(b"\r\n\r\n") + 4:]
        if len(buf) > 8192:
            self.transport.close()
        self.buf = buf


async def main(kind, port):
    loop = asyncio.get_running_loop()
    refresh_response(loop)
    factory = Echo if kind == "echo" else Hello
    server = await loop.create_server(factory, "127.0.0.1", port, backlog=4096)
    print("listening", server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()


if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[1] not in ("echo", "http"):
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    if "--uvloop" in sys.argv[3:]:
        import uvloop
        uvloop.install()
    try:
        asyncio.run(main(sys.argv[1], int(sys.argv[2])))
    except KeyboardInterrupt:
        pass
