// Node peer of the comparison: a net echo server and an HTTP/1.1 hello server on net (not node:http, which would
// compare a full HTTP stack with raw hello servers).
//
// usage: node node_server.js echo|http PORT
//
// Binds 127.0.0.1 only, prints "listening PORT" once bound, runs until killed. The HTTP server answers every
// request (anything ending with CRLFCRLF, no body) with the same headers as the C reference: Server, Date
// (refreshed once per second), Content-Type, Content-Length, keep-alive.
'use strict';
const net = require('net');

const [kind, portArg] = process.argv.slice(2);
if (!['echo', 'http'].includes(kind) || portArg === undefined) {
  console.error('usage: node node_server.js echo|http PORT');
  process.exit(2);
}

let response;
function refresh() {
  response = Buffer.from('HTTP/1.1 200 OK\r\nServer: Node\r\nDate: ' + new Date().toUTCString() +
    '\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!', 'latin1');
}
refresh();
setInterval(refresh, 1000).unref();

const server = net.createServer({ noDelay: true }, (sock) => {
  if (kind === 'echo') {
    sock.on('data', (d) => sock.write(d));
  } else {
    let buf = '';
    sock.on('data', (d) => {
      buf += d.toString('latin1');
      let n = 0;
      let i;
      while ((i = buf.indexOf('\r\n\r\n')) >= 0) {
        n++;
        buf = buf.slice(i + 4);
      }
      if (n === 1) sock.write(response);
      else if (n > 1) sock.write(Buffer.concat(Array(n).fill(response)));
      if (buf.length > 8192) sock.destroy();
    });
  }
  sock.on('error', () => sock.destroy());
});
server.listen({ host: '127.0.0.1', port: Number(portArg), backlog: 4096 }, () => {
  console.log('listening ' + server.address().port);
});
