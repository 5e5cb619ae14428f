// An HTTPS server on Node's built-in http2 module that speaks HTTP/2 but
// does not allow extended CONNECT (no enableConnectProtocol in its SETTINGS),
// and takes WebSocket upgrades over HTTP/1.1 (allowHTTP1) with a hand-made
// echo. For wspeer's fallback test (../node_h2_test.go).
//   node h2server.js <cert.pem> <key.pem>
// prints "listening <port>", then "h2-session" for each HTTP/2 connection
// and "upgrade <path>" for each HTTP/1.1 WebSocket.
'use strict';
const http2 = require('http2');
const crypto = require('crypto');
const fs = require('fs');

const [certFile, keyFile] = process.argv.slice(2);
const say = (s) => process.stdout.write(s + '\n');
const server = http2.createSecureServer({ cert: fs.readFileSync(certFile), key: fs.readFileSync(keyFile), allowHTTP1: true });
server.on('session', () => say('h2-session'));
server.on('stream', (stream) => { stream.respond({ ':status': 404 }); stream.end(); });
server.on('upgrade', (req, socket) => {
  const accept = crypto.createHash('sha1').update(req.headers['sec-websocket-key'] + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
  socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ' + accept + '\r\n\r\n');
  say('upgrade ' + req.url);
  let buf = Buffer.alloc(0);
  socket.on('data', (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    for (;;) {
      if (buf.length < 2) return;
      let len = buf[1] & 0x7f, off = 2;
      if (len === 126) { if (buf.length < 4) return; len = buf.readUInt16BE(2); off = 4; }
      else if (len === 127) { if (buf.length < 10) return; len = Number(buf.readBigUInt64BE(2)); off = 10; }
      if (buf.length < off + 4 + len) return;
      const mask = buf.subarray(off, off + 4), op = buf[0] & 0x0f;
      const p = Buffer.from(buf.subarray(off + 4, off + 4 + len));
      for (let i = 0; i < p.length; i++) p[i] ^= mask[i & 3];
      buf = buf.subarray(off + 4 + len);
      const head = p.length < 126 ? Buffer.from([0x80 | op, p.length]) : Buffer.from([0x80 | op, 126, p.length >> 8, p.length & 0xff]);
      socket.write(Buffer.concat([head, p]));
      if (op === 8) { socket.end(); return; }
    }
  });
  socket.on('error', () => {});
});
server.listen(0, '127.0.0.1', () => say('listening ' + server.address().port));
