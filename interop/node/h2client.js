// A WebSocket-over-HTTP/2 (RFC 8441) client on Node's built-in http2 module,
// for protocol-level cases against wspeer's Upgrader (see ../node_h2_test.go).
//   node h2client.js <https origin> <case>
// It frames WebSocket messages itself (masked, as a client must) and prints
// one JSON line per finding; the test reads them.
'use strict';
const http2 = require('http2');
const crypto = require('crypto');

const [origin, which] = process.argv.slice(2);
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');

function frame(opcode, payload) {
  const len = payload.length;
  let head;
  if (len < 126) {
    head = Buffer.from([0x80 | opcode, 0x80 | len]);
  } else if (len < 65536) {
    head = Buffer.alloc(4);
    head[0] = 0x80 | opcode; head[1] = 0x80 | 126; head.writeUInt16BE(len, 2);
  } else {
    head = Buffer.alloc(10);
    head[0] = 0x80 | opcode; head[1] = 0x80 | 127; head.writeBigUInt64BE(BigInt(len), 2);
  }
  const mask = crypto.randomBytes(4);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i] ^= mask[i & 3];
  return Buffer.concat([head, mask, body]);
}

// Parser of the server's (unmasked) frames: calls onFrame(opcode, payload).
function parser(onFrame) {
  let buf = Buffer.alloc(0);
  return (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    for (;;) {
      if (buf.length < 2) return;
      let len = buf[1] & 0x7f, off = 2;
      if (len === 126) { if (buf.length < 4) return; len = buf.readUInt16BE(2); off = 4; }
      else if (len === 127) { if (buf.length < 10) return; len = Number(buf.readBigUInt64BE(2)); off = 10; }
      if (buf.length < off + len) return;
      const op = buf[0] & 0x0f, payload = buf.subarray(off, off + len);
      buf = buf.subarray(off + len);
      onFrame(op, payload);
    }
  };
}

function connect() {
  return new Promise((resolve, reject) => {
    const s = http2.connect(origin, { rejectUnauthorized: false });
    s.on('error', reject);
    s.once('remoteSettings', (settings) => resolve({ s, settings }));
  });
}

function open(s, path, headers) {
  const req = s.request(Object.assign({ ':method': 'CONNECT', ':protocol': 'websocket', ':path': path,
    ':scheme': 'https', ':authority': new URL(origin).host, 'sec-websocket-version': '13' }, headers || {}),
  { endStream: false });
  return new Promise((resolve) => req.once('response', (h) => resolve({ req, status: h[':status'], headers: h })));
}

// ws opens a stream and collects whole messages (no fragments from wspeer).
async function ws(s, path) {
  const { req, status } = await open(s, path);
  const msgs = [];
  let waiter = null;
  let ended = false;
  req.on('data', parser((op, p) => { msgs.push({ op, p: Buffer.from(p) }); if (waiter) waiter(); }));
  req.on('end', () => { ended = true; if (waiter) waiter(); });
  const next = () => new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('timeout on ' + path)), 20000);
    const check = () => {
      if (msgs.length > 0) { clearTimeout(t); waiter = null; resolve(msgs.shift()); }
      else if (ended) { clearTimeout(t); waiter = null; resolve(null); }
    };
    waiter = check;
    check();
  });
  const ends = () => new Promise((resolve) => (ended ? resolve() : req.once('end', resolve)));
  return { req, status, next, ends };
}

async function closeClean(c) {
  c.req.write(frame(8, Buffer.from([0x03, 0xe8])));
  const m = await c.next();
  c.req.end();
  await c.ends();
  return m && m.op === 8 ? m.p.readUInt16BE(0) : -1;
}

const cases = {
  async settings({ settings }) { out({ enableConnectProtocol: settings.enableConnectProtocol === true }); },
  async 'bad-protocol'({ s }) {
    const r = await open(s, '/echo', { ':protocol': 'websockets' });
    out({ status: r.status });
  },
  async 'no-version'({ s }) {
    const r = await open(s, '/echo', { 'sec-websocket-version': undefined });
    out({ status: r.status });
  },
  async reset({ s }) {
    const c = await ws(s, '/reset');
    const f = frame(2, crypto.randomBytes(4000));
    c.req.write(f.subarray(0, 1000)); // a message cut short...
    await new Promise((r) => setTimeout(r, 200));
    c.req.close(http2.constants.NGHTTP2_CANCEL); // ...by RST_STREAM
    out({ status: c.status, reset: true });
  },
  async big({ s }) {
    const c = await ws(s, '/echo');
    const data = crypto.randomBytes(1 << 20);
    c.req.write(frame(2, data));
    const m = await c.next();
    out({ status: c.status, op: m.op, len: m.p.length, same: m.p.equals(data), close: await closeClean(c) });
  },
  async many({ s }) {
    const n = 32;
    const results = await Promise.all(Array.from({ length: n }, async (_, i) => {
      const c = await ws(s, '/echo');
      c.req.write(frame(1, Buffer.from('stream ' + i)));
      const m = await c.next();
      return m.p.toString() === 'stream ' + i && (await closeClean(c)) === 1000;
    }));
    out({ streams: n, ok: results.filter(Boolean).length, sessionStreams: s.state.outboundQueueSize !== undefined });
  },
};

(async () => {
  const conn = await connect();
  try {
    await cases[which](conn);
  } finally {
    conn.s.close();
  }
})().catch((e) => { console.error(e); process.exit(1); });
